//! Keeping secret values out of notebooks, logs and parameters.
//!
//! A run's secrets reach its kernel as environment variables; code in the notebook can
//! still print one, put it in a traceback or an HTML repr, or encode it. A
//! [`Scrubber`] is built from the secret values and replaces every occurrence with
//! [`MASK`], in the forms a value takes on its way out:
//!
//! * as written, and escaped for JSON strings and for HTML;
//! * URL-encoded (percent-encoding, upper- and lower-case hex, `+` for spaces);
//! * hex, lower- and upper-case;
//! * base64 (standard and URL-safe) at each of the three byte alignments the secret can
//!   have inside a longer encoded text: only the characters that depend on the secret's
//!   bytes alone are matched, so `base64("user:" + secret)` is caught too.
//!
//! Encoded forms shorter than [`MIN_ENCODED`] characters are not used: they would match
//! ordinary text.
//!
//! [`Scrubber::scrub_notebook`] cleans every string of a notebook: cell sources,
//! metadata, stream text, output bundles, tracebacks. Consecutive stream outputs of one
//! name are merged first (as Jupyter's own clients show them), so a secret printed in
//! two writes is still found. [`LiveScrubber`] does the same for text that arrives in
//! chunks (a live log): it holds back only as much as could be the start of a secret.
//!
//! [`check_parameter`] refuses parameters whose name says they carry a credential, or
//! whose value holds a configured secret: secrets come from the vault or the
//! environment, never from parameters, which are stored in the output notebook.
//!
//! ```
//! use huntbook_notebook::secrets::Scrubber;
//!
//! let scrubber = Scrubber::new(["s3cr3t-Value-42"]);
//! assert_eq!(scrubber.scrub("key=s3cr3t-Value-42"), "key=***");
//! // base64("user:s3cr3t-Value-42"), where the secret starts mid-group
//! assert!(!scrubber.scrub("dXNlcjpzM2NyM3QtVmFsdWUtNDI=").contains("zM2NyM3QtVmFsdWUtND"));
//! ```
use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use serde_json::Value;

use crate::model::{JsonMap, Notebook, Output};

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Encoded forms shorter than this are not matched.
pub const MIN_ENCODED: usize = 8;

/// Replaces secret values, and their encodings, in text.
#[derive(Debug, Clone)]
pub struct Scrubber {
    // None when there is nothing to scrub.
    matcher: Option<AhoCorasick>,
    longest: usize,
}

impl Scrubber {
    /// A scrubber for these secret values (empty values are ignored).
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Scrubber {
        let mut patterns: Vec<String> = Vec::new();
        for secret in secrets {
            let secret = secret.as_ref();
            if secret.is_empty() {
                continue;
            }
            patterns.push(secret.to_string());
            patterns.extend(
                encodings(secret)
                    .into_iter()
                    .filter(|p| p.len() >= MIN_ENCODED),
            );
        }
        patterns.sort();
        patterns.dedup();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        // Leftmost-longest: where a secret and one of its fragments both match, the
        // whole secret is masked, not the fragment.
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("literal patterns always build")
        });
        Scrubber { matcher, longest }
    }

    /// Whether there are no secrets to scrub.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Whether `text` holds a secret in any of its forms.
    pub fn finds(&self, text: &str) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(text))
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.matcher {
            Some(m) if m.is_match(text) => {
                Cow::Owned(m.replace_all(text, &vec![MASK; m.patterns_len()]))
            }
            _ => Cow::Borrowed(text),
        }
    }

    /// Scrubs every string of `nb` in place; returns how many strings changed.
    pub fn scrub_notebook(&self, nb: &mut Notebook) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut changed = self.scrub_map(&mut nb.metadata) + self.scrub_map(&mut nb.extra);
        for cell in &mut nb.cells {
            changed += self.scrub_string(&mut cell.source);
            changed += self.scrub_map(&mut cell.metadata) + self.scrub_map(&mut cell.extra);
            merge_streams(&mut cell.outputs);
            for output in &mut cell.outputs {
                changed += self.scrub_output(output);
            }
        }
        changed
    }

    fn scrub_output(&self, output: &mut Output) -> usize {
        match output {
            Output::Stream { name, text, extra } => {
                self.scrub_string(name) + self.scrub_string(text) + self.scrub_map(extra)
            }
            Output::DisplayData {
                data,
                metadata,
                extra,
            }
            | Output::ExecuteResult {
                data,
                metadata,
                extra,
                ..
            } => self.scrub_map(data) + self.scrub_map(metadata) + self.scrub_map(extra),
            Output::Error {
                ename,
                evalue,
                traceback,
                extra,
            } => {
                self.scrub_string(ename)
                    + self.scrub_string(evalue)
                    + traceback
                        .iter_mut()
                        .map(|line| self.scrub_string(line))
                        .sum::<usize>()
                    + self.scrub_map(extra)
            }
        }
    }

    fn scrub_string(&self, text: &mut String) -> usize {
        match self.scrub(text) {
            Cow::Owned(clean) => {
                *text = clean;
                1
            }
            Cow::Borrowed(_) => 0,
        }
    }

    fn scrub_map(&self, map: &mut JsonMap) -> usize {
        let mut changed = 0;
        // Keys may hold a secret too (a dict printed as JSON): rebuild when one does.
        if map.keys().any(|k| self.finds(k)) {
            let old = std::mem::take(map);
            for (key, value) in old {
                map.insert(self.scrub(&key).into_owned(), value);
                changed += 1;
            }
        }
        changed + map.values_mut().map(|v| self.scrub_value(v)).sum::<usize>()
    }

    fn scrub_value(&self, value: &mut Value) -> usize {
        match value {
            Value::String(s) => self.scrub_string(s),
            Value::Array(items) if items.iter().all(Value::is_string) && items.len() > 1 => {
                // nbformat's multi-line strings: a secret may straddle two lines' items,
                // so the lines are scrubbed joined.
                let joined: String = items.iter().filter_map(Value::as_str).collect();
                match self.scrub(&joined) {
                    Cow::Owned(clean) => {
                        *value = Value::String(clean);
                        1
                    }
                    Cow::Borrowed(_) => 0,
                }
            }
            Value::Array(items) => items.iter_mut().map(|v| self.scrub_value(v)).sum(),
            Value::Object(map) => self.scrub_map(map),
            _ => 0,
        }
    }
}

