//! A seeded generator of realistic process events, for tests and benchmarks.
//!
//! Several hosts run at once; each starts with long-lived system processes that never
//! appear as events themselves (so their children get inferred parents), then spawns
//! shells, services and tools under them. Processes exit and their pids go back into a
//! small pool, so pids are reused on a host and the same pid is live on several hosts.
//! A few events are exact duplicates and exits (4689) are mixed in, to exercise the
//! duplicate drop and the event filter. The same seed always gives the same events.

use std::fmt::Write;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Number of process-creation events (duplicates and exit events come on top).
    pub events: usize,
    pub hosts: usize,
    pub seed: u64,
    /// Pids are drawn from `4..pid_space` (multiples of 4 on Windows); smaller means
    /// more reuse.
    pub pid_space: u32,
    /// Fraction of creation events repeated verbatim (exact duplicate rows).
    pub duplicate_rate: f64,
    /// Emit a process-exit (4689) row when a process ends.
    pub exit_events: bool,
    /// First event time, UTC nanoseconds.
    pub start_ns: i64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            events: 1_000,
            hosts: 4,
            seed: 42,
            pid_space: 0x4000,
            duplicate_rate: 0.002,
            exit_events: true,
            start_ns: 1_717_236_000_000_000_000, // 2024-06-01 10:00:00 UTC
        }
    }
}

/// One generated event, independent of any log format.
#[derive(Clone, Debug, PartialEq)]
pub struct GenEvent {
    pub host: String,
    pub time_ns: i64,
    /// 4688 for a creation, 4689 for an exit.
    pub event_id: i64,
    pub name: String,
    pub pid: u32,
    pub parent_name: Option<String>,
    pub ppid: Option<u32>,
    pub user: String,
    pub sid: String,
    pub logon: String,
    pub target_logon: String,
    pub cmdline: Option<String>,
}

/// SplitMix64: tiny, fast, and stable across platforms and versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SYS32: &str = "C:\\Windows\\System32\\";

/// (program, command-line templates); `{n}` is replaced by a random number.
const TOOLS: &[(&str, &[&str])] = &[
    ("cmd.exe", &["cmd.exe /c whoami", "cmd.exe /c dir C:\\Users\\{n}", "cmd.exe /c ping -n 1 10.0.{n}.1"]),
    ("powershell.exe", &["powershell.exe -NoProfile -Command Get-Process", "powershell.exe -nop -w hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA{n}"]),
    ("net.exe", &["net.exe user", "net.exe group \"Domain Admins\" /domain", "net.exe use \\\\srv{n}\\share"]),
    ("whoami.exe", &["whoami.exe /all", "whoami.exe /priv"]),
    ("conhost.exe", &["\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1"]),
    ("rundll32.exe", &["rundll32.exe C:\\Users\\Public\\{n}.dll,DllRegisterServer"]),
    ("reg.exe", &["reg.exe query HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"]),
    ("tasklist.exe", &["tasklist.exe /v"]),
    ("svchost.exe", &["svchost.exe -k netsvcs -p -s Schedule", "svchost.exe -k LocalService"]),
    ("notepad.exe", &["notepad.exe C:\\Users\\bob\\notes{n}.txt"]),
];

const ROOTS: &[&str] = &[
    "wininit.exe",
    "services.exe",
    "explorer.exe",
    "winlogon.exe",
];
const USERS: &[(&str, &str)] = &[
    ("SYSTEM", "S-1-5-18"),
    ("alice", "S-1-5-21-1004336348-1177238915-682003330-1104"),
    ("bob", "S-1-5-21-1004336348-1177238915-682003330-1105"),
    (
        "svc_backup",
        "S-1-5-21-1004336348-1177238915-682003330-1210",
    ),
];

struct Live {
    name: String,
    pid: u32,
    depth: u32,
    user: usize,
    logon: String,
}

struct HostState {
    name: String,
    live: Vec<Live>,
    free: Vec<u32>,
    /// Long-lived processes that never appear as events.
    roots: usize,
}

