//! Whois results as Arrow columns with MSTICPy's names: `query, asn, asn_cidr,
//! asn_country_code, asn_registry, asn_date, asn_description, nets`, where `nets` is
//! a list of structs (a list of dicts in pandas), plus `whois_error`. Joined to input
//! rows, `AsnDescription` comes first, as `get_whois_df` adds it.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema};

use super::{AsnInfo, Net, WhoisResult};
use crate::columns::{self, ColumnError};

/// The whois columns, in order.
pub const WHOIS_COLUMNS: [&str; 9] = [
    "query",
    "asn",
    "asn_cidr",
    "asn_country_code",
    "asn_registry",
    "asn_date",
    "asn_description",
    "nets",
    "whois_error",
];

fn text_column(name: &str, values: Vec<Option<&str>>) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Utf8, true),
        Arc::new(StringArray::from(values)) as ArrayRef,
    )
}

fn whois_columns(rows: &[Option<&WhoisResult>]) -> Vec<(Field, ArrayRef)> {
    let asn = |get: fn(&AsnInfo) -> &str| -> Vec<Option<&str>> {
        rows.iter()
            .map(|r| r.and_then(|r| r.asn.as_ref()).map(get))
            .collect()
    };
    vec![
        text_column(
            "query",
            rows.iter().map(|r| r.map(|r| r.query.as_str())).collect(),
        ),
        text_column("asn", asn(|a| &a.asn)),
        text_column("asn_cidr", asn(|a| &a.cidr)),
        text_column("asn_country_code", asn(|a| &a.country_code)),
        text_column("asn_registry", asn(|a| &a.registry)),
        text_column("asn_date", asn(|a| &a.allocated)),
        text_column("asn_description", asn(|a| &a.description)),
        nets_column(rows),
        text_column(
            "whois_error",
            rows.iter()
                .map(|r| r.and_then(|r| r.error.as_deref()))
                .collect(),
        ),
    ]
}

/// The keys of each net, in MSTICPy's spelling.
fn net_fields() -> Fields {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Fields::from(vec![
        text("cidr"),
        text("range"),
        text("name"),
        text("handle"),
        text("country"),
        text("startAddress"),
        text("endAddress"),
        text("created"),
        text("updated"),
        text("address"),
        Field::new(
            "emails",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            true,
        ),
        text("source"),
    ])
}

/// `nets`: one list of structs per row, null for rows without a result.
fn nets_column(rows: &[Option<&WhoisResult>]) -> (Field, ArrayRef) {
    let all: Vec<&Net> = rows.iter().flatten().flat_map(|r| &r.nets).collect();
    let text = |get: fn(&Net) -> Option<&str>| -> ArrayRef {
        Arc::new(StringArray::from(
            all.iter().map(|n| get(n)).collect::<Vec<_>>(),
        ))
    };
    let mut emails = ListBuilder::new(StringBuilder::new());
    for net in &all {
        for email in &net.emails {
            emails.values().append_value(email);
        }
        emails.append(true);
    }
    let fields = net_fields();
    let values = StructArray::new(
        fields.clone(),
        vec![
            text(|n| Some(n.cidr.as_str())),
            text(|n| Some(n.range.as_str())),
            text(|n| n.name.as_deref()),
            text(|n| n.handle.as_deref()),
            text(|n| n.country.as_deref()),
            text(|n| n.start_address.as_deref()),
            text(|n| n.end_address.as_deref()),
            text(|n| n.created.as_deref()),
            text(|n| n.updated.as_deref()),
            text(|n| n.address.as_deref()),
            Arc::new(emails.finish()),
            text(|n| Some(n.source.as_str())),
        ],
        None,
    );
    let item = Arc::new(Field::new_list_field(DataType::Struct(fields), true));
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(|r| r.map_or(0, |r| r.nets.len())));
    let valid: Vec<bool> = rows.iter().map(Option::is_some).collect();
    let nulls = valid.contains(&false).then(|| NullBuffer::from(valid));
    let list = ListArray::new(item, offsets, Arc::new(values), nulls);
    (
        Field::new("nets", list.data_type().clone(), true),
        Arc::new(list),
    )
}

