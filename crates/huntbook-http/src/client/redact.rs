//! URLs as they may appear in errors: without credentials.
//!
//! Some services take keys in the query string (`?apikey=...`, SAS signatures), and a
//! URL can carry `user:password@`. Errors name the URL so that the reader knows which
//! call failed, so every URL goes through [`redact_url`] first.

use reqwest::Url;

/// Query parameters whose values are shown; every other value is replaced. A list of
/// harmless names, rather than of dangerous ones, so that a key under a name nobody
/// thought of is hidden too.
const SHOWN_PARAMETERS: &[&str] = &[
    "api-version",
    "resource",
    "scope",
    "timespan",
    "page",
    "limit",
    "$top",
    "$skip",
    "$skiptoken",
    "format",
];

const HIDDEN: &str = "REDACTED";

/// The URL with any user name and password removed and the values of query
/// parameters not known to be harmless replaced by `REDACTED`.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    // Setting these only fails for URLs that cannot have them, which have none.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let keep = SHOWN_PARAMETERS
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&name));
                let value = if keep {
                    value.into_owned()
                } else {
                    HIDDEN.to_string()
                };
                (name.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_passwords_are_hidden() {
        let url = Url::parse(
            "https://user:pa55@api.example.com/v3/ip?apikey=abc123&api-version=7.4&sig=zzz#frag",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert_eq!(
            shown,
            "https://api.example.com/v3/ip?apikey=REDACTED&api-version=7.4&sig=REDACTED"
        );
        assert!(!shown.contains("abc123") && !shown.contains("pa55"));
    }

    #[test]
    fn plain_urls_are_unchanged() {
        let url = Url::parse("http://127.0.0.1:8200/v1/secret/data/app").unwrap();
        assert_eq!(redact_url(&url), "http://127.0.0.1:8200/v1/secret/data/app");
    }
}
