"""Operating-system walls around a grading child (Linux, when the grader runs as root).

A Python audit hook can be switched off by the very code it watches, so the walls that
count are the kernel's. `enter(folder, root, hidden)` puts the calling process (the
grading child, before it imports the submission) into:

- a PID namespace of its own: it is process 1 there and sees no other process (there
  is no /proc at all), so it cannot signal, trace or read the grader, and whatever it
  starts dies with it;
- network, IPC and hostname namespaces of its own: no network, no shared memory or
  message queues that outlive it, no hostname to change;
- a file system of its own (a mount namespace and a new root): only Python and its
  packages, the system libraries and a few devices, all read-only, plus its folder,
  writable but where no program can be run. Nothing else of the machine exists there:
  not the grader's files, not /etc, not minnet's source (covered by an empty,
  unreadable folder even inside site-packages);
- no capabilities, and no way to gain any, so it cannot undo any of this.

To be process 1 of a new PID namespace, the caller forks: the original process stays
outside as a relay that waits for the jailed one and ends the way it ended (the same
exit status, or the same signal), so the grader still sees how the child ended.

Like worker.py, this file imports nothing from minnet: the child loads it by path.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 24, 1, 38
CAPABILITY_VERSION_3 = 0x20080522
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
READ_ONLY = MS_RDONLY | MS_NOSUID | MS_NODEV
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")
SYSTEM = ("/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib", "/lib64")
# The exit status of a jailed child that could not finish building its walls: it ends
# before any student code runs, and the grader says so.
JAIL_FAILED = 70


def available() -> bool:
    """Whether this process may build the walls: root, on Linux, on a known machine."""
    return (hasattr(os, "fork") and os.uname().sysname == "Linux" and os.geteuid() == 0
            and os.uname().machine in SYS_CAPSET)


def enter(folder: str, root: str, hidden: list[str]) -> None:
    """Jail the calling process; returns only in the jailed process (see the module doc).

    folder: the one place that stays writable (the working directory); root: an
    empty directory to build the new root in; hidden: folders to cover (minnet's
    source). Raises OSError, before forking, if the kernel refuses a namespace or a
    mount; the caller is then unchanged but for walls already built.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    # The caller enters the new namespaces at once (its children the new PID
    # namespace): build the file system before forking.
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                        CLONE_NEWUTS), "unshare")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path in _what_python_needs():
        _expose(libc, root, path, READ_ONLY)
    for link in ("/lib", "/lib64"):  # /lib -> usr/lib on systems with a merged /usr
        if os.path.islink(link):
            os.symlink(os.readlink(link), root + link)
    _expose(libc, root, folder, MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for path in hidden:
        if os.path.isdir(root + path):
            _mount(libc, "tmpfs", root + path, "tmpfs", READ_ONLY | MS_NOEXEC,
                   "size=4k,mode=000")
    _mount(libc, None, root, None, MS_REMOUNT | READ_ONLY)
    os.chdir(root)
    os.chroot(".")
    os.chdir(folder)
    child = os.fork()
    if child:
        _relay(child)
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the relay gone: end too
        _drop_capabilities(libc)
    except OSError as error:
        os.write(2, f"minnet grade: the grading process could not be isolated ({error})\n"
                 .encode())
        os._exit(JAIL_FAILED)


def _what_python_needs():
    """The folders (and devices) the new root shows: Python, its packages, the system
    libraries, the devices; each only once (not inside another one)."""
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              *[path for path in sys.path if os.path.isdir(path)], *SYSTEM, *DEVICES}
    real = sorted({os.path.realpath(place) for place in places if os.path.exists(place)})
    chosen = []
    for path in real:
        if not any(path == outer or path.startswith(outer.rstrip("/") + "/")
                   for outer in chosen):
            chosen.append(path)
    return chosen


def _expose(libc, root, path, flags):
    """Make `path` appear, the same, at the same place in the new root, with `flags`."""
    target = root + path
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(libc, path, target, None, MS_BIND | MS_REC)
    _mount(libc, None, target, None, MS_REMOUNT | MS_BIND | flags)


def _relay(child):
    """Wait for the jailed child, then end as it ended: its exit status, or its signal."""
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.WEXITSTATUS(status))


def _mount(libc, source, target, kind, flags, data=None):
    encode = lambda text: None if text is None else os.fsencode(text)  # noqa: E731
    _check(libc.mount(encode(source), encode(target), encode(kind), ctypes.c_ulong(flags),
                      encode(data)), f"mount {target}")


def _drop_capabilities(libc):
    """No capabilities now, none in the bounding set, and no way to gain any later."""
    for capability in range(64):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # past the last one: EINVAL

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Sets(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, sets = Header(CAPABILITY_VERSION_3, 0), (Sets * 2)()
    _check(libc.syscall(SYS_CAPSET[os.uname().machine], ctypes.byref(header), sets), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")


def _check(result, what):
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")
