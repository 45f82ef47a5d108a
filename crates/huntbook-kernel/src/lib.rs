//! Jupyter kernels for huntbook: find a kernel, start it, talk to it over the Jupyter
//! protocol, and stop it — without jupyter_client: the only Python process is the
//! kernel itself.
//!
//! # Overview
//!
//! The principal types, in the order data moves through them:
//!
//! * [`KernelSpec`] is a kernel's launch recipe (`kernel.json`). [`find_kernelspec`],
//!   [`list_kernelspecs`] and [`kernelspec_for_language`] search the Jupyter data
//!   directories; a [`Discovery`] names the Python interpreter or venv whose kernels
//!   come first and which runs `python` kernels.
//! * [`Kernel::launch`] writes a connection file (IPC sockets by default, see
//!   [`Transport`]) in a private directory, spawns the kernel in its own process group, connects the shell,
//!   control and IOPub channels, and waits until the kernel has answered
//!   `kernel_info_request` and IOPub is proven live. [`LaunchOptions`] sets the
//!   working directory, environment, transport and start timeout.
//! * [`Kernel::execute`] sends one `execute_request`. Output flows back as
//!   [`IopubEvent`]s handed to a callback one by one as they arrive (nothing is
//!   accumulated here), and the call returns the [`ExecuteReply`]. [`ExecuteOptions`]
//!   bounds it: a timeout that interrupts the kernel, and a grace period for output
//!   that trails the reply.
//! * [`Kernel::shutdown`] asks the kernel to stop and then kills its process group;
//!   dropping a [`Kernel`] kills it outright. No kernel process survives either.
//!
//! Underneath, the `wire` module turns messages into HMAC-signed ZeroMQ frames and
//! back, dropping (with a warning) any message whose signature does not verify.
//!
//! # Failure, and never hanging
//!
//! Every wait has a deadline, and every wait watches the kernel process: a kernel that
//! crashes, calls `os._exit` or is killed by the OOM killer yields
//! [`KernelError::Died`], whose status says how it ended ("killed by signal 9
//! (SIGKILL: out of memory?)"), within a fraction of a second. A kernel that cannot
//! start yields [`KernelError::DiedAtStart`] with the last of its stderr, or
//! [`KernelError::StartTimeout`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), huntbook_kernel::KernelError> {
//! use huntbook_kernel::*;
//! let spec = find_kernelspec("python3", &Discovery::default())?;
//! let mut kernel = Kernel::launch(&spec, LaunchOptions::default()).await?;
//! let reply = kernel
//!     .execute("print('hi')", &ExecuteOptions::default(), &mut |event| {
//!         if let IopubEvent::Stream { text, .. } = event {
//!             print!("{text}");
//!         }
//!     })
//!     .await?;
//! assert_eq!(reply.status, ReplyStatus::Ok);
//! kernel.shutdown(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```

mod cgroup;
mod connection;
pub mod engine;
mod error;
mod execute;
mod forkserver;
mod kernel;
mod kernelspec;
mod pool;
mod process;
pub mod run;
mod wire;

pub use connection::{ConnectionInfo, Transport};
pub use error::KernelError;
pub use execute::{ExecuteOptions, ExecuteReply, IopubEvent, ReplyStatus};
pub use kernel::{Kernel, LaunchOptions, BASE_ENV};
pub use kernelspec::{
    find_kernelspec, kernelspec_for_language, list_kernelspecs, Discovery, InterruptMode,
    KernelSpec,
};
pub use pool::KernelPool;
pub use process::describe_exit;
