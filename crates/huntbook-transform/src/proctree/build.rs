//! The tree builder on plain columns: parent matching, inferred parents, keys, tree
//! properties and paths. `table.rs` feeds it and turns its result into MSTICPy's columns.
//!
//! Cost is O(n log n), from sorting the events by time once, with no heap allocation per
//! event. The texts the builder works with (hosts, names, pids, logon ids) are numbered
//! once, each table by its own task, and names lower-cased once per spelling; parents
//! are found in one sweep through time that keeps, per host, the latest event for each
//! pid and name; only events sharing a start time can share a key, so few keys are
//! compared; and the output order (sorted by path) is worked out level by level from
//! the roots, taking indexes in text order without sorting them. Memory is read in
//! sequence wherever possible: a scattered read costs far more than the work on it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU32;

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

/// A real event, in time order. Its texts are numbers in the tables of [`BuiltTree`].
#[derive(Clone, Copy)]
pub struct EventInfo {
    pub input_row: u32,
    pub time_ns: i64,
    pub host: Option<Id>,
    pub name: Option<Id>,
    /// Lower-cased name (of an empty name when it is null).
    pub name_lc: Id,
    pub pid: Option<Id>,
    pub ppid: Option<Id>,
    /// Parent name as shown (empty or missing becomes `unknown`), when the schema has one.
    pub parent_name: Option<Id>,
    /// Lower-cased parent name, when the schema has one.
    pub parent_lc: Option<Id>,
    pub logon: Option<Id>,
    pub target_logon: Option<Id>,
    /// The target logon id, or the (subject) logon id when that is missing or `0x0`.
    pub effective_logon: Option<Id>,
    pub event_id: Option<Id>,
    pub link: Link,
}

/// A parent that is not in the data, made up from its first child (MSTICPy's
/// "inferred parent" rows, time stamped at the epoch).
pub struct InferredInfo {
    pub host: Option<Id>,
    pub pid: Id,
    /// The parent's name: the child's parent name, or `unknown` without one.
    pub name: Id,
    pub name_lc: Id,
    /// The child's own (subject) logon id, as MSTICPy copies it.
    pub logon: Option<Id>,
    pub event_id: Option<Id>,
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
    pub events: Vec<EventInfo>,
    pub inferred: Vec<InferredInfo>,
    pub rows: TreeRows,
    pub hosts: Dict<'a>,
    /// Pids and parent pids.
    pub pids: Dict<'a>,
    /// Process and parent process names.
    pub names: Names<'a>,
    /// Logon ids and target logon ids.
    pub logons: Dict<'a>,
    pub event_ids: Dict<'a>,
}

impl BuiltTree<'_> {
    /// The node with this source index.
    pub fn node(&self, source_index: u32) -> Node {
        node_of(self.events.len(), source_index)
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

/// A time rounded as keys show it: to 10 µs, half to even (as pandas rounds).
fn key_rounded(ns: i64) -> i64 {
    const STEP: i64 = 10_000;
    let (mut q, r) = (ns.div_euclid(STEP), ns.rem_euclid(STEP));
    if r > STEP / 2 || (r == STEP / 2 && q % 2 != 0) {
        q += 1;
    }
    q * STEP
}

fn write_key_time(out: &mut Vec<u8>, ns: i64) {
    let rounded = key_rounded(ns);
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
    // Written two digits at a time from a table: this runs once or twice per event and
    // a formatter costs more than the rest of the key.
    let sod = secs.rem_euclid(86_400);
    let mut b = *b"0000-00-00 00:00:00.000000";
    let mut put = |at: usize, v: i64| {
        let pair = 2 * v as usize;
        b[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    };
    put(0, y / 100);
    put(2, y % 100);
    put(5, m);
    put(8, d);
    put(11, sod / 3600);
    put(14, sod / 60 % 60);
    put(17, sod % 60);
    put(20, micros / 10_000);
    put(22, micros / 100 % 100);
    put(24, micros % 100);
    out.extend_from_slice(&b);
}

/// `00` to `99`, the two-digit numbers one after another.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

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

pub fn write_key(out: &mut Vec<u8>, name_lc: &str, pid: &str, time_ns: i64) {
    out.extend_from_slice(name_lc.as_bytes());
    out.push(b'|');
    out.extend_from_slice(pid.as_bytes());
    out.push(b'|');
    write_key_time(out, time_ns);
}

/// Build the tree from the input rows in `order`: filtered on the event id,
/// de-duplicated, and in [`time_order`].
pub fn build<'a>(input: &ProcInput<'a>, order: &[u32]) -> BuiltTree<'a> {
    let mut tables = Tables::default();
    let mut events = read_events(input, order, &mut tables);
    let hosts = tables.hosts.len() + 1;
    let found = find_parents(input.parent_name.is_some(), &events, hosts);
    let inferred = link_parents(&mut events, &found, &mut tables.names);
    drop(found);
    let first = first_of_each_key(&events, &inferred, &tables);
    let rows = walk(&events, &first);
    BuiltTree {
        events,
        inferred,
        rows,
        hosts: tables.hosts,
        pids: tables.pids,
        names: tables.names,
        logons: tables.logons,
        event_ids: tables.event_ids,
    }
}

