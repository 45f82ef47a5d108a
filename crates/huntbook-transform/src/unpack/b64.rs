//! Base64 candidates in free text, and decoding them with the leniency of Python's
//! `base64.b64decode` (non-strict mode), which MSTICPy relies on.
//!
//! A candidate is a run of at least [`MIN_CANDIDATE_LEN`] characters from
//! `A-Z a-z 0-9 + /` plus CR and LF (so wrapped base64 stays one candidate), followed
//! by up to two `=`. Decoding skips CR/LF, stops at complete padding and ignores stray
//! low bits in the last character; it fails when the data characters cannot form
//! whole bytes (one character past a multiple of four, or two/three without enough
//! `=`), exactly where Python raises `binascii.Error`.

/// Shortest run of base64-alphabet characters treated as a candidate.
pub const MIN_CANDIDATE_LEN: usize = 30;

const INVALID: u8 = 0xFF;

const fn decode_table() -> [u8; 256] {
    let mut t = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
}

static DECODE: [u8; 256] = decode_table();

#[inline]
fn in_candidate_class(b: u8) -> bool {
    DECODE[b as usize] != INVALID || b == b'\n' || b == b'\r'
}

/// Byte range `[start, end)` of the first candidate in `text` starting at or after
/// byte `from` (which must be a char boundary). Like a regex search from a position,
/// a candidate may begin in the middle of a longer run when `from` points there.
///
/// With `split_lines`, a run that spans line breaks is one candidate only when it is
/// shaped like wrapped base64 (see [`looks_wrapped`]); otherwise each line is a run
/// of its own, so a digest at the end of one line and a word at the start of the
/// next are not glued into one "base64" string. Without it (MSTICPy's rule) line
/// breaks are simply part of the alphabet.
pub fn find_candidate(text: &str, from: usize, split_lines: bool) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        while i < bytes.len() && !in_candidate_class(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && in_candidate_class(bytes[i]) {
            i += 1;
        }
        if i - start < MIN_CANDIDATE_LEN {
            continue;
        }
        let run = &bytes[start..i];
        let (start, stop) = if split_lines && !looks_wrapped(run) {
            match run_lines(run).find(|&(s, e)| e - s >= MIN_CANDIDATE_LEN) {
                Some((s, e)) => (start + s, start + e),
                None => continue,
            }
        } else {
            (start, i)
        };
        let mut end = stop;
        if stop == i {
            while end < bytes.len() && end - i < 2 && bytes[end] == b'=' {
                end += 1;
            }
        }
        return Some((start, end));
    }
    None
}

/// The non-empty lines of a run, as ranges within it.
fn run_lines(run: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < run.len() && matches!(run[pos], b'\r' | b'\n') {
            pos += 1;
        }
        if pos >= run.len() {
            return None;
        }
        let start = pos;
        while pos < run.len() && !matches!(run[pos], b'\r' | b'\n') {
            pos += 1;
        }
        Some((start, pos))
    })
}

/// Whether a run with line breaks reads as base64 wrapped at a fixed width: every
/// line but the last equally long, the last no longer, and the first not made only
/// of hex digits (a digest ending a line is the usual way a false run starts).
pub fn looks_wrapped(run: &[u8]) -> bool {
    let lines: Vec<(usize, usize)> = run_lines(run).collect();
    let Some((&(fs, fe), rest)) = lines.split_first() else {
        return true;
    };
    if rest.is_empty() {
        return true;
    }
    let width = fe - fs;
    let (last, middle) = rest.split_last().expect("rest is not empty");
    middle.iter().all(|&(s, e)| e - s == width)
        && last.1 - last.0 <= width
        && !run[fs..fe].iter().all(u8::is_ascii_hexdigit)
}

/// Why a candidate did not decode (Python's two `binascii.Error` cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeFailure {
    /// One data character past a multiple of four.
    OneExtraCharacter,
    /// Two or three trailing data characters without enough `=`.
    IncorrectPadding,
}

/// Number of bytes [`decode`] would produce at most (an upper bound used to check
/// budgets before allocating).
pub fn decoded_len_upper_bound(candidate: &str) -> usize {
    candidate.len() / 4 * 3 + 3
}

