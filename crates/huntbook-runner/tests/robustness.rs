//! Workers under stress, on a real ipykernel: two workers sharing one PostgreSQL never
//! run a job twice, and notebooks that crash their kernel, hang or flood their output
//! end with a reason while the worker goes on to the next job.
//!
//! The venv's interpreter is `$HUNTBOOK_TEST_PYTHON`, else `<workspace>/.venv/bin/python`;
//! missing is a failure, not a skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use huntbook_runner::testkit::shared_cluster;
use huntbook_runner::{
    Backoff, JobFilter, JobStore, NewJob, RunFilter, State, StoreLocation, StoreOptions,
    TriggerKind, Worker, WorkerOptions,
};
use serde_json::json;

fn python() -> PathBuf {
    let path = std::env::var_os("HUNTBOOK_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    assert!(
        path.exists(),
        "no Python interpreter at {}: run scripts/setup --test, or set HUNTBOOK_TEST_PYTHON",
        path.display()
    );
    path
}

/// A python3 notebook with a `parameters` cell and one code cell; its path.
fn notebook(folder: &Path, name: &str, parameters: &str, code: &str) -> PathBuf {
    let cell = |source: &str, tags: &[&str]| {
        json!({"cell_type": "code", "execution_count": null, "outputs": [],
               "metadata": {"tags": tags}, "source": source})
    };
    let nb = json!({
        "nbformat": 4, "nbformat_minor": 5,
        "cells": [cell(parameters, &["parameters"]), cell(code, &[])],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    });
    let path = folder.join(format!("{name}.ipynb"));
    std::fs::write(&path, nb.to_string()).unwrap();
    path
}

fn store_options() -> StoreOptions {
    StoreOptions {
        lease: Duration::from_secs(30),
        backoff: Backoff {
            initial: Duration::ZERO,
            max: Duration::ZERO,
        },
        ..StoreOptions::default()
    }
}

fn worker_options(name: &str, notebooks: &BTreeMap<String, PathBuf>, out: &Path) -> WorkerOptions {
    let mut options = WorkerOptions::new(name, notebooks.clone(), out);
    options.python = Some(python());
    options.heartbeat_every = Duration::from_millis(200);
    options.idle_wait = Duration::from_millis(50);
    options
}

/// Runs a worker on a thread of its own (a worker's futures are not `Send`), with its
/// own connection to the store, until `expected` jobs have ended.
fn spawn_worker(
    location: StoreLocation,
    options: WorkerOptions,
    expected: usize,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let store = Arc::new(JobStore::open(&location, store_options()).await.unwrap());
            let worker = Worker::new(store.clone(), options);
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let watch = async {
                loop {
                    let counts = store.counts().await.unwrap();
                    if counts.succeeded + counts.failed >= expected as u64 {
                        let _ = stop.send(true);
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            let (served, ()) = tokio::join!(worker.serve(stopped), watch);
            served.unwrap();
        });
    })
}

#[test]
fn two_workers_on_one_postgresql_never_run_the_same_job_twice() {
    const JOBS: usize = 10;
    let folder = tempfile::tempdir().unwrap();
    let notebooks = BTreeMap::from([(
        "echo".to_owned(),
        notebook(folder.path(), "echo", "n = 0", "print('job', n)"),
    )]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let location = runtime.block_on(shared_cluster().fresh_database());
    let store = runtime
        .block_on(JobStore::open(&location, store_options()))
        .unwrap();
    for n in 0..JOBS {
        let mut job = NewJob::new("echo", TriggerKind::OnDemand);
        job.parameters.insert("n".into(), json!(n));
        runtime.block_on(store.enqueue(job)).unwrap();
    }
    let out = folder.path().join("out");
    let workers: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|name| {
            spawn_worker(
                location.clone(),
                worker_options(name, &notebooks, &out),
                JOBS,
            )
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker panicked");
    }
    let jobs = runtime.block_on(store.jobs(JobFilter::default())).unwrap();
    let runs = runtime.block_on(store.runs(RunFilter::default())).unwrap();
    assert_eq!(jobs.len(), JOBS);
    assert!(
        jobs.iter()
            .all(|j| j.state == State::Succeeded && j.attempts == 1),
        "{jobs:#?}"
    );
    // One run per job: no job was claimed by both workers.
    assert_eq!(runs.len(), JOBS, "{runs:#?}");
    let mut claimed: Vec<_> = runs.iter().map(|r| r.job_id).collect();
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), JOBS);
}

#[tokio::test]
async fn crashing_hanging_and_flooding_notebooks_leave_the_worker_working() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let notebooks = BTreeMap::from([
        (
            "crash".to_owned(),
            notebook(
                dir,
                "crash",
                "x = 0",
                "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
            ),
        ),
        (
            "hang".to_owned(),
            notebook(
                dir,
                "hang",
                "x = 0",
                "import time\nwhile True: time.sleep(1)",
            ),
        ),
        (
            "flood".to_owned(),
            notebook(
                dir,
                "flood",
                "x = 0",
                "import sys\nfor _ in range(200):\n    sys.stdout.write('y' * 100_000 + '\\n')",
            ),
        ),
        (
            "fine".to_owned(),
            notebook(dir, "fine", "x = 0", "print('still here', x)"),
        ),
    ]);
    let location = StoreLocation::Sqlite(dir.join("jobs.db"));
    let store = Arc::new(JobStore::open(&location, store_options()).await.unwrap());
    let worker = Worker::new(
        store.clone(),
        worker_options("w", &notebooks, &dir.join("out")),
    );
    let mut ids = Vec::new();
    for name in ["crash", "hang", "flood", "fine"] {
        let mut job = NewJob::new(name, TriggerKind::OnDemand);
        job.max_attempts = 1;
        // Only the hang should reach its timeout, even on a busy machine.
        job.timeout = Some(Duration::from_secs(if name == "hang" { 3 } else { 120 }));
        ids.push(store.enqueue(job).await.unwrap().job.id);
    }
    for _ in 0..ids.len() {
        tokio::time::timeout(Duration::from_secs(120), worker.run_one())
            .await
            .expect("a run never ended")
            .unwrap()
            .expect("a job to claim");
    }
    let ended: Vec<_> = {
        let mut ended = Vec::new();
        for id in &ids {
            ended.push(store.job(*id).await.unwrap());
        }
        ended
    };
    let reason = |i: usize| ended[i].reason.clone().unwrap_or_default();
    assert_eq!(ended[0].state, State::Failed);
    assert!(
        reason(0).contains("kernel died") && reason(0).contains("signal 9"),
        "{}",
        reason(0)
    );
    assert_eq!(ended[1].state, State::TimedOut);
    assert!(reason(1).contains("timeout"), "{}", reason(1));
    // 20 MB of output is cut to the cell's limit, and the run still succeeds.
    assert_eq!(ended[2].state, State::Succeeded, "{}", reason(2));
    assert_eq!(ended[3].state, State::Succeeded, "{}", reason(3));
    let outputs: Vec<_> = walk(&dir.join("out"));
    let flood = outputs
        .iter()
        .find(|p| p.to_string_lossy().contains("flood"))
        .expect("the flood's output");
    assert!(
        std::fs::metadata(flood).unwrap().len() < 4 << 20,
        "the output limit did not hold"
    );
}

fn walk(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
