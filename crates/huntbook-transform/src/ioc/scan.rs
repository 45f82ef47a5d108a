//! The extraction engine: one combined multi-pattern regex per extractor, candidate
//! checks, nested scans and per-text de-duplication.
//!
//! A text is searched once with a leftmost-first multi-pattern regex (custom types
//! first, then the built-in kinds in [`Kind::SCAN_ORDER`]); each hit carries its
//! pattern id, so no capture groups are needed. A hit is judged by [`judge`] and
//! either accepted or rejected; the search resumes after it (or one character later for
//! kinds whose rejected candidate can hide a real indicator, such as `cafe:babe:evil.com`
//! read as an IPv6 start). Containers are searched again inside, with a second regex of
//! the "leaf" kinds: a URL's body (its host becomes dns, its path hashes and domains
//! are found, a nested URL too), paths and custom matches. An email's domain is checked
//! as dns directly, an IPv6 address's embedded IPv4 as ipv4. Text with `%XX` escapes is
//! decoded and searched again (two levels at most).

use std::collections::HashMap;
use std::net::Ipv6Addr;
use std::ops::Range;
use std::sync::{Mutex, OnceLock};

use regex_automata::meta;
use regex_automata::Input;

use super::patterns::{self, Kind};
use super::types::*;

/// Nesting limit for scans inside containers (a URL in a URL in a path …).
const MAX_DEPTH: u8 = 4;
/// Percent-decoding levels (`%252F` → `%2F` → `/`).
const MAX_DECODE_LEVELS: u8 = 2;

/// What a pattern id stands for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    Builtin(Kind),
    Custom(usize),
}

pub(crate) struct Engine {
    re: meta::Regex,
    slots: Vec<Slot>,
}

impl Engine {
    pub(crate) fn build(patterns: Vec<(String, Slot)>) -> Result<Option<Engine>, IocError> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let builtin = patterns
            .iter()
            .all(|(_, slot)| matches!(slot, Slot::Builtin(_)));
        let (sources, slots): (Vec<String>, Vec<Slot>) = patterns.into_iter().unzip();
        let compile = |sources: &[String]| {
            meta::Regex::builder()
                .configure(meta::Config::new().nfa_size_limit(Some(64 << 20)))
                .build_many(sources)
                .map_err(|e| IocError::Build(e.to_string()))
        };
        // Compiling the built-in patterns takes about 5 ms, more than scanning a few
        // hundred rows, and a fresh regex starts with empty matching caches: sets of
        // built-in patterns (a few dozen combinations at most) are compiled once per
        // process and shared. Custom patterns are compiled per extractor.
        let re = if builtin {
            static COMPILED: OnceLock<Mutex<HashMap<Vec<String>, meta::Regex>>> = OnceLock::new();
            let mut compiled = COMPILED
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match compiled.get(&sources) {
                Some(re) => re.clone(),
                None => {
                    let re = compile(&sources)?;
                    compiled.insert(sources, re.clone());
                    re
                }
            }
        } else {
            compile(&sources)?
        };
        Ok(Some(Engine { re, slots }))
    }
}

/// A compiled custom type.
pub(crate) struct CustomSpec {
    pub(crate) priority: u32,
    pub(crate) regex: regex::Regex,
    /// The same regex anchored at both ends, for `validate`.
    pub(crate) anchored: regex::Regex,
    pub(crate) group: Option<usize>,
}

/// Everything the scanner needs; owned by `IocExtractor`.
pub(crate) struct Scanner {
    pub(crate) full: Option<Engine>,
    /// The leaf kinds for scans inside containers; `None` when no leaf kind is selected.
    /// When it would equal `full` (no paths or custom types selected), `full` is used.
    pub(crate) leaf: Option<Engine>,
    pub(crate) leaf_is_full: bool,
    pub(crate) customs: Vec<CustomSpec>,
    /// Indexed by type index (built-ins, then customs): whether the type is reported.
    pub(crate) selected: Vec<bool>,
    pub(crate) ignore_tlds: bool,
    pub(crate) defanged: bool,
    pub(crate) refang: bool,
}

/// A found observable: type index, text, order of discovery.
struct Found {
    ty: usize,
    observable: String,
    seq: u32,
}

/// Per-text results, de-duplicated on the exact observable string as MSTICPy does: a
/// string found as several types keeps the type of lowest priority number, ties going
/// to the type found first.
#[derive(Default)]
pub(crate) struct Collector {
    items: Vec<Found>,
    // Built once a text yields many indicators, so de-duplication stays linear.
    index: Option<HashMap<String, usize>>,
}

