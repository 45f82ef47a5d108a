//! Local indicator feeds: the offline threat-intel provider.
//!
//! A [`Feed`] is a file or a folder; its format is recognised from its name and
//! content ([`FeedFormat`]):
//!
//! - CSV indicator lists with a header naming the indicator column (`Indicator`,
//!   `Observable`, `IoC` or `Value`) and optionally `Type`, `Description` and
//!   `Severity` columns;
//! - STIX 2.1 bundles (JSON): `indicator` objects whose STIX patterns compare
//!   observables for equality, e.g. `[ipv4-addr:value = '1.2.3.4']`,
//!   `[file:hashes.'SHA-256' = '...']`, `[domain-name:value = ...]`, `[url:value = ...]`;
//! - MISP: a feed folder (`manifest.json` and one `<uuid>.json` event file per
//!   event), single event files, MISP CSV exports and the feed's `hashes.csv`
//!   (MD5 digests of attribute values).
//!
//! Every indicator is normalised (IP addresses in canonical form, domains and hashes
//! in lower case, URLs cleaned as lookups clean them) and indexed in a hash map, so a
//! lookup costs one hash probe whatever the size of the feeds. [`FeedProvider`]
//! answers with the most severe listing of an observable and every source that lists
//! it.

mod csv_list;
mod misp;
mod stix;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use huntbook_transform::ioc::{self, IocType};
use md5::{Digest, Md5};
use serde_json::{json, Value};

use crate::ti::{Answer, BoxFuture, Observable, Severity, Status, TiProvider};

/// What can go wrong reading a feed. Each names the file and, where it can, the
/// line or object.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot read feed {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("feed {} is not valid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("feed {}: {problem}", path.display())]
    Format { path: PathBuf, problem: String },
    #[error("feed {} line {line}: {problem}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        problem: String,
    },
}

/// The formats a feed may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Csv,
    Stix,
    MispFolder,
    MispEvent,
    MispCsv,
    MispHashes,
}

/// One feed file or folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub path: PathBuf,
    /// Recognised from the file when `None`.
    pub format: Option<FeedFormat>,
    /// The severity of every listing in this feed, instead of the feed's own.
    pub severity: Option<Severity>,
}

impl Feed {
    pub fn path(path: impl Into<PathBuf>) -> Feed {
        Feed {
            path: path.into(),
            format: None,
            severity: None,
        }
    }
}

/// One listing of an observable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listing {
    pub severity: Severity,
    pub description: String,
    /// Where it is listed: a file and line, a STIX id, a MISP event.
    pub source: String,
    pub raw: Value,
}

/// The index the readers fill: normalised observable → listings.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: HashMap<String, Vec<Listing>>,
    /// From MISP `hashes.csv`: MD5 of an attribute value → event uuid.
    value_digests: HashMap<String, Listing>,
    /// Indicators not indexed, with where and why (kept for the status report).
    skipped: Vec<String>,
}

impl Index {
    /// Index `value` of type `ioc_type` (worked out when `None`); values that are not
    /// indicators are noted and skipped.
    pub fn add(&mut self, value: &str, ioc_type: Option<IocType>, listing: Listing) {
        let ioc_type = match ioc_type.or_else(|| ioc::ioc_type(value)) {
            Some(t) => t,
            None => {
                self.skipped
                    .push(format!("{}: `{value}` is not an indicator", listing.source));
                return;
            }
        };
        match normalise(value, &ioc_type) {
            Some(key) => self.entries.entry(key).or_default().push(listing),
            None => self.skipped.push(format!(
                "{}: `{value}` is not a valid {ioc_type}",
                listing.source
            )),
        }
    }

    pub fn add_value_digest(&mut self, md5_hex: &str, listing: Listing) {
        self.value_digests
            .insert(md5_hex.to_ascii_lowercase(), listing);
    }

