//! The tree builder on plain columns: parent matching, inferred parents, keys, tree
//! properties and paths. No Arrow here; `table.rs` feeds it and turns its result into
//! MSTICPy's columns.
//!
//! Cost is O(n log n): events are sorted once by time, parents are found with one hash
//! look-up of (host, pid, name) and a binary search over that key's start times, and paths
//! come from one breadth-first walk.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use super::columns::TextSource;

/// Name MSTICPy gives a parent it cannot see (and an empty parent name).
pub const UNKNOWN: &str = "unknown";

/// The columns the builder reads, indexed by input row.
pub struct ProcInput<'a> {
    /// Start time of each input row, UTC nanoseconds since the epoch.
    pub time_ns: &'a [i64],
    pub host: Option<&'a dyn TextSource>,
    pub name: &'a dyn TextSource,
    pub pid: &'a dyn TextSource,
    pub ppid: &'a dyn TextSource,
    /// Parent process name, when the schema has one (then it is part of the match).
    pub parent_name: Option<&'a dyn TextSource>,
    pub logon: Option<&'a dyn TextSource>,
    pub target_logon: Option<&'a dyn TextSource>,
    pub event_id: Option<&'a dyn TextSource>,
}

/// How a real event found its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// The latest earlier (or simultaneous) event on the same host with the parent's pid
    /// (and name); the value is that event's position in time order.
    Event(u32),
    /// No such event: the parent is the inferred row with this index.
    Inferred(u32),
    /// The event has no parent pid at all; it is a root with no inferred parent.
    None,
}

/// A real event, in time order.
pub struct EventInfo<'a> {
    pub input_row: u32,
    pub time_ns: i64,
    pub new_process_lc: String,
    /// Parent name as shown (empty or missing becomes `unknown`), when the schema has one.
    pub parent_name: Option<&'a str>,
    pub parent_proc_lc: Option<String>,
    pub effective_logon: Option<&'a str>,
    pub link: Link,
}

/// A parent that is not in the data, made up from its first child (MSTICPy's
/// "inferred parent" rows, time stamped at the epoch).
pub struct InferredInfo<'a> {
    /// Position (time order) of the child that first needed it.
    pub child: u32,
    pub host: Option<&'a str>,
    pub pid: &'a str,
    /// The parent's name: the child's parent name, or `unknown` without one.
    pub name: &'a str,
    pub new_process_lc: String,
    /// The child's own (subject) logon id, as MSTICPy copies it.
    pub logon: Option<&'a str>,
    pub event_id: Option<&'a str>,
}

/// One node of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// Position of a real event in time order (index into [`BuiltTree::events`]).
    Event(u32),
    /// Index into [`BuiltTree::inferred`].
    Inferred(u32),
}

/// A row of the built tree, in output order.
#[derive(Clone, Debug)]
pub struct TreeRow {
    pub node: Node,
    /// Row number before duplicate keys were dropped: time order, inferred rows last.
    pub source_index: u32,
    pub proc_key: String,
    pub parent_key: Option<String>,
    /// Output row of the parent, when it has one.
    pub parent: Option<u32>,
    /// Whether the row was reached walking down from a root (unreached rows are the
    /// members of parent cycles, possible only between simultaneous events).
    pub reached: bool,
    pub path: String,
    /// Levels below the root (a root is 0).
    pub depth: u32,
    pub is_root: bool,
    pub is_leaf: bool,
    pub is_branch: bool,
}

/// Everything the builder works out.
pub struct BuiltTree<'a> {
    pub events: Vec<EventInfo<'a>>,
    pub inferred: Vec<InferredInfo<'a>>,
    /// The tree rows sorted by path (then time, as MSTICPy), duplicates of a key dropped.
    pub rows: Vec<TreeRow>,
}

/// A small multiplicative hasher: the keys are short strings and ids, and SipHash would
/// be a large part of the run time on a million events.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits (which pick the bucket) weakly mixed; fold
        // the high bits down (murmur3's finaliser).
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

