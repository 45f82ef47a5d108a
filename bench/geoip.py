#!/usr/bin/env python3
"""Benchmark: GeoIP lookups, huntbook.geoip against MaxMind's geoip2 reader (what
MSTICPy's GeoLiteLookup calls for each address).

Run it from the repo root after the Rust example has written the addresses and the
database (`cargo run -p huntbook-context --example geoip_lookups`, which also prints
the Rust figures), with the huntbook package and geoip2 installed in the venv:

    python bench/geoip.py [--target DIR] [--repeats 3]

For each address list (100,000 addresses in a written 20,000-network City database,
and in MaxMind's GeoIP2-City-Test database when present), both tools produce the
GeoLocation fields of MSTICPy (CountryCode, CountryOrRegionName, State, City,
Longitude, Latitude) for every address:

- geoip2: `Reader.city(ip)` per address (AddressNotFoundError for misses), then the
  fields read from the answer, as MSTICPy does, into a DataFrame;
- huntbook: `huntbook.geoip(addresses, databases=[...])`, which returns the DataFrame.

The databases are opened once, outside the timed part. Figures are the best of
--repeats runs.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time

import pandas as pd


def geoip2_frame(reader, ips):
    import geoip2.errors

    rows = []
    for ip in ips:
        try:
            city = reader.city(ip)
        except geoip2.errors.AddressNotFoundError:
            rows.append({"IpAddress": ip})
            continue
        rows.append(
            {
                "IpAddress": ip,
                "CountryCode": city.country.iso_code,
                "CountryOrRegionName": city.country.names.get("en"),
                "State": city.subdivisions[0].names.get("en") if city.subdivisions else None,
                "City": city.city.names.get("en"),
                "Longitude": city.location.longitude,
                "Latitude": city.location.latitude,
            }
        )
    return pd.DataFrame(rows)


def best(repeats, run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--target", default=default, help="folder the Rust example wrote to")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import geoip2.database

    import huntbook

    target = pathlib.Path(args.target)
    shared = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "maxmind-test-dbs"
    cases = [("written City database", target / "bench-City.mmdb", target / "geoip-bench-written.txt")]
    if (target / "geoip-bench-test-db.txt").exists():
        cases.append(("GeoIP2-City-Test", shared / "GeoIP2-City-Test.mmdb", target / "geoip-bench-test-db.txt"))
    print("| database | addresses | geoip2 | huntbook.geoip | speed-up |")
    print("|---|---|---|---|---|")
    for name, db, addresses in cases:
        ips = addresses.read_text().split("\n")
        with geoip2.database.Reader(str(db)) as reader:
            anchor, theirs = best(args.repeats, lambda: geoip2_frame(reader, ips))
        ours_time, ours = best(args.repeats, lambda: huntbook.geoip(ips, databases=[db], download=False))
        assert theirs["City"].fillna("").tolist() == ours["City"].fillna("").tolist()
        print(
            f"| {name} | {len(ips):,} | {anchor:.3f} s ({len(ips) / anchor:,.0f}/s) "
            f"| {ours_time:.3f} s ({len(ips) / ours_time:,.0f}/s) | {anchor / ours_time:.1f}x |"
        )


if __name__ == "__main__":
    main()