    fn find(&self, item: &Observable) -> Vec<&Listing> {
        let mut found: Vec<&Listing> = normalise(&item.safe_ioc, &item.ioc_type)
            .and_then(|key| self.entries.get(&key))
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        if !self.value_digests.is_empty() {
            let digest = Md5::digest(item.safe_ioc.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            found.extend(self.value_digests.get(&hex));
        }
        found
    }
}

/// The index key of an indicator: its kind and normal form, so that an IP written
/// two ways, or a domain in two cases, is one key.
fn normalise(value: &str, ioc_type: &IocType) -> Option<String> {
    let value = ioc::refang(value.trim(), ioc_type);
    let (kind, text) = match ioc_type {
        IocType::Ipv4 | IocType::Ipv6 => {
            ("ip", value.parse::<std::net::IpAddr>().ok()?.to_string())
        }
        IocType::Dns => ("dns", value.trim_end_matches('.').to_ascii_lowercase()),
        IocType::Url => ("url", reqwest::Url::parse(&value).ok()?.to_string()),
        IocType::Md5Hash | IocType::Sha1Hash | IocType::Sha256Hash => {
            if ioc::file_hash_type(&value).as_ref() != Some(ioc_type) {
                return None;
            }
            ("hash", value.to_ascii_lowercase())
        }
        IocType::Email => ("email", value.to_ascii_lowercase()),
        other => (other.name(), value),
    };
    Some(format!("{kind}:{text}"))
}

/// The IoC type of `value` under a type name feeds use: MSTICPy's and huntbook's
/// names and aliases, MISP attribute types and STIX observable types.
pub(crate) fn type_from_feed_name(name: &str, value: &str) -> Option<IocType> {
    let lower = name.trim().to_ascii_lowercase();
    Some(match lower.as_str() {
        "ip" | "ip-src" | "ip-dst" | "ipv4-addr" | "ipv6-addr" | "ip-src|port" | "ip-dst|port" => {
            match value.trim().parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V6(_)) => IocType::Ipv6,
                _ => IocType::Ipv4,
            }
        }
        "domain" | "domain-name" | "hostname" => IocType::Dns,
        "url" | "uri" | "link" => IocType::Url,
        "email" | "email-src" | "email-dst" | "email-addr" => IocType::Email,
        "md5" => IocType::Md5Hash,
        "sha1" | "sha-1" => IocType::Sha1Hash,
        "sha256" | "sha-256" => IocType::Sha256Hash,
        _ => return IocType::from_name(&lower),
    })
}

/// The offline provider over a set of feeds.
pub struct FeedProvider {
    name: String,
    index: Index,
    sources: Vec<(PathBuf, FeedFormat)>,
}

impl FeedProvider {
    /// Read and index `feeds`.
    pub fn load(name: &str, feeds: &[Feed]) -> Result<FeedProvider, FeedError> {
        let mut index = Index::default();
        let mut sources = Vec::new();
        for feed in feeds {
            for (path, format) in expand(feed)? {
                match format {
                    FeedFormat::Csv => csv_list::read(&path, feed.severity, &mut index)?,
                    FeedFormat::Stix => stix::read(&path, feed.severity, &mut index)?,
                    FeedFormat::MispFolder => misp::read_folder(&path, feed.severity, &mut index)?,
                    FeedFormat::MispEvent => {
                        misp::read_event_file(&path, feed.severity, &mut index)?
                    }
                    FeedFormat::MispCsv => misp::read_csv(&path, feed.severity, &mut index)?,
                    FeedFormat::MispHashes => misp::read_hashes(&path, feed.severity, &mut index)?,
                }
                sources.push((path, format));
            }
        }
        Ok(FeedProvider {
            name: name.to_string(),
            index,
            sources,
        })
    }

    /// The files read, with their formats.
    pub fn sources(&self) -> &[(PathBuf, FeedFormat)] {
        &self.sources
    }

