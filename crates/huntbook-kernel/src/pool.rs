//! Pre-started kernels, so that a triggered run does not wait for its kernel to boot.
//!
//! Starting ipykernel takes the better part of a second (importing IPython, binding
//! sockets, the readiness handshake); a service that runs a notebook per alert wants
//! the first cell to start at once. A [`KernelPool`] keeps a few kernels started and
//! idle for each way of starting one, and [`KernelPool::take`] hands one out and starts
//! its replacement in the background.
//!
//! A kernel is handed out once and never comes back: a notebook leaves state behind
//! (variables, imports, files, threads), so a pooled kernel is as fresh as a new one.
//! Kernels are keyed by everything fixed when a kernel starts: the kernelspec, the
//! working directory, the environment (which carries the secrets a notebook declares,
//! so no run ever gets a kernel holding another notebook's secrets), environment
//! isolation, memory limit and transport.
//!
//! ipykernel kernels are forked from a fork server per key (see `forkserver`), which
//! has imported ipykernel once: a replacement then costs a fork and ipykernel's own
//! set-up rather than a new interpreter's imports, so on a few cores the spares no
//! longer eat the CPU the notebooks need. Where a server cannot start, kernels of that
//! key are spawned as usual.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::forkserver::{module_flag, ForkServer};
use crate::{Kernel, KernelError, KernelSpec, LaunchOptions, Transport};

/// A set of started, unused kernels. Cloning gives another handle on the same pool.
#[derive(Clone)]
pub struct KernelPool {
    shared: Arc<Shared>,
}

struct Shared {
    per_key: usize,
    state: Mutex<State>,
    /// The fork server of each key, or `None` where it could not start (not retried).
    servers: tokio::sync::Mutex<HashMap<PoolKey, Option<Arc<ForkServer>>>>,
}

#[derive(Default)]
struct State {
    idle: HashMap<PoolKey, Vec<Kernel>>,
    starting: HashMap<PoolKey, usize>,
    closed: bool,
}

/// What a kernel was started with. Secrets are part of it (in `env`), so it is kept
/// in memory only and never shown.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    name: String,
    argv: Vec<String>,
    spec_env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    env: Vec<(String, String)>,
    isolate_env: bool,
    memory_max: Option<u64>,
    transport: Transport,
}

impl PoolKey {
    fn new(spec: &KernelSpec, opts: &LaunchOptions) -> PoolKey {
        let mut env = opts.env.clone();
        env.sort();
        PoolKey {
            name: spec.name.clone(),
            argv: spec.argv.clone(),
            spec_env: spec.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            cwd: opts.cwd.clone(),
            env,
            isolate_env: opts.isolate_env,
            memory_max: opts.memory_max,
            transport: opts.transport,
        }
    }
}

impl std::fmt::Debug for KernelPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelPool")
            .field("per_key", &self.shared.per_key)
            .field("idle", &self.idle())
            .finish()
    }
}

