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

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args as ClapArgs;
use huntbook_core::secret::SecretResolver;
use huntbook_data::remote::azure::credential_from_config;
use huntbook_kernel::{find_kernelspec, Discovery, KernelPool};
use huntbook_runner::api::{router, ApiState, Liveness};
use huntbook_runner::triggers::{self, SourceAccess};
use huntbook_runner::{JobStore, Publisher, ServiceConfig, ServiceSecrets, Worker, WorkerOptions};
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
    /// Where notebooks are written while they run, before they are stored as
    /// Service.outputs says
    #[arg(long, value_name = "DIR", default_value = "huntbook-running")]
    pub output_dir: PathBuf,
}

/// How often the reaper looks for runs whose worker stopped heartbeating.
const REAP_EVERY: Duration = Duration::from_secs(15);

/// How often deliveries of findings that failed are tried again.
const DELIVER_EVERY: Duration = Duration::from_secs(30);

/// How often outputs past their retention are looked for.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// How long a worker whose store stopped answering waits before trying again.
const WORKER_RETRY: Duration = Duration::from_secs(5);

pub fn run(args: Args) -> u8 {
    let (config, service) = match args.config.load() {
        Ok(loaded) => loaded,
        Err(e) => return super::fail(e),
    };
    // Resolved before any runtime starts: vault sources block on their own.
    let resolver = huntbook_http::vault::resolver(&config);
    let secrets = match service.resolve_secrets(&resolver) {
        Ok(secrets) => secrets,
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            return super::fail(format!("the notebooks' secrets:\n{}", lines.join("\n")));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(serve(args, service, secrets, resolver)) {
        Ok(()) => 0,
        Err(e) => super::fail(e),
    }
}

async fn serve(
    args: Args,
    service: ServiceConfig,
    secrets: ServiceSecrets,
    resolver: SecretResolver,
) -> Result<(), String> {
    // Watched from the start, so that a signal sent once the address is printed is
    // never the default (fatal) one.
    use tokio::signal::unix::{signal, SignalKind};
    let watched = signal(SignalKind::interrupt())
        .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
        .map_err(|e| format!("cannot watch for signals: {e}"))?;
    let service = Arc::new(service);
    let store = Arc::new(open_store(&service).await?);
    let publisher = Arc::new(
        Publisher::from_service(&service, store.clone(), &resolver).map_err(|e| e.to_string())?,
    );
    let outputs_store = publisher.outputs().clone();
    let scrubber = Arc::new(secrets.scrubber().clone());
    let (stop_tx, stop) = watch::channel(false);
    // Every trigger's settings are checked before anything starts.
    let access = source_access(&service, resolver);
    let triggers = triggers::start(
        service.clone(),
        store.clone(),
        scrubber.clone(),
        &access,
        stop.clone(),
    )
    .map_err(|e| e.to_string())?;

    let listener = tokio::net::TcpListener::bind(service.listen)
        .await
        .map_err(|e| format!("cannot listen on {} (Service.listen): {e}", service.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;

    // A spare for each worker, so that runs arriving together all find one.
    let pool = KernelPool::new(service.workers);
    let liveness = Arc::new(Liveness::new(service.workers));
    let mut workers = Vec::new();
    for i in 0..service.workers {
        let mut options = WorkerOptions::from_service(
            format!("serve-{}-{i}", std::process::id()),
            &service,
            secrets.clone(),
            args.output_dir.clone(),
        );
        options.python = args.python.clone();
        options.after_run = Some(publisher.clone());
        options.pool = Some(pool.clone());
        if i == 0 {
            warm(&pool, &service, &options);
        }
        workers.push(start_worker(
            store.clone(),
            options,
            liveness.clone(),
            stop.clone(),
        )?);
    }
    tokio::spawn(reap(store.clone(), stop.clone()));
    tokio::spawn(upkeep(publisher, stop.clone()));
    println!("listening on http://{address}");
    let _ = std::io::stdout().flush();

    let state =
        ApiState::new(service, store, scrubber, liveness).with_outputs(outputs_store.clone());
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
    for trigger in triggers {
        let _ = trigger.await;
    }
    tokio::task::spawn_blocking(move || {
        for worker in workers {
            let _ = worker.join();
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    pool.close().await;
    Ok(())
}

/// Start a spare kernel for each notebook, as its runs will start theirs (the same
/// kernelspec, isolation, memory limit and secrets), so that a triggered run finds
/// one ready. A notebook whose kernel cannot be found is left to fail its own runs,
/// which say why.
fn warm(pool: &KernelPool, service: &ServiceConfig, options: &WorkerOptions) {
    let discovery = Discovery {
        python: options.python.clone(),
    };
    for entry in service.notebooks.values() {
        let kernel = match &options.kernel_name {
            Some(name) => Some(name.clone()),
            None => huntbook_notebook::io::read_path(&entry.path)
                .ok()
                .and_then(|nb| nb.kernel_name().map(str::to_owned)),
        };
        let Some(spec) = kernel.and_then(|name| find_kernelspec(&name, &discovery).ok()) else {
            continue;
        };
        let mut launch = options.launch_options(&entry.name);
        // As the engine adds them to the run's kernel.
        launch.env.extend(
            options
                .secrets
                .for_notebook(&entry.name)
                .iter()
                .map(|(name, value)| (name.clone(), value.expose().to_owned())),
        );
        pool.warm(&spec, &launch);
    }
}

/// How pollers reach their sources: secrets through the configured vaults, and
/// Sentinel workspaces signed in as the configuration says for Azure.
fn source_access(service: &ServiceConfig, resolver: SecretResolver) -> SourceAccess {
    let config = service.config.clone();
    let signin = huntbook_http::vault::resolver(&config);
    SourceAccess {
        secrets: resolver,
        azure: Box::new(move |workspace| {
            credential_from_config(
                "Microsoft Sentinel",
                &config,
                &signin,
                &["MSSentinel", "AzureSentinel"],
                Some(&workspace.tenant_id),
            )
            .map_err(|e| e.to_string())
        }),
        arm_url: None,
    }
}

/// Deliveries that failed are tried again when due, and outputs past their
/// retention are deleted.
async fn upkeep(publisher: Arc<Publisher>, mut stop: watch::Receiver<bool>) {
    let mut deliveries = tokio::time::interval(DELIVER_EVERY);
    let mut retention = tokio::time::interval(RETENTION_EVERY);
    loop {
        tokio::select! {
            _ = deliveries.tick() => {
                if let Err(e) = publisher.dispatcher().deliver_due().await {
                    eprintln!("huntbook serve: delivering findings: {e}");
                }
            }
            _ = retention.tick() => match publisher.apply_retention().await {
                Ok(deleted) if !deleted.is_empty() => {
                    eprintln!("huntbook serve: retention deleted {} outputs", deleted.len());
                }
                Ok(_) => {}
                Err(e) => eprintln!("huntbook serve: retention: {e}"),
            },
            _ = stop.changed() => return,
        }
    }
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
