//! `huntbook geoip` and `huntbook whois` end to end: the real binary, with databases
//! written here (and MaxMind's test databases when present), and whois services on
//! loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use huntbook_context::geoip::MmdbWriter;
use huntbook_context::testkit::{fake_iana, FakeCymru, FakeRegistry, RegisteredNet};
use huntbook_table::{read_table, write_table, Table};
use serde_json::json;

/// Runs `huntbook ARGS` in `dir`, with `dir` as the home folder so that no user
/// configuration is read.
fn huntbook(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huntbook"))
        .current_dir(dir)
        .args(args)
        .env("HOME", dir)
        .env_remove("MSTICPYCONFIG")
        .env_remove("HUNTBOOK_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("the huntbook binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder configured as the GeoIP database folder, with a City and an ASN database.
fn geo_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut city = MmdbWriter::new("GeoLite2-City");
    city.insert(
        "81.2.69.0/24",
        json!({
            "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
            "subdivisions": [{"names": {"en": "England"}}],
            "city": {"names": {"en": "London"}},
            "location": {"latitude": 51.5142, "longitude": -0.0931}
        }),
    )
    .unwrap();
    city.write(&dir.path().join("geo/GeoLite2-City.mmdb"))
        .unwrap();
    let mut asn = MmdbWriter::new("GeoLite2-ASN");
    asn.insert("81.2.69.0/24", json!({"autonomous_system_number": 20712, "autonomous_system_organization": "Andrews & Arnold Ltd"}))
        .unwrap();
    asn.write(&dir.path().join("geo/GeoLite2-ASN.mmdb"))
        .unwrap();
    std::fs::write(
        dir.path().join("huntbook.yaml"),
        "OtherProviders:\n  GeoIPLite:\n    Args:\n      DBFolder: geo\n    Provider: GeoLiteLookup\n",
    )
    .unwrap();
    dir
}

fn signins(dir: &Path, name: &str, public_ip: &str) -> PathBuf {
    let batch = RecordBatch::try_from_iter([
        (
            "User",
            Arc::new(StringArray::from(vec!["ann", "bob", "cy"])) as ArrayRef,
        ),
        (
            "SourceIP",
            Arc::new(StringArray::from(vec![public_ip, "10.0.0.7", public_ip])) as ArrayRef,
        ),
    ])
    .unwrap();
    let path = dir.join(name);
    write_table(&path, &Table::from_batches(batch.schema(), vec![batch])).unwrap();
    path
}

#[test]
fn geoip_prints_locations_from_the_configured_folder() {
    let dir = geo_folder();
    let out = huntbook(dir.path(), &["geoip", "81.2.69.160", "10.0.0.7", "9.9.9.9"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("IpAddress"), "{stdout}");
    assert!(
        lines[1].contains("GB") && lines[1].contains("London") && lines[1].contains("England"),
        "{stdout}"
    );
    assert!(
        lines[1].contains("20712") && lines[1].contains("Andrews & Arnold Ltd"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("Private address") && lines[2].contains("location unknown"),
        "{stdout}"
    );
    assert!(
        lines[3].starts_with("9.9.9.9") && !lines[3].contains("London"),
        "{stdout}"
    );
}

#[test]
fn geoip_adds_columns_to_a_table() {
    let dir = geo_folder();
    let input = signins(dir.path(), "signins.csv", "81.2.69.160");
    let out = huntbook(
        dir.path(),
        &[
            "geoip",
            "--file",
            input.to_str().unwrap(),
            "--column",
            "SourceIP",
            "-o",
            "geo.parquet",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = read_table(&dir.path().join("geo.parquet"))
        .unwrap()
        .concat()
        .unwrap();
    assert_eq!(table.num_rows(), 3);
    let names: Vec<&str> = table
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "User",
            "SourceIP",
            "CountryCode",
            "CountryOrRegionName",
            "State",
            "City",
            "Longitude",
            "Latitude",
            "Asn",
            "AsnOrg"
        ]
    );
    let city = table.column_by_name("City").unwrap().as_string::<i32>();
    assert_eq!(city.value(0), "London");
    assert_eq!(city.value(1), "location unknown");
    assert_eq!(city.value(2), "London");
}

#[test]
fn geoip_with_maxminds_test_databases() {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/maxmind-test-dbs");
    if !folder.is_dir() {
        eprintln!(
            "SKIPPED: MaxMind test databases not found at {}",
            folder.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let city = folder.join("GeoIP2-City-Test.mmdb");
    let out = huntbook(
        dir.path(),
        &[
            "geoip",
            "2.125.160.216",
            "--db",
            city.to_str().unwrap(),
            "-o",
            "out.jsonl",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let row = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let row: serde_json::Value = serde_json::from_str(row.lines().next().unwrap()).unwrap();
    assert_eq!(row["City"], "Boxford");
    assert_eq!(row["State"], "England");
    assert_eq!(row["CountryCode"], "GB");
    assert_eq!(row["Latitude"], 51.75);
}

#[test]
fn geoip_bad_input_is_named_and_writes_nothing() {
    let dir = geo_folder();
    let input = signins(dir.path(), "signins.csv", "81.2.69.160");
    let out = huntbook(
        dir.path(),
        &[
            "geoip",
            "-f",
            input.to_str().unwrap(),
            "-c",
            "SrcIP",
            "-o",
            "geo.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("signins.csv: no column 'SrcIP'; the columns are: User, SourceIP"),
        "{stderr}"
    );
    assert!(!dir.path().join("geo.csv").exists());

    let empty = tempfile::tempdir().unwrap();
    let out = huntbook(empty.path(), &["geoip", "8.8.8.8", "--no-download"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no MaxMind database in"),
        "{}",
        text(&out.stderr)
    );

    let out = huntbook(dir.path(), &["geoip", "--help"]);
    assert!(text(&out.stdout).contains("Examples:\n  huntbook geoip 8.8.8.8"));
}

#[test]
fn whois_against_local_registries() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (arin, iana, cymru) = runtime.block_on(async {
        let arin = FakeRegistry::start(
            vec![RegisteredNet {
                network: "13.64.0.0/10".parse().unwrap(),
                handle: "NET-13-64-0-0-1".into(),
                name: "MSFT".into(),
                country: "US".into(),
                org: "Microsoft Corporation".into(),
                address: "One Microsoft Way\nRedmond".into(),
                abuse_email: "abuse@microsoft.com".into(),
                parent: None,
            }],
            vec![],
        )
        .await;
        let iana = fake_iana(vec![(vec!["13.0.0.0/8"], arin.base())]).await;
        let cymru = FakeCymru::start(vec![(
            "13.107.4.0/24".parse().unwrap(),
            [
                "8068",
                "US",
                "arin",
                "2015-03-26",
                "MICROSOFT-CORP-MSN-AS-BLOCK, US",
            ],
        )])
        .await;
        (arin, iana, cymru)
    });
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = iana.url("rdap/").to_string();
    let common = [
        "--rdap-bootstrap",
        bootstrap.as_str(),
        "--cymru",
        cymru.address(),
    ];

    let mut args = vec!["whois", "13.107.4.50", "192.168.1.1"];
    args.extend(common);
    let out = huntbook(dir.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("query"), "{stdout}");
    for word in [
        "13.107.4.50",
        "8068",
        "MICROSOFT-CORP-MSN-AS-BLOCK, US",
        "13.64.0.0/10",
        "MSFT",
        "abuse@microsoft.com",
    ] {
        assert!(lines[1].contains(word), "{word} in {stdout}");
    }
    assert!(
        lines[2].contains("Private address: not looked up"),
        "{stdout}"
    );

    let input = signins(dir.path(), "signins.jsonl", "13.107.4.50");
    let mut args = vec![
        "whois",
        "-f",
        input.to_str().unwrap(),
        "-c",
        "SourceIP",
        "-o",
        "whois.parquet",
    ];
    args.extend(common);
    let out = huntbook(dir.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = read_table(&dir.path().join("whois.parquet"))
        .unwrap()
        .concat()
        .unwrap();
    assert_eq!(table.num_rows(), 3);
    let asn = table
        .column_by_name("AsnDescription")
        .unwrap()
        .as_string::<i32>();
    assert_eq!(asn.value(0), "MICROSOFT-CORP-MSN-AS-BLOCK, US");
    assert!(asn.is_null(1));
    assert!(table.column_by_name("nets").is_some());
    assert!(!arin.server().requests().is_empty());
    drop(runtime);
}
