//! The tree builder on plain columns: parent matching, inferred parents, keys, tree
//! properties and paths. `table.rs` feeds it and turns its result into MSTICPy's columns.
//!
//! Cost is O(n log n) with no heap allocation per event. Events are sorted once by time;
//! names are lower-cased once per distinct spelling and then handled as numbers; each
//! host's parents are found in one sweep through time that keeps the latest event per
//! (pid, name); keys and paths are written straight into shared text buffers; and the
//! output order comes from one depth-first walk over children sorted once. Hosts never
//! share parents or keys, so the sweep and the duplicate-key check run a host per task.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use super::columns::TextSource;
use super::text::TextBuf;

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
#[derive(Clone, Copy)]
pub struct EventInfo<'a> {
    pub input_row: u32,
    pub time_ns: i64,
    /// 0 for a null host (or no host column), else numbered from 1 in order of appearance.
    pub host: u32,
    /// Lower-cased process name, see [`BuiltTree::name_lc`].
    pub name_lc: u32,
    /// Parent name as shown (empty or missing becomes `unknown`), when the schema has one.
    pub parent_name: Option<&'a str>,
    /// Lower-cased parent name, when the schema has one.
    pub parent_lc: Option<u32>,
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
    /// Lower-cased name, see [`BuiltTree::name_lc`].
    pub name_lc: u32,
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

/// The rows of the built tree in output order (sorted by path, duplicates of a key
/// dropped), one entry per row in each field.
pub struct TreeRows {
    /// Node number: time order for real events, then inferred parents. It is MSTICPy's
    /// `source_index`, the row number before duplicate keys were dropped.
    pub source_index: Vec<u32>,
    /// Output row of the parent, when it has one.
    pub parent: Vec<Option<u32>>,
    /// Whether the row was reached walking down from a root (unreached rows are the
    /// members of parent cycles, possible only between simultaneous events).
    pub reached: Vec<bool>,
    /// Levels below the root (a root is 0).
    pub depth: Vec<u32>,
    pub is_root: Vec<bool>,
    pub is_leaf: Vec<bool>,
    pub is_branch: Vec<bool>,
    pub path: TextBuf,
}

/// Everything the builder works out.
pub struct BuiltTree<'a> {
    pub events: Vec<EventInfo<'a>>,
    pub inferred: Vec<InferredInfo<'a>>,
    /// The process key of every node, by source index (dropped duplicates included).
    pub keys: TextBuf,
    pub rows: TreeRows,
    names: Vec<String>,
}

impl BuiltTree<'_> {
    /// The node with this source index.
    pub fn node(&self, source_index: u32) -> Node {
        node_of(self.events.len(), source_index)
    }

    /// A lower-cased name by its number.
    pub fn name_lc(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

fn node_of(events: usize, source_index: u32) -> Node {
    match source_index.checked_sub(events as u32) {
        None => Node::Event(source_index),
        Some(k) => Node::Inferred(k),
    }
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
    let mut out = Vec::with_capacity(26);
    write_key_time(&mut out, ns);
    String::from_utf8(out).expect("digits and separators")
}

fn write_key_time(out: &mut Vec<u8>, ns: i64) {
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
        let text = match chrono::DateTime::from_timestamp(secs, 0) {
            Some(dt) => format!("{}.{:06}", dt.format("%Y-%m-%d %H:%M:%S"), micros),
            None => format!("{rounded}"),
        };
        out.extend_from_slice(text.as_bytes());
        return;
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
    out.extend_from_slice(&b);
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
    let mut key = Vec::with_capacity(name_lc.len() + pid.len() + 28);
    write_key(&mut key, name_lc, pid, time_ns);
    String::from_utf8(key).expect("built from text")
}

fn write_key(out: &mut Vec<u8>, name_lc: &str, pid: &str, time_ns: i64) {
    out.extend_from_slice(name_lc.as_bytes());
    out.push(b'|');
    out.extend_from_slice(pid.as_bytes());
    out.push(b'|');
    write_key_time(out, time_ns);
}

/// Build the tree from the input rows listed in `rows` (already de-duplicated and
/// filtered on the event id).
pub fn build<'a>(input: &ProcInput<'a>, rows: &[u32]) -> BuiltTree<'a> {
    let order = time_order(input.time_ns, rows);
    let mut names = Names::default();
    let (mut events, hosts) = read_events(input, &order, &mut names);
    drop(order);
    let by_host = Groups::new(
        hosts,
        events.iter().enumerate().map(|(p, e)| (e.host, p as u32)),
    );
    let found = find_parents(input, &events, &by_host);
    let inferred = link_parents(input, &mut events, &found, &mut names);
    drop(found);
    let names = names.lc;
    let keys = node_keys(input, &events, &inferred, &names);
    let first = first_of_each_key(&events, &inferred, &keys, &by_host);
    drop(by_host);
    let rows = walk(&events, &first);
    BuiltTree {
        events,
        inferred,
        keys,
        rows,
        names,
    }
}

