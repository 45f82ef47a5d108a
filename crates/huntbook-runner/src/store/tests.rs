//! The store's behaviour, checked on both databases by the same test bodies: each
//! body takes a [`Fixture`] (a fresh SQLite file or a fresh PostgreSQL database in
//! the test cluster, and a manual clock) and `on_both_stores!` runs it on each.

use std::io::{BufRead, BufReader};
use std::num::NonZeroU32;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::testkit::shared_cluster;
use crate::*;

pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

pub(crate) struct Fixture {
    pub(crate) location: StoreLocation,
    pub(crate) clock: Arc<ManualClock>,
    _folder: Option<tempfile::TempDir>,
}

impl Fixture {
    pub(crate) async fn new(kind: Kind) -> Fixture {
        let (location, folder) = match kind {
            Kind::Sqlite => {
                let folder = tempfile::tempdir().unwrap();
                let path = folder.path().join("jobs").join("store.db");
                (StoreLocation::Sqlite(path), Some(folder))
            }
            Kind::Postgres => (shared_cluster().fresh_database().await, None),
        };
        Fixture {
            location,
            // Whole seconds, so that times survive the store's milliseconds.
            clock: Arc::new(ManualClock::new(
                DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap(),
            )),
            _folder: folder,
        }
    }

    /// A store (its own connection) on the fixture's database, with its clock.
    pub(crate) async fn open(&self, adjust: impl FnOnce(&mut StoreOptions)) -> JobStore {
        let mut options = StoreOptions {
            clock: self.clock.clone(),
            ..StoreOptions::default()
        };
        adjust(&mut options);
        JobStore::open(&self.location, options).await.unwrap()
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Fixture::new(super::Kind::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Fixture::new(super::Kind::Postgres).await).await
                }
            )*
        }
    };
}
pub(crate) use on_both_stores;

on_both_stores!(
    claims_take_the_highest_priority_then_the_oldest,
    not_before_holds_a_job_back,
    the_queue_is_bounded,
    an_idempotency_key_returns_the_existing_job,
    claims_respect_global_and_per_notebook_limits,
    heartbeats_extend_the_lease_and_reaping_retries_then_fails,
    failed_attempts_back_off_exponentially,
    cancel_a_queued_job_at_once_and_a_running_one_on_request,
    jobs_and_runs_are_listed_with_filters,
    concurrent_claimers_never_share_a_job,
    concurrent_claimers_never_exceed_the_limits,
    a_killed_worker_is_reaped_and_its_job_retried,
    reopening_keeps_the_jobs,
    a_database_from_a_newer_huntbook_is_refused,
);

fn job(notebook: &str, trigger: TriggerKind) -> NewJob {
    NewJob::new(notebook, trigger)
}

/// Enqueue `new`; its id.
async fn enqueued(store: &JobStore, new: NewJob) -> Uuid {
    store.enqueue(new).await.unwrap().job.id
}

fn attempts(max_attempts: u32, notebook: &str, trigger: TriggerKind) -> NewJob {
    NewJob {
        max_attempts,
        ..job(notebook, trigger)
    }
}

fn backoff(initial_seconds: u64, max_seconds: u64) -> Backoff {
    Backoff {
        initial: Duration::from_secs(initial_seconds),
        max: Duration::from_secs(max_seconds),
    }
}

async fn claim_notebooks(store: &JobStore, n: usize) -> Vec<String> {
    let mut claimed = Vec::new();
    for _ in 0..n {
        match store.claim("w1").await.unwrap() {
            Some(claim) => claimed.push(claim.job.notebook),
            None => break,
        }
    }
    claimed
}

