//! Connection info: where the kernel's five sockets live and the key that signs
//! messages, written to the JSON connection file the kernel reads at start.
//!
//! Each kernel gets a private directory (mode 0700) under the temp dir holding its
//! connection file and, with the default [`Transport::Ipc`], its Unix socket files.
//! IPC needs no ports, so many kernels started at once cannot race for the same port
//! (papermill issue #511). [`Transport::Tcp`] binds five ports on 127.0.0.1, releases
//! them and hands them to the kernel; it is there for kernels that cannot do IPC. The
//! directory is removed when the [`ConnectionFile`] is dropped.

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde_json::json;

use crate::KernelError;

/// How the client reaches the kernel's sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// Unix domain sockets in the connection directory (default; no port races).
    #[default]
    Ipc,
    /// TCP on 127.0.0.1.
    Tcp,
}

/// The contents of a connection file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The transport.
    pub transport: Transport,
    /// For TCP the address; for IPC the socket path prefix (`<ip>-<port>`).
    pub ip: String,
    /// The shell (request/reply) channel.
    pub shell_port: u16,
    /// The IOPub (broadcast output) channel.
    pub iopub_port: u16,
    /// The stdin channel (unused: huntbook never allows `input()`).
    pub stdin_port: u16,
    /// The control channel (shutdown, interrupt).
    pub control_port: u16,
    /// The heartbeat channel (unused: liveness comes from the child process).
    pub hb_port: u16,
    /// The HMAC key, shared with the kernel.
    pub key: String,
    /// The kernel's name, for tools that read the file.
    pub kernel_name: String,
}

impl ConnectionInfo {
    /// The ZeroMQ endpoint of one of the ports, e.g. `ipc:///tmp/huntbook-x/k-1`.
    pub fn endpoint(&self, port: u16) -> String {
        match self.transport {
            Transport::Ipc => format!("ipc://{}-{port}", self.ip),
            Transport::Tcp => format!("tcp://{}:{port}", self.ip),
        }
    }

    /// The JSON the kernel reads.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "shell_port": self.shell_port,
            "iopub_port": self.iopub_port,
            "stdin_port": self.stdin_port,
            "control_port": self.control_port,
            "hb_port": self.hb_port,
            "ip": self.ip,
            "key": self.key,
            "transport": match self.transport { Transport::Ipc => "ipc", Transport::Tcp => "tcp" },
            "signature_scheme": "hmac-sha256",
            "kernel_name": self.kernel_name,
        })
    }
}

/// A connection file on disk in its private directory; dropping it removes both.
#[derive(Debug)]
pub(crate) struct ConnectionFile {
    dir: PathBuf,
    path: PathBuf,
    info: ConnectionInfo,
}

/// Unix socket paths are limited to 107 bytes; leave room for `/k-5`.
const MAX_DIR_LEN: usize = 90;

impl ConnectionFile {
    /// Creates the private directory and writes the connection file (mode 0600).
    pub(crate) fn create(
        transport: Transport,
        kernel_name: &str,
    ) -> Result<ConnectionFile, KernelError> {
        let dir = private_dir(transport)?;
        match Self::write_in(dir.clone(), transport, kernel_name) {
            Ok(file) => Ok(file),
            Err(err) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(err)
            }
        }
    }

    fn write_in(
        dir: PathBuf,
        transport: Transport,
        kernel_name: &str,
    ) -> Result<ConnectionFile, KernelError> {
        let (ip, ports) = match transport {
            // ipykernel binds `<ip>-<port>`; any distinct small numbers will do.
            Transport::Ipc => (
                dir.join("k").to_string_lossy().into_owned(),
                [1, 2, 3, 4, 5],
            ),
            Transport::Tcp => ("127.0.0.1".to_string(), free_tcp_ports()?),
        };
        let info = ConnectionInfo {
            transport,
            ip,
            shell_port: ports[0],
            iopub_port: ports[1],
            stdin_port: ports[2],
            control_port: ports[3],
            hb_port: ports[4],
            key: random_key(),
            kernel_name: kernel_name.to_string(),
        };
        let path = dir.join(format!("kernel-{}.json", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                KernelError::io(
                    format!("cannot create connection file {}", path.display()),
                    e,
                )
            })?;
        let text = serde_json::to_string_pretty(&info.to_json()).expect("JSON of strings and ints");
        file.write_all(text.as_bytes()).map_err(|e| {
            KernelError::io(
                format!("cannot write connection file {}", path.display()),
                e,
            )
        })?;
        Ok(ConnectionFile { dir, path, info })
    }

    /// The connection file's path (for `{connection_file}`).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// What the file says.
    pub(crate) fn info(&self) -> &ConnectionInfo {
        &self.info
    }
}

