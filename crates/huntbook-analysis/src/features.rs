//! Numeric features of process events, MSTICPy's `add_process_features`: the same
//! columns, names, types and values, so that clustering on them groups the same
//! events.
//!
//! From `NewProcessName`: `processName` (the last path element), `pathScore` (the sum
//! of the characters' code points), `pathLogScore` (its log10, 0 for an empty path)
//! and `pathHash` (CRC-32 of the UTF-8 path). From `CommandLine`: `commandlineLen`
//! (in characters), `commandlineLogLen`, `commandlineTokensFull` (how many delimiter
//! characters it holds), `commandlineScore` and `commandlineTokensHash` (CRC-32 of
//! its delimiters in order). From `SubjectLogonId`: `isSystemSession` (the text
//! `0x3e7` or `-1`). Each group is added only when its source column is there, and a
//! feature column that already exists is kept unless `force` is set; a feature derived
//! from another (`pathLogScore` from `pathScore`) reads the one in the table.
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::DataType;

use crate::columns::texts;
use crate::table::Table;
use crate::AnalysisError;

const PROCESS_PATH: &str = "NewProcessName";
const COMMAND_LINE: &str = "CommandLine";
const LOGON_ID: &str = "SubjectLogonId";
/// The logon ids of the system session: Windows' SYSTEM (0x3e7) and Linux's -1.
const SYSTEM_LOGON_IDS: [&str; 2] = ["0x3e7", "-1"];
/// How many leading paths are looked at to tell Linux paths from Windows ones.
const SEPARATOR_SAMPLE: usize = 10;

/// How [`add_process_features`] runs.
#[derive(Debug, Clone, Default)]
pub struct FeatureOptions {
    /// The path separator of `NewProcessName`; `None` takes `/` when one of the first
    /// ten paths holds a `/`, else `\`.
    pub path_separator: Option<String>,
    /// Recompute feature columns the table already has.
    pub force: bool,
}

/// `batch` with the process features added (see the module documentation). When both
/// `NewProcessName` and `CommandLine` are there, their empty values become empty
/// text, as MSTICPy fills them.
pub fn add_process_features(
    batch: &RecordBatch,
    options: &FeatureOptions,
) -> Result<RecordBatch, AnalysisError> {
    let mut table = Table::from(batch);
    let has = |name: &str| batch.column_by_name(name).is_some();
    let fill = has(PROCESS_PATH) && has(COMMAND_LINE);
    if has(PROCESS_PATH) {
        let paths = filled_texts(batch, PROCESS_PATH)?;
        if fill {
            table.replace(PROCESS_PATH, string_array(&paths));
        }
        let separator = match &options.path_separator {
            Some(s) if s.is_empty() => {
                return Err(AnalysisError::Invalid(
                    "path_separator is empty; pass a separator such as '\\\\' or '/', \
                     or None to infer it"
                        .into(),
                ))
            }
            Some(s) => s.clone(),
            None => infer_separator(&paths).to_string(),
        };
        table.add(options.force, "processName", || {
            let names: Vec<&str> = paths
                .iter()
                .map(|p| p.rsplit(separator.as_str()).next().unwrap_or(""))
                .collect();
            Ok(Arc::new(StringArray::from(names)))
        })?;
        table.add(options.force, "pathScore", || {
            Ok(ints(paths.iter().map(|p| char_ord_score(p))))
        })?;
        let scores = table.numbers("pathScore")?;
        table.add(options.force, "pathLogScore", || Ok(log10_or_zero(&scores)))?;
        table.add(options.force, "pathHash", || {
            Ok(ints(paths.iter().map(|p| crc32(p.as_bytes()).into())))
        })?;
    }
    if has(COMMAND_LINE) {
        let lines = filled_texts(batch, COMMAND_LINE)?;
        if fill {
            table.replace(COMMAND_LINE, string_array(&lines));
        }
        table.add(options.force, "commandlineLen", || {
            Ok(ints(lines.iter().map(|l| l.chars().count() as i64)))
        })?;
        let lengths = table.numbers("commandlineLen")?;
        table.add(options.force, "commandlineLogLen", || {
            Ok(log10_or_zero(&lengths))
        })?;
        table.add(options.force, "commandlineTokensFull", || {
            Ok(ints(lines.iter().map(|l| delim_count(l) as i64)))
        })?;
        table.add(options.force, "commandlineScore", || {
            Ok(ints(lines.iter().map(|l| char_ord_score(l))))
        })?;
        table.add(options.force, "commandlineTokensHash", || {
            Ok(ints(lines.iter().map(|l| delim_hash(l).into())))
        })?;
    }
    if has(LOGON_ID) {
        table.add(options.force, "isSystemSession", || {
            is_system_session(batch)
        })?;
    }
    table.to_batch()
}

