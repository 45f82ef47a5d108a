//! Vault clients for synchronous callers.
//!
//! Secret references are resolved while reading configuration, which is synchronous.
//! [`Blocking`] owns a vault client and a small single-threaded tokio runtime and runs
//! one call at a time on it. Called from inside another runtime (where blocking the
//! thread would stall it, and tokio forbids nesting), it runs the call on a helper
//! thread instead; the calling thread still waits for it, so the vault must not be
//! served by that same single-threaded runtime.

use std::future::Future;

use crate::vault::VaultError;

/// A vault client usable from synchronous code.
#[derive(Debug)]
pub struct Blocking<C> {
    client: C,
    runtime: tokio::runtime::Runtime,
}

impl<C: Sync> Blocking<C> {
    pub fn new(client: C) -> Result<Blocking<C>, VaultError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| VaultError::Setup {
                service: "vault client",
                problem: format!("cannot start its runtime: {e}"),
            })?;
        Ok(Blocking { client, runtime })
    }

    /// The wrapped client.
    pub fn client(&self) -> &C {
        &self.client
    }

    /// Run `call` on the client and wait for its result:
    /// `blocking.run(|kv| kv.get_secret("vt-api-key"))`.
    pub fn run<'c, F, Fut, T>(&'c self, call: F) -> T
    where
        F: FnOnce(&'c C) -> Fut + Send,
        Fut: Future<Output = T>,
        T: Send,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.runtime.block_on(call(&self.client));
        }
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(call(&self.client)))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}
