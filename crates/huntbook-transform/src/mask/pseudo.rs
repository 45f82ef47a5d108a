//! Keyed pseudonyms for single values: strings, IP addresses, GUIDs, SIDs, accounts,
//! delimiter-separated strings and JSON documents.
//!
//! Every pseudonym is derived from HMAC-SHA256 under the caller's secret key, with a
//! short tag per value kind so that, say, the string `"10"` and the IP octet `10` do not
//! share a derivation. Without the key the mapping cannot be recomputed or reversed by
//! guessing inputs, which plain hashing (as MSTICPy does) allows.

use std::net::{Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Computes pseudonyms under one secret key. Cheap to clone and share between threads.
#[derive(Clone)]
pub struct Masker {
    // The keyed state after the key has been absorbed; cloning it skips the key set-up
    // on every value.
    mac: HmacSha256,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Masker { .. }")
    }
}

/// Account names left as they are: built-in identities that say nothing about a person.
const WELL_KNOWN_ACCOUNTS: &[&str] = &[
    "administrator",
    "guest",
    "system",
    "local service",
    "network service",
    "root",
    "crontab",
    "nt authority",
    "builtin",
    "nt service",
    "anonymous logon",
    "localsystem",
    "font driver host",
    "window manager",
    "workgroup",
];

impl Masker {
    /// A masker keyed by `key` (any length; an empty key is accepted but gives no secrecy).
    pub fn new(key: &[u8]) -> Self {
        let mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
        Masker { mac }
    }