async fn claims_take_the_highest_priority_then_the_oldest(f: Fixture) {
    let store = f.open(|_| {}).await;
    for (notebook, trigger) in [
        ("scheduled-1", TriggerKind::Scheduled),
        ("on-demand-1", TriggerKind::OnDemand),
        ("event-1", TriggerKind::Event),
        ("on-demand-2", TriggerKind::OnDemand),
        ("event-2", TriggerKind::Event),
    ] {
        store.enqueue(job(notebook, trigger)).await.unwrap();
        f.advance(1);
    }
    let urgent = NewJob {
        priority: Some(99),
        ..job("scheduled-urgent", TriggerKind::Scheduled)
    };
    store.enqueue(urgent).await.unwrap();
    assert_eq!(
        claim_notebooks(&store, 10).await,
        [
            "scheduled-urgent",
            "event-1",
            "event-2",
            "on-demand-1",
            "on-demand-2",
            "scheduled-1"
        ]
    );
}

async fn not_before_holds_a_job_back(f: Fixture) {
    let store = f.open(|_| {}).await;
    let at = f.clock.now() + chrono::Duration::hours(2);
    let later = NewJob {
        not_before: Some(at),
        ..job("at-nine", TriggerKind::Scheduled)
    };
    let id = enqueued(&store, later).await;
    assert_eq!(store.job(id).await.unwrap().not_before, at);
    assert!(store.claim("w1").await.unwrap().is_none());
    f.advance(2 * 3600 - 1);
    assert!(store.claim("w1").await.unwrap().is_none());
    f.advance(1);
    assert_eq!(store.claim("w1").await.unwrap().unwrap().job.id, id);
}

async fn the_queue_is_bounded(f: Fixture) {
    let store = f.open(|o| o.queue_capacity = 3).await;
    for i in 0..3 {
        store
            .enqueue(job(&format!("nb{i}"), TriggerKind::OnDemand))
            .await
            .unwrap();
    }
    let refused = store
        .enqueue(job("nb3", TriggerKind::OnDemand))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::QueueFull { capacity: 3 }),
        "{refused}"
    );
    assert_eq!(store.counts().await.unwrap().total(), 3);

    // A claim makes room for one more.
    let claim = store.claim("w1").await.unwrap().unwrap();
    store
        .enqueue(job("nb3", TriggerKind::OnDemand))
        .await
        .unwrap();
    assert!(store
        .enqueue(job("nb4", TriggerKind::OnDemand))
        .await
        .is_err());

    // An accepted job is never lost to the bound: its retry goes back into a full queue.
    store
        .finish(claim.run.id, Outcome::Failed("boom".into()))
        .await
        .unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.queued, counts.total()), (4, 4));
}

async fn an_idempotency_key_returns_the_existing_job(f: Fixture) {
    let store = f.open(|o| o.queue_capacity = 1).await;
    let keyed = |key: &str, ip: &str| {
        let mut new = job("ip_context", TriggerKind::OnDemand);
        new.idempotency_key = Some(key.into());
        new.parameters.insert("ip_address".into(), ip.into());
        new
    };
    let first = store.enqueue(keyed("alert-42", "1.2.3.4")).await.unwrap();
    assert!(first.created);
    // Same key: the first job, even with the queue full and other parameters.
    let again = store.enqueue(keyed("alert-42", "5.6.7.8")).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.job, first.job);
    assert_eq!(again.job.parameters["ip_address"], "1.2.3.4");
    // A new key is a new job (here refused: the queue holds one).
    assert!(matches!(
        store.enqueue(keyed("alert-43", "1.2.3.4")).await,
        Err(StoreError::QueueFull { .. })
    ));
    assert_eq!(store.counts().await.unwrap().total(), 1);
}

async fn claims_respect_global_and_per_notebook_limits(f: Fixture) {
    let store = f
        .open(|o| {
            o.limits.global = NonZeroU32::new(2);
            o.limits
                .per_notebook
                .insert("hunt".into(), NonZeroU32::new(1).unwrap());
        })
        .await;
    for notebook in ["hunt", "hunt", "triage", "triage"] {
        store
            .enqueue(job(notebook, TriggerKind::OnDemand))
            .await
            .unwrap();
        f.advance(1);
    }
    let h1 = store.claim("w").await.unwrap().unwrap();
    assert_eq!(h1.job.notebook, "hunt");
    // The second hunt waits for the first: triage goes ahead of it.
    let t1 = store.claim("w").await.unwrap().unwrap();
    assert_eq!(t1.job.notebook, "triage");
    // Two running: the global limit.
    assert!(store.claim("w").await.unwrap().is_none());
    store.finish(t1.run.id, Outcome::Succeeded).await.unwrap();
    let t2 = store.claim("w").await.unwrap().unwrap();
    assert_eq!(t2.job.notebook, "triage");
    store.finish(h1.run.id, Outcome::Succeeded).await.unwrap();
    let h2 = store.claim("w").await.unwrap().unwrap();
    assert_eq!(h2.job.notebook, "hunt");
    assert_eq!(store.counts().await.unwrap().running, 2);
}

