use std::fmt;

use super::value::Origin;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A mistake in the configuration, at a key path (`TIProviders.OTX.Args.AuthKey`)
/// and the file line it came from. Never holds a secret value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Problem {
    pub severity: Severity,
    pub key: String,
    pub origin: Option<Origin>,
    pub message: String,
}

impl Problem {
    pub(crate) fn error(
        key: impl Into<String>,
        origin: &Origin,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            severity: Severity::Error,
            key: key.into(),
            origin: Some(origin.clone()),
            message: message.into(),
        }
    }

    pub(crate) fn warning(
        key: impl Into<String>,
        origin: &Origin,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(key, origin, message)
        }
    }
}

/// `TIProviders.OTX.Args.AuthKey (huntbook.yaml:12): environment variable OTX_KEY is not set`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(origin) => write!(f, "{} ({origin}): {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}
