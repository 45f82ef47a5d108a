//! Indicator-of-compromise (IoC) extraction with MSTICPy's type names, priorities and
//! output columns.
//!
//! # How data moves
//!
//! [`IocExtractor::new`] resolves the requested types ([`ExtractOptions`]) and compiles
//! one leftmost-first multi-pattern regex for all of them (plus a second one of the
//! "leaf" kinds used inside URLs, paths and custom matches). Each text is searched once
//! with it; every hit names its pattern, is checked (boundaries, IPv4 octets, IPv6
//! syntax, hash length, public suffix) and collected per text, de-duplicated on the
//! exact observable string with MSTICPy's priorities (lower number wins: ipv4, ipv6,
//! url 0; email and hashes 1; dns 2; windows_path 3; linux_path 4; custom types their
//! own). Text containing `%XX` escapes is decoded and searched again. Rows are
//! processed in parallel with rayon; [`extract_iocs`] reads Arrow string columns and
//! returns `IoCType, Observable, SourceIndex, Input`.
//!
//! Results are ordered by row, then by the order of the requested columns, then by type
//! in MSTICPy's registration order (ipv4, ipv6, dns, url, email, windows_path,
//! linux_path, md5_hash, sha1_hash, sha256_hash, custom types in the order added), then
//! by first appearance in the text. MSTICPy keeps each type's observables in a Python
//! set, so its order within a type is not stable between runs; ours is.
//!
//! # Where results deliberately differ from MSTICPy 3.0
//!
//! Compared on a sample of log, command-line and phishing lines:
//!
//! * `key=value` text: the email local part stops at `=` (and at `/ ? &`, quotes and
//!   braces), so `from=user@example.com` yields `user@example.com`, not
//!   `from=user@example.com`. The domain is still reported as dns.
//! * Domains everywhere pass the public-suffix check: a URL's host is reported as dns
//!   only when its suffix is real (MSTICPy adds hosts such as `localhost` unchecked, and
//!   an empty host for `file:///`). Emails themselves are kept whatever their domain,
//!   as in MSTICPy. The list is the `psl` crate's, compiled in; MSTICPy's `tldextract`
//!   may fetch a newer one.
//! * A dns candidate must not run on into a word: `a.ps1` gives nothing (MSTICPy: `a.ps`).
//!   Labels may contain `--` (punycode `xn--…`), which MSTICPy's pattern rejects.
//! * IPv4 needs octets ≤ 255 and no adjacent digits: `999.1.2.3`, and the `1.2.3.4`
//!   inside `1.2.3.4.5` or `234.5.6.7` inside `1234.5.6.7`, are not reported.
//! * IPv6 candidates must parse as addresses: times (`12:30:45`), MAC addresses and a
//!   bare `::` are not reported; addresses with an embedded IPv4 (`::ffff:1.2.3.4`)
//!   are, together with the embedded ipv4.
//! * Hashes separated by a single character are all found (MSTICPy's pattern consumes
//!   the separator and misses every second one).
//! * More defanged spellings: `(.)`, `{.}`, `[dot]`, `(dot)`, `[@]`, `(at)`, `[://]`,
//!   `h[xx]p`, besides MSTICPy's `[.]`, `[at]`, `hXXp`, `fXp`. [`ExtractOptions::refang`]
//!   reports plain forms; MSTICPy only refangs when `defanged=False`, where nothing
//!   defanged is matched in the first place.
//! * A URL stops at quotes, backslash, `^`, backtick, `|` and braces, and loses trailing
//!   sentence punctuation and unbalanced closing brackets (`'http://x/a.ps1');` →
//!   `http://x/a.ps1`).
//! * Percent-decoding applies to the whole text (two levels), and the decoded text is
//!   scanned for every type: `u=http%3A%2F%2Fevil.com` yields `evil.com` (MSTICPy:
//!   `2Fevil.com`) and the nested URL. MSTICPy only re-matches the decoded URL itself.
//! * Types not requested are never reported (MSTICPy adds URL hosts as dns even when
//!   only `url` was asked for).
//! * Inside an email only the domain is examined (MSTICPy also reports a local part
//!   such as `first.name` as a dns name); paths are not reported inside URLs (MSTICPy
//!   reports `//host/path` as linux_path); linux paths contain no white space.
//! * Null cells are skipped (MSTICPy raises on them). `SourceIndex` is the row
//!   position, not a pandas index label.
//! * Custom regexes use Rust `regex` syntax, case-insensitive and multi-line as in
//!   MSTICPy but not verbose; they cannot reuse a built-in type's name.

