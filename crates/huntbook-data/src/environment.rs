//! Data environments: the names a query file lists under `metadata.data_environments`
//! and a user gives to pick a provider, with MSTICPy's aliases, and the query language
//! each one speaks.

use std::fmt;

/// The language a data environment's queries are written in. It decides how parameter
/// values are written into the query text (see [`crate::render`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Kusto Query Language (Sentinel / Log Analytics, Azure Data Explorer, Defender).
    Kql,
    /// Splunk's Search Processing Language.
    Spl,
    /// Elasticsearch / OpenSearch Query DSL: the query is a JSON document.
    EsJson,
    /// Anything else: local file names, and languages huntbook has no driver for yet.
    Plain,
}

/// A data environment. MSTICPy gives several names to one environment (`AzureSentinel`
/// and `LogAnalytics` are `MSSentinel`); [`Environment::parse`] accepts all of them and
/// the canonical name is the one [`fmt::Display`] prints. Names MSTICPy does not know
/// (plugin providers) are kept as written in [`Environment::Other`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Environment {
    MSSentinel,
    Kusto,
    MSGraph,
    MDE,
    LocalData,
    Splunk,
    Mordor,
    ResourceGraph,
    Sumologic,
    M365D,
    Cybereason,
    Elastic,
    OpenSearch,
    OSQueryLogs,
    MSSentinelLegacy,
    KustoLegacy,
    VelociraptorLogs,
    M365DGraph,
    Prismacloud,
    OpenObserve,
    MSSentinelSearch,
    Other(String),
}

/// Every accepted spelling (compared case-insensitively) and the environment it names.
const NAMES: &[(&str, Environment)] = &[
    ("MSSentinel", Environment::MSSentinel),
    ("AzureSentinel", Environment::MSSentinel),
    ("LogAnalytics", Environment::MSSentinel),
    ("MSSentinel_New", Environment::MSSentinel),
    ("Kusto", Environment::Kusto),
    ("AzureDataExplorer", Environment::Kusto),
    ("Kusto_New", Environment::Kusto),
    ("MSGraph", Environment::MSGraph),
    ("SecurityGraph", Environment::MSGraph),
    ("MDE", Environment::MDE),
    ("MDATP", Environment::MDE),
    ("LocalData", Environment::LocalData),
    ("Splunk", Environment::Splunk),
    ("OTRF", Environment::Mordor),
    ("Mordor", Environment::Mordor),
    ("ResourceGraph", Environment::ResourceGraph),
    ("Sumologic", Environment::Sumologic),
    ("M365D", Environment::M365D),
    ("Cybereason", Environment::Cybereason),
    ("Elastic", Environment::Elastic),
    ("OpenSearch", Environment::OpenSearch),
    ("OSQueryLogs", Environment::OSQueryLogs),
    ("OSQuery", Environment::OSQueryLogs),
    ("MSSentinel_Legacy", Environment::MSSentinelLegacy),
    ("MSSentinel_KQLM", Environment::MSSentinelLegacy),
    ("Kusto_Legacy", Environment::KustoLegacy),
    ("Kusto_KQLM", Environment::KustoLegacy),
    ("VelociraptorLogs", Environment::VelociraptorLogs),
    ("Velociraptor", Environment::VelociraptorLogs),
    ("M365DGraph", Environment::M365DGraph),
    ("Prismacloud", Environment::Prismacloud),
    ("OpenObserve", Environment::OpenObserve),
    ("MSSentinelSearch", Environment::MSSentinelSearch),
];

impl Environment {
    /// The environment a name (or alias) denotes. A `DataEnvironment.X` spelling, as some
    /// query files write it, means `X`. Unknown names become [`Environment::Other`].
    pub fn parse(name: &str) -> Environment {
        let name = name.trim();
        let name = name.rsplit_once('.').map_or(name, |(_, last)| last);
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or_else(|| Environment::Other(name.to_string()), |(_, e)| e.clone())
    }

    /// The canonical name.
    pub fn name(&self) -> &str {
        match self {
            Environment::MSSentinelLegacy => "MSSentinel_Legacy",
            Environment::KustoLegacy => "Kusto_Legacy",
            Environment::Other(name) => name,
            known => {
                NAMES
                    .iter()
                    .find(|(_, e)| e == known)
                    .expect("every known environment has a name")
                    .0
            }
        }
    }

    /// The other names this environment answers to.
    pub fn aliases(&self) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(n, e)| e == self && *n != self.name())
            .map(|(n, _)| *n)
            .collect()
    }

    /// The language its queries are written in.
    pub fn dialect(&self) -> Dialect {
        use Environment::*;
        match self {
            MSSentinel | Kusto | MDE | M365D | M365DGraph | ResourceGraph | MSSentinelLegacy
            | KustoLegacy | MSSentinelSearch => Dialect::Kql,
            Splunk => Dialect::Spl,
            Elastic | OpenSearch => Dialect::EsJson,
            _ => Dialect::Plain,
        }
    }

    /// The folders of the built-in library read for this environment: its own (the
    /// lower-cased name, as MSTICPy names them) and, as in MSTICPy, those of
    /// environments whose queries it can run (Defender's hunting tables are reachable
    /// from Sentinel and from the Graph hunting API).
    pub fn library_folders(&self) -> Vec<String> {
        let own = self.name().to_ascii_lowercase();
        let compatible: &[&str] = match self {
            Environment::MSSentinel | Environment::MDE => &["m365d"],
            Environment::M365DGraph => &["mde", "m365d"],
            _ => &[],
        };
        std::iter::once(own)
            .chain(compatible.iter().map(|s| s.to_string()))
            .collect()
    }

    /// The environments with a canonical name, in a stable order (for listings).
    pub fn known() -> Vec<Environment> {
        let mut all: Vec<Environment> = NAMES.iter().map(|(_, e)| e.clone()).collect();
        all.dedup();
        all
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_name_one_environment() {
        for alias in [
            "AzureSentinel",
            "loganalytics",
            "MSSentinel_New",
            "DataEnvironment.LogAnalytics",
        ] {
            assert_eq!(
                Environment::parse(alias),
                Environment::MSSentinel,
                "{alias}"
            );
        }
        assert_eq!(Environment::parse("MDATP"), Environment::MDE);
        assert_eq!(Environment::parse("AzureDataExplorer"), Environment::Kusto);
        assert_eq!(Environment::parse("OSQuery").name(), "OSQueryLogs");
        assert_eq!(
            Environment::parse("MyPlugin"),
            Environment::Other("MyPlugin".into())
        );
        assert_eq!(Environment::MSSentinelLegacy.name(), "MSSentinel_Legacy");
        assert!(Environment::MSSentinel.aliases().contains(&"LogAnalytics"));
    }

    #[test]
    fn folders_follow_compatible_environments() {
        assert_eq!(
            Environment::M365DGraph.library_folders(),
            ["m365dgraph", "mde", "m365d"]
        );
        assert_eq!(Environment::Splunk.library_folders(), ["splunk"]);
    }

    #[test]
    fn each_known_environment_is_listed_once() {
        let known = Environment::known();
        for e in &known {
            assert_eq!(known.iter().filter(|k| *k == e).count(), 1, "{e}");
            assert_eq!(&Environment::parse(e.name()), e);
        }
    }
}
