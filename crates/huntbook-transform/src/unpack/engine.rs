//! The level-by-level decoding loop and the `<decoded …>` markup.
//!
//! One level scans the text left to right for candidates; each one that decodes is
//! replaced (every occurrence of it, anywhere in the text, as MSTICPy's
//! `str.replace` does) by its markup. A level ends when no candidate is left or after
//! more than `max_fragments` candidates were tried; the next level re-scans the whole
//! result. Candidates that failed to decode are remembered for the row, so later
//! levels skip them without counting them.
//!
//! Two walks are implemented:
//!
//! - ours (default): the scan resumes right after the markup just inserted, and
//!   another level runs when any candidate of this level decoded;
//! - MSTICPy's (`msticpy_walk`): the scan resumes at the *previous resume point* plus
//!   the markup's length in characters, which usually lands inside the text just
//!   decoded, so a tail of a nested candidate is tried at the same level (and, when
//!   that tail does not decode, decoding stops); another level runs only when the last
//!   candidate tried decoded. On the corpus of nested payloads this loses about a
//!   third of the layers beyond the second, which is why it is not the default.
//!
//! Where MSTICPy would stop silently (depth or fragment limit with base64 still
//! pending) or run out of memory (bombs), a record with `encoding_type` `error` and
//! the reason in `decoded_string` is added, and in the text an
//! `<decoded value='error' …>reason</decoded>` element takes the candidate's place.

use std::collections::HashSet;

use super::archive::{self, ExpandLimits, MemberError};
use super::b64;
use super::filetype;
use super::text::{self, Encoding, Hashes};
use super::{BinaryRecord, UnpackOptions, Unpacked, ERROR_ENCODING};

/// Decodes one string. See the module documentation of [`super`] for the rules.
pub fn unpack(input: &str, opts: &UnpackOptions) -> Unpacked {
    let mut text = if opts.pad_input {
        b64::pad_like_msticpy(input)
    } else {
        input.to_string()
    };
    let mut row = Row {
        opts,
        undecodable: HashSet::new(),
        limits: ExpandLimits {
            remaining: opts.max_total_bytes,
            max_ratio: opts.max_expansion_ratio,
            ratio_floor: opts.ratio_floor_bytes,
            max_members: opts.max_archive_members,
        },
        records: Vec::new(),
        halted: false,
    };
    let mut prefix = String::new();
    let mut depth = 1usize;
    let mut levels_left = opts.max_recursion;
    loop {
        let level = row.level(&mut text, &prefix, depth);
        if row.halted {
            break;
        }
        // A stop caused by one of the limits while base64 is still pending is
        // reported; any other stop is silent.
        let limit_hit = if !level.go_deeper {
            level.hit_fragment_limit.then(|| {
                format!(
                    "more than {} base64 candidates at one level: decoding stopped and this \
                     candidate was left encoded; raise max_fragments to decode it",
                    opts.max_fragments
                )
            })
        } else if levels_left == 0 {
            Some(format!(
                "base64 nested deeper than {} levels: decoding stopped and this candidate \
                 was left encoded; raise max_recursion to go deeper",
                opts.max_recursion + 1
            ))
        } else {
            None
        };
        if let Some(message) = limit_hit {
            if let Some(pending) = row.pending_candidate(&text, 0) {
                row.records.push(error_record(
                    &prefix,
                    depth,
                    level.fragments,
                    pending,
                    message,
                ));
            }
            break;
        }
        if !level.go_deeper {
            break;
        }
        prefix = if prefix.is_empty() {
            format!("{}.", level.fragments)
        } else {
            format!("{prefix}.{}.", level.fragments)
        };
        depth += 1;
        levels_left -= 1;
    }
    Unpacked {
        decoded: text,
        records: row.records,
    }
}

/// What one level did.
struct Level {
    /// Candidates tried (not counting ones skipped as known undecodable).
    fragments: usize,
    /// Whether another level runs: MSTICPy's walk needs the last candidate tried
    /// to have decoded, ours any candidate of the level.
    go_deeper: bool,
    hit_fragment_limit: bool,
}

