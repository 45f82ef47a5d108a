//! File type of a base64 candidate, recognised from the start of its base64 text.
//!
//! MSTICPy matches fixed base64 prefixes (which fixes both the magic bytes and the
//! alignment, so e.g. only a zip whose first entry is deflate with no flags counts as
//! "zip"), and finds a tar by a fragment of a header field (mode `0100777`) anywhere
//! in the first 160 characters, case-insensitively. The type names and rules are kept
//! as MSTICPy has them so that results compare equal; a tar written with another mode
//! is therefore not recognised (its text members still show, since a tar of text
//! files is itself valid UTF-8).

/// Base64 prefixes and the type they announce, checked in this order.
const PREFIXES: &[(&str, &str)] = &[
    // PE images: the DOS header followed by e_lfanew 0xF8/0xF0/0xE8, as typically
    // produced for executables, DLLs and drivers.
    (
        "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+AAAAA4fug",
        "exe",
    ),
    (
        "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8AAAAA4fug",
        "dll",
    ),
    (
        "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA6AAAAA4fug",
        "sys",
    ),
    ("UEsDBBQAAAAIA", "zip"),
    ("UEsDBBQAAQAIA", "zip (pwd protected)"),
    ("H4sI", "gz"),
    ("N3q8ryccAAR", "7z"),
    ("UmFyIRoHAM", "rar"),
    ("JVBERi0xLjcNC", "pdf"),
    ("0M8R4KGxGuE", "msi"),
    ("TVNXSU0AAADQ", "wim"),
];

/// Base64 of part of a tar header, found at an offset rather than at the start.
const TAR_FRAGMENT: &str = "DAxMDA3NzcAMDAwMDAwM";

/// How many leading characters (CR/LF removed) are examined.
const HEAD_CHARS: usize = 160;

/// The MSTICPy type name for a base64 candidate, if its start is recognised.
pub fn detect(candidate: &str) -> Option<&'static str> {
    // Slicing before removing CR/LF, as MSTICPy does: a wrapped candidate has fewer
    // than 160 data characters examined. Candidates are ASCII, so bytes are characters.
    let head = &candidate.as_bytes()[..candidate.len().min(HEAD_CHARS)];
    let mut buf = [0u8; HEAD_CHARS];
    let mut len = 0;
    for &b in head.iter().filter(|&&b| b != b'\n' && b != b'\r') {
        buf[len] = b;
        len += 1;
    }
    let head = &buf[..len];
    for (prefix, kind) in PREFIXES {
        if head.starts_with(prefix.as_bytes()) {
            return Some(kind);
        }
    }
    let fragment = TAR_FRAGMENT.as_bytes();
    head.windows(fragment.len())
        .any(|w| w.eq_ignore_ascii_case(fragment))
        .then_some("tar")
}

/// Whether the type is an archive whose members are unpacked.
pub fn is_archive(kind: Option<&str>) -> bool {
    matches!(kind, Some("zip" | "gz" | "tar"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    #[test]
    fn recognises_magic_prefixes() {
        assert_eq!(
            detect(&b64(b"\x1f\x8b\x08\x00\x00\x00\x00\x00")),
            Some("gz")
        );
        assert_eq!(detect(&b64(b"%PDF-1.7\r\n%\xe2\xe3")), Some("pdf"));
        assert_eq!(detect(&b64(b"Rar!\x1a\x07\x00\xcf\x90")), Some("rar"));
        assert_eq!(
            detect(&b64(b"7z\xbc\xaf\x27\x1c\x00\x04\x5a\x00")),
            Some("7z")
        );
        assert_eq!(
            detect(&b64(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00")),
            Some("msi")
        );
        assert_eq!(detect("plainbase64textthatisnotafiletypeatall"), None);
    }

    #[test]
    fn recognises_pe_variants_by_header_offset() {
        let mut header = vec![0u8; 64];
        header[..16].copy_from_slice(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00");
        header[16] = 0xb8;
        header[24] = 0x40;
        for (lfanew, kind) in [(0xf8u8, "exe"), (0xf0, "dll"), (0xe8, "sys")] {
            let mut h = header.clone();
            h[60] = lfanew;
            h.extend_from_slice(b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd");
            assert_eq!(detect(&b64(&h)), Some(kind));
        }
    }

    #[test]
    fn zip_needs_the_deflate_first_entry_header() {
        assert_eq!(
            detect(&b64(b"PK\x03\x04\x14\x00\x00\x00\x08\x00abc")),
            Some("zip")
        );
        assert_eq!(
            detect(&b64(b"PK\x03\x04\x14\x00\x01\x00\x08\x00abc")),
            Some("zip (pwd protected)")
        );
        // Stored (method 0) first entry: not recognised, as in MSTICPy.
        assert_eq!(detect(&b64(b"PK\x03\x04\x0a\x00\x00\x00\x00\x00abc")), None);
    }

    #[test]
    fn tar_found_by_mode_field_case_insensitively_and_across_newlines() {
        let mut header = vec![0u8; 512];
        header[..5].copy_from_slice(b"a.txt");
        header[100..108].copy_from_slice(b"0100777\0");
        header[108..116].copy_from_slice(b"0000000\0");
        let text = b64(&header);
        assert_eq!(detect(&text), Some("tar"));
        let lower = text[..160].to_ascii_lowercase();
        assert_eq!(detect(&lower), Some("tar"));
        // Mode 0644 (most tools' default) is not what the rule looks for.
        header[100..108].copy_from_slice(b"0000644\0");
        assert_eq!(detect(&b64(&header)), None);
    }

    #[test]
    fn archive_kinds() {
        assert!(is_archive(Some("zip")) && is_archive(Some("gz")) && is_archive(Some("tar")));
        assert!(!is_archive(Some("zip (pwd protected)")) && !is_archive(None));
    }
}