    fn digest(&self, tag: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(tag.as_bytes());
        for part in parts {
            // Length-prefix each part so that ("ab","c") and ("a","bc") differ.
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// `n` pseudo-random bytes for `data` (counter mode over HMAC blocks).
    fn stream(&self, tag: &str, data: &[u8], n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n.next_multiple_of(32));
        let mut counter: u64 = 0;
        while out.len() < n {
            out.extend_from_slice(&self.digest(tag, &[data, &counter.to_le_bytes()]));
            counter += 1;
        }
        out.truncate(n);
        out
    }

    /// A string of the same length (in characters): ASCII digits stay digits, upper-case
    /// letters stay upper-case, every other character becomes a lower-case letter.
    /// The input is case-folded before hashing, so `WEB01` and `web01` get the same
    /// letters, each keeping its own case pattern. Empty stays empty.
    pub fn string(&self, input: &str) -> String {
        if input.is_empty() {
            return String::new();
        }
        let folded = input.to_lowercase();
        let count = input.chars().count();
        let bytes = self.stream("str", folded.as_bytes(), count);
        input
            .chars()
            .zip(bytes)
            .map(|(c, b)| {
                if c.is_ascii_digit() {
                    (b'0' + b % 10) as char
                } else if c.is_uppercase() {
                    (b'A' + b % 26) as char
                } else {
                    (b'a' + b % 26) as char
                }
            })
            .collect()
    }

    /// Tokens between any of the characters in `delims` are masked as strings; the
    /// delimiters stay where they are (`host.contoso.com` keeps its two dots).
    pub fn delimited(&self, input: &str, delims: &str) -> String {
        if delims.is_empty() {
            return self.string(input);
        }
        let mut out = String::with_capacity(input.len());
        let mut token_start = 0;
        for (i, c) in input.char_indices() {
            if delims.contains(c) {
                out.push_str(&self.string(&input[token_start..i]));
                out.push(c);
                token_start = i + c.len_utf8();
            }
        }
        out.push_str(&self.string(&input[token_start..]));
        out
    }

    /// A number with the same count of decimal digits, no leading zero (unless it has a
    /// single digit) and no larger than `max`.
    fn digits_in_range(&self, tag: &str, input: &[u8], digits: u32, max: u128) -> u128 {
        let lo = if digits <= 1 {
            0
        } else {
            10u128.pow(digits - 1)
        };
        let hi = 10u128.saturating_pow(digits).saturating_sub(1).min(max);
        if hi <= lo {
            return hi;
        }
        let h = self.digest(tag, &[input]);
        let r = u128::from_le_bytes(h[..16].try_into().expect("16 bytes"));
        lo + r % (hi - lo + 1)
    }

    /// An integer masked to another with the same number of digits and sign, within
    /// `[min, max]` of its type.
    pub fn integer(&self, value: i128, min: i128, max: i128) -> i128 {
        let negative = value < 0;
        let magnitude = value.unsigned_abs();
        let digits = magnitude.checked_ilog10().map_or(1, |d| d + 1);
        let limit = if negative {
            min.unsigned_abs()
        } else {
            max.unsigned_abs()
        };
        let masked =
            self.digits_in_range("int", value.to_string().as_bytes(), digits, limit) as i128;
        if negative {
            -masked
        } else {
            masked
        }
    }

    /// An IPv4 or IPv6 address masked as described on [`Masker::ipv4`] and
    /// [`Masker::ipv6`]; anything that is not an address is masked as a string.
    pub fn ip(&self, input: &str) -> String {
        let trimmed = input.trim();
        if let Ok(v4) = trimmed.parse::<Ipv4Addr>() {
            return self.ipv4(v4).to_string();
        }
        if let Some(v4) = parse_ipv4_lenient(trimmed) {
            return self.ipv4(v4).to_string();
        }
        let (addr, zone) = match trimmed.split_once('%') {
            Some((a, z)) => (a, Some(z)),
            None => (trimmed, None),
        };
        if let Ok(v6) = addr.parse::<Ipv6Addr>() {
            let masked = self.ipv6(v6).to_string();
            return match zone {
                Some(z) => format!("{masked}%{z}"),
                None => masked,
            };
        }
        self.string(input)
    }

    /// IPv4: `0.0.0.0`, `127.0.0.1` and `255.255.255.255` unchanged; the leading octets of
    /// private and special ranges kept (10/8, 127/8, 0/8, 224/4, 240/4 keep one octet;
    /// 172.16/12, 192.168/16, 169.254/16, 100.64/10 keep two); the other octets permuted.
    /// Public addresses stay public. The mapping is one-to-one and keeps subnets
    /// together: each octet's permutation depends on the octets before it.
    pub fn ipv4(&self, addr: Ipv4Addr) -> Ipv4Addr {
        let o = addr.octets();
        if matches!(o, [0, 0, 0, 0] | [127, 0, 0, 1] | [255, 255, 255, 255]) {
            return addr;
        }
        let keep = ipv4_kept_octets(o);
        if keep > 0 {
            return Ipv4Addr::from(self.permute_octets(o, keep));
        }
        // Public: permute all four octets, walking the permutation's cycle until the
        // result is public too. The walk is a bijection on public addresses and ends
        // because the cycle through `o` returns to `o` itself.
        let mut cur = o;
        loop {
            cur = self.permute_octets(cur, 0);
            if ipv4_kept_octets(cur) == 0 && !matches!(cur, [255, 255, 255, 255]) {
                return Ipv4Addr::from(cur);
            }
        }
    }

    fn permute_octets(&self, octets: [u8; 4], keep: usize) -> [u8; 4] {
        let mut mac = self.mac.clone();
        mac.update(b"ip4");
        let mut out = octets;
        for i in 0..4 {
            if i >= keep {
                let round_keys: [u8; 32] = mac.clone().finalize().into_bytes().into();
                out[i] = feistel8(octets[i], &round_keys);
            }
            mac.update(&[octets[i]]);
        }
        out
    }

    /// IPv6: `::` and `::1` unchanged; IPv4-mapped addresses keep `::ffff:` and mask the
    /// IPv4 part; link-local (fe80::/10), unique-local (fc00::/7) and multicast (ff00::/8)
    /// keep their first 16-bit group, documentation (2001:db8::/32) its first two; the
    /// other groups are permuted with a prefix-dependent permutation. Global addresses
    /// stay outside those ranges.
    pub fn ipv6(&self, addr: Ipv6Addr) -> Ipv6Addr {
        if addr.is_unspecified() || addr.is_loopback() {
            return addr;
        }
        if let Some(v4) = addr.to_ipv4_mapped() {
            return self.ipv4(v4).to_ipv6_mapped();
        }
        let segs = addr.segments();
        let keep = ipv6_kept_groups(segs);
        if keep > 0 {
            return Ipv6Addr::from(self.permute_groups(segs, keep));
        }
        let mut cur = segs;
        loop {
            cur = self.permute_groups(cur, 0);
            if ipv6_kept_groups(cur) == 0 && cur[0] != 0 {
                return Ipv6Addr::from(cur);
            }
        }
    }

    fn permute_groups(&self, segs: [u16; 8], keep: usize) -> [u16; 8] {
        let mut mac = self.mac.clone();
        mac.update(b"ip6");
        let mut out = segs;
        for i in 0..8 {
            if i >= keep {
                let round_keys: [u8; 32] = mac.clone().finalize().into_bytes().into();
                out[i] = feistel16(segs[i], &round_keys);
            }
            mac.update(&segs[i].to_be_bytes());
        }
        out
    }

    /// A GUID replaced by a version-4 GUID derived from it (case-insensitively), in the
    /// input's layout: braces, hyphens and upper case are kept. The all-zero GUID is
    /// kept; anything that is not a GUID is masked as a string.
    pub fn guid(&self, input: &str) -> String {
        let Some(layout) = GuidLayout::parse(input) else {
            return self.string(input);
        };
        if layout.hex.iter().all(|&b| b == 0) {
            return input.to_string();
        }
        let h = self.digest("guid", &[&layout.hex]);
        let mut bytes: [u8; 16] = h[..16].try_into().expect("16 bytes");
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        layout.render(&bytes)
    }

    /// A Windows SID. Domain and local-account SIDs (`S-1-5-21-a-b-c[-rid]`) and any
    /// SID with seven numbers (`S-r-i-s1-a-b-c-rid`, the shape MSTICPy masks) get their
    /// three identifying sub-authorities replaced by numbers of the same length (and
    /// still 32-bit); the well-known prefix and the RID are kept. Other SIDs are
    /// well-known and kept. Text that is not a SID is masked as a string.
    pub fn sid(&self, input: &str) -> String {
        let trimmed = input.trim();
        let Some(rest) = trimmed
            .strip_prefix('S')
            .or_else(|| trimmed.strip_prefix('s'))
        else {
            return self.string(input);
        };
        let parts: Vec<&str> = rest.split('-').skip(1).collect();
        let valid = rest.starts_with('-')
            && parts.len() >= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            return self.string(input);
        }
        let domain_sid = parts.len() >= 6 && parts[1] == "5" && parts[2] == "21";
        let seven = parts.len() == 7;
        if !(domain_sid || seven) {
            return trimmed.to_string();
        }
        // parts: [revision, authority, sub1, a, b, c, rid...]
        let mut out = format!("S-{}-{}-{}", parts[0], parts[1], parts[2]);
        for p in &parts[3..6] {
            let digits = p.len() as u32;
            let n = self.digits_in_range("sid", p.as_bytes(), digits, u32::MAX as u128);
            out.push('-');
            out.push_str(&n.to_string());
        }
        for p in &parts[6..] {
            out.push('-');
            out.push_str(p);
        }
        out
    }

