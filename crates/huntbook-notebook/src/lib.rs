//! The `.ipynb` side of huntbook: pure, no kernel, no async.
//!
//! Everything a notebook run does to the notebook file lives here, so it can be tested
//! without a kernel and reused by the CLI, the Python package and the service:
//!
//! * [`model::Notebook`] mirrors nbformat 4.5 (unknown fields kept); [`io`] reads
//!   4.0–4.5 files, upgrading them, and writes them atomically in the exact layout of
//!   Python's nbformat.
//! * [`params`] holds papermill's parameter semantics: the value model, YAML 1.1
//!   parsing, `-p` typing and merge order, per-language rendering, and inference of
//!   the parameters a notebook declares.
//! * [`execution`] is the record a run leaves: the injected cell, `metadata.papermill`,
//!   per-cell statuses and timings, and papermill's error markers.
//!   [`outputs::OutputCollector`] applies kernel output to cells (display updates,
//!   `clear_output`, a per-cell size cap).
//! * [`path_template`] fills output paths such as `out/{date}/{ip}_{run_id}.ipynb`.
//! * [`scraps`] reads and writes scrapbook-compatible scraps; [`export`] renders a
//!   notebook as one self-contained HTML page.
//!
//! A run, minus the kernel (which `huntbook-kernel` adds between start and complete):
//!
//! ```
//! use huntbook_notebook::{execution, io, params::{ParamValue, Parameters, translate::Translator}, Cell, Notebook};
//!
//! let mut nb = Notebook::new();
//! let mut defaults = Cell::code("ip = \"10.0.0.1\"");
//! defaults.set_tags(&["parameters"]);
//! nb.cells = vec![defaults, Cell::code("print(ip)")];
//!
//! let mut params = Parameters::new();
//! params.set("ip", ParamValue::Str("1.2.3.4".into()));
//! let source = Translator::find(None, Some("python")).unwrap().render(&params);
//! execution::inject_parameters(&mut nb, source, false);
//! execution::prepare(&mut nb, &execution::Prepare { input_path: "in.ipynb", output_path: "out.ipynb",
//!     parameters: Some(&params), ..Default::default() });
//!
//! assert_eq!(nb.cells[1].source, "# Parameters\nip = \"1.2.3.4\"\n");
//! assert_eq!(nb.metadata["papermill"]["parameters"]["ip"], "1.2.3.4");
//! let text = io::to_string(&nb);
//! assert_eq!(io::parse(&text, "out.ipynb").unwrap().cells.len(), 3);
//! ```

pub mod execution;
pub mod export;
pub mod io;
pub mod model;
pub mod outputs;
pub mod params;
pub mod path_template;
pub mod scraps;
pub mod secrets;

pub use io::NotebookError;
pub use model::{Cell, CellType, JsonMap, Notebook, Output};
