//! `huntbook serve`: the automation service in one process: the HTTP API, the
//! workers that run queued notebooks, and the reaper that retries the jobs of
//! workers that died.
//!
//! Workers keep state that cannot move between threads (a notebook's kernel
//! session), so each runs on its own thread with its own single-threaded runtime;
//! the API and the reaper share a multi-threaded one. A first SIGINT or SIGTERM
//! stops the API and lets each worker finish its current notebook; a second one
//! exits at once (the store's leases then expire and the runs are retried or
//! failed, as for a killed process).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args as ClapArgs;
use huntbook_notebook::secrets::Scrubber;
use huntbook_runner::api::{router, ApiState, Liveness};
use huntbook_runner::{JobStore, ServiceConfig, Worker, WorkerOptions};
use tokio::sync::watch;

use super::service::{open_store, ConfigArg};

/// Run the automation service: HTTP API, workers and reaper
#[derive(ClapArgs, Debug)]
#[command(after_help = "\
Reads the Service and Notebooks sections of huntbook.yaml (see `huntbook config check`):
the job store, the address to listen on, how many workers, and the notebooks it may run.
Prints `listening on http://ADDR` once the API is up (port 0 picks a free port).

Examples:
  huntbook serve                                    # ./huntbook.yaml, or $HUNTBOOK_CONFIG
  huntbook serve --config /etc/huntbook/huntbook.yaml --python /opt/huntbook/venv
  huntbook token create --scope run                 # then, from anywhere:
  huntbook submit ip_context -p ip_address 1.2.3.4 --wait")]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// A Python interpreter or virtualenv whose kernels run the notebooks
    #[arg(long, value_name = "PATH", env = "HUNTBOOK_PYTHON")]
    pub python: Option<PathBuf>,
    /// Where output notebooks go (NOTEBOOK/RUN_ID.ipynb below it)
    #[arg(long, value_name = "DIR", default_value = "huntbook-outputs")]
    pub output_dir: PathBuf,
}

/// How often the reaper looks for runs whose worker stopped heartbeating.
const REAP_EVERY: Duration = Duration::from_secs(15);

/// How long a worker whose store stopped answering waits before trying again.
const WORKER_RETRY: Duration = Duration::from_secs(5);

pub fn run(args: Args) -> u8 {
    let (config, service) = match args.config.load() {
        Ok(loaded) => loaded,
        Err(e) => return super::fail(e),
    };
    // Resolved before any runtime starts: vault sources block on their own. Only
    // the scrubber is used yet: parameters holding a secret are refused, and the live
    // log hides them.
    let scrubber = match service.resolve_secrets(&huntbook_http::vault::resolver(&config)) {
        Ok(secrets) => secrets.scrubber().clone(),
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            return super::fail(format!("the notebooks' secrets:\n{}", lines.join("\n")));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(serve(args, service, scrubber)) {
        Ok(()) => 0,
        Err(e) => super::fail(e),
    }
}

async fn serve(args: Args, service: ServiceConfig, scrubber: Scrubber) -> Result<(), String> {
    // Watched from the start, so that a signal sent once the address is printed is
    // never the default (fatal) one.
    use tokio::signal::unix::{signal, SignalKind};
    let watched = signal(SignalKind::interrupt())
        .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
        .map_err(|e| format!("cannot watch for signals: {e}"))?;
    let store = Arc::new(open_store(&service).await?);
    let listener = tokio::net::TcpListener::bind(service.listen)
        .await
        .map_err(|e| format!("cannot listen on {} (Service.listen): {e}", service.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{address}");
    let _ = std::io::stdout().flush();

    let (stop_tx, stop) = watch::channel(false);
    let liveness = Arc::new(Liveness::new(service.workers));
    let notebooks: BTreeMap<String, PathBuf> = service
        .notebooks
        .values()
        .map(|n| (n.name.clone(), n.path.clone()))
        .collect();
    let mut workers = Vec::new();
    for i in 0..service.workers {
        let mut options = WorkerOptions::new(
            format!("serve-{}-{i}", std::process::id()),
            notebooks.clone(),
            args.output_dir.clone(),
        );
        options.python = args.python.clone();
        options.scrubber = scrubber.clone();
        workers.push(start_worker(
            store.clone(),
            options,
            liveness.clone(),
            stop.clone(),
        )?);
    }
    tokio::spawn(reap(store.clone(), stop.clone()));

    // Triggers start here: schedules, watched folders and pollers each get the
    // store, the service configuration and `stop`, as the workers do.

    let state = ApiState::new(Arc::new(service), store, Arc::new(scrubber), liveness);
    let mut until_stopped = stop.clone();
    tokio::spawn(signals(watched, stop_tx));
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            let _ = until_stopped.wait_for(|stopped| *stopped).await;
        })
        .await
        .map_err(|e| format!("the API server failed: {e}"))?;
    let running = workers.len();
    eprintln!("huntbook serve: stopping; waiting for {running} workers to finish their notebooks (signal again to stop now)");
    tokio::task::spawn_blocking(move || {
        for worker in workers {
            let _ = worker.join();
        }
    })
    .await
    .map_err(|e| e.to_string())
}

/// One worker on its own thread, counted alive for as long as the thread runs.
fn start_worker(
    store: Arc<JobStore>,
    options: WorkerOptions,
    liveness: Arc<Liveness>,
    stop: watch::Receiver<bool>,
) -> Result<std::thread::JoinHandle<()>, String> {
    let name = options.name.clone();
    std::thread::Builder::new()
        .name(format!("worker {name}"))
        .spawn(move || {
            let _alive = liveness.alive();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            let worker = Worker::new(store, options);
            runtime.block_on(async {
                while let Err(e) = worker.serve(stop.clone()).await {
                    if *stop.borrow() {
                        break;
                    }
                    eprintln!(
                        "huntbook serve: worker {name}: {e}; trying again in {} s",
                        WORKER_RETRY.as_secs()
                    );
                    tokio::time::sleep(WORKER_RETRY).await;
                }
            });
        })
        .map_err(|e| format!("cannot start a worker thread: {e}"))
}

/// Retry or fail the jobs of runs whose worker stopped heartbeating (a worker that
/// is busy with a long notebook does not reap meanwhile).
async fn reap(store: Arc<JobStore>, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(REAP_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {
                match store.reap().await {
                    Ok(settled) => for s in settled {
                        eprintln!("huntbook serve: run {} of job {}: {}", s.run.id, s.job.id,
                                  s.run.reason.as_deref().unwrap_or("reaped"));
                    },
                    Err(e) => eprintln!("huntbook serve: reaping: {e}"),
                }
            }
            // Only `true` is ever sent; a dropped sender means stopping too.
            _ = stop.changed() => return,
        }
    }
}

/// The first SIGINT or SIGTERM asks everything to stop; a second exits at once.
async fn signals(
    (mut int, mut term): (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
    stop: watch::Sender<bool>,
) {
    for round in 0.. {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        if round > 0 {
            eprintln!("huntbook serve: stopping now");
            std::process::exit(130);
        }
        let _ = stop.send(true);
    }
}
