//! Masking tables for sharing: consistent keyed pseudonyms per column.
//!
//! Each column gets a [`MaskType`] from a column map: the shipped default
//! (`rules/mask_columns.json`, the column names MSTICPy's `mask_df` knows, such as
//! `Account`, `IpAddress`, `TenantId`, `SubjectUserSid`) plus the caller's entries, which
//! win. Columns not in the map pass through untouched, as in MSTICPy. Values are
//! masked row by row in parallel by a [`Masker`] keyed with the caller's secret: the
//! same input gives the same output for one key, a different key gives different
//! outputs, and nothing can be recomputed without the key.
//!
//! Data flow: `RecordBatch` in → per mapped column, the string (or integer) values are
//! masked → a `RecordBatch` with the same schema out. Strings may be `Utf8`,
//! `LargeUtf8` or `Utf8View`, or lists of those (masked element by element); integer
//! columns of type `str` keep their type with the same number of digits; nulls stay
//! null.
//!
//! Deliberate differences from MSTICPy (`data/data_obfus.py`):
//! - Keyed HMAC-SHA256 instead of plain SHA-256 (which anyone can recompute for a guessed
//!   value), and random-per-process maps (IPv4 octets, GUIDs) replaced by keyed ones, so
//!   results are the same across runs and machines for one key.
//! - `str`: the output keeps the length in characters for any length (MSTICPy cuts
//!   strings of 65–127 characters to 64), digits stay digits and upper case stays upper
//!   case in every string (MSTICPy keeps digits only in all-digit strings); case
//!   variants of one value share their letters.
//! - `ip`: the class-B private range is 172.16.0.0/12. MSTICPy tests the first octet
//!   against 17, so it keeps `17.16.x.x`–`17.31.x.x` (public addresses) and remaps
//!   172.16/12 completely. We also keep 127/8, 169.254/16, 100.64/10 and multicast
//!   prefixes, keep public addresses public, keep subnets together (each octet's
//!   permutation depends on the octets before it), and parse IPv6 properly (link-local,
//!   unique-local, multicast, documentation prefixes and IPv4-mapped addresses keep
//!   their prefix).
//! - `sid`: domain SIDs without a RID are masked too, sub-authorities stay valid 32-bit
//!   numbers, and text that is not a SID is masked (MSTICPy returns it unchanged).
//! - `acct`: `DOMAIN\user` is understood (MSTICPy only knows `domain/user`), several
//!   `@` split at the last one (MSTICPy raises), user numbers come from a 10⁹ space
//!   (MSTICPy's sum-of-bytes number collides after a few hundred accounts), user names
//!   are compared case-insensitively, machine accounts keep their `$`.
//! - delimiter types: tokens are masked independently; MSTICPy's string replacement
//!   can rewrite parts of other tokens (`com` inside `contoso.com`).
//! - `null` empties the column; MSTICPy's `null` leaves the output unchanged.
//! - `dict`/`list` take JSON text (or Arrow lists); integers inside are masked as
//!   numbers instead of becoming strings.

mod pseudo;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    new_null_array, Array, ArrayRef, GenericListArray, GenericStringArray, OffsetSizeTrait,
    PrimitiveArray, RecordBatch, StringViewArray,
};
use arrow_schema::{ArrowError, DataType};
use rayon::prelude::*;

pub use pseudo::Masker;

/// How the values of one column are masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskType {
    /// Same-length pseudonym string (`str`).
    Str,
    /// IPv4/IPv6 address keeping private and well-known prefixes (`ip`).
    Ip,
    /// GUID replaced by a derived version-4 GUID (`uuid`).
    Uuid,
    /// Windows SID keeping the well-known prefix and the RID (`sid`).
    Sid,
    /// Account name: user replaced by `account-#N`, domain labels masked (`acct`).
    Acct,
    /// JSON object text: every string and integer inside masked (`dict`).
    Dict,
    /// JSON array text or Arrow list: every element masked (`list`).
    List,
    /// Column emptied: every value null (`null`).
    Null,
    /// Column left as it is (`keep`), to take a column out of the default map.
    Keep,
    /// Tokens between these delimiter characters masked, delimiters kept (any other
    /// text in a column map, such as `'@./:'`).
    Delimited(String),
}

