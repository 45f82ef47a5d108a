//! Which entity a query parameter or a constructor value is about: the table that
//! attaches data queries to entities as pivots.
//!
//! A query with a `host_name` parameter is a pivot of [`Host`](super::Host): give it
//! a host and it runs with the host's name. [`param_anchors`] says, for a parameter
//! name, which kinds it anchors and by which property; the names and targets are
//! MSTICPy's (`account_name` is an account's `Name`, `ip_address_list` an
//! address...), so query files written for MSTICPy's pivots attach the same way.
//! [`Kind::key_property`] is the property a bare value fills
//! (`IpAddress("10.0.0.1")` sets `Address`).
//!
//! ```
//! use huntbook_core::entities::{param_anchors, Kind};
//!
//! assert_eq!(param_anchors("host_name"), [(Kind::Host, "FQDN")]);
//! assert_eq!(param_anchors("IP_Address_List"), [(Kind::IpAddress, "Address")]);
//! assert!(param_anchors("start").is_empty());
//! assert_eq!(Kind::IpAddress.key_property(), Some("Address"));
//! ```

use super::Kind;

/// Parameter names and what they anchor: `(kind, property)`. A property the entity
/// may lack (`FQDN`, or a file's hash) falls back to the entity's
/// [observable](super::Entity::observable) when the pivot runs.
const PIVOT_PARAMS: &[(&str, &[(Kind, &str)])] = &[
    ("account_name", ACCOUNT),
    ("user", ACCOUNT),
    ("host_name", &[(Kind::Host, "FQDN")]),
    ("ip_address", IP),
    ("ip_address_list", IP),
    ("source_ip_list", IP),
    ("domain", DNS),
    ("domain_list", DNS),
    (
        "logon_session_id",
        &[
            (Kind::HostLogonSession, "SessionId"),
            (Kind::Account, "LogonId"),
        ],
    ),
    ("process_id", &[(Kind::Process, "ProcessId")]),
    ("commandline", COMMAND_LINE),
    ("cmd_line", COMMAND_LINE),
    ("url", URL),
    ("url_list", URL),
    ("file_hash", FILE_HASH),
    ("file_hash_list", FILE_HASH),
    ("resource_id", &[(Kind::AzureResource, "ResourceId")]),
];

const ACCOUNT: &[(Kind, &str)] = &[(Kind::Account, "Name")];
const IP: &[(Kind, &str)] = &[(Kind::IpAddress, "Address")];
const DNS: &[(Kind, &str)] = &[(Kind::Dns, "DomainName")];
const COMMAND_LINE: &[(Kind, &str)] = &[(Kind::Process, "CommandLine")];
const URL: &[(Kind, &str)] = &[(Kind::Url, "Url")];
/// A file has three hash properties; its strongest one is its observable.
const FILE_HASH: &[(Kind, &str)] = &[(Kind::File, "Sha256")];

/// The kinds, and the property of each, that a query parameter named `param`
/// anchors; empty for a parameter that names no entity (`start`, `table`). Case is
/// ignored, as query files spell parameters either way.
pub fn param_anchors(param: &str) -> &'static [(Kind, &'static str)] {
    PIVOT_PARAMS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(param))
        .map_or(&[], |(_, anchors)| *anchors)
}

/// Every parameter name [`param_anchors`] knows, with its anchors.
pub fn pivot_params() -> &'static [(&'static str, &'static [(Kind, &'static str)])] {
    PIVOT_PARAMS
}

impl Kind {
    /// The property a single value describes (`Address` of an IP, `HostName` of a
    /// host, `Name` of an account): what `IpAddress("10.0.0.1")` fills. `None` for
    /// kinds with no one identifying property (a network connection, a location).
    pub fn key_property(self) -> Option<&'static str> {
        Some(match self {
            Kind::Account | Kind::Malware | Kind::CloudApplication => "Name",
            Kind::Host => "HostName",
            Kind::IpAddress => "Address",
            Kind::Dns => "DomainName",
            Kind::Url => "Url",
            Kind::File => "Name",
            Kind::FileHash => "Value",
            Kind::Process => "CommandLine",
            Kind::AzureResource => "ResourceId",
            Kind::Mailbox => "MailboxPrimaryAddress",
            Kind::RegistryKey => "Key",
            Kind::RegistryValue => "Name",
            Kind::SecurityGroup => "DistinguishedName",
            Kind::HostLogonSession => "SessionId",
            Kind::IoTDevice => "DeviceId",
            Kind::MailMessage | Kind::SubmissionMail => "NetworkMessageId",
            Kind::MailCluster => "Query",
            Kind::Threatintelligence => "ThreatName",
            Kind::Alert => "SystemAlertId",
            Kind::Incident => "IncidentID",
            Kind::GeoLocation | Kind::NetworkConnection | Kind::Unknown => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msticpy_parameter_names_anchor_the_same_entities() {
        // The shared names of MSTICPy's parameter-to-entity table, with its targets.
        let expected = [
            ("account_name", Kind::Account, "Name"),
            ("user", Kind::Account, "Name"),
            ("ip_address", Kind::IpAddress, "Address"),
            ("ip_address_list", Kind::IpAddress, "Address"),
            ("source_ip_list", Kind::IpAddress, "Address"),
            ("domain", Kind::Dns, "DomainName"),
            ("domain_list", Kind::Dns, "DomainName"),
            ("process_id", Kind::Process, "ProcessId"),
            ("commandline", Kind::Process, "CommandLine"),
            ("cmd_line", Kind::Process, "CommandLine"),
            ("url", Kind::Url, "Url"),
            ("url_list", Kind::Url, "Url"),
            ("resource_id", Kind::AzureResource, "ResourceId"),
        ];
        for (param, kind, property) in expected {
            assert_eq!(param_anchors(param), [(kind, property)], "{param}");
        }
        assert_eq!(param_anchors("host_name")[0].0, Kind::Host);
        assert_eq!(param_anchors("file_hash_list")[0].0, Kind::File);
        let session: Vec<Kind> = param_anchors("logon_session_id")
            .iter()
            .map(|(kind, _)| *kind)
            .collect();
        assert_eq!(session, [Kind::HostLogonSession, Kind::Account]);
    }

    #[test]
    fn other_parameters_anchor_nothing_and_case_is_ignored() {
        for param in ["start", "end", "table", "add_query_items", "host"] {
            assert!(param_anchors(param).is_empty(), "{param}");
        }
        assert_eq!(param_anchors("Host_Name"), param_anchors("host_name"));
    }

    #[test]
    fn every_anchor_is_a_property_of_its_kind() {
        for (param, anchors) in pivot_params() {
            for (kind, property) in *anchors {
                assert!(
                    kind.properties().contains(property),
                    "{param}: {property} is not a {kind:?} property"
                );
            }
        }
        for kind in Kind::KNOWN {
            if let Some(property) = kind.key_property() {
                assert!(kind.properties().contains(&property), "{kind:?}");
            }
        }
    }
}
