//! Records sharing an event id assembled into one event with MSTICPy's field naming.

use super::record::{is_arg_key, AuditRecord};

/// One assembled audit event (one output row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// `SYSCALL_EXECVE` for process starts, otherwise the type of the event's first record.
    pub event_type: String,
    /// `epoch:serial`.
    pub mssg_id: String,
    /// Nanoseconds since the Unix epoch (None only for table rows without an event id).
    pub time_ns: Option<i64>,
    /// `node=` of the records, when the log names its host.
    pub node: Option<String>,
    /// Field name → value, in assembly order; names are unique.
    pub fields: Vec<(String, String)>,
    /// The input row, for events read from a table.
    pub source_row: Option<usize>,
}

impl AuditEvent {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Which fields of a record type MSTICPy keeps (`_FIELD_DEFS`); types not listed keep
/// all their fields. MSTICPy spells the USER_START entry `_USER_START`, so USER_START
/// records keep all fields there; that is reproduced.
fn field_defs(record_type: &str) -> Option<&'static [&'static str]> {
    const USER: &[&str] = &[
        "pid", "uid", "auid", "ses", "msg", "acct", "exe", "hostname", "addr", "terminal", "res",
    ];
    Some(match record_type {
        "SYSCALL" => &[
            "success", "ppid", "pid", "auid", "uid", "gid", "euid", "egid", "ses", "exe", "com",
        ],
        "CWD" => &["cwd"],
        "PROCTITLE" => &["proctitle"],
        "LOGIN" => &["pid", "uid", "tty", "old-ses", "ses", "res"],
        "EXECVE" => &["argc", "a0", "a1", "a2"],
        "USER_END" | "CRED_DISP" | "USER_ACCT" | "CRED_ACQ" => USER,
        "USER_CMD" => &["pid", "uid", "auid", "ses", "msg", "cmd", "terminal", "res"],
        _ => return None,
    })
}

/// Field names whose values are integers (MSTICPy converts these, with 4294967295,
/// "unset", becoming -1).
pub(crate) const INT_FIELDS: &[&str] = &[
    "pid", "ppid", "uid", "auid", "gid", "euid", "egid", "ses", "old-ses", "old-auid", "argc",
];

struct Builder {
    fields: Vec<(String, String)>,
}

impl Builder {
    fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    /// MSTICPy's rule for listed fields: a name already taken gets `_<TYPE>` appended.
    fn add_suffixed(&mut self, name: &str, record_type: &str, value: &str) {
        let name = if self.has(name) {
            format!("{name}_{record_type}")
        } else {
            name.to_string()
        };
        self.set(name, value);
    }

    /// MSTICPy's rule for unlisted types: a later value replaces an earlier one.
    fn set(&mut self, name: String, value: &str) {
        match self.fields.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.fields.push((name, value.to_string())),
        }
    }
}

/// Assembles the records of one event (all with the same event id).
///
/// `all_fields = false` follows MSTICPy: listed record types contribute their listed
/// fields, others all their fields, and for a type seen several times the last record
/// counts (except EXECVE, whose records are joined: auditd splits long argument lists
/// over several). `all_fields = true` keeps every field of every record; names
/// already taken get `_<TYPE>`, and repeated records of a type `_<TYPE>_<n>`.
pub fn assemble(records: &[AuditRecord], all_fields: bool) -> Option<AuditEvent> {
    let first = records.first()?;
    let mut types: Vec<&str> = Vec::new();
    for r in records {
        if !types.contains(&r.record_type.as_str()) {
            types.push(&r.record_type);
        }
    }
    let last_of = |t: &str| records.iter().rev().find(|r| r.record_type == t);
    let execve: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r.record_type == "EXECVE")
        .flat_map(|r| r.fields.iter().map(|f| (f.key.as_str(), f.value.as_str())))
        .collect();
    let execve_get = |k: &str| {
        execve
            .iter()
            .rev()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| *v)
    };

    let mut b = Builder { fields: Vec::new() };
    let is_process_start = types.contains(&"SYSCALL") && types.contains(&"EXECVE");
    let event_type = if is_process_start {
        "SYSCALL_EXECVE".to_string()
    } else {
        first.record_type.clone()
    };

    if is_process_start {
        for t in ["SYSCALL", "CWD", "EXECVE", "PROCTITLE"] {
            if !types.contains(&t) {
                continue;
            }
            if all_fields {
                add_all(&mut b, records, t, true);
            } else {
                let defs = field_defs(t).expect("listed type");
                for name in defs {
                    let value = if t == "EXECVE" {
                        execve_get(name)
                    } else {
                        last_of(t).and_then(|r| r.get(name))
                    };
                    // MSTICPy stops at the first missing field of a type; every present
                    // field is kept here.
                    if let Some(v) = value.filter(|v| !v.is_empty()) {
                        b.add_suffixed(name, t, v);
                    }
                }
            }
        }
        if all_fields {
            for t in types
                .iter()
                .filter(|t| !matches!(**t, "SYSCALL" | "CWD" | "EXECVE" | "PROCTITLE"))
            {
                add_all(&mut b, records, t, false);
            }
        }
        let proctitle = last_of("PROCTITLE").and_then(|r| r.get("proctitle"));
        if let Some(cmdline) = command_line(&execve, proctitle) {
            b.set("cmdline".to_string(), &cmdline);
        }
    } else {
        for t in &types {
            if all_fields {
                add_all(&mut b, records, t, false);
                continue;
            }
            let Some(rec) = last_of(t) else { continue };
            match field_defs(t) {
                Some(defs) => {
                    for name in defs {
                        if let Some(v) = rec.get(name).filter(|v| !v.is_empty()) {
                            b.add_suffixed(name, t, v);
                        }
                    }
                }
                None => {
                    for f in &rec.fields {
                        b.set(f.key.clone(), &f.value);
                    }
                }
            }
        }
    }
    Some(AuditEvent {
        event_type,
        mssg_id: first.msg_id(),
        time_ns: Some(first.time_ns),
        node: first.node.clone(),
        fields: b.fields,
        source_row: None,
    })
}