/// Input rows by start time; ties keep input order so the result does not depend on
/// the sort.
pub fn time_order(time_ns: &[i64], rows: &[u32]) -> Vec<u32> {
    let mut keyed: Vec<(i64, u32)> = rows.iter().map(|&r| (time_ns[r as usize], r)).collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, r)| r).collect()
}

/// The number of a text in a [`Dict`]. It starts at 1 so that an absent text,
/// `Option<Id>`, takes no more room than a number: events hold many of them.
pub type Id = NonZeroU32;

/// Distinct texts, each kept once and known by its number. The values of a column
/// repeat a lot (hosts, names, reused pids, logon ids), so a table of them stays in
/// cache where the column itself does not.
#[derive(Default)]
pub struct Dict<'a> {
    ids: FastMap<&'a str, Id>,
    texts: Vec<&'a str>,
}

impl<'a> Dict<'a> {
    fn id(&mut self, text: &'a str) -> Id {
        let next = Id::MIN.saturating_add(self.texts.len() as u32);
        let id = *self.ids.entry(text).or_insert(next);
        if id == next {
            self.texts.push(text);
        }
        id
    }

    pub fn get(&self, id: Id) -> &'a str {
        self.texts[id.get() as usize - 1]
    }

    fn len(&self) -> usize {
        self.texts.len()
    }

    /// The numbers of `column`'s values in `rows`, unless it has more than `limit`
    /// distinct values.
    pub fn number_few(
        &mut self,
        column: &'a dyn TextSource,
        rows: &[u32],
        limit: usize,
    ) -> Option<Vec<Option<Id>>> {
        let mut ids = Vec::with_capacity(rows.len());
        let mut reader = Repeats::new(column);
        for &r in rows {
            ids.push(reader.get(r as usize, |t| self.id(t)));
            if self.len() > limit {
                return None;
            }
        }
        Some(ids)
    }

    /// The numbers of `column`'s values in `rows`.
    fn number(&mut self, column: Option<&'a dyn TextSource>, rows: &[u32]) -> Vec<Option<Id>> {
        let Some(c) = column else {
            return vec![None; rows.len()];
        };
        let mut reader = Repeats::new(c);
        rows.iter()
            .map(|&r| reader.get(r as usize, |t| self.id(t)))
            .collect()
    }
}

/// Reads a column's rows, looking each text up (`lookup`) only when it may be new: once
/// per distinct value of a dictionary column, and otherwise when it differs from the
/// row read before (in time order a value often repeats that of the event before: one
/// event id, the same logon or user for a while). Comparing costs less than hashing and
/// probing, and a value number less than either.
struct Repeats<'a, T> {
    column: &'a dyn TextSource,
    coded: Option<Coded<'a, T>>,
    last: Option<(&'a str, T)>,
}

/// A dictionary column's distinct values and row value numbers, with the lookup's
/// result for each value once met.
struct Coded<'a, T> {
    values: &'a dyn TextSource,
    keys: &'a [Option<u32>],
    found: Vec<Option<T>>,
}

impl<'a, T: Copy> Repeats<'a, T> {
    fn new(column: &'a dyn TextSource) -> Self {
        let coded = column.dictionary().map(|(values, keys)| Coded {
            values,
            keys,
            found: vec![None; values.len()],
        });
        Repeats {
            column,
            coded,
            last: None,
        }
    }

