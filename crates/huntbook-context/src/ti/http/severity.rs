//! Severity rules as data: where a service's verdict is in its JSON answer and how it
//! maps to [`Severity`].

use serde_json::Value;

use crate::ti::model::Severity;

/// A number's lowest value for a severity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub at_least: f64,
    pub severity: Severity,
}

pub const fn at_least(at_least: f64, severity: Severity) -> Level {
    Level { at_least, severity }
}

/// One way of reading a verdict. A rule whose value is absent does not apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// The number at the first of `pointers` present (JSON pointers, RFC 6901), given
    /// the severity of the highest level it reaches.
    Score {
        pointers: &'static [&'static str],
        levels: &'static [Level],
    },
    /// The text (or number written as text) at `pointer`, looked up case-insensitively.
    Label {
        pointer: &'static str,
        labels: &'static [(&'static str, Severity)],
    },
    /// Anything but null, `false`, an empty list, object or string at `pointer`.
    Present {
        pointer: &'static str,
        severity: Severity,
    },
}

/// A service's rules: the most severe verdict of those that apply, else `otherwise`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeverityRule {
    pub rules: &'static [Rule],
    pub otherwise: Severity,
}

impl SeverityRule {
    pub fn apply(&self, answer: &Value) -> Severity {
        self.rules
            .iter()
            .filter_map(|rule| rule.apply(answer))
            .max()
            .unwrap_or(self.otherwise)
    }
}

impl Rule {
    fn apply(&self, answer: &Value) -> Option<Severity> {
        match self {
            Rule::Score { pointers, levels } => {
                let score = pointers
                    .iter()
                    .find_map(|p| answer.pointer(p).and_then(number))?;
                levels
                    .iter()
                    .filter(|l| score >= l.at_least)
                    .map(|l| l.severity)
                    .max()
            }
            Rule::Label { pointer, labels } => {
                let text = scalar_text(answer.pointer(pointer)?)?;
                labels
                    .iter()
                    .find(|(label, _)| label.eq_ignore_ascii_case(&text))
                    .map(|(_, severity)| *severity)
            }
            Rule::Present { pointer, severity } => {
                is_present(answer.pointer(pointer)?).then_some(*severity)
            }
        }
    }
}

/// A number, also when a service sends it as text (Open PageRank's `rank`).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULE: SeverityRule = SeverityRule {
        rules: &[
            Rule::Score {
                pointers: &["/score", "/result/score"],
                levels: &[
                    at_least(2.0, Severity::Warning),
                    at_least(5.0, Severity::High),
                ],
            },
            Rule::Present {
                pointer: "/malware",
                severity: Severity::High,
            },
        ],
        otherwise: Severity::Information,
    };

    #[test]
    fn most_severe_applicable_rule_wins() {
        assert_eq!(RULE.apply(&json!({"score": 1})), Severity::Information);
        assert_eq!(
            RULE.apply(&json!({"result": {"score": 4.5}})),
            Severity::Warning
        );
        assert_eq!(RULE.apply(&json!({"score": "7"})), Severity::High);
        assert_eq!(
            RULE.apply(&json!({"score": 1, "malware": [{"family": "x"}]})),
            Severity::High
        );
        assert_eq!(
            RULE.apply(&json!({"score": 1, "malware": []})),
            Severity::Information
        );
        assert_eq!(RULE.apply(&json!({})), Severity::Information);
    }

    #[test]
    fn labels_compare_text_and_numbers() {
        let rule = Rule::Label {
            pointer: "/status_code",
            labels: &[("200", Severity::Information), ("404", Severity::Warning)],
        };
        assert_eq!(
            rule.apply(&json!({"status_code": 404})),
            Some(Severity::Warning)
        );
        assert_eq!(
            rule.apply(&json!({"status_code": "200"})),
            Some(Severity::Information)
        );
        assert_eq!(rule.apply(&json!({"status_code": 500})), None);
    }
}