/// Scrubs text that arrives in pieces, such as a run's live log.
#[derive(Debug)]
pub struct LiveScrubber<'a> {
    scrubber: &'a Scrubber,
    held: String,
}

impl<'a> LiveScrubber<'a> {
    pub fn new(scrubber: &'a Scrubber) -> LiveScrubber<'a> {
        LiveScrubber {
            scrubber,
            held: String::new(),
        }
    }

    /// The scrubbed text that can be let out now. The tail that could still become a
    /// secret with the next piece is held back.
    pub fn push(&mut self, piece: &str) -> String {
        let Some(matcher) = &self.scrubber.matcher else {
            return piece.to_string();
        };
        self.held.push_str(piece);
        let text = std::mem::take(&mut self.held);
        let last_match_end = matcher
            .find_iter(&text)
            .map(|m| m.end())
            .last()
            .unwrap_or(0);
        let mut safe = text
            .len()
            .saturating_sub(self.scrubber.longest - 1)
            .max(last_match_end);
        while !text.is_char_boundary(safe) {
            safe -= 1;
        }
        self.held = text[safe..].to_string();
        self.scrubber.scrub(&text[..safe]).into_owned()
    }

    /// The rest, scrubbed.
    pub fn finish(self) -> String {
        self.scrubber.scrub(&self.held).into_owned()
    }
}

/// Why a parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretParameter {
    #[error(
        "parameter '{0}' looks like a credential; secrets are not passed as parameters: \
         declare the secret for this notebook in huntbook.yaml and read it from the environment"
    )]
    CredentialName(String),
    #[error(
        "the value of parameter '{0}' holds a configured secret; read the secret from the \
         environment in the notebook instead"
    )]
    SecretValue(String),
}

/// Refuses a parameter that looks like a credential by its name, or whose value
/// (as text) holds one of the scrubber's secrets. Only names are judged, never how
/// random a value looks: hashes and ids are legitimate parameters.
pub fn check_parameter(
    name: &str,
    value: &str,
    scrubber: &Scrubber,
) -> Result<(), SecretParameter> {
    if is_credential_name(name) {
        return Err(SecretParameter::CredentialName(name.to_string()));
    }
    if scrubber.finds(value) {
        return Err(SecretParameter::SecretValue(name.to_string()));
    }
    Ok(())
}

/// Words that name a credential on their own, and pairs of words that do together.
const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "apikey",
    "credential",
    "credentials",
    "privatekey",
    "accesskey",
    "secretkey",
    "sastoken",
    "bearer",
];
const CREDENTIAL_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("client", "secret"),
    ("connection", "string"),
    ("conn", "str"),
    ("auth", "key"),
    ("sas", "token"),
    ("signing", "key"),
];

/// Whether a parameter name says it carries a credential: `password`, `vt_api_key`,
/// `clientSecret`, `AUTH_TOKEN`... but not `keyword`, `passes` or `author`.
pub fn is_credential_name(name: &str) -> bool {
    let words = words(name);
    words.iter().any(|w| CREDENTIAL_WORDS.contains(&w.as_str()))
        || words
            .windows(2)
            .any(|pair| CREDENTIAL_PAIRS.contains(&(pair[0].as_str(), pair[1].as_str())))
        || CREDENTIAL_WORDS.contains(&words.concat().as_str())
}