/// One row per result, with the whois columns.
pub fn whois_batch(results: &[WhoisResult]) -> RecordBatch {
    let rows: Vec<Option<&WhoisResult>> = results.iter().map(Some).collect();
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = whois_columns(&rows).into_iter().unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .expect("the columns are built with their fields and one length")
}

/// `batch` with `AsnDescription` and the whois columns added to each row, found by
/// the (trimmed) address in `column`.
pub fn join_whois(
    batch: &RecordBatch,
    column: &str,
    results: &HashMap<String, WhoisResult>,
) -> Result<RecordBatch, ColumnError> {
    let rows = columns::answers_by_row(batch, column, results)?;
    let mut added = vec![text_column(
        "AsnDescription",
        rows.iter()
            .map(|r| {
                r.and_then(|r| r.asn.as_ref())
                    .map(|a| a.description.as_str())
            })
            .collect(),
    )];
    added.extend(whois_columns(&rows));
    columns::append(batch, added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;

    fn result() -> WhoisResult {
        WhoisResult {
            query: "13.107.4.50".into(),
            asn: Some(AsnInfo {
                asn: "8068".into(),
                cidr: "13.107.4.0/24".into(),
                country_code: "US".into(),
                registry: "arin".into(),
                allocated: "2015-03-26".into(),
                description: "MICROSOFT-CORP-MSN-AS-BLOCK, US".into(),
            }),
            nets: vec![
                Net {
                    cidr: "13.64.0.0/11".into(),
                    name: Some("MSFT".into()),
                    emails: vec!["abuse@microsoft.com".into(), "noc@microsoft.com".into()],
                    ..Net::default()
                },
                Net {
                    cidr: "13.0.0.0/8".into(),
                    ..Net::default()
                },
            ],
            error: None,
        }
    }

    #[test]
    fn nets_are_lists_of_structs() {
        let batch = whois_batch(&[
            result(),
            WhoisResult {
                query: "10.0.0.1".into(),
                error: Some("Private address: not looked up".into()),
                ..WhoisResult::default()
            },
        ]);
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, WHOIS_COLUMNS);
        let nets = batch.column_by_name("nets").unwrap().as_list::<i32>();
        assert_eq!(nets.value_length(0), 2);
        assert_eq!(nets.value_length(1), 0);
        let first = nets.value(0);
        let first = first.as_struct();
        assert_eq!(
            first
                .column_by_name("cidr")
                .unwrap()
                .as_string::<i32>()
                .value(1),
            "13.0.0.0/8"
        );
        let emails = first
            .column_by_name("emails")
            .unwrap()
            .as_list::<i32>()
            .value(0);
        assert_eq!(emails.as_string::<i32>().value(1), "noc@microsoft.com");
        assert_eq!(
            batch
                .column_by_name("whois_error")
                .unwrap()
                .as_string::<i32>()
                .value(1),
            "Private address: not looked up"
        );
    }

    #[test]
    fn joined_rows_get_asn_description() {
        let batch = RecordBatch::try_from_iter([(
            "SourceIP",
            Arc::new(StringArray::from(vec![
                Some("13.107.4.50"),
                Some("1.1.1.1"),
                None,
            ])) as ArrayRef,
        )])
        .unwrap();
        let results = HashMap::from([("13.107.4.50".to_string(), result())]);
        let out = join_whois(&batch, "SourceIP", &results).unwrap();
        assert_eq!(out.num_rows(), 3);
        let description = out
            .column_by_name("AsnDescription")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(description.value(0), "MICROSOFT-CORP-MSN-AS-BLOCK, US");
        assert!(description.is_null(1));
        assert!(out.column_by_name("nets").unwrap().is_null(2));
    }
}
