//! A run's live output and progress, as its worker records them while the notebook
//! runs: the stream text in chunks, each at its byte offset in the run's log, and
//! which cell of how many is running (columns of the run).
//!
//! One worker writes a run's log, so a chunk's offset is the end of the one before;
//! readers page through it by offset (`after`), as the API's `log?after=N` does.

use uuid::Uuid;

use super::tx::{Param, Tx};
use super::JobStore;
use crate::error::StoreError;

/// Which cell a run is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The cell running (1-based) or last finished.
    pub cell: u32,
    /// How many cells the notebook has.
    pub total: u32,
}

/// Part of a run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// The text from the offset asked for.
    pub text: String,
    /// The offset after `text`: where to read from next.
    pub next: u64,
    /// True when more text was already there than one page holds.
    pub more: bool,
    /// The run's progress, once it started a cell.
    pub progress: Option<Progress>,
}

/// The most chunks read at once; a page ends earlier at its byte limit.
const CHUNKS_PER_PAGE: i64 = 1000;

fn offset(value: i64) -> u64 {
    value.unsigned_abs()
}

async fn append(
    tx: &mut Tx<'_>,
    run: Uuid,
    text: String,
    progress: Option<Progress>,
) -> Result<u64, StoreError> {
    let id = Param::text(run.to_string());
    let end = tx
        .query(
            "SELECT COALESCE(max(end_at), 0) FROM run_log WHERE run_id = $1",
            std::slice::from_ref(&id),
        )
        .await?[0]
        .int(0)?;
    let mut new_end = end;
    if !text.is_empty() {
        new_end = end + text.len() as i64;
        tx.execute(
            "INSERT INTO run_log (run_id, start_at, end_at, text) VALUES ($1, $2, $3, $4)",
            &[
                id.clone(),
                Param::int(end),
                Param::int(new_end),
                Param::text(text),
            ],
        )
        .await?;
    }
    if let Some(p) = progress {
        tx.execute(
            "UPDATE runs SET cell = $2, cells = $3 WHERE id = $1",
            &[id, Param::int(p.cell), Param::int(p.total)],
        )
        .await?;
    }
    Ok(offset(new_end))
}

async fn progress(tx: &mut Tx<'_>, run: Uuid) -> Result<Option<Progress>, StoreError> {
    let rows = tx
        .query(
            "SELECT cell, cells FROM runs WHERE id = $1",
            &[Param::text(run.to_string())],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Err(StoreError::RunNotFound(run));
    };
    Ok(match (row.opt_int(0)?, row.opt_int(1)?) {
        (Some(cell), Some(total)) => Some(Progress {
            cell: u32::try_from(cell).unwrap_or(0),
            total: u32::try_from(total).unwrap_or(0),
        }),
        _ => None,
    })
}

async fn read(
    tx: &mut Tx<'_>,
    run: Uuid,
    after: u64,
    max_bytes: usize,
) -> Result<LogPage, StoreError> {
    let progress = progress(tx, run).await?;
    let id = Param::text(run.to_string());
    let after_param = i64::try_from(after).unwrap_or(i64::MAX);
    let chunks = tx
        .query(
            "SELECT start_at, end_at, text FROM run_log WHERE run_id = $1 AND end_at > $2 \
             ORDER BY start_at LIMIT $3",
            &[id, Param::int(after_param), Param::int(CHUNKS_PER_PAGE)],
        )
        .await?;
    let mut page = LogPage {
        text: String::new(),
        next: after,
        more: chunks.len() as i64 == CHUNKS_PER_PAGE,
        progress,
    };
    for chunk in &chunks {
        let (start, end, text) = (offset(chunk.int(0)?), offset(chunk.int(1)?), chunk.text(2)?);
        // `after` inside a chunk (a client's own offset): from the next whole character.
        let mut skip = usize::try_from(after.saturating_sub(start)).unwrap_or(usize::MAX);
        while skip < text.len() && !text.is_char_boundary(skip) {
            skip += 1;
        }
        let part = text.get(skip..).unwrap_or("");
        if !page.text.is_empty() && page.text.len() + part.len() > max_bytes {
            page.more = true;
            break;
        }
        page.text.push_str(part);
        page.next = end;
    }
    Ok(page)
}

impl JobStore {
    /// Add `text` to the end of `run`'s log and record its `progress`; the log's
    /// length afterwards.
    pub async fn append_log(
        &self,
        run: Uuid,
        text: String,
        progress: Option<Progress>,
    ) -> Result<u64, StoreError> {
        self.transact(true, move |tx| Box::pin(append(tx, run, text, progress)))
            .await
    }

    /// Which cell `run` is at, once it started one.
    pub async fn progress(&self, run: Uuid) -> Result<Option<Progress>, StoreError> {
        self.transact(false, move |tx| Box::pin(progress(tx, run)))
            .await
    }

    /// `run`'s log from byte `after`, about `max_bytes` of it at most (one chunk
    /// even when larger), with its progress.
    pub async fn run_log(
        &self,
        run: Uuid,
        after: u64,
        max_bytes: usize,
    ) -> Result<LogPage, StoreError> {
        self.transact(false, move |tx| Box::pin(read(tx, run, after, max_bytes)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, Kind};
    use super::*;
    use crate::{NewJob, TriggerKind};

    crate::store::tests::on_both_stores!(a_log_is_paged_by_offset_with_its_progress);

    async fn a_log_is_paged_by_offset_with_its_progress(f: Fixture) {
        let store = f.open(|_| {}).await;
        store
            .enqueue(NewJob::new("nb", TriggerKind::OnDemand))
            .await
            .unwrap();
        let run = store.claim("w").await.unwrap().unwrap().run.id;
        let empty = store.run_log(run, 0, 100).await.unwrap();
        assert_eq!(
            (empty.text.as_str(), empty.next, empty.progress),
            ("", 0, None)
        );

        let at = Progress { cell: 1, total: 3 };
        assert_eq!(
            store
                .append_log(run, "héllo\n".into(), Some(at))
                .await
                .unwrap(),
            7
        );
        assert_eq!(store.append_log(run, String::new(), None).await.unwrap(), 7);
        assert_eq!(
            store.append_log(run, "world\n".into(), None).await.unwrap(),
            13
        );
        let all = store.run_log(run, 0, 100).await.unwrap();
        assert_eq!(
            (all.text.as_str(), all.next, all.more),
            ("héllo\nworld\n", 13, false)
        );
        assert_eq!(all.progress, Some(at));
        let rest = store.run_log(run, 7, 100).await.unwrap();
        assert_eq!((rest.text.as_str(), rest.next), ("world\n", 13));
        // Inside a chunk, and inside a character: from the next whole one.
        assert_eq!(
            store.run_log(run, 2, 100).await.unwrap().text,
            "llo\nworld\n"
        );
        assert_eq!(store.run_log(run, 13, 100).await.unwrap().text, "");
        // A page stops at its limit, at a chunk's end.
        let first = store.run_log(run, 0, 8).await.unwrap();
        assert_eq!(
            (first.text.as_str(), first.next, first.more),
            ("héllo\n", 7, true)
        );
        assert!(matches!(
            store.run_log(Uuid::new_v4(), 0, 8).await,
            Err(StoreError::RunNotFound(_))
        ));
    }
}