/// A name's words, lower-cased: split on `_`, `-`, `.`, spaces and camelCase humps.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The forms `secret` takes once escaped or encoded (the secret itself excluded).
fn encodings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut forms = Vec::new();
    let json = serde_json::to_string(secret).expect("a string serialises");
    forms.push(json[1..json.len() - 1].to_string());
    // HTML-escaped, with either spelling of the apostrophe: ours (and nbconvert's)
    // `&#39;`, Python's html.escape `&#x27;`.
    let html = crate::export::escape(secret);
    forms.push(html.replace("&#39;", "&#x27;"));
    forms.push(html);
    forms.push(hex(bytes, false));
    forms.push(hex(bytes, true));
    forms.extend(url_encodings(secret));
    for engine in [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for align in 0..3 {
            forms.push(aligned_base64(&engine, bytes, align));
        }
    }
    forms.retain(|f| f != secret);
    forms
}

/// The base64 characters that depend only on `bytes` when they start `align` bytes
/// into a 3-byte group: a character covers 6 bits, so the ones whose bits lie wholly
/// inside the secret's are those from ceil(8·align/6) to floor(8·(align+len)/6).
fn aligned_base64(engine: &base64::engine::GeneralPurpose, bytes: &[u8], align: usize) -> String {
    let mut padded = vec![0u8; align];
    padded.extend_from_slice(bytes);
    let encoded = engine.encode(&padded);
    let first = (8 * align).div_ceil(6);
    let last = 8 * (align + bytes.len()) / 6;
    if first >= last {
        return String::new();
    }
    encoded[first..last].to_string()
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

/// Percent-encoding of everything but RFC 3986's unreserved characters, with upper-
/// and lower-case hex digits, and the form-encoding variant with `+` for spaces.
fn url_encodings(text: &str) -> Vec<String> {
    let encode = |upper: bool, plus: bool| {
        let mut out = String::new();
        for &b in text.as_bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    out.push(b as char)
                }
                b' ' if plus => out.push('+'),
                _ if upper => out.push_str(&format!("%{b:02X}")),
                _ => out.push_str(&format!("%{b:02x}")),
            }
        }
        out
    };
    vec![
        encode(true, false),
        encode(false, false),
        encode(true, true),
    ]
}

