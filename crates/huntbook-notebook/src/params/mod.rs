//! Notebook parameters with papermill's semantics.
//!
//! A [`Parameters`] list is built from the command line (`-p`, `-r`, `-f`, `-y`, `-b`)
//! or from Python, merged in papermill's order, rendered as literal source code for the
//! kernel's language, and stored as JSON in `metadata.papermill.parameters`.

mod value;

pub use value::{ParamValue, Parameters};
pub mod inspect;
pub mod resolve;
pub mod translate;
pub mod yaml;