    /// How many distinct observables are indexed.
    pub fn len(&self) -> usize {
        self.index.entries.len() + self.index.value_digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries that were not indicators, with where they were.
    pub fn skipped(&self) -> &[String] {
        &self.index.skipped
    }

    /// The answer for one observable.
    pub fn answer(&self, item: &Observable) -> Answer {
        let found = self.index.find(item);
        let Some(severity) = found.iter().map(|l| l.severity).max() else {
            return Answer {
                result: false,
                severity: Severity::Information,
                details: json!("Not found."),
                raw: Value::Null,
                reference: String::new(),
                status: Status::Ok,
            };
        };
        Answer {
            result: true,
            severity,
            details: json!({
                "listed_by": found.iter().map(|l| l.source.as_str()).collect::<Vec<_>>(),
                "descriptions": found.iter().map(|l| l.description.as_str()).filter(|d| !d.is_empty()).collect::<Vec<_>>(),
            }),
            raw: Value::Array(found.iter().map(|l| l.raw.clone()).collect()),
            reference: found[0].source.clone(),
            status: Status::Ok,
        }
    }
}

/// A feed as the files to read: a MISP feed folder is one source, another folder is
/// each file in it that is a feed.
fn expand(feed: &Feed) -> Result<Vec<(PathBuf, FeedFormat)>, FeedError> {
    let path = &feed.path;
    if let Some(format) = feed.format {
        return Ok(vec![(path.clone(), format)]);
    }
    let metadata = std::fs::metadata(path).map_err(|source| FeedError::Read {
        path: path.clone(),
        source,
    })?;
    if !metadata.is_dir() {
        return Ok(vec![(path.clone(), detect(path)?)]);
    }
    if path.join("manifest.json").is_file() {
        return Ok(vec![(path.clone(), FeedFormat::MispFolder)]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|source| FeedError::Read {
            path: path.clone(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && matches!(extension(p).as_str(), "csv" | "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| detect(&p).map(|f| (p, f)))
        .collect()
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn detect(path: &Path) -> Result<FeedFormat, FeedError> {
    match extension(path).as_str() {
        "csv" if path.file_name().is_some_and(|n| n == "hashes.csv") => Ok(FeedFormat::MispHashes),
        "csv" => {
            let text = read(path)?;
            let header = text.lines().next().unwrap_or("").to_ascii_lowercase();
            let columns: Vec<&str> = header.split(',').map(|c| c.trim().trim_matches('"')).collect();
            let misp = ["event_id", "category", "type", "value"].iter().all(|c| columns.contains(c));
            Ok(if misp { FeedFormat::MispCsv } else { FeedFormat::Csv })
        }
        "json" => {
            let json = read_json(path)?;
            if json.get("type").and_then(Value::as_str) == Some("bundle") {
                Ok(FeedFormat::Stix)
            } else if json.get("Event").is_some() {
                Ok(FeedFormat::MispEvent)
            } else {
                Err(FeedError::Format {
                    path: path.to_path_buf(),
                    problem: "neither a STIX 2.1 bundle (\"type\": \"bundle\") nor a MISP event (\"Event\")".into(),
                })
            }
        }
        other => Err(FeedError::Format {
            path: path.to_path_buf(),
            problem: format!("unknown feed file type `.{other}`; feeds are .csv or .json files, or MISP feed folders"),
        }),
    }
}

pub(crate) fn read(path: &Path) -> Result<String, FeedError> {
    std::fs::read_to_string(path).map_err(|source| FeedError::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn read_json(path: &Path) -> Result<Value, FeedError> {
    serde_json::from_str(&read(path)?).map_err(|source| FeedError::Json {
        path: path.to_path_buf(),
        source,
    })
}

impl TiProvider for FeedProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn query_keys(&self) -> Vec<String> {
        ["ipv4", "ipv6", "dns", "url", "email", "file_hash"]
            .map(String::from)
            .to_vec()
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    fn lookup<'a>(&'a self, items: &'a [Observable]) -> BoxFuture<'a, Vec<Answer>> {
        Box::pin(async move { items.iter().map(|item| self.answer(item)).collect() })
    }
}

/// A listing's source: the file name and where in it.
pub(crate) fn source(path: &Path, place: impl std::fmt::Display) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!("{name} {place}")
}
