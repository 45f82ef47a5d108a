//! The one error type of the job store, [`StoreError`].
//!
//! The HTTP API maps these to status codes ([`StoreError::QueueFull`] to 429, the
//! `*NotFound` variants to 404, [`StoreError::InvalidJob`] to 400), so each variant
//! carries what a client needs to understand the refusal.

use uuid::Uuid;

use crate::model::State;

/// Everything that can go wrong in a job store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The queue already holds its maximum of queued jobs; try again later.
    #[error("the job queue is full ({capacity} jobs queued): try again later")]
    QueueFull {
        /// The configured capacity.
        capacity: u32,
    },

    /// A job request that cannot be stored as it is.
    #[error("invalid job: {0}")]
    InvalidJob(String),

    /// No job with this id.
    #[error("no job with id {0}")]
    JobNotFound(Uuid),

    /// No run with this id.
    #[error("no run with id {0}")]
    RunNotFound(Uuid),

    /// No API token with this id.
    #[error("no API token with id {0} (`huntbook token list` shows them)")]
    TokenNotFound(Uuid),

    /// The run is no longer running (it finished, or its lease ran out and it was
    /// reaped), so its worker must stop working on it.
    #[error("run {run} is {state}, no longer running: its worker must stop")]
    RunNotActive {
        /// The run.
        run: Uuid,
        /// Its current state.
        state: State,
    },

    /// No finding, incident or delivery with this id.
    #[error("no {what} with id {id}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id or number.
        id: String,
    },

    /// Only a dead letter can be sent again.
    #[error("delivery {id} is {state}: only a dead letter can be delivered again")]
    NotADeadLetter {
        /// The delivery.
        id: Uuid,
        /// Its state.
        state: &'static str,
    },

    /// The store location could not be understood.
    #[error(
        "cannot understand the job store location '{0}': use sqlite:PATH or \
         postgresql://USER@HOST/DATABASE (postgresql:///DATABASE?host=/socket/dir for a unix socket)"
    )]
    BadLocation(String),

    /// The database was written by a newer huntbook.
    #[error(
        "the job store's schema is version {found}, newer than this huntbook understands \
         ({supported}): upgrade huntbook"
    )]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// A value in the database that this build cannot read.
    #[error("the job store holds an unreadable value: {0}")]
    Corrupt(String),

    /// The folder of a SQLite store could not be created.
    #[error("cannot create the folder {path} of the SQLite job store: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// SQLite reported an error.
    #[error("SQLite job store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// PostgreSQL reported an error (or the connection failed).
    #[error("PostgreSQL job store: {0}")]
    Postgres(#[from] tokio_postgres::Error),

    /// The background thread that runs SQLite calls failed.
    #[error("the job store's background task failed: {0}")]
    Background(String),
}
