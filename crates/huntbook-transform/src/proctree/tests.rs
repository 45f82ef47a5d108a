//! Tests of the table API and navigation on small hand-written tables, plus properties
//! checked against a straightforward quadratic parent search on generated data.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, TimestampNanosecondType};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float64Array, Int64Array, LargeStringArray, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{Field, Schema};

use super::generate::{generate, linux_batch, windows_batch, GenOptions};
use super::*;

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

fn text(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn opt_text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Column `name` of the tree as text (nulls as "<null>"), for compact assertions.
fn col(tree: &ProcessTree, name: &str) -> Vec<String> {
    let b = tree.batch();
    let c = b.column(
        b.schema()
            .index_of(name)
            .unwrap_or_else(|_| panic!("no column {name}")),
    );
    (0..c.len())
        .map(|i| {
            if c.is_null(i) {
                return "<null>".to_string();
            }
            match c.data_type() {
                arrow_schema::DataType::Utf8 => c.as_string::<i32>().value(i).to_string(),
                arrow_schema::DataType::LargeUtf8 => c.as_string::<i64>().value(i).to_string(),
                arrow_schema::DataType::Boolean => c.as_boolean().value(i).to_string(),
                arrow_schema::DataType::Int64 => c
                    .as_primitive::<arrow_array::types::Int64Type>()
                    .value(i)
                    .to_string(),
                arrow_schema::DataType::Timestamp(_, _) => {
                    key_time(c.as_primitive::<TimestampNanosecondType>().value(i))
                }
                other => format!("<{other}>"),
            }
        })
        .collect()
}

fn names(tree: &ProcessTree) -> Vec<String> {
    tree.batch()
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// The 4688 example used to learn MSTICPy's output (one host here; see `two_hosts`).
fn windows_example(hosts: [&str; 5]) -> RecordBatch {
    batch(vec![
        ("Computer", text(&hosts)),
        (
            "TimeGenerated",
            text(&[
                "2024-01-01 10:00:00.0000001",
                "2024-01-01 10:00:01.123456789",
                "2024-01-01 10:00:02",
                "2024-01-01 10:00:03",
                "2024-01-01 10:00:02.5",
            ]),
        ),
        (
            "NewProcessName",
            text(&[
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\System32\\whoami.exe",
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\System32\\net.exe",
                "C:\\Windows\\System32\\ping.exe",
            ]),
        ),
        (
            "NewProcessId",
            text(&["0x100", "0x200", "0x100", "0x300", "0x400"]),
        ),
        (
            "ParentProcessName",
            text(&[
                "C:\\Windows\\explorer.exe",
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\explorer.exe",
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\System32\\cmd.exe",
            ]),
        ),
        (
            "ProcessId",
            text(&["0x10", "0x100", "0x10", "0x100", "0x100"]),
        ),
        ("SubjectLogonId", text(&["0x3e7"; 5])),
        (
            "TargetLogonId",
            text(&["0x0", "0x1234", "0x0", "0x0", "0x0"]),
        ),
        (
            "CommandLine",
            text(&["cmd /c a", "whoami", "cmd reuse", "net user", "ping"]),
        ),
        ("EventID", Arc::new(Int64Array::from(vec![4688; 5]))),
        ("SubjectUserName", text(&["bob"; 5])),
    ])
}

#[test]
fn windows_4688_matches_msticpy_on_one_host() {
    let tree = build_process_tree(&windows_example(["h1"; 5]), None).unwrap();
    assert_eq!(tree.schema().name, "windows");
    // MSTICPy's columns after reset_index(), in its order.
    let expected = "proc_key Computer TimeGenerated NewProcessName NewProcessId ParentProcessName ProcessId \
        SubjectLogonId TargetLogonId CommandLine EventID SubjectUserName EffectiveLogonId new_process_lc \
        parent_proc_lc source_index NewProcessId_par EffectiveLogonId_par new_process_lc_par source_index_par \
        ProcessId_par NewProcessName_par timestamp_orig_par parent_key IsRoot IsLeaf IsBranch path parent_index";
    assert_eq!(
        names(&tree).join(" "),
        expected.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    assert_eq!(
        col(&tree, "proc_key"),
        [
            "c:\\windows\\explorer.exe|0x10|1970-01-01 00:00:00.000000",
            "c:\\windows\\system32\\cmd.exe|0x100|2024-01-01 10:00:00.000000",
            "c:\\windows\\system32\\whoami.exe|0x200|2024-01-01 10:00:01.123460",
            "c:\\windows\\system32\\cmd.exe|0x100|2024-01-01 10:00:02.000000",
            "c:\\windows\\system32\\ping.exe|0x400|2024-01-01 10:00:02.500000",
            "c:\\windows\\system32\\net.exe|0x300|2024-01-01 10:00:03.000000",
        ]
    );
    assert_eq!(
        col(&tree, "path"),
        [
            "00005",
            "00005/00000",
            "00005/00000/00001",
            "00005/00002",
            "00005/00002/00003",
            "00005/00002/00004"
        ]
    );
    assert_eq!(
        col(&tree, "parent_index"),
        ["<null>", "00005", "00000", "00005", "00002", "00002"]
    );
    assert_eq!(
        col(&tree, "source_index"),
        ["00005", "00000", "00001", "00002", "00003", "00004"]
    );
    assert_eq!(
        col(&tree, "source_index_par"),
        ["<null>", "<null>", "0", "<null>", "2", "2"]
    );
    assert_eq!(
        col(&tree, "EffectiveLogonId"),
        ["0x3e7", "0x3e7", "0x1234", "0x3e7", "0x3e7", "0x3e7"]
    );
    assert_eq!(
        col(&tree, "EffectiveLogonId_par"),
        ["<null>", "0x3e7", "0x3e7", "0x3e7", "0x3e7", "0x3e7"]
    );
    assert_eq!(
        col(&tree, "NewProcessId_par"),
        ["<null>", "0x10", "0x100", "0x10", "0x100", "0x100"]
    );
    assert_eq!(
        col(&tree, "ProcessId_par"),
        ["<null>", "<null>", "0x10", "<null>", "0x10", "0x10"]
    );
    assert_eq!(
        col(&tree, "new_process_lc_par")[1],
        "c:\\windows\\explorer.exe"
    );
    assert_eq!(
        col(&tree, "NewProcessName_par")[2],
        "C:\\Windows\\System32\\cmd.exe"
    );
    assert_eq!(
        col(&tree, "timestamp_orig_par")[..3],
        [
            "<null>",
            "1970-01-01 00:00:00.000000",
            "2024-01-01 10:00:00.000000"
        ]
    );
    // The inferred parent carries the child's host, logon, event id and parent name.
    assert_eq!(col(&tree, "NewProcessName")[0], "C:\\Windows\\explorer.exe");
    assert_eq!(col(&tree, "EventID"), ["4688"; 6]);
    assert_eq!(col(&tree, "Computer")[0], "h1");
    assert_eq!(col(&tree, "SubjectLogonId")[0], "0x3e7");
    assert_eq!(col(&tree, "CommandLine")[0], "<null>");
    assert_eq!(col(&tree, "TimeGenerated")[0], "1970-01-01 00:00:00.000000");
    assert_eq!(
        col(&tree, "parent_key")[..3],
        [
            "<null>".to_string(),
            col(&tree, "proc_key")[0].clone(),
            col(&tree, "proc_key")[1].clone()
        ]
    );
    assert_eq!(
        col(&tree, "IsRoot"),
        ["true", "false", "false", "false", "false", "false"]
    );
    assert_eq!(
        col(&tree, "IsLeaf"),
        ["false", "false", "true", "false", "true", "true"]
    );
    assert_eq!(
        col(&tree, "IsBranch"),
        ["false", "true", "false", "true", "false", "false"]
    );
    let s = tree.summary();
    assert_eq!(
        (
            s.processes,
            s.root_processes,
            s.leaf_processes,
            s.branch_processes,
            s.isolated_processes,
            s.largest_tree_depth
        ),
        (6, 1, 3, 2, 0, 3)
    );
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"Processes":6,"RootProcesses":1,"LeafProcesses":3,"BranchProcesses":2,"IsolatedProcesses":0,"LargestTreeDepth":3}"#
    );
}

#[test]
fn two_hosts_never_share_parents() {
    // ping on h2 names parent cmd.exe 0x100, which only ran on h1: MSTICPy links it
    // there; here it gets an inferred parent on its own host.
    let tree = build_process_tree(&windows_example(["h1", "h1", "h1", "h1", "h2"]), None).unwrap();
    let keys = col(&tree, "proc_key");
    let hosts = col(&tree, "Computer");
    let ping = keys.iter().position(|k| k.contains("ping.exe")).unwrap();
    let parent = tree.parent(ping).unwrap();
    assert_eq!(
        keys[parent],
        "c:\\windows\\system32\\cmd.exe|0x100|1970-01-01 00:00:00.000000"
    );
    assert_eq!(hosts[parent], "h2");
    assert!(col(&tree, "IsRoot")[parent] == "true");
    let s = tree.summary();
    assert_eq!(
        (
            s.processes,
            s.root_processes,
            s.leaf_processes,
            s.branch_processes
        ),
        (7, 2, 3, 2)
    );
}

#[test]
fn pid_reuse_on_one_host_picks_the_latest_earlier_parent() {
    let t = |s: u32| format!("2024-05-01T08:00:{s:02}Z");
    let times: Vec<String> = [0, 1, 2, 3, 4].iter().map(|&s| t(s)).collect();
    let b = batch(vec![
        (
            "TimeGenerated",
            text(&times.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
        ("Computer", text(&["h"; 5])),
        (
            "NewProcessName",
            text(&["a.exe", "x.exe", "a.exe", "y.exe", "z.exe"]),
        ),
        (
            "NewProcessId",
            text(&["0x10", "0x20", "0x10", "0x30", "0x40"]),
        ),
        (
            "ParentProcessName",
            text(&["boot.exe", "a.exe", "boot.exe", "a.exe", "A.EXE"]),
        ),
        ("ProcessId", text(&["0x4", "0x10", "0x4", "0x10", "0x10"])),
        ("EventID", text(&["4688"; 5])),
    ]);
    let tree = build_process_tree(&b, None).unwrap();
    let keys = col(&tree, "proc_key");
    let parent_of = |name: &str| {
        let row = keys.iter().position(|k| k.starts_with(name)).unwrap();
        keys[tree.parent(row).unwrap()].clone()
    };
    assert_eq!(parent_of("x.exe"), "a.exe|0x10|2024-05-01 08:00:00.000000");
    assert_eq!(parent_of("y.exe"), "a.exe|0x10|2024-05-01 08:00:02.000000");
    // Parent names match case-insensitively.
    assert_eq!(parent_of("z.exe"), "a.exe|0x10|2024-05-01 08:00:02.000000");
    // Both a.exe get the same inferred boot.exe parent (one row).
    assert_eq!(keys.iter().filter(|k| k.starts_with("boot.exe")).count(), 1);
    assert_eq!(tree.roots().len(), 1);
}

#[test]
fn same_pid_on_two_hosts() {
    let b = batch(vec![
        (
            "TimeGenerated",
            text(&[
                "2024-05-01 08:00:00",
                "2024-05-01 08:00:05",
                "2024-05-01 08:00:09",
                "2024-05-01 08:00:10",
            ]),
        ),
        ("Computer", text(&["a", "b", "a", "b"])),
        (
            "NewProcessName",
            text(&["cmd.exe", "cmd.exe", "calc.exe", "calc.exe"]),
        ),
        ("NewProcessId", text(&["0x10", "0x10", "0x20", "0x20"])),
        (
            "ParentProcessName",
            text(&["explorer.exe", "explorer.exe", "cmd.exe", "cmd.exe"]),
        ),
        ("ProcessId", text(&["0x8", "0x8", "0x10", "0x10"])),
        ("EventID", Arc::new(Int64Array::from(vec![4688; 4]))),
    ]);
    let tree = build_process_tree(&b, None).unwrap();
    let keys = col(&tree, "proc_key");
    let hosts = col(&tree, "Computer");
    for (i, k) in keys.iter().enumerate() {
        if let Some(p) = tree.parent(i) {
            assert_eq!(hosts[p], hosts[i], "{k} linked across hosts");
        }
    }
    let calc_a = (0..keys.len())
        .find(|&i| keys[i].starts_with("calc") && hosts[i] == "a")
        .unwrap();
    assert_eq!(
        keys[tree.parent(calc_a).unwrap()],
        "cmd.exe|0x10|2024-05-01 08:00:00.000000"
    );
    // One inferred explorer.exe per host, with the same key.
    let explorers: Vec<usize> = (0..keys.len())
        .filter(|&i| keys[i].starts_with("explorer.exe"))
        .collect();
    assert_eq!(explorers.len(), 2);
    assert_ne!(hosts[explorers[0]], hosts[explorers[1]]);
    assert_eq!(tree.summary().root_processes, 2);
}

#[test]
fn linux_auditd_matches_msticpy() {
    let b = batch(vec![
        ("Computer", text(&["h1"; 4])),
        (
            "TimeGenerated",
            text(&[
                "2024-01-01 10:00:00",
                "2024-01-01 10:00:01",
                "2024-01-01 10:00:01",
                "2024-01-01 10:00:02",
            ]),
        ),
        (
            "exe",
            text(&["/bin/bash", "/usr/bin/ls", "/usr/bin/ls", "/usr/bin/id"]),
        ),
        ("pid", Arc::new(Int64Array::from(vec![100, 200, 200, 201]))),
        ("ppid", Arc::new(Int64Array::from(vec![1, 100, 100, 100]))),
        ("ses", text(&["3", "3", "3", "4"])),
        ("uid", Arc::new(Int64Array::from(vec![1000; 4]))),
        (
            "EventType",
            text(&[
                "SYSCALL_EXECVE",
                "SYSCALL_EXECVE",
                "SYSCALL_EXECVE",
                "SYSCALL",
            ]),
        ),
        ("cmdline", text(&["bash", "ls", "ls", "id"])),
    ]);
    let tree = build_process_tree(&b, None).unwrap();
    assert_eq!(tree.schema().name, "linux");
    let expected = "proc_key Computer TimeGenerated exe pid ppid ses uid EventType cmdline EffectiveLogonId \
        new_process_lc source_index pid_par EffectiveLogonId_par new_process_lc_par source_index_par ppid_par \
        exe_par timestamp_orig_par NewProcessId_par ParentName parent_proc_lc parent_key IsRoot IsLeaf IsBranch \
        path parent_index";
    assert_eq!(
        names(&tree).join(" "),
        expected.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    assert_eq!(
        col(&tree, "proc_key"),
        [
            "unknown|1|1970-01-01 00:00:00.000000",
            "/bin/bash|100|2024-01-01 10:00:00.000000",
            "/usr/bin/ls|200|2024-01-01 10:00:01.000000"
        ]
    );
    assert_eq!(col(&tree, "exe"), ["<null>", "/bin/bash", "/usr/bin/ls"]);
    assert_eq!(col(&tree, "pid"), ["1", "100", "200"]);
    assert_eq!(col(&tree, "ppid"), ["<null>", "1", "100"]);
    assert_eq!(col(&tree, "uid"), ["<null>", "1000", "1000"]);
    assert_eq!(col(&tree, "ses"), ["3", "3", "3"]);
    assert_eq!(col(&tree, "EffectiveLogonId"), ["3", "3", "3"]);
    assert_eq!(col(&tree, "source_index"), ["00002", "00000", "00001"]);
    assert_eq!(col(&tree, "pid_par"), ["<null>", "<null>", "100"]);
    assert_eq!(col(&tree, "EffectiveLogonId_par"), ["<null>", "3", "3"]);
    assert_eq!(
        col(&tree, "new_process_lc_par"),
        ["<null>", "unknown", "/bin/bash"]
    );
    assert_eq!(col(&tree, "exe_par"), ["<null>", "unknown", "/bin/bash"]);
    assert_eq!(col(&tree, "NewProcessId_par"), ["<null>", "1", "<null>"]);
    assert_eq!(
        col(&tree, "ParentName"),
        ["unknown", "unknown", "/bin/bash"]
    );
    assert_eq!(
        col(&tree, "parent_proc_lc"),
        ["<null>", "unknown", "/bin/bash"]
    );
    assert_eq!(
        col(&tree, "path"),
        ["00002", "00002/00000", "00002/00000/00001"]
    );
}

#[test]
fn linux_without_session_ids_uses_zero() {
    let b = batch(vec![
        ("Computer", text(&["h1"; 2])),
        (
            "TimeGenerated",
            text(&["2024-01-01 10:00:00", "2024-01-01 10:00:01"]),
        ),
        ("exe", text(&["/bin/bash", "/usr/bin/ls"])),
        ("pid", Arc::new(Float64Array::from(vec![100.0, 200.0]))),
        ("ppid", Arc::new(Float64Array::from(vec![1.0, 100.0]))),
        ("EventType", text(&["SYSCALL_EXECVE"; 2])),
        ("cmdline", text(&["bash", "ls"])),
    ]);
    let tree = build_process_tree(&b, Some(&ProcSchema::linux_auditd())).unwrap();
    assert_eq!(col(&tree, "EffectiveLogonId"), ["0", "0", "0"]);
    assert_eq!(col(&tree, "EffectiveLogonId_par"), ["0", "0", "0"]);
    assert_eq!(col(&tree, "pid"), ["1", "100", "200"]);
}

#[test]
fn sysmon_filters_other_events_and_reads_typed_columns() {
    let micros = |s: i64| 1_714_550_400_000_000 + s * 1_000_000;
    let hosts = DictionaryArray::<Int32Type>::from_iter(["ws1", "ws1", "ws1", "ws1"]);
    let b = batch(vec![
        (
            "UtcTime",
            Arc::new(TimestampMicrosecondArray::from(vec![
                micros(0),
                micros(1),
                micros(2),
                micros(2),
            ])),
        ),
        ("Computer", Arc::new(hosts)),
        ("EventID", Arc::new(Int64Array::from(vec![1, 1, 3, 1]))),
        (
            "Image",
            Arc::new(LargeStringArray::from(vec![
                "C:\\w\\cmd.exe",
                "C:\\w\\net.exe",
                "C:\\w\\cmd.exe",
                "C:\\w\\net1.exe",
            ])),
        ),
        (
            "ProcessId",
            Arc::new(Int64Array::from(vec![500, 600, 500, 700])),
        ),
        (
            "ParentImage",
            opt_text(&[
                Some("C:\\w\\explorer.exe"),
                Some("C:\\w\\cmd.exe"),
                None,
                Some(""),
            ]),
        ),
        (
            "ParentProcessId",
            Arc::new(Int64Array::from(vec![
                Some(400),
                Some(500),
                None,
                Some(600),
            ])),
        ),
        ("CommandLine", text(&["cmd", "net user", "", "net1 user"])),
        ("User", text(&["CORP\\bob"; 4])),
        ("LogonId", text(&["0x1"; 4])),
    ]);
    let tree = build_process_tree(&b, None).unwrap();
    assert_eq!(tree.schema().name, "sysmon");
    let keys = col(&tree, "proc_key");
    assert_eq!(keys.len(), 5, "{keys:?}"); // 3 events + explorer + the empty-named parent
    assert_eq!(col(&tree, "Image")[1], "C:\\w\\cmd.exe");
    assert_eq!(
        tree.batch().column_by_name("Image").unwrap().data_type(),
        &arrow_schema::DataType::LargeUtf8
    );
    assert_eq!(
        tree.batch().column_by_name("UtcTime").unwrap().data_type(),
        &arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, Some("UTC".into()))
    );
    // An empty parent name becomes "unknown", and so does the inferred parent's name.
    assert!(
        keys.contains(&"unknown|600|1970-01-01 00:00:00.000000".to_string()),
        "{keys:?}"
    );
    assert_eq!(
        col(&tree, "ParentImage")
            .iter()
            .filter(|v| *v == "unknown")
            .count(),
        1
    );
    assert_eq!(col(&tree, "ProcessId"), ["400", "500", "600", "600", "700"]);
}

#[test]
fn defender_osquery_hx_and_custom_schemas() {
    let mde = batch(vec![
        (
            "Timestamp",
            text(&["2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"]),
        ),
        ("DeviceName", text(&["pc1", "pc1"])),
        ("ActionType", text(&["ProcessCreated", "ProcessCreated"])),
        ("FileName", text(&["powershell.exe", "whoami.exe"])),
        ("ProcessId", Arc::new(Int64Array::from(vec![10, 11]))),
        (
            "InitiatingProcessFileName",
            text(&["cmd.exe", "PowerShell.exe"]),
        ),
        (
            "InitiatingProcessId",
            Arc::new(Int64Array::from(vec![9, 10])),
        ),
        (
            "ProcessCommandLine",
            text(&["powershell -c whoami", "whoami"]),
        ),
        ("AccountName", text(&["bob", "bob"])),
        ("LogonId", Arc::new(Int64Array::from(vec![999, 999]))),
    ]);
    let tree = build_process_tree(&mde, None).unwrap();
    assert_eq!(tree.schema().name, "mde");
    assert_eq!(
        col(&tree, "proc_key")[0],
        "cmd.exe|9|1970-01-01 00:00:00.000000"
    );
    assert_eq!(tree.summary().largest_tree_depth, 3);

    let osq = batch(vec![
        (
            "calendarTime",
            text(&["2024-01-01 00:00:00", "2024-01-01 00:00:01"]),
        ),
        ("name", text(&["bash", "ls"])),
        ("pid", Arc::new(Int64Array::from(vec![10, 11]))),
        ("parent", Arc::new(Int64Array::from(vec![1, 10]))),
        ("pcmdline", text(&["init", "bash"])),
        ("cmdline", text(&["-bash", "ls -la"])),
        ("username", text(&["root", "root"])),
    ]);
    let tree = build_process_tree(&osq, None).unwrap();
    assert_eq!(tree.schema().name, "osquery");
    // The parent "name" is the parent's command line, as in MSTICPy: `bash` matches.
    assert_eq!(tree.summary().largest_tree_depth, 3);

    let hx = batch(vec![
        (
            "starttime",
            text(&["2024-01-01 00:00:00", "2024-01-01 00:00:01"]),
        ),
        ("hostname", text(&["x", "x"])),
        ("eventtype", text(&["start", "end"])),
        ("process", text(&["a.exe", "a.exe"])),
        ("pid", text(&["5", "5"])),
        ("parentprocess", text(&["b.exe", "b.exe"])),
        ("parentpid", text(&["4", "4"])),
    ]);
    let tree = build_process_tree(&hx, None).unwrap();
    assert_eq!(tree.schema().name, "hx");
    assert_eq!(tree.len(), 2);

    let mut map = std::collections::BTreeMap::new();
    for (k, v) in [
        ("process_name", "proc"),
        ("process_id", "id"),
        ("parent_id", "pid"),
        ("time_stamp", "when"),
        ("host_name_column", "box"),
    ] {
        map.insert(k.to_string(), v.to_string());
    }
    let schema = ProcSchema::from_map(&map).unwrap();
    let custom = batch(vec![
        (
            "when",
            text(&[
                "2024-01-01 00:00:00",
                "2024-01-01 00:00:01",
                "2024-01-01 00:00:02",
            ]),
        ),
        ("box", text(&["m", "m", "n"])),
        ("proc", text(&["p", "q", "r"])),
        ("id", text(&["1", "2", "3"])),
        ("pid", text(&["0", "1", "1"])),
    ]);
    let tree = build_process_tree(&custom, Some(&schema)).unwrap();
    assert_eq!(tree.summary().root_processes, 2); // q under p on m; r orphaned on n
    assert!(names(&tree).contains(&"ParentName".to_string()));
}

#[test]
fn errors_name_the_problem() {
    let b = batch(vec![("a", text(&["x"])), ("b", text(&["y"]))]);
    let e = build_process_tree(&b, None).unwrap_err().to_string();
    assert!(e.contains("no process schema") && e.contains("a, b"), "{e}");
    let e = build_process_tree(&b, Some(&ProcSchema::sysmon()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'Image' is missing") && e.contains("a, b"),
        "{e}"
    );
    let mut table = windows_example(["h"; 5]);
    let mut cols = table.columns().to_vec();
    cols[1] = opt_text(&[
        Some("2024-01-01 00:00:00"),
        None,
        Some("2024-01-01 00:00:00"),
        Some("x"),
        Some("2024-01-01 00:00:00"),
    ]);
    table = RecordBatch::try_new(
        Arc::new(Schema::new(
            table
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    f.as_ref().clone().with_data_type(
                        cols[table.schema().index_of(f.name()).unwrap()]
                            .data_type()
                            .clone(),
                    )
                })
                .collect::<Vec<_>>(),
        )),
        cols.clone(),
    )
    .unwrap();
    let e = build_process_tree(&table, None).unwrap_err().to_string();
    assert!(e.contains("row 3") && e.contains("'x'"), "{e}");
    cols[1] = opt_text(&[
        Some("2024-01-01 00:00:00"),
        None,
        Some("2024-01-01 00:00:00"),
        Some("2024-01-01 00:00:00"),
        Some("2024-01-01 00:00:00"),
    ]);
    let table = RecordBatch::try_new(table.schema(), cols).unwrap();
    let e = build_process_tree(&table, None).unwrap_err().to_string();
    assert!(e.contains("row 1") && e.contains("missing"), "{e}");
}

#[test]
fn null_parent_pid_is_a_root_without_inferred_parent() {
    let b = batch(vec![
        (
            "TimeGenerated",
            text(&["2024-01-01 00:00:00", "2024-01-01 00:00:01"]),
        ),
        ("NewProcessName", text(&["System", "smss.exe"])),
        ("NewProcessId", text(&["0x4", "0x100"])),
        ("ProcessId", opt_text(&[None, Some("0x4")])),
        ("ParentProcessName", opt_text(&[None, Some("System")])),
    ]);
    let tree = build_process_tree(&b, Some(&ProcSchema::windows_4688())).unwrap();
    assert_eq!(
        col(&tree, "proc_key"),
        [
            "system|0x4|2024-01-01 00:00:00.000000",
            "smss.exe|0x100|2024-01-01 00:00:01.000000"
        ]
    );
    assert_eq!(
        col(&tree, "parent_key"),
        ["<null>", "system|0x4|2024-01-01 00:00:00.000000"]
    );
    assert_eq!(col(&tree, "EffectiveLogonId"), ["0", "0"]);
}

#[test]
fn deep_chain() {
    let n = 3_000usize;
    let times: Vec<String> = (0..n)
        .map(|i| format!("2024-01-01 00:00:{:02}.{:06}", i / 1000, i % 1000 * 1000))
        .collect();
    let pids: Vec<String> = (0..n).map(|i| format!("{}", i + 10)).collect();
    let ppids: Vec<String> = (0..n).map(|i| format!("{}", i + 9)).collect();
    let b = batch(vec![
        (
            "TimeGenerated",
            text(&times.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
        ("NewProcessName", text(&vec!["sh"; n])),
        (
            "NewProcessId",
            text(&pids.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
        (
            "ProcessId",
            text(&ppids.iter().map(String::as_str).collect::<Vec<_>>()),
        ),
        ("ParentProcessName", text(&vec!["sh"; n])),
    ]);
    let tree = build_process_tree(&b, Some(&ProcSchema::windows_4688())).unwrap();
    let s = tree.summary();
    assert_eq!(
        (
            s.processes,
            s.root_processes,
            s.leaf_processes,
            s.branch_processes,
            s.largest_tree_depth
        ),
        (n + 1, 1, 1, n - 1, n + 1)
    );
    let last = tree.len() - 1;
    assert_eq!(tree.depth(last), n);
    assert_eq!(
        tree.ancestors(last, true).unwrap(),
        (0..=last).collect::<Vec<_>>()
    );
    assert_eq!(tree.descendants(0, false, None).unwrap().len(), n);
    assert_eq!(tree.descendants(0, false, Some(2)).unwrap(), vec![1, 2]);
    assert_eq!(tree.root_of(last).unwrap(), 0);
    assert_eq!(col(&tree, "path")[last].matches('/').count(), n);
}

#[test]
fn navigation_and_find() {
    let tree = build_process_tree(&windows_example(["h1"; 5]), None).unwrap();
    // rows: 0 explorer(inferred) 1 cmd 2 whoami 3 cmd(reuse) 4 ping 5 net
    assert_eq!(tree.roots(), vec![0]);
    assert_eq!(tree.children(0, false).unwrap(), vec![1, 3]);
    assert_eq!(tree.children(3, true).unwrap(), vec![3, 4, 5]);
    assert_eq!(
        tree.descendants(0, true, None).unwrap(),
        vec![0, 1, 2, 3, 4, 5]
    );
    assert_eq!(tree.descendants(3, false, None).unwrap(), vec![4, 5]);
    assert_eq!(tree.ancestors(5, true).unwrap(), vec![0, 3, 5]);
    assert_eq!(tree.ancestors(5, false).unwrap(), vec![0, 3]);
    assert_eq!(tree.siblings(4, true).unwrap(), vec![4, 5]);
    assert_eq!(tree.siblings(4, false).unwrap(), vec![5]);
    assert_eq!(tree.siblings(0, true).unwrap(), vec![0]);
    assert_eq!(tree.root_of(2).unwrap(), 0);
    assert_eq!(tree.root_tree(4).unwrap().len(), 6);
    assert_eq!(tree.tree_depth(), 3);
    assert_eq!(tree.find("cmd.exe|0x100"), vec![1, 3]);
    assert_eq!(tree.find("CMD.EXE|0x100|2024-01-01 10:00:02"), vec![3]);
    assert_eq!(tree.find("c:\\windows\\system32\\whoami.exe"), vec![2]);
    assert!(tree
        .find_one("calc.exe")
        .unwrap_err()
        .to_string()
        .contains("calc.exe"));
    assert!(tree.children(99, false).is_err());
    let sub = tree
        .take_rows(&tree.descendants(3, true, None).unwrap())
        .unwrap();
    assert_eq!(sub.num_rows(), 3);
    assert_eq!(sub.schema(), tree.batch().schema());
}

#[test]
fn text_rendering() {
    let tree = build_process_tree(&windows_example(["h1"; 5]), None).unwrap();
    let rows = tree.descendants(3, true, None).unwrap();
    let text = tree.to_text(Some(&rows), &TextOptions::default());
    let expected = [
        "   +--  Process: C:\\Windows\\System32\\cmd.exe  PID: 0x100",
        "        Time: 2024-01-01 10:00:02+00:00",
        "        Cmdline: cmd reuse",
        "        Account: bob  LogonId: 0x3e7",
        "      +--  Process: C:\\Windows\\System32\\ping.exe  PID: 0x400",
        "           Time: 2024-01-01 10:00:02.500000+00:00",
        "           Cmdline: ping",
        "           Account: bob  LogonId: 0x3e7",
        "      +--  Process: C:\\Windows\\System32\\net.exe  PID: 0x300",
        "           Time: 2024-01-01 10:00:03+00:00",
        "           Cmdline: net user",
        "           Account: bob  LogonId: 0x3e7",
        "",
    ]
    .join("\n");
    assert_eq!(text, expected);
    let brief = tree.to_text(
        None,
        &TextOptions {
            wrap: 40,
            details: false,
        },
    );
    assert!(
        brief.starts_with("+  Process: C:\\Windows\\explorer.exe  PID:\n   0x10\n   Cmdline:\n"),
        "{brief}"
    );
}

#[test]
fn exact_duplicates_are_dropped_first() {
    let events = generate(&GenOptions {
        events: 400,
        hosts: 2,
        duplicate_rate: 0.2,
        ..GenOptions::default()
    });
    let b = windows_batch(&events);
    let tree = build_process_tree(&b, None).unwrap();
    let distinct: std::collections::HashSet<(i64, &str, u32)> = events
        .iter()
        .filter(|e| e.event_id == 4688)
        .map(|e| (e.time_ns, e.host.as_str(), e.pid))
        .collect();
    let real = col(&tree, "TimeGenerated")
        .iter()
        .filter(|t| !t.starts_with("1970"))
        .count();
    assert_eq!(real, distinct.len());
}

/// A caller keeping columns back gets the same tree without them, and is asked for them
/// only at rows that may be duplicates; rows differing only there are both kept.
#[test]
fn columns_kept_back_are_read_only_where_rows_may_repeat() {
    let events = generate(&GenOptions {
        events: 400,
        hosts: 2,
        duplicate_rate: 0.2,
        ..GenOptions::default()
    });
    let full = windows_batch(&events);
    let schema = ProcSchema::by_name("windows").unwrap();
    let reads = schema.reads();
    let split = |keep: bool| -> RecordBatch {
        let fields: Vec<usize> = (0..full.num_columns())
            .filter(|&i| reads.contains(&full.schema().field(i).name().as_str()) == keep)
            .collect();
        full.project(&fields).unwrap()
    };
    let (read, others) = (split(true), split(false));
    assert!(others.schema().index_of("CommandLine").is_ok());
    let asked = std::cell::RefCell::new(Vec::new());
    let at_rows = |changed: Option<u32>| {
        let asked = &asked;
        let others = &others;
        move |rows: &[u32]| -> Result<RecordBatch, ProcTreeError> {
            asked.borrow_mut().extend_from_slice(rows);
            let at: Vec<Option<u32>> = rows.iter().map(|&r| Some(r)).collect();
            let mut cols: Vec<ArrayRef> = others
                .columns()
                .iter()
                .map(|c| table::take_or_null(c, &at).unwrap())
                .collect();
            if let Some(row) = changed {
                // The command line of one input row differs from its duplicate's.
                let line = others.schema().index_of("CommandLine").unwrap();
                let texts: arrow_array::StringArray = rows
                    .iter()
                    .zip(cols[line].as_string::<i32>().iter())
                    .map(|(&r, t)| if r == row { Some("changed") } else { t })
                    .collect();
                cols[line] = Arc::new(texts);
            }
            Ok(RecordBatch::try_new(others.schema(), cols).unwrap())
        }
    };

    let whole = build_process_tree(&full, Some(&schema)).unwrap();
    let fetch = at_rows(None);
    let kept = build_process_tree_with(&read, Some(&schema), Some(&fetch)).unwrap();
    assert_eq!(col(&kept, table::PROC_KEY), col(&whole, table::PROC_KEY));
    assert_eq!(col(&kept, "path"), col(&whole, "path"));
    assert_eq!(kept.added_columns(), whole.added_columns());
    assert!(kept.batch().schema().index_of("CommandLine").is_err());
    let asked_rows = std::mem::take(&mut *asked.borrow_mut());
    assert!(!asked_rows.is_empty() && asked_rows.len() < full.num_rows() / 2);
    // Source rows lead back to the same events.
    let lines = others
        .column_by_name("CommandLine")
        .unwrap()
        .as_string::<i32>();
    let whole_lines = col(&whole, "CommandLine");
    for (k, source) in kept.source_rows().iter().enumerate() {
        match source {
            Some(r) => assert_eq!(lines.value(*r as usize), whole_lines[k]),
            None => assert!(!whole
                .batch()
                .column_by_name("CommandLine")
                .unwrap()
                .is_valid(k)),
        }
    }
    // The text rendering reads the kept-back columns from the caller.
    assert_eq!(
        kept.text_columns_missing(),
        ["CommandLine", "SubjectUserName"]
    );
    let more = {
        let cols = others
            .columns()
            .iter()
            .map(|c| table::take_or_null(c, kept.source_rows()).unwrap())
            .collect();
        RecordBatch::try_new(others.schema(), cols).unwrap()
    };
    let options = TextOptions::default();
    assert_eq!(
        kept.to_text_with(None, &options, Some(&more)),
        whole.to_text(None, &options)
    );

    // A duplicate whose kept-back command line differs is not dropped.
    let time_ns = full
        .column_by_name("TimeGenerated")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>()
        .values()
        .to_vec();
    let order =
        super::build::time_order(&time_ns, &(0..full.num_rows() as u32).collect::<Vec<_>>());
    let distinct = table::distinct_rows(&full, None, &time_ns, order.clone()).unwrap();
    let fetch = at_rows(None);
    let same = table::distinct_rows(&read, Some(&fetch), &time_ns, order.clone()).unwrap();
    assert_eq!(same, distinct);
    let dropped: Vec<u32> = order
        .iter()
        .copied()
        .filter(|r| !distinct.contains(r))
        .collect();
    assert!(!dropped.is_empty(), "the generator repeats rows");
    let fetch = at_rows(Some(dropped[0]));
    let apart = table::distinct_rows(&read, Some(&fetch), &time_ns, order.clone()).unwrap();
    assert_eq!(apart.len(), distinct.len() + 1);
    assert!(apart.contains(&dropped[0]));
}

/// Dictionary-encoded text columns (as a DataFrame's repeated Python strings arrive)
/// give the same tree as plain ones.
#[test]
fn dictionary_columns_give_the_same_tree() {
    let events = generate(&GenOptions {
        events: 600,
        hosts: 3,
        duplicate_rate: 0.05,
        ..GenOptions::default()
    });
    let plain = windows_batch(&events);
    let columns: Vec<ArrayRef> = plain
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            arrow_schema::DataType::Utf8 => Arc::new(
                c.as_string::<i32>()
                    .iter()
                    .collect::<arrow_array::DictionaryArray<Int32Type>>(),
            ) as ArrayRef,
            _ => c.clone(),
        })
        .collect();
    let fields: Vec<Field> = plain
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), true))
        .collect();
    let encoded = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let (a, b) = (
        build_process_tree(&plain, None).unwrap(),
        build_process_tree(&encoded, None).unwrap(),
    );
    for name in [
        "proc_key",
        "parent_key",
        "path",
        "NewProcessName",
        "ProcessId",
        "EffectiveLogonId",
    ] {
        assert_eq!(col(&a, name), col(&b, name), "{name}");
    }
    assert_eq!(a.summary(), b.summary());
}

/// Reference parent search: for every kept event, scan all events.
fn reference_parents(b: &RecordBatch) -> HashMap<usize, Option<usize>> {
    let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
    let (host, name, pid, pname, ppid) = (
        s("Computer"),
        s("NewProcessName"),
        s("NewProcessId"),
        s("ParentProcessName"),
        s("ProcessId"),
    );
    let time = b
        .column_by_name("TimeGenerated")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>()
        .clone();
    let eid = b
        .column_by_name("EventID")
        .unwrap()
        .as_primitive::<arrow_array::types::Int64Type>()
        .clone();
    let keep: Vec<usize> = (0..b.num_rows())
        .filter(|&i| eid.value(i) == 4688)
        .collect();
    // Drop exact duplicates (first kept); the generator repeats whole rows.
    let mut seen = std::collections::HashSet::new();
    let keep: Vec<usize> = keep
        .into_iter()
        .filter(|&i| {
            seen.insert((
                time.value(i),
                host.value(i),
                pid.value(i),
                name.value(i),
                b.column_by_name("CommandLine")
                    .unwrap()
                    .as_string::<i32>()
                    .value(i),
            ))
        })
        .collect();
    keep.iter()
        .map(|&c| {
            let parent = keep
                .iter()
                .copied()
                .filter(|&p| {
                    host.value(p) == host.value(c)
                        && pid.value(p) == ppid.value(c)
                        && name.value(p).to_lowercase() == pname.value(c).to_lowercase()
                        && time.value(p) <= time.value(c)
                })
                .max_by_key(|&p| (time.value(p), p));
            (c, parent)
        })
        .collect()
}

#[test]
fn parents_agree_with_a_quadratic_search_on_generated_data() {
    for seed in [1u64, 2, 3] {
        let events = generate(&GenOptions {
            events: 1_500,
            hosts: 3,
            seed,
            pid_space: 0x300,
            ..GenOptions::default()
        });
        let b = windows_batch(&events);
        let tree = build_process_tree(&b, None).unwrap();
        let want = reference_parents(&b);
        let srcpar = tree
            .batch()
            .column_by_name("source_index_par")
            .unwrap()
            .as_primitive::<arrow_array::types::Int64Type>()
            .clone();
        let si = col(&tree, "source_index");
        // Map the output rows back to input rows via the parent's input row.
        let mut got: HashMap<usize, Option<usize>> = HashMap::new();
        let times = tree
            .batch()
            .column_by_name("TimeGenerated")
            .unwrap()
            .as_primitive::<TimestampNanosecondType>()
            .clone();
        let hosts = col(&tree, "Computer");
        let pids = col(&tree, "NewProcessId");
        let input_row = |i: usize| {
            (0..b.num_rows()).find(|&r| {
                b.column_by_name("TimeGenerated")
                    .unwrap()
                    .as_primitive::<TimestampNanosecondType>()
                    .value(r)
                    == times.value(i)
                    && b.column_by_name("Computer")
                        .unwrap()
                        .as_string::<i32>()
                        .value(r)
                        == hosts[i]
                    && b.column_by_name("NewProcessId")
                        .unwrap()
                        .as_string::<i32>()
                        .value(r)
                        == pids[i]
            })
        };
        for i in 0..tree.len() {
            if times.value(i) == 0 {
                continue;
            }
            let child = input_row(i).expect("real row comes from the input");
            got.insert(
                child,
                (!srcpar.is_null(i)).then(|| srcpar.value(i) as usize),
            );
        }
        assert_eq!(got.len(), want.len(), "seed {seed}");
        for (child, parent) in &want {
            assert_eq!(
                got.get(child),
                Some(parent),
                "seed {seed} child row {child}"
            );
        }
        // Every path ends with the row's own source index and extends its parent's.
        let paths = col(&tree, "path");
        for i in 0..tree.len() {
            assert!(paths[i].ends_with(&si[i]));
            if let Some(p) = tree.parent(i) {
                assert_eq!(paths[i], format!("{}/{}", paths[p], si[i]));
                assert!(times.value(p) <= times.value(i));
            }
        }
        let s = tree.summary();
        assert_eq!(
            s.root_processes + s.branch_processes + (s.leaf_processes - s.isolated_processes),
            s.processes
        );
    }
}

#[test]
fn linux_generated_tree_is_consistent() {
    let events = generate(&GenOptions {
        events: 2_000,
        hosts: 5,
        seed: 9,
        ..GenOptions::default()
    });
    let tree = build_process_tree(&linux_batch(&events), None).unwrap();
    assert_eq!(tree.schema().name, "linux");
    let hosts = col(&tree, "Computer");
    for i in 0..tree.len() {
        if let Some(p) = tree.parent(i) {
            assert_eq!(hosts[p], hosts[i]);
        }
    }
    assert!(tree.summary().largest_tree_depth >= 3);
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// Writes generated events and this builder's links and summary as CSV/JSON into the
/// folder named by `HB_PROCTREE_DUMP`, for a side-by-side run of MSTICPy during
/// development (`cargo test -- --ignored dump_for_msticpy`). Hosts and seed come from
/// `HB_PROCTREE_HOSTS` / `HB_PROCTREE_SEED`.
#[test]
#[ignore]
fn dump_for_msticpy() {
    let Ok(dir) = std::env::var("HB_PROCTREE_DUMP") else {
        return;
    };
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let options = GenOptions {
        events: env("HB_PROCTREE_EVENTS", 3_000) as usize,
        hosts: env("HB_PROCTREE_HOSTS", 1) as usize,
        seed: env("HB_PROCTREE_SEED", 1),
        pid_space: 0x600,
        ..GenOptions::default()
    };
    let b = windows_batch(&generate(&options));
    let mut csv = String::new();
    let schema = b.schema();
    csv.push_str(
        &schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    csv.push('\n');
    for r in 0..b.num_rows() {
        let row: Vec<String> = b
            .columns()
            .iter()
            .map(|c| {
                if c.is_null(r) {
                    return String::new();
                }
                match c.data_type() {
                    arrow_schema::DataType::Utf8 => csv_field(c.as_string::<i32>().value(r)),
                    arrow_schema::DataType::Int64 => c
                        .as_primitive::<arrow_array::types::Int64Type>()
                        .value(r)
                        .to_string(),
                    _ => {
                        let ns = c.as_primitive::<TimestampNanosecondType>().value(r);
                        let dt = chrono::DateTime::from_timestamp(ns.div_euclid(1_000_000_000), 0)
                            .unwrap();
                        format!(
                            "{}.{:09}",
                            dt.format("%Y-%m-%d %H:%M:%S"),
                            ns.rem_euclid(1_000_000_000)
                        )
                    }
                }
            })
            .collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    std::fs::write(format!("{dir}/events.csv"), csv).unwrap();
    let tree = build_process_tree(&b, None).unwrap();
    let (keys, parents, paths) = (
        col(&tree, "proc_key"),
        col(&tree, "parent_key"),
        col(&tree, "path"),
    );
    let links: String = (0..keys.len())
        .map(|i| format!("{}\t{}\t{}\n", keys[i], parents[i], paths[i]))
        .collect();
    std::fs::write(format!("{dir}/rust_links.tsv"), links).unwrap();
    std::fs::write(
        format!("{dir}/rust_summary.json"),
        serde_json::to_string(&tree.summary()).unwrap(),
    )
    .unwrap();
}

/// Process CPU time (user + system) from /proc, so timings on a busy machine can be
/// told apart from waiting for a core; 0 where /proc is missing.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // After the command name, field 3 (state) comes first; utime and stime are fields
    // 14 and 15, in clock ticks (100 a second).
    f.get(11)
        .zip(f.get(12))
        .map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// Build time on generated Windows events; sizes from `HB_PROCTREE_SIZES` (default
/// `100000,1000000`). Run in an optimised build:
/// `cargo test --release -p huntbook-transform -- --ignored --nocapture proctree_timing`.
#[test]
#[ignore]
fn proctree_timing() {
    let sizes = std::env::var("HB_PROCTREE_SIZES").unwrap_or_else(|_| "100000,1000000".into());
    for n in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let events = generate(&GenOptions {
            events: n,
            hosts: 20,
            seed: 5,
            ..GenOptions::default()
        });
        let b = windows_batch(&events);
        let (start, cpu) = (std::time::Instant::now(), cpu_seconds());
        let tree = build_process_tree(&b, None).unwrap();
        let (took, cpu) = (start.elapsed(), cpu_seconds() - cpu);
        // Dropped only now: freeing millions of small strings leaves the allocator a
        // second of clean-up, which the first allocation after it would pay for.
        drop(events);
        println!(
            "{n} events ({} rows in): {:.3} s wall, {cpu:.3} s cpu, {:?}",
            b.num_rows(),
            took.as_secs_f64(),
            tree.summary()
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn as_refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    /// (host, second, name, pid, parent name, parent pid), all from tiny ranges so that
    /// pid reuse, simultaneous starts, equal keys and self-parents all happen.
    fn rows() -> impl Strategy<Value = Vec<(u8, u8, u8, u8, u8, u8)>> {
        proptest::collection::vec((0u8..2, 0u8..6, 0u8..3, 0u8..4, 0u8..3, 0u8..4), 1..40)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn parents_match_a_quadratic_search(rows in rows()) {
            let names = ["a.exe", "B.exe", "c.exe"];
            let host: Vec<String> = rows.iter().map(|r| format!("h{}", r.0)).collect();
            let time: Vec<String> = rows.iter().map(|r| format!("2024-01-01 00:00:{:02}", r.1)).collect();
            let name: Vec<&str> = rows.iter().map(|r| names[r.2 as usize]).collect();
            let pid: Vec<String> = rows.iter().map(|r| r.3.to_string()).collect();
            let pname: Vec<&str> = rows.iter().map(|r| names[r.4 as usize]).collect();
            let ppid: Vec<String> = rows.iter().map(|r| r.5.to_string()).collect();
            let b = batch(vec![
                ("Computer", text(&as_refs(&host))),
                ("TimeGenerated", text(&as_refs(&time))),
                ("NewProcessName", text(&name)),
                ("NewProcessId", text(&as_refs(&pid))),
                ("ParentProcessName", text(&pname)),
                ("ProcessId", text(&as_refs(&ppid))),
            ]);
            let tree = build_process_tree(&b, Some(&ProcSchema::windows_4688())).unwrap();

            // Reference: distinct rows, parent = latest same-host event with that pid and
            // name started no later (ties: later input row), keyed as MSTICPy keys.
            let mut seen = std::collections::HashSet::new();
            let kept: Vec<usize> = (0..rows.len()).filter(|&i| seen.insert(rows[i])).collect();
            let key = |i: usize| format!("{}|{}|2024-01-01 00:00:{:02}.000000", name[i].to_lowercase(), pid[i], rows[i].1);
            let mut expected: HashMap<(String, String), Option<String>> = HashMap::new();
            let mut order = kept.clone();
            order.sort_by_key(|&i| (rows[i].1, i));
            for &c in &order {
                let parent = kept
                    .iter()
                    .copied()
                    .filter(|&p| rows[p].0 == rows[c].0 && pid[p] == ppid[c]
                        && name[p].to_lowercase() == pname[c].to_lowercase() && rows[p].1 <= rows[c].1)
                    .max_by_key(|&p| (rows[p].1, p));
                let pkey = match parent {
                    Some(p) => key(p),
                    None => format!("{}|{}|1970-01-01 00:00:00.000000", pname[c].to_lowercase(), ppid[c]),
                };
                // The first event with a key (in time order) is the one kept.
                expected.entry((host[c].clone(), key(c))).or_insert(Some(pkey));
            }
            let (keys, pkeys, hosts) = (col(&tree, "proc_key"), col(&tree, "parent_key"), col(&tree, "Computer"));
            let mut got: HashMap<(String, String), Option<String>> = HashMap::new();
            for i in 0..tree.len() {
                if keys[i].contains("|1970-01-01") {
                    prop_assert_eq!(&pkeys[i], "<null>");
                    continue;
                }
                let p = (pkeys[i] != "<null>").then(|| pkeys[i].clone());
                prop_assert!(got.insert((hosts[i].clone(), keys[i].clone()), p).is_none(), "duplicate key on a host");
            }
            prop_assert_eq!(got, expected);

            // Tree invariants.
            let paths = col(&tree, "path");
            let si = col(&tree, "source_index");
            let s = tree.summary();
            prop_assert_eq!(s.processes, tree.len());
            prop_assert_eq!(s.root_processes, tree.roots().len());
            for i in 0..tree.len() {
                prop_assert!(paths[i].ends_with(&si[i]));
                if i > 0 {
                    prop_assert!(paths[i - 1] < paths[i], "rows sorted by path");
                }
                let anc = tree.ancestors(i, true).unwrap();
                prop_assert_eq!(*anc.last().unwrap(), i);
                for &d in &tree.descendants(i, false, None).unwrap() {
                    prop_assert!(d != i);
                }
            }
        }
    }
}
