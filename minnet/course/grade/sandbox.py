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

What the checker and Net read about a layer's class (minnet.contract.Layer's
capabilities: integer_input, has_kinks, random, buffers) a proxy takes from
minnet's reference class, never from the student's; samplewise comes from the
class's grading entry. A proxy keeps the buffers (BatchNorm's running statistics)
as arrays of its own: they are sent with every call and read back after it, as
the parameters are.

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
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from ...contract import Layer, Loss
from . import wire
from .jail import JAIL_FAILED
from .result import Judged, changed, text

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
MINNET_DIR = os.path.dirname(os.path.dirname(os.path.dirname(WORKER)))
# What a jailed child must not read even where it sees Python's packages: minnet's
# installed source (a jail shows nothing else of the machine anyway).
HIDDEN = [MINNET_DIR]
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
    """The student's code raised an exception in the child. details: its type, message
    and where (the student's own line), as plain one-line text."""

    def __init__(self, details):
        details = details if isinstance(details, dict) else {}
        self.details = {key: text(details.get(key), 300) for key in ("type", "message", "where")}
        words = f"{self.details['type']}: {self.details['message']}"
        super().__init__(words + (f" ({self.details['where']})" if details.get("where") else ""))


class Child:
    """One grading child process. request(message, deadline) -> the reply."""

    def __init__(self, folder, limits, classes, root):
        self.printed = 0
        self.refused = []
        self.process = None
        config = {"memory": limits.memory_mb << 20, "file_size": limits.file_size_mb << 20,
                  # a backstop for the CPU: the wall clock, kept here, comes first
                  "cpu": int(limits.import_time_limit + classes * limits.time_limit) + 5,
                  "jail": True, "root": root, "hidden": HIDDEN}
        request_read, self.request_fd = os.pipe()
        self.result_fd, result_write = os.pipe()
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
        except BaseException:
            os.close(self.request_fd)
            os.close(self.result_fd)
            raise
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
        refused = reply.pop("refused", [])
        if isinstance(refused, list):
            self.refused += [text(item, 200) for item in refused[:20]]
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
                    raise self.garbage(str(error)) from None

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

    def garbage(self, what):
        """Stop the child: what it sent is not what was asked. Returns the ChildLost."""
        self.close()
        return ChildLost("garbage", f"the submission sent garbage on the grader's channel "
                                    f"({text(what, 200)})")

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
        self.close()  # kills what is left of its process group
        if status is None:
            return ChildLost("ended", "the submission closed the grader's channel")
        if status == JAIL_FAILED:
            return ChildLost("crashed", "the grader could not isolate its grading process; "
                                        "nothing of the submission ran")
        if status >= 0:
            return ChildLost("ended", f"the submission ended the grading process (exit "
                             f"status {status}: sys.exit or os._exit in the submission)")
        signum = -status
        if signum == signal.SIGXCPU:
            return ChildLost("time limit", "CPU time limit: the grading process used up its "
                             "CPU time")
        if signum == signal.SIGKILL:
            return ChildLost("memory limit", "the grading process was killed (SIGKILL), most "
                             "likely for using too much memory")
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        return ChildLost("crashed", f"the grading process crashed ({name})")


