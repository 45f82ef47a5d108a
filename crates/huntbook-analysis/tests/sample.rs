//! The detections on huntbook's sample dataset find exactly the planted attacks, for
//! several seeds and sizes.
use std::path::Path;

use arrow_array::RecordBatch;
use chrono::{TimeZone, Utc};
use huntbook_analysis::columns::texts;
use huntbook_analysis::detect::{self, Finding, Severity};
use huntbook_data::sample::{generate, SampleOptions};

fn sample(dir: &Path, rows: usize, seed: u64) {
    let anchor = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    generate(dir, &SampleOptions { rows, seed, anchor }, |_| {}).unwrap();
}

fn read(dir: &Path, table: &str) -> RecordBatch {
    huntbook_table::read_table(&dir.join(format!("{table}.parquet")))
        .unwrap()
        .concat()
        .unwrap()
}

fn values(batch: &RecordBatch, column: &str, f: &Finding) -> Vec<String> {
    let all = texts(batch, column).unwrap();
    f.rows
        .iter()
        .map(|&r| all[r].clone().unwrap_or_default())
        .collect()
}

#[test]
fn the_planted_spray_travel_and_beacon_are_all_that_is_found() {
    for (rows, seed) in [(2000, 1), (20_000, 2), (5000, 3)] {
        let dir = tempfile::tempdir().unwrap();
        sample(dir.path(), rows, seed);

        let logons = read(dir.path(), "logons");
        let found = detect::brute_force(&logons, &Default::default()).unwrap();
        assert_eq!(found.len(), 1, "rows {rows} seed {seed}: {found:#?}");
        let spray = &found[0];
        assert_eq!(
            (spray.detection, spray.severity),
            ("password spray", Severity::High)
        );
        assert_eq!(spray.rows.len(), 241, "240 failures and the success");
        assert!(values(&logons, "IpAddress", spray)
            .iter()
            .all(|ip| ip == "198.51.100.23"));
        assert!(
            spray
                .reason
                .ends_with("then a successful logon as svc_backup"),
            "{}",
            spray.reason
        );

        let signins = read(dir.path(), "signins");
        let found = detect::impossible_travel(&signins, &Default::default()).unwrap();
        assert_eq!(found.len(), 1, "rows {rows} seed {seed}: {found:#?}");
        let travel = &found[0];
        assert!(
            travel
                .reason
                .starts_with("carol@contoso.com: London -> Sydney, 16994 km in "),
            "{}",
            travel.reason
        );
        // Background sign-ins of carol's from London may come between the planted ones.
        let cities = values(&signins, "City", travel);
        assert!(cities.contains(&"Sydney".to_string()), "{cities:?}");
        assert!(values(&signins, "UserPrincipalName", travel)
            .iter()
            .all(|u| u == "carol@contoso.com"));

        let network = read(dir.path(), "network");
        let found = detect::beaconing(&network, &Default::default()).unwrap();
        assert_eq!(found.len(), 1, "rows {rows} seed {seed}: {found:#?}");
        let beacon = &found[0];
        assert_eq!(beacon.severity, Severity::High);
        assert!(values(&network, "DestinationIP", beacon)
            .iter()
            .all(|ip| ip == "203.0.113.66"));
        assert!(values(&network, "SourceIP", beacon)
            .iter()
            .all(|ip| ip == "10.0.1.57"));
        let every: i64 = beacon
            .reason
            .split("connections every ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((55..=65).contains(&every), "{}", beacon.reason);
    }
}