async fn heartbeats_extend_the_lease_and_reaping_retries_then_fails(f: Fixture) {
    let store = f
        .open(|o| {
            o.lease = Duration::from_secs(60);
            o.backoff = backoff(10, 600);
        })
        .await;
    let new = attempts(2, "triage", TriggerKind::Event);
    let id = enqueued(&store, new).await;
    let first = store.claim("w1").await.unwrap().unwrap();
    assert_eq!(
        first.run.lease_expires_at,
        f.clock.now() + chrono::Duration::seconds(60)
    );

    f.advance(30);
    let beat = store.heartbeat(first.run.id).await.unwrap();
    assert_eq!(
        beat.lease_expires_at,
        f.clock.now() + chrono::Duration::seconds(60)
    );
    assert!(!beat.cancel_requested);
    f.advance(45); // past the first lease, within the extended one
    assert!(store.reap().await.unwrap().is_empty());

    f.advance(16);
    let reaped = store.reap().await.unwrap();
    assert_eq!(reaped.len(), 1);
    let lost = &reaped[0];
    assert_eq!(lost.run.state, State::Failed);
    let expiry = beat
        .lease_expires_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(
        lost.run.reason.as_deref(),
        Some(format!("worker lost: lease expired at {expiry} (worker w1)").as_str())
    );
    assert_eq!(lost.job.state, State::Queued);
    assert_eq!(
        lost.job.not_before,
        f.clock.now() + chrono::Duration::seconds(10)
    );
    assert_eq!(store.run(first.run.id).await.unwrap(), lost.run);

    // The lost worker comes back: its run is over.
    assert!(matches!(
        store.heartbeat(first.run.id).await,
        Err(StoreError::RunNotActive {
            state: State::Failed,
            ..
        })
    ));
    assert!(matches!(
        store.finish(first.run.id, Outcome::Succeeded).await,
        Err(StoreError::RunNotActive { .. })
    ));

    assert!(store.claim("w2").await.unwrap().is_none());
    f.advance(10);
    let second = store.claim("w2").await.unwrap().unwrap();
    assert_eq!((second.job.id, second.run.attempt), (id, 2));
    f.advance(61);
    assert_eq!(store.reap().await.unwrap().len(), 1);
    let failed = store.job(id).await.unwrap();
    assert_eq!(failed.state, State::Failed);
    let reason = failed.reason.unwrap();
    assert!(
        reason.starts_with("attempt 2 of 2 failed: worker lost: lease expired at "),
        "{reason}"
    );
    assert_eq!(failed.finished_at, Some(f.clock.now()));
    assert!(store.reap().await.unwrap().is_empty());
}

async fn failed_attempts_back_off_exponentially(f: Fixture) {
    let store = f.open(|o| o.backoff = backoff(10, 25)).await;
    let new = attempts(4, "hunt", TriggerKind::Scheduled);
    let id = enqueued(&store, new).await;
    for wait in [10, 20, 25] {
        let claim = store.claim("w").await.unwrap().unwrap();
        let settled = store
            .finish(claim.run.id, Outcome::Failed("query failed".into()))
            .await
            .unwrap();
        assert_eq!(settled.job.state, State::Queued);
        f.advance(wait - 1);
        assert!(
            store.claim("w").await.unwrap().is_none(),
            "claimed before {wait} s"
        );
        f.advance(1);
    }
    let last = store.claim("w").await.unwrap().unwrap();
    let settled = store
        .finish(last.run.id, Outcome::Failed("query failed".into()))
        .await
        .unwrap();
    assert_eq!(settled.job.state, State::Failed);
    assert_eq!(
        settled.job.reason.as_deref(),
        Some("attempt 4 of 4 failed: query failed")
    );
    let runs = store
        .runs(RunFilter {
            job: Some(id),
            ..Default::default()
        })
        .await
        .unwrap();
    let attempts: Vec<u32> = runs.iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, [4, 3, 2, 1]);
    assert!(runs
        .iter()
        .all(|r| r.state == State::Failed && r.finished_at.is_some()));
}

