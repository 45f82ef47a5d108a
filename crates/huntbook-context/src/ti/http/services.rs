//! The threat-intel web services, one row of data each: where each query goes, how
//! the key is sent, how "nothing known" and failures look in a 200 answer, which
//! fields make the `Details`, and the severity rule (MSTICPy's mapping, and the
//! services' documentation for those MSTICPy does not have).
//!
//! Templates take `{observable}` (percent-encoded in a path), `{observable_b64}`
//! (unpadded URL-safe base64, VirusTotal's URL identifier), `{AuthKey}`, `{ApiID}`
//! and `{Instance}`.

use super::severity::{at_least, Rule, SeverityRule};
use crate::ti::model::Severity::{High, Information, Unknown, Warning};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

/// How the key reaches the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `AuthKey` in this header.
    Header(&'static str),
    /// `AuthKey` in this query parameter.
    QueryParam(&'static str),
    /// HTTP Basic with `ApiID` as user and `AuthKey` as password.
    Basic,
    /// `AuthKey` is part of the path template.
    InPath,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// `application/x-www-form-urlencoded`.
    Form(&'static [(&'static str, &'static str)]),
    /// A JSON document whose string values may hold templates.
    Json(&'static str),
}

/// One query: a key such as `ipv4` or `ipv4-passivedns` and its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub key: &'static str,
    pub verb: Verb,
    pub path: &'static str,
    pub params: &'static [(&'static str, &'static str)],
    pub body: Body,
}

const fn get(key: &'static str, path: &'static str) -> Query {
    Query {
        key,
        verb: Verb::Get,
        path,
        params: &[],
        body: Body::None,
    }
}

const fn get_with(
    key: &'static str,
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
) -> Query {
    Query {
        key,
        verb: Verb::Get,
        path,
        params,
        body: Body::None,
    }
}

const fn post(key: &'static str, path: &'static str, body: Body) -> Query {
    Query {
        key,
        verb: Verb::Post,
        path,
        params: &[],
        body,
    }
}

/// A query taking many observables at once: `param` is repeated with `{i}` numbered
/// from 0, and the answers are the items of the list at `items`, matched to the
/// observables by the text at `item_key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub query: &'static str,
    pub max: usize,
    pub param: &'static str,
    pub items: &'static str,
    pub item_key: &'static str,
}

/// A 200 answer that still means something: the text at `pointer` is one of
/// `values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub pointer: &'static str,
    pub values: &'static [&'static str],
}

/// One web service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Service {
    /// The `Provider:` key in `TIProviders`.
    pub key: &'static str,
    pub base_url: &'static str,
    pub auth: Auth,
    pub queries: &'static [Query],
    pub batch: Option<Batch>,
    /// A 200 answer saying the service knows nothing of the observable.
    pub no_data: Option<Marker>,
    /// A 200 answer that is really a failure (the message is at `message`).
    pub failure: Option<(Marker, &'static str)>,
    /// `Details` fields: a name and a JSON pointer into the answer.
    pub details: &'static [(&'static str, &'static str)],
    pub severity: SeverityRule,
}

impl Service {
    /// The service with `key`, compared case-insensitively.
    pub fn find(key: &str) -> Option<&'static Service> {
        let key = ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(key))
            .map_or(key, |(_, canonical)| canonical);
        SERVICES.iter().find(|s| s.key.eq_ignore_ascii_case(key))
    }

    pub fn query(&self, key: &str) -> Option<&'static Query> {
        self.queries.iter().find(|q| q.key == key)
    }
}

/// Other names configurations use for a service.
const ALIASES: [(&str, &str); 2] = [("OpenPageRank", "OPR"), ("AlienVault", "OTX")];

const OTX_PULSES: SeverityRule = SeverityRule {
    rules: &[Rule::Score {
        pointers: &["/pulse_info/count"],
        levels: &[at_least(1.0, Warning), at_least(2.0, High)],
    }],
    otherwise: Information,
};

