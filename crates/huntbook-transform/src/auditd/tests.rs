//! Tests of the whole auditd path: raw text and Sentinel rows to tables.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;

use super::*;

const LOG: &str = r#"type=SYSCALL msg=audit(1558439254.480:21713): arch=c000003e syscall=59 success=yes exit=0 a0=5581f0e1a6d0 a1=5581f0e1a730 a2=5581f0e19e70 a3=0 items=2 ppid=1234 pid=1240 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=5 comm="ls" exe="/usr/bin/ls" key="exec"
type=EXECVE msg=audit(1558439254.480:21713): argc=4 a0="ls" a1="-la" a2="/tmp" a3=2F686F6D652F6120622F63
type=CWD msg=audit(1558439254.480:21713): cwd="/root"
type=PATH msg=audit(1558439254.480:21713): item=0 name="/usr/bin/ls" inode=123 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL
type=PROCTITLE msg=audit(1558439254.480:21713): proctitle=6C73002D6C61002F746D70
type=EOE msg=audit(1558439254.480:21713):
type=USER_START msg=audit(1558439260.100:21714): pid=2000 uid=0 auid=1000 ses=6 msg='op=PAM:session_open grantors=pam_limits acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success'
this line is garbage
type=LOGIN msg=audit(1558439261.000:21715): pid=2100 uid=0 old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=7 res=1
type=SYSCALL msg=audit(1558439262.000:21716): arch=c000003e syscall=2 success=no exit=-13 a0=7ffd a1=0 a2=1b6 a3=0 items=1 ppid=1 pid=300 auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm="nginx" exe="/usr/sbin/nginx" key="access"
type=SYSCALL msg=audit(1558439262.000:21717): arch=c000003e syscall=59 success=yes ppid=1 pid=301 uid=0 exe="/bin/true"
type=CWD msg=audit(1558439262.000:21716): cwd="/"
type=EXECVE msg=audit(1558439262.000:21717): argc=1 a0="true"
"#;

fn col<'a>(batch: &'a RecordBatch, name: &str) -> &'a ArrayRef {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn text(batch: &RecordBatch, name: &str, row: usize) -> Option<String> {
    let c = col(batch, name).as_string::<i32>();
    c.is_valid(row).then(|| c.value(row).to_string())
}

#[test]
fn raw_log_to_table() {
    let (batch, warnings) = parse_str(LOG, &AuditdOptions::default()).unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].location, Location::Line(8));
    assert!(warnings[0].to_string().starts_with("line 8: "));
    assert_eq!(batch.num_rows(), 5);
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(&names[..3], ["TimeGenerated", "EventType", "mssg_id"]);
    let mut rest = names[3..].to_vec();
    rest.sort();
    assert_eq!(rest, names[3..]);

    let types: Vec<&str> = col(&batch, "EventType")
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "SYSCALL_EXECVE",
            "USER_START",
            "LOGIN",
            "SYSCALL",
            "SYSCALL_EXECVE"
        ]
    );
    assert_eq!(
        text(&batch, "cmdline", 0).as_deref(),
        Some("ls -la /tmp /home/a b/c")
    );
    assert_eq!(text(&batch, "cmdline", 4).as_deref(), Some("true"));
    assert_eq!(
        text(&batch, "mssg_id", 3).as_deref(),
        Some("1558439262.000:21716")
    );
    assert_eq!(text(&batch, "cwd", 3).as_deref(), Some("/"));
    assert_eq!(text(&batch, "acct", 1).as_deref(), Some("root"));
    assert_eq!(text(&batch, "res", 1).as_deref(), Some("success"));

    let time = col(&batch, "TimeGenerated").as_primitive::<TimestampNanosecondType>();
    assert_eq!(time.value(0), 1_558_439_254_480_000_000);
    assert_eq!(
        time.data_type(),
        &DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, Some("UTC".into()))
    );
    let pid = col(&batch, "pid").as_primitive::<Int64Type>();
    assert_eq!(pid.value(0), 1240);
    let ses = col(&batch, "ses").as_primitive::<Int64Type>();
    assert_eq!(ses.value(3), -1);
    let old_ses = col(&batch, "old-ses").as_primitive::<Int64Type>();
    assert_eq!(old_ses.value(2), -1);
    assert!(old_ses.is_null(0));
    // MSTICPy's selection: no SYSCALL comm or key.
    assert!(batch.column_by_name("key").is_none());
}