mod scan;
mod table;
mod types;

pub(crate) mod patterns;

use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

pub use table::{extract_iocs, find_iocs, RESULT_COLUMNS, SOURCE_COLUMN};
pub use types::{CustomIocType, ExtractOptions, IocError, IocType, BUILTIN_TYPES};

use patterns::Kind;
use scan::{CustomSpec, Engine, Scanner, Slot};
use types::*;

/// One indicator found in one input text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IocMatch<'a> {
    pub ioc_type: IocType,
    pub observable: String,
    /// Position of the text in the input slice (the table row).
    pub source_index: usize,
    pub input: &'a str,
}

/// A compiled extractor: build once, use on any number of texts from any thread.
pub struct IocExtractor {
    scanner: Scanner,
    /// Type index → type (built-ins, then custom types).
    types: Vec<IocType>,
}

impl IocExtractor {
    pub fn new(opts: &ExtractOptions) -> Result<IocExtractor, IocError> {
        let mut types: Vec<IocType> = BUILTIN_TYPES.to_vec();
        let mut customs = Vec::with_capacity(opts.custom_types.len());
        for c in &opts.custom_types {
            let name = c.name.trim();
            if IocType::from_name(name).is_some() {
                return Err(IocError::ReservedName {
                    name: name.to_string(),
                });
            }
            if types.iter().any(|t| t.name() == name) {
                return Err(IocError::DuplicateName {
                    name: name.to_string(),
                });
            }
            let regex = regex::RegexBuilder::new(&c.regex)
                .case_insensitive(true)
                .multi_line(true)
                .build()
                .map_err(|e| IocError::InvalidRegex {
                    name: name.to_string(),
                    message: e.to_string(),
                })?;
            let group = match &c.group {
                None => None,
                Some(g) => Some(
                    regex
                        .capture_names()
                        .position(|n| n == Some(g.as_str()))
                        .ok_or_else(|| IocError::UnknownGroup {
                            name: name.to_string(),
                            group: g.clone(),
                        })?,
                ),
            };
            let anchored = regex::RegexBuilder::new(&format!(r"\A(?:{})\z", c.regex))
                .case_insensitive(true)
                .multi_line(true)
                .build()
                .map_err(|e| IocError::InvalidRegex {
                    name: name.to_string(),
                    message: e.to_string(),
                })?;
            customs.push(CustomSpec {
                priority: c.priority,
                regex,
                anchored,
                group,
            });
            types.push(IocType::Custom(Arc::from(name)));
        }

        let selected = select_types(opts, &types)?;
        let any = |idx: &[usize]| idx.iter().any(|&i| selected[i]);
        let kind_selected = |k: Kind| match k {
            Kind::Url => any(&[T_URL]),
            Kind::Email => any(&[T_EMAIL]),
            Kind::Ipv4 => any(&[T_IPV4]),
            Kind::Ipv6 => any(&[T_IPV6]),
            Kind::Hash => any(&[T_MD5, T_SHA1, T_SHA256]),
            Kind::Dns => any(&[T_DNS]),
            Kind::WindowsPath => any(&[T_WINDOWS_PATH]),
            Kind::LinuxPath => any(&[T_LINUX_PATH]),
        };

        let mut full = Vec::new();
        for (i, c) in opts.custom_types.iter().enumerate() {
            if selected[BUILTIN_COUNT + i] {
                full.push((format!("(?im:{})", c.regex), Slot::Custom(i)));
            }
        }
        let mut leaf = Vec::new();
        for k in Kind::SCAN_ORDER {
            if kind_selected(k) {
                let pat = k.pattern(opts.defanged);
                if k.is_leaf() {
                    leaf.push((pat.clone(), Slot::Builtin(k)));
                }
                full.push((pat, Slot::Builtin(k)));
            }
        }
        let same = leaf.len() == full.len();
        let full = Engine::build(full)?;
        let leaf = if same { None } else { Engine::build(leaf)? };
        Ok(IocExtractor {
            scanner: Scanner {
                full,
                leaf,
                leaf_is_full: same,
                customs,
                selected,
                ignore_tlds: opts.ignore_tlds,
                defanged: opts.defanged,
                refang: opts.refang,
            },
            types,
        })
    }

