//! The `.ipynb` side of huntbook: pure, no kernel, no async.
//!
//! [`model::Notebook`] mirrors nbformat 4.5; [`io`] reads 4.0–4.5 files (upgrading
//! them) and writes them atomically in the exact layout Python's nbformat uses.
//! [`params`] holds papermill's parameter semantics: values, YAML 1.1 parsing, the
//! per-language translators and inference of a notebook's declared parameters.

pub mod execution;
pub mod export;
pub mod io;
pub mod model;
pub mod outputs;
pub mod params;
pub mod path_template;
pub mod scraps;

pub use io::NotebookError;
pub use model::{Cell, CellType, JsonMap, Notebook, Output};