#[test]
fn all_fields_and_type_filter() {
    let opts = AuditdOptions {
        all_fields: true,
        event_type: Some("SYSCALL_EXECVE".into()),
    };
    let (batch, _) = parse_str(LOG, &opts).unwrap();
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(text(&batch, "key", 0).as_deref(), Some("exec"));
    assert_eq!(text(&batch, "comm", 0).as_deref(), Some("ls"));
    assert_eq!(
        text(&batch, "a0_SYSCALL", 0).as_deref(),
        Some("5581f0e1a6d0")
    );
}

#[test]
fn serial_not_time_groups_records() {
    // Same millisecond, different serials: two events (MSTICPy would merge them).
    let (batch, _) = parse_str(
        "type=CWD msg=audit(5.000:1): cwd=\"/a\"\ntype=CWD msg=audit(5.000:2): cwd=\"/b\"\n",
        &AuditdOptions::default(),
    )
    .unwrap();
    assert_eq!(batch.num_rows(), 2);
}

#[test]
fn node_prefixes_separate_hosts() {
    let (batch, _) = parse_str(
        "node=a type=CWD msg=audit(5.0:1): cwd=\"/a\"\nnode=b type=CWD msg=audit(5.0:1): cwd=\"/b\"\n",
        &AuditdOptions::default(),
    )
    .unwrap();
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(text(&batch, "node", 1).as_deref(), Some("b"));
}

#[test]
fn streaming_many_events_in_order() {
    // More lines than one chunk, with each event's records interleaved with the next.
    let mut log = String::new();
    for i in 0..20_000u64 {
        log.push_str(&format!(
            "type=SYSCALL msg=audit(1000.{:03}:{i}): success=yes pid={i} ppid=1 exe=\"/bin/x\"\n",
            i % 1000
        ));
        if i > 0 {
            log.push_str(&format!(
                "type=EXECVE msg=audit(1000.{:03}:{}): argc=2 a0=\"x\" a1=\"{}\"\n",
                (i - 1) % 1000,
                i - 1,
                i - 1
            ));
        }
    }
    log.push_str("type=EXECVE msg=audit(1000.999:19999): argc=2 a0=\"x\" a1=\"19999\"\n");
    let reader = EventReader::new(log.as_bytes(), AuditdOptions::default());
    let mut n = 0u64;
    for ev in reader {
        let ev = ev.unwrap();
        assert_eq!(ev.event_type, "SYSCALL_EXECVE");
        assert_eq!(ev.get("cmdline"), Some(format!("x {n}").as_str()));
        n += 1;
    }
    assert_eq!(n, 20_000);
}

#[test]
fn file_errors_name_the_path() {
    let err = parse_file("/nonexistent/audit.log", &AuditdOptions::default()).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/audit.log"));
}

fn sentinel_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("TenantId", DataType::Utf8, true),
        Field::new("TimeGenerated", DataType::Utf8, true),
        Field::new("Computer", DataType::Utf8, true),
        Field::new("mssg_id", DataType::Utf8, true),
        Field::new("AuditdMessage", DataType::LargeUtf8, true),
        Field::new("Seq", DataType::Int64, true),
    ]));
    let messages = vec![
        Some(
            r#"[{'USER_END': ['pid=28056', 'uid=0', 'auid=4294967295', 'ses=4294967295', "msg='op=PAM:session_close", 'acct="root"', 'exe="/usr/bin/sudo"', 'hostname=?', 'addr=?', 'terminal=?', "res=success'"]}]"#,
        ),
        Some(
            r#"[{'SYSCALL': ['arch=c000003e', 'syscall=59', 'success=yes', 'ppid=22536', 'pid=28066', 'auid=4294967295', 'uid=0', 'comm="sh"', 'exe="/bin/dash"']}, {'EXECVE': ['argc=3', 'a0="/bin/sh"', 'a1="-c"', 'a2=69707461626C6573202D2D76657273696F6E']}, {'CWD': ['cwd="/var/lib/waagent"']}]"#,
        ),
        Some("[{'SYSCALL': ["),
        None,
    ];
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![Some("t"); 4])),
            Arc::new(StringArray::from(vec![Some("2019-02-18 16:00:00"); 4])),
            Arc::new(StringArray::from(vec![
                Some("vm1"),
                Some("vm2"),
                Some("vm3"),
                Some("vm4"),
            ])),
            Arc::new(StringArray::from(vec![
                Some("1550505627.301:9077922"),
                Some("1550505632.285:9077924"),
                Some("1.0:1"),
                Some("1.0:2"),
            ])),
            Arc::new(arrow_array::LargeStringArray::from(messages)),
            Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
        ],
    )
    .unwrap()
}