/// Input rows by start time; ties keep input order so the result does not depend on
/// the sort.
fn time_order(time_ns: &[i64], rows: &[u32]) -> Vec<u32> {
    let mut keyed: Vec<(i64, u32)> = rows.iter().map(|&r| (time_ns[r as usize], r)).collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, r)| r).collect()
}

/// Lower-cased names, each stored once and known by its number. A spelling is
/// lower-cased the first time it is seen; spellings that lower-case alike share a number.
#[derive(Default)]
struct Names<'a> {
    by_spelling: FastMap<&'a str, u32>,
    by_lc: FastMap<String, u32>,
    lc: Vec<String>,
}

impl<'a> Names<'a> {
    fn id(&mut self, spelling: &'a str) -> u32 {
        if let Some(&id) = self.by_spelling.get(spelling) {
            return id;
        }
        let next = self.lc.len() as u32;
        let id = *self
            .by_lc
            .entry(spelling.to_lowercase())
            .or_insert_with_key(|lc| {
                self.lc.push(lc.clone());
                next
            });
        self.by_spelling.insert(spelling, id);
        id
    }
}

/// The events in time order, and the number of host numbers used.
fn read_events<'a>(
    input: &ProcInput<'a>,
    order: &[u32],
    names: &mut Names<'a>,
) -> (Vec<EventInfo<'a>>, usize) {
    let mut host_ids: FastMap<&'a str, u32> = FastMap::default();
    let events = order
        .iter()
        .map(|&r| {
            let row = r as usize;
            let host = match input.host.and_then(|h| h.get(row)) {
                None => 0,
                Some(h) => {
                    let next = host_ids.len() as u32 + 1;
                    *host_ids.entry(h).or_insert(next)
                }
            };
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
                host,
                name_lc: names.id(input.name.get(row).unwrap_or_default()),
                parent_name,
                parent_lc: parent_name.map(|p| names.id(p)),
                effective_logon,
                link: Link::None,
            }
        })
        .collect();
    (events, host_ids.len() + 1)
}

/// Items sorted into numbered groups, keeping their order within each group.
struct Groups {
    start: Vec<usize>,
    items: Vec<u32>,
}

impl Groups {
    /// Groups `0..groups` of the `(group, item)` pairs.
    fn new(groups: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> Groups {
        let mut start = vec![0usize; groups + 1];
        for (g, _) in pairs.clone() {
            start[g as usize + 1] += 1;
        }
        for g in 0..groups {
            start[g + 1] += start[g];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; start[groups]];
        for (g, item) in pairs {
            items[fill[g as usize]] = item;
            fill[g as usize] += 1;
        }
        Groups { start, items }
    }

    fn len(&self) -> usize {
        self.start.len() - 1
    }

    fn members(&self, group: usize) -> &[u32] {
        &self.items[self.start[group]..self.start[group + 1]]
    }
}

/// What the parent search found for one event.
#[derive(Clone, Copy)]
enum Found {
    /// The parent event's position.
    Parent(u32),
    Missing,
    NoParentPid,
}

/// The parent of every event (by position), searched host by host in parallel.
fn find_parents(input: &ProcInput<'_>, events: &[EventInfo<'_>], by_host: &Groups) -> Vec<Found> {
    let per_host: Vec<Vec<Found>> = (0..by_host.len())
        .into_par_iter()
        .map(|h| sweep(input, events, by_host.members(h)))
        .collect();
    let mut found = vec![Found::NoParentPid; events.len()];
    for (h, host_found) in per_host.into_iter().enumerate() {
        for (&p, f) in by_host.members(h).iter().zip(host_found) {
            found[p as usize] = f;
        }
    }
    found
}

