//! Unpacking zip (deflate or stored), gzip and tar members with hard limits.
//!
//! Every member is read through a `take(limit + 1)` reader, so a member claiming or
//! producing more than its limit costs at most `limit + 1` bytes of memory and the
//! time to inflate that much, whatever its headers say. The limit is the smaller of
//! the bytes left in the row's budget and `max(compressed size × max ratio, ratio
//! floor)`; a member over it is reported as an error, not read further.
//!
//! Member order and naming follow Python's `zipfile.namelist()` / `tarfile.getnames()`
//! as MSTICPy uses them: directories are members with empty content, and when a name
//! repeats, the later content replaces the earlier at the earlier position (a dict
//! keyed by name). A gzip stream (several concatenated members decode as one) is one
//! member named `gzip_file`.

use std::io::{Cursor, Read};

/// Limits shared by every archive unpacked in one row.
#[derive(Debug, Clone)]
pub struct ExpandLimits {
    /// Bytes the row may still decode; decremented as members are read.
    pub remaining: usize,
    /// A member may expand to `compressed × max_ratio` bytes ...
    pub max_ratio: u64,
    /// ... or to this many bytes, whichever is larger.
    pub ratio_floor: usize,
    /// Members beyond this count are not read.
    pub max_members: usize,
}

/// Why one member's content is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberError {
    /// Expanding further would pass the compression-ratio limit.
    Ratio { compressed: u64, limit: usize },
    /// Expanding further would pass the row's byte budget.
    Budget { limit: usize },
    /// The member could not be read (encrypted, unsupported method, corrupt data).
    Unreadable(String),
}

impl std::fmt::Display for MemberError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberError::Ratio { compressed, limit } => write!(
                f,
                "expands beyond {limit} bytes from {compressed} compressed bytes \
                 (compression-ratio limit; likely a decompression bomb): not unpacked; \
                 raise max_expansion_ratio to unpack it"
            ),
            MemberError::Budget { limit } => write!(
                f,
                "expands beyond the {limit} bytes left in this row's decoding budget: \
                 not unpacked; raise max_total_bytes to unpack it"
            ),
            MemberError::Unreadable(why) => write!(f, "could not be read: {why}"),
        }
    }
}

/// One archive member.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub content: Result<Vec<u8>, MemberError>,
}

/// The members of an archive, and how many were left unread because of
/// [`ExpandLimits::max_members`].
#[derive(Debug, Clone, Default)]
pub struct Contents {
    pub members: Vec<Member>,
    pub skipped_members: usize,
}

impl Contents {
    /// Adds a member, replacing the content of an earlier one with the same name.
    fn insert(&mut self, member: Member) {
        match self.members.iter_mut().find(|m| m.name == member.name) {
            Some(existing) => existing.content = member.content,
            None => self.members.push(member),
        }
    }
}

/// Unpacks `data` as the MSTICPy archive `kind` ("zip", "gz" or "tar"). `Err` means
/// the archive itself could not be opened (the caller then treats it as plain binary).
pub fn unpack(kind: &str, data: &[u8], limits: &mut ExpandLimits) -> Result<Contents, String> {
    match kind {
        "zip" => unpack_zip(data, limits),
        "gz" => unpack_gzip(data, limits),
        "tar" => unpack_tar(data, limits),
        other => Err(format!("{other} is not an archive type that is unpacked")),
    }
}

/// Reads at most `limit + 1` bytes; more than `limit` is reported as the limit's error.
fn read_limited(
    reader: impl Read,
    compressed: u64,
    limits: &mut ExpandLimits,
) -> Result<Vec<u8>, MemberError> {
    let ratio_limit = usize::try_from(compressed.saturating_mul(limits.max_ratio))
        .unwrap_or(usize::MAX)
        .max(limits.ratio_floor);
    let limit = ratio_limit.min(limits.remaining);
    let mut buf = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| MemberError::Unreadable(e.to_string()))?;
    if buf.len() > limit {
        return Err(if ratio_limit <= limits.remaining {
            MemberError::Ratio { compressed, limit }
        } else {
            limits.remaining = 0;
            MemberError::Budget { limit }
        });
    }
    limits.remaining -= buf.len();
    Ok(buf)
}