#[test]
fn sentinel_rows_to_table() {
    let (batch, warnings) = extract_events(
        &sentinel_batch(),
        "AuditdMessage",
        &AuditdOptions::default(),
    )
    .unwrap();
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0].location, Location::Row(2));
    assert_eq!(warnings[1].location, Location::Row(3));
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        &names[..6],
        [
            "TimeGenerated",
            "EventType",
            "TenantId",
            "Computer",
            "mssg_id",
            "Seq"
        ]
    );
    assert_eq!(text(&batch, "Computer", 1).as_deref(), Some("vm2"));
    assert_eq!(col(&batch, "Seq").as_primitive::<Int64Type>().value(1), 2);
    assert_eq!(
        text(&batch, "EventType", 1).as_deref(),
        Some("SYSCALL_EXECVE")
    );
    assert_eq!(
        text(&batch, "cmdline", 1).as_deref(),
        Some("/bin/sh -c iptables --version")
    );
    assert_eq!(text(&batch, "acct", 0).as_deref(), Some("root"));
    let time = col(&batch, "TimeGenerated").as_primitive::<TimestampNanosecondType>();
    assert_eq!(time.value(1), 1_550_505_632_285_000_000);

    let only = AuditdOptions {
        all_fields: false,
        event_type: Some("USER_END".into()),
    };
    let (batch, _) = extract_events(&sentinel_batch(), "AuditdMessage", &only).unwrap();
    assert_eq!(batch.num_rows(), 1);
    assert_eq!(text(&batch, "Computer", 0).as_deref(), Some("vm1"));
}

#[test]
fn sentinel_errors() {
    let err = extract_events(&sentinel_batch(), "Nope", &AuditdOptions::default()).unwrap_err();
    assert!(err.to_string().contains("'Nope'"));
    let err = extract_events(&sentinel_batch(), "Seq", &AuditdOptions::default()).unwrap_err();
    assert!(err.to_string().contains("Seq"));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_lines(lines in proptest::collection::vec("\\PC{0,120}", 0..20)) {
        let text = lines.join("\n");
        let _ = parse_str(&text, &AuditdOptions::default()).unwrap();
        let _ = parse_str(&text, &AuditdOptions { all_fields: true, event_type: None }).unwrap();
    }

    #[test]
    fn never_panics_on_near_records(
        ty in "[A-Z_]{1,12}",
        epoch in "[0-9.]{0,14}",
        serial in "[0-9a-z]{0,6}",
        body in "[a-z0-9=\"' \\[\\]\u{1d}]{0,80}",
    ) {
        let line = format!("type={ty} msg=audit({epoch}:{serial}): {body}\ntype=EXECVE msg=audit({epoch}:{serial}): {body}");
        let (batch, warnings) = parse_str(&line, &AuditdOptions::default()).unwrap();
        prop_assert!(batch.num_rows() + warnings.len() >= 1);
    }

    #[test]
    fn never_panics_on_arbitrary_cells(cell in "\\PC{0,200}") {
        let schema = Arc::new(Schema::new(vec![
            Field::new("mssg_id", DataType::Utf8, true),
            Field::new("AuditdMessage", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(schema, vec![
            Arc::new(StringArray::from(vec![Some("1.0:1")])),
            Arc::new(StringArray::from(vec![Some(cell)])),
        ]).unwrap();
        let (out, warnings) = extract_events(&batch, "AuditdMessage", &AuditdOptions::default()).unwrap();
        prop_assert!(out.num_rows() + warnings.len() >= 1);
    }
}
