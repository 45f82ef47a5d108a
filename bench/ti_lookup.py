#!/usr/bin/env python3
"""Benchmark: huntbook's TI lookups against MSTICPy's TILookup on the same local servers.

Run it from the repo root, with huntbook built into the venv and MSTICPy installed:

    .venv/bin/python bench/ti_lookup.py [--iocs 1000] [--rate-iocs 200] [--no-msticpy]

Three local servers play AlienVault OTX (`/api/v1/indicators/IPv4/{ip}/general`),
GreyNoise (`/v3/community/{ip}`) and AbuseIPDB (`/api/v2/check?ipAddress=`), the paths
both tools use. Each takes 50 ms per answer and serves at most 20 requests at once
(more wait). Both tools look the same public IPv4 addresses up on the three, with
huntbook's cache off: huntbook with `Concurrency: 20` per provider, MSTICPy with its
defaults (its base URLs pointed at the servers).

Second, 200 addresses against one server that allows 10 requests a second (a token
bucket of 10, like the published quotas of many services, answering 429 with
Retry-After beyond it), with huntbook's `RateLimit: 10/s`: the run should take about
20 s (10 at once, then one every 100 ms) and provoke no 429.

Targets (issue 5): at least 10x MSTICPy on the first; no 429 and within 10% of 20 s on
the second. Cache hits are measured by `cargo run --release -p huntbook-context
--example ti_cache_bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KEY = "bench-key"


class Service(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, delay: float, concurrent: int, rate: float | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.delay = delay
        self.slots = threading.Semaphore(concurrent)
        self.rate = rate
        self.lock = threading.Lock()
        self.tokens = rate or 0.0
        self.at = time.monotonic()
        self.served = 0
        self.throttled = 0

    def admit(self) -> bool:
        if self.rate is None:
            return True
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            # A little slack for timer jitter on a busy machine.
            if self.tokens >= 0.9:
                self.tokens -= 1
                return True
            self.throttled += 1
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        server: Service = self.server  # type: ignore[assignment]
        if not server.admit():
            return self.send(429, {"errors": [{"detail": "Too many requests"}]}, {"Retry-After": "1"})
        with server.slots:
            time.sleep(server.delay)
            server.served += 1
        url = urlparse(self.path)
        ip = url.path.rstrip("/").split("/")[-1]
        if url.path.startswith("/api/v1/indicators/"):
            ip = url.path.split("/")[5]
            body = {"indicator": ip, "type": "IPv4", "sections": ["general", "geo", "reputation", "passive_dns"],
                    "pulse_info": {"count": 1, "pulses": [], "references": []}}
        elif url.path.startswith("/v3/community/"):
            body = {"ip": ip, "noise": True, "riot": False, "classification": "benign", "message": "Success"}
        else:
            ip = parse_qs(url.query).get("ipAddress", [""])[0]
            body = {"data": {"ipAddress": ip, "abuseConfidenceScore": 25, "totalReports": 2}}
        self.send(200, body)

    def send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def start(service: Service) -> Service:
    threading.Thread(target=service.serve_forever, daemon=True).start()
    return service


def ips(n: int) -> list[str]:
    return [f"45.{10 + i // 250}.{i % 250}.7" for i in range(n)]


def huntbook_config(folder: str, entries: dict[str, tuple[str, str]], extra: str = "") -> str:
    lines = ["TIProviders:"]
    for name, (kind, url) in entries.items():
        lines += [f"  {name}:", f"    Provider: {kind}", "    Primary: true", "    Args:",
                  f"      AuthKey: {KEY}", f"      BaseUrl: {url}", "      Concurrency: 20"]
        lines += [f"      {extra}"] if extra else []
    lines += ["TICache:", "  Enabled: false"]
    path = os.path.join(folder, "huntbook.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_huntbook(config: str, iocs: list[str]) -> tuple[float, object]:
    import huntbook

    ti = huntbook.TILookup(config, use_cache=False)
    started = time.perf_counter()
    result = ti.lookup_iocs(iocs)
    return time.perf_counter() - started, result


def run_msticpy(folder: str, servers: dict[str, Service], iocs: list[str]) -> tuple[float, object]:
    path = os.path.join(folder, "msticpyconfig.yaml")
    with open(path, "w") as f:
        f.write("TIProviders:\n")
        for name in servers:
            f.write(f"  {name}:\n    Args:\n      AuthKey: {KEY}\n    Primary: True\n    Provider: {name}\n")
    os.environ["MSTICPYCONFIG"] = path
    import pandas as pd
    from msticpy.context.tiproviders import abuseipdb, alienvault_otx, greynoise
    from msticpy.context.tilookup import TILookup

    alienvault_otx.OTX._BASE_URL = servers["OTX"].url.rstrip("/")
    greynoise.GreyNoise._BASE_URL = servers["GreyNoise"].url.rstrip("/")
    abuseipdb.AbuseIPDB._BASE_URL = servers["AbuseIPDB"].url
    ti = TILookup(providers=list(servers))
    frame = pd.DataFrame({"Observable": iocs})
    started = time.perf_counter()
    result = ti.lookup_iocs(frame, ioc_col="Observable", providers=list(servers), progress=False)
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iocs", type=int, default=1000)
    parser.add_argument("--rate-iocs", type=int, default=200)
    parser.add_argument("--no-msticpy", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        os.environ["HOME"] = folder  # keep the Tor list and caches out of the real home
        # The rate-limited run goes first: MSTICPy leaves threads behind that slow the
        # Python test servers down afterwards.
        limited = start(Service(0.0, 50, rate=10.0))
        config = huntbook_config(folder, {"AbuseIPDB": ("AbuseIPDB", limited.url)}, extra="RateLimit: 10/s")
        took, result = run_huntbook(config, ips(args.rate_iocs))
        ok = int((result["Status"] == 0).sum())
        print(f"rate-limited: {args.rate_iocs} IoCs at 10/s in {took:.2f} s, {ok} ok, "
              f"{limited.throttled} answered 429")

        servers = {name: start(Service(0.05, 20)) for name in ("OTX", "GreyNoise", "AbuseIPDB")}
        config = huntbook_config(folder, {n: (n, s.url) for n, s in servers.items()})
        iocs = ips(args.iocs)
        took, result = run_huntbook(config, iocs)
        ok = int((result["Status"] == 0).sum())
        print(f"huntbook: {len(iocs)} IoCs x 3 providers in {took:.2f} s ({ok} rows ok)")
        if not args.no_msticpy:
            mp_took, mp_result = run_msticpy(folder, servers, iocs)
            mp_ok = int((mp_result["Status"] == 0).sum())
            print(f"msticpy:  {len(iocs)} IoCs x 3 providers in {mp_took:.2f} s ({mp_ok} rows ok)")
            print(f"ratio: {mp_took / took:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
