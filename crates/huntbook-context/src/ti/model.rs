//! The vocabulary of a lookup: what is asked ([`Observable`]), what a provider
//! answers ([`Answer`]) and one row of the result ([`LookupRow`]), with MSTICPy's
//! severity scale and status codes.

use std::fmt;

use huntbook_transform::ioc::IocType;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How bad a provider thinks an observable is, MSTICPy's `ResultSeverity`: ordered,
/// `Unknown` lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Information,
    Warning,
    High,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Information => "information",
            Severity::Warning => "warning",
            Severity::High => "high",
        }
    }

    /// MSTICPy's numbers: unknown -1, information 0, warning 1, high 2.
    pub fn number(self) -> i8 {
        match self {
            Severity::Unknown => -1,
            Severity::Information => 0,
            Severity::Warning => 1,
            Severity::High => 2,
        }
    }

    /// A name (any case) or MSTICPy's number as text.
    pub fn parse(text: &str) -> Option<Severity> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "unknown" | "-1" => Severity::Unknown,
            "information" | "info" | "informational" | "low" | "0" => Severity::Information,
            "warning" | "medium" | "1" => Severity::Warning,
            "high" | "critical" | "2" => Severity::High,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// MSTICPy's `LookupStatus`, or the HTTP status a service failed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Ok,
    NotSupported,
    BadFormat,
    QueryFailed,
    NoData,
    Other,
    Http(u16),
}

impl Status {
    /// The number in the `Status` column.
    pub fn code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::NotSupported => 1,
            Status::BadFormat => 2,
            Status::QueryFailed => 3,
            Status::NoData => 4,
            Status::Other => 10,
            Status::Http(status) => i32::from(status),
        }
    }

    /// Whether the answer says something about the observable (found or not), as
    /// opposed to a failure to ask; only these are worth keeping in the cache.
    pub fn is_answer(self) -> bool {
        matches!(self, Status::Ok | Status::NoData | Status::Http(404))
    }
}

/// One observable as a provider receives it: checked, refanged and cleaned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Observable {
    /// As given by the caller.
    pub ioc: String,
    pub ioc_type: IocType,
    /// The form sent to providers: refanged, URLs cleaned.
    pub safe_ioc: String,
    /// `passivedns` in `ipv4-passivedns`; `None` for the plain query.
    pub subtype: Option<String>,
}

impl Observable {
    /// The query key, MSTICPy's `ipv4` or `ipv4-passivedns`.
    pub fn query_key(&self) -> String {
        query_key(&self.ioc_type, self.subtype.as_deref())
    }
}

/// `type` or `type-subtype`.
pub fn query_key(ioc_type: &IocType, subtype: Option<&str>) -> String {
    match subtype {
        Some(sub) => format!("{}-{sub}", ioc_type.name()),
        None => ioc_type.name().to_string(),
    }
}

/// What a provider said about one observable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Whether the provider had something on it.
    pub result: bool,
    pub severity: Severity,
    pub details: Value,
    pub raw: Value,
    /// Where the answer came from: a URL (keys redacted), a feed file.
    pub reference: String,
    pub status: Status,
}

impl Answer {
    /// A failed or refused lookup: no result, unknown severity, and why.
    pub fn failed(
        status: Status,
        details: impl Into<String>,
        reference: impl Into<String>,
    ) -> Answer {
        Answer {
            result: false,
            severity: Severity::Unknown,
            details: Value::String(details.into()),
            raw: Value::Null,
            reference: reference.into(),
            status,
        }
    }
}

/// One row of a lookup result: one observable and one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupRow {
    pub ioc: String,
    pub ioc_type: String,
    pub safe_ioc: String,
    pub query_subtype: Option<String>,
    pub provider: String,
    pub answer: Answer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse_as_msticpy() {
        assert!(Severity::Unknown < Severity::Information);
        assert!(Severity::Warning < Severity::High);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("1"), Some(Severity::Warning));
        assert_eq!(Severity::parse("-1"), Some(Severity::Unknown));
        assert_eq!(Severity::parse("severe"), None);
        assert_eq!(Severity::Information.number(), 0);
    }

    #[test]
    fn status_codes_are_msticpys() {
        let codes: Vec<i32> = [
            Status::Ok,
            Status::NotSupported,
            Status::BadFormat,
            Status::QueryFailed,
            Status::NoData,
            Status::Other,
            Status::Http(429),
        ]
        .iter()
        .map(|s| s.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 10, 429]);
        assert!(Status::Http(404).is_answer());
        assert!(!Status::Http(401).is_answer());
    }

    #[test]
    fn query_keys_join_type_and_subtype() {
        assert_eq!(
            query_key(&IocType::Ipv4, Some("passivedns")),
            "ipv4-passivedns"
        );
        assert_eq!(query_key(&IocType::Sha256Hash, None), "sha256_hash");
    }
}
