//! Telling text from binary in decoded bytes, and the per-item facts MSTICPy reports:
//! hashes and the space-separated hex `printable_bytes`.
//!
//! MSTICPy tries UTF-16 only when asked (`utf16=True`), and then accepts nearly any
//! even-length input, since almost every byte pair is some UTF-16 code unit; by
//! default UTF-16LE text such as a PowerShell `-EncodedCommand` payload "decodes" as
//! UTF-8 full of NUL characters. [`Utf16Mode::Auto`] (our default) recognises
//! UTF-16LE by its shape instead: see [`looks_like_utf16le`].

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// How UTF-16 is considered when classifying decoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Utf16Mode {
    /// Decide from the bytes: UTF-8 text without NULs stays UTF-8; otherwise bytes
    /// shaped like UTF-16LE text are decoded as UTF-16LE.
    #[default]
    Auto,
    /// Never try UTF-16 (MSTICPy's default).
    Never,
    /// Try UTF-16 first, with a byte-order mark deciding endianness and
    /// little-endian otherwise (MSTICPy with `utf16=True`).
    Always,
}

/// The `encoding_type` of a decoded item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Binary,
}

impl Encoding {
    /// The value in MSTICPy's `encoding_type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16 => "utf-16",
            Encoding::Binary => "binary",
        }
    }
}

/// Classifies `bytes`, returning the text when it is text.
pub fn classify(bytes: &[u8], mode: Utf16Mode) -> (Encoding, Option<String>) {
    match mode {
        Utf16Mode::Always => {
            if let Some(text) = decode_utf16_python(bytes) {
                return (Encoding::Utf16, Some(text));
            }
        }
        Utf16Mode::Auto => {
            let utf8 = std::str::from_utf8(bytes).ok();
            if let Some(text) = utf8 {
                if !bytes.contains(&0) {
                    return (Encoding::Utf8, Some(text.to_string()));
                }
            }
            if looks_like_utf16le(bytes) {
                if let Some(text) = decode_utf16le(strip_le_bom(bytes)) {
                    return (Encoding::Utf16, Some(text));
                }
            }
            return match utf8 {
                Some(text) => (Encoding::Utf8, Some(text.to_string())),
                None => (Encoding::Binary, None),
            };
        }
        Utf16Mode::Never => {}
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (Encoding::Utf8, Some(text.to_string())),
        Err(_) => (Encoding::Binary, None),
    }
}

fn strip_le_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes)
}

/// Whether `bytes` read as UTF-16LE text: an even number of bytes (after an optional
/// byte-order mark), at least one code unit, no control characters other than tab,
/// CR, LF, and at least half of the code units printable ASCII. The last rule is what
/// separates text from binary: a random byte pair is printable ASCII in UTF-16LE with
/// odds of about 1 in 700, so binary data essentially never passes, while scripts and
/// command lines (the payloads that arrive as UTF-16LE) are mostly ASCII. Text in
/// scripts with no ASCII at all is left to the UTF-8/binary rules.
pub fn looks_like_utf16le(bytes: &[u8]) -> bool {
    let body = strip_le_bom(bytes);
    if body.is_empty() || !body.len().is_multiple_of(2) {
        return false;
    }
    let mut ascii = 0usize;
    for pair in body.chunks_exact(2) {
        let unit = u16::from_le_bytes([pair[0], pair[1]]);
        match unit {
            0x09 | 0x0A | 0x0D | 0x20..=0x7E => ascii += 1,
            0x00..=0x1F | 0x7F..=0x9F => return false,
            _ => {}
        }
    }
    ascii * 2 >= body.len() / 2
}

fn decode_utf16le(bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Python's `bytes.decode("utf-16")`: a BOM picks the byte order (and is dropped),
/// little-endian without one; odd lengths and unpaired surrogates fail.
fn decode_utf16_python(bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    if let Some(body) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units = body
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]));
        return char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok();
    }
    decode_utf16le(strip_le_bom(bytes))
}

