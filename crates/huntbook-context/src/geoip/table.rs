//! Locations as Arrow columns named as MSTICPy's `GeoLocation` fields.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field};

use super::GeoLocation;
use crate::columns::{self, ColumnError};

/// The columns a location adds, in order.
pub const LOCATION_COLUMNS: [&str; 8] = [
    "CountryCode",
    "CountryOrRegionName",
    "State",
    "City",
    "Longitude",
    "Latitude",
    "Asn",
    "AsnOrg",
];

/// The location columns for a list of (maybe absent) locations.
fn location_columns(rows: &[Option<&GeoLocation>]) -> Vec<(Field, ArrayRef)> {
    let text = |name: &str, get: fn(&GeoLocation) -> Option<&str>| {
        let values: StringArray = rows.iter().map(|r| r.and_then(get)).collect();
        (
            Field::new(name, DataType::Utf8, true),
            Arc::new(values) as ArrayRef,
        )
    };
    let float = |name: &str, get: fn(&GeoLocation) -> Option<f64>| {
        let values: Float64Array = rows.iter().map(|r| r.and_then(get)).collect();
        (
            Field::new(name, DataType::Float64, true),
            Arc::new(values) as ArrayRef,
        )
    };
    let asn: Int64Array = rows
        .iter()
        .map(|r| r.and_then(|l| l.asn).map(i64::from))
        .collect();
    vec![
        text("CountryCode", |l| l.country_code.as_deref()),
        text("CountryOrRegionName", |l| l.country_name.as_deref()),
        text("State", |l| l.state.as_deref()),
        text("City", |l| l.city.as_deref()),
        float("Longitude", |l| l.longitude),
        float("Latitude", |l| l.latitude),
        (
            Field::new("Asn", DataType::Int64, true),
            Arc::new(asn) as ArrayRef,
        ),
        text("AsnOrg", |l| l.asn_org.as_deref()),
    ]
}

/// One row per address: `IpAddress` and the location columns (empty where nothing
/// was found).
pub fn locations_batch(ips: &[String], found: &[Option<GeoLocation>]) -> RecordBatch {
    let rows: Vec<Option<&GeoLocation>> = found.iter().map(Option::as_ref).collect();
    let address: ArrayRef = Arc::new(StringArray::from_iter_values(ips));
    let mut columns = vec![(Field::new("IpAddress", DataType::Utf8, false), address)];
    columns.extend(location_columns(&rows));
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), arrays)
        .expect("the columns are built with their fields and one length")
}

/// `batch` with the location columns added to each row, found by the (trimmed) text
/// of `column`; rows whose address has no location get empty cells.
pub fn join_locations(
    batch: &RecordBatch,
    column: &str,
    found: &HashMap<String, GeoLocation>,
) -> Result<RecordBatch, ColumnError> {
    let rows = columns::answers_by_row(batch, column, found)?;
    columns::append(batch, location_columns(&rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_array::Array;

    #[test]
    fn rows_keep_their_order_and_count() {
        let batch = RecordBatch::try_from_iter([(
            "SourceIP",
            Arc::new(StringArray::from(vec![
                Some("81.2.69.160"),
                None,
                Some("10.0.0.1"),
                Some(" 81.2.69.160"),
            ])) as ArrayRef,
        )])
        .unwrap();
        let london = GeoLocation {
            ip: "81.2.69.160".into(),
            country_code: Some("GB".into()),
            city: Some("London".into()),
            latitude: Some(51.5142),
            asn: Some(20712),
            ..GeoLocation::default()
        };
        let found = HashMap::from([("81.2.69.160".to_string(), london)]);
        let out = join_locations(&batch, "SourceIP", &found).unwrap();
        assert_eq!(out.num_rows(), 4);
        assert_eq!(out.num_columns(), 1 + LOCATION_COLUMNS.len());
        let city = out.column_by_name("City").unwrap().as_string::<i32>();
        assert_eq!(
            city.iter().collect::<Vec<_>>(),
            [Some("London"), None, None, Some("London")]
        );
        let lat = out
            .column_by_name("Latitude")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(lat.value(0), 51.5142);
        let asn = out
            .column_by_name("Asn")
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(asn.value(3), 20712);
        assert!(asn.is_null(1));
    }

    #[test]
    fn a_batch_of_addresses() {
        let ips = vec!["1.1.1.1".to_string(), "10.0.0.1".to_string()];
        let found = vec![None, Some(GeoLocation::placeholder("10.0.0.1", "Private"))];
        let batch = locations_batch(&ips, &found);
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names[0], "IpAddress");
        assert_eq!(&names[1..], LOCATION_COLUMNS);
        let country = batch.column(2).as_string::<i32>();
        assert!(country.is_null(0));
        assert_eq!(country.value(1), "Private address");
    }
}