fn add_all(b: &mut Builder, records: &[AuditRecord], t: &str, process_start: bool) {
    for (n, rec) in records.iter().filter(|r| r.record_type == t).enumerate() {
        // EXECVE records of one event are one argument list.
        let repeat = if t == "EXECVE" { 0 } else { n };
        for f in &rec.fields {
            // The syscall's raw a0..a3 registers would take the argument names.
            let name = if process_start && t == "SYSCALL" && is_arg_key(&f.key) {
                format!("{}_SYSCALL", f.key)
            } else if repeat > 0 {
                format!("{}_{t}_{repeat}", f.key)
            } else if b.has(&f.key) && !(t == "EXECVE" && n > 0) {
                format!("{}_{t}", f.key)
            } else {
                f.key.clone()
            };
            b.set(name, &f.value);
        }
    }
}

/// The command line: arguments `a0..a{argc-1}` joined by spaces, long arguments
/// (`aN[0]`, `aN[1]`, …) reassembled first. MSTICPy only has a0–a2 at hand and pads
/// the rest with empty strings; all arguments are used here. Without arguments the
/// process title is used.
fn command_line(execve: &[(&str, &str)], proctitle: Option<&str>) -> Option<String> {
    let get = |k: &str| {
        execve
            .iter()
            .rev()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| *v)
    };
    let argc: Option<usize> = get("argc").and_then(|v| v.parse().ok());
    let max_index = execve
        .iter()
        .filter(|(k, _)| is_arg_key(k))
        .filter_map(|(k, _)| {
            k[1..]
                .split('[')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
        })
        .max();
    // argc bounds the list, but never beyond the arguments present (a forged argc
    // must not make a huge list).
    let present = max_index.map_or(0, |m| m + 1);
    let count = argc.map_or(present, |c| c.min(present));
    if count == 0 {
        return proctitle.map(str::to_string);
    }
    let mut args = Vec::with_capacity(count);
    for i in 0..count {
        let key = format!("a{i}");
        match get(&key) {
            Some(v) => args.push(v.to_string()),
            None => {
                let mut pieces: Vec<(usize, &str)> = execve
                    .iter()
                    .filter_map(|(k, v)| {
                        let idx = k
                            .strip_prefix(key.as_str())?
                            .strip_prefix('[')?
                            .strip_suffix(']')?;
                        Some((idx.parse().ok()?, *v))
                    })
                    .collect();
                pieces.sort_by_key(|(i, _)| *i);
                args.push(pieces.into_iter().map(|(_, v)| v).collect::<String>());
            }
        }
    }
    Some(args.join(" "))
}

#[cfg(test)]
mod tests {
    use super::super::record::parse_line;
    use super::*;

    fn recs(text: &str) -> Vec<AuditRecord> {
        text.lines()
            .filter_map(|l| parse_line(l, &mut Vec::new()).unwrap())
            .collect()
    }

    const EXEC: &str = r#"type=SYSCALL msg=audit(1558439254.480:21713): arch=c000003e syscall=59 success=yes exit=0 a0=55 a1=56 a2=57 a3=0 items=2 ppid=1234 pid=1240 auid=1000 uid=0 gid=0 euid=0 egid=0 tty=pts0 ses=5 comm="ls" exe="/usr/bin/ls" key="exec"
type=EXECVE msg=audit(1558439254.480:21713): argc=4 a0="ls" a1="-la" a2="/tmp" a3=2F686F6D652F6120622F63
type=CWD msg=audit(1558439254.480:21713): cwd="/root"
type=PATH msg=audit(1558439254.480:21713): item=0 name="/usr/bin/ls" inode=123
type=PROCTITLE msg=audit(1558439254.480:21713): proctitle=6C73002D6C61002F746D70"#;