fn unpack_zip(data: &[u8], limits: &mut ExpandLimits) -> Result<Contents, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(data)).map_err(|e| format!("not a readable zip: {e}"))?;
    let mut contents = Contents::default();
    let total = archive.len();
    for index in 0..total {
        if contents.members.len() >= limits.max_members {
            contents.skipped_members = total - index;
            break;
        }
        // Named from the central directory first, so an entry that cannot be opened
        // is still listed, as namelist() would list it.
        let listed_name = archive
            .name_for_index(index)
            .and_then(Result::ok)
            .map(|n| n.into_owned());
        let member = match archive.by_index(index) {
            Ok(file) => {
                let name = listed_name
                    .unwrap_or_else(|| String::from_utf8_lossy(file.name_raw()).into_owned());
                let compressed = file.compressed_size().min(data.len() as u64);
                Member {
                    name,
                    content: read_limited(file, compressed, limits),
                }
            }
            Err(e) => Member {
                name: listed_name.unwrap_or_else(|| format!("#{index}")),
                content: Err(MemberError::Unreadable(e.to_string())),
            },
        };
        contents.insert(member);
    }
    Ok(contents)
}

fn unpack_gzip(data: &[u8], limits: &mut ExpandLimits) -> Result<Contents, String> {
    let decoder = flate2::read::MultiGzDecoder::new(data);
    let content = match read_limited(decoder, data.len() as u64, limits) {
        Err(MemberError::Unreadable(why)) => {
            return Err(format!("not a readable gzip stream: {why}"))
        }
        other => other,
    };
    Ok(Contents {
        members: vec![Member {
            name: "gzip_file".to_string(),
            content,
        }],
        skipped_members: 0,
    })
}

