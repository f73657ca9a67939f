"""Running a submission where it cannot touch the grade: a child process, and proxies.

A `Session` grades one submission. It starts a grading child (worker.py: a fresh
interpreter, in a new temporary folder holding a copy of the submission, with limits
on memory, CPU time and file sizes), asks it to import the student's file, and then
to run single methods of the student's objects on inputs the grader chooses.

In this process each student object is a proxy, `RemoteLayer` or `RemoteLoss`: a
layer or loss whose forward and backward send their arguments to the child and
return what the student's code returned there. minnet's checker works on a proxy
unchanged, so every number that decides a grade (numerical derivatives, errors,
verdicts) is computed here, where no student code runs. A proxy also reproduces what
the call did to its arguments: if the student's forward changed x in place, the
caller's x changes too, exactly as in one process.

The child's stdout and stderr are only counted. When the child dies, exits, runs out
of time (the wall clock is kept here: the process group is killed) or sends garbage,
the call raises ChildLost with the reason in words; the grader fails the class in
progress and the session starts a fresh child for the next class.
"""
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from ...contract import Layer, Loss
from . import wire

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
MINNET_DIR = os.path.dirname(os.path.dirname(os.path.dirname(WORKER)))
# Perturbed evaluations per round trip: enough to make a round trip cheap, few enough
# that one reply stays a few MB.
MOVES_PER_REQUEST = 4096


@dataclass(frozen=True)
class Limits:
    """What a grading child may use.

    memory_mb: address space; time_limit: wall-clock seconds for all the tests of one
    class; import_time_limit: seconds for importing the submission; file_size_mb: the
    largest file it may write (in its own folder; it may write nowhere else).
    """
    memory_mb: int = 2048
    time_limit: float = 10.0
    import_time_limit: float = 10.0
    file_size_mb: int = 4


class ChildLost(Exception):
    """The grading child cannot answer any more. problem: a short name ("time limit",
    "memory limit", "ended", "crashed", "garbage"); the message says it in words."""

    def __init__(self, problem, message):
        super().__init__(message)
        self.problem = problem


class StudentRaised(Exception):
    """The student's code raised an exception in the child. details: its type, message,
    where (the student's own line), and for SystemExit the exit code."""

    def __init__(self, details):
        self.details = details
        text = f"{details.get('type')}: {details.get('message')}"
        super().__init__(text + (f" ({details['where']})" if details.get("where") else ""))


