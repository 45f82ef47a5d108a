# huntbook's kernel fork server (see forkserver.rs): imports ipykernel once, then forks
# one kernel per request, so that a pooled kernel costs a fork and ipykernel's own
# set-up instead of a new interpreter importing IPython, ZeroMQ and the debugger.
#
# fd 0 is a SOCK_SEQPACKET socket to huntbook; every message is one packet.
#   huntbook -> server: {"argv": [...], "cgroup": path or null}, with one file
#                       descriptor attached: the kernel's stdout and stderr.
#   server -> huntbook: "ready" once the imports are done; "started PID" or
#                       "failed REASON" for each request; "exit PID STATUS" when a
#                       kernel ends (STATUS as waitpid reports it).
import sys

# As ipykernel_launcher does: nothing is imported from the working directory while
# ipykernel loads; the kernel puts it back on sys.path when its shell starts.
if sys.path and sys.path[0] == "":
    del sys.path[0]

import atexit
import ctypes
import importlib
import json
import os
import select
import signal
import socket

from ipykernel import kernelapp

# What a kernel imports while it starts, after ipykernel.kernelapp: the shell, the
# debugger (debugpy is most of the cost), history, completion. Missing ones are
# imported by the kernel as usual.
for name in (
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.history",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "faulthandler",
    "sqlite3",
    "tornado.platform.asyncio",
):
    try:
        importlib.import_module(name)
    except Exception:
        pass

PR_SET_PDEATHSIG = 1
SERVER = os.getpid()
control = socket.socket(fileno=0)
wake_read, wake_write = os.pipe()
os.set_blocking(wake_read, False)
os.set_blocking(wake_write, False)
signal.set_wakeup_fd(wake_write)
# A handler (not SIG_IGN, which would let the kernel reap itself) so that SIGCHLD
# writes to the wake-up pipe.
signal.signal(signal.SIGCHLD, lambda signum, frame: None)


def tell(line):
    control.send(line.encode())


def reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        tell(f"exit {pid} {status}")


def kernel(request, output):
    """In the forked child: become the kernel the request describes. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(wake_read)
        os.close(wake_write)
        os.setpgid(0, 0)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != SERVER:
            os._exit(1)
        control.detach()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        if request["cgroup"]:
            with open(request["cgroup"], "w") as procs:
                procs.write(str(os.getpid()))
        sys.argv = request["argv"]
        try:
            kernelapp.launch_new_instance()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        atexit._run_exitfuncs()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve():
    tell("ready")
    while True:
        ready, _, _ = select.select([control, wake_read], [], [])
        if wake_read in ready:
            while True:
                try:
                    if not os.read(wake_read, 512):
                        break
                except BlockingIOError:
                    break
            reap()
        if control not in ready:
            continue
        message, fds, _, _ = socket.recv_fds(control, 65536, 1)
        if not message:
            return  # huntbook is gone; our kernels die with us (PR_SET_PDEATHSIG)
        try:
            request = json.loads(message)
            if len(fds) != 1:
                raise ValueError(f"expected one file descriptor, got {len(fds)}")
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except Exception as error:
            for fd in fds:
                os.close(fd)
            tell(f"failed {error}")
            continue
        if pid == 0:
            kernel(request, fds[0])
        os.close(fds[0])
        tell(f"started {pid}")


serve()