    /// An account: `user@domain`, `DOMAIN\user`, `domain/user` or a bare name. The user
    /// becomes `account-#N` (a trailing `$` of machine accounts is kept) and each label
    /// of the domain is masked as a string; well-known names (root, SYSTEM, NT
    /// AUTHORITY, …) are kept. User names are compared case-insensitively.
    pub fn account(&self, input: &str) -> String {
        if input.is_empty() {
            return String::new();
        }
        if let Some((user, domain)) = input.rsplit_once('@') {
            return format!(
                "{}@{}",
                self.account_user(user),
                self.account_domain(domain)
            );
        }
        for sep in ['\\', '/'] {
            if let Some((domain, user)) = input.split_once(sep) {
                return format!(
                    "{}{sep}{}",
                    self.account_domain(domain),
                    self.account_user(user)
                );
            }
        }
        self.account_user(input)
    }

    fn account_user(&self, user: &str) -> String {
        let lower = user.to_lowercase();
        if WELL_KNOWN_ACCOUNTS.contains(&lower.as_str()) || user.is_empty() {
            return user.to_string();
        }
        let (name, machine) = match lower.strip_suffix('$') {
            Some(n) => (n, "$"),
            None => (lower.as_str(), ""),
        };
        let h = self.digest("acct", &[name.as_bytes()]);
        let n = u64::from_le_bytes(h[..8].try_into().expect("8 bytes")) % 1_000_000_000;
        format!("account-#{n}{machine}")
    }

    fn account_domain(&self, domain: &str) -> String {
        if WELL_KNOWN_ACCOUNTS.contains(&domain.to_lowercase().as_str()) {
            return domain.to_string();
        }
        self.delimited(domain, ".")
    }

