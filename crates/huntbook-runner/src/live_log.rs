//! A run's live log: the worker's observer of the engine, which sends the cells'
//! stream output (scrubbed of the service's secrets, also when a secret is split
//! across two messages) and the run's progress (cell N of M) to the store, where
//! the API's `log?after=N` reads them while the notebook runs.
//!
//! ```text
//! let live = LiveLog::start(store, run_id, &scrubber);
//! execute_notebook(&request, &mut live.observer(), &mut stop);
//! live.finish().await; // the last output is written before the run is finished
//! ```
//!
//! The engine calls observers synchronously, so the observer only queues what it
//! sees; a task writes the queue to the store at most every
//! [`FLUSH_EVERY`], so a notebook that floods its output costs a write per half
//! second, not one per message. A run's log stops growing at [`MAX_LOG`] (its
//! output notebook keeps the rest).

use std::sync::Arc;
use std::time::Duration;

use huntbook_kernel::engine::RunObserver;
use huntbook_notebook::secrets::{LiveScrubber, Scrubber};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::store::{JobStore, Progress};

/// How often queued output is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// The most log one run keeps.
pub const MAX_LOG: usize = 4 << 20;

enum Event {
    Text(String),
    Progress(Progress),
    /// The run ended: write the rest and stop.
    End,
}

/// The writer of one run's log; [`LiveLog::observer`] is what the engine calls and
/// [`LiveLog::finish`] writes what is left once the run ended.
pub(crate) struct LiveLog {
    events: mpsc::UnboundedSender<Event>,
    writer: tokio::task::JoinHandle<()>,
}

impl LiveLog {
    /// Start recording `run`'s log in `store`, scrubbed of `scrubber`'s secrets.
    pub fn start(store: Arc<JobStore>, run: Uuid, scrubber: &Scrubber) -> LiveLog {
        let (events, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write(store, run, scrubber.clone(), queue));
        LiveLog { events, writer }
    }

    /// The observer to hand the engine.
    pub fn observer(&self) -> LiveObserver {
        LiveObserver(self.events.clone())
    }

    /// Write what is still queued (everything the observer saw before) and stop.
    pub async fn finish(self) {
        let _ = self.events.send(Event::End);
        let _ = self.writer.await;
    }
}

/// Queues what the engine reports for the writer.
pub(crate) struct LiveObserver(mpsc::UnboundedSender<Event>);

impl RunObserver for LiveObserver {
    fn cell_started(&mut self, index: usize, total: usize, _description: Option<&str>) {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        // The writer stops only after the run, so a send cannot fail before.
        let _ = self.0.send(Event::Progress(Progress {
            cell: count(index + 1),
            total: count(total),
        }));
    }

    fn stream(&mut self, _name: &str, text: &str) {
        let _ = self.0.send(Event::Text(text.to_owned()));
    }
}

/// Take the queue in batches, one write per [`FLUSH_EVERY`] at most.
async fn write(
    store: Arc<JobStore>,
    run: Uuid,
    scrubber: Scrubber,
    mut queue: mpsc::UnboundedReceiver<Event>,
) {
    let mut live = LiveScrubber::new(&scrubber);
    let mut written = 0usize;
    let mut open = true;
    while open {
        let started = tokio::time::Instant::now();
        let (mut text, mut progress) = (String::new(), None);
        // Wait for something, then gather what arrives until the flush is due.
        loop {
            let event = if text.is_empty() && progress.is_none() {
                queue.recv().await
            } else {
                match tokio::time::timeout_at(started + FLUSH_EVERY, queue.recv()).await {
                    Ok(event) => event,
                    Err(_) => break,
                }
            };
            match event {
                // Past the limit a flood is only drained, not copied and scrubbed.
                Some(Event::Text(piece)) if written + text.len() <= MAX_LOG => {
                    text.push_str(&live.push(&piece))
                }
                Some(Event::Text(_)) => {}
                Some(Event::Progress(p)) => progress = Some(p),
                Some(Event::End) | None => {
                    open = false;
                    break;
                }
            }
        }
        if !open {
            text.push_str(&std::mem::replace(&mut live, LiveScrubber::new(&scrubber)).finish());
        }
        let text = within_limit(text, &mut written);
        if text.is_empty() && progress.is_none() {
            continue;
        }
        if let Err(e) = store.append_log(run, text, progress).await {
            // The run goes on without its live log; the output notebook has it all.
            eprintln!("huntbook: the live log of run {run} could not be written: {e}");
        }
        if open {
            tokio::time::sleep_until(started + FLUSH_EVERY).await;
        }
    }
}

/// `text` cut to what fits under [`MAX_LOG`] after `written` bytes, with a note
/// the first time it is cut.
fn within_limit(mut text: String, written: &mut usize) -> String {
    if *written >= MAX_LOG {
        return String::new();
    }
    if *written + text.len() > MAX_LOG {
        let mut end = MAX_LOG - *written;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n[huntbook: the live log stops here; the output notebook has the rest]\n");
        *written = MAX_LOG;
        return text;
    }
    *written += text.len();
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewJob, StoreLocation, StoreOptions, TriggerKind};

    #[tokio::test]
    async fn output_is_scrubbed_batched_and_kept_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(folder.path().join("jobs.db"));
        let store = Arc::new(
            JobStore::open(&location, StoreOptions::default())
                .await
                .unwrap(),
        );
        store
            .enqueue(NewJob::new("nb", TriggerKind::OnDemand))
            .await
            .unwrap();
        let run = store.claim("w").await.unwrap().unwrap().run.id;

        let live = LiveLog::start(store.clone(), run, &Scrubber::new(["hunter2-secret"]));
        let mut log = live.observer();
        log.cell_started(0, 3, None);
        log.stream("stdout", "key: hunter2");
        log.stream("stdout", "-secret\n");
        for i in 0..200 {
            log.stream("stdout", &format!("line {i}\n"));
        }
        log.cell_started(2, 3, None);
        live.finish().await;

        let page = store.run_log(run, 0, usize::MAX).await.unwrap();
        assert!(
            page.text.starts_with("key: ***\nline 0\n"),
            "{}",
            &page.text[..40]
        );
        assert!(page.text.ends_with("line 199\n") && !page.text.contains("hunter2"));
        assert_eq!(page.progress, Some(Progress { cell: 3, total: 3 }));
    }

    #[test]
    fn the_log_is_cut_once_at_its_limit() {
        let mut written = MAX_LOG - 3;
        let cut = within_limit("abcdef".into(), &mut written);
        assert!(cut.starts_with("abc\n[huntbook: the live log stops here"));
        assert_eq!(within_limit("more".into(), &mut written), "");
    }
}