class Session:
    """Everything about grading one submission in children: its folder, its child,
    its limits. Call begin() before the tests of each class; the proxies send their
    requests through request()."""

    def __init__(self, folder, file, module, names, limits=Limits()):
        self.folder = folder  # a private copy of the submission, deleted by close()
        self.root = tempfile.mkdtemp(prefix="minnet-jail-")  # where a jail builds its root
        self.submitted = _files(self.folder)
        self.file, self.module, self.names, self.limits = file, module, list(names), limits
        self.child, self.deadline, self.origins = None, None, None
        self.printed_on_import, self.printed, self.refused = 0, 0, []
        self.import_error, self.isolation = None, "process"

    def start(self):
        """A fresh child with the submission imported; returns the import's reply.

        Raises ChildLost if importing ends, kills or outlasts the child.
        """
        self.end_child()
        self.child = Child(self.folder, self.limits, len(self.names), self.root)
        deadline = time.monotonic() + self.limits.import_time_limit
        try:
            reply = self.child.request({"op": "import", "file": self.file, "module": self.module,
                                        "names": self.names}, deadline)
        finally:
            self.printed_on_import = self.child.printed
        self.isolation = text(reply.get("isolation"), 100)
        if "error" in reply:
            if not isinstance(reply["error"], dict):
                raise self.child.garbage("an error that is not a description of one")
            self.import_error = StudentRaised(reply["error"])
            self.origins = {}
            return reply
        classes = reply.get("classes")
        if not isinstance(classes, dict) or \
                not all(isinstance(classes.get(name), dict) for name in self.names):
            raise self.child.garbage("an import reply without its classes")
        self.origins = {name: classes[name] for name in self.names}
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
            if not isinstance(reply["error"], dict):
                raise self.garbage("an error that is not a description of one")
            raise StudentRaised(reply["error"])
        return reply

    def garbage(self, what):
        """Stop the child, which sent something malformed; returns the ChildLost."""
        return self.child.garbage(what)

    def new(self, name, args, kwargs, twin):
        """A proxy for name(*args, **kwargs), built in the child: a RemoteLoss or a
        RemoteLayer, as the class's grading entry (twin.entry) says. twin: minnet's
        object beside it, which judges its outputs (cases.Twin)."""
        entry, reference = twin.entry, twin.entry.reference
        buffers = tuple(getattr(reference, "buffers", ()))
        reply = self.request({"op": "new", "class": name, "args": list(args),
                              "kwargs": dict(kwargs or {}), "attrs": list(entry.attributes),
                              "buffers": list(buffers)})
        # The capabilities are the reference class's: the student's class could claim
        # anything (integer input, kinks everywhere).
        capabilities = {"samplewise": entry.samplewise, "buffers": buffers,
                        "has_kinks": getattr(reference, "has_kinks", False) is True,
                        "integer_input": getattr(reference, "integer_input", False) is True,
                        "random": getattr(reference, "random", False) is True}
        base = RemoteLoss if entry.loss else RemoteLayer
        return type(name, (base,), capabilities)(self, reply, entry.attributes, twin)

    def created_files(self):
        """Files the submission wrote in its folder (not those it was submitted with)."""
        return sorted(set(_files(self.folder)) - set(self.submitted))

    def close(self):
        self.end_child()
        shutil.rmtree(self.folder, ignore_errors=True)
        os.rmdir(self.root)  # the jail mounted its root in its own namespace: this stays empty

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

def _kind(value):
    return f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray) else \
        type(value).__name__


