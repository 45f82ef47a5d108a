//! Writes MaxMind DB (`.mmdb`) files, following the published "MaxMind DB File
//! Format Specification" version 2.0.
//!
//! A file has three parts: a binary search tree over the bits of an address (each
//! node two records, left for a 0 bit and right for a 1 bit, each record pointing to
//! another node, to "no data", or into the data section), sixteen zero bytes, the data
//! section (typed values: maps, strings, numbers...), and the metadata map after the
//! marker `\xAB\xCD\xEFMaxMind.com`.
//!
//! [`MmdbWriter`] builds such a file from networks and JSON records: a database of
//! one's own networks (office sites, VPN pools), or a test database. Records equal to
//! each other are stored once. IPv4 networks go into the IPv4 subtree of an IPv6
//! tree (`::a.b.c.d`), where readers look for them.
//!
//! ```
//! use huntbook_context::geoip::MmdbWriter;
//! use serde_json::json;
//!
//! let mut db = MmdbWriter::new("Sites-City");
//! db.insert("10.20.0.0/16", json!({"city": {"names": {"en": "Leeds"}}})).unwrap();
//! let bytes = db.to_bytes().unwrap();
//! let reader = maxminddb::Reader::from_source(bytes).unwrap();
//! assert_eq!(reader.metadata().database_type, "Sites-City");
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use ipnetwork::IpNetwork;
use serde_json::Value;

/// The marker that starts the metadata section.
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

/// Builds a MaxMind DB in memory; see the module documentation.
#[derive(Debug, Clone)]
pub struct MmdbWriter {
    database_type: String,
    description: String,
    networks: Vec<(IpNetwork, Value)>,
}

/// Why a database could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("'{text}' is not a network in CIDR notation (such as 10.0.0.0/8 or 2001:db8::/32)")]
    BadNetwork { text: String },
    #[error("network {network}: a /0 network would cover every address; split it in two halves")]
    WholeSpace { network: String },
    #[error("network {network}: {problem}")]
    BadRecord { network: String, problem: String },
    #[error("the database is too large for 32-bit records ({nodes} nodes)")]
    TooLarge { nodes: usize },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MmdbWriter {
    /// An empty database whose metadata names its type (`GeoLite2-City`,
    /// `GeoLite2-ASN`...), which tells readers what its records hold.
    pub fn new(database_type: impl Into<String>) -> MmdbWriter {
        MmdbWriter {
            database_type: database_type.into(),
            description: String::new(),
            networks: Vec::new(),
        }
    }

    /// The English description in the metadata.
    pub fn description(mut self, text: impl Into<String>) -> MmdbWriter {
        self.description = text.into();
        self
    }

    /// Adds a network and its record. A network inserted later wins over the parts of
    /// earlier ones it overlaps.
    pub fn insert(&mut self, network: &str, record: Value) -> Result<(), WriteError> {
        let parsed: IpNetwork = network.trim().parse().map_err(|_| WriteError::BadNetwork {
            text: network.to_string(),
        })?;
        if parsed.prefix() == 0 {
            return Err(WriteError::WholeSpace {
                network: network.to_string(),
            });
        }
        check_record(&record).map_err(|problem| WriteError::BadRecord {
            network: network.to_string(),
            problem,
        })?;
        self.networks.push((parsed, record));
        Ok(())
    }

    /// The database file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        self.build(24)
    }

    /// The bytes with records of at least `smallest_record` bits: the smallest of 24,
    /// 28 and 32 that holds every pointer.
    fn build(&self, smallest_record: u32) -> Result<Vec<u8>, WriteError> {
        let mut data = DataSection::default();
        let mut tree = Trie::default();
        for (network, record) in &self.networks {
            let at = data.add(record);
            let (bits, prefix) = tree_position(network);
            tree.insert(bits, prefix, at);
        }
        let nodes = tree.numbered();
        let node_count = nodes.len();
        let record_size = [24u32, 28, 32]
            .into_iter()
            .filter(|&size| size >= smallest_record)
            .find(|size| {
                let largest = node_count as u64 + 16 + data.bytes.len() as u64;
                largest < 1u64 << size
            })
            .ok_or(WriteError::TooLarge { nodes: node_count })?;

        let mut out = Vec::new();
        for [left, right] in &nodes {
            let left = left.value(node_count, &data.offsets);
            let right = right.value(node_count, &data.offsets);
            write_node(&mut out, record_size, left, right);
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&data.bytes);
        out.extend_from_slice(METADATA_MARKER);
        encode(&mut out, &self.metadata(node_count, record_size));
        Ok(out)
    }

    /// Writes the database to `path` through a temporary file in the same folder.
    pub fn write(&self, path: &Path) -> Result<(), WriteError> {
        let bytes = self.to_bytes()?;
        super::write_atomic(path, &bytes).map_err(|source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    fn metadata(&self, node_count: usize, record_size: u32) -> Meta {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Meta::Map(vec![
            ("binary_format_major_version".into(), Meta::U16(2)),
            ("binary_format_minor_version".into(), Meta::U16(0)),
            ("build_epoch".into(), Meta::U64(epoch)),
            (
                "database_type".into(),
                Meta::Str(self.database_type.clone()),
            ),
            (
                "description".into(),
                Meta::Map(vec![("en".into(), Meta::Str(self.description.clone()))]),
            ),
            ("ip_version".into(), Meta::U16(6)),
            (
                "languages".into(),
                Meta::Array(vec![Meta::Str("en".into())]),
            ),
            ("node_count".into(), Meta::U32(node_count as u32)),
            ("record_size".into(), Meta::U16(record_size as u16)),
        ])
    }
}

/// Where a network sits in an IPv6 tree: its bits from the top, and its prefix length.
fn tree_position(network: &IpNetwork) -> (u128, u8) {
    match network.network() {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), network.prefix() + 96),
        IpAddr::V6(v6) => (u128::from(v6), network.prefix()),
    }
}

