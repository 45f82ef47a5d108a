//! The triggers' durable marks: for each schedule the time up to which its fire
//! times were handled, for each poller the newest modified time it has seen.
//!
//! A mark only moves forward: two servers sharing the store may both advance it,
//! and the later time wins whatever order their writes land in. What a trigger
//! asked for is never decided by the mark alone: each job carries an idempotency key,
//! so a mark that lags (a crash after the enqueue, before the mark was written) makes
//! the trigger find the same job again, not a second one.

use chrono::{DateTime, Utc};

use super::tx::{Param, Tx};
use super::JobStore;
use crate::error::StoreError;

async fn mark(tx: &mut Tx<'_>, key: String) -> Result<Option<DateTime<Utc>>, StoreError> {
    tx.query(
        "SELECT mark FROM trigger_state WHERE key = $1",
        &[Param::text(key)],
    )
    .await?
    .first()
    .map(|row| row.time(0))
    .transpose()
}

async fn advance(
    tx: &mut Tx<'_>,
    key: String,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, StoreError> {
    // Both databases take `ON CONFLICT ... DO UPDATE ... WHERE`: the row is only
    // rewritten when the new mark is later.
    tx.execute(
        "INSERT INTO trigger_state (key, mark, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET mark = excluded.mark, updated_at = excluded.updated_at \
         WHERE trigger_state.mark < excluded.mark",
        &[Param::text(key.clone()), Param::time(to), Param::time(now)],
    )
    .await?;
    Ok(mark(tx, key).await?.unwrap_or(to))
}

impl JobStore {
    /// The mark a trigger stored under `key`, if any.
    pub async fn trigger_mark(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = key.to_owned();
        self.transact(false, move |tx| Box::pin(mark(tx, key)))
            .await
    }

    /// Move the mark under `key` forward to `to` (a later mark already stored stays);
    /// the mark stored afterwards.
    pub async fn advance_trigger_mark(
        &self,
        key: &str,
        to: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let key = key.to_owned();
        let now = self.options().clock.now();
        self.transact(true, move |tx| Box::pin(advance(tx, key, to, now)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use crate::store::tests::{on_both_stores, Fixture, Kind};
    use crate::Clock;

    on_both_stores!(marks_only_move_forward);

    async fn marks_only_move_forward(f: Fixture) {
        let store = f.open(|_| {}).await;
        let other = f.open(|_| {}).await;
        let t0 = f.clock.now();
        assert_eq!(store.trigger_mark("schedule:a:0").await.unwrap(), None);
        assert_eq!(
            store
                .advance_trigger_mark("schedule:a:0", t0)
                .await
                .unwrap(),
            t0
        );
        let later = t0 + Duration::minutes(5);
        assert_eq!(
            other
                .advance_trigger_mark("schedule:a:0", later)
                .await
                .unwrap(),
            later
        );
        // A server that lags behind does not move the mark back.
        assert_eq!(
            store
                .advance_trigger_mark("schedule:a:0", t0)
                .await
                .unwrap(),
            later
        );
        assert_eq!(
            store.trigger_mark("schedule:a:0").await.unwrap(),
            Some(later)
        );
        // Keys are separate.
        assert_eq!(store.trigger_mark("schedule:a:1").await.unwrap(), None);
    }
}