struct Row<'o> {
    opts: &'o UnpackOptions,
    undecodable: HashSet<String>,
    limits: ExpandLimits,
    records: Vec<BinaryRecord>,
    /// Set when the row's budget or output-size limit was hit: nothing more is decoded.
    halted: bool,
}

/// One decoded item before it is tied to its candidate and position.
struct Item {
    /// Display name in the markup (`[None]`, `[zip] Filename: a.txt`).
    name: String,
    file_name: Option<String>,
    file_type: Option<&'static str>,
    body: ItemBody,
}

enum ItemBody {
    Decoded {
        bytes: Vec<u8>,
        encoding: Encoding,
        text: Option<String>,
        hashes: Hashes,
        printable: String,
    },
    Error(String),
}

impl<'o> Row<'o> {
    /// Runs one level over `text`.
    fn level(&mut self, text: &mut String, prefix: &str, depth: usize) -> Level {
        let msticpy_walk = self.opts.msticpy_walk;
        let mut fragments = 0usize;
        let mut decoded_any = false;
        let mut last_decoded = false;
        // Where the scan goes on: a byte offset in our walk, a character count in
        // MSTICPy's (its string positions count characters).
        let mut resume = 0usize;
        let mut ascii = text.is_ascii();
        loop {
            let from = if msticpy_walk {
                match byte_at_char(text, resume, ascii) {
                    Some(from) => from,
                    None => break,
                }
            } else {
                resume
            };
            let Some((start, end)) =
                b64::find_candidate(text, from, self.opts.split_unwrapped_lines)
            else {
                break;
            };
            let candidate = text[start..end].to_string();
            if self.skipped(&candidate) {
                resume = if msticpy_walk {
                    char_at_byte(text, end, ascii)
                } else {
                    end
                };
                continue;
            }
            fragments += 1;
            match self.decode_fragment(&candidate, prefix, fragments, depth) {
                Some((markup, records)) => {
                    // The exact count needs a search; the bound (every byte of the text
                    // part of an occurrence) settles the common one-payload row for free.
                    let most = text.len() / candidate.len();
                    let count = if text.len() + most * markup.len() <= self.opts.max_output_len {
                        most
                    } else {
                        text.matches(candidate.as_str()).count()
                    };
                    let grown = (text.len() - count * candidate.len()) + count * markup.len();
                    if grown > self.opts.max_output_len {
                        let message = format!(
                            "decoding this candidate would make the decoded text {grown} bytes \
                             long, over the {} byte limit: left encoded and decoding of this \
                             row stopped; raise max_output_len to decode it",
                            self.opts.max_output_len
                        );
                        self.records
                            .push(error_record(prefix, depth, fragments, candidate, message));
                        self.halted = true;
                        return Level {
                            fragments,
                            go_deeper: false,
                            hit_fragment_limit: false,
                        };
                    }
                    self.records.extend(records);
                    ascii = ascii && markup.is_ascii();
                    if msticpy_walk {
                        *text = text.replace(candidate.as_str(), &markup);
                        resume += if markup.is_ascii() {
                            markup.len()
                        } else {
                            markup.chars().count()
                        };
                    } else {
                        // Every occurrence is still replaced, but the scan resumes right
                        // after this one's markup: what it holds is for the next level.
                        let mut replaced = replace_all(&text[..start], &candidate, &markup);
                        replaced.push_str(&markup);
                        resume = replaced.len();
                        replaced.push_str(&replace_all(&text[end..], &candidate, &markup));
                        *text = replaced;
                    }
                    decoded_any = true;
                    last_decoded = true;
                }
                None => {
                    resume = if msticpy_walk {
                        char_at_byte(text, end, ascii)
                    } else {
                        end
                    };
                    self.undecodable.insert(candidate);
                    last_decoded = false;
                }
            }
            if self.halted || fragments > self.opts.max_fragments {
                break;
            }
        }
        Level {
            fragments,
            go_deeper: if msticpy_walk {
                last_decoded
            } else {
                decoded_any
            },
            hit_fragment_limit: fragments > self.opts.max_fragments,
        }
    }

