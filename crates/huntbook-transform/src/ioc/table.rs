//! The Arrow face of IoC extraction: string columns in, MSTICPy's result table out.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, LargeStringBuilder, StringBuilder, UInt32Builder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;

use super::{ExtractOptions, IocError, IocExtractor};

/// MSTICPy's result columns, in its order.
pub const RESULT_COLUMNS: [&str; 4] = ["IoCType", "Observable", "SourceIndex", "Input"];

const ROWS_PER_TASK: usize = 512;

/// Text access over a Utf8 or LargeUtf8 column.
enum TextColumn<'a> {
    Small(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
}

impl<'a> TextColumn<'a> {
    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            TextColumn::Small(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::Large(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// Extracts indicators from `columns` of `batch`.
///
/// Output columns are `IoCType` (Utf8), `Observable` (Utf8), `SourceIndex` (Int64, the
/// row position) and `Input` (the scanned cell; Utf8, or LargeUtf8 when the copies
/// would exceed Utf8's 2 GiB offsets). Rows come in input order, each row's columns in
/// the order given, then types in MSTICPy's order, then first appearance. Null cells
/// are skipped.
pub fn extract_iocs(
    batch: &RecordBatch,
    columns: &[&str],
    opts: &ExtractOptions,
) -> Result<RecordBatch, IocError> {
    let found = Found::scan(batch, columns, opts)?;
    let input_bytes: usize = found
        .rows()
        .map(|(_, _, row, c)| found.texts[c].get(row).map_or(0, str::len))
        .sum();
    let large_input = input_bytes > i32::MAX as usize;
    let mut input_small = StringBuilder::with_capacity(
        if large_input { 0 } else { found.total },
        if large_input { 0 } else { input_bytes },
    );
    let mut input_large = LargeStringBuilder::with_capacity(
        if large_input { found.total } else { 0 },
        if large_input { input_bytes } else { 0 },
    );
    for (_, _, row, c) in found.rows() {
        let input = found.texts[c].get(row).unwrap_or_default();
        if large_input {
            input_large.append_value(input);
        } else {
            input_small.append_value(input);
        }
    }
    let (input_type, input_col): (DataType, ArrayRef) = if large_input {
        (DataType::LargeUtf8, Arc::new(input_large.finish()))
    } else {
        (DataType::Utf8, Arc::new(input_small.finish()))
    };
    found.into_batch(Field::new(RESULT_COLUMNS[3], input_type, false), input_col)
}

/// [`extract_iocs`] without copies of the scanned cells: in place of `Input`,
/// `SourceColumn` (UInt32) gives the position in `columns` of the column each indicator
/// was found in, so that a caller holding the cells (the Python package, with the
/// DataFrame's own objects, as MSTICPy returns them) fills `Input` without a copy.
pub fn find_iocs(
    batch: &RecordBatch,
    columns: &[&str],
    opts: &ExtractOptions,
) -> Result<RecordBatch, IocError> {
    let found = Found::scan(batch, columns, opts)?;
    let mut sources = UInt32Builder::with_capacity(found.total);
    for (_, _, _, c) in found.rows() {
        sources.append_value(c as u32);
    }
    found.into_batch(
        Field::new(SOURCE_COLUMN, DataType::UInt32, false),
        Arc::new(sources.finish()),
    )
}

/// The name of [`find_iocs`]' last column.
pub const SOURCE_COLUMN: &str = "SourceColumn";

/// Indicators found in a batch, before the result table is built.
struct Found<'a> {
    texts: Vec<TextColumn<'a>>,
    extractor: IocExtractor,
    /// (type index, observable, row, column) per task; tasks keep the row order.
    found: Vec<Vec<(usize, String, usize, usize)>>,
    total: usize,
}

impl<'a> Found<'a> {
    fn scan(
        batch: &'a RecordBatch,
        columns: &[&str],
        opts: &ExtractOptions,
    ) -> Result<Self, IocError> {
        if columns.is_empty() {
            return Err(IocError::NoColumns);
        }
        let schema = batch.schema();
        let mut texts = Vec::with_capacity(columns.len());
        for &name in columns {
            let Ok(idx) = schema.index_of(name) else {
                return Err(IocError::MissingColumn {
                    column: name.to_string(),
                    available: crate::column_list(&schema),
                });
            };
            let col = batch.column(idx);
            let text = match col.data_type() {
                DataType::Utf8 => TextColumn::Small(col.as_string::<i32>()),
                DataType::LargeUtf8 => TextColumn::Large(col.as_string::<i64>()),
                other => {
                    return Err(IocError::NotText {
                        column: name.to_string(),
                        data_type: other.to_string(),
                    })
                }
            };
            texts.push(text);
        }
        let extractor = IocExtractor::new(opts)?;

        let rows = batch.num_rows();
        let found: Vec<Vec<_>> = (0..rows.div_ceil(ROWS_PER_TASK))
            .into_par_iter()
            .map(|task| {
                let mut out = Vec::new();
                let end = ((task + 1) * ROWS_PER_TASK).min(rows);
                for row in task * ROWS_PER_TASK..end {
                    for (c, col) in texts.iter().enumerate() {
                        if let Some(text) = col.get(row) {
                            for (ty, obs) in extractor.extract_indexed(text) {
                                out.push((ty, obs, row, c));
                            }
                        }
                    }
                }
                out
            })
            .collect();
        let total = found.iter().map(Vec::len).sum();
        Ok(Found {
            texts,
            extractor,
            found,
            total,
        })
    }

    fn rows(&self) -> impl Iterator<Item = (usize, &str, usize, usize)> + '_ {
        self.found
            .iter()
            .flatten()
            .map(|(ty, obs, row, c)| (*ty, obs.as_str(), *row, *c))
    }

    /// MSTICPy's first three columns, then `last`.
    fn into_batch(self, last_field: Field, last: ArrayRef) -> Result<RecordBatch, IocError> {
        let obs_bytes: usize = self.rows().map(|(_, obs, _, _)| obs.len()).sum();
        let mut types = StringBuilder::with_capacity(self.total, self.total * 8);
        let mut observables = StringBuilder::with_capacity(self.total, obs_bytes);
        let mut index = Int64Builder::with_capacity(self.total);
        for (ty, obs, row, _) in self.rows() {
            types.append_value(self.extractor.type_of(ty).name());
            observables.append_value(obs);
            index.append_value(row as i64);
        }
        let schema = Schema::new(vec![
            Field::new(RESULT_COLUMNS[0], DataType::Utf8, false),
            Field::new(RESULT_COLUMNS[1], DataType::Utf8, false),
            Field::new(RESULT_COLUMNS[2], DataType::Int64, false),
            last_field,
        ]);
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(types.finish()),
                Arc::new(observables.finish()),
                Arc::new(index.finish()),
                last,
            ],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, LargeStringArray, StringArray};

