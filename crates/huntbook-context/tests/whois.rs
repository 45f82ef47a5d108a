//! Whois against local servers: IANA's bootstrap files, two RDAP registries that
//! refer to each other, and a Team Cymru bulk whois server.

use std::time::Duration;

use huntbook_context::testkit::{fake_iana, FakeCymru, FakeRegistry, Referral, RegisteredNet};
use huntbook_context::whois::{whois_batch, WhoisLookup, WhoisSettings};
use huntbook_http::testkit::FakeServer;
use ipnetwork::IpNetwork;

fn net(cidr: &str, handle: &str, name: &str, country: &str, parent: Option<&str>) -> RegisteredNet {
    RegisteredNet {
        network: cidr.parse().unwrap(),
        handle: handle.into(),
        name: name.into(),
        country: country.into(),
        org: format!("{name} Org"),
        address: format!("1 {name} Way\nSomewhere"),
        abuse_email: format!("abuse@{}.example", name.to_lowercase()),
        parent: parent.map(|p| p.parse().unwrap()),
    }
}

struct World {
    _iana: FakeServer,
    arin: FakeRegistry,
    ripe: FakeRegistry,
    cymru: FakeCymru,
    settings: WhoisSettings,
}

/// ARIN holds 13.0.0.0/8 (with MSFT's 13.64.0.0/10 inside) and refers 2.0.0.0/8 to
/// RIPE with a redirect and 5.0.0.0/8 with a `related` link; IANA's files send
/// 2.0.0.0/8 and 5.0.0.0/8 to ARIN, as a stale bootstrap would.
async fn world() -> World {
    let ripe = FakeRegistry::start(
        vec![
            net(
                "2.125.160.0/19",
                "2.125.160.0 - 2.125.191.255",
                "PLUSNET",
                "GB",
                None,
            ),
            net(
                "5.45.0.0/16",
                "5.45.0.0 - 5.45.255.255",
                "HETZNER-DE",
                "DE",
                None,
            ),
            net("2a00:1450::/32", "2a00:1450::/32", "GOOGLE-EU", "IE", None),
        ],
        vec![],
    )
    .await;
    let arin = FakeRegistry::start(
        vec![
            net("13.0.0.0/8", "NET-13-0-0-0-1", "NET13", "US", None),
            net(
                "13.64.0.0/10",
                "NET-13-64-0-0-1",
                "MSFT",
                "US",
                Some("13.0.0.0/8"),
            ),
        ],
        vec![
            (
                "2.0.0.0/8".parse().unwrap(),
                ripe.base(),
                Referral::Redirect,
            ),
            (
                "5.0.0.0/8".parse().unwrap(),
                ripe.base(),
                Referral::RelatedLink,
            ),
        ],
    )
    .await;
    let iana = fake_iana(vec![
        (vec!["13.0.0.0/8", "2.0.0.0/8", "5.0.0.0/8"], arin.base()),
        (vec!["2a00::/12"], ripe.base()),
    ])
    .await;
    let routes: Vec<(IpNetwork, [&'static str; 5])> = vec![
        (
            "13.107.4.0/24".parse().unwrap(),
            [
                "8068",
                "US",
                "arin",
                "2015-03-26",
                "MICROSOFT-CORP-MSN-AS-BLOCK, US",
            ],
        ),
        (
            "2.125.160.0/19".parse().unwrap(),
            ["6871", "GB", "ripencc", "2010-08-04", "PLUSNET Plusnet, GB"],
        ),
        (
            "2a00:1450::/32".parse().unwrap(),
            ["15169", "IE", "ripencc", "2009-10-05", "GOOGLE, US"],
        ),
    ];
    let cymru = FakeCymru::start(routes).await;
    let settings = WhoisSettings {
        bootstrap_url: iana.url("rdap/"),
        cymru_server: cymru.address().to_string(),
        concurrency: 4,
        requests_per_second: 1000,
        timeout: Duration::from_secs(10),
    };
    World {
        _iana: iana,
        arin,
        ripe,
        cymru,
        settings,
    }
}

#[tokio::test]
async fn asn_and_networks_for_each_address() {
    let w = world().await;
    let lookup = WhoisLookup::new(w.settings.clone()).unwrap();
    let ips: Vec<String> = [
        "13.107.4.50",
        "2.125.160.216",
        "5.45.1.1",
        "10.0.0.1",
        "2a00:1450::200e",
        "99.0.0.1",
        "nonsense",
    ]
    .map(String::from)
    .to_vec();
    let results = lookup.lookup(&ips).await;
    assert_eq!(results.len(), ips.len());

    let msft = &results[0];
    assert_eq!(msft.query, "13.107.4.50");
    let asn = msft.asn.as_ref().unwrap();
    assert_eq!((asn.asn.as_str(), asn.registry.as_str()), ("8068", "arin"));
    assert_eq!(asn.description, "MICROSOFT-CORP-MSN-AS-BLOCK, US");
    assert_eq!(asn.cidr, "13.107.4.0/24");
    // The network and, through its `up` link, the enclosing one.
    let names: Vec<_> = msft
        .nets
        .iter()
        .map(|n| n.name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["MSFT", "NET13"]);
    let first = &msft.nets[0];
    assert_eq!(first.cidr, "13.64.0.0/10");
    assert_eq!(first.range, "13.64.0.0 - 13.127.255.255");
    assert_eq!(first.handle.as_deref(), Some("NET-13-64-0-0-1"));
    assert_eq!(first.emails, ["abuse@msft.example"]);
    assert_eq!(first.address.as_deref(), Some("1 MSFT Way\nSomewhere"));
    assert_eq!(first.created.as_deref(), Some("2015-03-26T14:39:02-04:00"));
    assert_eq!(msft.error, None);

    // Referred by redirect, and by a related link, to RIPE.
    assert_eq!(results[1].nets[0].name.as_deref(), Some("PLUSNET"));
    assert!(results[1].nets[0]
        .source
        .starts_with(w.ripe.base().as_str()));
    assert_eq!(results[1].asn.as_ref().unwrap().asn, "6871");
    assert_eq!(results[2].nets[0].name.as_deref(), Some("HETZNER-DE"));
    assert_eq!(results[2].asn, None, "no route at Team Cymru");

    assert_eq!(
        results[3].error.as_deref(),
        Some("Private address: not looked up")
    );
    assert!(results[3].nets.is_empty());
    assert_eq!(results[4].nets[0].country.as_deref(), Some("IE"));
    assert_eq!(results[4].asn.as_ref().unwrap().asn, "15169");
    // No registry in the bootstrap: no networks, and no error either.
    assert!(results[5].nets.is_empty() && results[5].error.is_none());
    assert_eq!(
        results[6].error.as_deref(),
        Some("'nonsense' is not an IPv4 or IPv6 address")
    );

    // One bulk query to Team Cymru with the public addresses only.
    let queries = w.cymru.queries();
    assert_eq!(queries.len(), 1);
    assert!(queries[0].starts_with("begin\nverbose\n") && queries[0].ends_with("end\n"));
    assert!(!queries[0].contains("10.0.0.1"));
    // Every RDAP request asked for RDAP JSON.
    let arin_requests = w.arin.server().requests();
    assert!(arin_requests
        .iter()
        .all(|r| r.header("accept") == Some("application/rdap+json")));

    let batch = whois_batch(&results);
    assert_eq!(batch.num_rows(), ips.len());
}

#[tokio::test]
async fn one_failing_registry_fails_only_its_addresses() {
    let w = world().await;
    let mut settings = w.settings.clone();
    settings.cymru_server = "127.0.0.1:9".into(); // nothing listens on the discard port
    drop(w.ripe);
    let lookup = WhoisLookup::new(settings).unwrap();
    let results = lookup
        .lookup(&["13.107.4.50".to_string(), "2.125.160.216".to_string()])
        .await;
    assert_eq!(results[0].nets[0].name.as_deref(), Some("MSFT"));
    let msft_error = results[0].error.as_deref().unwrap();
    assert!(
        msft_error.starts_with("Team Cymru whois at 127.0.0.1:9: cannot connect"),
        "{msft_error}"
    );
    let ripe_error = results[1].error.as_deref().unwrap();
    assert!(
        ripe_error.contains("cannot connect to RDAP"),
        "{ripe_error}"
    );
}

#[tokio::test]
async fn bootstrap_files_are_fetched_once() {
    let w = world().await;
    let lookup = WhoisLookup::new(w.settings.clone()).unwrap();
    for _ in 0..3 {
        lookup
            .lookup(&["13.107.4.50".to_string(), "13.64.0.1".to_string()])
            .await;
    }
    let bootstrap_requests = w._iana.requests().len();
    assert_eq!(
        bootstrap_requests, 1,
        "ipv4.json once; ipv6.json never needed"
    );
}

#[tokio::test]
async fn rdap_requests_keep_to_the_rate_limit() {
    let w = world().await;
    let mut settings = w.settings.clone();
    settings.requests_per_second = 4;
    let lookup = WhoisLookup::new(settings).unwrap();
    // Eight addresses of NET13, which has no enclosing network: one request each.
    let ips: Vec<String> = (0..8).map(|i| format!("13.1.{i}.1")).collect();
    let results = lookup.lookup(&ips).await;
    assert!(results
        .iter()
        .all(|r| r.nets[0].name.as_deref() == Some("NET13")));
    let times: Vec<_> = w.arin.server().requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 8);
    // A burst of four, then one every 250 ms.
    let spread = times[7].duration_since(times[0]);
    assert!(spread >= Duration::from_millis(950), "{spread:?}");
}
