//! A finding's `severity` scrap on the incident scale (Informational, Low, Medium,
//! High).
//!
//! Notebooks glue either the incident scale's words or the threat-intelligence
//! scale's (MSTICPy's `ResultSeverity`: unknown, information, warning, high), in any
//! case. The TI scale has no "low": information maps to Informational, warning to
//! Medium, and unknown (a lookup that said nothing) to Informational rather than to a
//! guess. "critical", which some tools write, is High: the incident scale's top.

use huntbook_sentinel::Severity;

/// The words read, for messages.
pub const KNOWN: &str = "Informational, Low, Medium, High, or the TI scale's unknown, \
    information, warning, high";

/// The incident severity a scrap's text names; `None` for a word of neither scale.
pub fn incident_severity(text: &str) -> Option<Severity> {
    let text = text.trim();
    if let Ok(severity) = text.parse::<Severity>() {
        return Some(severity);
    }
    Some(match text.to_ascii_lowercase().as_str() {
        "unknown" | "information" | "info" => Severity::Informational,
        "warning" | "warn" => Severity::Medium,
        "critical" => Severity::High,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_scales_map_in_any_case() {
        let cases = [
            ("High", Severity::High),
            ("medium", Severity::Medium),
            (" LOW ", Severity::Low),
            ("informational", Severity::Informational),
            ("Information", Severity::Informational),
            ("unknown", Severity::Informational),
            ("WARNING", Severity::Medium),
            ("critical", Severity::High),
        ];
        for (text, expected) in cases {
            assert_eq!(incident_severity(text), Some(expected), "{text}");
        }
        assert_eq!(incident_severity("severe"), None);
        assert_eq!(incident_severity(""), None);
    }
}