impl MaskType {
    /// Reads the type names used in MSTICPy's column maps: `str`, `ip`, `uuid`, `sid`,
    /// `acct`, `dict`, `list`, `null`, plus `keep`; any other non-empty text is a set of
    /// delimiter characters.
    pub fn parse(text: &str) -> Result<MaskType, MaskError> {
        Ok(match text {
            "str" => MaskType::Str,
            "ip" => MaskType::Ip,
            "uuid" => MaskType::Uuid,
            "sid" => MaskType::Sid,
            "acct" => MaskType::Acct,
            "dict" => MaskType::Dict,
            "list" => MaskType::List,
            "null" => MaskType::Null,
            "keep" => MaskType::Keep,
            "" => return Err(MaskError::EmptyType),
            delims => MaskType::Delimited(delims.to_string()),
        })
    }

    /// The name used in column maps (the inverse of [`MaskType::parse`]).
    pub fn name(&self) -> &str {
        match self {
            MaskType::Str => "str",
            MaskType::Ip => "ip",
            MaskType::Uuid => "uuid",
            MaskType::Sid => "sid",
            MaskType::Acct => "acct",
            MaskType::Dict => "dict",
            MaskType::List => "list",
            MaskType::Null => "null",
            MaskType::Keep => "keep",
            MaskType::Delimited(d) => d,
        }
    }
}

/// Errors from masking.
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    #[error("empty masking type in the column map: use str, ip, uuid, sid, acct, dict, list, null, keep or a set of delimiter characters")]
    EmptyType,
    #[error("column '{column}' has type {data_type}, which cannot be masked as '{mask_type}'; cast it to a string column or map it to 'keep' or 'null'")]
    UnsupportedColumn {
        column: String,
        data_type: DataType,
        mask_type: String,
    },
    #[error(
        "the masking key is empty: give a secret key (the same key gives the same pseudonyms)"
    )]
    EmptyKey,
    #[error("column map {source_name} is not valid: {message}")]
    BadColumnMap {
        source_name: String,
        message: String,
    },
    #[error("column '{column}' is in the column map but not in the table; the columns are: {available}. Fix the name or leave it out (a typo would leave data unmasked)")]
    UnknownColumn { column: String, available: String },
    #[error("building the masked table failed: {0}")]
    Arrow(#[from] ArrowError),
}

/// What to mask and with which key.
#[derive(Clone, Debug)]
pub struct MaskOptions {
    /// The secret key for the pseudonyms. Keep it to mask more data consistently later.
    pub key: Vec<u8>,
    /// Column name → type; these win over the default map.
    pub columns: HashMap<String, MaskType>,
    /// Start from the shipped default map (MSTICPy's column names).
    pub use_default: bool,
}

impl MaskOptions {
    /// Default map on, no extra columns.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        MaskOptions {
            key: key.into(),
            columns: HashMap::new(),
            use_default: true,
        }
    }

    /// Adds or overrides one column's type.
    pub fn column(mut self, name: impl Into<String>, mask_type: MaskType) -> Self {
        self.columns.insert(name.into(), mask_type);
        self
    }

    /// The effective map: defaults (if enabled) overridden by the caller's columns.
    pub fn effective_map(&self) -> HashMap<String, MaskType> {
        let mut map = if self.use_default {
            default_column_map().clone()
        } else {
            HashMap::new()
        };
        map.extend(self.columns.iter().map(|(k, v)| (k.clone(), v.clone())));
        map
    }
}

const DEFAULT_MAP_JSON: &str = include_str!("../../rules/mask_columns.json");

/// The shipped column → type map (`rules/mask_columns.json`).
pub fn default_column_map() -> &'static HashMap<String, MaskType> {
    static MAP: OnceLock<HashMap<String, MaskType>> = OnceLock::new();
    MAP.get_or_init(|| {
        parse_column_map(DEFAULT_MAP_JSON, "rules/mask_columns.json")
            .expect("the shipped column map is valid")
    })
}