    /// A JSON document with every string (keys excepted) masked as a string and every
    /// integer masked with the same number of digits. Text that is not JSON is masked
    /// as a string as a whole.
    pub fn json(&self, input: &str) -> String {
        match serde_json::from_str::<serde_json::Value>(input) {
            Ok(mut value) => {
                self.json_value(&mut value);
                value.to_string()
            }
            Err(_) => self.string(input),
        }
    }

    fn json_value(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => *s = self.string(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.json_value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.json_value(v)),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    *n =
                        (self.integer(i as i128, i64::MIN as i128, i64::MAX as i128) as i64).into();
                } else if let Some(u) = n.as_u64() {
                    *n = (self.integer(u as i128, 0, u64::MAX as i128) as u64).into();
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }
}

/// Dotted quads with leading zeros (`010.001.002.003`), which the standard parser refuses.
fn parse_ipv4_lenient(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// How many leading octets of a private or special IPv4 range are kept (0 for public).
fn ipv4_kept_octets(o: [u8; 4]) -> usize {
    match o {
        [10, ..] | [127, ..] | [0, ..] | [224..=255, ..] => 1,
        [172, 16..=31, ..] | [192, 168, ..] | [169, 254, ..] | [100, 64..=127, ..] => 2,
        _ => 0,
    }
}

fn ipv6_kept_groups(s: [u16; 8]) -> usize {
    match s[0] {
        0xfe80..=0xfebf | 0xfc00..=0xfdff | 0xff00..=0xffff => 1,
        0x2001 if s[1] == 0x0db8 => 2,
        _ => 0,
    }
}

/// A keyed permutation of 0..=255: four Feistel rounds over 4-bit halves whose round
/// functions are looked up in the 32 key bytes (16 nibbles per round).
fn feistel8(x: u8, k: &[u8; 32]) -> u8 {
    let (mut l, mut r) = (x >> 4, x & 0x0f);
    for round in 0..4 {
        let idx = round * 8 + (r as usize >> 1);
        let f = if r & 1 == 0 {
            k[idx] & 0x0f
        } else {
            k[idx] >> 4
        };
        (l, r) = (r, l ^ f);
    }
    (l << 4) | r
}

/// A keyed permutation of 0..=65535: six Feistel rounds over 8-bit halves with a mixing
/// round function keyed by the 32 key bytes.
fn feistel16(x: u16, k: &[u8; 32]) -> u16 {
    let (mut l, mut r) = ((x >> 8) as u8, x as u8);
    for round in 0..6 {
        let a = k[round * 5];
        let b = k[round * 5 + 1] | 1;
        let c = k[round * 5 + 2];
        let t = (r ^ a).wrapping_mul(b).rotate_left(3) ^ c;
        let f = t
            .wrapping_add(k[round * 5 + 3])
            .rotate_left((k[round * 5 + 4] % 7) as u32 + 1);
        (l, r) = (r, l ^ f);
    }
    ((l as u16) << 8) | r as u16
}

/// Where the hex digits, hyphens and braces of a GUID sit, so the replacement can be
/// written the same way.
struct GuidLayout<'a> {
    text: &'a str,
    hex: [u8; 16],
    upper: bool,
}

