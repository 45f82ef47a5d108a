//! One transaction, whichever the database: the store's operations ([`super::ops`])
//! are written once against [`Tx`], and the two backends differ only here, in how a
//! statement reaches the database and in the few words of SQL that are theirs:
//! row locks and advisory locks (PostgreSQL, where several workers claim at once)
//! against SQLite's single writer.
//!
//! Statements use PostgreSQL's `$1` placeholders; SQLite reads them as `?1`.
//! Values cross as [`Param`] (typed, because PostgreSQL checks a parameter's type
//! even when it is NULL) and come back as [`Row`]s of [`Cell`]s.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

use crate::error::StoreError;

/// A future that borrows a transaction.
pub(crate) type TxFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 't>>;

/// An open transaction.
pub(crate) enum Tx<'c> {
    /// A SQLite connection inside `BEGIN`, and the file's path for errors.
    Sqlite(&'c mut rusqlite::Connection, &'c str),
    /// A PostgreSQL transaction.
    Postgres(&'c tokio_postgres::Transaction<'c>),
}

/// A statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
}

impl Param {
    pub fn int(value: impl Into<i64>) -> Param {
        Param::Int(Some(value.into()))
    }

    pub fn text(value: impl Into<String>) -> Param {
        Param::Text(Some(value.into()))
    }

    /// A time, stored as milliseconds since the Unix epoch in both databases.
    pub fn time(value: DateTime<Utc>) -> Param {
        Param::Int(Some(value.timestamp_millis()))
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

/// A row read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("a row has no column {i}")))
    }

    fn wrong(&self, i: usize, expected: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "column {i} holds {:?}, not {expected}",
            self.0.get(i)
        ))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| self.wrong(i, "an integer"))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v)),
            _ => Err(self.wrong(i, "text")),
        }
    }

    pub fn text(&self, i: usize) -> Result<&str, StoreError> {
        self.opt_text(i)?.ok_or_else(|| self.wrong(i, "text"))
    }

    /// A boolean (SQLite keeps it as 0 or 1).
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.cell(i)? {
            Cell::Bool(v) => Ok(*v),
            Cell::Int(v @ (0 | 1)) => Ok(*v == 1),
            _ => Err(self.wrong(i, "a boolean")),
        }
    }

    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_int(i)?
            .map(|ms| {
                DateTime::from_timestamp_millis(ms)
                    .ok_or_else(|| StoreError::Corrupt(format!("{ms} ms is not a time")))
            })
            .transpose()
    }

    pub fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(i)?.ok_or_else(|| self.wrong(i, "a time"))
    }

    /// A text column parsed with `FromStr` (states, trigger kinds, ids).
    pub fn parsed<T: std::str::FromStr>(&self, i: usize) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let text = self.text(i)?;
        text.parse()
            .map_err(|e| StoreError::Corrupt(format!("column {i} ('{text}'): {e}")))
    }
}

/// A database-wide lock held until the transaction ends. SQLite needs none: every
/// writing transaction there takes the database's single write lock at `BEGIN
/// IMMEDIATE`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lock {
    /// Schema migrations, so that two processes opening a new database do not both migrate.
    Migrate = 1,
    /// Enqueues, so that the capacity check and the idempotency check see every
    /// job enqueued before.
    Enqueue = 2,
    /// Claims under concurrency limits, so that two workers do not both take the
    /// last free slot.
    Claim = 3,
}

/// How a `SELECT` that is about to change rows treats rows locked by others.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowLock {
    /// Wait for them.
    Wait,
    /// Pass over them (claims and reaping: another worker has them).
    Skip,
}

impl Tx<'_> {
    /// Run a query and read all its rows.
    pub async fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(conn, path) => super::sqlite::query(conn, path, sql, params),
            Tx::Postgres(tx) => super::postgres::query(tx, sql, params).await,
        }
    }

    /// Run a statement; the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(conn, path) => super::sqlite::execute(conn, path, sql, params),
            Tx::Postgres(tx) => super::postgres::execute(tx, sql, params).await,
        }
    }

    /// Run several statements without parameters (schema changes).
    pub async fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(conn, path) => conn
                .execute_batch(sql)
                .map_err(super::sqlite::sqlite_error(path)),
            Tx::Postgres(tx) => Ok(tx.batch_execute(sql).await?),
        }
    }

    /// Take a database-wide lock until the end of the transaction.
    pub async fn serialize(&mut self, lock: Lock) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(..) => Ok(()),
            Tx::Postgres(tx) => {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&(lock as i64)])
                    .await?;
                Ok(())
            }
        }
    }

    /// The clause that ends a locking `SELECT`.
    pub fn row_lock(&self, lock: RowLock) -> &'static str {
        match (self, lock) {
            (Tx::Sqlite(..), _) => "",
            (Tx::Postgres(_), RowLock::Wait) => " FOR UPDATE",
            (Tx::Postgres(_), RowLock::Skip) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The type of an auto-incremented primary key.
    pub fn serial_key(&self) -> &'static str {
        match self {
            Tx::Sqlite(..) => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Tx::Postgres(_) => "BIGSERIAL PRIMARY KEY",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_sqlite_booleans_and_refuse_the_wrong_type() {
        let row = Row(vec![
            Cell::Int(1),
            Cell::Text("queued".into()),
            Cell::Null,
            Cell::Int(1_700_000_000_000),
        ]);
        assert!(row.bool(0).unwrap());
        assert_eq!(row.parsed::<crate::State>(1).unwrap(), crate::State::Queued);
        assert_eq!(row.opt_text(2).unwrap(), None);
        assert_eq!(row.time(3).unwrap().timestamp(), 1_700_000_000);
        assert!(matches!(row.text(0), Err(StoreError::Corrupt(_))));
        assert!(matches!(row.int(2), Err(StoreError::Corrupt(_))));
        assert!(matches!(row.int(9), Err(StoreError::Corrupt(_))));
    }
}
