//! STIX 2.1 bundles: the equality comparisons in the patterns of `indicator`
//! objects. `[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'evil.com']` lists
//! both; comparisons other than `=` (ranges, `MATCHES`, `ISSUBSET`) are not
//! indexable and are skipped. Revoked indicators are left out.
//!
//! A listing's severity comes from the indicator's `confidence` (70 and up high, 30
//! and up warning, less information), else the feed's (high).

use std::path::Path;
use std::sync::OnceLock;

use huntbook_transform::ioc::IocType;
use regex::Regex;
use serde_json::Value;

use super::{read_json, source, FeedError, Index, Listing};
use crate::ti::Severity;

fn comparison() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*'((?:[^'\\]|\\.)*)'")
            .expect("the comparison pattern compiles")
    })
}

/// The IoC type of an object path such as `file:hashes.'SHA-256'`.
fn path_type(object: &str, property: &str) -> Option<IocType> {
    let property = property.replace('\'', "").to_ascii_uppercase();
    Some(match (object, property.as_str()) {
        ("ipv4-addr", "VALUE") => IocType::Ipv4,
        ("ipv6-addr", "VALUE") => IocType::Ipv6,
        ("domain-name", "VALUE") => IocType::Dns,
        ("url", "VALUE") => IocType::Url,
        ("email-addr", "VALUE") => IocType::Email,
        ("file", "HASHES.MD5") => IocType::Md5Hash,
        ("file", "HASHES.SHA-1" | "HASHES.SHA1") => IocType::Sha1Hash,
        ("file", "HASHES.SHA-256" | "HASHES.SHA256") => IocType::Sha256Hash,
        _ => return None,
    })
}

pub(super) fn read(
    path: &Path,
    severity: Option<Severity>,
    index: &mut Index,
) -> Result<(), FeedError> {
    let bundle = read_json(path)?;
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| FeedError::Format {
            path: path.to_path_buf(),
            problem: "the bundle has no `objects` list".into(),
        })?;
    for object in objects {
        if object.get("type").and_then(Value::as_str) != Some("indicator")
            || object.get("revoked").and_then(Value::as_bool) == Some(true)
        {
            continue;
        }
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("indicator");
        let pattern_type = object
            .get("pattern_type")
            .and_then(Value::as_str)
            .unwrap_or("stix");
        if pattern_type != "stix" {
            continue;
        }
        let pattern = object
            .get("pattern")
            .and_then(Value::as_str)
            .ok_or_else(|| FeedError::Format {
                path: path.to_path_buf(),
                problem: format!("{id} has no pattern"),
            })?;
        let listing_severity =
            severity.unwrap_or_else(|| match object.get("confidence").and_then(Value::as_f64) {
                Some(c) if c >= 70.0 => Severity::High,
                Some(c) if c >= 30.0 => Severity::Warning,
                Some(_) => Severity::Information,
                None => Severity::High,
            });
        let description = [object.get("name"), object.get("description")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(": ");
        for found in comparison().captures_iter(pattern) {
            let Some(ioc_type) = path_type(&found[1], &found[2]) else {
                continue;
            };
            let value = found[3].replace("\\'", "'").replace("\\\\", "\\");
            index.add(
                &value,
                Some(ioc_type),
                Listing {
                    severity: listing_severity,
                    description: description.clone(),
                    source: source(path, id),
                    raw: object.clone(),
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_are_found_in_compound_patterns() {
        let pattern = r"[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'evil.example'] AND [file:hashes.'SHA-256' = 'aa'] AND [url:value = 'http://x.example/it\'s']";
        let found: Vec<(String, String, String)> = comparison()
            .captures_iter(pattern)
            .map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string()))
            .collect();
        assert_eq!(found.len(), 4);
        assert_eq!(found[2].1, "hashes.'SHA-256'");
        assert_eq!(
            path_type(&found[2].0, &found[2].1),
            Some(IocType::Sha256Hash)
        );
        assert_eq!(found[3].2, r"http://x.example/it\'s");
        assert_eq!(path_type("process", "name"), None);
    }
}