    /// `lookup` of row `row`'s text; `None` for a null.
    fn get(&mut self, row: usize, mut lookup: impl FnMut(&'a str) -> T) -> Option<T> {
        if let Some(c) = &mut self.coded {
            let k = c.keys[row]? as usize;
            if c.found[k].is_none() {
                c.found[k] = c.values.get(k).map(&mut lookup);
            }
            return c.found[k];
        }
        let text = self.column.get(row)?;
        if let Some((before, value)) = self.last {
            if before == text {
                return Some(value);
            }
        }
        let value = lookup(text);
        self.last = Some((text, value));
        Some(value)
    }
}

/// The names of one event: its own and its parent's, as written and lower-cased.
struct EventNames {
    name: Option<Id>,
    name_lc: Id,
    parent: Option<(Id, Id)>,
}

/// Process names as written, each also known by its lower-cased form. A spelling is
/// lower-cased once; spellings that lower-case alike share the lower-cased number.
#[derive(Default)]
pub struct Names<'a> {
    spellings: Dict<'a>,
    /// The lower-cased number of each spelling.
    lc_of: Vec<Id>,
    lc_ids: FastMap<String, Id>,
    lc: Vec<String>,
}

impl<'a> Names<'a> {
    /// The numbers of `spelling` and of its lower-cased form.
    fn id(&mut self, spelling: &'a str) -> (Id, Id) {
        let id = self.spellings.id(spelling);
        let at = id.get() as usize - 1;
        if at == self.lc_of.len() {
            let next = Id::MIN.saturating_add(self.lc.len() as u32);
            let lc = *self
                .lc_ids
                .entry(spelling.to_lowercase())
                .or_insert_with_key(|lc| {
                    self.lc.push(lc.clone());
                    next
                });
            self.lc_of.push(lc);
        }
        (id, self.lc_of[at])
    }

    pub fn get(&self, id: Id) -> &'a str {
        self.spellings.get(id)
    }

    /// A lower-cased name by its number.
    pub fn lc(&self, lc_id: Id) -> &str {
        &self.lc[lc_id.get() as usize - 1]
    }

    /// The names of the events at `rows`.
    fn number(&mut self, input: &ProcInput<'a>, rows: &[u32]) -> Vec<EventNames> {
        let mut names = Repeats::new(input.name);
        let mut parents = input.parent_name.map(Repeats::new);
        rows.iter()
            .map(|&r| {
                let row = r as usize;
                let name = names.get(row, |t| self.id(t));
                EventNames {
                    name: name.map(|(id, _)| id),
                    name_lc: name.unwrap_or_else(|| self.id("")).1,
                    parent: parents.as_mut().map(|p| {
                        p.get(row, |t| self.id(if t.is_empty() { UNKNOWN } else { t }))
                            .unwrap_or_else(|| self.id(UNKNOWN))
                    }),
                }
            })
            .collect()
    }
}

#[derive(Default)]
struct Tables<'a> {
    hosts: Dict<'a>,
    pids: Dict<'a>,
    names: Names<'a>,
    logons: Dict<'a>,
    event_ids: Dict<'a>,
}

/// A number for each host, 0 for none: the index of its map in [`sweep`].
fn host_group(host: Option<Id>) -> u32 {
    host.map_or(0, Id::get)
}

