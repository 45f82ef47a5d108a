//! Base64 and archive unpacking, giving the results of MSTICPy's
//! `transform.base64unpack` (`unpack`, `unpack_df`).
//!
//! # How data moves
//!
//! A string is scanned for candidates (runs of 30 or more base64-alphabet characters,
//! CR/LF allowed inside, up to two `=` after; [`b64`]). Each candidate is decoded as
//! Python's lenient `b64decode` would; one that does not decode is left in place and
//! remembered. Decoded bytes get a file type from the candidate's leading base64
//! text ([`filetype`]: exe, dll, sys, zip, "zip (pwd protected)", gz, 7z, rar, pdf,
//! msi, wim, tar). zip, gz and tar are unpacked ([`archive`]) and each member becomes
//! an item; otherwise the bytes are one item. Each item is classified as UTF-8,
//! UTF-16 or binary ([`text`]) and hashed (md5, sha1, sha256), with the bytes also
//! rendered as space-separated hex (`printable_bytes`).
//!
//! Every occurrence of the candidate in the text is then replaced by markup:
//!
//! ```text
//! <decoded type='string' name='[None]' index='1' depth='1'>decoded text</decoded>
//! <decoded value='binary'  name='[None]' type='pdf' index='2' depth='1'>25 50 44 46 …</decoded>
//! <decoded value='multiple binary' type='multiple' index='1' depth='1'>…one element per member…</decoded>
//! ```
//!
//! and the text is scanned again, level after level, so base64 inside decoded text
//! (or inside archive members shown as text) is decoded too: up to
//! `max_recursion + 1` levels (21 by default), at most `max_fragments + 1` candidates
//! tried per level (51). The `engine` module has the exact walk. One [`BinaryRecord`] is
//! produced per item, with MSTICPy's 12 fields; [`unpack_base64`] runs rows in
//! parallel and returns MSTICPy's 15 `unpack_df` columns as an Arrow table.
//!
//! # Deliberate differences from MSTICPy
//!
//! - **The walk through the text** ([`UnpackOptions::msticpy_walk`], off by
//!   default): after replacing a candidate, MSTICPy resumes its scan at a position
//!   that usually falls inside the text just decoded, tries a tail of any base64
//!   there, and stops going deeper when that tail (or any last candidate of a level)
//!   fails. That loses much of the nesting beyond two levels, so by default the scan
//!   resumes after the inserted markup and another level runs whenever something
//!   decoded. Outputs are the same whenever MSTICPy's walk does not trip over itself;
//!   otherwise ours decodes more, with different `index` numbers.
//! - **Runs of hex digits are not base64** ([`UnpackOptions::skip_hex_runs`], on by
//!   default): MSTICPy decodes an MD5/SHA digest in a command line into 16–32 bytes
//!   of binary noise and replaces the digest with them; here it stays readable.
//! - **Line breaks join a run only in wrapped base64**
//!   ([`UnpackOptions::split_unwrapped_lines`], on by default): MSTICPy's candidate
//!   pattern includes CR/LF, so `…digest\nschtasks` is one candidate; here a run
//!   across lines is kept whole only when its lines have the fixed width of wrapped
//!   base64, and otherwise each line is a candidate of its own.
//! - **UTF-16LE is recognised without a flag** ([`Utf16Mode::Auto`]): bytes that are
//!   not clean UTF-8 but are shaped like UTF-16LE text (PowerShell `-EncodedCommand`
//!   payloads) are decoded as UTF-16 (`encoding_type` `utf-16`), so their text and any
//!   base64 inside it are found. MSTICPy by default reports them as UTF-8 with a NUL
//!   after every character. [`Utf16Mode::Never`] and [`Utf16Mode::Always`] give
//!   MSTICPy's `utf16=False` / `utf16=True` behaviour.
//! - **Bomb limits**: total decoded bytes per row, expansion ratio per archive member,
//!   members per archive and length of the decoded text are capped. Hitting a cap, or
//!   the depth or per-level candidate limits while base64 is still pending (where
//!   MSTICPy stops silently), adds a record whose `encoding_type` is `error` and whose
//!   `decoded_string` says what happened and which option to raise; the text shows
//!   `<decoded value='error' …>message</decoded>` in place of the candidate.
//! - **The memory of undecodable candidates is per row.** MSTICPy keeps one global
//!   set for the whole process, so a candidate that failed in an earlier row (or an
//!   earlier call) is skipped later without being counted, shifting the `index`
//!   numbers of later rows. Here a row's result never depends on other rows.
//! - **Archives that fail to open** (corrupt zip, bad gzip) become a plain binary item
//!   of their detected type; members that cannot be read (encrypted, unsupported
//!   method, CRC error) become error items. MSTICPy raises out of the whole call.
//!   Only deflate and stored zip members are supported.
//! - **Null input cells are skipped** (MSTICPy fails on them); the output table has
//!   all 15 columns even when nothing decoded (MSTICPy then returns its 12).
//! - MSTICPy's regex, being case-insensitive under Unicode rules, also accepts four
//!   non-ASCII letters (`İ ı ſ K`) as base64 characters and then fails on them; here
//!   they simply end a candidate.
//! - `reference`, a Python tuple of three strings in MSTICPy, is a list of three
//!   strings in Arrow.
//!
//! Kept as MSTICPy has them, because results must compare equal: the next level runs
//! only when the last candidate tried decoded; the item prefix for level n+1 is built
//! as `"{prefix}.{count}."` (so the third level's prefix looks like `1..1.`); child
//! indexes of multi-member archives repeat the prefix; the binary markup has two spaces
//! after `value='binary'`; string items carry hashes and `printable_bytes` too.