async fn cancel_a_queued_job_at_once_and_a_running_one_on_request(f: Fixture) {
    let store = f.open(|_| {}).await;
    let queued = enqueued(&store, job("hunt", TriggerKind::OnDemand)).await;
    let Cancel::Cancelled(cancelled) = store.cancel(queued).await.unwrap() else {
        panic!("a queued job is cancelled at once")
    };
    assert_eq!(cancelled.state, State::Cancelled);
    assert_eq!(store.job(queued).await.unwrap(), cancelled);
    assert!(store.claim("w").await.unwrap().is_none());

    let running = enqueued(&store, job("hunt", TriggerKind::OnDemand)).await;
    let claim = store.claim("w").await.unwrap().unwrap();
    assert!(
        !store
            .heartbeat(claim.run.id)
            .await
            .unwrap()
            .cancel_requested
    );
    let Cancel::Requested(requested) = store.cancel(running).await.unwrap() else {
        panic!("a running job is cancelled by request")
    };
    assert_eq!(requested.state, State::Running);
    assert!(
        store
            .heartbeat(claim.run.id)
            .await
            .unwrap()
            .cancel_requested
    );
    let settled = store
        .finish(
            claim.run.id,
            Outcome::Cancelled("cancelled by request".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        (settled.run.state, settled.job.state),
        (State::Cancelled, State::Cancelled)
    );
    assert!(matches!(
        store.cancel(running).await.unwrap(),
        Cancel::AlreadyFinished(_)
    ));

    // A run that fails after the request is not retried.
    let third = enqueued(&store, job("hunt", TriggerKind::OnDemand)).await;
    let claim = store.claim("w").await.unwrap().unwrap();
    store.cancel(third).await.unwrap();
    let settled = store
        .finish(claim.run.id, Outcome::Failed("interrupted".into()))
        .await
        .unwrap();
    assert_eq!(settled.job.state, State::Cancelled);

    let unknown = Uuid::new_v4();
    assert!(
        matches!(store.cancel(unknown).await, Err(StoreError::JobNotFound(id)) if id == unknown)
    );
    assert_eq!(store.counts().await.unwrap().cancelled, 3);
}

async fn jobs_and_runs_are_listed_with_filters(f: Fixture) {
    let store = f.open(|_| {}).await;
    let mut ids = Vec::new();
    for notebook in ["hunt", "triage", "hunt"] {
        let mut new = job(notebook, TriggerKind::OnDemand);
        new.parameters.insert("n".into(), ids.len().into());
        new.timeout = Some(Duration::from_millis(90_500));
        ids.push(enqueued(&store, new).await);
        f.advance(1);
    }
    let claim = store.claim("w").await.unwrap().unwrap();
    assert_eq!(claim.job.id, ids[0]);
    store
        .finish(claim.run.id, Outcome::Succeeded)
        .await
        .unwrap();

    let all = store.jobs(JobFilter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[2], ids[1], ids[0]]
    );
    assert_eq!(all[2].parameters["n"], 0);
    assert_eq!(all[2].timeout, Some(Duration::from_millis(90_500)));
    let hunts = store
        .jobs(JobFilter {
            notebook: Some("hunt".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        hunts.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[2], ids[0]]
    );
    let queued_hunts = store
        .jobs(JobFilter {
            notebook: Some("hunt".into()),
            state: Some(State::Queued),
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(
        queued_hunts.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[2]]
    );
    let newest = store
        .jobs(JobFilter {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(newest.len(), 1);

    let runs = store
        .runs(RunFilter {
            notebook: Some("hunt".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].id, runs[0].state),
        (claim.run.id, State::Succeeded)
    );
    let none = store
        .runs(RunFilter {
            state: Some(State::Running),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    assert!(matches!(
        store.job(Uuid::nil()).await,
        Err(StoreError::JobNotFound(_))
    ));
    assert!(matches!(
        store.run(Uuid::nil()).await,
        Err(StoreError::RunNotFound(_))
    ));
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.succeeded, counts.queued, counts.total()), (1, 2, 3));
}

async fn concurrent_claimers_never_share_a_job(f: Fixture) {
    const JOBS: usize = 200;
    const CLAIMERS: usize = 4;
    let producer = f.open(|o| o.queue_capacity = JOBS as u32).await;
    for i in 0..JOBS {
        producer
            .enqueue(job(&format!("nb{}", i % 7), TriggerKind::Event))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for worker in 0..CLAIMERS {
        // Each claimer has its own connection, as separate workers would.
        let store = f.open(|_| {}).await;
        tasks.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            while let Some(claim) = store.claim(&format!("w{worker}")).await.unwrap() {
                claimed.push(claim.job.id);
                tokio::task::yield_now().await;
            }
            claimed
        }));
    }
    let mut all = Vec::new();
    let mut per_worker = Vec::new();
    for task in tasks {
        let claimed = task.await.unwrap();
        per_worker.push(claimed.len());
        all.extend(claimed);
    }
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), JOBS, "claims per worker: {per_worker:?}");
    assert_eq!(distinct.len(), JOBS, "a job was claimed twice");
    let counts = producer.counts().await.unwrap();
    assert_eq!((counts.running, counts.total()), (JOBS as u64, JOBS as u64));
    let runs = producer.runs(RunFilter::default()).await.unwrap();
    assert_eq!(runs.len(), JOBS);
}