    /// The indicators in one text, ordered by type then first appearance.
    pub fn extract(&self, text: &str) -> Vec<(IocType, String)> {
        self.scanner
            .scan_text(text)
            .into_iter()
            .map(|(ty, obs)| (self.types[ty].clone(), obs))
            .collect()
    }

    pub(crate) fn extract_indexed(&self, text: &str) -> Vec<(usize, String)> {
        self.scanner.scan_text(text)
    }

    pub(crate) fn type_of(&self, index: usize) -> &IocType {
        &self.types[index]
    }

    /// The indicators in many texts, in parallel; `None` entries (nulls) are skipped.
    /// `source_index` is the position in `texts`.
    pub fn extract_many<'a>(&self, texts: &[Option<&'a str>]) -> Vec<IocMatch<'a>> {
        let chunks: Vec<Vec<IocMatch<'a>>> = texts
            .par_chunks(512)
            .enumerate()
            .map(|(ci, chunk)| {
                let mut out = Vec::new();
                for (j, text) in chunk.iter().enumerate() {
                    let Some(text) = *text else { continue };
                    for (ty, observable) in self.scanner.scan_text(text) {
                        out.push(IocMatch {
                            ioc_type: self.types[ty].clone(),
                            observable,
                            source_index: ci * 512 + j,
                            input: text,
                        });
                    }
                }
                out
            })
            .collect();
        chunks.into_iter().flatten().collect()
    }

    /// Whether the whole of `text` is an indicator of type `ioc_type` (for dns, with a
    /// real public suffix unless the extractor ignores TLDs). Defanged spellings count
    /// when the extractor matches them (the default). For hashes the length must fit.
    pub fn validate(&self, text: &str, ioc_type: &IocType) -> bool {
        let Some(ty) = self.types.iter().position(|t| t == ioc_type) else {
            return false;
        };
        if ty >= BUILTIN_COUNT {
            let spec = &self.scanner.customs[ty - BUILTIN_COUNT];
            return spec.anchored.is_match(text);
        }
        let kind = match BUILTIN_TYPES[ty] {
            IocType::Ipv4 => Kind::Ipv4,
            IocType::Ipv6 => Kind::Ipv6,
            IocType::Dns => Kind::Dns,
            IocType::Url => Kind::Url,
            IocType::Email => Kind::Email,
            IocType::WindowsPath => Kind::WindowsPath,
            IocType::LinuxPath => Kind::LinuxPath,
            _ => Kind::Hash,
        };
        if !anchored(kind, self.scanner.defanged).is_match(text) {
            return false;
        }
        let j = self
            .scanner
            .judge(Slot::Builtin(kind), text, 0, text.len(), text.len());
        j.accepted == Some((ty, 0..text.len()))
    }

    /// The type of a single observable (MSTICPy's `get_ioc_type`): the type, of
    /// lowest priority number, for which the whole trimmed text validates. Paths
    /// count, linux_path last.
    pub fn ioc_type(&self, text: &str) -> Option<IocType> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut best: Option<(u32, usize)> = None;
        for (ty, t) in self.types.iter().enumerate() {
            let prio = self.scanner.priority(ty);
            if best.is_some_and(|(p, _)| p <= prio) {
                continue;
            }
            if self.validate(text, t) {
                best = Some((prio, ty));
            }
        }
        best.map(|(_, ty)| self.types[ty].clone())
    }
}