    #[test]
    fn process_start_msticpy_fields() {
        let ev = assemble(&recs(EXEC), false).unwrap();
        assert_eq!(ev.event_type, "SYSCALL_EXECVE");
        assert_eq!(ev.mssg_id, "1558439254.480:21713");
        let names: Vec<&str> = ev.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "success",
                "ppid",
                "pid",
                "auid",
                "uid",
                "gid",
                "euid",
                "egid",
                "ses",
                "exe",
                "cwd",
                "argc",
                "a0",
                "a1",
                "a2",
                "proctitle",
                "cmdline"
            ]
        );
        assert_eq!(ev.get("cmdline"), Some("ls -la /tmp /home/a b/c"));
        assert_eq!(ev.get("a0"), Some("ls"));
        assert_eq!(ev.get("proctitle"), Some("ls -la /tmp"));
        assert_eq!(ev.get("cwd"), Some("/root"));
    }

    #[test]
    fn process_start_all_fields() {
        let ev = assemble(&recs(EXEC), true).unwrap();
        assert_eq!(ev.get("a0"), Some("ls"));
        assert_eq!(ev.get("a0_SYSCALL"), Some("55"));
        assert_eq!(ev.get("comm"), Some("ls"));
        assert_eq!(ev.get("key"), Some("exec"));
        assert_eq!(ev.get("a3"), Some("/home/a b/c"));
        assert_eq!(ev.get("name"), Some("/usr/bin/ls"));
        assert_eq!(ev.get("cmdline"), Some("ls -la /tmp /home/a b/c"));
    }

    #[test]
    fn split_execve_and_long_arguments() {
        let ev = assemble(
            &recs(
                "type=SYSCALL msg=audit(1.0:9): success=yes pid=3 ppid=2\n\
                 type=EXECVE msg=audit(1.0:9): argc=3 a0=\"python\" a1_len=8 a1[0]=2D632027 a1[1]=7072696E\n\
                 type=EXECVE msg=audit(1.0:9): a2=\"x\"",
            ),
            false,
        )
        .unwrap();
        assert_eq!(ev.get("cmdline"), Some("python -c 'prin x"));
    }

    #[test]
    fn missing_arguments_and_proctitle_fallback() {
        let ev = assemble(&recs("type=SYSCALL msg=audit(1.0:9): pid=3\ntype=EXECVE msg=audit(1.0:9): argc=3 a0=\"a\" a2=\"c\""), false).unwrap();
        assert_eq!(ev.get("cmdline"), Some("a  c"));
        let ev = assemble(
            &recs("type=SYSCALL msg=audit(1.0:9): pid=3\ntype=EXECVE msg=audit(1.0:9): argc=0\ntype=PROCTITLE msg=audit(1.0:9): proctitle=\"bash\""),
            false,
        )
        .unwrap();
        assert_eq!(ev.get("cmdline"), Some("bash"));
    }

    #[test]
    fn other_types_follow_msticpy() {
        let ev = assemble(
            &recs("type=LOGIN msg=audit(1.0:2): pid=2100 uid=0 old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=7 res=1"),
            false,
        )
        .unwrap();
        assert_eq!(ev.event_type, "LOGIN");
        let names: Vec<&str> = ev.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["pid", "uid", "tty", "old-ses", "ses", "res"]);

        let ev = assemble(
            &recs(
                "type=SYSCALL msg=audit(1.0:3): success=no ppid=1 pid=300 uid=33 exe=\"/usr/sbin/nginx\"\n\
                 type=CWD msg=audit(1.0:3): cwd=\"/\"\n\
                 type=PATH msg=audit(1.0:3): item=0 name=\"/etc/a\"\n\
                 type=PATH msg=audit(1.0:3): item=1 name=\"/etc/b\"",
            ),
            false,
        )
        .unwrap();
        assert_eq!(ev.event_type, "SYSCALL");
        assert_eq!(ev.get("cwd"), Some("/"));
        assert_eq!(
            ev.get("name"),
            Some("/etc/b"),
            "last PATH record wins, as in MSTICPy"
        );
        assert_eq!(ev.get("pid"), Some("300"));

        let all = assemble(
            &recs("type=PATH msg=audit(1.0:3): item=0 name=\"/etc/a\"\ntype=PATH msg=audit(1.0:3): item=1 name=\"/etc/b\""),
            true,
        )
        .unwrap();
        assert_eq!(all.get("name"), Some("/etc/a"));
        assert_eq!(all.get("name_PATH_1"), Some("/etc/b"));
    }

    #[test]
    fn collisions_get_type_suffix() {
        let ev = assemble(
            &recs("type=USER_CMD msg=audit(1.0:4): pid=1 uid=0 auid=5 ses=1 msg='cwd=\"/\" cmd=6C73 terminal=pts/0 res=success'\ntype=LOGIN msg=audit(1.0:4): pid=9 uid=0 ses=1"),
            false,
        )
        .unwrap();
        assert_eq!(ev.get("pid"), Some("1"));
        assert_eq!(ev.get("pid_LOGIN"), Some("9"));
        assert_eq!(ev.get("cmd"), Some("ls"));
    }
}
