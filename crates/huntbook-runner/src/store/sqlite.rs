//! The SQLite backend: one file in WAL mode, so that readers never wait for the
//! writer and several processes can share it; every writing transaction begins
//! `IMMEDIATE`, taking the file's write lock at once, which makes claims and
//! enqueues serial without row locks. SQLite calls block, so each transaction runs on
//! tokio's blocking pool.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::tx::{Cell, Param, Row, Tx, TxFuture};
use crate::error::StoreError;

/// An open SQLite store file.
pub(crate) struct SqliteBackend {
    path: Arc<str>,
    connection: Arc<Mutex<Connection>>,
}

impl SqliteBackend {
    /// Open (or create) the file at `path`, and its folder.
    pub async fn open(path: &Path) -> Result<SqliteBackend, StoreError> {
        let path_text: Arc<str> = path.display().to_string().into();
        let (file, text) = (path.to_path_buf(), path_text.clone());
        let connection = tokio::task::spawn_blocking(move || {
            if let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                    path: folder.display().to_string(),
                    source,
                })?;
            }
            let error = sqlite_error(&text);
            let connection = Connection::open(&file).map_err(&error)?;
            // Writers wait their turn rather than fail: each holds the lock for
            // a few statements only.
            connection
                .busy_timeout(Duration::from_secs(30))
                .map_err(&error)?;
            connection
                .pragma_update(None, "journal_mode", "WAL")
                .map_err(&error)?;
            connection
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(&error)?;
            connection
                .pragma_update(None, "foreign_keys", "ON")
                .map_err(&error)?;
            Ok::<_, StoreError>(connection)
        })
        .await
        .map_err(|e| StoreError::Background(e.to_string()))??;
        Ok(SqliteBackend {
            path: path_text,
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Run `work` in one transaction on the blocking pool: committed when it returns
    /// `Ok`, rolled back otherwise.
    pub async fn transact<T, F>(&self, write: bool, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> TxFuture<'t, T> + Send + 'static,
    {
        let connection = self.connection.clone();
        let path = self.path.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(|e| e.into_inner());
            let sqlite = sqlite_error(&path);
            connection
                .execute_batch(if write { "BEGIN IMMEDIATE" } else { "BEGIN" })
                .map_err(&sqlite)?;
            // SQLite statements never wait on I/O readiness, so the future
            // completes on this thread without yielding to the runtime.
            let result = runtime.block_on(work(&mut Tx::Sqlite(&mut connection, &path)));
            match result {
                Ok(value) => {
                    connection.execute_batch("COMMIT").map_err(&sqlite)?;
                    Ok(value)
                }
                Err(error) => {
                    // The error that matters is the one that made us roll back.
                    let _ = connection.execute_batch("ROLLBACK");
                    Err(error)
                }
            }
        })
        .await
        .map_err(|e| StoreError::Background(e.to_string()))?
    }
}

/// `$1` placeholders as SQLite's `?1`.
fn placeholders(sql: &str) -> Cow<'_, str> {
    if sql.contains('$') {
        Cow::Owned(sql.replace('$', "?"))
    } else {
        Cow::Borrowed(sql)
    }
}

fn value(param: &Param) -> Value {
    match param {
        Param::Int(v) => v.map_or(Value::Null, Value::Integer),
        Param::Text(v) => v.clone().map_or(Value::Null, Value::Text),
        Param::Bool(v) => Value::Integer(i64::from(*v)),
    }
}

fn cell(value: ValueRef<'_>) -> Result<Cell, String> {
    match value {
        ValueRef::Null => Ok(Cell::Null),
        ValueRef::Integer(v) => Ok(Cell::Int(v)),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(|text| Cell::Text(text.to_owned()))
            .map_err(|e| e.to_string()),
        other => Err(format!("unexpected {:?} value", other.data_type())),
    }
}

/// Errors of the store file at `path`.
pub(super) fn sqlite_error(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

fn bind(params: &[Param]) -> impl rusqlite::Params + '_ {
    rusqlite::params_from_iter(params.iter().map(value))
}

pub(super) fn query(
    connection: &Connection,
    path: &str,
    sql: &str,
    params: &[Param],
) -> Result<Vec<Row>, StoreError> {
    let error = sqlite_error(path);
    let mut statement = connection
        .prepare_cached(&placeholders(sql))
        .map_err(&error)?;
    let columns = statement.column_count();
    let mut rows = statement.query(bind(params)).map_err(&error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(&error)? {
        let cells = (0..columns)
            .map(|i| {
                let raw = row.get_ref(i).map_err(&error)?;
                cell(raw).map_err(|e| StoreError::Corrupt(format!("{path}: column {i}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        out.push(Row(cells));
    }
    Ok(out)
}

pub(super) fn execute(
    connection: &Connection,
    path: &str,
    sql: &str,
    params: &[Param],
) -> Result<u64, StoreError> {
    let changed = connection
        .prepare_cached(&placeholders(sql))
        .and_then(|mut statement| statement.execute(bind(params)))
        .map_err(sqlite_error(path))?;
    Ok(changed as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_become_sqlite_ones() {
        assert_eq!(placeholders("a = $1 AND b = $12"), "a = ?1 AND b = ?12");
        assert!(matches!(placeholders("SELECT 1"), Cow::Borrowed(_)));
    }
}
