//! Rule files: loading, validation and matching of one command line.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use regex::{Regex, RegexSet};
use serde::Deserialize;

/// How bad a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        Some(match text.to_ascii_lowercase().as_str() {
            "informational" | "info" => Severity::Informational,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    /// `linux`, `windows`, `any`, or a MSTICPy file's log type (`Syslog`).
    pub group: String,
    pub pattern: String,
    pub description: Option<String>,
    /// MITRE ATT&CK technique id.
    pub attack: Option<String>,
    regex: Regex,
}

impl Rule {
    /// The first match of this rule in `text`.
    pub fn find<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.regex.find(text).map(|m| m.as_str())
    }
}

/// Errors reading a rule file.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rule file {source_name}: {message}")]
    Format {
        source_name: String,
        message: String,
    },
    #[error("rule file {source_name}, rule '{rule}': the pattern is not a valid regular expression: {message}")]
    BadRegex {
        source_name: String,
        rule: String,
        message: String,
    },
    #[error("rule file {source_name}, rule '{rule}': {message}")]
    BadRule {
        source_name: String,
        rule: String,
        message: String,
    },
    #[error("cannot read rule file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    rules: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    id: String,
    name: String,
    severity: String,
    #[serde(default = "any_group")]
    group: String,
    pattern: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    attack: Option<String>,
}

fn any_group() -> String {
    "any".to_string()
}

/// A validated, compiled set of rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    // One pass over a command line tells which rules match at all.
    set: RegexSet,
}

const BUILTIN_JSON: &str = include_str!("../../rules/cmdline_rules.json");