    /// Candidates passed over without counting: ones that already failed to decode,
    /// and (unless MSTICPy's walk is asked for) runs of hex digits, which are digests
    /// or hex dumps far more often than base64 and would otherwise be replaced by
    /// meaningless binary.
    fn skipped(&self, candidate: &str) -> bool {
        self.undecodable.contains(candidate)
            || (self.opts.skip_hex_runs
                && candidate
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'\n' || b == b'\r'))
    }

    /// The first candidate at or after character `from_chars` that would be tried.
    fn pending_candidate(&self, text: &str, from_chars: usize) -> Option<String> {
        let mut from = byte_at_char(text, from_chars, text.is_ascii())?;
        while let Some((start, end)) =
            b64::find_candidate(text, from, self.opts.split_unwrapped_lines)
        {
            let candidate = &text[start..end];
            if !self.skipped(candidate) {
                return Some(candidate.to_string());
            }
            from = end;
        }
        None
    }

    /// Decodes one candidate into its markup and records; `None` when it is not base64.
    fn decode_fragment(
        &mut self,
        candidate: &str,
        prefix: &str,
        index: usize,
        depth: usize,
    ) -> Option<(String, Vec<BinaryRecord>)> {
        let kind = filetype::detect(candidate);
        let bytes = b64::decode(candidate).ok()?;
        if bytes.is_empty() {
            return None;
        }
        let items = if bytes.len() > self.limits.remaining {
            self.halted = true;
            vec![Item {
                name: format!("[{}]", kind.unwrap_or("None")),
                file_name: None,
                file_type: kind,
                body: ItemBody::Error(format!(
                    "decodes to {} bytes, over the {} bytes left in this row's budget of {}: \
                     not decoded, and decoding of this row stopped; raise max_total_bytes to \
                     decode it",
                    bytes.len(),
                    self.limits.remaining,
                    self.opts.max_total_bytes
                )),
            }]
        } else {
            self.limits.remaining -= bytes.len();
            self.unpack_items(bytes, kind)
        };

        let markup = if items.len() == 1 {
            format_item(&items[0], prefix, depth, &index.to_string())
        } else {
            let mut out = format!(
                "<decoded value='multiple binary' type='multiple' index='{prefix}{index}' depth='{depth}'>"
            );
            for (child, item) in items.iter().enumerate() {
                // MSTICPy passes an index that already holds the prefix and then adds
                // the prefix again; kept so indexes compare equal.
                let child_index = format!("{prefix}{index}.{}", child + 1);
                out.push_str(&format_item(item, prefix, depth + 1, &child_index));
            }
            out.push_str("</decoded>");
            out
        };
        let reference = [prefix.to_string(), format!("{depth}."), index.to_string()];
        let records = items
            .into_iter()
            .map(|item| into_record(item, reference.clone(), candidate))
            .collect();
        Some((markup, records))
    }

    /// Archive members when `kind` is an archive that opens; otherwise the bytes
    /// themselves as one item.
    fn unpack_items(&mut self, bytes: Vec<u8>, kind: Option<&'static str>) -> Vec<Item> {
        let mut items = Vec::new();
        if let Some(kind) = kind.filter(|k| filetype::is_archive(Some(k))) {
            // An archive that does not open is reported as a plain binary of its type,
            // as MSTICPy's code intends (MSTICPy itself raises out of the whole call).
            if let Ok(contents) = archive::unpack(kind, &bytes, &mut self.limits) {
                for member in contents.members {
                    let name = format!("[{kind}] Filename: {}", member.name);
                    let body = match member.content {
                        Ok(data) => self.describe(data),
                        Err(e) => {
                            if matches!(e, MemberError::Budget { .. }) {
                                self.halted = true;
                            }
                            ItemBody::Error(format!("archive member {:?} {e}", member.name))
                        }
                    };
                    items.push(Item {
                        name,
                        file_name: Some(member.name),
                        file_type: Some(kind),
                        body,
                    });
                }
                if contents.skipped_members > 0 {
                    items.push(Item {
                        name: format!("[{kind}] {} more members", contents.skipped_members),
                        file_name: None,
                        file_type: Some(kind),
                        body: ItemBody::Error(format!(
                            "archive has {} more members than the {} unpacked: not read; \
                             raise max_archive_members to unpack them",
                            contents.skipped_members, self.opts.max_archive_members
                        )),
                    });
                }
            }
        }
        if items.is_empty() {
            items.push(Item {
                name: format!("[{}]", kind.unwrap_or("None")),
                file_name: Some("unknown".to_string()),
                file_type: kind,
                body: self.describe(bytes),
            });
        }
        items
    }

    fn describe(&self, bytes: Vec<u8>) -> ItemBody {
        let (encoding, text) = text::classify(&bytes, self.opts.utf16);
        ItemBody::Decoded {
            hashes: Hashes::of(&bytes),
            printable: text::printable_bytes(&bytes),
            bytes,
            encoding,
            text,
        }
    }
}