def _finite(value, what):
    """A gradient the submission returned, refused (Judged) if it holds NaN or Inf: it
    would only spread through the net's other layers."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and \
            not np.all(np.isfinite(value)):
        index = [int(i) for i in np.argwhere(~np.isfinite(value))[0]]
        raise Judged("wrong gradient", f"{what} containing {value[tuple(index)]} at {index}; "
                                       "a gradient must be finite: look for a division by "
                                       "zero or an overflow")
    return value


class _Remote:
    """A student object living in the grading child; see RemoteLayer and RemoteLoss.

    Every output it returns has been judged by its twin (cases.Twin: minnet's own
    object beside it) first, and every argument it was given must come back unchanged:
    otherwise the call raises Judged, and the test fails there.
    """

    buffers: tuple[str, ...] = ()  # the reference class's, set by Session.new

    def __init__(self, session, reply, attrs, twin):
        self._session, self._twin, self._attrs = session, twin, tuple(attrs)
        self._id = reply.get("id")
        name = type(self).__name__
        params = reply.get("params")
        if not isinstance(params, dict) or "__kind__" in params:
            kind = params.get("__kind__") if isinstance(params, dict) else "something else"
            raise TypeError(f"{name}.params must be a dict of numpy arrays, got {kind}")
        self.params = {str(key): self._value(value, f"{name}.params[{key!r}]")
                       for key, value in params.items()}
        self.weights = tuple(str(w) for w in reply.get("weights", ()) if isinstance(w, str))
        self.grads = {}
        for buffer in self.buffers:
            described = reply.get("buffers", {}).get(buffer) \
                if isinstance(reply.get("buffers"), dict) else None
            value = self._value(described if isinstance(described, dict) else {"none": True},
                                f"{name}.{buffer}", strict=False)
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                raise TypeError(f"{name}.{buffer} must be a numpy array of floats (it is one of "
                                f"{name}'s buffers, {', '.join(self.buffers)}: set it in "
                                f"__init__), got {_kind(value)}")
            setattr(self, buffer, value)
        attributes = reply.get("attrs", {})
        for attribute in ("training", "needs_dx", *self._attrs):
            value = attributes.get(attribute) if isinstance(attributes, dict) else None
            if attribute in ("training", "needs_dx"):
                value = True
            setattr(self, attribute, value)

    def _call(self, method, args, grads=False):
        """method(*args) in the child; raises Judged if it changed its arguments."""
        name = type(self).__name__
        reply = self._session.request(
            {"op": "call", "id": self._id, "method": method, "args": list(args),
             "params": self.params, "buffers": self._buffers(), "attrs": self._attributes(),
             "grads": grads})
        after = reply.get("args")
        labels = {"forward": ("x",) if isinstance(self, Layer) else ("scores", "y"),
                  "backward": ("dout",)}[method]
        for label, sent, back in zip(labels, args, after if isinstance(after, list) else []):
            returned = self._value(back, label, strict=False)
            if isinstance(sent, np.ndarray) and isinstance(returned, np.ndarray) and \
                    (returned.shape != sent.shape or
                     not np.array_equal(returned, sent, equal_nan=True)):
                raise Judged("changed its input", changed(f"{name}.{method}", label, sent,
                                                          returned))
        params = reply.get("params")
        for key, value in (params.items() if isinstance(params, dict) else ()):
            returned = self._value(value, key, strict=False)
            sent = self.params.get(key)
            if isinstance(sent, np.ndarray) and isinstance(returned, np.ndarray) and \
                    returned.shape == sent.shape and not np.array_equal(returned, sent,
                                                                        equal_nan=True):
                raise Judged("changed its input", changed(f"{name}.{method}", f"params[{key!r}]",
                                                          sent, returned))
        return reply

    def _stacked(self, op, count, shape=None, **message):
        """The results of a "many" or "each" request: count of them, each of `shape`
        when given (a loss: one number each)."""
        reply = self._session.request({"op": op, "id": self._id, "params": self.params,
                                       "buffers": self._buffers(), "attrs": self._attributes(),
                                       **message})
        results = reply.get("results")
        if not isinstance(results, np.ndarray) or len(results) != count:
            raise self._session.garbage(f"a {op} reply without its {count} results")
        if shape is not None and results.shape[1:] != shape:
            raise Judged("wrong forward", f"{type(self).__name__}.forward returned values of "
                                          f"shape {results.shape[1:]}, expected {shape}")
        return results

    def _attributes(self):
        names = ("training", "needs_dx", *self._attrs)
        return {name: getattr(self, name) for name in names
                if isinstance(getattr(self, name, None), (bool, int, float, str))}

    def _buffers(self):
        return {name: np.asarray(getattr(self, name), dtype=np.float64) for name in self.buffers}

    def _adopt(self, reply):
        """Take the buffers as the call left them (a training forward updates BatchNorm's
        running statistics), so that this proxy mirrors the student's object."""
        values = reply.get("buffers")
        for name in self.buffers:
            value = self._value(values.get(name), name, strict=False) \
                if isinstance(values, dict) and isinstance(values.get(name), dict) else None
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                raise Judged("wrong behaviour", f"{type(self).__name__}.{name} must stay an "
                                                f"array of real numbers (it is a buffer), got "
                                                f"{_kind(value)}")
            setattr(self, name, value)

    def _value(self, described, what, strict=True):
        """What the child sent for a value the student's code returned."""
        if not isinstance(described, dict):
            raise self._session.garbage(f"an unreadable value for {what}")
        if isinstance(described.get("array"), np.ndarray):
            array, dtype = described["array"], described.get("dtype")
            if isinstance(dtype, str) and dtype in ("float16", "float32", "int8", "int16",
                                                    "int32", "uint8", "uint16", "uint32"):
                array = array.astype(dtype)
            return array
        if isinstance(described.get("number"), (bool, float)):
            return described["number"]
        if described.get("none") is True:
            return None
        if not strict:
            return None
        kind = text(described.get("other", "value of unknown type"), 40)
        raise TypeError(f"{what} is a {kind}, not a numpy array")


