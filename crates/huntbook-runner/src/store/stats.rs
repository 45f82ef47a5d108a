//! Figures over the whole store for metrics: how long ended runs took, by state,
//! as histogram buckets counted by the database rather than by reading every run.

use super::tx::{Param, Tx};
use super::JobStore;
use crate::error::StoreError;
use crate::model::State;

/// The durations of the ended runs in one state.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDurations {
    /// How they ended.
    pub state: State,
    /// How many.
    pub count: u64,
    /// Their total, in seconds.
    pub sum_seconds: f64,
    /// For each bound given, how many took at most that long.
    pub at_most: Vec<u64>,
}

async fn durations(tx: &mut Tx<'_>, bounds_ms: Vec<i64>) -> Result<Vec<RunDurations>, StoreError> {
    // One counting column per bound; sums are cast because PostgreSQL sums BIGINTs
    // as NUMERIC.
    let buckets: String = (0..bounds_ms.len())
        .map(|i| {
            format!(
                ", CAST(sum(CASE WHEN finished_at - started_at <= ${} THEN 1 ELSE 0 END) AS BIGINT)",
                i + 1
            )
        })
        .collect();
    let sql = format!(
        "SELECT state, count(*), CAST(sum(finished_at - started_at) AS BIGINT){buckets} \
         FROM runs WHERE finished_at IS NOT NULL GROUP BY state ORDER BY state"
    );
    let params: Vec<Param> = bounds_ms.iter().map(|&ms| Param::int(ms)).collect();
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(|row| {
            Ok(RunDurations {
                state: row.parsed(0)?,
                count: row.int(1)?.unsigned_abs(),
                sum_seconds: row.int(2)? as f64 / 1000.0,
                at_most: (0..bounds_ms.len())
                    .map(|i| row.int(3 + i).map(i64::unsigned_abs))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

impl JobStore {
    /// The durations of ended runs by state, counted against `bounds` (seconds).
    pub async fn run_durations(&self, bounds: &[f64]) -> Result<Vec<RunDurations>, StoreError> {
        let bounds_ms: Vec<i64> = bounds.iter().map(|s| (s * 1000.0) as i64).collect();
        self.transact(false, move |tx| Box::pin(durations(tx, bounds_ms)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::tests::{Fixture, Kind};
    use super::*;
    use crate::{NewJob, Outcome, TriggerKind};

    crate::store::tests::on_both_stores!(durations_are_counted_by_state_and_bound);

    async fn durations_are_counted_by_state_and_bound(f: Fixture) {
        let store = f.open(|_| {}).await;
        assert!(store.run_durations(&[1.0]).await.unwrap().is_empty());
        for (seconds, outcome) in [
            (1, Outcome::Succeeded),
            (5, Outcome::Succeeded),
            (30, Outcome::Failed("boom".into())),
        ] {
            let mut new = NewJob::new("nb", TriggerKind::OnDemand);
            new.max_attempts = 1;
            store.enqueue(new).await.unwrap();
            let run = store.claim("w").await.unwrap().unwrap().run.id;
            f.clock.advance(Duration::from_secs(seconds));
            store.finish(run, outcome).await.unwrap();
        }
        let found = store.run_durations(&[1.0, 10.0]).await.unwrap();
        assert_eq!(
            found,
            [
                RunDurations {
                    state: State::Failed,
                    count: 1,
                    sum_seconds: 30.0,
                    at_most: vec![0, 0]
                },
                RunDurations {
                    state: State::Succeeded,
                    count: 2,
                    sum_seconds: 6.0,
                    at_most: vec![1, 2]
                },
            ]
        );
    }
}