fn select_types(opts: &ExtractOptions, types: &[IocType]) -> Result<Vec<bool>, IocError> {
    let mut selected = vec![false; types.len()];
    match opts.ioc_types.as_deref() {
        Some(names) if !names.is_empty() => {
            for name in names {
                // MSTICPy's umbrella name for the three hash types.
                if matches!(
                    name.trim().to_ascii_lowercase().as_str(),
                    "file_hash" | "hash"
                ) {
                    for t in [T_MD5, T_SHA1, T_SHA256] {
                        selected[t] = true;
                    }
                    continue;
                }
                let idx = IocType::from_name(name)
                    .and_then(|t| t.builtin_index())
                    .or_else(|| types.iter().position(|t| t.name() == name.trim()));
                match idx {
                    Some(i) => selected[i] = true,
                    None => {
                        return Err(IocError::UnknownType {
                            name: name.clone(),
                            known: types
                                .iter()
                                .map(IocType::name)
                                .collect::<Vec<_>>()
                                .join(", "),
                        })
                    }
                }
            }
        }
        _ => {
            selected.iter_mut().for_each(|s| *s = true);
            selected[T_LINUX_PATH] = false;
            selected[T_WINDOWS_PATH] = opts.include_paths;
        }
    }
    Ok(selected)
}

fn anchored(kind: Kind, defanged: bool) -> &'static regex::Regex {
    static ANCHORED: OnceLock<Vec<regex::Regex>> = OnceLock::new();
    let all = ANCHORED.get_or_init(|| {
        [false, true]
            .iter()
            .flat_map(|&d| Kind::SCAN_ORDER.map(move |k| (k, d)))
            .map(|(k, d)| {
                regex::Regex::new(&format!("^(?:{})$", k.pattern(d)))
                    .expect("built-in pattern compiles")
            })
            .collect()
    });
    let k = Kind::SCAN_ORDER
        .iter()
        .position(|&x| x == kind)
        .expect("kind listed");
    &all[usize::from(defanged) * Kind::SCAN_ORDER.len() + k]
}

/// An extractor with every built-in type (paths included) and default options, for
/// the single-observable helpers.
fn default_extractor() -> &'static IocExtractor {
    static EXTRACTOR: OnceLock<IocExtractor> = OnceLock::new();
    EXTRACTOR.get_or_init(|| {
        let opts = ExtractOptions {
            ioc_types: Some(BUILTIN_TYPES.iter().map(|t| t.name().to_string()).collect()),
            ..ExtractOptions::default()
        };
        IocExtractor::new(&opts).expect("built-in patterns compile")
    })
}

/// The type of a single observable, e.g. `hxxps://evil-site[.]com/a` → url.
pub fn ioc_type(text: &str) -> Option<IocType> {
    default_extractor().ioc_type(text)
}

/// Whether the whole of `text` is a valid `ioc_type` (full match, and a real public
/// suffix for dns), defanged spellings accepted.
pub fn validate(text: &str, ioc_type: &IocType) -> bool {
    default_extractor().validate(text, ioc_type)
}

/// The plain form of a defanged observable of `ioc_type`, e.g. `hxxps[://]evil[.]com`
/// → `https://evil.com`; text that is not defanged comes back unchanged.
pub fn refang(text: &str, ioc_type: &IocType) -> String {
    match ioc_type.builtin_index() {
        Some(index) => scan::refang(text, index),
        None => text.to_string(),
    }
}

/// md5/sha1/sha256 from the length of a hex string (32/40/64), else `None`.
pub fn file_hash_type(text: &str) -> Option<IocType> {
    let t = text.trim();
    if !t.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    match t.len() {
        32 => Some(IocType::Md5Hash),
        40 => Some(IocType::Sha1Hash),
        64 => Some(IocType::Sha256Hash),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
