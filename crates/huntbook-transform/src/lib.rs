//! Security transforms on tables: IoC extraction, base64/archive
//! unpacking, process trees, auditd parsing, command-line rules and masking, with
//! MSTICPy's column names and rules.

pub mod auditd;
pub mod cmdline;
pub mod ioc;
pub mod mask;
pub mod proctree;
pub mod unpack;

/// A table's column names, for errors that name a missing column ("the columns are: …").
pub(crate) fn column_list(schema: &arrow_schema::Schema) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.join(", ")
}