/// The sum of the Unicode code points of `value`'s characters.
pub fn char_ord_score(value: &str) -> i64 {
    value.chars().map(|c| i64::from(u32::from(c))).sum()
}

/// Whether `c` delimits tokens of a command line: white space as Python's regular
/// expressions see it (Unicode white space plus the separators U+001C..U+001F) and
/// ``-\/.,"'|&:;%$()``.
pub fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c) || "-\\/.,\"'|&:;%$()".contains(c)
}

/// How many delimiter characters `value` holds.
pub fn delim_count(value: &str) -> usize {
    value.chars().filter(|&c| is_delimiter(c)).count()
}

/// CRC-32 of `value`'s delimiter characters, in order, as UTF-8.
pub fn delim_hash(value: &str) -> u32 {
    let delimiters: String = value.chars().filter(|&c| is_delimiter(c)).collect();
    crc32(delimiters.as_bytes())
}

/// CRC-32 (IEEE 802.3, the checksum of zlib and Python's `binascii.crc32`).
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, &b| {
        TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

/// `/` when one of the first paths holds one (Linux), else `\` (Windows).
fn infer_separator(paths: &[String]) -> &'static str {
    if paths.iter().take(SEPARATOR_SAMPLE).any(|p| p.contains('/')) {
        "/"
    } else {
        "\\"
    }
}