class Child:
    """One grading child process. request(message, deadline) -> the reply."""

    def __init__(self, folder, limits, classes):
        self.printed = 0
        self.refused = []
        request_read, self.request_fd = os.pipe()
        self.result_fd, result_write = os.pipe()
        config = {"memory": limits.memory_mb << 20, "file_size": limits.file_size_mb << 20,
                  # a backstop for the CPU: the wall clock, kept here, comes first
                  "cpu": int(limits.import_time_limit + classes * limits.time_limit) + 5}
        env = {"PATH": os.defpath, "HOME": folder, "TMPDIR": folder, "LANG": "C.UTF-8",
               "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", WORKER, MINNET_DIR, str(request_read), str(result_write),
                 json.dumps(config)],
                cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, pass_fds=(request_read, result_write),
                start_new_session=True)  # its own process group, killed as a whole
        finally:
            os.close(request_read)
            os.close(result_write)
        self.selector = selectors.DefaultSelector()
        for stream in (self.process.stdout, self.process.stderr):
            os.set_blocking(stream.fileno(), False)
            self.selector.register(stream.fileno(), selectors.EVENT_READ, "output")
        self.selector.register(self.result_fd, selectors.EVENT_READ, "result")
        os.set_blocking(self.request_fd, False)

    def request(self, message, deadline):
        """Send one request and wait for its reply until `deadline` (time.monotonic)."""
        if self.process is None:
            raise ChildLost("ended", "the grading process has already ended")
        self._send(wire.encode(message), deadline)
        reply = self._receive(deadline)
        self.refused += [str(item) for item in reply.pop("refused", [])][:20]
        return reply

    def close(self):
        """Kill the child's whole process group and free everything it held."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()
        self.selector.close()
        for fd in (self.request_fd, self.result_fd):
            os.close(fd)
        self.process.stdout.close()
        self.process.stderr.close()
        self.process = None

    def _send(self, data, deadline):
        view = memoryview(data)
        with selectors.DefaultSelector() as writable:
            writable.register(self.request_fd, selectors.EVENT_WRITE)
            while view:
                if not writable.select(self._remaining(deadline)):
                    self._lose_to_time()
                try:
                    view = view[os.write(self.request_fd, view):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    raise self._lost() from None

    def _receive(self, deadline):
        buffer, length = bytearray(), None
        while True:
            events = self.selector.select(self._remaining(deadline))
            if not events:
                self._lose_to_time()
            for key, _ in events:
                if key.data == "output":
                    self._count(key.fd)
                    continue
                chunk = os.read(self.result_fd, 1 << 20)
                if not chunk:
                    raise self._lost()
                buffer += chunk
                try:
                    if length is None and len(buffer) >= 8:
                        length = wire.frame_length(bytes(buffer[:8]))
                    if length is not None and len(buffer) > 8 + length:
                        raise wire.Garbage("bytes beyond the end of the reply")
                    if length is not None and len(buffer) == 8 + length:
                        reply = wire.decode(bytes(buffer[8:]))
                        for fd in (self.process.stdout.fileno(), self.process.stderr.fileno()):
                            self._count(fd)  # the child flushed its output before replying
                        return reply
                except wire.Garbage as error:
                    self.close()
                    raise ChildLost("garbage", "the submission sent garbage on the grader's "
                                    f"channel ({error})") from None

    def _count(self, fd):
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                try:
                    self.selector.unregister(fd)
                except (KeyError, ValueError):
                    pass
                return
            self.printed += len(chunk)

    @staticmethod
    def _remaining(deadline):
        return max(0.0, deadline - time.monotonic())

    def _lose_to_time(self):
        self.close()
        raise ChildLost("time limit", "time limit: the submission was still running when its "
                        "time was up (an endless loop, or far too slow: work with whole "
                        "arrays, not single numbers)")

    def _lost(self):
        """The child closed its channel: say how it ended."""
        try:
            status = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            status = None
        self.close()
        if status is None:
            return ChildLost("ended", "the submission closed the grader's channel")
        if status >= 0:
            return ChildLost("ended", f"the submission ended the grading process (exit "
                             f"status {status}: sys.exit or os._exit in the submission)")
        signum = -status
        name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ \
            else str(signum)
        if signum == signal.SIGXCPU:
            return ChildLost("time limit", "CPU time limit: the grading process used up its "
                             "CPU time")
        if signum == signal.SIGKILL:
            return ChildLost("memory limit", "the grading process was killed (SIGKILL), most "
                             "likely for using too much memory")
        return ChildLost("crashed", f"the grading process crashed ({name})")


class Session:
    """Everything about grading one submission in children: its folder, its child,
    its limits. Call begin(name) before the tests of each class; the proxies send
    their requests through request()."""

    def __init__(self, folder, file, module, names, limits=Limits()):
        self.folder = folder  # a private copy of the submission, deleted by close()
        self.submitted = _files(self.folder)
        self.file, self.module, self.names, self.limits = file, module, list(names), limits
        self.child, self.deadline, self.origins = None, None, None
        self.printed_on_import, self.printed, self.refused = 0, 0, []
        self.import_error = None

    def start(self):
        """A fresh child with the submission imported; returns the import's reply.

        Raises ChildLost if importing ends, kills or outlasts the child.
        """
        self.end_child()
        self.child = Child(self.folder, self.limits, len(self.names))
        deadline = time.monotonic() + self.limits.import_time_limit
        try:
            reply = self.child.request({"op": "import", "file": self.file, "module": self.module,
                                        "names": self.names}, deadline)
        finally:
            self.printed_on_import = self.child.printed
        if "error" in reply:
            self.import_error = StudentRaised(reply["error"])
            self.origins = {}
        else:
            self.origins = reply["classes"]
        return reply

    def begin(self, seconds=None):
        """Start the clock for one class: its requests share `seconds` (the time limit)."""
        seconds = self.limits.time_limit if seconds is None else seconds
        if self.child is None or self.child.process is None:
            self.start()
        self.deadline = time.monotonic() + seconds

    def request(self, message):
        if self.child is None or self.child.process is None:
            raise ChildLost("ended", "the grading process has ended")
        before = self.child.printed
        try:
            reply = self.child.request(message, self.deadline)
        finally:
            self.printed += self.child.printed - before
            self.refused += self.child.refused
            self.child.refused = []
        if "error" in reply:
            raise StudentRaised(reply["error"])
        return reply

    def new(self, name, args=(), kwargs=None, attrs=(), loss=False, samplewise=False):
        """A proxy (a RemoteLoss if loss, else a RemoteLayer) for name(*args, **kwargs),
        built in the child; attrs: the attributes to mirror besides training, needs_dx;
        samplewise: whether the checker may run it on many stacked copies of a batch."""
        reply = self.request({"op": "new", "class": name, "args": list(args),
                              "kwargs": dict(kwargs or {}),
                              "attrs": ["training", "needs_dx", *attrs]})
        proxy = type(name, (RemoteLoss if loss else RemoteLayer,), {})(self, reply, attrs)
        proxy.samplewise = samplewise
        return proxy

    def created_files(self):
        """Files the submission wrote in its folder (not those it was submitted with)."""
        return sorted(set(_files(self.folder)) - set(self.submitted))

    def close(self):
        self.end_child()
        shutil.rmtree(self.folder, ignore_errors=True)

    def end_child(self):
        """Stop the current child; the next begin() starts a fresh one."""
        if self.child is not None:
            self.child.close()
            self.child = None


def _files(folder):
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.relpath(os.path.join(root, name), folder) for name in names
                  if "__pycache__" not in root]
    return found


# -- proxies -------------------------------------------------------------------------------

def _value(described, what):
    """What the child sent back for a value the student's code returned."""
    if "array" in described:
        array = described["array"]
        dtype = described.get("dtype")
        try:
            return array.astype(dtype) if dtype and np.dtype(dtype).kind in "biufc" else array
        except TypeError:
            return array
    if "number" in described:
        return described["number"]
    if "none" in described:
        return None
    raise TypeError(f"{what} is a {described.get('other', 'value of unknown type')}, not a "
                    "numpy array")