/// MSTICPy's `printable_bytes`: every byte as two lowercase hex digits, separated by
/// single spaces.
pub fn printable_bytes(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(3));
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 0x0F) as usize]);
    }
    String::from_utf8(out).expect("hex digits and spaces are ASCII")
}

/// Lowercase hex md5, sha1 and sha256 of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashes {
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
}

impl Hashes {
    pub fn of(bytes: &[u8]) -> Hashes {
        Hashes {
            md5: hex::encode(Md5::digest(bytes)),
            sha1: hex::encode(Sha1::digest(bytes)),
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn plain_utf8_is_utf8_in_every_mode() {
        for mode in [Utf16Mode::Auto, Utf16Mode::Never] {
            assert_eq!(
                classify("IEX (iwr http://x)".as_bytes(), mode),
                (Encoding::Utf8, Some("IEX (iwr http://x)".into()))
            );
        }
    }

    #[test]
    fn powershell_utf16le_detected_automatically() {
        let bytes = utf16le("Write-Host 'hi'; Invoke-WebRequest http://10.1.2.3/a");
        let (enc, text) = classify(&bytes, Utf16Mode::Auto);
        assert_eq!(enc, Encoding::Utf16);
        assert_eq!(
            text.unwrap(),
            "Write-Host 'hi'; Invoke-WebRequest http://10.1.2.3/a"
        );
        // MSTICPy's default reads it as UTF-8 with NULs.
        let (enc, text) = classify(&bytes, Utf16Mode::Never);
        assert_eq!(enc, Encoding::Utf8);
        assert!(text.unwrap().starts_with("W\0r\0i\0"));
    }

    #[test]
    fn utf16le_with_bom_and_some_non_ascii() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16le("Привет, echo hello world"));
        let (enc, text) = classify(&bytes, Utf16Mode::Auto);
        assert_eq!(enc, Encoding::Utf16);
        assert_eq!(text.unwrap(), "Привет, echo hello world");
    }

    #[test]
    fn binary_is_binary() {
        let pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert_eq!(classify(pe, Utf16Mode::Auto), (Encoding::Binary, None));
        // Valid UTF-8 with NULs that is not UTF-16 text (a tar header, say) stays UTF-8.
        let tarish = b"a.txt\0\0\0\0\0\0\0\0\0\0\0\0\x000000644\0";
        assert_eq!(classify(tarish, Utf16Mode::Auto).0, Encoding::Utf8);
    }

    #[test]
    fn always_mode_follows_python_utf16() {
        assert_eq!(
            classify(&[0xFE, 0xFF, 0x00, 0x41], Utf16Mode::Always),
            (Encoding::Utf16, Some("A".into()))
        );
        // Odd length cannot be UTF-16: falls back to UTF-8.
        assert_eq!(classify(b"abc", Utf16Mode::Always).0, Encoding::Utf8);
        // An unpaired surrogate fails UTF-16; not UTF-8 either.
        assert_eq!(
            classify(&[0x00, 0xD8, 0xFF, 0xFF], Utf16Mode::Always).0,
            Encoding::Binary
        );
    }

    #[test]
    fn printable_bytes_format() {
        assert_eq!(printable_bytes(b""), "");
        assert_eq!(printable_bytes(b"\x00\xabZ"), "00 ab 5a");
    }

    #[test]
    fn known_hashes() {
        let h = Hashes::of(b"abc");
        assert_eq!(h.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(h.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            h.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    proptest! {
        #[test]
        fn random_binary_is_never_taken_for_utf16(data in proptest::collection::vec(any::<u8>(), 16..256)) {
            // Keep only inputs with a non-ASCII-looking mix, as real binaries have.
            prop_assume!(std::str::from_utf8(&data).is_err());
            prop_assert!(!looks_like_utf16le(&data));
        }

        #[test]
        fn ascii_text_in_utf16le_is_recovered(text in "[ -~\t\r\n]{1,200}") {
            let (enc, out) = classify(&utf16le(&text), Utf16Mode::Auto);
            prop_assert_eq!(enc, Encoding::Utf16);
            prop_assert_eq!(out.unwrap(), text);
        }
    }
}
