"""Operating-system walls around a grading child (Linux, when the grader runs as root).

A Python audit hook can be switched off by the very code it watches, so the walls that
count are the kernel's. `enter(folder, hidden)` puts the calling process (the grading
child, before it imports the submission) into:

- a PID namespace of its own: it is process 1 there and sees no other process, so it
  cannot signal, trace or read the grader; whatever it starts dies with it;
- a network namespace of its own, with no network at all;
- a mount namespace in which every file system is read-only except its own folder,
  a fresh /proc shows only its own processes, and minnet's installed source (the
  reference implementation) is covered by an empty, unreadable folder;
- no capabilities, and no way to gain any, so it cannot undo any of this.

To be process 1 of a new PID namespace, the caller forks: the original process stays
outside as a relay that waits for the jailed one and ends the way it ended (the same
exit status, or the same signal), so the grader still sees how the child ended.

Like worker.py, this file imports nothing from minnet: the child loads it by path.
"""
import ctypes
import os
import signal

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 24, 1, 38
CAPABILITY_VERSION_3 = 0x20080522
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}


def available():
    """Whether this process may build the walls: root, on Linux, on a known machine."""
    return (hasattr(os, "fork") and os.uname().sysname == "Linux" and os.geteuid() == 0
            and os.uname().machine in SYS_CAPSET)


# The exit status of a jailed child that could not finish building its walls: it ends
# before any student code runs, and the grader says so.
JAIL_FAILED = 70


def enter(folder, hidden):
    """Jail the calling process; returns only in the jailed process (see the module doc).

    folder: the one place that stays writable; hidden: folders to cover (minnet's
    source). Raises OSError, before forking, if the kernel refuses a namespace or a
    mount; the caller is then unchanged but for walls already built.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    # The caller enters the new mount and network namespaces at once (and its children
    # the new PID namespace): build the file system walls before forking.
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET), "unshare")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, folder, folder, None, MS_BIND)  # a mount of its own, to stay writable
    for path in hidden:
        _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "size=4k,mode=000")
    for point, options in _mounts():
        if point != folder:
            flags = MS_REMOUNT | MS_BIND | MS_RDONLY
            for name, flag in (("nosuid", MS_NOSUID), ("nodev", MS_NODEV),
                               ("noexec", MS_NOEXEC)):
                flags |= flag if name in options else 0  # a remount must keep these
            _mount(libc, None, point, None, flags)
    os.chdir(folder)  # the working directory still pointed into the read-only mount below
    child = os.fork()
    if child:
        _relay(child)
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the relay gone: end too
        # A /proc of the new PID namespace: the jailed process sees only its own.
        _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _drop_capabilities(libc)
    except OSError as error:
        os.write(2, f"minnet grade: the grading process could not be isolated ({error})\n"
                 .encode())
        os._exit(JAIL_FAILED)


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


def _mounts():
    """(mount point, options) for every mount this process sees."""
    with open("/proc/self/mountinfo") as f:
        fields = [line.split() for line in f]
    return [(field[4].replace("\\040", " "), set(field[5].split(","))) for field in fields]


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