def _write_back(target, described):
    """Make the caller's array show what the student's code did to its copy in the child."""
    if isinstance(target, np.ndarray) and target.flags.writeable and "array" in described:
        after = described["array"]
        if after.shape == target.shape and not np.array_equal(after, target, equal_nan=True):
            target[...] = after


class _Remote:
    """A student object living in the grading child; see RemoteLayer and RemoteLoss."""

    def __init__(self, session, reply, attrs):
        self._session, self._id, self._attrs = session, reply["id"], tuple(attrs)
        if isinstance(reply["params"], dict) and "__kind__" not in reply["params"]:
            self.params = {key: _value(value, f"{type(self).__name__}.params[{key!r}]")
                           for key, value in reply["params"].items()}
        else:
            raise TypeError(f"{type(self).__name__}.params must be a dict of numpy arrays, "
                            f"got {reply['params'].get('__kind__')}")
        self.weights = tuple(reply["weights"])
        self.grads = {}
        for name, value in reply["attrs"].items():
            setattr(self, name, True if name in ("training", "needs_dx") and value is None
                    else value)

    def _call(self, method, args, grads=False, kinks=False):
        reply = self._session.request(
            {"op": "call", "id": self._id, "method": method, "args": list(args),
             "params": self.params, "attrs": self._attributes(), "grads": grads,
             "kinks": kinks})
        for target, described in zip(args, reply["args"]):
            _write_back(target, described)
        if isinstance(reply["params"], dict):
            for key, described in reply["params"].items():
                _write_back(self.params.get(key), described)
        return reply

    def _many(self, method, args, moves, kinks=False):
        """Results (and kink states) of `method` on args with each of `moves` applied."""
        results, states = [], []
        for start in range(0, len(moves), MOVES_PER_REQUEST):
            reply = self._session.request(
                {"op": "many", "id": self._id, "method": method, "args": list(args),
                 "params": self.params, "attrs": self._attributes(), "kinks": kinks,
                 "moves": moves[start:start + MOVES_PER_REQUEST]})
            results.append(reply["results"])
            states.append(reply.get("kinks"))
        kinks_out = None if any(s is None for s in states) else np.concatenate(states)
        return np.concatenate(results), kinks_out

    def _attributes(self):
        names = ("training", "needs_dx", *self._attrs)
        return {name: getattr(self, name) for name in names
                if isinstance(getattr(self, name, None), (bool, int, float, str))}


