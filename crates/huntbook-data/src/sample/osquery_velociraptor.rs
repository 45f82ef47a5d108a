//! Small OSQuery and Velociraptor logs in their documented JSON-lines formats.
//!
//! OSQuery's `osqueryd.results.log` has one differential result per line: the query
//! `name`, `hostIdentifier`, `calendarTime`, `unixTime`, `action` and the row in
//! `columns` (all values text). Velociraptor writes one JSON object per row into a
//! file per artifact (`Windows.System.Pslist.json`).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::tables::{Context, C2_IP, LINUX_HOST, LINUX_HOSTS, VICTIM_HOST, VICTIM_IP};

/// (path under the output folder, lines).
pub fn logs(ctx: &Context) -> Vec<(String, Vec<String>)> {
    vec![
        ("osquery/osqueryd.results.log".into(), osquery(ctx)),
        (
            "velociraptor/Windows.System.Pslist.json".into(),
            pslist(ctx),
        ),
        (
            "velociraptor/Windows.Network.Netstat.json".into(),
            netstat(ctx),
        ),
    ]
}

fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).expect("sample times are in range")
}

fn osquery(ctx: &Context) -> Vec<String> {
    let mut rng = ctx.rng(20);
    let count = (ctx.rows / 10).clamp(50, 50_000);
    let mut lines: Vec<(i64, String)> = Vec::with_capacity(count + 3);
    let mut line = |micros: i64, name: &str, host: &str, columns: serde_json::Value| {
        let t = time(micros);
        let text = json!({
            "name": name,
            "hostIdentifier": host,
            "calendarTime": t.format("%a %b %e %H:%M:%S %Y UTC").to_string(),
            "unixTime": t.timestamp(),
            "epoch": 0,
            "counter": 0,
            "numerics": false,
            "columns": columns,
            "action": "added",
        })
        .to_string();
        lines.push((micros, text));
    };
    const PROCS: &[(&str, &str)] = &[
        ("/usr/sbin/nginx", "nginx: worker process"),
        ("/usr/sbin/sshd", "sshd: ubuntu [priv]"),
        ("/usr/bin/python3", "python3 /opt/app/report.py"),
        (
            "/usr/lib/systemd/systemd-journald",
            "/lib/systemd/systemd-journald",
        ),
    ];
    for _ in 0..count {
        let host = *rng.pick(LINUX_HOSTS);
        let micros = ctx.time(&mut rng);
        if rng.chance(0.5) {
            let (path, cmd) = *rng.pick(PROCS);
            let name = path.rsplit('/').next().unwrap_or(path);
            line(
                micros,
                "pack_hunt_processes",
                host,
                json!({
                    "pid": rng.range(300, 40_000).to_string(), "parent": "1", "name": name,
                    "path": path, "cmdline": cmd, "uid": "0",
                }),
            );
        } else {
            line(
                micros,
                "pack_hunt_listening_ports",
                host,
                json!({
                    "pid": rng.range(300, 40_000).to_string(), "port": rng.pick(&["22", "80", "443", "5432"]).to_string(),
                    "address": "0.0.0.0", "protocol": "6",
                }),
            );
        }
    }
    line(
        ctx.ssh + 9 * 60_000_000,
        "pack_hunt_processes",
        LINUX_HOST,
        json!({
            "pid": "9311", "parent": "9200", "name": ".x.sh", "path": "/tmp/.x.sh", "cmdline": "/tmp/.x.sh", "uid": "1000",
        }),
    );
    line(
        ctx.ssh + 9 * 60_000_000,
        "pack_hunt_listening_ports",
        LINUX_HOST,
        json!({
            "pid": "9311", "port": "4444", "address": "0.0.0.0", "protocol": "6",
        }),
    );
    lines.sort_by_key(|(t, _)| *t);
    lines.into_iter().map(|(_, l)| l).collect()
}

fn pslist(ctx: &Context) -> Vec<String> {
    let mut rng = ctx.rng(21);
    const PROCS: &[(&str, &str)] = &[
        ("svchost.exe", r"C:\Windows\System32\svchost.exe"),
        ("explorer.exe", r"C:\Windows\explorer.exe"),
        (
            "OUTLOOK.EXE",
            r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
        ),
        (
            "chrome.exe",
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        ),
    ];
    let collected = time(ctx.phish + 3 * 3_600_000_000);
    let mut rows: Vec<String> = (0..40)
        .map(|_| {
            let (name, exe) = *rng.pick(PROCS);
            json!({
                "Pid": rng.range(300, 16_000), "Ppid": rng.range(4, 1_000), "Name": name, "Exe": exe,
                "CommandLine": exe, "Username": "CONTOSO\\bob",
                "CreateTime": time(ctx.start + rng.range(0, 3_600_000_000)).to_rfc3339(),
                "Fqdn": VICTIM_HOST, "_ts": collected.timestamp(),
            })
            .to_string()
        })
        .collect();
    rows.push(
        json!({
            "Pid": 11656, "Ppid": 11088, "Name": "svc.exe", "Exe": r"C:\Users\Public\svc.exe",
            "CommandLine": r"C:\Users\Public\svc.exe", "Username": "CONTOSO\\bob",
            "CreateTime": time(ctx.phish + 160_000_000).to_rfc3339(), "Fqdn": VICTIM_HOST, "_ts": collected.timestamp(),
        })
        .to_string(),
    );
    rows
}

fn netstat(ctx: &Context) -> Vec<String> {
    let collected = time(ctx.phish + 3 * 3_600_000_000);
    vec![
        json!({"Pid": 11656, "Name": "svc.exe", "Family": "IPv4", "Type": "TCP", "Status": "ESTAB",
               "Laddr.IP": VICTIM_IP, "Laddr.Port": 51544, "Raddr.IP": C2_IP, "Raddr.Port": 443,
               "Timestamp": collected.to_rfc3339(), "Fqdn": VICTIM_HOST}).to_string(),
        json!({"Pid": 1044, "Name": "svchost.exe", "Family": "IPv4", "Type": "TCP", "Status": "LISTEN",
               "Laddr.IP": "0.0.0.0", "Laddr.Port": 135, "Raddr.IP": "0.0.0.0", "Raddr.Port": 0,
               "Timestamp": collected.to_rfc3339(), "Fqdn": VICTIM_HOST}).to_string(),
    ]
}