pub mod archive;
pub mod b64;
pub mod corpus;
mod engine;
pub mod filetype;
mod table;
pub mod text;

pub use table::{output_schema, unpack_base64, UnpackError};
pub use text::{Hashes, Utf16Mode};

/// `encoding_type` of a record that reports a limit or failure instead of content.
pub const ERROR_ENCODING: &str = "error";

/// Limits and switches for decoding. [`Default`] is MSTICPy's rules with the
/// deliberate differences of the module documentation; [`UnpackOptions::msticpy`]
/// turns those off where they change decoded output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackOptions {
    /// How UTF-16 text is recognised (MSTICPy: `Never` unless `utf16=True`).
    pub utf16: Utf16Mode,
    /// Walk the text exactly as MSTICPy does (see the `engine` module's documentation);
    /// otherwise each decoded fragment is skipped at its own level and re-scanned at
    /// the next, and any decoded candidate leads to another level.
    pub msticpy_walk: bool,
    /// Treat a run across line breaks as one candidate only when it looks like
    /// base64 wrapped at a fixed width; otherwise each line stands alone (MSTICPy
    /// joins them, gluing e.g. a digest to the next line's first word).
    pub split_unwrapped_lines: bool,
    /// Leave runs made only of hex digits alone (digests, hex dumps) instead of
    /// decoding them as base64 into binary noise, as MSTICPy does.
    pub skip_hex_runs: bool,
    /// Pad the input to a multiple of four characters first, as MSTICPy's
    /// `unpack_items(input_string=...)` does (its `unpack` and `unpack_df` do not).
    pub pad_input: bool,
    /// Nested levels after the first (MSTICPy: 20).
    pub max_recursion: usize,
    /// A level stops once more than this many candidates were tried (MSTICPy: 50).
    pub max_fragments: usize,
    /// Bytes a row may decode in total, base64 output and archive members together.
    pub max_total_bytes: usize,
    /// An archive member may expand to this many times its compressed size ...
    pub max_expansion_ratio: u64,
    /// ... or to this many bytes, whichever is larger.
    pub ratio_floor_bytes: usize,
    /// Members read from one archive.
    pub max_archive_members: usize,
    /// Length in bytes the decoded text of a row may reach.
    pub max_output_len: usize,
}

impl Default for UnpackOptions {
    fn default() -> Self {
        UnpackOptions {
            utf16: Utf16Mode::Auto,
            msticpy_walk: false,
            skip_hex_runs: true,
            split_unwrapped_lines: true,
            pad_input: false,
            max_recursion: 20,
            max_fragments: 50,
            max_total_bytes: 16 << 20,
            max_expansion_ratio: 100,
            ratio_floor_bytes: 1 << 20,
            max_archive_members: 256,
            max_output_len: 64 << 20,
        }
    }
}

impl UnpackOptions {
    /// MSTICPy's behaviour with `utf16=False`, for comparisons: its walk, no UTF-16,
    /// hex runs decoded, line breaks always part of a run. The safety limits stay (they only add `error` records where
    /// MSTICPy would have stopped silently or exhausted memory).
    pub fn msticpy() -> Self {
        UnpackOptions {
            utf16: Utf16Mode::Never,
            msticpy_walk: true,
            skip_hex_runs: false,
            split_unwrapped_lines: false,
            ..UnpackOptions::default()
        }
    }
}

/// One decoded item, with MSTICPy's `BinaryRecord` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryRecord {
    /// `(item prefix, "{depth}.", "{fragment index}")`.
    pub reference: [String; 3],
    /// The base64 candidate as found in the text.
    pub original_string: String,
    /// `unknown` for a non-archive item, the member name for an archive member.
    pub file_name: Option<String>,
    /// Detected type of the candidate (for members: the archive type).
    pub file_type: Option<String>,
    /// The decoded (or unpacked) bytes.
    pub input_bytes: Option<Vec<u8>>,
    /// The text for `utf-8`/`utf-16` items, the message for `error` records.
    pub decoded_string: Option<String>,
    /// `utf-8`, `utf-16`, `binary` or `error`.
    pub encoding_type: String,
    pub file_hashes: Option<Hashes>,
    /// Space-separated lowercase hex of `input_bytes`.
    pub printable_bytes: Option<String>,
}

/// The decoded text of one input and its records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unpacked {
    /// The input with every decoded candidate replaced by its markup.
    pub decoded: String,
    pub records: Vec<BinaryRecord>,
}

/// Decodes base64 (and archives) in one string. Never fails: problems become
/// `error` records.
pub fn unpack(input: &str, opts: &UnpackOptions) -> Unpacked {
    engine::unpack(input, opts)
}

#[cfg(test)]
mod recall;
#[cfg(test)]
mod tests;