impl FastHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// MSTICPy's key time: rounded to 10 µs (half to even, as pandas rounds) and written
/// `%Y-%m-%d %H:%M:%S.%f`.
pub fn key_time(ns: i64) -> String {
    const STEP: i64 = 10_000;
    let (mut q, r) = (ns.div_euclid(STEP), ns.rem_euclid(STEP));
    if r > STEP / 2 || (r == STEP / 2 && q % 2 != 0) {
        q += 1;
    }
    let rounded = q * STEP;
    let secs = rounded.div_euclid(1_000_000_000);
    let micros = rounded.rem_euclid(1_000_000_000) / 1_000;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        return match chrono::DateTime::from_timestamp(secs, 0) {
            Some(dt) => format!("{}.{:06}", dt.format("%Y-%m-%d %H:%M:%S"), micros),
            None => format!("{rounded}"),
        };
    }
    // Written digit by digit: this runs once or twice per event and a formatter
    // costs more than the rest of the key.
    let sod = secs.rem_euclid(86_400);
    let mut b = *b"0000-00-00 00:00:00.000000";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, sod / 3600);
    put(14, 2, sod / 60 % 60);
    put(17, 2, sod % 60);
    put(20, 6, micros);
    String::from_utf8(b.to_vec()).expect("ascii digits")
}

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `name_lc|pid|time`, MSTICPy's process key.
pub fn process_key(name_lc: &str, pid: &str, time_ns: i64) -> String {
    let mut key = String::with_capacity(name_lc.len() + pid.len() + 28);
    key.push_str(name_lc);
    key.push('|');
    key.push_str(pid);
    key.push('|');
    key.push_str(&key_time(time_ns));
    key
}