class RemoteLayer(_Remote, Layer):
    """A proxy for a student's layer in the grading child (the class takes its name)."""

    def forward(self, x):
        reply = self._call("forward", [x], kinks=True)
        self._kinks = reply.get("kinks")
        return _value(reply["result"], f"{type(self).__name__}.forward(x)")

    def backward(self, dout):
        reply = self._call("backward", [dout], grads=True)
        grads = reply.get("grads", {})
        if "__kind__" in grads:
            raise TypeError(f"{type(self).__name__}.grads must be a dict like "
                            f"{type(self).__name__}.params, got {grads['__kind__']}")
        self.grads = {key: _value(value, f"{type(self).__name__}.grads[{key!r}]")
                      for key, value in grads.items()}
        return _value(reply["result"], f"{type(self).__name__}.backward(dout)")

    def kink_state(self):
        return getattr(self, "_kinks", None)

    def forward_perturbed(self, x, moves):
        """forward(x) with one entry moved for each (name, flat index, delta) in moves,
        name "x" or a key of params: (outputs stacked, kink states stacked or None).
        Used by check_layer to send many evaluations per round trip."""
        moves = [["arg0" if name == "x" else "param:" + name, int(k), float(d)]
                 for name, k, d in moves]
        return self._many("forward", [x], moves, kinks=True)


class RemoteLoss(_Remote, Loss):
    """A proxy for a student's loss in the grading child (the class takes its name)."""

    def forward(self, scores, y):
        reply = self._call("forward", [scores, y])
        return _value(reply["result"], f"{type(self).__name__}.forward(scores, y)")

    def backward(self):
        reply = self._call("backward", [])
        return _value(reply["result"], f"{type(self).__name__}.backward()")

    def forward_perturbed(self, scores, y, flat, deltas):
        """forward(scores, y) with scores.flat[flat[k]] moved by deltas[k], for every k."""
        moves = [["arg0", int(k), float(d)] for k, d in zip(flat, deltas)]
        values, _ = self._many("forward", [scores, y], moves)
        return values.reshape(len(moves))

    def forward_each(self, stacked, y):
        """forward(stacked[k], y) for every k: the loss of each copy of a batch (used by
        the checker's stacked evaluation), in round trips of many copies."""
        values = []
        per_request = max(1, MOVES_PER_REQUEST * 8 // max(1, stacked[0].size))
        for start in range(0, len(stacked), per_request):
            reply = self._session.request(
                {"op": "each", "id": self._id, "method": "forward", "args": [y],
                 "stack": stacked[start:start + per_request], "params": self.params,
                 "attrs": self._attributes()})
            values.append(reply["results"].reshape(-1))
        return np.concatenate(values)