/// Records hold maps, lists, text, numbers and booleans; the format has no null.
fn check_record(value: &Value) -> Result<(), String> {
    match value {
        Value::Null => Err("null values cannot be stored; leave the key out".to_string()),
        Value::Array(items) => items.iter().try_for_each(check_record),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| check_record(v).map_err(|e| format!("{k}: {e}"))),
        _ => Ok(()),
    }
}

/// One record of a tree node.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Child {
    Empty,
    Node(usize),
    /// The index of a record in the data section.
    Data(usize),
}

impl Child {
    /// The number stored in the file: a node number, the node count for "no data", or
    /// node count + 16 + the record's offset in the data section.
    fn value(self, node_count: usize, offsets: &[usize]) -> u64 {
        match self {
            Child::Empty => node_count as u64,
            Child::Node(n) => n as u64,
            Child::Data(d) => (node_count + 16 + offsets[d]) as u64,
        }
    }
}

/// A binary trie over 128-bit addresses. Node 0 is the root.
#[derive(Debug)]
struct Trie {
    nodes: Vec<[Child; 2]>,
}

impl Default for Trie {
    fn default() -> Trie {
        Trie {
            nodes: vec![[Child::Empty; 2]],
        }
    }
}

impl Trie {
    fn insert(&mut self, bits: u128, prefix: u8, data: usize) {
        let mut node = 0;
        for depth in 0..prefix {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == prefix {
                // Anything below is replaced; unreachable nodes are dropped when the
                // tree is numbered.
                self.nodes[node][bit] = Child::Data(data);
                return;
            }
            node = match self.nodes[node][bit] {
                Child::Node(next) => next,
                // A shorter network covered this one: push its record down both sides.
                covering => {
                    self.nodes.push([covering; 2]);
                    let next = self.nodes.len() - 1;
                    self.nodes[node][bit] = Child::Node(next);
                    next
                }
            };
        }
    }

    /// The reachable nodes, renumbered in breadth-first order from the root.
    fn numbered(&self) -> Vec<[Child; 2]> {
        let mut order = vec![0];
        let mut number = HashMap::from([(0usize, 0usize)]);
        let mut i = 0;
        while i < order.len() {
            for child in self.nodes[order[i]] {
                if let Child::Node(n) = child {
                    number.insert(n, order.len());
                    order.push(n);
                }
            }
            i += 1;
        }
        order
            .iter()
            .map(|&old| {
                self.nodes[old].map(|child| match child {
                    Child::Node(n) => Child::Node(number[&n]),
                    other => other,
                })
            })
            .collect()
    }
}

fn write_node(out: &mut Vec<u8>, record_size: u32, left: u64, right: u64) {
    match record_size {
        24 => {
            out.extend_from_slice(&left.to_be_bytes()[5..]);
            out.extend_from_slice(&right.to_be_bytes()[5..]);
        }
        28 => {
            // The middle byte holds the top four bits of each record.
            out.extend_from_slice(&left.to_be_bytes()[5..]);
            out.push((((left >> 24) & 0x0f) << 4) as u8 | ((right >> 24) & 0x0f) as u8);
            out.extend_from_slice(&right.to_be_bytes()[5..]);
        }
        _ => {
            out.extend_from_slice(&(left as u32).to_be_bytes());
            out.extend_from_slice(&(right as u32).to_be_bytes());
        }
    }
}