fn format_item(item: &Item, prefix: &str, depth: usize, index: &str) -> String {
    let name = &item.name;
    let file_type = item.file_type.unwrap_or("None");
    match &item.body {
        ItemBody::Decoded {
            text: Some(text), ..
        } => format!(
            "<decoded type='string' name='{name}' index='{prefix}{index}' depth='{depth}'>{text}</decoded>"
        ),
        ItemBody::Decoded { printable, .. } => format!(
            "<decoded value='binary'  name='{name}' type='{file_type}' index='{prefix}{index}' depth='{depth}'>{printable}</decoded>"
        ),
        ItemBody::Error(message) => format!(
            "<decoded value='error' name='{name}' type='{file_type}' index='{prefix}{index}' depth='{depth}'>{message}</decoded>"
        ),
    }
}

fn into_record(item: Item, reference: [String; 3], candidate: &str) -> BinaryRecord {
    match item.body {
        ItemBody::Decoded {
            bytes,
            encoding,
            text,
            hashes,
            printable,
        } => BinaryRecord {
            reference,
            original_string: candidate.to_string(),
            file_name: item.file_name,
            file_type: item.file_type.map(str::to_string),
            input_bytes: Some(bytes),
            decoded_string: text,
            encoding_type: encoding.as_str().to_string(),
            file_hashes: Some(hashes),
            printable_bytes: Some(printable),
        },
        ItemBody::Error(message) => BinaryRecord {
            reference,
            original_string: candidate.to_string(),
            file_name: item.file_name,
            file_type: item.file_type.map(str::to_string),
            input_bytes: None,
            decoded_string: Some(message),
            encoding_type: ERROR_ENCODING.to_string(),
            file_hashes: None,
            printable_bytes: None,
        },
    }
}

fn error_record(
    prefix: &str,
    depth: usize,
    index: usize,
    candidate: String,
    message: String,
) -> BinaryRecord {
    BinaryRecord {
        reference: [prefix.to_string(), format!("{depth}."), index.to_string()],
        original_string: candidate,
        file_name: None,
        file_type: None,
        input_bytes: None,
        decoded_string: Some(message),
        encoding_type: ERROR_ENCODING.to_string(),
        file_hashes: None,
        printable_bytes: None,
    }
}

/// `haystack` with every occurrence of `needle` replaced; skips building a searcher
/// when the haystack is too short to hold one (the usual case around a payload).
fn replace_all(haystack: &str, needle: &str, with: &str) -> String {
    if haystack.len() < needle.len() {
        haystack.to_string()
    } else {
        haystack.replace(needle, with)
    }
}

/// Byte offset of character `chars` (`None` past the end).
fn byte_at_char(text: &str, chars: usize, ascii: bool) -> Option<usize> {
    if ascii {
        return (chars <= text.len()).then_some(chars);
    }
    let mut seen = 0;
    for (byte, _) in text.char_indices() {
        if seen == chars {
            return Some(byte);
        }
        seen += 1;
    }
    (seen == chars).then_some(text.len())
}

/// Character index of byte offset `byte` (a char boundary).
fn char_at_byte(text: &str, byte: usize, ascii: bool) -> usize {
    if ascii {
        byte
    } else {
        text[..byte].chars().count()
    }
}
