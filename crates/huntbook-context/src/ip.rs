//! The type of an IP address: Public, Private, Loopback, Multicast, Link Local,
//! Reserved or Unspecified, with MSTICPy's names.
//!
//! MSTICPy's `get_ip_type` asks Python's `ipaddress` module a series of questions and
//! answers with the first that holds, in this order: multicast, global (`Public`),
//! loopback, link local, unspecified, private, reserved; anything else is
//! `Unspecified`. [`ip_type`] asks the same questions in the same order, over the
//! special-purpose address tables of Python 3.11's `ipaddress` (the IANA IPv4 and IPv6
//! special-purpose registries as that module lists them), so that an address gets the
//! same type here as in a notebook running MSTICPy.
//!
//! [`is_global`] is the "may be looked up" check that the GeoIP and threat-intel
//! lookups share: documentation ranges, carrier-grade NAT, private and reserved
//! addresses are not global.
//!
//! ```
//! use huntbook_context::ip::{ip_type, parse_ip, IpType};
//!
//! assert_eq!(ip_type(parse_ip("10.1.2.3").unwrap()), IpType::Private);
//! assert_eq!(ip_type(parse_ip(" 8.8.8.8 ").unwrap()).name(), "Public");
//! assert_eq!(ip_type(parse_ip("fe80::1").unwrap()).name(), "Link Local");
//! assert!(parse_ip("10.0.0.300").is_err());
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The category of an address, in MSTICPy's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpType {
    Multicast,
    Public,
    Loopback,
    LinkLocal,
    Unspecified,
    Private,
    Reserved,
}

impl IpType {
    /// The name MSTICPy gives the type (`"Link Local"` with its space).
    pub fn name(self) -> &'static str {
        match self {
            IpType::Multicast => "Multicast",
            IpType::Public => "Public",
            IpType::Loopback => "Loopback",
            IpType::LinkLocal => "Link Local",
            IpType::Unspecified => "Unspecified",
            IpType::Private => "Private",
            IpType::Reserved => "Reserved",
        }
    }
}

impl fmt::Display for IpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A text that is not an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not an IPv4 or IPv6 address")]
pub struct NotAnIp {
    pub text: String,
}

/// Reads an IPv4 or IPv6 address, ignoring surrounding white space.
pub fn parse_ip(text: &str) -> Result<IpAddr, NotAnIp> {
    text.trim().parse().map_err(|_| NotAnIp {
        text: text.to_string(),
    })
}

/// The first type that holds, in MSTICPy's order of checks.
pub fn ip_type(ip: IpAddr) -> IpType {
    let facts = Facts::of(ip);
    let checks = [
        (facts.multicast, IpType::Multicast),
        (facts.global, IpType::Public),
        (facts.loopback, IpType::Loopback),
        (facts.link_local, IpType::LinkLocal),
        (facts.unspecified, IpType::Unspecified),
        (facts.private, IpType::Private),
        (facts.reserved, IpType::Reserved),
    ];
    checks
        .into_iter()
        .find(|(holds, _)| *holds)
        .map_or(IpType::Unspecified, |(_, t)| t)
}

/// Whether the address is allocated for public use: not private, not shared
/// (100.64.0.0/10) and not special-purpose.
pub fn is_global(ip: IpAddr) -> bool {
    Facts::of(ip).global
}

/// The answers of Python's `ipaddress` properties for one address.
struct Facts {
    multicast: bool,
    global: bool,
    loopback: bool,
    link_local: bool,
    unspecified: bool,
    private: bool,
    reserved: bool,
}

/// IPv4 networks `ipaddress` calls private (the special-purpose registry entries
/// that are not globally reachable).
const V4_PRIVATE: [(u32, u8); 14] = [
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10.0.0.0/8
    (0x7f00_0000, 8),  // 127.0.0.0/8
    (0xa9fe_0000, 16), // 169.254.0.0/16
    (0xac10_0000, 12), // 172.16.0.0/12
    (0xc000_0000, 29), // 192.0.0.0/29 IETF protocol assignments
    (0xc000_00aa, 31), // 192.0.0.170/31 NAT64 discovery
    (0xc000_0200, 24), // 192.0.2.0/24 TEST-NET-1
    (0xc0a8_0000, 16), // 192.168.0.0/16
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 TEST-NET-2
    (0xcb00_7100, 24), // 203.0.113.0/24 TEST-NET-3
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved
    (0xffff_ffff, 32), // limited broadcast
];

/// Carrier-grade NAT space: neither private nor global.
const V4_SHARED: (u32, u8) = (0x6440_0000, 10);

/// IPv6 networks `ipaddress` calls private (besides IPv4-mapped addresses, which
/// follow their IPv4 address).
const V6_PRIVATE: [(u128, u8); 9] = [
    (1, 128),                                        // ::1 loopback
    (0, 128),                                        // :: unspecified
    (0x0100_0000_0000_0000 << 64, 64),               // 100::/64 discard-only
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // 2001::/23 IETF protocol assignments
    (0x2001_0002_0000_0000_0000_0000_0000_0000, 48), // 2001:2::/48 benchmarking
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32 documentation
    (0x2001_0010_0000_0000_0000_0000_0000_0000, 28), // 2001:10::/28 ORCHID
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // fc00::/7 unique local
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10 link local
];