const INDEX_THRESHOLD: usize = 24;

impl Collector {
    fn position(&mut self, observable: &str) -> Option<usize> {
        if self.index.is_none() && self.items.len() >= INDEX_THRESHOLD {
            let map = self
                .items
                .iter()
                .enumerate()
                .map(|(i, f)| (f.observable.clone(), i))
                .collect();
            self.index = Some(map);
        }
        match &self.index {
            Some(map) => map.get(observable).copied(),
            None => self.items.iter().position(|f| f.observable == observable),
        }
    }

    fn add(&mut self, ty: usize, observable: String, priority_of: impl Fn(usize) -> u32) {
        if let Some(i) = self.position(&observable) {
            if priority_of(ty) < priority_of(self.items[i].ty) {
                self.items[i].ty = ty;
            }
            return;
        }
        let seq = self.items.len() as u32;
        if let Some(map) = &mut self.index {
            map.insert(observable.clone(), self.items.len());
        }
        self.items.push(Found {
            ty,
            observable,
            seq,
        });
    }

    /// Results ordered by type (MSTICPy's registration order, then custom types in the
    /// order they were added), then by order of discovery in the text.
    pub(crate) fn finish(mut self) -> Vec<(usize, String)> {
        self.items.sort_by_key(|f| (f.ty, f.seq));
        self.items
            .into_iter()
            .map(|f| (f.ty, f.observable))
            .collect()
    }
}

/// The verdict on one candidate.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Judgement {
    /// Accepted observable: type index and byte range in the text.
    pub(crate) accepted: Option<(usize, Range<usize>)>,
    /// Where the search continues.
    pub(crate) resume: usize,
    /// A range to search again with the leaf kinds.
    pub(crate) inner: Option<Range<usize>>,
    /// A range reported as dns if it passes the domain checks (an email's domain).
    pub(crate) domain: Option<Range<usize>>,
    /// A range reported as ipv4 (an IPv6 address's embedded IPv4).
    pub(crate) embedded_ipv4: Option<Range<usize>>,
}

impl Scanner {
    pub(crate) fn priority(&self, ty: usize) -> u32 {
        if ty < BUILTIN_COUNT {
            BUILTIN_TYPES[ty].builtin_priority().unwrap_or(u32::MAX)
        } else {
            self.customs[ty - BUILTIN_COUNT].priority
        }
    }

    /// Scans one text (and its percent-decoded forms) and returns ordered results.
    pub(crate) fn scan_text(&self, text: &str) -> Vec<(usize, String)> {
        let mut out = Collector::default();
        let Some(full) = &self.full else {
            return Vec::new();
        };
        self.scan(text, 0..text.len(), full, 0, &mut out);
        let mut current: Option<String> = None;
        for _ in 0..MAX_DECODE_LEVELS {
            let src = current.as_deref().unwrap_or(text);
            if !has_percent_escape(src) {
                break;
            }
            let decoded = percent_decode(src);
            if decoded == src {
                break;
            }
            self.scan(&decoded, 0..decoded.len(), full, 0, &mut out);
            current = Some(decoded);
        }
        out.finish()
    }

    fn scan(
        &self,
        text: &str,
        range: Range<usize>,
        engine: &Engine,
        depth: u8,
        out: &mut Collector,
    ) {
        let mut pos = range.start;
        while pos < range.end {
            let input = Input::new(text).range(pos..range.end);
            let Some(m) = engine.re.search(&input) else {
                break;
            };
            let (s, e) = (m.start(), m.end());
            let slot = engine.slots[m.pattern().as_usize()];
            let j = self.judge(slot, text, s, e, range.end);
            if let Some((ty, r)) = &j.accepted {
                self.add(out, *ty, &text[r.clone()]);
            }
            if let Some(r) = j.domain {
                if self.selected[T_DNS] && self.domain_ok(&text[r.clone()]) {
                    self.add(out, T_DNS, &text[r]);
                }
            }
            if let Some(r) = j.embedded_ipv4 {
                if self.selected[T_IPV4] {
                    self.add(out, T_IPV4, &text[r]);
                }
            }
            if let Some(r) = j.inner {
                let leaf = if self.leaf_is_full {
                    self.full.as_ref()
                } else {
                    self.leaf.as_ref()
                };
                if let Some(leaf) = leaf.filter(|_| depth < MAX_DEPTH && r.start < r.end) {
                    self.scan(text, r, leaf, depth + 1, out);
                }
            }
            // Always make progress, on a character boundary.
            pos = if j.resume > s {
                j.resume
            } else {
                next_char(text, s)
            };
        }
    }

