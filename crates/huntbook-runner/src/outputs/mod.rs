//! What happens to a run's output notebook once the notebook has run: it is named
//! ([`naming`]), put in report mode when asked (code inputs hidden, as papermill's
//! report mode hides them), stored with an HTML copy when the rules want one
//! ([`settings`]), in a folder or an object store ([`storage`]), and its location
//! recorded on the run; the run's finding, if it reported one, is stored and sent to
//! the incident sinks. [`Publisher`] does all of it as the worker's after-run step.
//! [`retention`] deletes outputs past their age.

mod cloud;
pub mod naming;
mod publish;
pub mod retention;
pub mod settings;
pub mod storage;
#[cfg(test)]
mod tests;

pub use publish::{Published, Publisher, SetupError};
pub use settings::{HtmlMode, Location, NotebookOutputs, OutputSettings, DEFAULT_PATH};
pub use storage::{OutputStore, StoredObject};

use crate::error::StoreError;

/// Why a run's outputs could not be named, read or stored.
#[derive(Debug, thiserror::Error)]
pub enum OutputsError {
    #[error("{0}")]
    Template(String),
    #[error(
        "output path {path:?} would leave the output root ({reason}): fix Service.outputs.path"
    )]
    OutsideRoot { path: String, reason: String },
    #[error("output storage {location}: {message}")]
    Storage { location: String, message: String },
    #[error("the run's output notebook {path} cannot be read: {message}")]
    Read { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}