impl Drop for ConnectionFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Makes `<tmp>/huntbook-<random>` with mode 0700, falling back to `/tmp` when the
/// temp dir's path is too long for Unix socket names.
fn private_dir(transport: Transport) -> Result<PathBuf, KernelError> {
    let mut base = std::env::temp_dir();
    if transport == Transport::Ipc && base.as_os_str().len() + 22 > MAX_DIR_LEN {
        base = PathBuf::from("/tmp");
    }
    let mut last_err = None;
    for _ in 0..8 {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let dir = base.join(format!("huntbook-{}", &name[..12]));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => {
                return Err(KernelError::io(
                    format!("cannot create a kernel directory in {}", base.display()),
                    e,
                ))
            }
        }
    }
    Err(KernelError::io(
        format!("cannot create a kernel directory in {}", base.display()),
        last_err.expect("loop ran"),
    ))
}

/// Five distinct free ports, none handed to another kernel by this process before:
/// they are bound at once (so they differ), then released for the kernel to bind.
/// The OS may give a port just released to the next bind, so without the record of
/// ports handed out, two kernels started at once could be given the same port and
/// one would fail to start.
fn free_tcp_ports() -> Result<[u16; 5], KernelError> {
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let mut handed_out = HANDED_OUT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Listeners on ports handed out before stay bound until the end, so that the
    // next bind gets another port.
    let mut listeners = Vec::new();
    let mut ports = Vec::with_capacity(5);
    while ports.len() < 5 {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| KernelError::io("cannot reserve TCP ports on 127.0.0.1", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| KernelError::io("cannot read a reserved TCP port", e))?
            .port();
        if handed_out.insert(port) {
            ports.push(port);
        }
        listeners.push(listener);
    }
    Ok([ports[0], ports[1], ports[2], ports[3], ports[4]])
}

/// 256 bits from the OS random source, hex-encoded.
fn random_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn ipc_file_is_private_and_removed_on_drop() {
        let file = ConnectionFile::create(Transport::Ipc, "python3").unwrap();
        let dir = file.path().parent().unwrap().to_path_buf();
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        assert_eq!(json["transport"], "ipc");
        assert_eq!(json["signature_scheme"], "hmac-sha256");
        assert_eq!(json["kernel_name"], "python3");
        assert_eq!(json["key"].as_str().unwrap().len(), 64);
        let info = file.info();
        assert_eq!(
            info.endpoint(info.shell_port),
            format!("ipc://{}/k-1", dir.display())
        );
        assert!(info.endpoint(5).len() < 108);

        drop(file);
        assert!(!dir.exists());
    }

    #[test]
    fn tcp_ports_are_distinct_and_keys_differ() {
        let a = ConnectionFile::create(Transport::Tcp, "k").unwrap();
        let b = ConnectionFile::create(Transport::Tcp, "k").unwrap();
        let i = a.info();
        let mut ports = vec![
            i.shell_port,
            i.iopub_port,
            i.stdin_port,
            i.control_port,
            i.hb_port,
        ];
        ports.sort();
        ports.dedup();
        assert_eq!(ports.len(), 5);
        assert!(ports.iter().all(|p| *p != 0));
        assert_eq!(
            i.endpoint(i.shell_port),
            format!("tcp://127.0.0.1:{}", i.shell_port)
        );
        assert_ne!(a.info().key, b.info().key);
        assert_ne!(a.path(), b.path());
    }
}