    fn add(&self, out: &mut Collector, ty: usize, observable: &str) {
        if !self.selected[ty] {
            return;
        }
        let text = if self.refang && matches!(ty, T_IPV4 | T_DNS | T_URL | T_EMAIL) {
            refang(observable, ty)
        } else {
            observable.to_string()
        };
        out.add(ty, text, |t| self.priority(t));
    }

    /// Length, label and public-suffix checks on a (possibly defanged) domain.
    pub(crate) fn domain_ok(&self, domain: &str) -> bool {
        // Called for every domain candidate: plain domains are checked without allocating.
        let refanged;
        let plain = if domain.bytes().any(|c| matches!(c, b'[' | b'(' | b'{')) {
            refanged = refang(domain, T_DNS);
            refanged.as_str()
        } else {
            domain
        };
        if plain.len() > 253 || plain.split('.').any(|l| l.is_empty() || l.len() > 63) {
            return false;
        }
        if self.ignore_tlds {
            return true;
        }
        let mut lower = [0u8; 253];
        let lower = &mut lower[..plain.len()];
        lower.copy_from_slice(plain.as_bytes());
        lower.make_ascii_lowercase();
        has_public_suffix(lower)
    }

    /// Decides on the candidate `text[s..e]` found by `slot` (`end` bounds the search).
    pub(crate) fn judge(
        &self,
        slot: Slot,
        text: &str,
        s: usize,
        e: usize,
        end: usize,
    ) -> Judgement {
        let b = text.as_bytes();
        let reject = |resume: usize| Judgement {
            resume,
            ..Judgement::default()
        };
        match slot {
            Slot::Custom(i) => {
                let spec = &self.customs[i];
                let r = match spec.group {
                    None => s..e,
                    Some(g) => {
                        let caps = spec
                            .regex
                            .captures_at(&text[..end], s)
                            .and_then(|c| c.get(g).map(|m| m.range()));
                        match caps {
                            Some(r) if r.start < r.end => r,
                            _ => return reject(e),
                        }
                    }
                };
                if r.start == r.end {
                    return reject(e);
                }
                Judgement {
                    accepted: Some((BUILTIN_COUNT + i, r)),
                    resume: e,
                    inner: Some(s..e),
                    ..Judgement::default()
                }
            }
            Slot::Builtin(kind) => match kind {
                Kind::Url => {
                    let e2 = trim_url_end(text, s, e);
                    let Some(colon) = text[s..e2].find(':').map(|c| s + c) else {
                        return reject(e);
                    };
                    let mut body = colon;
                    while body < e2 && matches!(b[body], b':' | b'/' | b'[' | b']') {
                        body += 1;
                    }
                    if body >= e2 {
                        return reject(e);
                    }
                    Judgement {
                        accepted: Some((T_URL, s..e2)),
                        resume: e2,
                        inner: Some(body..e2),
                        ..Judgement::default()
                    }
                }
                Kind::Email => {
                    let Some(at) = text[s..e].find(['@', '[', '(', '{']).map(|p| s + p) else {
                        return reject(e);
                    };
                    let at_end = if b[at] == b'@' {
                        at + 1
                    } else {
                        match text[at..e].find([']', ')', '}']) {
                            Some(p) => at + p + 1,
                            None => return reject(e),
                        }
                    };
                    let local = skip_escape_residue(b, s, at);
                    if local >= at || !right_boundary_ok(b, e) {
                        return reject(at_end);
                    }
                    Judgement {
                        accepted: Some((T_EMAIL, local..e)),
                        resume: e,
                        domain: Some(at_end..e),
                        ..Judgement::default()
                    }
                }
                Kind::Ipv4 => {
                    let before_ok = s == 0
                        || !(b[s - 1].is_ascii_digit()
                            || (b[s - 1] == b'.' && s >= 2 && b[s - 2].is_ascii_digit()));
                    let after_ok = e >= b.len()
                        || !(b[e].is_ascii_digit()
                            || (b[e] == b'.' && b.get(e + 1).is_some_and(u8::is_ascii_digit)));
                    if before_ok && after_ok && ipv4_octets_ok(&text[s..e]) {
                        Judgement {
                            accepted: Some((T_IPV4, s..e)),
                            resume: e,
                            ..Judgement::default()
                        }
                    } else {
                        reject(e)
                    }
                }
                Kind::Ipv6 => {
                    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
                    let before_ok = s == 0 || !(word(b[s - 1]) || matches!(b[s - 1], b':' | b'.'));
                    let after_ok = e >= b.len()
                        || !(word(b[e])
                            || b[e] == b':'
                            || (b[e] == b'.'
                                && b.get(e + 1).is_some_and(|c| c.is_ascii_alphanumeric())));
                    let cand = &text[s..e];
                    let has_digit = cand.bytes().any(|c| c.is_ascii_hexdigit());
                    if before_ok && after_ok && has_digit && cand.parse::<Ipv6Addr>().is_ok() {
                        let embedded = cand
                            .contains('.')
                            .then(|| cand.rfind(':').map(|c| s + c + 1..e))
                            .flatten();
                        Judgement {
                            accepted: Some((T_IPV6, s..e)),
                            resume: e,
                            embedded_ipv4: embedded,
                            ..Judgement::default()
                        }
                    } else {
                        reject(next_char(text, s))
                    }
                }
                Kind::Hash => {
                    if s > 0 && b[s - 1].is_ascii_hexdigit() {
                        return reject(e);
                    }
                    let ty = match e - s {
                        32 => T_MD5,
                        40 => T_SHA1,
                        64 => T_SHA256,
                        _ => return reject(e),
                    };
                    Judgement {
                        accepted: Some((ty, s..e)),
                        resume: e,
                        ..Judgement::default()
                    }
                }
                Kind::Dns => {
                    let start = skip_escape_residue(b, s, e);
                    if start != s && !dns_shape(self.defanged).is_match(&text[start..e]) {
                        return reject(e);
                    }
                    if right_boundary_ok(b, e) && self.domain_ok(&text[start..e]) {
                        Judgement {
                            accepted: Some((T_DNS, start..e)),
                            resume: e,
                            ..Judgement::default()
                        }
                    } else {
                        reject(e)
                    }
                }
                Kind::WindowsPath => Judgement {
                    accepted: Some((T_WINDOWS_PATH, s..e)),
                    resume: e,
                    inner: Some(s..e),
                    ..Judgement::default()
                },
                Kind::LinuxPath => Judgement {
                    accepted: Some((T_LINUX_PATH, s..e)),
                    resume: e,
                    inner: Some(s..e),
                    ..Judgement::default()
                },
            },
        }
    }
}