/// Decodes `candidate` as Python's `base64.b64decode` does in non-strict mode:
/// characters outside the alphabet are skipped, decoding ends at complete padding,
/// unused low bits of the last character are ignored.
pub fn decode(candidate: &str) -> Result<Vec<u8>, DecodeFailure> {
    let mut out = Vec::with_capacity(decoded_len_upper_bound(candidate));
    let mut quad_pos = 0u8;
    let mut left: u32 = 0;
    let mut pads = 0u8;
    for &c in candidate.as_bytes() {
        if c == b'=' {
            pads += 1;
            if quad_pos >= 2 && quad_pos + pads >= 4 {
                return Ok(out);
            }
            continue;
        }
        let v = DECODE[c as usize];
        if v == INVALID {
            continue;
        }
        pads = 0;
        let v = u32::from(v);
        match quad_pos {
            0 => {
                left = v;
                quad_pos = 1;
            }
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0x0F;
                quad_pos = 2;
            }
            2 => {
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x03;
                quad_pos = 3;
            }
            _ => {
                out.push(((left << 6) | v) as u8);
                quad_pos = 0;
            }
        }
    }
    match quad_pos {
        0 => Ok(out),
        1 => Err(DecodeFailure::OneExtraCharacter),
        _ => Err(DecodeFailure::IncorrectPadding),
    }
}

