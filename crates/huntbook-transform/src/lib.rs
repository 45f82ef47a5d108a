//! Security transforms on tables (being written): IoC extraction, base64/archive
//! unpacking, process trees, auditd parsing, command-line rules and masking, with
//! MSTICPy's column names and rules.

pub mod auditd;
pub mod cmdline;
pub mod ioc;
pub mod mask;
pub mod proctree;
pub mod unpack;