impl RuleSet {
    /// The shipped rules (`rules/cmdline_rules.json`).
    pub fn builtin() -> &'static RuleSet {
        static SET: OnceLock<RuleSet> = OnceLock::new();
        SET.get_or_init(|| {
            RuleSet::from_json(BUILTIN_JSON, "rules/cmdline_rules.json")
                .expect("shipped rules are valid")
        })
    }

    /// Reads a rule file: either our layout (`{"rules": [{"id", "name", "severity",
    /// "group", "pattern", …}]}`) or MSTICPy's (`{"Syslog": ["regex", …]}`, each log
    /// type a group, rules named by their pattern, ids `<group>-<n>`, severity medium,
    /// patterns read with Python's syntax where it differs, e.g. a literal `{`).
    /// `source_name` names the file in error messages.
    pub fn from_json(text: &str, source_name: &str) -> Result<RuleSet, RuleError> {
        let format_err = |message: String| RuleError::Format {
            source_name: source_name.to_string(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format_err(e.to_string()))?;
        let obj = value
            .as_object()
            .ok_or_else(|| format_err("expected a JSON object at the top".into()))?;
        let mut rules = Vec::new();
        if obj.contains_key("rules") {
            let file: RuleFile =
                serde_json::from_value(value.clone()).map_err(|e| format_err(e.to_string()))?;
            for e in file.rules {
                let severity = Severity::parse(&e.severity).ok_or_else(|| RuleError::BadRule {
                    source_name: source_name.to_string(),
                    rule: e.id.clone(),
                    message: format!(
                        "unknown severity '{}': use informational, low, medium or high",
                        e.severity
                    ),
                })?;
                rules.push(compile(
                    source_name,
                    e.id,
                    e.name,
                    severity,
                    e.group,
                    e.pattern,
                    e.description,
                    e.attack,
                    false,
                )?);
            }
        } else {
            for (group, patterns) in obj {
                if group.starts_with('_') {
                    continue;
                }
                let list = patterns.as_array().ok_or_else(|| {
                    format_err(format!("'{group}' must be a list of regular expressions"))
                })?;
                for (i, p) in list.iter().enumerate() {
                    let p = p.as_str().ok_or_else(|| {
                        format_err(format!("'{group}' item {} is not a string", i + 1))
                    })?;
                    let id = format!("{group}-{}", i + 1);
                    rules.push(compile(
                        source_name,
                        id,
                        p.to_string(),
                        Severity::Medium,
                        group.clone(),
                        p.to_string(),
                        None,
                        None,
                        true,
                    )?);
                }
            }
        }
        RuleSet::new(rules, source_name)
    }

    /// [`RuleSet::from_json`] on a file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<RuleSet, RuleError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
            path: path.display().to_string(),
            source,
        })?;
        RuleSet::from_json(&text, &path.display().to_string())
    }

    fn new(rules: Vec<Rule>, source_name: &str) -> Result<RuleSet, RuleError> {
        for (i, r) in rules.iter().enumerate() {
            if rules[..i].iter().any(|o| o.id == r.id) {
                return Err(RuleError::BadRule {
                    source_name: source_name.to_string(),
                    rule: r.id.clone(),
                    message: "the id is used by an earlier rule; ids must be unique".into(),
                });
            }
        }
        let set = RegexSet::new(rules.iter().map(|r| r.regex.as_str())).map_err(|e| {
            RuleError::Format {
                source_name: source_name.to_string(),
                message: format!("the rules together are too large to compile: {e}"),
            }
        })?;
        Ok(RuleSet { rules, set })
    }

    /// The rules whose group is in `groups` (`any` rules always kept).
    pub fn only_groups(&self, groups: &[&str]) -> RuleSet {
        let rules: Vec<Rule> = self
            .rules
            .iter()
            .filter(|r| r.group == "any" || groups.iter().any(|g| g.eq_ignore_ascii_case(&r.group)))
            .cloned()
            .collect();
        RuleSet::new(rules, "(filtered)").expect("a subset of valid rules is valid")
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Indexes of the rules matching `text`, in rule order.
    pub fn matching(&self, text: &str) -> Vec<usize> {
        self.set.matches(text).into_iter().collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn compile(
    source_name: &str,
    id: String,
    name: String,
    severity: Severity,
    group: String,
    pattern: String,
    description: Option<String>,
    attack: Option<String>,
    python_syntax: bool,
) -> Result<Rule, RuleError> {
    if pattern.trim().is_empty() {
        return Err(RuleError::BadRule {
            source_name: source_name.to_string(),
            rule: id,
            message: "the pattern is empty".into(),
        });
    }
    let compiled = match Regex::new(&pattern) {
        Ok(r) => Ok(r),
        Err(first) if python_syntax => Regex::new(&python_to_rust(&pattern)).map_err(|_| first),
        Err(e) => Err(e),
    };
    let regex = compiled.map_err(|e| RuleError::BadRegex {
        source_name: source_name.to_string(),
        rule: id.clone(),
        message: e.to_string(),
    })?;
    Ok(Rule {
        id,
        name,
        severity,
        group,
        pattern,
        description,
        attack,
        regex,
    })
}

/// Python reads a `{` that does not start a `{m}`, `{m,}`, `{m,n}` or `{,n}` repetition
/// as a literal; Rust's regex syntax refuses it. `{,n}` becomes `{0,n}`.
fn python_to_rust(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            out.push(c);
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '{' {
            let close = chars[i + 1..]
                .iter()
                .position(|&x| x == '}')
                .map(|p| i + 1 + p);
            let body: Option<String> = close.map(|e| chars[i + 1..e].iter().collect());
            let is_rep = body.as_deref().is_some_and(|b| {
                let (m, n) = b.split_once(',').unwrap_or((b, ""));
                !(m.is_empty() && n.is_empty())
                    && m.chars().all(|c| c.is_ascii_digit())
                    && n.chars().all(|c| c.is_ascii_digit())
            });
            if is_rep {
                let b = body.expect("checked");
                out.push('{');
                if b.starts_with(',') {
                    out.push('0');
                }
                out.push_str(&b);
                out.push('}');
                i = close.expect("checked") + 1;
                continue;
            }
            out.push_str("\\{");
            i += 1;
            continue;
        }
        if c == '}' {
            out.push_str("\\}");
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load() {
        let set = RuleSet::builtin();
        assert!(set.rules().len() >= 25);
        assert!(set
            .rules()
            .iter()
            .all(|r| r.group == "linux" || r.group == "windows"));
        let linux = set.only_groups(&["linux"]);
        assert!(linux.rules().iter().all(|r| r.group == "linux"));
        assert!(!linux.is_empty());
    }

    #[test]
    fn bad_regex_names_the_rule() {
        let err = RuleSet::from_json(
            r#"{"rules": [{"id": "R1", "name": "n", "severity": "low", "pattern": "a("}]}"#,
            "mine.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mine.json") && err.contains("'R1'") && err.contains("regular expression"),
            "{err}"
        );
    }

    #[test]
    fn other_validation_errors() {
        let cases = [
            (
                r#"{"rules": [{"id": "R1", "name": "n", "severity": "huge", "pattern": "a"}]}"#,
                "severity",
            ),
            (
                r#"{"rules": [{"id": "R1", "name": "n", "severity": "low", "pattern": " "}]}"#,
                "empty",
            ),
            (
                r#"{"rules": [{"id": "R1", "name": "n", "severity": "low", "pattern": "a"}, {"id": "R1", "name": "m", "severity": "low", "pattern": "b"}]}"#,
                "unique",
            ),
            (
                r#"{"rules": [{"id": "R1", "name": "n", "severity": "low", "pattern": "a", "colour": "red"}]}"#,
                "colour",
            ),
            (
                r#"{"rules": [{"id": "R1", "severity": "low", "pattern": "a"}]}"#,
                "name",
            ),
            (r#"[1]"#, "object"),
            (r#"{"Syslog": "x"}"#, "list"),
            (r#"not json"#, "rule file x"),
        ];
        for (text, needle) in cases {
            let err = RuleSet::from_json(text, "x").unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn msticpy_layout_is_read() {
        // Python-syntax patterns: a literal `{`, escaped `/`, and `{,n}`.
        let text = r#"{"Syslog": [".*known_hosts.*", ".*(f\\(\\){f\\|f&};f).*", ".*(cp.*\/etc\/shadow).*", "x{,2}y"]}"#;
        let set = RuleSet::from_json(text, "cmd_line_rules.json").unwrap();
        assert_eq!(set.rules().len(), 4);
        assert_eq!(set.rules()[1].id, "Syslog-2");
        assert_eq!(set.rules()[1].group, "Syslog");
        assert!(set.rules()[1].find("x; f(){f|f&};f y").is_some());
        assert!(set.rules()[2].find("cp /etc/shadow /tmp").is_some());
        assert!(set.rules()[3].find("xxy").is_some());
    }

    #[test]
    fn python_translation() {
        assert_eq!(python_to_rust("a{2}b{1,}c{,3}"), "a{2}b{1,}c{0,3}");
        assert_eq!(python_to_rust(":(){:|:&};:"), ":()\\{:|:&\\};:");
        assert_eq!(python_to_rust("\\{x"), "\\{x");
    }
}