/// Reads a column map in the shipped file's layout: `{"<type>": [columns…],
/// "delimited": {"<delimiters>": [columns…]}}`, or a flat `{"<column>": "<type>"}`
/// object (MSTICPy's sections flattened). Keys starting with `_` are comments.
pub fn parse_column_map(
    json: &str,
    source_name: &str,
) -> Result<HashMap<String, MaskType>, MaskError> {
    let bad = |message: String| MaskError::BadColumnMap {
        source_name: source_name.to_string(),
        message,
    };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("expected a JSON object at the top".into()))?;
    let mut map = HashMap::new();
    for (key, val) in obj {
        if key.starts_with('_') {
            continue;
        }
        match val {
            serde_json::Value::String(t) => {
                map.insert(
                    key.clone(),
                    MaskType::parse(t).map_err(|e| bad(format!("column '{key}': {e}")))?,
                );
            }
            serde_json::Value::Array(cols) if key != "delimited" => {
                let t = MaskType::parse(key).map_err(|e| bad(e.to_string()))?;
                for c in cols {
                    let c = c
                        .as_str()
                        .ok_or_else(|| bad(format!("'{key}' must list column names as strings")))?;
                    map.insert(c.to_string(), t.clone());
                }
            }
            serde_json::Value::Object(groups) if key == "delimited" => {
                for (delims, cols) in groups {
                    let t = MaskType::parse(delims).map_err(|e| bad(e.to_string()))?;
                    let cols = cols
                        .as_array()
                        .ok_or_else(|| bad(format!("delimited '{delims}' must be a list")))?;
                    for c in cols {
                        let c = c.as_str().ok_or_else(|| {
                            bad(format!("delimited '{delims}' must list strings"))
                        })?;
                        map.insert(c.to_string(), t.clone());
                    }
                }
            }
            _ => return Err(bad(format!("unexpected value for '{key}'"))),
        }
    }
    Ok(map)
}

impl Masker {
    /// Masks one string value as `mask_type` says. `Null` and `Keep` are column-level
    /// choices and return the input unchanged here.
    pub fn value(&self, value: &str, mask_type: &MaskType) -> String {
        match mask_type {
            MaskType::Str => self.string(value),
            MaskType::Ip => self.ip(value),
            MaskType::Uuid => self.guid(value),
            MaskType::Sid => self.sid(value),
            MaskType::Acct => self.account(value),
            MaskType::Dict | MaskType::List => self.json(value),
            MaskType::Delimited(d) => self.delimited(value, d),
            MaskType::Null | MaskType::Keep => value.to_string(),
        }
    }
}