impl KernelPool {
    /// A pool keeping up to `per_key` idle kernels for each way of starting one.
    pub fn new(per_key: usize) -> KernelPool {
        KernelPool {
            shared: Arc::new(Shared {
                per_key,
                state: Mutex::new(State::default()),
                servers: tokio::sync::Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A fresh kernel for one run: an idle one when the pool holds one started the same
    /// way, else one started now. Either way a replacement starts in the background.
    /// Must be called within a tokio runtime, which runs the replacements.
    pub async fn take(&self, spec: &KernelSpec, opts: &LaunchOptions) -> Result<Kernel, KernelError> {
        let key = PoolKey::new(spec, opts);
        let pooled = self.pop_alive(&key);
        self.refill(spec, opts, key.clone());
        match pooled {
            Some(kernel) => Ok(kernel),
            None => self.launch(spec, opts, &key).await,
        }
    }

    /// Shuts a used kernel down in the background (it is never pooled again). Must be
    /// called within a tokio runtime.
    pub fn retire(&self, kernel: Kernel) {
        tokio::spawn(kernel.shutdown(Duration::from_secs(5)));
    }

    /// Starts kernels for `spec` and `opts` in the background until the pool holds
    /// `per_key` of them (the service warms each notebook's kernels when it starts).
    pub fn warm(&self, spec: &KernelSpec, opts: &LaunchOptions) {
        self.refill(spec, opts, PoolKey::new(spec, opts));
    }

    /// How many kernels are idle in the pool.
    pub fn idle(&self) -> usize {
        self.lock().idle.values().map(Vec::len).sum()
    }

    /// Stops every idle kernel; kernels that finish starting later are stopped too.
    /// Kernels handed out keep running (and keep their fork server).
    pub async fn close(&self) {
        let idle: Vec<Kernel> = {
            let mut state = self.lock();
            state.closed = true;
            state.idle.drain().flat_map(|(_, kernels)| kernels).collect()
        };
        for kernel in idle {
            kernel.shutdown(Duration::from_secs(2)).await;
        }
        self.shared.servers.lock().await.clear();
    }

    /// Starts a kernel for `key`: forked from its server when it has one.
    async fn launch(&self, spec: &KernelSpec, opts: &LaunchOptions, key: &PoolKey) -> Result<Kernel, KernelError> {
        match self.server(spec, opts, key).await {
            Some(server) => Kernel::launch_forked(spec, opts.clone(), &server).await,
            None => Kernel::launch(spec, opts.clone()).await,
        }
    }

    /// The fork server for `key`, started (or restarted, if it died) now.
    async fn server(&self, spec: &KernelSpec, opts: &LaunchOptions, key: &PoolKey) -> Option<Arc<ForkServer>> {
        // Only ipykernel run as a module can be forked.
        module_flag(&spec.argv)?;
        let mut servers = self.shared.servers.lock().await;
        if let Some(known) = servers.get(key) {
            match known {
                Some(server) if server.is_alive() => return Some(Arc::clone(server)),
                Some(_) => {}
                None => return None,
            }
        }
        let started = match ForkServer::start(spec, opts).await {
            Ok(server) => Some(Arc::new(server)),
            Err(error) => {
                eprintln!(
                    "huntbook: {} kernels will be started one by one: their fork server did not start: {error}",
                    spec.name
                );
                None
            }
        };
        servers.insert(key.clone(), started.clone());
        started
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain counters and kernels behind:
        // still consistent enough to use.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle kernel started as `key` that is still alive; dead ones are dropped.
    fn pop_alive(&self, key: &PoolKey) -> Option<Kernel> {
        let mut state = self.lock();
        let kernels = state.idle.get_mut(key)?;
        while let Some(mut kernel) = kernels.pop() {
            if !kernel.has_exited() {
                return Some(kernel);
            }
        }
        None
    }

    fn refill(&self, spec: &KernelSpec, opts: &LaunchOptions, key: PoolKey) {
        let missing = {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            let have = state.idle.get(&key).map_or(0, Vec::len) + state.starting.get(&key).copied().unwrap_or(0);
            let missing = self.shared.per_key.saturating_sub(have);
            *state.starting.entry(key.clone()).or_default() += missing;
            missing
        };
        for _ in 0..missing {
            let (pool, spec, opts, key) = (self.clone(), spec.clone(), opts.clone(), key.clone());
            tokio::spawn(async move {
                let started = pool.launch(&spec, &opts, &key).await;
                let leftover = {
                    let mut state = pool.lock();
                    if let Some(count) = state.starting.get_mut(&key) {
                        *count = count.saturating_sub(1);
                    }
                    match started {
                        Ok(kernel) if !state.closed => {
                            state.idle.entry(key).or_default().push(kernel);
                            None
                        }
                        Ok(kernel) => Some(kernel),
                        Err(error) => {
                            // The run that needs it will start its own and report the
                            // same error where someone sees it.
                            eprintln!("huntbook: a spare {} kernel did not start: {error}", spec.name);
                            None
                        }
                    }
                };
                if let Some(kernel) = leftover {
                    kernel.shutdown(Duration::from_secs(2)).await;
                }
            });
        }
    }
}
