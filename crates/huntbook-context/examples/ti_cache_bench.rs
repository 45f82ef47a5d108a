//! Benchmark: lookups answered from the cache.
//!
//!     cargo run --release -p huntbook-context --example ti_cache_bench [-- COUNT]
//!
//! Fills a cache file with COUNT answers (default 100,000) of a provider, then looks
//! the same observables up through `TiLookup` with that provider (whose service is
//! an address nobody listens on, so a single cache miss would show as a failed row)
//! and prints lookups per second: observable checks, cache reads and rows included.
//! Target (issue 5): at least 100,000 a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use huntbook_context::cache::Cache;
use huntbook_context::ti::http::{HttpProvider, HttpSettings, Service};
use huntbook_context::ti::preprocess::prepare;
use huntbook_context::ti::{Answer, LookupItem, LookupOptions, Severity, Status, TiLookup};
use huntbook_http::Secret;
use serde_json::json;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let cache = Arc::new(Cache::open(&dir.path().join("ti.sqlite")).expect("a cache file"));
    let iocs: Vec<String> = (0..count)
        .map(|i| {
            format!(
                "{}.{}.{}.{}",
                45 + i / 16_000_000 % 100,
                i / 62_500 % 256,
                i / 250 % 250,
                i % 250 + 1
            )
        })
        .collect();
    let observables: Vec<_> = iocs
        .iter()
        .map(|i| prepare(i, Some("ipv4"), None).expect("public IPs"))
        .collect();
    let answer = Answer {
        result: true,
        severity: Severity::Warning,
        details: json!({"pulse_count": 1}),
        raw: json!({"pulse_info": {"count": 1, "references": ["https://blog.example/c2"]}}),
        reference: "https://otx.alienvault.com/api/v1/indicators/IPv4/x/general".into(),
        status: Status::Ok,
    };
    let started = Instant::now();
    let pairs: Vec<_> = observables.iter().map(|o| (o, &answer)).collect();
    cache.put_many("OTX", &pairs).expect("writes");
    println!(
        "filled {count} answers in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let mut settings = HttpSettings::new("OTX");
    settings.base_url = Some("http://127.0.0.1:9/".parse().expect("a URL"));
    settings.auth_key = Some(Secret::new("unused"));
    settings.timeout = Duration::from_millis(200);
    let provider =
        HttpProvider::new(Service::find("OTX").expect("OTX"), settings).expect("a provider");
    let mut ti = TiLookup::new();
    ti.add_provider(Arc::new(provider), true);
    ti.set_cache(Some(cache));

    let items: Vec<LookupItem> = iocs
        .iter()
        .map(|i| LookupItem::typed(i.clone(), "ipv4"))
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for round in 0..3 {
        let started = Instant::now();
        let rows = runtime
            .block_on(ti.lookup(&items, &LookupOptions::default()))
            .expect("a lookup");
        let took = started.elapsed().as_secs_f64();
        let hits = rows
            .iter()
            .filter(|r| r.answer.status == Status::Ok)
            .count();
        assert_eq!(hits, count, "every lookup must come from the cache");
        println!(
            "round {round}: {count} cached lookups in {took:.3} s = {:.0} lookups/s",
            count as f64 / took
        );
    }
}