async fn concurrent_claimers_never_exceed_the_limits(f: Fixture) {
    let limited = |o: &mut StoreOptions| {
        o.limits.global = NonZeroU32::new(5);
        o.limits.default_per_notebook = NonZeroU32::new(2);
    };
    let producer = f.open(limited).await;
    for i in 0..40 {
        enqueued(&producer, job(&format!("nb{}", i % 4), TriggerKind::Event)).await;
    }
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let store = f.open(limited).await;
        tasks.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            while let Some(claim) = store.claim(&format!("w{worker}")).await.unwrap() {
                claimed.push(claim.job.notebook);
            }
            claimed
        }));
    }
    let mut per_notebook = std::collections::BTreeMap::new();
    for task in tasks {
        for notebook in task.await.unwrap() {
            *per_notebook.entry(notebook).or_insert(0) += 1;
        }
    }
    assert_eq!(per_notebook.values().sum::<u32>(), 5, "{per_notebook:?}");
    assert!(per_notebook.values().all(|&n| n <= 2), "{per_notebook:?}");
    assert_eq!(producer.counts().await.unwrap().running, 5);
}

/// Set in the environment of the child process of
/// `a_killed_worker_is_reaped_and_its_job_retried`: the store it claims from.
const CHILD_STORE: &str = "HUNTBOOK_TEST_CHILD_STORE";

/// The worker that is killed: claims one job, says so, and hangs.
#[tokio::test]
#[ignore = "the child process of a_killed_worker_is_reaped_and_its_job_retried"]
async fn claim_and_hang() {
    let location: StoreLocation = std::env::var(CHILD_STORE)
        .expect("run by a_killed_worker_is_reaped_and_its_job_retried")
        .parse()
        .unwrap();
    let options = StoreOptions {
        lease: Duration::from_secs(30),
        ..StoreOptions::default()
    };
    let store = JobStore::open(&location, options).await.unwrap();
    let claim = store.claim("doomed").await.unwrap().expect("a queued job");
    println!("claimed {}", claim.run.id);
    tokio::time::sleep(Duration::from_secs(600)).await;
}