class RemoteLayer(_Remote, Layer):
    """A proxy for a student's layer in the grading child (the class takes its name)."""

    def forward(self, x):
        reply = self._call("forward", [x])
        out = self._value(reply.get("result"), f"{type(self).__name__}.forward(x)")
        self._kinks = self._twin.layer(self, x, out)  # the reference's kinks, never theirs
        self._adopt(reply)  # after the twin: it judges with the buffers the call was sent
        return out

    def backward(self, dout):
        reply = self._call("backward", [dout], grads=True)
        self._adopt(reply)
        grads, name = reply.get("grads"), type(self).__name__
        if not isinstance(grads, dict) or "__kind__" in grads:
            kind = grads.get("__kind__") if isinstance(grads, dict) else "something else"
            raise TypeError(f"{name}.grads must be a dict like {name}.params, got {kind}")
        self.grads = {str(key): _finite(self._value(value, f"{name}.grads[{key!r}]"),
                                        f"{name}.backward stored grads[{key!r}]")
                      for key, value in grads.items()}
        return _finite(self._value(reply.get("result"), f"{name}.backward(dout)"),
                       f"{name}.backward returned dx")

    def kink_state(self):
        return getattr(self, "_kinks", None)

    def forward_perturbed(self, x, moves):
        """forward(x) with one entry moved for each (name, flat index, delta) in moves,
        name "x" or a key of params: (outputs stacked, kink states stacked or None).
        Used by check_layer to send many evaluations per round trip; every output is
        judged by the twin, on the same moved input, in this process."""
        outs = []
        for start in range(0, len(moves), MOVES_PER_REQUEST):
            chunk = moves[start:start + MOVES_PER_REQUEST]
            outs.append(self._stacked("many", len(chunk), method="forward", args=[x], moves=[
                ["arg0" if name == "x" else "param:" + name, int(k), float(d)]
                for name, k, d in chunk]))
        outs = np.concatenate(outs)
        kinks = []
        for move, out in zip(moves, outs):
            moved_x, moved_params = self._moved(x, move)
            kinks.append(self._twin.layer(self, moved_x, out, params=moved_params))
        return outs, None if any(k is None for k in kinks) else np.array(kinks)

    def _moved(self, x, move):
        """(x, params or None for the proxy's own) with one entry moved, as the child did."""
        name, k, d = move
        if name == "x":
            x = x.copy()
            x.flat[k] += d
            return x, None
        params = {key: value.copy() for key, value in self.params.items()}
        params[name].flat[k] += d
        return x, params


class RemoteLoss(_Remote, Loss):
    """A proxy for a student's loss in the grading child (the class takes its name)."""

    def forward(self, scores, y):
        reply = self._call("forward", [scores, y])
        value = self._value(reply.get("result"), f"{type(self).__name__}.forward(scores, y)")
        self._kinks = self._twin.loss(scores, y, value)  # the reference's kinks (SVMLoss)
        return value

    def kink_state(self):
        """minnet's kink state for the last scores (None for a smooth loss). The loop
        evaluators compare it; the batched ones (forward_perturbed, forward_each) do
        not ask for kinks, and the checker finds a kink there from the numbers."""
        return getattr(self, "_kinks", None)

    def backward(self):
        reply = self._call("backward", [])
        name = type(self).__name__
        return _finite(self._value(reply.get("result"), f"{name}.backward()"),
                       f"{name}.backward returned dscores")

    def forward_perturbed(self, scores, y, flat, deltas):
        """forward(scores, y) with scores.flat[flat[k]] moved by deltas[k], for every k."""
        values = []
        for start in range(0, len(flat), MOVES_PER_REQUEST):
            moves = [["arg0", int(k), float(d)] for k, d in
                     zip(flat[start:start + MOVES_PER_REQUEST],
                         deltas[start:start + MOVES_PER_REQUEST])]
            values.append(self._stacked("many", len(moves), (), method="forward",
                                        args=[scores, y], moves=moves))
        values = np.concatenate(values)
        for k, d, value in zip(flat, deltas, values):
            moved = scores.copy()
            moved.flat[k] += d
            self._twin.loss(moved, y, value)
        return values

    def forward_each(self, stacked, y):
        """forward(stacked[k], y) for every k: the loss of each copy of a batch (used by
        the checker's stacked evaluation), in round trips of many copies."""
        values = []
        per_request = max(1, MOVES_PER_REQUEST * 8 // max(1, stacked[0].size))
        for start in range(0, len(stacked), per_request):
            part = stacked[start:start + per_request]
            values.append(self._stacked("each", len(part), (), method="forward", args=[y],
                                        stack=part))
        values = np.concatenate(values)
        for copy, value in zip(stacked, values):
            self._twin.loss(copy, y, value)
        return values