/// IPv6 networks reserved by the IETF (the unassigned parts of the address space).
const V6_RESERVED: [(u128, u8); 15] = [
    (0, 8),
    (0x0100 << 112, 8),
    (0x0200 << 112, 7),
    (0x0400 << 112, 6),
    (0x0800 << 112, 5),
    (0x1000 << 112, 4),
    (0x4000 << 112, 3),
    (0x6000 << 112, 3),
    (0x8000 << 112, 3),
    (0xa000 << 112, 3),
    (0xc000 << 112, 3),
    (0xe000 << 112, 4),
    (0xf000 << 112, 5),
    (0xf800 << 112, 6),
    (0xfe00 << 112, 9),
];

fn in_v4(ip: u32, (network, prefix): (u32, u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    ip & mask == network
}

fn in_v6(ip: u128, (network, prefix): (u128, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    ip & mask == network
}

impl Facts {
    fn of(ip: IpAddr) -> Facts {
        match ip {
            IpAddr::V4(v4) => Facts::v4(v4),
            IpAddr::V6(v6) => Facts::v6(v6),
        }
    }

    fn v4(ip: Ipv4Addr) -> Facts {
        let n = u32::from(ip);
        let private = V4_PRIVATE.iter().any(|&net| in_v4(n, net));
        Facts {
            multicast: in_v4(n, (0xe000_0000, 4)),
            global: !private && !in_v4(n, V4_SHARED),
            loopback: in_v4(n, (0x7f00_0000, 8)),
            link_local: in_v4(n, (0xa9fe_0000, 16)),
            unspecified: n == 0,
            private,
            reserved: in_v4(n, (0xf000_0000, 4)),
        }
    }

    fn v6(ip: Ipv6Addr) -> Facts {
        let n = u128::from(ip);
        // An IPv4-mapped address (::ffff:a.b.c.d) is private when its IPv4 address is;
        // the rest of the mapped block's checks are IPv6's own.
        let private = match ip.to_ipv4_mapped() {
            Some(v4) => Facts::v4(v4).private,
            None => V6_PRIVATE.iter().any(|&net| in_v6(n, net)),
        };
        Facts {
            multicast: in_v6(n, (0xff << 120, 8)),
            global: !private,
            loopback: n == 1,
            link_local: in_v6(n, (0xfe80 << 112, 10)),
            unspecified: n == 0,
            private,
            reserved: V6_RESERVED.iter().any(|&net| in_v6(n, net)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_of(text: &str) -> &'static str {
        ip_type(parse_ip(text).unwrap()).name()
    }

    #[test]
    fn each_type_in_msticpys_words() {
        for (ip, expected) in [
            ("8.8.8.8", "Public"),
            ("13.107.4.50", "Public"),
            ("10.1.2.3", "Private"),
            ("172.31.255.255", "Private"),
            ("172.32.0.1", "Public"),
            ("192.168.0.1", "Private"),
            ("127.0.0.1", "Loopback"),
            ("169.254.169.254", "Link Local"),
            ("224.0.0.251", "Multicast"),
            ("239.255.255.250", "Multicast"),
            ("0.0.0.0", "Unspecified"),
            // The reserved block is private too, and private is checked first; an
            // IPv6 reserved block that is not private is global, so "Reserved" is
            // never the answer with these tables.
            ("240.0.0.1", "Private"),
            ("255.255.255.255", "Private"),
            ("4000::1", "Public"),
            ("192.0.2.10", "Private"),
            ("2001:4860:4860::8888", "Public"),
            ("::1", "Loopback"),
            ("::", "Unspecified"),
            ("fe80::1", "Link Local"),
            ("fd00::1", "Private"),
            ("ff02::1", "Multicast"),
            ("2001:db8::1", "Private"),
            ("::ffff:8.8.8.8", "Public"),
            ("::ffff:10.0.0.1", "Private"),
            ("::214.0.0.1", "Public"),
        ] {
            assert_eq!(type_of(ip), expected, "{ip}");
        }
    }

    #[test]
    fn shared_address_space_is_neither_global_nor_private() {
        // 100.64.0.0/10 (carrier-grade NAT) fails every check MSTICPy makes.
        let ip = parse_ip("100.64.1.1").unwrap();
        assert!(!is_global(ip));
        assert_eq!(ip_type(ip), IpType::Unspecified);
        assert!(is_global(parse_ip("100.128.0.1").unwrap()));
    }

    #[test]
    fn bad_text_is_named() {
        let err = parse_ip("10.0.0.300").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'10.0.0.300' is not an IPv4 or IPv6 address"
        );
        assert!(parse_ip("").is_err());
        assert_eq!(
            parse_ip("  1.2.3.4\n").unwrap(),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn network_masks_at_the_edges() {
        assert!(in_v4(0, (0, 0)));
        assert!(in_v4(0xffff_ffff, (0xffff_ffff, 32)));
        assert!(!in_v4(0xffff_fffe, (0xffff_ffff, 32)));
        assert!(in_v6(u128::MAX, (0, 0)));
        assert!(in_v6(1, (1, 128)));
    }
}