/// The events in time order, their texts numbered in `tables`. Each table is filled by
/// its own task, reading its columns in time order (mostly input order, so nearly in
/// sequence).
fn read_events<'a>(
    input: &ProcInput<'a>,
    order: &[u32],
    tables: &mut Tables<'a>,
) -> Vec<EventInfo> {
    let Tables {
        hosts,
        pids,
        names,
        logons,
        event_ids,
    } = tables;
    let ((host, event_id, logon, target_logon), ((pid, ppid), event_names)) = rayon::join(
        || {
            (
                hosts.number(input.host, order),
                event_ids.number(input.event_id, order),
                logons.number(input.logon, order),
                logons.number(input.target_logon, order),
            )
        },
        || {
            rayon::join(
                || {
                    (
                        pids.number(Some(input.pid), order),
                        pids.number(Some(input.ppid), order),
                    )
                },
                || names.number(input, order),
            )
        },
    );
    let logons = &*logons;
    (0..order.len())
        .into_par_iter()
        .map(|p| {
            let names = &event_names[p];
            let effective_logon = match target_logon[p] {
                Some(t) if logons.get(t) != "0x0" => Some(t),
                _ => logon[p],
            };
            EventInfo {
                input_row: order[p],
                time_ns: input.time_ns[order[p] as usize],
                host: host[p],
                name: names.name,
                name_lc: names.name_lc,
                pid: pid[p],
                ppid: ppid[p],
                parent_name: names.parent.map(|(id, _)| id),
                parent_lc: names.parent.map(|(_, lc)| lc),
                logon: logon[p],
                target_logon: target_logon[p],
                effective_logon,
                event_id: event_id[p],
                link: Link::None,
            }
        })
        .collect()
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

/// The parent of every event (by position), `hosts` being the number of host groups.
/// Hosts never share parents, so each task takes a share of the hosts: it reads all
/// events in time order and skips the others' (reading in order costs less than jumping
/// from one of a host's events to the next). `match_name`: the parent's name must match.
fn find_parents(match_name: bool, events: &[EventInfo], hosts: usize) -> Vec<Found> {
    let tasks = rayon::current_num_threads().clamp(1, hosts);
    let task_of = |e: &EventInfo| host_group(e.host) as usize % tasks;
    let per_task: Vec<Vec<Found>> = (0..tasks)
        .into_par_iter()
        .map(|t| sweep(match_name, events, hosts, |e| task_of(e) == t))
        .collect();
    let mut taken = vec![0; tasks];
    events
        .iter()
        .map(|e| {
            let t = task_of(e);
            taken[t] += 1;
            per_task[t][taken[t] - 1]
        })
        .collect()
}

/// Parents of the events that are `mine`, in time order: a sweep forward in time that
/// keeps, per host, the latest event for each (pid, name). Events starting at the same
/// instant are all added before any of them looks up its parent, as a parent may start
/// with its child.
fn sweep(
    match_name: bool,
    events: &[EventInfo],
    hosts: usize,
    mine: impl Fn(&EventInfo) -> bool,
) -> Vec<Found> {
    let key =
        |pid: Id, name: Option<Id>| u64::from(pid.get()) << 32 | u64::from(name.map_or(0, Id::get));
    let mut latest: Vec<FastMap<u64, u32>> = (0..hosts).map(|_| FastMap::default()).collect();
    let mut found = Vec::new();
    let mut start = 0;
    for same_time in events.chunk_by(|a, b| a.time_ns == b.time_ns) {
        for (i, ev) in same_time.iter().enumerate().filter(|(_, e)| mine(e)) {
            if let Some(pid) = ev.pid {
                let name = match_name.then_some(ev.name_lc);
                latest[host_group(ev.host) as usize].insert(key(pid, name), (start + i) as u32);
            }
        }
        found.extend(same_time.iter().filter(|e| mine(e)).map(|ev| {
            match ev.ppid {
                None => Found::NoParentPid,
                Some(ppid) => latest[host_group(ev.host) as usize]
                    .get(&key(ppid, ev.parent_lc))
                    .map_or(Found::Missing, |&q| Found::Parent(q)),
            }
        }));
        start += same_time.len();
    }
    found
}

/// Set every event's link, making up one inferred parent per distinct parent description
/// (host, pid, logon, name, event id) among events whose parent is missing, numbered in
/// the time order of their first child as MSTICPy numbers them.
fn link_parents(
    events: &mut [EventInfo],
    found: &[Found],
    names: &mut Names<'_>,
) -> Vec<InferredInfo> {
    type Description = (Option<Id>, Id, Option<Id>, Id, Option<Id>);
    let mut inferred: Vec<InferredInfo> = Vec::new();
    let mut ids: FastMap<Description, u32> = FastMap::default();
    for (ev, f) in events.iter_mut().zip(found) {
        ev.link = match *f {
            Found::NoParentPid => Link::None,
            Found::Parent(q) => Link::Event(q),
            Found::Missing => {
                let pid = ev.ppid.expect("events without a parent pid are roots");
                let (name, name_lc) = ev
                    .parent_name
                    .zip(ev.parent_lc)
                    .unwrap_or_else(|| names.id(UNKNOWN));
                let (logon, event_id) = (ev.logon, ev.event_id);
                let next = inferred.len() as u32;
                let id = *ids
                    .entry((ev.host, pid, logon, name, event_id))
                    .or_insert(next);
                if id == next {
                    inferred.push(InferredInfo {
                        host: ev.host,
                        pid,
                        name,
                        name_lc,
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

/// For every node, the first node (by source index) on its host with the same key:
/// there is one row per (host, key), and later nodes with the key fold into it. Equal
/// keys need equal start times as the key rounds them, so the only nodes compared are
/// the events sharing theirs with another event, and the inferred parents (all at the
/// epoch) with the events there: usually few.
fn first_of_each_key(
    events: &[EventInfo],
    inferred: &[InferredInfo],
    tables: &Tables<'_>,
) -> Vec<u32> {
    let n = events.len();
    let mut candidates: Vec<u32> = Vec::new();
    let mut start = 0;
    while start < n {
        let time = key_rounded(events[start].time_ns);
        let same = events[start..]
            .iter()
            .take_while(|e| key_rounded(e.time_ns) == time)
            .count();
        if same > 1 || time == 0 {
            candidates.extend(start as u32..(start + same) as u32);
        }
        start += same;
    }
    candidates.extend(n as u32..(n + inferred.len()) as u32);

    let (names, pids) = (&tables.names, &tables.pids);
    let host_and_key = |i: u32, out: &mut Vec<u8>| match node_of(n, i) {
        Node::Event(p) => {
            let ev = &events[p as usize];
            let pid = ev.pid.map_or("", |id| pids.get(id));
            write_key(out, names.lc(ev.name_lc), pid, ev.time_ns);
            ev.host
        }
        Node::Inferred(k) => {
            let inf = &inferred[k as usize];
            write_key(out, names.lc(inf.name_lc), pids.get(inf.pid), 0);
            inf.host
        }
    };
    let mut hosts = Vec::with_capacity(candidates.len());
    let keys = TextBuf::build(candidates.len(), |j, buf| {
        buf.push_with(|out| hosts.push(host_and_key(candidates[j], out)))
    });
    let mut first: Vec<u32> = (0..(n + inferred.len()) as u32).collect();
    let mut seen: FastMap<(Option<Id>, &[u8]), u32> = FastMap::default();
    for (j, &i) in candidates.iter().enumerate() {
        first[i as usize] = *seen.entry((hosts[j], keys.get(j))).or_insert(i);
    }
    first
}

/// Source indexes `0..total` in the order of their text (`{:05}`), as paths compare:
/// `100000` comes before `10001`. Each five-digit text (the numbers below 100 000,
/// zero-padded) is followed by the longer numbers it begins, without any sorting.
fn in_text_order(total: u32) -> Vec<u32> {
    fn longer(prefix: u64, total: u64, out: &mut Vec<u32>) {
        for x in prefix * 10..prefix * 10 + 10 {
            if x >= total {
                return;
            }
            out.push(x as u32);
            longer(x, total, out);
        }
    }
    let total = u64::from(total);
    let mut out = Vec::with_capacity(total as usize);
    for p in 0..total.min(100_000) {
        out.push(p as u32);
        // Longer numbers begin with a non-zero digit.
        if p >= 10_000 {
            longer(p, total, &mut out);
        }
    }
    out
}

/// Parents (folded onto the first node of each key), tree properties, output order and
/// paths. The output is sorted by path: a depth-first walk taking roots and siblings in
/// [`in_text_order`]. Rows in parent cycles are never reached from a root and sort by
/// their own index, like roots.
fn walk(events: &[EventInfo], first: &[u32]) -> TreeRows {
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

    let by_text: Vec<u32> = in_text_order(total as u32)
        .into_iter()
        .filter(|&i| first[i as usize] == i)
        .collect();
    let children = Groups::new(
        total,
        by_text
            .iter()
            .filter_map(|&i| parent[i as usize].map(|p| (p, i))),
    );
    let levels = breadth_first(
        &children,
        by_text
            .iter()
            .copied()
            .filter(|&i| parent[i as usize].is_none()),
    );
    let mut reached = vec![false; total];
    for &i in &levels.nodes {
        reached[i as usize] = true;
    }
    let (row_of, depth_of) = pre_order(&parent, &reached, &levels, &by_text);

    let mut order = vec![0u32; by_text.len()];
    for &i in &by_text {
        order[row_of[i as usize] as usize] = i;
    }
    let parent_row: Vec<Option<u32>> = order
        .par_iter()
        .map(|&i| parent[i as usize].map(|p| row_of[p as usize]))
        .collect();
    let reached: Vec<bool> = order.par_iter().map(|&i| reached[i as usize]).collect();
    let mut path = TextBuf::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        match parent_row[k] {
            Some(p) if reached[k] => path.push_child_path(p as usize, i),
            _ => path.push_index(i),
        }
    }
    TreeRows {
        depth: order.par_iter().map(|&i| depth_of[i as usize]).collect(),
        is_root: parent_row.par_iter().map(Option::is_none).collect(),
        is_leaf: order.par_iter().map(|&i| !has_child[i as usize]).collect(),
        is_branch: order
            .par_iter()
            .map(|&i| parent[i as usize].is_some() && has_child[i as usize])
            .collect(),
        parent: parent_row,
        reached,
        source_index: order,
        path,
    }
}

/// The nodes reachable from the roots, level by level, each node's children (in text
/// order) next to each other: those of the node at `b` are at
/// `first_child[b]..first_child[b + 1]`.
struct Levels {
    nodes: Vec<u32>,
    first_child: Vec<u32>,
}

/// The [`Levels`] below `roots`. Unlike a depth-first walk, where each step must wait
/// for the look-up of the one before, the look-ups here are independent and overlap.
fn breadth_first(children: &Groups, roots: impl Iterator<Item = u32>) -> Levels {
    let mut nodes: Vec<u32> = roots.collect();
    let mut first_child = Vec::with_capacity(nodes.len() + 1);
    let mut head = 0;
    while head < nodes.len() {
        first_child.push(nodes.len() as u32);
        let i = nodes[head] as usize;
        head += 1;
        nodes.extend_from_slice(children.members(i));
    }
    first_child.push(nodes.len() as u32);
    Levels { nodes, first_child }
}

/// The output row and depth of every kept node. Top-level rows (roots, and the
/// unreached rows of parent cycles) come in text order, each followed by its subtree; a
/// child comes after its parent and after the subtrees of its earlier siblings. Worked
/// out on the [`Levels`] positions, where siblings are next to each other, so each pass
/// reads in sequence.
fn pre_order(
    parent: &[Option<u32>],
    reached: &[bool],
    levels: &Levels,
    by_text: &[u32],
) -> (Vec<u32>, Vec<u32>) {
    let (nodes, first_child) = (&levels.nodes, &levels.first_child);
    let kids = |b: usize| first_child[b] as usize..first_child[b + 1] as usize;
    // Subtree sizes: children come after their parent, so from the end each is complete
    // before it is added.
    let mut size = vec![1u32; nodes.len()];
    for b in (0..nodes.len()).rev() {
        let below: u32 = size[kids(b)].iter().sum();
        size[b] += below;
    }
    let mut row = vec![0u32; nodes.len()];
    let mut row_of = vec![u32::MAX; parent.len()];
    let (mut next, mut root) = (0, 0);
    for &i in by_text {
        let i = i as usize;
        if parent[i].is_none() {
            // The roots lead the levels, in text order.
            row[root] = next;
            next += size[root];
            root += 1;
        } else if !reached[i] {
            row_of[i] = next;
            next += 1;
        }
    }
    let mut depth = vec![0u32; nodes.len()];
    for b in 0..nodes.len() {
        let mut at = row[b] + 1;
        for c in kids(b) {
            row[c] = at;
            depth[c] = depth[b] + 1;
            at += size[c];
        }
    }
    let mut depth_of = vec![0u32; parent.len()];
    for (b, &i) in nodes.iter().enumerate() {
        row_of[i as usize] = row[b];
        depth_of[i as usize] = depth[b];
    }
    (row_of, depth_of)
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
    fn indexes_come_in_text_order() {
        for total in [0, 7, 12_345, 100_000, 100_001, 1_000_123] {
            let mut by_text: Vec<u32> = (0..total).collect();
            by_text.sort_by_key(|&v| format!("{v:05}"));
            assert_eq!(in_text_order(total), by_text);
        }
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
