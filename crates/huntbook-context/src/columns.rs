//! Enrichment results as columns joined to the input rows: the addresses are read
//! from one text column, looked up once each, and the answers added as new columns,
//! one value per input row (a left join on the address, as MSTICPy's
//! `df_lookup_ip` and `get_whois_df` do, without ever multiplying rows).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};

/// A column that cannot be read as addresses.
#[derive(Debug, thiserror::Error)]
pub enum ColumnError {
    #[error("no column '{column}'; the columns are: {available}")]
    Missing { column: String, available: String },
    #[error("column '{column}' holds {found}, not text; convert it to text first")]
    NotText { column: String, found: DataType },
    #[error("cannot add the result columns: {0}")]
    Arrow(#[from] ArrowError),
}

/// The values of a text column, `None` for nulls.
pub fn text_values(batch: &RecordBatch, column: &str) -> Result<Vec<Option<String>>, ColumnError> {
    let schema = batch.schema();
    let Some((index, field)) = schema.column_with_name(column) else {
        let available: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        return Err(ColumnError::Missing {
            column: column.to_string(),
            available: available.join(", "),
        });
    };
    let array = batch.column(index);
    let owned = |v: Option<&str>| v.map(str::to_string);
    Ok(match field.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().map(owned).collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().map(owned).collect(),
        DataType::Utf8View => array.as_string_view().iter().map(owned).collect(),
        DataType::Null => vec![None; array.len()],
        other => {
            return Err(ColumnError::NotText {
                column: column.to_string(),
                found: other.clone(),
            })
        }
    })
}

/// For each row of `batch`, the answer `found` holds for the (trimmed) text of its
/// `column`: how lookup answers are joined back to the rows they were asked for.
pub fn answers_by_row<'a, T>(
    batch: &RecordBatch,
    column: &str,
    found: &'a std::collections::HashMap<String, T>,
) -> Result<Vec<Option<&'a T>>, ColumnError> {
    Ok(text_values(batch, column)?
        .iter()
        .map(|v| v.as_deref().and_then(|key| found.get(key.trim())))
        .collect())
}

/// The distinct non-empty values, trimmed, in order of first appearance: what is
/// worth looking up.
pub fn distinct(values: &[Option<String>]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values
        .iter()
        .flatten()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty() && seen.insert(*v))
        .map(str::to_string)
        .collect()
}

/// `batch` with `added` columns after its own. An input column with the name of an
/// added one is replaced, so that enriching an enriched table refreshes it.
pub fn append(
    batch: &RecordBatch,
    added: Vec<(Field, ArrayRef)>,
) -> Result<RecordBatch, ColumnError> {
    let schema = batch.schema();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !added.iter().any(|(f, _)| f.name() == field.name()) {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    for (field, column) in added {
        fields.push(field);
        columns.push(column);
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};

    #[test]
    fn text_columns_are_read_and_others_refused() {
        let batch = RecordBatch::try_from_iter([
            (
                "ip",
                Arc::new(StringArray::from(vec![
                    Some(" 1.2.3.4"),
                    None,
                    Some("1.2.3.4"),
                ])) as ArrayRef,
            ),
            ("n", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        ])
        .unwrap();
        let values = text_values(&batch, "ip").unwrap();
        assert_eq!(distinct(&values), ["1.2.3.4"]);
        assert_eq!(
            text_values(&batch, "n").unwrap_err().to_string(),
            "column 'n' holds Int64, not text; convert it to text first"
        );
        assert_eq!(
            text_values(&batch, "IP").unwrap_err().to_string(),
            "no column 'IP'; the columns are: ip, n"
        );
    }

    #[test]
    fn added_columns_replace_those_of_the_same_name() {
        let batch = RecordBatch::try_from_iter([
            ("City", Arc::new(StringArray::from(vec!["old"])) as ArrayRef),
            (
                "ip",
                Arc::new(StringArray::from(vec!["1.2.3.4"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let city: ArrayRef = Arc::new(StringArray::from(vec!["new"]));
        let out = append(
            &batch,
            vec![(Field::new("City", DataType::Utf8, true), city)],
        )
        .unwrap();
        let names: Vec<&str> = out
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, ["ip", "City"]);
        assert_eq!(out.column(1).as_string::<i32>().value(0), "new");
    }
}