/// The data section, with each distinct record stored once.
#[derive(Default)]
struct DataSection {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
    seen: HashMap<Vec<u8>, usize>,
}

impl DataSection {
    /// Adds a record, returning its index.
    fn add(&mut self, record: &Value) -> usize {
        let mut encoded = Vec::new();
        encode(&mut encoded, &Meta::from(record));
        let offset = match self.seen.get(&encoded) {
            Some(&offset) => offset,
            None => {
                let offset = self.bytes.len();
                self.bytes.extend_from_slice(&encoded);
                self.seen.insert(encoded, offset);
                offset
            }
        };
        self.offsets.push(offset);
        self.offsets.len() - 1
    }
}

/// A value of the data section's type system.
#[derive(Debug, Clone)]
enum Meta {
    Str(String),
    Double(f64),
    U16(u16),
    U32(u32),
    I32(i32),
    U64(u64),
    Map(Vec<(String, Meta)>),
    Array(Vec<Meta>),
    Bool(bool),
}

impl From<&Value> for Meta {
    /// Whole numbers become unsigned 32-bit (64 when larger) or signed 32-bit
    /// integers, the types MaxMind's own databases use for ids and counts.
    fn from(value: &Value) -> Meta {
        match value {
            Value::Bool(b) => Meta::Bool(*b),
            Value::String(s) => Meta::Str(s.clone()),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => match u32::try_from(u) {
                    Ok(small) => Meta::U32(small),
                    Err(_) => Meta::U64(u),
                },
                (None, Some(i)) => match i32::try_from(i) {
                    Ok(small) => Meta::I32(small),
                    Err(_) => Meta::Double(i as f64),
                },
                _ => Meta::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::Array(items) => Meta::Array(items.iter().map(Meta::from).collect()),
            Value::Object(map) => Meta::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Meta::from(v)))
                    .collect(),
            ),
            // Refused by `check_record` before encoding.
            Value::Null => Meta::Map(Vec::new()),
        }
    }
}

/// Type numbers of the data section.
const STRING: u8 = 2;
const DOUBLE: u8 = 3;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const INT32: u8 = 8;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;
const BOOLEAN: u8 = 14;