/// Generate events in time order.
pub fn generate(options: &GenOptions) -> Vec<GenEvent> {
    let mut rng = Rng(options.seed ^ 0x005e_ed0f_7a11_u64);
    let mut hosts: Vec<HostState> = (0..options.hosts.max(1))
        .map(|h| {
            let mut free: Vec<u32> = (1..options.pid_space.max(64) / 4).map(|p| p * 4).collect();
            // Shuffle so that pid order does not follow time order.
            for i in (1..free.len()).rev() {
                free.swap(i, rng.below(i + 1));
            }
            let mut live = Vec::new();
            for (k, root) in ROOTS.iter().enumerate() {
                let pid = free.pop().expect("pid pool");
                live.push(Live {
                    name: format!("{SYS32}{root}").replace("System32\\explorer", "explorer"),
                    pid,
                    depth: 0,
                    user: if *root == "explorer.exe" {
                        1 + h % 2
                    } else {
                        0
                    },
                    logon: if *root == "explorer.exe" {
                        format!("0x{:x}", 0x3_0000 + h * 16 + k)
                    } else {
                        "0x3e7".into()
                    },
                });
            }
            HostState {
                name: format!("host{h:02}.contoso.local"),
                roots: live.len(),
                live,
                free,
            }
        })
        .collect();

    let mut out = Vec::with_capacity(options.events + options.events / 50);
    let mut time = options.start_ns;
    let mut created = 0;
    while created < options.events {
        time += 1_000_000 + (rng.below(250) as i64) * 1_000_000 + rng.below(1_000_000) as i64;
        let h = rng.below(hosts.len());
        let host = &mut hosts[h];
        // Mostly spawn from recent processes, sometimes from a long-lived root.
        let parent_idx = if rng.chance(0.2) || host.live.len() == host.roots {
            rng.below(host.roots)
        } else {
            let recent = host.live.len() - host.roots;
            host.roots + recent - 1 - rng.below(recent.min(12))
        };
        let (parent_name, parent_pid, parent_depth, parent_user, parent_logon) = {
            let p = &host.live[parent_idx];
            (p.name.clone(), p.pid, p.depth, p.user, p.logon.clone())
        };
        let Some(pid) = host.free.pop() else {
            retire(&mut rng, host, &mut out, time, options.exit_events, true);
            continue;
        };
        let (tool, templates) = rng.pick(TOOLS);
        let cmdline = rng
            .pick(templates)
            .replace("{n}", &rng.below(10_000).to_string());
        let (user, logon, target) = if rng.chance(0.03) {
            // runas / service logon: the new process gets its own logon session.
            let u = rng.below(USERS.len());
            (
                u,
                parent_logon.clone(),
                format!("0x{:x}", 0x10_0000 + rng.below(0xffff)),
            )
        } else {
            (parent_user, parent_logon.clone(), "0x0".to_string())
        };
        let name = format!("{SYS32}{tool}");
        let event = GenEvent {
            host: host.name.clone(),
            time_ns: time,
            event_id: 4688,
            name: name.clone(),
            pid,
            parent_name: Some(parent_name),
            ppid: Some(parent_pid),
            user: USERS[user].0.to_string(),
            sid: USERS[user].1.to_string(),
            logon,
            target_logon: target.clone(),
            cmdline: Some(cmdline),
        };
        if rng.chance(options.duplicate_rate) {
            out.push(event.clone());
        }
        out.push(event);
        created += 1;
        if parent_depth < 12 {
            let logon = if target == "0x0" {
                parent_logon
            } else {
                target
            };
            host.live.push(Live {
                name,
                pid,
                depth: parent_depth + 1,
                user,
                logon,
            });
        } else {
            host.free.insert(0, pid);
        }
        // Keep a few dozen processes alive per host; the rest exit and free their pids.
        while host.live.len() > host.roots + 40 || (host.live.len() > host.roots && rng.chance(0.3))
        {
            retire(&mut rng, host, &mut out, time, options.exit_events, false);
            if rng.chance(0.5) {
                break;
            }
        }
    }
    out
}