impl<'a> GuidLayout<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text);
        let digits: String = inner.chars().filter(|&c| c != '-').collect();
        if digits.len() != 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let hyphen_positions: Vec<usize> = inner.match_indices('-').map(|(i, _)| i).collect();
        if !(hyphen_positions.is_empty() || hyphen_positions == [8, 13, 18, 23]) {
            return None;
        }
        let mut hex = [0u8; 16];
        hex::decode_to_slice(&digits, &mut hex).ok()?;
        let upper = digits.bytes().any(|b| b.is_ascii_uppercase());
        Some(GuidLayout { text, hex, upper })
    }

    fn render(&self, bytes: &[u8; 16]) -> String {
        let mut digits = if self.upper {
            hex::encode_upper(bytes)
        } else {
            hex::encode(bytes)
        }
        .into_bytes()
        .into_iter();
        self.text
            .chars()
            .map(|c| {
                if c.is_ascii_hexdigit() {
                    digits.next().map_or(c, char::from)
                } else {
                    c
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> Masker {
        Masker::new(b"test key")
    }

    #[test]
    fn strings_keep_length_and_character_classes() {
        let out = m().string("Web-Server01 é");
        assert_eq!(out.chars().count(), 14);
        let classes = |s: &str| -> Vec<u8> {
            s.chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        0
                    } else if c.is_uppercase() {
                        1
                    } else {
                        2
                    }
                })
                .collect()
        };
        assert_eq!(classes(&out), classes("Web-Server01 é"));
        assert!(out.is_ascii());
        assert_ne!(out, "Web-Server01 é");
        assert_eq!(m().string(""), "");
        // Long strings keep their length (MSTICPy cuts strings of 65..127 characters to 64).
        assert_eq!(m().string(&"x".repeat(100)).len(), 100);
        assert_eq!(m().string("12345").len(), 5);
        assert!(m().string("12345").bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn case_variants_share_letters() {
        assert_eq!(m().string("WEB01").to_lowercase(), m().string("web01"));
    }

    #[test]
    fn keys_change_results() {
        let a = Masker::new(b"one");
        let b = Masker::new(b"two");
        assert_ne!(a.string("hello world"), b.string("hello world"));
        assert_ne!(
            a.guid("6b29fc40-ca47-1067-b31d-00dd010662da"),
            b.guid("6b29fc40-ca47-1067-b31d-00dd010662da")
        );
        assert_ne!(a.ip("8.8.8.8"), b.ip("8.8.8.8"));
        assert_eq!(
            a.string("hello world"),
            Masker::new(b"one").string("hello world")
        );
    }

    #[test]
    fn delimiters_stay() {
        let out = m().delimited("alice@mail.contoso.com", "@./:");
        let shape: String = out
            .chars()
            .map(|c| if "@./:".contains(c) { c } else { 'x' })
            .collect();
        assert_eq!(shape, "xxxxx@xxxx.xxxxxxx.xxx");
        assert_eq!(
            m().delimited("a..b", "."),
            format!("{}..{}", m().string("a"), m().string("b"))
        );
    }

    #[test]
    fn ipv4_private_ranges_keep_their_prefix() {
        let mk = m();
        for (input, prefix) in [
            ("10.1.2.3", "10."),
            ("172.16.3.4", "172.16."),
            ("172.31.200.1", "172.31."),
            ("192.168.1.20", "192.168."),
            ("169.254.9.9", "169.254."),
            ("127.5.5.5", "127."),
        ] {
            let out = mk.ip(input);
            assert!(out.starts_with(prefix), "{input} -> {out}");
            assert!(out.parse::<Ipv4Addr>().is_ok());
        }
        // 17.16.x.x is public (MSTICPy keeps its prefix by mistake).
        let out: Ipv4Addr = mk.ip("17.16.3.4").parse().unwrap();
        assert_eq!(ipv4_kept_octets(out.octets()), 0);
        for keep in ["0.0.0.0", "127.0.0.1", "255.255.255.255"] {
            assert_eq!(mk.ip(keep), keep);
        }
    }

    #[test]
    fn ipv4_subnets_stay_together_and_mapping_is_one_to_one() {
        let mk = m();
        let a: Ipv4Addr = mk.ip("10.1.2.3").parse().unwrap();
        let b: Ipv4Addr = mk.ip("10.1.2.200").parse().unwrap();
        assert_eq!(a.octets()[..3], b.octets()[..3]);
        let mut seen = std::collections::HashSet::new();
        for last in 0..=255u8 {
            assert!(seen.insert(mk.ipv4(Ipv4Addr::new(192, 168, 7, last))));
        }
    }

    #[test]
    fn public_ipv4_stays_public() {
        let mk = m();
        for i in 0..2000u32 {
            let addr = Ipv4Addr::from(0x0800_0000 + i * 7919);
            if ipv4_kept_octets(addr.octets()) != 0 {
                continue;
            }
            let out = mk.ipv4(addr);
            assert_eq!(ipv4_kept_octets(out.octets()), 0, "{addr} -> {out}");
        }
    }

    #[test]
    fn ipv6_rules() {
        let mk = m();
        assert_eq!(mk.ip("::1"), "::1");
        assert_eq!(mk.ip("::"), "::");
        assert!(mk.ip("fe80::1c2b:3d4e").starts_with("fe80:"));
        assert!(mk.ip("2001:db8::5").starts_with("2001:db8:"));
        let mapped = mk.ip("::ffff:10.0.0.1");
        assert!(mapped.starts_with("::ffff:10."), "{mapped}");
        let g: Ipv6Addr = mk.ip("2a00:1450:4009:81f::200e").parse().unwrap();
        assert_eq!(ipv6_kept_groups(g.segments()), 0);
        assert!(mk.ip("fe80::1%eth0").ends_with("%eth0"));
        // Not an address at all: masked as a string of the same length.
        assert_eq!(mk.ip("not-an-ip").len(), 9);
    }

    #[test]
    fn feistel_functions_are_permutations() {
        let k: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        let set: std::collections::HashSet<u8> = (0..=255u8).map(|x| feistel8(x, &k)).collect();
        assert_eq!(set.len(), 256);
        let set: std::collections::HashSet<u16> =
            (0..=65535u16).map(|x| feistel16(x, &k)).collect();
        assert_eq!(set.len(), 65536);
    }

    #[test]
    fn guids_keep_layout() {
        let mk = m();
        let out = mk.guid("{6B29FC40-CA47-1067-B31D-00DD010662DA}");
        assert_eq!(out.len(), 38);
        assert!(out.starts_with('{') && out.ends_with('}'));
        assert_eq!(out.as_bytes()[15], b'4');
        assert!(!out.chars().any(|c| c.is_ascii_lowercase()));
        assert_eq!(
            mk.guid("6b29fc40-ca47-1067-b31d-00dd010662da"),
            mk.guid("{6B29FC40-CA47-1067-B31D-00DD010662DA}")
                .trim_matches(['{', '}'])
                .to_lowercase()
        );
        let zero = "00000000-0000-0000-0000-000000000000";
        assert_eq!(mk.guid(zero), zero);
        assert_eq!(mk.guid("nope").len(), 4);
    }

    #[test]
    fn sids_keep_prefix_and_rid() {
        let mk = m();
        let sid = "S-1-5-21-3623811015-3361044348-30300820-1013";
        let out = mk.sid(sid);
        assert!(out.starts_with("S-1-5-21-"));
        assert!(out.ends_with("-1013"));
        assert_ne!(out, sid);
        let parts: Vec<&str> = out.split('-').collect();
        assert_eq!(parts.len(), 8);
        for (p, orig) in parts[4..7]
            .iter()
            .zip(["3623811015", "3361044348", "30300820"])
        {
            assert_eq!(p.len(), orig.len());
            assert!(p.parse::<u32>().is_ok());
        }
        for wk in ["S-1-5-18", "S-1-5-32-544", "S-1-1-0"] {
            assert_eq!(mk.sid(wk), wk);
        }
        // A domain SID without a RID is masked too (MSTICPy leaves it as it is).
        assert_ne!(mk.sid("S-1-5-21-1-2-3"), "S-1-5-21-1-2-3");
        assert_eq!(mk.sid("garbage").len(), 7);
    }

    #[test]
    fn accounts() {
        let mk = m();
        let upn = mk.account("alice@contoso.com");
        let (user, domain) = upn.split_once('@').unwrap();
        assert!(user.starts_with("account-#"));
        assert_eq!(domain.len(), "contoso.com".len());
        assert_eq!(domain.as_bytes()[7], b'.');
        let nt = mk.account("CONTOSO\\Alice");
        let (dom, u) = nt.split_once('\\').unwrap();
        assert_eq!(dom.len(), 7);
        assert!(dom.chars().all(|c| c.is_ascii_uppercase()));
        assert_eq!(u, user, "user names are case-insensitive");
        assert_eq!(mk.account("NT AUTHORITY\\SYSTEM"), "NT AUTHORITY\\SYSTEM");
        assert_eq!(mk.account("root"), "root");
        assert!(mk.account("WKS01$").ends_with('$'));
        assert_eq!(mk.account(""), "");
    }

    #[test]
    fn json_documents() {
        let mk = m();
        let out = mk.json(r#"{"city":"Paris","n":1234,"tags":["a","b"],"ok":true}"#);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["city"].as_str().unwrap().len(), 5);
        assert_ne!(v["city"], "Paris");
        assert_eq!(v["n"].as_i64().unwrap().to_string().len(), 4);
        assert_eq!(v["ok"], true);
        assert_eq!(mk.json("not json").len(), 8);
    }

    #[test]
    fn integers_keep_digit_count_and_range() {
        let mk = m();
        for v in [0i128, 7, 42, 1234, -987, 99_999] {
            let out = mk.integer(v, i64::MIN as i128, i64::MAX as i128);
            assert_eq!(
                out.unsigned_abs().to_string().len(),
                v.unsigned_abs().to_string().len()
            );
            assert_eq!(out < 0, v < 0);
        }
        assert!(mk.integer(200, 0, 255) <= 255);
    }
}