/// A text column with its empty values as empty text.
fn filled_texts(batch: &RecordBatch, name: &str) -> Result<Vec<String>, AnalysisError> {
    Ok(texts(batch, name)?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

/// `isSystemSession`: only text ids can match, as in MSTICPy, where a numeric -1 is
/// not the text "-1".
fn is_system_session(batch: &RecordBatch) -> Result<ArrayRef, AnalysisError> {
    let column = batch
        .column_by_name(LOGON_ID)
        .expect("checked by the caller");
    let is_text = matches!(
        column.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let flags: Vec<bool> = if is_text {
        texts(batch, LOGON_ID)?
            .iter()
            .map(|id| {
                id.as_deref()
                    .is_some_and(|id| SYSTEM_LOGON_IDS.contains(&id))
            })
            .collect()
    } else {
        vec![false; column.len()]
    };
    Ok(Arc::new(BooleanArray::from(flags)))
}

fn ints(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(values.collect::<Int64Array>())
}

fn string_array(values: &[String]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// log10 of each value, and 0 for 0 (an empty path or command line).
fn log10_or_zero(values: &[Option<f64>]) -> ArrayRef {
    Arc::new(
        values
            .iter()
            .map(|v| v.map(|v| if v == 0.0 { 0.0 } else { v.log10() }))
            .collect::<Float64Array>(),
    )
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn text(values: Vec<Option<&str>>) -> ArrayRef {
        Arc::new(StringArray::from(values))
    }

    fn int_column(b: &RecordBatch, name: &str) -> Vec<i64> {
        b.column_by_name(name)
            .unwrap()
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    fn names(b: &RecordBatch) -> Vec<String> {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    #[test]
    fn helpers_follow_pythons_rules() {
        assert_eq!(char_ord_score("ab"), 97 + 98);
        assert_eq!(char_ord_score("é"), 0xe9);
        // binascii.crc32(b"123456789") == 0xCBF43926
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(delim_count("a -b \"c:\\d\" x.y|z"), 10);
        // U+001F is white space for Python's \s, though not for Rust.
        assert_eq!(delim_count("a\u{1f}b\u{a0}c"), 2);
        assert_eq!(delim_hash("a b-c"), crc32(b" -"));
    }

    #[test]
    fn windows_features_with_inferred_separator_and_filled_blanks() {
        let b = batch(vec![
            (
                "NewProcessName",
                text(vec![Some("C:\\Windows\\cmd.exe"), None]),
            ),
            ("CommandLine", text(vec![Some("cmd /c dir"), Some("x")])),
            ("SubjectLogonId", text(vec![Some("0x3e7"), Some("0x1")])),
        ]);
        let out = add_process_features(&b, &FeatureOptions::default()).unwrap();
        assert_eq!(
            names(&out)[3..],
            [
                "processName",
                "pathScore",
                "pathLogScore",
                "pathHash",
                "commandlineLen",
                "commandlineLogLen",
                "commandlineTokensFull",
                "commandlineScore",
                "commandlineTokensHash",
                "isSystemSession"
            ]
        );
        let process = out
            .column_by_name("processName")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(process.value(0), "cmd.exe");
        assert_eq!(process.value(1), "");
        // Both text columns present: the blank path became empty text.
        let path = out.column_by_name("NewProcessName").unwrap();
        assert_eq!(
            (path.null_count(), path.as_string::<i32>().value(1)),
            (0, "")
        );
        assert_eq!(
            int_column(&out, "pathScore"),
            [char_ord_score("C:\\Windows\\cmd.exe"), 0]
        );
        let logs = out
            .column_by_name("pathLogScore")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(logs.value(1), 0.0);
        assert_eq!(int_column(&out, "commandlineTokensFull"), [3, 0]);
        assert_eq!(int_column(&out, "commandlineLen"), [10, 1]);
        let system = out.column_by_name("isSystemSession").unwrap().as_boolean();
        assert!(system.value(0) && !system.value(1));
    }

    #[test]
    fn linux_paths_and_absent_sources() {
        let b = batch(vec![(
            "NewProcessName",
            text(vec![Some("/usr/bin/curl"), Some("C:\\x\\y.exe")]),
        )]);
        let out = add_process_features(&b, &FeatureOptions::default()).unwrap();
        let process = out
            .column_by_name("processName")
            .unwrap()
            .as_string::<i32>();
        // One Linux path among the first ten makes '/' the separator for every row.
        assert_eq!(process.value(0), "curl");
        assert_eq!(process.value(1), "C:\\x\\y.exe");
        // No CommandLine or SubjectLogonId: no features from them.
        assert_eq!(out.num_columns(), 5);
        let given = FeatureOptions {
            path_separator: Some("\\".into()),
            force: false,
        };
        let out = add_process_features(&b, &given).unwrap();
        let process = out
            .column_by_name("processName")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(process.value(1), "y.exe");
        let empty = FeatureOptions {
            path_separator: Some(String::new()),
            force: false,
        };
        let e = add_process_features(&b, &empty).unwrap_err().to_string();
        assert!(e.contains("path_separator"), "{e}");
    }

    #[test]
    fn existing_features_are_kept_unless_forced_and_feed_derived_ones() {
        let b = batch(vec![
            ("CommandLine", text(vec![Some("a b")])),
            ("commandlineLen", Arc::new(Int64Array::from(vec![100]))),
        ]);
        let out = add_process_features(&b, &FeatureOptions::default()).unwrap();
        assert_eq!(int_column(&out, "commandlineLen"), [100]);
        let log = out
            .column_by_name("commandlineLogLen")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(log.value(0), 2.0);
        let forced = FeatureOptions {
            path_separator: None,
            force: true,
        };
        let out = add_process_features(&b, &forced).unwrap();
        assert_eq!(names(&out)[1], "commandlineLen");
        assert_eq!(int_column(&out, "commandlineLen"), [3]);
    }

    #[test]
    fn numeric_logon_ids_never_match() {
        let b = batch(vec![(
            "SubjectLogonId",
            Arc::new(Int64Array::from(vec![-1])) as ArrayRef,
        )]);
        let out = add_process_features(&b, &FeatureOptions::default()).unwrap();
        assert!(!out
            .column_by_name("isSystemSession")
            .unwrap()
            .as_boolean()
            .value(0));
    }
}