/// Masks the mapped columns of `batch`; the schema is unchanged.
pub fn mask(batch: &RecordBatch, options: &MaskOptions) -> Result<RecordBatch, MaskError> {
    if options.key.is_empty() {
        return Err(MaskError::EmptyKey);
    }
    let schema = batch.schema();
    // The shipped map names many columns a table lacks; a column the caller names
    // must be there.
    let mut asked: Vec<&String> = options.columns.keys().collect();
    asked.sort();
    if let Some(column) = asked.into_iter().find(|c| schema.index_of(c).is_err()) {
        return Err(MaskError::UnknownColumn {
            column: column.clone(),
            available: crate::column_list(&schema),
        });
    }
    let masker = Masker::new(&options.key);
    let map = options.effective_map();
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        let Some(mask_type) = map.get(field.name()) else {
            columns.push(array.clone());
            continue;
        };
        let from_caller = options.columns.contains_key(field.name());
        match mask_column(array, mask_type, &masker)? {
            Some(masked) => columns.push(masked),
            // Default-map columns of other types (numbers, dates) cannot hold the names
            // and addresses the map is about, so they pass through; a caller asking for
            // one explicitly gets an error instead of silently unmasked data.
            None if from_caller => {
                return Err(MaskError::UnsupportedColumn {
                    column: field.name().clone(),
                    data_type: field.data_type().clone(),
                    mask_type: mask_type.name().to_string(),
                })
            }
            None => columns.push(array.clone()),
        }
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// `None` when the column's data type cannot be masked as `mask_type`.
fn mask_column(
    array: &ArrayRef,
    mask_type: &MaskType,
    masker: &Masker,
) -> Result<Option<ArrayRef>, MaskError> {
    match mask_type {
        MaskType::Keep => return Ok(Some(array.clone())),
        MaskType::Null => return Ok(Some(new_null_array(array.data_type(), array.len()))),
        _ => {}
    }
    let elem_type = match mask_type {
        // Elements of a list column are plain values: mask them as strings.
        MaskType::List | MaskType::Dict => MaskType::Str,
        t => t.clone(),
    };
    Ok(match array.data_type() {
        DataType::Utf8 => Some(Arc::new(mask_strings(
            array.as_string::<i32>(),
            mask_type,
            masker,
        ))),
        DataType::LargeUtf8 => Some(Arc::new(mask_strings(
            array.as_string::<i64>(),
            mask_type,
            masker,
        ))),
        DataType::Utf8View => {
            let view = array.as_string_view();
            let out: Vec<Option<String>> = (0..view.len())
                .into_par_iter()
                .map(|i| {
                    view.is_valid(i)
                        .then(|| masker.value(view.value(i), mask_type))
                })
                .collect();
            Some(Arc::new(StringViewArray::from_iter(out)))
        }
        DataType::List(_) => mask_list(array.as_list::<i32>(), &elem_type, masker)?,
        DataType::LargeList(_) => mask_list(array.as_list::<i64>(), &elem_type, masker)?,
        DataType::Int8 if mask_type == &MaskType::Str => Some(mask_ints::<Int8Type>(array, masker)),
        DataType::Int16 if mask_type == &MaskType::Str => {
            Some(mask_ints::<Int16Type>(array, masker))
        }
        DataType::Int32 if mask_type == &MaskType::Str => {
            Some(mask_ints::<Int32Type>(array, masker))
        }
        DataType::Int64 if mask_type == &MaskType::Str => {
            Some(mask_ints::<Int64Type>(array, masker))
        }
        DataType::UInt8 if mask_type == &MaskType::Str => {
            Some(mask_ints::<UInt8Type>(array, masker))
        }
        DataType::UInt16 if mask_type == &MaskType::Str => {
            Some(mask_ints::<UInt16Type>(array, masker))
        }
        DataType::UInt32 if mask_type == &MaskType::Str => {
            Some(mask_ints::<UInt32Type>(array, masker))
        }
        DataType::UInt64 if mask_type == &MaskType::Str => {
            Some(mask_ints::<UInt64Type>(array, masker))
        }
        _ => None,
    })
}

fn mask_strings<O: OffsetSizeTrait>(
    array: &GenericStringArray<O>,
    mask_type: &MaskType,
    masker: &Masker,
) -> GenericStringArray<O> {
    let out: Vec<Option<String>> = (0..array.len())
        .into_par_iter()
        .map(|i| {
            array
                .is_valid(i)
                .then(|| masker.value(array.value(i), mask_type))
        })
        .collect();
    GenericStringArray::<O>::from_iter(out)
}

fn mask_list<O: OffsetSizeTrait>(
    list: &GenericListArray<O>,
    elem_type: &MaskType,
    masker: &Masker,
) -> Result<Option<ArrayRef>, MaskError> {
    let (DataType::List(field) | DataType::LargeList(field)) = list.data_type() else {
        return Ok(None);
    };
    let Some(values) = mask_column(list.values(), elem_type, masker)? else {
        return Ok(None);
    };
    let rebuilt = GenericListArray::<O>::try_new(
        field.clone(),
        list.offsets().clone(),
        values,
        list.nulls().cloned(),
    )?;
    Ok(Some(Arc::new(rebuilt)))
}

fn mask_ints<T>(array: &ArrayRef, masker: &Masker) -> ArrayRef
where
    T: arrow_array::ArrowPrimitiveType,
    T::Native: Into<i128> + TryFrom<i128> + num_bounds::Bounded,
{
    let ints = array.as_primitive::<T>();
    let min: i128 = <T::Native as num_bounds::Bounded>::min_value().into();
    let max: i128 = <T::Native as num_bounds::Bounded>::max_value().into();
    let out: Vec<Option<T::Native>> = (0..ints.len())
        .into_par_iter()
        .map(|i| {
            ints.is_valid(i).then(|| {
                let v: i128 = ints.value(i).into();
                T::Native::try_from(masker.integer(v, min, max)).unwrap_or_else(|_| ints.value(i))
            })
        })
        .collect();
    Arc::new(PrimitiveArray::<T>::from_iter(out).with_data_type(array.data_type().clone()))
}

/// Bounds of the integer types masked in place (kept local to avoid a dependency).
mod num_bounds {
    pub trait Bounded: Sized {
        fn min_value() -> Self;
        fn max_value() -> Self;
    }
    macro_rules! bounded {
        ($($t:ty),*) => {$(
            impl Bounded for $t {
                fn min_value() -> Self { <$t>::MIN }
                fn max_value() -> Self { <$t>::MAX }
            }
        )*};
    }
    bounded!(i8, i16, i32, i64, u8, u16, u32, u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, LargeStringArray, StringArray};
    use arrow_schema::{Field, Schema};
    use proptest::prelude::*;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("Account", DataType::Utf8, true),
            Field::new("IpAddress", DataType::LargeUtf8, true),
            Field::new("TenantId", DataType::Utf8, true),
            Field::new("Computer", DataType::Utf8, true),
            Field::new("EventID", DataType::Int64, true),
            Field::new("Untouched", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    Some("CONTOSO\\alice"),
                    None,
                    Some("CONTOSO\\alice"),
                ])),
                Arc::new(LargeStringArray::from(vec![
                    Some("10.0.0.5"),
                    Some("8.8.8.8"),
                    None,
                ])),
                Arc::new(StringArray::from(vec![
                    Some(
                        "52b1ab41-869e-4138-9e40-2a4457f09bf0"
                    );
                    3
                ])),
                Arc::new(StringArray::from(vec![
                    Some("web01.contoso.com"),
                    Some(""),
                    None,
                ])),
                Arc::new(Int64Array::from(vec![4688, 4624, 1])),
                Arc::new(StringArray::from(vec![Some("keep me"); 3])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn default_map_loads_msticpy_columns() {
        let map = default_column_map();
        assert_eq!(map.get("Account"), Some(&MaskType::Acct));
        assert_eq!(map.get("IpAddress"), Some(&MaskType::Ip));
        assert_eq!(map.get("TenantId"), Some(&MaskType::Uuid));
        assert_eq!(map.get("SubjectUserSid"), Some(&MaskType::Sid));
        assert_eq!(
            map.get("Computer"),
            Some(&MaskType::Delimited("@./:.".into()))
        );
        assert_eq!(
            map.get("LogonUserDisplayName"),
            Some(&MaskType::Delimited(" ".into()))
        );
        assert_eq!(map.len(), 72);
    }

    #[test]
    fn masks_mapped_columns_only() {
        let out = mask(&batch(), &MaskOptions::new("k1")).unwrap();
        assert_eq!(out.schema(), batch().schema());
        let acct = out.column(0).as_string::<i32>();
        assert!(acct.value(0).contains("\\account-#"));
        assert_eq!(acct.value(0), acct.value(2), "same input, same output");
        assert!(acct.is_null(1));
        let ip = out.column(1).as_string::<i64>();
        assert!(ip.value(0).starts_with("10."));
        assert_ne!(ip.value(1), "8.8.8.8");
        assert!(ip.is_null(2));
        let tenant = out.column(2).as_string::<i32>();
        assert_ne!(tenant.value(0), "52b1ab41-869e-4138-9e40-2a4457f09bf0");
        let comp = out.column(3).as_string::<i32>();
        assert_eq!(comp.value(0).len(), "web01.contoso.com".len());
        assert_eq!(comp.value(1), "");
        // EventID is not in the map; Untouched neither.
        assert_eq!(out.column(4), batch().column(4));
        assert_eq!(out.column(5), batch().column(5));
    }

    #[test]
    fn a_caller_column_missing_from_the_table_is_an_error() {
        let opts = MaskOptions::new("k1").column("Acount", MaskType::Acct);
        let err = mask(&batch(), &opts).unwrap_err().to_string();
        assert!(
            err.contains("'Acount'") && err.contains("Account, IpAddress"),
            "{err}"
        );
    }

    #[test]
    fn caller_map_overrides_and_extends() {
        let opts = MaskOptions::new("k1")
            .column("Untouched", MaskType::Str)
            .column("Account", MaskType::Keep)
            .column("EventID", MaskType::Str)
            .column("Computer", MaskType::Null);
        let out = mask(&batch(), &opts).unwrap();
        assert_eq!(out.column(0), batch().column(0));
        assert_eq!(out.column(5).as_string::<i32>().value(0).len(), 7);
        let ids = out.column(4).as_primitive::<Int64Type>();
        assert_eq!(ids.value(0).to_string().len(), 4);
        assert_eq!(out.column(3).null_count(), 3);
    }

    #[test]
    fn unsupported_types_are_reported_for_caller_columns() {
        let opts = MaskOptions::new("k1").column("EventID", MaskType::Ip);
        let err = mask(&batch(), &opts).unwrap_err();
        assert!(err.to_string().contains("EventID"), "{err}");
        assert!(matches!(
            mask(&batch(), &MaskOptions::new("")),
            Err(MaskError::EmptyKey)
        ));
    }

    #[test]
    fn list_columns_are_masked_elementwise() {
        let mut b =
            arrow_array::builder::ListBuilder::new(arrow_array::builder::StringBuilder::new());
        b.values().append_value("10.1.1.1");
        b.values().append_value("8.8.4.4");
        b.append(true);
        b.append(false);
        let arr: ArrayRef = Arc::new(b.finish());
        let schema = Arc::new(Schema::new(vec![Field::new(
            "Addrs",
            arr.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![arr]).unwrap();
        let out = mask(&batch, &MaskOptions::new("k").column("Addrs", MaskType::Ip)).unwrap();
        let list = out.column(0).as_list::<i32>();
        let first = list.value(0);
        let first = first.as_string::<i32>();
        assert!(first.value(0).starts_with("10."));
        assert_ne!(first.value(1), "8.8.4.4");
        assert!(list.is_null(1));
    }

    #[test]
    fn column_map_files() {
        let flat = parse_column_map(r#"{"A": "ip", "B": "@."}"#, "x").unwrap();
        assert_eq!(flat["B"], MaskType::Delimited("@.".into()));
        let err = parse_column_map(r#"{"A": ""}"#, "my.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("my.json") && err.contains("'A'"), "{err}");
    }

    proptest! {
        #[test]
        fn strings_deterministic_and_same_shape(s in "\\PC{0,80}") {
            let a = Masker::new(b"key-a");
            let out = a.string(&s);
            prop_assert_eq!(&out, &Masker::new(b"key-a").string(&s));
            prop_assert_eq!(out.chars().count(), s.chars().count());
            for (o, i) in out.chars().zip(s.chars()) {
                prop_assert_eq!(o.is_ascii_digit(), i.is_ascii_digit());
            }
        }

        #[test]
        fn ipv4_is_an_address_and_keeps_private_prefixes(o in any::<[u8; 4]>()) {
            let m = Masker::new(b"key");
            let addr = std::net::Ipv4Addr::from(o);
            let out: std::net::Ipv4Addr = m.ip(&addr.to_string()).parse().unwrap();
            prop_assert_eq!(out, m.ipv4(addr));
            match o {
                [10, ..] => prop_assert_eq!(out.octets()[0], 10),
                [192, 168, ..] | [172, 16..=31, ..] => prop_assert_eq!(&out.octets()[..2], &o[..2]),
                _ => {}
            }
        }

        #[test]
        fn ipv6_is_an_address(s in any::<[u16; 8]>()) {
            let m = Masker::new(b"key");
            let addr = std::net::Ipv6Addr::from(s);
            let out = m.ip(&addr.to_string());
            prop_assert!(out.parse::<std::net::Ipv6Addr>().is_ok(), "{}", out);
        }

        #[test]
        fn guids_stay_guids(b in any::<[u8; 16]>()) {
            let m = Masker::new(b"key");
            let g = format!("{}-{}-{}-{}-{}", hex::encode(&b[..4]), hex::encode(&b[4..6]), hex::encode(&b[6..8]), hex::encode(&b[8..10]), hex::encode(&b[10..]));
            let out = m.guid(&g);
            prop_assert_eq!(out.len(), 36);
            prop_assert_eq!(out.matches('-').count(), 4);
            prop_assert_eq!(out, m.guid(&g.to_uppercase()).to_lowercase());
        }

        #[test]
        fn sids_keep_prefix_and_rid(a in any::<u32>(), b in any::<u32>(), c in any::<u32>(), rid in 500u32..100000) {
            let m = Masker::new(b"key");
            let sid = format!("S-1-5-21-{a}-{b}-{c}-{rid}");
            let out = m.sid(&sid);
            let parts: Vec<&str> = out.split('-').collect();
            prop_assert_eq!(parts.len(), 8);
            prop_assert!(out.starts_with("S-1-5-21-"));
            let rid_suffix = format!("-{rid}");
            prop_assert!(out.ends_with(&rid_suffix));
            for p in &parts[4..7] { prop_assert!(p.parse::<u32>().is_ok()); }
        }

        #[test]
        fn accounts_never_panic_and_are_stable(s in "\\PC{0,40}") {
            let m = Masker::new(b"key");
            prop_assert_eq!(m.account(&s), m.account(&s));
            prop_assert_eq!(m.sid(&s), m.sid(&s));
            prop_assert_eq!(m.guid(&s), m.guid(&s));
            prop_assert_eq!(m.json(&s), m.json(&s));
        }
    }
}
