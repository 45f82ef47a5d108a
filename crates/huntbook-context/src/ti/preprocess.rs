//! The checks an observable passes before any provider sees it, MSTICPy's
//! `PreProcessor`: its type is known and it matches that type (defanged spellings
//! allowed), then, by type:
//!
//! - IP addresses are refanged and must be global (a private or loopback address
//!   means nothing to a threat-intel service);
//! - domains are refanged, contain a dot and are not IP addresses;
//! - URLs are refanged and cleaned (parsed and written back in normal form); a URL
//!   without a host, with a private or loopback IP host, with a dotless host, or with
//!   the `file` scheme is refused;
//! - hashes must have a Shannon entropy of at least 3.0 bits per character, which
//!   rules out runs such as `000...0` that fit a hash's length only by accident.
//!
//! A refused observable gets MSTICPy's status: `NotSupported` for an unknown type,
//! `BadFormat` for the rest.

use std::net::IpAddr;

use huntbook_transform::ioc::{self, IocType};
use reqwest::Url;

use super::model::{Observable, Status};
use crate::ip::is_global;

/// The lowest entropy, in bits per character, that a hash may have.
pub const MIN_HASH_ENTROPY: f64 = 3.0;

/// Why an observable was not sent to providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: Status,
    pub reason: String,
    /// The type, when it was known.
    pub ioc_type: Option<IocType>,
}

impl Refusal {
    fn bad(ioc_type: &IocType, reason: impl Into<String>) -> Refusal {
        Refusal {
            status: Status::BadFormat,
            reason: reason.into(),
            ioc_type: Some(ioc_type.clone()),
        }
    }
}

/// Check and clean `text`. `type_name` is an IoC type name or alias (`file_hash`
/// picks the hash type from the length); without it the type is worked out from the
/// text.
pub fn prepare(
    text: &str,
    type_name: Option<&str>,
    subtype: Option<&str>,
) -> Result<Observable, Refusal> {
    let trimmed = text.trim();
    let ioc_type = resolve_type(trimmed, type_name)?;
    if !ioc::validate(trimmed, &ioc_type) {
        return Err(Refusal::bad(
            &ioc_type,
            format!("`{trimmed}` is not a valid {ioc_type}"),
        ));
    }
    let plain = ioc::refang(trimmed, &ioc_type);
    let safe_ioc = match &ioc_type {
        IocType::Ipv4 | IocType::Ipv6 => check_ip(&plain, &ioc_type)?,
        IocType::Dns => check_domain(&plain, &ioc_type)?,
        IocType::Url => clean_url(&plain, &ioc_type)?,
        IocType::Md5Hash | IocType::Sha1Hash | IocType::Sha256Hash => {
            check_hash(&plain, &ioc_type)?
        }
        _ => plain,
    };
    Ok(Observable {
        ioc: text.to_string(),
        ioc_type,
        safe_ioc,
        subtype: subtype.map(str::to_string).filter(|s| !s.is_empty()),
    })
}

fn resolve_type(text: &str, type_name: Option<&str>) -> Result<IocType, Refusal> {
    let not_supported = |reason: String| Refusal {
        status: Status::NotSupported,
        reason,
        ioc_type: None,
    };
    match type_name.map(str::trim).filter(|n| !n.is_empty()) {
        None => ioc::ioc_type(text)
            .ok_or_else(|| not_supported(format!("the type of `{text}` is not recognised"))),
        Some(name) if matches!(name.to_ascii_lowercase().as_str(), "file_hash" | "hash") => {
            ioc::file_hash_type(text).ok_or_else(|| Refusal {
                status: Status::BadFormat,
                reason: format!("`{text}` is not an MD5, SHA1 or SHA256 hash"),
                ioc_type: None,
            })
        }
        Some(name) => IocType::from_name(name)
            .ok_or_else(|| not_supported(format!("`{name}` is not an IoC type"))),
    }
}

fn check_ip(text: &str, ioc_type: &IocType) -> Result<String, Refusal> {
    let ip: IpAddr = text
        .parse()
        .map_err(|_| Refusal::bad(ioc_type, format!("`{text}` is not an IP address")))?;
    let right_version = matches!(
        (ioc_type, ip),
        (IocType::Ipv4, IpAddr::V4(_)) | (IocType::Ipv6, IpAddr::V6(_))
    );
    if !right_version {
        return Err(Refusal::bad(
            ioc_type,
            format!("`{text}` is not an {ioc_type} address"),
        ));
    }
    if !is_global(ip) {
        return Err(Refusal::bad(ioc_type, "IP address is not global"));
    }
    Ok(ip.to_string())
}

fn check_domain(text: &str, ioc_type: &IocType) -> Result<String, Refusal> {
    if !text.contains('.') {
        return Err(Refusal::bad(ioc_type, "a domain needs at least one dot"));
    }
    if text.parse::<IpAddr>().is_ok() {
        return Err(Refusal::bad(ioc_type, "an IP address is not a domain"));
    }
    Ok(text.trim_end_matches('.').to_ascii_lowercase())
}