fn unpack_tar(data: &[u8], limits: &mut ExpandLimits) -> Result<Contents, String> {
    let mut archive = tar::Archive::new(data);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a readable tar: {e}"))?;
    let mut contents = Contents::default();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            // A bad header after good ones ends the listing; before any, the whole
            // archive is unreadable.
            Err(e) if contents.members.is_empty() => {
                return Err(format!("not a readable tar: {e}"))
            }
            Err(_) => break,
        };
        if contents.members.len() >= limits.max_members {
            contents.skipped_members += 1;
            continue;
        }
        let kind = entry.header().entry_type();
        let mut name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind.is_dir() {
            while name.len() > 1 && name.ends_with('/') {
                name.pop();
            }
        }
        let content = if kind.is_file() || kind.is_gnu_sparse() || kind.is_contiguous() {
            read_limited(entry, data.len() as u64, limits)
        } else {
            // Directories, links, devices: no content of their own.
            Ok(Vec::new())
        };
        contents.insert(Member { name, content });
    }
    if contents.members.is_empty() && contents.skipped_members == 0 {
        return Err("tar archive has no members".to_string());
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unpack::corpus;
    use std::io::Write;

    fn limits() -> ExpandLimits {
        ExpandLimits {
            remaining: 1 << 20,
            max_ratio: 100,
            ratio_floor: 64 << 10,
            max_members: 10,
        }
    }

    fn names(c: &Contents) -> Vec<&str> {
        c.members.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn zip_members_in_order() {
        let z = corpus::zip(&[
            ("a.txt".into(), "alpha".into()),
            ("dir/b.txt".into(), "beta".into()),
        ]);
        let mut l = limits();
        let c = unpack("zip", &z, &mut l).unwrap();
        assert_eq!(names(&c), ["a.txt", "dir/b.txt"]);
        assert_eq!(c.members[1].content.as_deref().unwrap(), b"beta");
        assert_eq!(l.remaining, (1 << 20) - 9);
    }

    #[test]
    fn zip_duplicate_names_keep_first_position_last_content() {
        // Zip writers refuse duplicate names, so rename the third entry afterwards.
        let mut z = corpus::zip(&[
            ("dupname1".into(), "one".into()),
            ("other".into(), "two".into()),
            ("dupname2".into(), "three".into()),
        ]);
        let needle = b"dupname2";
        let mut i = 0;
        while i + needle.len() <= z.len() {
            if &z[i..i + needle.len()] == needle {
                z[i + 7] = b'1';
            }
            i += 1;
        }
        let c = unpack("zip", &z, &mut limits()).unwrap();
        assert_eq!(names(&c), ["dupname1", "other"]);
        assert_eq!(c.members[0].content.as_deref().unwrap(), b"three");
    }

    #[test]
    fn zip_member_count_is_capped() {
        let files: Vec<(String, String)> = (0..15).map(|i| (format!("f{i}"), "x".into())).collect();
        let c = unpack("zip", &corpus::zip(&files), &mut limits()).unwrap();
        assert_eq!(c.members.len(), 10);
        assert_eq!(c.skipped_members, 5);
    }

    #[test]
    fn gzip_single_and_concatenated_members() {
        let mut data = corpus::gzip(b"first ");
        data.extend(corpus::gzip(b"second"));
        let c = unpack("gz", &data, &mut limits()).unwrap();
        assert_eq!(names(&c), ["gzip_file"]);
        assert_eq!(c.members[0].content.as_deref().unwrap(), b"first second");
        assert!(unpack("gz", b"\x1f\x8b\x08garbage", &mut limits()).is_err());
    }

    #[test]
    fn gzip_ratio_and_budget_limits() {
        let zeros = corpus::gzip(&vec![0u8; 4 << 20]);
        let mut l = limits();
        let c = unpack("gz", &zeros, &mut l).unwrap();
        assert!(matches!(
            c.members[0].content,
            Err(MemberError::Ratio { .. })
        ));
        assert_eq!(l.remaining, 1 << 20, "a refused member costs nothing");

        let mut l = limits();
        l.max_ratio = u64::MAX;
        let c = unpack("gz", &zeros, &mut l).unwrap();
        assert!(
            matches!(c.members[0].content, Err(MemberError::Budget { limit }) if limit == 1 << 20)
        );
        assert_eq!(l.remaining, 0);
    }

    #[test]
    fn tar_members_with_directory_and_file() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_size(0);
        dir.set_mode(0o755);
        builder
            .append_data(&mut dir, "docs/", std::io::empty())
            .unwrap();
        let mut file = tar::Header::new_gnu();
        file.set_size(5);
        file.set_mode(0o644);
        builder
            .append_data(&mut file, "docs/a.txt", &b"hello"[..])
            .unwrap();
        let data = builder.into_inner().unwrap();
        let c = unpack("tar", &data, &mut limits()).unwrap();
        assert_eq!(names(&c), ["docs", "docs/a.txt"]);
        assert_eq!(c.members[0].content.as_deref().unwrap(), b"");
        assert_eq!(c.members[1].content.as_deref().unwrap(), b"hello");
    }

    #[test]
    fn unreadable_archives_are_errors() {
        assert!(unpack("zip", b"PK\x03\x04 not really", &mut limits()).is_err());
        assert!(unpack("tar", &[0u8; 1024], &mut limits()).is_err());
        assert!(unpack("7z", b"", &mut limits()).is_err());
    }

    #[test]
    fn stored_zip_members_are_read_too() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("s.txt", opts).unwrap();
        w.write_all(b"stored").unwrap();
        let z = w.finish().unwrap().into_inner();
        let c = unpack("zip", &z, &mut limits()).unwrap();
        assert_eq!(c.members[0].content.as_deref().unwrap(), b"stored");
    }
}