async fn a_killed_worker_is_reaped_and_its_job_retried(f: Fixture) {
    let store = f.open(|_| {}).await;
    let id = enqueued(&store, job("triage", TriggerKind::Event)).await;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "store::tests::claim_and_hang",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_STORE, f.location.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let run: Uuid = loop {
        match lines.next() {
            Some(line) => {
                if let Some(run) = line.unwrap().strip_prefix("claimed ") {
                    break run.parse().unwrap();
                }
            }
            None => {
                let output = child.wait_with_output().unwrap();
                panic!(
                    "the child exited without claiming: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    };
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();

    let held = store.run(run).await.unwrap();
    assert_eq!(
        (held.job_id, held.state, held.worker.as_str()),
        (id, State::Running, "doomed")
    );
    f.clock.set(held.lease_expires_at);
    assert!(
        store.reap().await.unwrap().is_empty(),
        "reaped before the lease ran out"
    );
    f.clock
        .set(held.lease_expires_at + chrono::Duration::milliseconds(1));
    let reaped = store.reap().await.unwrap();
    assert_eq!(reaped.len(), 1);
    assert!(reaped[0]
        .run
        .reason
        .as_deref()
        .unwrap()
        .starts_with("worker lost: lease expired at "));
    assert_eq!(reaped[0].job.state, State::Queued);
    f.clock.set(reaped[0].job.not_before);
    let retry = store.claim("survivor").await.unwrap().unwrap();
    assert_eq!((retry.job.id, retry.run.attempt), (id, 2));
}

async fn reopening_keeps_the_jobs(f: Fixture) {
    let id = {
        let store = f.open(|_| {}).await;
        enqueued(&store, job("hunt", TriggerKind::OnDemand)).await
    };
    let store = f.open(|_| {}).await;
    assert_eq!(store.job(id).await.unwrap().notebook, "hunt");
    assert_eq!(store.counts().await.unwrap().total(), 1);
}

async fn a_database_from_a_newer_huntbook_is_refused(f: Fixture) {
    let store = f.open(|_| {}).await;
    let newer = super::schema::VERSION + 1;
    store
        .transact(true, move |tx| {
            Box::pin(async move {
                let sql = "INSERT INTO schema_version (version) VALUES ($1)";
                tx.execute(sql, &[super::tx::Param::int(newer)])
                    .await
                    .map(drop)
            })
        })
        .await
        .unwrap();
    let refused = JobStore::open(&f.location, StoreOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::SchemaTooNew { found, supported }
            if found == newer && supported == super::schema::VERSION),
        "{refused}"
    );
}

#[test]
fn a_password_in_a_location_is_never_shown() {
    let location: StoreLocation = "postgresql://hb:pa:ss@db:5432/jobs?sslmode=require"
        .parse()
        .unwrap();
    assert_eq!(
        location.to_string(),
        "postgresql://hb:***@db:5432/jobs?sslmode=require"
    );
    assert!(!format!("{location:?}").contains("pa:ss"), "{location:?}");
    let bad = "mysql://hb:hunter2@db/jobs"
        .parse::<StoreLocation>()
        .unwrap_err();
    assert!(!bad.to_string().contains("hunter2"), "{bad}");
    let plain = "postgresql://hb@db/jobs".parse::<StoreLocation>().unwrap();
    assert_eq!(plain.to_string(), "postgresql://hb@db/jobs");
}

#[test]
fn locations_read_back_what_they_show() {
    for text in [
        "sqlite:/var/lib/huntbook/jobs.db",
        "postgresql://huntbook@db/huntbook",
    ] {
        let location: StoreLocation = text.parse().unwrap();
        assert_eq!(location.to_string(), text);
    }
    assert_eq!(
        "postgres://h/db".parse::<StoreLocation>().unwrap(),
        StoreLocation::Postgres("postgres://h/db".into())
    );
    for bad in ["jobs.db", "sqlite:", "mysql://x"] {
        let message = bad.parse::<StoreLocation>().unwrap_err().to_string();
        assert!(message.contains("sqlite:PATH"), "{message}");
    }
}

// Outputs, findings, incidents and deliveries, on the same harness.
mod outputs;