/// Merges each run of consecutive stream outputs of the same name into one.
fn merge_streams(outputs: &mut Vec<Output>) {
    let mut merged: Vec<Output> = Vec::with_capacity(outputs.len());
    for output in outputs.drain(..) {
        if let (
            Some(Output::Stream {
                name: last,
                text: into,
                ..
            }),
            Output::Stream { name, text, .. },
        ) = (merged.last_mut(), &output)
        {
            if last == name {
                into.push_str(text);
                continue;
            }
        }
        merged.push(output);
    }
    *outputs = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cell;

    const SECRET: &str = "Zq9-vT4!pL2#wX7$";

    fn scrubber() -> Scrubber {
        Scrubber::new([SECRET])
    }

    #[test]
    fn plain_json_html_and_url_forms_are_masked() {
        let s = Scrubber::new(["p@ss w<rd>\"42&x"]);
        for text in [
            "p@ss w<rd>\"42&x",
            r#"p@ss w<rd>\"42&x"#,
            "p@ss w&lt;rd&gt;&quot;42&amp;x",
            "p%40ss%20w%3Crd%3E%2242%26x",
            "p%40ss%20w%3crd%3e%2242%26x",
            "p%40ss+w%3Crd%3E%2242%26x",
        ] {
            assert_eq!(s.scrub(&format!("a {text} b")), "a *** b", "{text}");
        }
    }

    #[test]
    fn both_html_spellings_of_an_apostrophe_are_masked() {
        let s = Scrubber::new(["it's-a-secret"]);
        assert_eq!(s.scrub("<td>it&#x27;s-a-secret</td>"), "<td>***</td>");
        assert_eq!(s.scrub("<td>it&#39;s-a-secret</td>"), "<td>***</td>");
    }

    #[test]
    fn hex_forms_are_masked() {
        let lower: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(scrubber().scrub(&format!("dump {lower}!")), "dump ***!");
        assert_eq!(
            scrubber().scrub(&format!("dump {}!", lower.to_uppercase())),
            "dump ***!"
        );
    }

    #[test]
    fn base64_is_masked_at_every_alignment_and_in_both_alphabets() {
        use base64::engine::general_purpose;
        let s = scrubber();
        for prefix in ["", "u", "us", "use", "user:"] {
            for (engine, no_pad) in [
                (general_purpose::STANDARD, general_purpose::STANDARD_NO_PAD),
                (general_purpose::URL_SAFE, general_purpose::URL_SAFE_NO_PAD),
            ] {
                let encoded = engine.encode(format!("{prefix}{SECRET} trailing"));
                let clean = s.scrub(&encoded);
                assert!(clean.contains(MASK), "prefix {prefix:?}: {encoded}");
                // Nothing decodable of the secret is left: no 8-character run of the
                // aligned encodings survives.
                for align in 0..3 {
                    let form = aligned_base64(&no_pad, SECRET.as_bytes(), align);
                    assert!(!clean.contains(&form[..8]), "{prefix:?} {align}");
                }
            }
        }
    }

    #[test]
    fn unrelated_text_and_short_encodings_are_left_alone() {
        let s = Scrubber::new(["abc"]);
        // "abc" in hex is 616263 (6 characters): too short to be matched as hex.
        assert_eq!(s.scrub("616263 and YWJj"), "616263 and YWJj");
        assert_eq!(s.scrub("xabcx"), "x***x");
        assert!(Scrubber::new([""]).is_empty());
        assert_eq!(scrubber().scrub("nothing here"), "nothing here");
    }

    #[test]
    fn a_notebook_is_scrubbed_everywhere() {
        let mut nb = Notebook::new();
        let mut cell = Cell::code(format!("key = '{SECRET}'"));
        cell.outputs = vec![
            // split across two writes
            Output::stream("stdout", format!("token: {}", &SECRET[..5])),
            Output::stream("stdout", format!("{}\n", &SECRET[5..])),
            Output::error(
                "KeyError",
                SECRET,
                vec![format!("\u{1b}[0;31m'{SECRET}'\u{1b}[0m")],
            ),
        ];
        let mut data = JsonMap::new();
        data.insert(
            "text/html".into(),
            serde_json::json!(["<td>", format!("{}</td>", crate::export::escape(SECRET))]),
        );
        data.insert(
            "application/json".into(),
            serde_json::json!({"nested": [SECRET]}),
        );
        cell.outputs.push(Output::display(data, JsonMap::new()));
        nb.cells.push(cell);
        nb.metadata
            .insert("papermill".into(), serde_json::json!({"note": SECRET}));

        let changed = scrubber().scrub_notebook(&mut nb);
        assert!(changed >= 6, "{changed}");
        let text = serde_json::to_string(&nb).unwrap();
        assert!(!text.contains(&SECRET[..8]), "{text}");
        assert_eq!(
            nb.cells[0].outputs.len(),
            3,
            "the two writes merged into one stream"
        );
        assert_eq!(
            nb.cells[0].outputs[0],
            Output::stream("stdout", "token: ***\n")
        );
    }

    #[test]
    fn live_text_is_scrubbed_across_pieces_and_nothing_is_lost() {
        let s = scrubber();
        let full = format!("start {SECRET} middle {SECRET} end — ünïcode");
        for cut in [1usize, 3, 7, 11] {
            let mut live = LiveScrubber::new(&s);
            let mut out = String::new();
            let chars: Vec<char> = full.chars().collect();
            for piece in chars.chunks(cut) {
                out.push_str(&live.push(&piece.iter().collect::<String>()));
            }
            out.push_str(&live.finish());
            assert_eq!(out, "start *** middle *** end — ünïcode", "pieces of {cut}");
        }
        let none = Scrubber::new(Vec::<String>::new());
        assert_eq!(LiveScrubber::new(&none).push("as is"), "as is");
    }

    #[test]
    fn credential_names_are_refused_and_others_pass() {
        for name in [
            "password",
            "vt_api_key",
            "apiKey",
            "clientSecret",
            "AUTH_TOKEN",
            "sas_token",
            "db_passwd",
            "connection_string",
            "PrivateKey",
            "my-credentials",
            "apikey",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in [
            "ip_address",
            "host_name",
            "file_hash",
            "keyword",
            "passes",
            "author",
            "key_parameters",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
        // The word "token" alone is enough: such a name is refused, and the error says why.
        assert!(is_credential_name("token_count"));
    }

    #[test]
    fn parameters_holding_a_secret_are_refused() {
        let s = scrubber();
        assert_eq!(
            check_parameter("note", &format!("x{SECRET}"), &s),
            Err(SecretParameter::SecretValue("note".into()))
        );
        assert!(matches!(
            check_parameter("api_key", "x", &s),
            Err(SecretParameter::CredentialName(_))
        ));
        // a hash is a legitimate parameter, however random it looks
        assert_eq!(
            check_parameter(
                "file_hash",
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                &s
            ),
            Ok(())
        );
    }
}
