//! Notebook parameters with papermill's semantics.
//!
//! A [`Parameters`] list is built from the command line (`-p`, `-r`, `-f`, `-y`, `-b`)
//! or from Python, merged in papermill's order, rendered as literal source code for the
//! kernel's language, and stored as JSON in `metadata.papermill.parameters`.
//!
//! - [`yaml`] reads parameter files and strings with papermill's YAML 1.1 rules
//!   (PyYAML's safe loader without timestamps), JSON included.
//! - [`resolve`] types `-p NAME VALUE` values as papermill's CLI does and merges every
//!   source in papermill's order ([`ParameterSources`]).
//! - [`translate`] renders the injected cell for each kernel language ([`Translator`]).
//! - [`inspect`] infers the parameters a notebook declares in its `parameters` cell.
//!
//! ```
//! use huntbook_notebook::params::{ParameterSources, Translator};
//!
//! let params = ParameterSources::new()
//!     .yaml("hosts: [web01, db02]\nlimit: 010")
//!     .value("since", "7")
//!     .resolve()
//!     .unwrap();
//! let cell = Translator::find(Some("python3"), Some("python")).unwrap().render(&params);
//! assert_eq!(cell, "# Parameters\nhosts = [\"web01\", \"db02\"]\nlimit = 8\nsince = 7\n");
//! ```

mod numtext;
mod value;

pub mod inspect;
pub mod resolve;
pub mod translate;
pub mod yaml;

pub use inspect::{format_help_no_parameters_cell, format_help_notebook, inspect, unknown_names, DeclaredParameter};
pub use resolve::{resolve_cli_value, ParameterSources};
pub use translate::Translator;
pub use value::{py_float_repr, ParamValue, Parameters};
pub use yaml::parse_yaml;

/// Why parameters could not be read, rendered or inferred.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// A YAML (or JSON) parameter document is malformed or holds something papermill's
    /// loader rejects. `line` and `column` are 1-based.
    #[error("{origin}: line {line}, column {column}: {message}")]
    Yaml { origin: String, line: usize, column: usize, message: String },
    /// A command-line parameter source could not be used (bad base64, unreadable file).
    #[error("{option} {value}: {message}")]
    Source { option: String, value: String, message: String },
    /// No translator is registered for the kernel or the language.
    #[error(
        "no parameter translator for kernel '{}' or language '{}': set the notebook's \
         kernelspec/language_info, or pass a known language (python, R, julia, scala, \
         matlab, bash, .net-csharp, .net-fsharp, .net-powershell)",
        kernel.as_deref().unwrap_or("None"),
        language.as_deref().unwrap_or("None")
    )]
    NoTranslator { kernel: Option<String>, language: Option<String> },
    /// The notebook has no cell tagged `parameters`, so nothing can be inferred.
    #[error("no cell tagged 'parameters': tag the cell that holds the defaults with `parameters`")]
    NoParametersCell,
    /// Parameter inference exists only for Python notebooks (as in papermill).
    #[error("cannot infer parameters of a '{language}' notebook: only Python parameter cells can be inspected")]
    InspectUnsupported { language: String },
}