/// Parents of one host's events (positions in time order): a sweep forward in time that
/// keeps the latest event for each (pid, name). Events starting at the same instant are
/// all added before any of them looks up its parent, as a parent may start with its child.
fn sweep<'a>(input: &ProcInput<'a>, events: &[EventInfo<'a>], positions: &[u32]) -> Vec<Found> {
    let match_name = input.parent_name.is_some();
    let mut latest: FastMap<(&'a str, Option<u32>), u32> = FastMap::default();
    let mut found = Vec::with_capacity(positions.len());
    let time = |p: &u32| events[*p as usize].time_ns;
    for same_time in positions.chunk_by(|a, b| time(a) == time(b)) {
        for &p in same_time {
            let ev = &events[p as usize];
            if let Some(pid) = input.pid.get(ev.input_row as usize) {
                latest.insert((pid, match_name.then_some(ev.name_lc)), p);
            }
        }
        found.extend(same_time.iter().map(|&p| {
            let ev = &events[p as usize];
            match input.ppid.get(ev.input_row as usize) {
                None => Found::NoParentPid,
                Some(ppid) => latest
                    .get(&(ppid, ev.parent_lc))
                    .map_or(Found::Missing, |&q| Found::Parent(q)),
            }
        }));
    }
    found
}

/// Set every event's link, making up one inferred parent per distinct parent description
/// (host, pid, logon, name, event id) among events whose parent is missing, numbered in
/// the time order of their first child as MSTICPy numbers them.
fn link_parents<'a>(
    input: &ProcInput<'a>,
    events: &mut [EventInfo<'a>],
    found: &[Found],
    names: &mut Names<'a>,
) -> Vec<InferredInfo<'a>> {
    type Description<'a> = (u32, &'a str, Option<&'a str>, &'a str, Option<&'a str>);
    let mut inferred: Vec<InferredInfo<'a>> = Vec::new();
    let mut ids: FastMap<Description<'a>, u32> = FastMap::default();
    for (pos, (ev, f)) in events.iter_mut().zip(found).enumerate() {
        ev.link = match *f {
            Found::NoParentPid => Link::None,
            Found::Parent(q) => Link::Event(q),
            Found::Missing => {
                let row = ev.input_row as usize;
                let pid = input
                    .ppid
                    .get(row)
                    .expect("events without a parent pid are roots");
                let name = ev.parent_name.unwrap_or(UNKNOWN);
                let logon = input.logon.and_then(|l| l.get(row));
                let event_id = input.event_id.and_then(|e| e.get(row));
                let next = inferred.len() as u32;
                let id = *ids
                    .entry((ev.host, pid, logon, name, event_id))
                    .or_insert(next);
                if id == next {
                    inferred.push(InferredInfo {
                        child: pos as u32,
                        host: input.host.and_then(|h| h.get(row)),
                        pid,
                        name,
                        name_lc: ev.parent_lc.unwrap_or_else(|| names.id(UNKNOWN)),
                        logon,
                        event_id,
                    });
                }
                Link::Inferred(id)
            }
        };
    }
    inferred
}