/// Build the tree from the input rows listed in `rows` (already de-duplicated and
/// filtered on the event id).
pub fn build<'a>(input: &ProcInput<'a>, rows: &[u32]) -> BuiltTree<'a> {
    // Time order; ties keep input order so the result does not depend on the sort.
    let mut order: Vec<u32> = rows.to_vec();
    order.par_sort_unstable_by_key(|&r| (input.time_ns[r as usize], r));
    let n = order.len();

    let host_of = |row: u32| input.host.and_then(|h| h.get(row as usize));
    let mut host_ids: FastMap<&'a str, u32> = FastMap::default();
    let hosts: Vec<u32> = order
        .iter()
        .map(|&r| match host_of(r) {
            None => 0,
            Some(h) => {
                let next = host_ids.len() as u32 + 1;
                *host_ids.entry(h).or_insert(next)
            }
        })
        .collect();

    let mut events: Vec<EventInfo<'a>> = order
        .par_iter()
        .map(|&r| {
            let row = r as usize;
            let parent_name = input.parent_name.map(|p| match p.get(row) {
                None | Some("") => UNKNOWN,
                Some(v) => v,
            });
            let logon = input.logon.and_then(|l| l.get(row));
            let effective_logon = match input.target_logon.and_then(|t| t.get(row)) {
                Some(t) if t != "0x0" => Some(t),
                _ => logon,
            };
            EventInfo {
                input_row: r,
                time_ns: input.time_ns[row],
                new_process_lc: input.name.get(row).unwrap_or_default().to_lowercase(),
                parent_name,
                parent_proc_lc: parent_name.map(str::to_lowercase),
                effective_logon,
                link: Link::None,
            }
        })
        .collect();

    // Candidate parents by (host, pid, name); positions pushed in time order.
    let match_name = input.parent_name.is_some();
    let mut candidates: FastMap<(u32, &'a str, &str), Vec<u32>> = FastMap::default();
    for (pos, ev) in events.iter().enumerate() {
        if let Some(pid) = input.pid.get(ev.input_row as usize) {
            let name = if match_name {
                ev.new_process_lc.as_str()
            } else {
                ""
            };
            candidates
                .entry((hosts[pos], pid, name))
                .or_default()
                .push(pos as u32);
        }
    }
    let found: Vec<Option<Option<u32>>> = events
        .par_iter()
        .enumerate()
        .map(|(pos, ev)| {
            let ppid = input.ppid.get(ev.input_row as usize)?;
            let name = if match_name {
                ev.parent_proc_lc.as_deref().unwrap_or(UNKNOWN)
            } else {
                ""
            };
            let Some(list) = candidates.get(&(hosts[pos], ppid, name)) else {
                return Some(None);
            };
            let k = list.partition_point(|&p| events[p as usize].time_ns <= ev.time_ns);
            Some(k.checked_sub(1).map(|k| list[k]))
        })
        .collect();
    drop(candidates);

    // Inferred parents for the unmatched, one per distinct parent description.
    let mut inferred: Vec<InferredInfo<'a>> = Vec::new();
    let mut inferred_ids: FastMap<(u32, &'a str, Option<&'a str>, &'a str, Option<&'a str>), u32> =
        FastMap::default();
    for (pos, f) in found.iter().enumerate() {
        let ev = &events[pos];
        let link = match f {
            None => Link::None,
            Some(Some(parent)) => Link::Event(*parent),
            Some(None) => {
                let row = ev.input_row as usize;
                let ppid = input.ppid.get(row).expect("matched rows have a parent pid");
                let name = ev.parent_name.unwrap_or(UNKNOWN);
                let logon = input.logon.and_then(|l| l.get(row));
                let event_id = input.event_id.and_then(|e| e.get(row));
                let next = inferred.len() as u32;
                let id = *inferred_ids
                    .entry((hosts[pos], ppid, logon, name, event_id))
                    .or_insert_with(|| {
                        inferred.push(InferredInfo {
                            child: pos as u32,
                            host: host_of(ev.input_row),
                            pid: ppid,
                            name,
                            new_process_lc: ev
                                .parent_proc_lc
                                .clone()
                                .unwrap_or_else(|| UNKNOWN.to_string()),
                            logon,
                            event_id,
                        });
                        next
                    });
                Link::Inferred(id)
            }
        };
        events[pos].link = link;
    }
    drop(found);
    drop(inferred_ids);

    // Keys for every node: real events first (time order), then inferred parents.
    let total = n + inferred.len();
    let node_of = |i: usize| {
        if i < n {
            Node::Event(i as u32)
        } else {
            Node::Inferred((i - n) as u32)
        }
    };
    let keys: Vec<String> = (0..total)
        .into_par_iter()
        .map(|i| match node_of(i) {
            Node::Event(p) => {
                let ev = &events[p as usize];
                let pid = input.pid.get(ev.input_row as usize).unwrap_or_default();
                process_key(&ev.new_process_lc, pid, ev.time_ns)
            }
            Node::Inferred(k) => {
                let inf = &inferred[k as usize];
                process_key(&inf.new_process_lc, inf.pid, 0)
            }
        })
        .collect();
    let host_of_node = |i: usize| match node_of(i) {
        Node::Event(p) => hosts[p as usize],
        Node::Inferred(k) => hosts[inferred[k as usize].child as usize],
    };
    let parent_node = |i: usize| -> Option<usize> {
        match node_of(i) {
            Node::Event(p) => match events[p as usize].link {
                Link::Event(q) => Some(q as usize),
                Link::Inferred(k) => Some(n + k as usize),
                Link::None => None,
            },
            Node::Inferred(_) => None,
        }
    };

    // One row per (host, key): later rows with the same key fold into the first.
    let mut first: FastMap<(u32, &str), u32> = FastMap::default();
    let canon: Vec<u32> = (0..total)
        .map(|i| {
            *first
                .entry((host_of_node(i), keys[i].as_str()))
                .or_insert(i as u32)
        })
        .collect();
    drop(first);
    let parent: Vec<Option<u32>> = (0..total)
        .map(|i| parent_node(i).map(|p| canon[p]))
        .collect();
    let mut has_child = vec![false; total];
    for p in parent.iter().flatten() {
        has_child[*p as usize] = true;
    }

    // Children lists (kept rows only), then paths walking down from the roots.
    let kept: Vec<bool> = (0..total).map(|i| canon[i] as usize == i).collect();
    let mut child_start = vec![0u32; total + 1];
    for i in 0..total {
        if let (true, Some(p)) = (kept[i], parent[i]) {
            child_start[p as usize + 1] += 1;
        }
    }
    for i in 0..total {
        child_start[i + 1] += child_start[i];
    }
    let mut fill = child_start.clone();
    let mut child_list = vec![0u32; child_start[total] as usize];
    for i in 0..total {
        if let (true, Some(p)) = (kept[i], parent[i]) {
            child_list[fill[p as usize] as usize] = i as u32;
            fill[p as usize] += 1;
        }
    }
    drop(fill);
    let source_index = |i: usize| format!("{i:05}");
    let mut path: Vec<String> = (0..total)
        .map(|i| {
            if kept[i] {
                source_index(i)
            } else {
                String::new()
            }
        })
        .collect();
    let mut depth = vec![0u32; total];
    let mut reached = vec![false; total];
    let mut queue: Vec<u32> = (0..total)
        .filter(|&i| kept[i] && parent[i].is_none())
        .map(|i| i as u32)
        .collect();
    for &r in &queue {
        reached[r as usize] = true;
    }
    let mut head = 0;
    while head < queue.len() {
        let p = queue[head] as usize;
        head += 1;
        for &c in &child_list[child_start[p] as usize..child_start[p + 1] as usize] {
            let c = c as usize;
            if reached[c] {
                continue;
            }
            reached[c] = true;
            depth[c] = depth[p] + 1;
            let mut s = String::with_capacity(path[p].len() + 1 + path[c].len());
            s.push_str(&path[p]);
            s.push('/');
            s.push_str(&path[c]);
            path[c] = s;
            queue.push(c as u32);
        }
    }
    drop(queue);

    // Output order: by path (paths are unique, so time never decides).
    let mut out: Vec<u32> = (0..total).filter(|&i| kept[i]).map(|i| i as u32).collect();
    out.par_sort_unstable_by(|&a, &b| path[a as usize].cmp(&path[b as usize]));
    let mut out_pos = vec![u32::MAX; total];
    for (k, &i) in out.iter().enumerate() {
        out_pos[i as usize] = k as u32;
    }
    let mut keys = keys;
    let rows: Vec<TreeRow> = out
        .iter()
        .map(|&i| {
            let i = i as usize;
            let is_root = parent[i].is_none();
            TreeRow {
                node: node_of(i),
                source_index: i as u32,
                proc_key: std::mem::take(&mut keys[i]),
                parent_key: None,
                parent: parent[i].map(|p| out_pos[p as usize]),
                reached: reached[i],
                path: std::mem::take(&mut path[i]),
                depth: depth[i],
                is_root,
                is_leaf: !has_child[i],
                is_branch: !is_root && has_child[i],
            }
        })
        .collect();
    let mut rows = rows;
    let parent_keys: Vec<Option<String>> = rows
        .iter()
        .map(|r| r.parent.map(|p| rows[p as usize].proc_key.clone()))
        .collect();
    for (row, key) in rows.iter_mut().zip(parent_keys) {
        row.parent_key = key;
    }
    BuiltTree {
        events,
        inferred,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_time_rounds_to_ten_microseconds_half_even() {
        let t = 1_704_103_201_000_000_000; // 2024-01-01 10:00:01
        assert_eq!(key_time(t + 123_456_789), "2024-01-01 10:00:01.123460");
        assert_eq!(key_time(t + 5_000), "2024-01-01 10:00:01.000000"); // 0.5 step, even below
        assert_eq!(key_time(t + 15_000), "2024-01-01 10:00:01.000020"); // 1.5 steps, even above
        assert_eq!(key_time(t + 5_001), "2024-01-01 10:00:01.000010");
        assert_eq!(key_time(0), "1970-01-01 00:00:00.000000");
        assert_eq!(key_time(-1), "1970-01-01 00:00:00.000000");
    }

    #[test]
    fn key_time_agrees_with_chrono_across_centuries() {
        let mut t: i64 = -2_208_988_800_000_000_000; // 1900-01-01
        while t < 4_102_444_800_000_000_000 {
            // 2100-01-01
            let micros = t.rem_euclid(1_000_000_000) / 1_000;
            let dt = chrono::DateTime::from_timestamp(t.div_euclid(1_000_000_000), 0).unwrap();
            assert_eq!(
                key_time(t),
                format!("{}.{:06}", dt.format("%Y-%m-%d %H:%M:%S"), micros)
            );
            t += 86_399_999_990_000 + 7 * 3_600_000_000_000 + 1_230_000;
        }
        assert_eq!(
            key_time(-4_611_686_018_427_387_904),
            "1823-11-12 00:06:21.572610"
        );
    }

    #[test]
    fn fast_hasher_separates_similar_keys() {
        use std::hash::BuildHasher;
        let b = BuildHasherDefault::<FastHasher>::default();
        let h = |k: (u32, &str, &str)| b.hash_one(k);
        assert_ne!(h((1, "0x10", "a")), h((1, "0x1", "0a")));
        assert_ne!(h((1, "4", "")), h((2, "4", "")));
    }
}
