//! The PostgreSQL backend, for several workers (on several machines) sharing one
//! queue. Claims and reaping select their rows `FOR UPDATE SKIP LOCKED`, so two
//! workers never take the same job and neither waits for the other; checks that
//! must see every concurrent writer (queue capacity, idempotency keys, concurrency
//! limits) take a transaction-scoped advisory lock.
//!
//! One store holds one connection; a worker process opens one store. A connection
//! that was closed (the server restarted, a network cut) is opened again by the
//! next transaction; the call that met the break fails with its reason.

use tokio::sync::Mutex;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Transaction};

use super::tx::{Cell, Param, Row, Tx, TxFuture};
use crate::error::StoreError;

/// An open connection to a PostgreSQL store.
pub(crate) struct PostgresBackend {
    url: String,
    client: Mutex<Client>,
}

impl PostgresBackend {
    /// Connect to `url` (a `postgresql://` URL or a `key=value` connection string).
    pub async fn open(url: &str) -> Result<PostgresBackend, StoreError> {
        Ok(PostgresBackend {
            url: url.to_owned(),
            client: Mutex::new(connect(url).await?),
        })
    }

    /// Run `work` in one transaction: committed when it returns `Ok`, rolled back
    /// otherwise.
    pub async fn transact<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> TxFuture<'t, T> + Send + 'static,
    {
        let mut client = self.client.lock().await;
        if client.is_closed() {
            *client = connect(&self.url).await?;
        }
        let transaction = client.transaction().await?;
        let value = work(&mut Tx::Postgres(&transaction)).await?;
        transaction.commit().await?;
        Ok(value)
    }
}

async fn connect(url: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    // The connection object does the socket I/O; when it ends (server gone), the
    // client reports itself closed.
    tokio::spawn(connection);
    Ok(client)
}

fn boxed(param: &Param) -> Box<dyn ToSql + Sync + Send> {
    match param {
        Param::Int(v) => Box::new(*v),
        Param::Text(v) => Box::new(v.clone()),
        Param::Bool(v) => Box::new(*v),
    }
}

fn row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let cells = row
        .columns()
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let ty = column.type_();
            Ok(if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?
                    .map_or(Cell::Null, Cell::Int)
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)?
                    .map_or(Cell::Null, |v| Cell::Int(v.into()))
            } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                row.try_get::<_, Option<String>>(i)?
                    .map_or(Cell::Null, Cell::Text)
            } else if *ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)?
                    .map_or(Cell::Null, Cell::Bool)
            } else {
                return Err(StoreError::Corrupt(format!(
                    "column {} has the unexpected type {ty}",
                    column.name()
                )));
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Row(cells))
}

pub(super) async fn query(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[Param],
) -> Result<Vec<Row>, StoreError> {
    let owned: Vec<_> = params.iter().map(boxed).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|p| &**p as _).collect();
    tx.query(sql, &refs).await?.iter().map(row).collect()
}

pub(super) async fn execute(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[Param],
) -> Result<u64, StoreError> {
    let owned: Vec<_> = params.iter().map(boxed).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|p| &**p as _).collect();
    Ok(tx.execute(sql, &refs).await?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::testkit::shared_cluster;
    use crate::{JobStore, NewJob, StoreLocation, StoreOptions, TriggerKind};

    #[tokio::test]
    async fn a_closed_connection_is_opened_again() {
        let location = shared_cluster().fresh_database().await;
        let store = JobStore::open(&location, StoreOptions::default())
            .await
            .unwrap();
        store
            .enqueue(NewJob::new("hunt", TriggerKind::OnDemand))
            .await
            .unwrap();
        let StoreLocation::Postgres(url) = &location else {
            unreachable!("the test cluster is PostgreSQL")
        };
        let admin = super::connect(url).await.unwrap();
        let ended = admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(ended, 1, "the store's one connection");
        // The call that meets the break may fail; one after it reconnects.
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(store.counts().await.map(|c| c.total()));
            if matches!(answers.last(), Some(Ok(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(matches!(answers.last(), Some(Ok(1))), "{answers:?}");
        assert!(answers.len() <= 2, "{answers:?}");
    }
}