/// Every web service huntbook knows.
pub static SERVICES: &[Service] = &[
    // https://docs.virustotal.com/reference/overview (API v3)
    Service {
        key: "VirusTotal",
        base_url: "https://www.virustotal.com",
        auth: Auth::Header("x-apikey"),
        queries: &[
            get("ipv4", "/api/v3/ip_addresses/{observable}"),
            get("ipv6", "/api/v3/ip_addresses/{observable}"),
            get("dns", "/api/v3/domains/{observable}"),
            get("file_hash", "/api/v3/files/{observable}"),
            get("url", "/api/v3/urls/{observable_b64}"),
        ],
        batch: None,
        no_data: None,
        failure: None,
        details: &[
            (
                "last_analysis_stats",
                "/data/attributes/last_analysis_stats",
            ),
            ("reputation", "/data/attributes/reputation"),
            ("type", "/data/type"),
        ],
        // MSTICPy's v2 rule (positives: >1 high, 1 warning) on v3's engine counts.
        severity: SeverityRule {
            rules: &[
                Rule::Score {
                    pointers: &["/data/attributes/last_analysis_stats/malicious"],
                    levels: &[at_least(1.0, Warning), at_least(2.0, High)],
                },
                Rule::Score {
                    pointers: &["/data/attributes/last_analysis_stats/suspicious"],
                    levels: &[at_least(1.0, Warning)],
                },
            ],
            otherwise: Information,
        },
    },
    // https://otx.alienvault.com/api (indicators API)
    Service {
        key: "OTX",
        base_url: "https://otx.alienvault.com",
        auth: Auth::Header("X-OTX-API-KEY"),
        queries: &[
            get("ipv4", "/api/v1/indicators/IPv4/{observable}/general"),
            get(
                "ipv4-passivedns",
                "/api/v1/indicators/IPv4/{observable}/passive_dns",
            ),
            get("ipv4-geo", "/api/v1/indicators/IPv4/{observable}/geo"),
            get("ipv6", "/api/v1/indicators/IPv6/{observable}/general"),
            get(
                "ipv6-passivedns",
                "/api/v1/indicators/IPv6/{observable}/passive_dns",
            ),
            get("ipv6-geo", "/api/v1/indicators/IPv6/{observable}/geo"),
            get("dns", "/api/v1/indicators/domain/{observable}/general"),
            get(
                "dns-passivedns",
                "/api/v1/indicators/domain/{observable}/passive_dns",
            ),
            get("dns-geo", "/api/v1/indicators/domain/{observable}/geo"),
            get("file_hash", "/api/v1/indicators/file/{observable}/general"),
            get("url", "/api/v1/indicators/url/{observable}/general"),
        ],
        batch: None,
        no_data: None,
        failure: None,
        details: &[
            ("pulse_count", "/pulse_info/count"),
            ("references", "/pulse_info/references"),
            ("passive_dns_count", "/count"),
        ],
        severity: OTX_PULSES,
    },
    // https://api.xforce.ibmcloud.com/doc/
    Service {
        key: "XForce",
        base_url: "https://api.xforce.ibmcloud.com",
        auth: Auth::Basic,
        queries: &[
            get("ipv4", "/ipr/{observable}"),
            get("ipv4-rep", "/ipr/history/{observable}"),
            get("ipv4-malware", "/ipr/malware/{observable}"),
            get("ipv4-whois", "/whois/{observable}"),
            get("ipv4-passivedns", "/resolve/{observable}"),
            get("ipv6", "/ipr/{observable}"),
            get("ipv6-rep", "/ipr/history/{observable}"),
            get("ipv6-malware", "/ipr/malware/{observable}"),
            get("ipv6-whois", "/whois/{observable}"),
            get("ipv6-passivedns", "/resolve/{observable}"),
            get("dns", "/url/{observable}"),
            get("dns-malware", "/url/malware/{observable}"),
            get("dns-whois", "/whois/{observable}"),
            get("dns-passivedns", "/resolve/{observable}"),
            get("file_hash", "/malware/{observable}"),
            get("url", "/url/{observable}"),
            get("url-malware", "/url/malware/{observable}"),
        ],
        batch: None,
        no_data: None,
        failure: None,
        details: &[
            ("score", "/score"),
            ("url_score", "/result/score"),
            ("categories", "/cats"),
            ("malware", "/malware"),
            ("country", "/geo/country"),
        ],
        // score < 2 information, 2-4 warning, >= 5 high; any malware record is high.
        severity: SeverityRule {
            rules: &[
                Rule::Score {
                    pointers: &["/score", "/result/score"],
                    levels: &[at_least(2.0, Warning), at_least(5.0, High)],
                },
                Rule::Present {
                    pointer: "/malware",
                    severity: High,
                },
            ],
            otherwise: Information,
        },
    },
    // https://docs.greynoise.io/reference (community v3, quick and context v2)
    Service {
        key: "GreyNoise",
        base_url: "https://api.greynoise.io",
        auth: Auth::Header("key"),
        queries: &[
            get("ipv4", "/v3/community/{observable}"),
            get("ipv4-quick", "/v2/noise/quick/{observable}"),
            get("ipv4-full", "/v2/noise/context/{observable}"),
        ],
        batch: None,
        no_data: None,
        failure: None,
        details: &[
            ("classification", "/classification"),
            ("noise", "/noise"),
            ("riot", "/riot"),
            ("name", "/name"),
            ("last_seen", "/last_seen"),
        ],
        severity: SeverityRule {
            rules: &[Rule::Label {
                pointer: "/classification",
                labels: &[("malicious", High)],
            }],
            otherwise: Information,
        },
    },
    // https://docs.abuseipdb.com/#check-endpoint
    Service {
        key: "AbuseIPDB",
        base_url: "https://api.abuseipdb.com",
        auth: Auth::Header("Key"),
        queries: &[
            get_with(
                "ipv4",
                "/api/v2/check",
                &[("ipAddress", "{observable}"), ("maxAgeInDays", "90")],
            ),
            get_with(
                "ipv6",
                "/api/v2/check",
                &[("ipAddress", "{observable}"), ("maxAgeInDays", "90")],
            ),
        ],
        batch: None,
        no_data: None,
        failure: None,
        details: &[
            ("abuseConfidenceScore", "/data/abuseConfidenceScore"),
            ("totalReports", "/data/totalReports"),
            ("countryCode", "/data/countryCode"),
            ("isp", "/data/isp"),
            ("usageType", "/data/usageType"),
        ],
        // > 50 high, > 0 warning (the score is a whole number).
        severity: SeverityRule {
            rules: &[Rule::Score {
                pointers: &["/data/abuseConfidenceScore"],
                levels: &[at_least(1.0, Warning), at_least(51.0, High)],
            }],
            otherwise: Information,
        },
    },
    // https://docs.crowdsec.net/u/cti_api/api_introduction (smoke endpoint)
    Service {
        key: "CrowdSec",
        base_url: "https://cti.api.crowdsec.net",
        auth: Auth::Header("x-api-key"),
        queries: &[
            get("ipv4", "/v2/smoke/{observable}"),
            get("ipv6", "/v2/smoke/{observable}"),
        ],
        batch: None,
        no_data: None,
        failure: None,
        details: &[
            ("reputation", "/reputation"),
            ("overall_score", "/scores/overall/total"),
            ("behaviors", "/behaviors"),
            ("as_name", "/as_name"),
        ],
        // Overall score (0-5): <= 2 information, 3 warning, more high.
        severity: SeverityRule {
            rules: &[Rule::Score {
                pointers: &["/scores/overall/total"],
                levels: &[at_least(3.0, Warning), at_least(4.0, High)],
            }],
            otherwise: Information,
        },
    },
    // https://www.ipqualityscore.com/documentation/proxy-detection-api/overview
    Service {
        key: "IPQualityScore",
        base_url: "https://www.ipqualityscore.com",
        auth: Auth::InPath,
        queries: &[get("ipv4", "/api/json/ip/{AuthKey}/{observable}")],
        batch: None,
        no_data: None,
        failure: Some((
            Marker {
                pointer: "/success",
                values: &["false"],
            },
            "/message",
        )),
        details: &[
            ("fraud_score", "/fraud_score"),
            ("proxy", "/proxy"),
            ("vpn", "/vpn"),
            ("tor", "/tor"),
            ("country_code", "/country_code"),
            ("ISP", "/ISP"),
        ],
        // fraud_score > 50 warning, >= 80 high.
        severity: SeverityRule {
            rules: &[Rule::Score {
                pointers: &["/fraud_score"],
                levels: &[at_least(51.0, Warning), at_least(80.0, High)],
            }],
            otherwise: Information,
        },
    },
    // https://pulsedive.com/api/ (info.php)
    Service {
        key: "Pulsedive",
        base_url: "https://pulsedive.com",
        auth: Auth::QueryParam("key"),
        queries: &[
            get_with("ipv4", "/api/info.php", &[("indicator", "{observable}")]),
            get_with("ipv6", "/api/info.php", &[("indicator", "{observable}")]),
            get_with("dns", "/api/info.php", &[("indicator", "{observable}")]),
            get_with("url", "/api/info.php", &[("indicator", "{observable}")]),
            get_with(
                "file_hash",
                "/api/info.php",
                &[("indicator", "{observable}")],
            ),
        ],
        batch: None,
        no_data: None,
        failure: None,
        details: &[
            ("risk", "/risk"),
            ("threats", "/threats"),
            ("feeds", "/feeds"),
            ("stamp_seen", "/stamp_seen"),
        ],
        severity: SeverityRule {
            rules: &[Rule::Label {
                pointer: "/risk",
                labels: &[
                    ("critical", High),
                    ("high", High),
                    ("medium", Warning),
                    ("low", Information),
                    ("none", Unknown),
                ],
            }],
            otherwise: Unknown,
        },
    },
    // https://urlhaus-api.abuse.ch/ (url, host and payload queries)
    Service {
        key: "URLhaus",
        base_url: "https://urlhaus-api.abuse.ch",
        auth: Auth::Header("Auth-Key"),
        queries: &[
            post("url", "/v1/url/", Body::Form(&[("url", "{observable}")])),
            post("dns", "/v1/host/", Body::Form(&[("host", "{observable}")])),
            post("ipv4", "/v1/host/", Body::Form(&[("host", "{observable}")])),
            post(
                "md5_hash",
                "/v1/payload/",
                Body::Form(&[("md5_hash", "{observable}")]),
            ),
            post(
                "sha256_hash",
                "/v1/payload/",
                Body::Form(&[("sha256_hash", "{observable}")]),
            ),
        ],
        batch: None,
        no_data: Some(Marker {
            pointer: "/query_status",
            values: &["no_results"],
        }),
        failure: Some((
            Marker {
                pointer: "/query_status",
                values: &[
                    "invalid_url",
                    "invalid_host",
                    "invalid_md5_hash",
                    "invalid_sha256_hash",
                    "http_post_expected",
                ],
            },
            "/query_status",
        )),
        details: &[
            ("threat", "/threat"),
            ("url_status", "/url_status"),
            ("url_count", "/url_count"),
            ("signature", "/signature"),
            ("tags", "/tags"),
            ("urlhaus_reference", "/urlhaus_reference"),
        ],
        // Listed at all is listed as malware distribution.
        severity: SeverityRule {
            rules: &[Rule::Label {
                pointer: "/query_status",
                labels: &[("ok", High)],
            }],
            otherwise: Information,
        },
    },
    // https://threatfox.abuse.ch/api/ (search_ioc, search_hash)
    Service {
        key: "ThreatFox",
        base_url: "https://threatfox-api.abuse.ch",
        auth: Auth::Header("Auth-Key"),
        queries: &[
            post(
                "ipv4",
                "/api/v1/",
                Body::Json(
                    r#"{"query": "search_ioc", "search_term": "{observable}", "exact_match": false}"#,
                ),
            ),
            post(
                "dns",
                "/api/v1/",
                Body::Json(
                    r#"{"query": "search_ioc", "search_term": "{observable}", "exact_match": true}"#,
                ),
            ),
            post(
                "url",
                "/api/v1/",
                Body::Json(
                    r#"{"query": "search_ioc", "search_term": "{observable}", "exact_match": true}"#,
                ),
            ),
            post(
                "file_hash",
                "/api/v1/",
                Body::Json(r#"{"query": "search_hash", "hash": "{observable}"}"#),
            ),
        ],
        batch: None,
        no_data: Some(Marker {
            pointer: "/query_status",
            values: &["no_result", "no_results"],
        }),
        failure: Some((
            Marker {
                pointer: "/query_status",
                values: &[
                    "illegal_search_term",
                    "illegal_hash",
                    "unknown_query",
                    "unknown_auth_key",
                ],
            },
            "/query_status",
        )),
        details: &[
            ("threat_type", "/data/0/threat_type"),
            ("malware", "/data/0/malware_printable"),
            ("confidence_level", "/data/0/confidence_level"),
            ("first_seen", "/data/0/first_seen"),
            ("tags", "/data/0/tags"),
        ],
        // A listed IoC is at least suspect; ThreatFox's confidence of 75+ makes it high.
        severity: SeverityRule {
            rules: &[Rule::Score {
                pointers: &["/data/0/confidence_level"],
                levels: &[at_least(0.0, Warning), at_least(75.0, High)],
            }],
            otherwise: Warning,
        },
    },
    // https://bazaar.abuse.ch/api/ (get_info)
    Service {
        key: "MalwareBazaar",
        base_url: "https://mb-api.abuse.ch",
        auth: Auth::Header("Auth-Key"),
        queries: &[post(
            "file_hash",
            "/api/v1/",
            Body::Form(&[("query", "get_info"), ("hash", "{observable}")]),
        )],
        batch: None,
        no_data: Some(Marker {
            pointer: "/query_status",
            values: &["hash_not_found", "no_results"],
        }),
        failure: Some((
            Marker {
                pointer: "/query_status",
                values: &["illegal_hash", "unknown_auth_key", "no_hash_provided"],
            },
            "/query_status",
        )),
        details: &[
            ("signature", "/data/0/signature"),
            ("file_type", "/data/0/file_type"),
            ("first_seen", "/data/0/first_seen"),
            ("tags", "/data/0/tags"),
        ],
        severity: SeverityRule {
            rules: &[Rule::Label {
                pointer: "/query_status",
                labels: &[("ok", High)],
            }],
            otherwise: Information,
        },
    },
    // https://www.domcop.com/openpagerank/documentation
    Service {
        key: "OPR",
        base_url: "https://openpagerank.com",
        auth: Auth::Header("API-OPR"),
        queries: &[get("dns", "/api/v1.0/getPageRank")],
        batch: Some(Batch {
            query: "dns",
            max: 100,
            param: "domains[{i}]",
            items: "/response",
            item_key: "/domain",
        }),
        no_data: None,
        failure: None,
        details: &[
            ("rank", "/rank"),
            ("page_rank", "/page_rank_decimal"),
            ("error", "/error"),
        ],
        // A domain Open PageRank has never seen is unusual, hence a warning.
        severity: SeverityRule {
            rules: &[Rule::Label {
                pointer: "/status_code",
                labels: &[("200", Information), ("404", Warning)],
            }],
            otherwise: Unknown,
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_found_in_any_case() {
        for s in SERVICES {
            assert_eq!(SERVICES.iter().filter(|o| o.key == s.key).count(), 1);
            assert_eq!(Service::find(&s.key.to_lowercase()).unwrap().key, s.key);
            for q in s.queries {
                assert_eq!(
                    s.queries.iter().filter(|o| o.key == q.key).count(),
                    1,
                    "{}",
                    q.key
                );
            }
            if let Some(batch) = s.batch {
                assert!(s.query(batch.query).is_some());
            }
            if s.auth == Auth::InPath {
                assert!(s.queries.iter().all(|q| q.path.contains("{AuthKey}")));
            }
        }
        assert_eq!(Service::find("OpenPageRank").unwrap().key, "OPR");
        assert!(Service::find("Shodan").is_none());
    }
}