/// A domain or email domain must not run on into a longer word (`a.ps1` is not `a.ps`).
fn right_boundary_ok(b: &[u8], e: usize) -> bool {
    e >= b.len() || !(b[e].is_ascii_alphanumeric() || b[e] == b'-' || b[e] == b'_')
}

/// Whole-string dns shape, used after trimming escape residue off a candidate.
fn dns_shape(defanged: bool) -> &'static regex::Regex {
    static SHAPES: OnceLock<[regex::Regex; 2]> = OnceLock::new();
    let shapes = SHAPES.get_or_init(|| {
        [false, true].map(|d| {
            regex::Regex::new(&format!("^(?:{})$", patterns::dns(d)))
                .expect("built-in dns pattern compiles")
        })
    });
    &shapes[usize::from(defanged)]
}

fn next_char(text: &str, i: usize) -> usize {
    text[i..]
        .chars()
        .next()
        .map_or(text.len(), |c| i + c.len_utf8())
}

/// Skips what is left of `%XX` escapes at the start of `b[s..limit]`: in raw
/// `u=http%3A%2F%2Fevil.com` the domain candidate starts `2Fevil.com`.
fn skip_escape_residue(b: &[u8], mut s: usize, limit: usize) -> usize {
    let hex = |i: usize| i < limit && b[i].is_ascii_hexdigit();
    if s >= 1 && b[s - 1] == b'%' && hex(s) && hex(s + 1) {
        s += 2;
    }
    while s + 2 < limit && b[s] == b'%' && hex(s + 1) && hex(s + 2) {
        s += 3;
    }
    s
}

/// Drops trailing sentence punctuation and unbalanced closing brackets from a URL.
fn trim_url_end(text: &str, s: usize, mut e: usize) -> usize {
    let b = text.as_bytes();
    while e > s {
        let last = b[e - 1];
        let drop = match last {
            b'.' | b',' | b';' | b':' | b'!' | b'?' => true,
            b')' | b']' => {
                let open = if last == b')' { b'(' } else { b'[' };
                let span = &b[s..e];
                let opens = span.iter().filter(|&&c| c == open).count();
                let closes = span.iter().filter(|&&c| c == last).count();
                closes > opens
            }
            _ => false,
        };
        if !drop {
            break;
        }
        e -= 1;
    }
    e
}

fn ipv4_octets_ok(candidate: &str) -> bool {
    let plain = refang(candidate, T_IPV4);
    let mut n = 0;
    for part in plain.split('.') {
        n += 1;
        match part.parse::<u16>() {
            Ok(v) if v <= 255 && !part.is_empty() => {}
            _ => return false,
        }
    }
    n == 4
}