/// MSTICPy's `unpack_items` pads a single input string before searching it: when its
/// length (in characters) is not a multiple of four, trailing `=` are dropped and `A`s
/// appended until the stripped length is one more full group. Kept as an option
/// because `unpack` and `unpack_df` do not do this.
pub fn pad_like_msticpy(input: &str) -> String {
    let len = input.chars().count();
    if len.is_multiple_of(4) {
        return input.to_string();
    }
    let stripped = input.trim_end_matches('=');
    let pad = 4 - stripped.chars().count() % 4;
    let mut out = String::with_capacity(stripped.len() + pad);
    out.push_str(stripped);
    out.extend(std::iter::repeat_n('A', pad));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use proptest::prelude::*;

    const STD: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    #[test]
    fn finds_runs_of_thirty_or_more() {
        let text = "short abc and a long one QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= tail";
        let (s, e) = find_candidate(text, 0, false).unwrap();
        assert_eq!(&text[s..e], "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=");
        assert_eq!(find_candidate(text, e, false), None);
        assert_eq!(find_candidate("a".repeat(29).as_str(), 0, false), None);
        assert_eq!(
            find_candidate("a".repeat(30).as_str(), 0, false),
            Some((0, 30))
        );
    }

    #[test]
    fn candidate_takes_at_most_two_equals_and_spans_newlines() {
        let text = format!("x {}\r\n{}=== y", "A".repeat(20), "B".repeat(12));
        let (s, e) = find_candidate(&text, 0, false).unwrap();
        assert_eq!(
            &text[s..e],
            format!("{}\r\n{}==", "A".repeat(20), "B".repeat(12))
        );
    }

    #[test]
    fn search_from_inside_a_run_starts_there() {
        let text = "b".repeat(50);
        assert_eq!(find_candidate(&text, 10, false), Some((10, 50)));
        assert_eq!(find_candidate(&text, 25, false), None);
    }

    #[test]
    fn non_ascii_breaks_runs_without_panicking() {
        let text = format!("{}é{}", "a".repeat(20), "b".repeat(31));
        let (s, e) = find_candidate(&text, 0, false).unwrap();
        assert_eq!(&text[s..e], "b".repeat(31));
    }

    #[test]
    fn wrapped_base64_stays_one_candidate_when_splitting_lines() {
        let data: Vec<u8> = (0..=255u8).cycle().take(200).collect();
        let enc = STD.encode(&data);
        let wrapped: String = enc
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        let text = format!("-----BEGIN-----\r\n{wrapped}\r\n-----END-----");
        let (s, e) = find_candidate(&text, 0, true).unwrap();
        // The line break after BEGIN belongs to the run, as in MSTICPy.
        assert_eq!(text[s..e].trim_start(), wrapped);
        assert_eq!(decode(&text[s..e]).unwrap(), data);
    }

    #[test]
    fn unwrapped_lines_are_separate_candidates() {
        let digest = "d41d8cd98f00b204e9800998ecf8427e";
        let text = format!("# expected {digest}\nschtasks /create");
        // MSTICPy's rule glues the digest to the next line's word.
        let (s, e) = find_candidate(&text, 0, false).unwrap();
        assert_eq!(&text[s..e], format!("{digest}\nschtasks"));
        let (s, e) = find_candidate(&text, 0, true).unwrap();
        assert_eq!(&text[s..e], digest);
        // Lines of different widths: each long line on its own, '=' only at the end.
        let a = "QUJD".repeat(10);
        let b = "REVG".repeat(8);
        let text = format!("{a}\nshort\n{b}== tail");
        let (s, e) = find_candidate(&text, 0, true).unwrap();
        assert_eq!(&text[s..e], a);
        let (s2, e2) = find_candidate(&text, e, true).unwrap();
        assert_eq!(&text[s2..e2], format!("{b}=="));
        assert!(s2 > s);
        assert_eq!(find_candidate("short\nlines\nonly here\nxx", 0, true), None);
    }

    #[test]
    fn wrapped_shape() {
        assert!(looks_wrapped(b"wxyz\nwxyz\nwx"));
        assert!(looks_wrapped(b"abcdabcd\n"));
        assert!(!looks_wrapped(b"abcd\nabcdef"));
        assert!(!looks_wrapped(b"abc\nabcd\nab"));
        assert!(!looks_wrapped(b"abcdef0123\nword"));
    }

    #[test]
    fn decodes_like_python() {
        assert_eq!(decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        // Missing padding on two/three trailing characters fails, as in Python.
        assert_eq!(
            decode("aGVsbG8gd29ybGQ"),
            Err(DecodeFailure::IncorrectPadding)
        );
        assert_eq!(
            decode("aGVsbG8gd29ybG"),
            Err(DecodeFailure::IncorrectPadding)
        );
        assert_eq!(decode("aGVsbG8gd29ybGQ=a"), Ok(b"hello world".to_vec()));
        assert_eq!(
            decode("aGVsbG8gd29yb"),
            Err(DecodeFailure::OneExtraCharacter)
        );
        // Extra '=' after a whole group are ignored; stray low bits too.
        assert_eq!(decode("aGVs==").unwrap(), b"hel");
        assert_eq!(decode("aGVsbH==").unwrap(), b"hel\x6c");
        // CR/LF skipped.
        assert_eq!(decode("aGVs\r\nbG8=").unwrap(), b"hello");
    }

    #[test]
    fn padding_matches_msticpy() {
        assert_eq!(pad_like_msticpy("abcd"), "abcd");
        assert_eq!(pad_like_msticpy("abcde"), "abcdeAAA");
        assert_eq!(pad_like_msticpy("abcdef="), "abcdefAA");
        // Stripping '=' can leave a multiple of four: a whole group of 'A' is added.
        assert_eq!(pad_like_msticpy("abcd="), "abcdAAAA");
    }

    proptest! {
        #[test]
        fn round_trips_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let enc = STD.encode(&data);
            prop_assert_eq!(decode(&enc).unwrap(), data.clone());
            // Wrapped at 76 columns like MIME/certutil output.
            let wrapped: String = enc.as_bytes().chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\r\n");
            prop_assert_eq!(decode(&wrapped).unwrap(), data);
        }

        #[test]
        fn split_candidates_stay_inside_runs(text in "[A-Za-z0-9+/= .:\n-]{0,160}") {
            let mut pos = 0;
            while let Some((s, e)) = find_candidate(&text, pos, true) {
                let body = text[s..e].trim_end_matches('=');
                prop_assert!(body.len() >= MIN_CANDIDATE_LEN);
                prop_assert!(body.bytes().all(in_candidate_class));
                prop_assert!(e > pos);
                pos = e;
            }
        }

        #[test]
        fn candidates_are_maximal_alphabet_runs(text in "[A-Za-z0-9+/= .:\n-]{0,120}") {
            let mut pos = 0;
            while let Some((s, e)) = find_candidate(&text, pos, false) {
                let run = &text[s..e];
                let body = run.trim_end_matches('=');
                prop_assert!(body.len() >= MIN_CANDIDATE_LEN);
                prop_assert!(run.len() - body.len() <= 2);
                prop_assert!(body.bytes().all(in_candidate_class));
                prop_assert!(s == 0 || !in_candidate_class(text.as_bytes()[s - 1]));
                pos = e;
            }
        }
    }
}
