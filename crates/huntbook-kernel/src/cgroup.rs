//! Memory limits for a kernel, through a Linux control group of its own.
//!
//! A kernel with [`LaunchOptions::memory_max`](crate::LaunchOptions::memory_max) set
//! gets a fresh cgroup below ours before it starts; the forked child moves itself into
//! it between fork and exec, so the kernel and everything it starts are counted from
//! their first byte. With cgroup v2 the limit is `memory.max` (and `memory.swap.max` is
//! set to 0 where it exists, so swapping cannot stretch the limit); with the v1 memory
//! controller it is `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes`). A
//! kernel over its limit is killed by the kernel's OOM killer, which the engine reports
//! as a kernel that died ("killed by signal 9 (SIGKILL: out of memory?)").
//!
//! Where no cgroup can be created (no controller, read-only `/sys/fs/cgroup`, no
//! delegation), the launch is refused with [`KernelError::MemoryLimit`]: a limit that
//! was asked for is never silently dropped. The group is removed when the kernel ends.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use crate::KernelError;

const ROOT: &str = "/sys/fs/cgroup";

/// A kernel's own memory cgroup, removed on drop.
pub(crate) struct MemoryCgroup {
    dir: PathBuf,
    /// `cgroup.procs` of the group, ready for the forked child to write its pid into.
    procs: CString,
}

impl MemoryCgroup {
    /// Creates a group holding at most `limit` bytes.
    pub(crate) fn create(limit: u64) -> Result<MemoryCgroup, KernelError> {
        let membership = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let (parent, files) = parent_group(&membership, Path::new(ROOT)).map_err(refuse)?;
        let dir = parent.join(format!("huntbook-kernel-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).map_err(|e| refuse(format!("cannot create {}: {e}", dir.display())))?;
        let group = MemoryCgroup {
            procs: CString::new(dir.join("cgroup.procs").into_os_string().into_encoded_bytes())
                .map_err(|_| refuse("the cgroup path holds a NUL byte".into()))?,
            dir,
        };
        let (limit_file, swap_file, swap_value) = files;
        let write = |name: &str, value: &str| {
            let path = group.dir.join(name);
            std::fs::write(&path, value).map_err(|e| refuse(format!("cannot write {value} to {}: {e}", path.display())))
        };
        write(limit_file, &limit.to_string())?;
        if group.dir.join(swap_file).exists() {
            write(swap_file, &swap_value(limit))?;
        }
        Ok(group)
    }

    /// The file the child writes its pid into.
    pub(crate) fn procs_file(&self) -> &CString {
        &self.procs
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        // The group can be removed once its last process is reaped, which the kernel's
        // own drop has just waited for; a straggler leaves an empty group behind.
        for _ in 0..20 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

type LimitFiles = (&'static str, &'static str, fn(u64) -> String);

/// The group new kernel groups go under, and the files that hold the limit there:
/// cgroup v2 when the unified hierarchy is mounted with the memory controller,
/// otherwise the v1 memory hierarchy.
fn parent_group(membership: &str, root: &Path) -> Result<(PathBuf, LimitFiles), String> {
    let ours = |hierarchy: &dyn Fn(&str) -> bool| {
        membership.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            hierarchy(controllers).then(|| path.trim_start_matches('/').to_owned())
        })
    };
    if root.join("cgroup.controllers").is_file() {
        let path = ours(&|c: &str| c.is_empty()).unwrap_or_default();
        let parent = within(root, &path);
        let enabled = std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
        if !enabled.split_whitespace().any(|c| c == "memory") {
            std::fs::write(parent.join("cgroup.subtree_control"), "+memory").map_err(|e| {
                format!(
                    "the memory controller is not enabled for the children of {} and cannot be ({e}); \
                     run the service in a cgroup delegated to it (systemd: Delegate=yes)",
                    parent.display()
                )
            })?;
        }
        return Ok((parent, ("memory.max", "memory.swap.max", |_| "0".into())));
    }
    let v1 = root.join("memory");
    if v1.join("memory.limit_in_bytes").is_file() {
        let path = ours(&|c: &str| c.split(',').any(|c| c == "memory")).unwrap_or_default();
        return Ok((within(&v1, &path), ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", |l| l.to_string())));
    }
    Err(format!("no cgroup memory controller is mounted at {}", root.display()))
}

/// Our group's folder under a hierarchy's mount. In a container the mount often shows
/// our own group as its root while /proc still names the host's path: then the mount
/// itself is ours.
fn within(mount: &Path, path: &str) -> PathBuf {
    let full = mount.join(path);
    if path.is_empty() || full.is_dir() {
        full
    } else {
        mount.to_path_buf()
    }
}

fn refuse(reason: String) -> KernelError {
    KernelError::MemoryLimit { reason }
}

/// Moves the calling process into the group whose `cgroup.procs` is `procs`. Runs in
/// the forked child before exec, so it only formats into a stack buffer and makes
/// system calls (open, write, close, getpid).
pub(crate) fn join_in_child(procs: &CString) -> std::io::Result<()> {
    let mut digits = [0u8; 20];
    // SAFETY: getpid has no preconditions.
    let mut pid = unsafe { libc::getpid() } as u64;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    // SAFETY: `procs` is a valid NUL-terminated path; the buffer outlives the write.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let wrote = libc::write(fd, digits[at..].as_ptr().cast(), digits.len() - at);
        let error = std::io::Error::last_os_error();
        libc::close(fd);
        if wrote < 0 {
            return Err(error);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_v1_memory_hierarchy_and_our_group_in_it() {
        let root = tempfile::tempdir().unwrap();
        let memory = root.path().join("memory");
        std::fs::create_dir_all(memory.join("jobs/web")).unwrap();
        std::fs::write(memory.join("memory.limit_in_bytes"), "").unwrap();
        let membership = "9:name=systemd:/\n4:cpu,memory:/jobs/web\n0::/\n";
        let (parent, (limit, swap, value)) = parent_group(membership, root.path()).unwrap();
        assert_eq!(parent, memory.join("jobs/web"));
        assert_eq!((limit, swap, value(5).as_str()), ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "5"));
        // A container's mount shows its own group as the root.
        let (parent, _) = parent_group("4:memory:/elsewhere/abc\n", root.path()).unwrap();
        assert_eq!(parent, memory);
    }

    #[test]
    fn prefers_cgroup_v2_and_enables_its_memory_controller() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("svc")).unwrap();
        std::fs::write(root.path().join("cgroup.controllers"), "cpu memory").unwrap();
        std::fs::write(root.path().join("svc/cgroup.subtree_control"), "cpu").unwrap();
        let (parent, (limit, _, swap)) = parent_group("0::/svc\n", root.path()).unwrap();
        assert_eq!(parent, root.path().join("svc"));
        assert_eq!((limit, swap(9).as_str()), ("memory.max", "0"));
        // A plain file takes the write; a real cgroup file enables the controller.
        assert_eq!(std::fs::read_to_string(root.path().join("svc/cgroup.subtree_control")).unwrap(), "+memory");
    }

    #[test]
    fn no_controller_is_a_clear_refusal() {
        let root = tempfile::tempdir().unwrap();
        let reason = parent_group("0::/\n", root.path()).unwrap_err();
        assert!(reason.contains("no cgroup memory controller"), "{reason}");
    }
}