/// Whether the (plain, lower-case) domain ends in a suffix of the compiled-in public
/// suffix list (ICANN or private section).
fn has_public_suffix(domain: &[u8]) -> bool {
    psl::suffix(domain).is_some_and(|s| s.is_known())
}

fn has_percent_escape(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// `%XX` decoding; invalid UTF-8 in the result becomes U+FFFD (as Python's `unquote`).
pub(crate) fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hi = (b[i + 1] as char).to_digit(16).unwrap_or(0) as u8;
            let lo = (b[i + 2] as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Defanged spellings and their plain forms (matched case-insensitively).
const DEFANG_TOKENS: [(&str, &str); 12] = [
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("[@]", "@"),
    ("(@)", "@"),
    ("[at]", "@"),
    ("(at)", "@"),
    ("{at}", "@"),
    ("[://]", "://"),
    ("[:]", ":"),
];

/// The plain form of a defanged observable of type `ty`.
pub(crate) fn refang(observable: &str, ty: usize) -> String {
    let mut out = String::with_capacity(observable.len());
    let mut rest = observable;
    if ty == T_URL {
        let lower = rest.get(..6).unwrap_or(rest).to_ascii_lowercase();
        for (from, to) in [
            ("h[xx]p", "http"),
            ("hxxp", "http"),
            ("sfxp", "sftp"),
            ("fxp", "ftp"),
        ] {
            if lower.starts_with(from) {
                out.push_str(to);
                rest = &rest[from.len()..];
                break;
            }
        }
    }
    'outer: while !rest.is_empty() {
        if rest.starts_with(['[', '(', '{']) {
            for (from, to) in DEFANG_TOKENS {
                if rest.len() >= from.len()
                    && rest.as_bytes()[..from.len()].eq_ignore_ascii_case(from.as_bytes())
                {
                    out.push_str(to);
                    rest = &rest[from.len()..];
                    continue 'outer;
                }
            }
            if ty == T_URL && rest.starts_with("[//]") {
                out.push_str("//");
                rest = &rest[4..];
                continue;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refang_plain_forms() {
        assert_eq!(refang("evil[.]com", T_DNS), "evil.com");
        assert_eq!(refang("evil(DOT)co[.]uk", T_DNS), "evil.co.uk");
        assert_eq!(refang("user[AT]evil[.]com", T_EMAIL), "user@evil.com");
        assert_eq!(
            refang("hXXps[://]evil[.]com/a", T_URL),
            "https://evil.com/a"
        );
        assert_eq!(refang("h[xx]p[:]//x[.]org", T_URL), "http://x.org");
        assert_eq!(refang("fXp://x.org", T_URL), "ftp://x.org");
        assert_eq!(refang("1[.]2[.]3[.]4", T_IPV4), "1.2.3.4");
        assert_eq!(refang("é[.]x", T_DNS), "é.x");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%3a%zz%4"), "a/b:%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        assert!(has_percent_escape("x%2F"));
        assert!(!has_percent_escape("100% sure %2"));
    }

    #[test]
    fn escape_residue_is_skipped() {
        let t = b"u=http%3A%2F%2Fevil.com";
        let s = t.iter().position(|&c| c == b'2').unwrap() + 3; // the second "2F"
        assert_eq!(&t[skip_escape_residue(t, s, t.len())..], b"evil.com");
        let t = b"%2F%2Fuser@x.com";
        assert_eq!(&t[skip_escape_residue(t, 0, 10)..], b"user@x.com");
    }

    #[test]
    fn url_trailing_punctuation() {
        let t = "(see http://x.com/a_(b)).";
        let s = t.find("http").unwrap();
        assert_eq!(&t[s..trim_url_end(t, s, t.len())], "http://x.com/a_(b)");
    }

    #[test]
    fn public_suffixes() {
        assert!(has_public_suffix(b"example.co.uk"));
        assert!(has_public_suffix(b"evil.com"));
        assert!(has_public_suffix(b"foo.zip"));
        assert!(!has_public_suffix(b"evil.local"));
        assert!(!has_public_suffix(b"host.corp"));
    }

    #[test]
    fn octets() {
        assert!(ipv4_octets_ok("10.0.0.255"));
        assert!(ipv4_octets_ok("1[.]2[.]3[.]4"));
        assert!(!ipv4_octets_ok("999.1.2.3"));
        assert!(!ipv4_octets_ok("1.2.3.256"));
    }
}