    fn batch() -> RecordBatch {
        let a = StringArray::from(vec![
            Some("from=user@example.com 10.1.1.1"),
            None,
            Some("nothing here"),
            Some("hxxp://a[.]com"),
        ]);
        let b = LargeStringArray::from(vec![Some("x 10.1.1.1"), Some("evil.com"), None, Some("z")]);
        let n = arrow_array::Int64Array::from(vec![1, 2, 3, 4]);
        RecordBatch::try_from_iter(vec![
            ("a", Arc::new(a) as ArrayRef),
            ("b", Arc::new(b) as ArrayRef),
            ("n", Arc::new(n) as ArrayRef),
        ])
        .unwrap()
    }

    fn rows(out: &RecordBatch) -> Vec<(String, String, i64, String)> {
        let t = out.column(0).as_string::<i32>();
        let o = out.column(1).as_string::<i32>();
        let i = out.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
        let s = out.column(3).as_string::<i32>();
        (0..out.num_rows())
            .map(|r| {
                (
                    t.value(r).into(),
                    o.value(r).into(),
                    i.value(r),
                    s.value(r).into(),
                )
            })
            .collect()
    }

    #[test]
    fn columns_rows_and_order() {
        let out = extract_iocs(&batch(), &["a", "b"], &ExtractOptions::default()).unwrap();
        let names: Vec<_> = out
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, RESULT_COLUMNS);
        let r = rows(&out);
        let line = "from=user@example.com 10.1.1.1".to_string();
        assert_eq!(
            r,
            vec![
                ("ipv4".into(), "10.1.1.1".into(), 0, line.clone()),
                ("dns".into(), "example.com".into(), 0, line.clone()),
                ("email".into(), "user@example.com".into(), 0, line),
                ("ipv4".into(), "10.1.1.1".into(), 0, "x 10.1.1.1".into()),
                ("dns".into(), "evil.com".into(), 1, "evil.com".into()),
                ("dns".into(), "a[.]com".into(), 3, "hxxp://a[.]com".into()),
                (
                    "url".into(),
                    "hxxp://a[.]com".into(),
                    3,
                    "hxxp://a[.]com".into()
                ),
            ]
        );
    }

    #[test]
    fn find_iocs_names_the_source_column_instead_of_copying_it() {
        let full = rows(&extract_iocs(&batch(), &["a", "b"], &ExtractOptions::default()).unwrap());
        let found = find_iocs(&batch(), &["a", "b"], &ExtractOptions::default()).unwrap();
        assert_eq!(found.schema().field(3).name(), SOURCE_COLUMN);
        let sources = found
            .column(3)
            .as_primitive::<arrow_array::types::UInt32Type>();
        let t = found.column(0).as_string::<i32>();
        let o = found.column(1).as_string::<i32>();
        let cells = [batch().column(0).clone(), batch().column(1).clone()];
        for (r, (ty, obs, row, input)) in full.iter().enumerate() {
            assert_eq!((t.value(r), o.value(r)), (ty.as_str(), obs.as_str()));
            let source = &cells[sources.value(r) as usize];
            let cell = match source.data_type() {
                DataType::Utf8 => source.as_string::<i32>().value(*row as usize),
                _ => source.as_string::<i64>().value(*row as usize),
            };
            assert_eq!(cell, input);
        }
    }

    #[test]
    fn refanged_output_and_type_filter() {
        let opts = ExtractOptions {
            ioc_types: Some(vec!["url".into()]),
            refang: true,
            ..ExtractOptions::default()
        };
        let r = rows(&extract_iocs(&batch(), &["a"], &opts).unwrap());
        assert_eq!(
            r,
            vec![(
                "url".into(),
                "http://a.com".into(),
                3,
                "hxxp://a[.]com".into()
            )]
        );
    }

    #[test]
    fn empty_result_keeps_schema() {
        let out = extract_iocs(
            &batch(),
            &["a"],
            &ExtractOptions {
                ioc_types: Some(vec!["sha256".into()]),
                ..ExtractOptions::default()
            },
        )
        .unwrap();
        assert_eq!(out.num_rows(), 0);
        assert_eq!(out.num_columns(), 4);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = extract_iocs(&batch(), &["missing"], &ExtractOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("`missing`") && e.to_string().contains("a, b, n"),
            "{e}"
        );
        let e = extract_iocs(&batch(), &["n"], &ExtractOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("`n`") && e.to_string().contains("Int64"),
            "{e}"
        );
        let e = extract_iocs(&batch(), &[], &ExtractOptions::default()).unwrap_err();
        assert!(matches!(e, IocError::NoColumns));
        let opts = ExtractOptions {
            ioc_types: Some(vec!["sha512".into()]),
            ..ExtractOptions::default()
        };
        let e = extract_iocs(&batch(), &["a"], &opts).unwrap_err();
        assert!(
            e.to_string().contains("sha512") && e.to_string().contains("sha256_hash"),
            "{e}"
        );
    }

    #[test]
    fn many_rows_keep_their_order_across_tasks() {
        let texts: Vec<String> = (0..3000).map(|i| format!("host{i}.example.com")).collect();
        let col = StringArray::from(texts.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>());
        let b = RecordBatch::try_from_iter(vec![("t", Arc::new(col) as ArrayRef)]).unwrap();
        let r = rows(&extract_iocs(&b, &["t"], &ExtractOptions::default()).unwrap());
        assert_eq!(r.len(), 3000);
        for (i, row) in r.iter().enumerate() {
            assert_eq!(row.2, i as i64);
            assert_eq!(row.1, texts[i]);
        }
    }
}