fn encode(out: &mut Vec<u8>, value: &Meta) {
    match value {
        Meta::Str(s) => {
            control(out, STRING, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Meta::Double(d) => {
            control(out, DOUBLE, 8);
            out.extend_from_slice(&d.to_be_bytes());
        }
        Meta::U16(n) => unsigned(out, UINT16, u64::from(*n)),
        Meta::U32(n) => unsigned(out, UINT32, u64::from(*n)),
        Meta::U64(n) => unsigned(out, UINT64, *n),
        Meta::I32(n) => {
            // Negative numbers need all four bytes of two's complement.
            control(out, INT32, 4);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Meta::Map(entries) => {
            control(out, MAP, entries.len());
            for (key, value) in entries {
                encode(out, &Meta::Str(key.clone()));
                encode(out, value);
            }
        }
        Meta::Array(items) => {
            control(out, ARRAY, items.len());
            for item in items {
                encode(out, item);
            }
        }
        Meta::Bool(b) => control(out, BOOLEAN, usize::from(*b)),
    }
}

/// An unsigned integer in as few big-endian bytes as it needs.
fn unsigned(out: &mut Vec<u8>, kind: u8, n: u64) {
    let bytes = n.to_be_bytes();
    let skip = (n.leading_zeros() / 8) as usize;
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

/// The control byte (type in the top three bits, size in the low five), the extended
/// type byte for types above 7, and the size's extra bytes.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let type_bits = if kind <= 7 { kind << 5 } else { 0 };
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, Vec::new()),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    out.push(type_bits | size_bits);
    if kind > 7 {
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reader(db: &MmdbWriter) -> maxminddb::Reader<Vec<u8>> {
        maxminddb::Reader::from_source(db.to_bytes().unwrap()).unwrap()
    }

    fn lookup(reader: &maxminddb::Reader<Vec<u8>>, ip: &str) -> Option<Value> {
        reader
            .lookup(ip.parse().unwrap())
            .unwrap()
            .decode::<Value>()
            .unwrap()
    }

    #[test]
    fn records_come_back_from_the_reference_reader() {
        let mut db = MmdbWriter::new("Test-City").description("for tests");
        let record = json!({
            "city": {"names": {"en": "Boxford", "de": "Boxford"}},
            "location": {"latitude": 51.75, "longitude": -1.25, "accuracy_radius": 100},
            "is_anycast": true,
            "offset": -3,
            "big": 5_000_000_000u64,
            "subdivisions": [{"iso_code": "ENG"}, {"iso_code": "WBK"}],
            "long_text": "x".repeat(300),
        });
        db.insert("2.125.160.216/29", record.clone()).unwrap();
        db.insert("2001:db8::/32", json!({"country": {"iso_code": "ZZ"}}))
            .unwrap();
        let reader = reader(&db);
        assert_eq!(reader.metadata().database_type, "Test-City");
        assert_eq!(reader.metadata().ip_version, 6);
        assert_eq!(lookup(&reader, "2.125.160.217"), Some(record));
        assert_eq!(lookup(&reader, "2.125.160.224"), None);
        assert_eq!(
            lookup(&reader, "2001:db8::5"),
            Some(json!({"country": {"iso_code": "ZZ"}}))
        );
        let found = reader.lookup("2.125.160.219".parse().unwrap()).unwrap();
        assert_eq!(found.network().unwrap().to_string(), "2.125.160.216/29");
    }

    #[test]
    fn a_later_network_wins_inside_an_earlier_one() {
        let mut db = MmdbWriter::new("Test");
        db.insert("10.0.0.0/8", json!({"n": "wide"})).unwrap();
        db.insert("10.1.0.0/16", json!({"n": "narrow"})).unwrap();
        let reader = reader(&db);
        assert_eq!(lookup(&reader, "10.1.2.3"), Some(json!({"n": "narrow"})));
        assert_eq!(lookup(&reader, "10.2.0.1"), Some(json!({"n": "wide"})));
        assert_eq!(lookup(&reader, "10.0.0.1"), Some(json!({"n": "wide"})));
        assert_eq!(lookup(&reader, "11.0.0.1"), None);
    }

    #[test]
    fn equal_records_are_stored_once() {
        let mut one = MmdbWriter::new("Test");
        one.insert("10.0.0.0/24", json!({"name": "site"})).unwrap();
        let mut many = MmdbWriter::new("Test");
        for i in 0..50 {
            many.insert(&format!("10.0.{i}.0/24"), json!({"name": "site"}))
                .unwrap();
        }
        let data_len = |db: &MmdbWriter| {
            let mut data = DataSection::default();
            db.networks.iter().for_each(|(_, r)| {
                data.add(r);
            });
            data.bytes.len()
        };
        assert_eq!(data_len(&one), data_len(&many));
        assert_eq!(
            lookup(&reader(&many), "10.0.49.7"),
            Some(json!({"name": "site"}))
        );
    }

    #[test]
    fn every_record_size_reads_back() {
        // Only trees of millions of nodes need 28 or 32 bits; force each size.
        let mut db = MmdbWriter::new("Test");
        db.insert("10.0.0.0/8", json!({"n": 1})).unwrap();
        db.insert("2001:db8::/32", json!({"n": 2})).unwrap();
        for size in [24, 28, 32] {
            let bytes = db.build(size).unwrap();
            let reader = maxminddb::Reader::from_source(bytes).unwrap();
            assert_eq!(u32::from(reader.metadata().record_size), size);
            assert_eq!(lookup(&reader, "10.9.9.9"), Some(json!({"n": 1})), "{size}");
            assert_eq!(
                lookup(&reader, "2001:db8::1"),
                Some(json!({"n": 2})),
                "{size}"
            );
            assert_eq!(lookup(&reader, "11.0.0.1"), None, "{size}");
        }
        let mut out = Vec::new();
        write_node(&mut out, 28, 0x0abc_def1, 0x0123_4567);
        assert_eq!(out, [0xbc, 0xde, 0xf1, 0xa1, 0x23, 0x45, 0x67]);
    }

    #[test]
    fn bad_input_is_named() {
        let mut db = MmdbWriter::new("Test");
        let err = db.insert("10.0.0/33", json!({})).unwrap_err();
        assert!(err.to_string().contains("'10.0.0/33' is not a network"));
        let err = db.insert("0.0.0.0/0", json!({})).unwrap_err();
        assert!(matches!(err, WriteError::WholeSpace { .. }));
        let err = db
            .insert("10.0.0.0/8", json!({"city": {"name": null}}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "network 10.0.0.0/8: city: name: null values cannot be stored; leave the key out"
        );
    }
}