fn clean_url(text: &str, ioc_type: &IocType) -> Result<String, Refusal> {
    let url =
        Url::parse(text).map_err(|e| Refusal::bad(ioc_type, format!("URL does not parse: {e}")))?;
    if url.scheme() == "file" {
        return Err(Refusal::bad(ioc_type, "file URLs cannot be looked up"));
    }
    let host = match url.host() {
        None => return Err(Refusal::bad(ioc_type, "URL has no host")),
        Some(host) => host,
    };
    match host {
        url::Host::Ipv4(ip) if !is_global(IpAddr::V4(ip)) => {
            return Err(Refusal::bad(
                ioc_type,
                "URL host is not a global IP address",
            ))
        }
        url::Host::Ipv6(ip) if !is_global(IpAddr::V6(ip)) => {
            return Err(Refusal::bad(
                ioc_type,
                "URL host is not a global IP address",
            ))
        }
        url::Host::Domain(name) if !name.contains('.') => {
            return Err(Refusal::bad(ioc_type, "URL host has no dot"))
        }
        _ => {}
    }
    Ok(url.to_string())
}

fn check_hash(text: &str, ioc_type: &IocType) -> Result<String, Refusal> {
    if entropy(text) < MIN_HASH_ENTROPY {
        return Err(Refusal::bad(
            ioc_type,
            "String has too low an entropy to be a hash",
        ));
    }
    Ok(text.to_ascii_lowercase())
}

/// Shannon entropy of `text` in bits per character (case-insensitive, as hashes are).
pub fn entropy(text: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in text.bytes() {
        counts[usize::from(b.to_ascii_lowercase())] += 1;
    }
    let len = text.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str, ty: Option<&str>) -> (Status, String) {
        let r = prepare(text, ty, None).unwrap_err();
        (r.status, r.reason)
    }

    #[test]
    fn defanged_observables_are_refanged() {
        let o = prepare("38[.]75[.]137[.]9", None, Some("passivedns")).unwrap();
        assert_eq!(o.ioc_type, IocType::Ipv4);
        assert_eq!(o.safe_ioc, "38.75.137.9");
        assert_eq!(o.ioc, "38[.]75[.]137[.]9");
        assert_eq!(o.query_key(), "ipv4-passivedns");
        let u = prepare("hxxps[://]evil-site[.]com/a?b=1", None, None).unwrap();
        assert_eq!(u.ioc_type, IocType::Url);
        assert_eq!(u.safe_ioc, "https://evil-site.com/a?b=1");
        let d = prepare("Evil-Site[.]COM", Some("dns"), None).unwrap();
        assert_eq!(d.safe_ioc, "evil-site.com");
    }

    #[test]
    fn non_global_addresses_are_bad_format() {
        // Python's `is_global`, which MSTICPy's check uses, counts multicast as global.
        assert!(prepare("224.0.0.1", Some("ipv4"), None).is_ok());
        for ip in [
            "10.1.2.3",
            "127.0.0.1",
            "192.168.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "192.0.2.7",
            "0.1.2.3",
        ] {
            assert_eq!(
                refused(ip, Some("ipv4")),
                (Status::BadFormat, "IP address is not global".into()),
                "{ip}"
            );
        }
        for ip in [
            "::1",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(refused(ip, Some("ipv6")).0, Status::BadFormat, "{ip}");
        }
        assert!(prepare("2606:4700:4700::1111", Some("ipv6"), None).is_ok());
        assert!(prepare("8.8.8.8", Some("ipv4"), None).is_ok());
    }

    #[test]
    fn wrong_types_and_unknown_types() {
        assert_eq!(refused("evil.com", Some("ipv4")).0, Status::BadFormat);
        assert_eq!(
            refused("evil.com", Some("registry_key")).0,
            Status::NotSupported
        );
        assert_eq!(refused("just words", None).0, Status::NotSupported);
    }

    #[test]
    fn urls_are_checked_and_cleaned() {
        assert_eq!(
            prepare("HTTP://Evil.COM:80/x", None, None)
                .unwrap()
                .safe_ioc,
            "http://evil.com/x"
        );
        for (url, reason) in [
            ("http://10.0.0.1/a", "URL host is not a global IP address"),
            ("http://127.0.0.1/a", "URL host is not a global IP address"),
        ] {
            assert_eq!(
                refused(url, Some("url")),
                (Status::BadFormat, reason.into())
            );
        }
        assert_eq!(
            refused("file:///etc/passwd", Some("url")).0,
            Status::BadFormat
        );
    }

    #[test]
    fn hashes_need_entropy() {
        let low = "0".repeat(32);
        assert_eq!(
            refused(&low, Some("md5")),
            (
                Status::BadFormat,
                "String has too low an entropy to be a hash".into()
            )
        );
        let h = prepare("44D88612FEA8A8F36DE82E1278ABB02F", Some("file_hash"), None).unwrap();
        assert_eq!(h.ioc_type, IocType::Md5Hash);
        assert_eq!(h.safe_ioc, "44d88612fea8a8f36de82e1278abb02f");
        assert!(entropy("0123456789abcdef") == 4.0);
        assert_eq!(refused("abc", Some("file_hash")).0, Status::BadFormat);
    }
}