/// Keys of all nodes: real events first (time order), then inferred parents.
fn node_keys(
    input: &ProcInput<'_>,
    events: &[EventInfo<'_>],
    inferred: &[InferredInfo<'_>],
    names: &[String],
) -> TextBuf {
    let n = events.len();
    TextBuf::build(n + inferred.len(), |i, buf| {
        buf.push_with(|out| match node_of(n, i as u32) {
            Node::Event(p) => {
                let ev = &events[p as usize];
                let pid = input.pid.get(ev.input_row as usize).unwrap_or_default();
                write_key(out, &names[ev.name_lc as usize], pid, ev.time_ns);
            }
            Node::Inferred(k) => {
                let inf = &inferred[k as usize];
                write_key(out, &names[inf.name_lc as usize], inf.pid, 0);
            }
        })
    })
}

/// For every node, the first node (by source index) on its host with the same key:
/// there is one row per (host, key), and later nodes with the key fold into it.
fn first_of_each_key(
    events: &[EventInfo<'_>],
    inferred: &[InferredInfo<'_>],
    keys: &TextBuf,
    by_host: &Groups,
) -> Vec<u32> {
    let n = events.len();
    let inferred_by_host = Groups::new(
        by_host.len(),
        inferred
            .iter()
            .enumerate()
            .map(|(k, inf)| (events[inf.child as usize].host, (n + k) as u32)),
    );
    let folded: Vec<Vec<(u32, u32)>> = (0..by_host.len())
        .into_par_iter()
        .map(|h| {
            let mut first: FastMap<&[u8], u32> = FastMap::default();
            by_host
                .members(h)
                .iter()
                .chain(inferred_by_host.members(h))
                .filter_map(|&i| {
                    let f = *first.entry(keys.get(i as usize)).or_insert(i);
                    (f != i).then_some((i, f))
                })
                .collect()
        })
        .collect();
    let mut first: Vec<u32> = (0..keys.len() as u32).collect();
    for (i, f) in folded.into_iter().flatten() {
        first[i as usize] = f;
    }
    first
}

/// A sort key ordering source indexes as their text (`{:05}`) sorts: paths are compared
/// as text, so `100000` comes before `10001`. Each digit becomes 1..=10 in base 11, and
/// the missing digits of a shorter number 0, which sorts a prefix first.
fn text_order(index: u32) -> u64 {
    let mut digits = [0u8; 10];
    let (mut v, mut len) = (index, 0);
    while v > 0 || len < 5 {
        digits[len] = (v % 10) as u8;
        v /= 10;
        len += 1;
    }
    let mut key = 0u64;
    for k in 0..10 {
        let d = if k < len { digits[len - 1 - k] + 1 } else { 0 };
        key = key * 11 + u64::from(d);
    }
    key
}

/// Parents (folded onto the first node of each key), tree properties, output order and
/// paths. The output is sorted by path, which is a depth-first walk taking roots and
/// siblings in [`text_order`]; rows in parent cycles are never reached from a root and
/// sort by their own index, like roots.
fn walk(events: &[EventInfo<'_>], first: &[u32]) -> TreeRows {
    let n = events.len();
    let total = first.len();
    let parent: Vec<Option<u32>> = (0..total as u32)
        .map(|i| match node_of(n, i) {
            Node::Event(p) => match events[p as usize].link {
                Link::Event(q) => Some(first[q as usize]),
                Link::Inferred(k) => Some(first[n + k as usize]),
                Link::None => None,
            },
            Node::Inferred(_) => None,
        })
        .collect();
    // Dropped duplicates count as children too.
    let mut has_child = vec![false; total];
    for p in parent.iter().flatten() {
        has_child[*p as usize] = true;
    }

    let mut by_text: Vec<(u64, u32)> = (0..total as u32)
        .filter(|&i| first[i as usize] == i)
        .map(|i| (text_order(i), i))
        .collect();
    by_text.par_sort_unstable();
    let children = Groups::new(
        total,
        by_text
            .iter()
            .filter_map(|&(_, i)| parent[i as usize].map(|p| (p, i))),
    );
    let mut reached = vec![false; total];
    let mut stack: Vec<u32> = by_text
        .iter()
        .filter(|&&(_, i)| parent[i as usize].is_none())
        .map(|&(_, i)| i)
        .collect();
    while let Some(i) = stack.pop() {
        reached[i as usize] = true;
        stack.extend_from_slice(children.members(i as usize));
    }

    let kept = by_text.len();
    let mut order: Vec<u32> = Vec::with_capacity(kept);
    let mut depth: Vec<u32> = Vec::with_capacity(kept);
    let mut path = TextBuf::with_capacity(kept);
    let mut out_row = vec![u32::MAX; total];
    for &(_, top) in &by_text {
        if parent[top as usize].is_some() && reached[top as usize] {
            continue;
        }
        stack.push(top);
        while let Some(i) = stack.pop() {
            let i_us = i as usize;
            out_row[i_us] = order.len() as u32;
            order.push(i);
            match parent[i_us] {
                Some(p) if reached[i_us] => {
                    let parent_row = out_row[p as usize] as usize;
                    path.push_child_path(parent_row, i);
                    depth.push(depth[parent_row] + 1);
                }
                _ => {
                    path.push_index(i);
                    depth.push(0);
                }
            }
            if reached[i_us] {
                // Reversed, so that the stack hands them out in order.
                stack.extend(children.members(i_us).iter().rev());
            }
        }
    }
    TreeRows {
        parent: order
            .iter()
            .map(|&i| parent[i as usize].map(|p| out_row[p as usize]))
            .collect(),
        reached: order.iter().map(|&i| reached[i as usize]).collect(),
        is_root: order
            .iter()
            .map(|&i| parent[i as usize].is_none())
            .collect(),
        is_leaf: order.iter().map(|&i| !has_child[i as usize]).collect(),
        is_branch: order
            .iter()
            .map(|&i| parent[i as usize].is_some() && has_child[i as usize])
            .collect(),
        source_index: order,
        depth,
        path,
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
    fn text_order_sorts_like_the_index_text() {
        let mut values: Vec<u32> = (0..1_200).chain(9_990..10_010).collect();
        values.extend((99_990..100_020).chain(999_990..1_000_020));
        values.extend([u32::MAX, 4_000_000_000, 123_456_789]);
        let mut by_key = values.clone();
        by_key.sort_by_key(|&v| text_order(v));
        values.sort_by_key(|&v| format!("{v:05}"));
        assert_eq!(by_key, values);
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