fn retire(
    rng: &mut Rng,
    host: &mut HostState,
    out: &mut Vec<GenEvent>,
    time: i64,
    exits: bool,
    force: bool,
) {
    if host.live.len() <= host.roots {
        if force {
            // Pool exhausted with nothing to retire: widen it rather than loop.
            let next = host
                .free
                .iter()
                .chain(host.live.iter().map(|l| &l.pid))
                .max()
                .copied()
                .unwrap_or(0)
                + 4;
            host.free.push(next);
        }
        return;
    }
    let recent = host.live.len() - host.roots;
    let idx = host.roots + rng.below(recent);
    let gone = host.live.remove(idx);
    if exits {
        out.push(GenEvent {
            host: host.name.clone(),
            time_ns: time + 1,
            event_id: 4689,
            name: gone.name.clone(),
            pid: gone.pid,
            parent_name: None,
            ppid: None,
            user: USERS[gone.user].0.to_string(),
            sid: USERS[gone.user].1.to_string(),
            logon: gone.logon.clone(),
            target_logon: "0x0".into(),
            cmdline: None,
        });
    }
    // Freed pids go to the front so they are reused after a while, not at once.
    host.free.insert(0, gone.pid);
    if host.free.len() > 64 {
        let k = rng.below(host.free.len());
        let last = host.free.len() - 1;
        host.free.swap(k, last);
    }
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

/// Pids as Windows logs them (`0x1a4c`), written straight into the column: a string
/// per row, freed just after, would leave the allocator clean-up work that a timing run
/// of the tree builder would then pay for.
fn hex_pids(pids: impl Iterator<Item = Option<u32>>) -> ArrayRef {
    let mut column = StringBuilder::new();
    for pid in pids {
        match pid {
            Some(p) => {
                write!(column, "0x{p:x}").expect("writing to memory");
                column.append_value("");
            }
            None => column.append_null(),
        }
    }
    Arc::new(column.finish())
}

/// Windows security events (4688 and 4689) with hex pids, as Sentinel returns them.
pub fn windows_batch(events: &[GenEvent]) -> RecordBatch {
    let fields = vec![
        Field::new(
            "TimeGenerated",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            true,
        ),
        Field::new("Computer", DataType::Utf8, true),
        Field::new("EventID", DataType::Int64, true),
        Field::new("NewProcessName", DataType::Utf8, true),
        Field::new("NewProcessId", DataType::Utf8, true),
        Field::new("ParentProcessName", DataType::Utf8, true),
        Field::new("ProcessId", DataType::Utf8, true),
        Field::new("SubjectUserName", DataType::Utf8, true),
        Field::new("SubjectUserSid", DataType::Utf8, true),
        Field::new("SubjectLogonId", DataType::Utf8, true),
        Field::new("TargetLogonId", DataType::Utf8, true),
        Field::new("CommandLine", DataType::Utf8, true),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            events
                .iter()
                .map(|e| Some(e.time_ns))
                .collect::<TimestampNanosecondArray>()
                .with_timezone("UTC"),
        ),
        strings(events.iter().map(|e| Some(e.host.as_str()))),
        Arc::new(
            events
                .iter()
                .map(|e| Some(e.event_id))
                .collect::<Int64Array>(),
        ),
        strings(events.iter().map(|e| Some(e.name.as_str()))),
        hex_pids(events.iter().map(|e| Some(e.pid))),
        strings(events.iter().map(|e| e.parent_name.as_deref())),
        hex_pids(events.iter().map(|e| e.ppid)),
        strings(events.iter().map(|e| Some(e.user.as_str()))),
        strings(events.iter().map(|e| Some(e.sid.as_str()))),
        strings(events.iter().map(|e| Some(e.logon.as_str()))),
        strings(events.iter().map(|e| Some(e.target_logon.as_str()))),
        strings(events.iter().map(|e| e.cmdline.as_deref())),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("generated columns agree")
}

/// The same events as Linux auditd `SYSCALL_EXECVE` rows (integer pids, no parent
/// name), exits left out.
pub fn linux_batch(events: &[GenEvent]) -> RecordBatch {
    let execs: Vec<&GenEvent> = events.iter().filter(|e| e.event_id == 4688).collect();
    let exe: Vec<String> = execs
        .iter()
        .map(|e| {
            format!(
                "/usr/bin/{}",
                e.name
                    .rsplit('\\')
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(".exe")
            )
        })
        .collect();
    let fields = vec![
        Field::new(
            "TimeGenerated",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            true,
        ),
        Field::new("Computer", DataType::Utf8, true),
        Field::new("EventType", DataType::Utf8, true),
        Field::new("exe", DataType::Utf8, true),
        Field::new("pid", DataType::Int64, true),
        Field::new("ppid", DataType::Int64, true),
        Field::new("ses", DataType::Utf8, true),
        Field::new("acct", DataType::Utf8, true),
        Field::new("cmdline", DataType::Utf8, true),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            execs
                .iter()
                .map(|e| Some(e.time_ns))
                .collect::<TimestampNanosecondArray>()
                .with_timezone("UTC"),
        ),
        strings(execs.iter().map(|e| Some(e.host.as_str()))),
        strings(execs.iter().map(|_| Some("SYSCALL_EXECVE"))),
        strings(exe.iter().map(|s| Some(s.as_str()))),
        Arc::new(
            execs
                .iter()
                .map(|e| Some(i64::from(e.pid)))
                .collect::<Int64Array>(),
        ),
        Arc::new(
            execs
                .iter()
                .map(|e| e.ppid.map(i64::from))
                .collect::<Int64Array>(),
        ),
        strings(execs.iter().map(|e| Some(e.logon.as_str()))),
        strings(execs.iter().map(|e| Some(e.user.as_str()))),
        strings(execs.iter().map(|e| e.cmdline.as_deref())),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("generated columns agree")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_events() {
        let o = GenOptions {
            events: 300,
            ..GenOptions::default()
        };
        assert_eq!(generate(&o), generate(&o));
        let other = generate(&GenOptions {
            seed: 7,
            ..o.clone()
        });
        assert_ne!(generate(&o), other);
    }

    #[test]
    fn events_reuse_pids_and_share_them_across_hosts() {
        let events = generate(&GenOptions {
            events: 3_000,
            pid_space: 0x400,
            ..GenOptions::default()
        });
        let creations: Vec<&GenEvent> = events.iter().filter(|e| e.event_id == 4688).collect();
        assert!(creations.len() >= 3_000);
        let mut per_host = std::collections::HashMap::new();
        for e in &creations {
            *per_host.entry((e.host.as_str(), e.pid)).or_insert(0) += 1;
        }
        assert!(per_host.values().any(|&n| n > 1), "no pid reuse");
        let mut hosts_by_pid: std::collections::HashMap<u32, std::collections::HashSet<&str>> =
            Default::default();
        for e in &creations {
            hosts_by_pid.entry(e.pid).or_default().insert(&e.host);
        }
        assert!(
            hosts_by_pid.values().any(|h| h.len() > 1),
            "no pid shared by hosts"
        );
        assert!(events.windows(2).all(|w| w[0].time_ns <= w[1].time_ns + 1));
    }
}
