//! Regular-expression sources for the built-in IoC kinds.
//!
//! Each pattern finds *candidates* only. The `regex` engines have no look-around, so the
//! boundary rules MSTICPy writes as look-behind/look-ahead (and the checks it does not
//! make at all: octet ranges, IPv6 syntax, label lengths) live in `scan.rs`, which
//! accepts or rejects each candidate. Patterns avoid large bounded repetitions so the
//! combined automaton stays small enough for the lazy DFA.

/// The built-in candidate kinds. The three hash types share one kind (a hex run),
/// told apart by length after the match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Url,
    Email,
    Ipv4,
    Ipv6,
    Hash,
    Dns,
    WindowsPath,
    LinuxPath,
}

impl Kind {
    /// Order of the alternatives in the combined regex. At one start position the
    /// first alternative that matches wins, so containers (url, email) come before the
    /// things they contain, and ipv4/hash before dns (a hex run or dotted quad followed
    /// by `.com` is reported as what it starts with).
    pub(crate) const SCAN_ORDER: [Kind; 8] = [
        Kind::Url,
        Kind::Email,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Hash,
        Kind::Dns,
        Kind::WindowsPath,
        Kind::LinuxPath,
    ];

    /// Kinds that may appear inside a url, path or custom match.
    pub(crate) fn is_leaf(self) -> bool {
        !matches!(self, Kind::WindowsPath | Kind::LinuxPath)
    }

    pub(crate) fn pattern(self, defanged: bool) -> String {
        match self {
            Kind::Url => url(defanged),
            Kind::Email => email(defanged),
            Kind::Ipv4 => ipv4(defanged),
            Kind::Ipv6 => IPV6.to_string(),
            Kind::Hash => HASH.to_string(),
            Kind::Dns => dns(defanged),
            Kind::WindowsPath => WINDOWS_PATH.to_string(),
            Kind::LinuxPath => LINUX_PATH.to_string(),
        }
    }
}

/// A dot, or one of its defanged spellings: `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`.
fn dot(defanged: bool) -> &'static str {
    if defanged {
        r"(?:\.|\[\.\]|\(\.\)|\{\.\}|(?i-u:\[dot\]|\(dot\)))"
    } else {
        r"\."
    }
}

/// An `@`, or `[@]`, `(@)`, `[at]`, `(at)`, `{at}`.
fn at(defanged: bool) -> &'static str {
    if defanged {
        r"(?:@|\[@\]|\(@\)|(?i-u:\[at\]|\(at\)|\{at\}))"
    } else {
        "@"
    }
}

/// A host label: alphanumerics with inner hyphen runs (so punycode `xn--` labels fit).
const LABEL: &str = "[a-zA-Z0-9]+(?:-+[a-zA-Z0-9]+)*";

pub(crate) fn dns(defanged: bool) -> String {
    format!("(?:{LABEL}{dot})+[a-zA-Z]{{2,63}}", dot = dot(defanged))
}

pub(crate) fn ipv4(defanged: bool) -> String {
    format!(
        "[0-9]{{1,3}}(?:{dot}[0-9]{{1,3}}){{3}}",
        dot = dot(defanged)
    )
}

/// Two to seven colon-terminated hex groups, then a final group or an embedded IPv4.
/// Whether the candidate is a real address is decided by the standard library parser.
const IPV6: &str = r"(?:[0-9a-fA-F]{0,4}:){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F]{1,4})?";

/// A maximal hex run; 32, 40 and 64 characters make md5, sha1 and sha256.
const HASH: &str = "[0-9a-fA-F]{32,}";

fn url(defanged: bool) -> String {
    let (scheme, sep) = if defanged {
        (
            r"(?i-u:h(?:tt|xx|\[xx\])ps?|s?f[tx]ps?|telnet|ldap|file)",
            r"(?::|\[:\])(?://|\[//\])|\[://\]",
        )
    } else {
        (r"(?i-u:https?|s?ftps?|telnet|ldap|file)", "://")
    };
    // The body stops at white space, quotes, angle brackets and the characters shells and
    // templates use around a URL (`\ ^ ` | { }`); trailing punctuation is trimmed later.
    format!(r#"{scheme}(?:{sep})[^\s"'<>\\^`|{{}}]+"#)
}

/// Local part: RFC 5322 atext without `=`, `/`, `?`, `&`, quotes and braces, which in
/// logs separate keys, paths and query parameters from the address (`from=a@b.com`).
fn email(defanged: bool) -> String {
    format!(
        "[a-zA-Z0-9!#$%*+^_~.-]+{at}{dns}",
        at = at(defanged),
        dns = dns(defanged)
    )
}

/// Drive, UNC or relative root, `\folder\` segments (spaces allowed, as in
/// `Program Files`) and a file name without spaces.
const WINDOWS_PATH: &str =
    r#"(?:[a-zA-Z]:|\\\\[a-zA-Z0-9_.$-]+|\.+)?\\(?:[^\\/:*?"'<>|\r\n]+\\)*[^\\/:*?"'<>|\s]+"#;

/// Optional `.`/`..` root, then `/`-separated segments without white space.
const LINUX_PATH: &str = r#"(?:\.{1,2})?/+(?:[^\\/:*?<>|\s"']+/+)*[^\\/:*?<>|\s"'\x00]+"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_in_both_modes() {
        for defanged in [false, true] {
            for kind in Kind::SCAN_ORDER {
                let pat = kind.pattern(defanged);
                regex::Regex::new(&pat)
                    .unwrap_or_else(|e| panic!("{kind:?} (defanged={defanged}): {e}"));
            }
        }
    }

    #[test]
    fn fanged_patterns_do_not_accept_defanged_spellings() {
        let plain = regex::Regex::new(&format!("^{}$", dns(false))).unwrap();
        assert!(plain.is_match("evil.com"));
        assert!(!plain.is_match("evil[.]com"));
        let dns_df = regex::Regex::new(&format!("^{}$", dns(true))).unwrap();
        for s in ["evil[.]com", "evil(.)com", "evil[DOT]com", "evil{.}com"] {
            assert!(dns_df.is_match(s), "{s}");
        }
    }
}
