//! GeoIP lookups per second over 100,000 addresses: in a City database written here
//! (20,000 networks, 200 distinct cities, 80% of the addresses inside them) and, when
//! present, in MaxMind's GeoIP2-City test database (addresses drawn from its
//! networks).
//!
//!     cargo run -p huntbook-context --example geoip_lookups [-- COUNT]
//!
//! Each database is timed three times after a warm-up pass; the best time is shown.
//! The addresses are also written to `target/geoip-bench-*.txt` for
//! `bench/geoip.py`, which times MaxMind's geoip2 reader on the same addresses.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use huntbook_context::geoip::{GeoLiteLookup, MmdbWriter};
use serde_json::json;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A public-looking IPv4 address (first octet 1-223, not 10/127/172/192).
fn public_v4(rng: &mut Rng) -> u32 {
    loop {
        let ip = rng.next() as u32;
        let first = ip >> 24;
        if (1..224).contains(&first) && ![10, 100, 127, 169, 172, 192, 198, 203].contains(&first) {
            return ip;
        }
    }
}

fn written_db(folder: &Path, rng: &mut Rng, count: usize) -> (PathBuf, Vec<String>) {
    let mut db = MmdbWriter::new("GeoLite2-City");
    let mut networks = Vec::new();
    for i in 0..20_000u32 {
        let base = public_v4(rng) & 0xffff_ff00;
        let city = i % 200;
        db.insert(
            &format!("{}/24", Ipv4Addr::from(base)),
            json!({
                "country": {"iso_code": "ZZ", "names": {"en": format!("Country {}", city % 40)}},
                "subdivisions": [{"names": {"en": format!("Region {}", city % 90)}}],
                "city": {"names": {"en": format!("City {city}")}},
                "location": {"latitude": f64::from(city) / 3.0, "longitude": -f64::from(city) / 7.0},
            }),
        )
        .expect("valid network");
        networks.push(base);
    }
    let path = folder.join("bench-City.mmdb");
    db.write(&path).expect("the database is written");
    let ips = (0..count)
        .map(|_| {
            let ip = if rng.next().is_multiple_of(5) {
                public_v4(rng)
            } else {
                networks[rng.next() as usize % networks.len()] | (rng.next() as u32 & 0xff)
            };
            Ipv4Addr::from(ip).to_string()
        })
        .collect();
    (path, ips)
}

fn test_db_probes(rng: &mut Rng, count: usize) -> Option<(PathBuf, Vec<String>)> {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/maxmind-test-dbs");
    let db = folder.join("GeoIP2-City-Test.mmdb");
    let source = std::fs::read(folder.join("GeoIP2-City-Test.json")).ok()?;
    let entries: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&source).ok()?;
    let networks: Vec<(u32, u32)> = entries
        .iter()
        .flat_map(|e| e.keys())
        .filter_map(|net| {
            let (address, length) = net.split_once('/')?;
            let address: Ipv4Addr = address.parse().ok()?;
            let length: u32 = length.parse().ok()?;
            let base = u32::from(address);
            (huntbook_context::ip::is_global(address.into())).then_some((base, length))
        })
        .collect();
    let ips = (0..count)
        .map(|_| {
            let (base, length) = networks[rng.next() as usize % networks.len()];
            let host_bits = 32 - length;
            let offset = if host_bits == 0 {
                0
            } else {
                rng.next() as u32 & ((1u64 << host_bits) - 1) as u32
            };
            Ipv4Addr::from(base | offset).to_string()
        })
        .collect();
    Some((db, ips))
}

fn time(name: &str, db: &Path, ips: &[String]) {
    let lookup = GeoLiteLookup::open(&[db.to_path_buf()]).expect("the database opens");
    let found = lookup.lookup_all(ips).expect("lookups succeed");
    let hits = found
        .iter()
        .filter(|f| f.as_ref().is_some_and(|l| l.country_code.is_some()))
        .count();
    let best = (0..3)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(lookup.lookup_all(ips).expect("lookups succeed"));
            start.elapsed()
        })
        .min()
        .expect("three runs");
    println!(
        "{name}: {} lookups ({hits} found) in {:.3} s = {:.0} lookups/s",
        ips.len(),
        best.as_secs_f64(),
        ips.len() as f64 / best.as_secs_f64()
    );
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let folder = std::env::var_os("CARGO_TARGET_DIR").map_or(target, PathBuf::from);
    std::fs::create_dir_all(&folder).expect("the target folder exists");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);

    let (db, ips) = written_db(&folder, &mut rng, count);
    std::fs::write(folder.join("geoip-bench-written.txt"), ips.join("\n")).expect("written");
    time("written City database (20,000 networks)", &db, &ips);

    match test_db_probes(&mut rng, count) {
        Some((db, ips)) => {
            std::fs::write(folder.join("geoip-bench-test-db.txt"), ips.join("\n"))
                .expect("written");
            time("MaxMind GeoIP2-City-Test", &db, &ips);
        }
        None => eprintln!("SKIPPED: MaxMind test databases not found"),
    }
    println!("addresses and databases in {}", folder.display());
}
