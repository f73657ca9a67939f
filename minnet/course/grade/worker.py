"""The grading child: the only process that ever runs a student's code.

The grader (sandbox.Child) starts it as a fresh interpreter in a fresh folder holding
a copy of the submission:

    python -I worker.py MINNET_DIR REQUEST_FD RESULT_FD CONFIG_JSON

Before the student's file is imported, the child
- when the grader runs as root on Linux, jails itself (jail.py): a PID, mount and
  network namespace of its own, a read-only file system but for its folder, minnet's
  source hidden, no capabilities. These are the kernel's walls;
- loads minnet's two contracts (minnet.contract: Layer and Loss) and nothing else of
  minnet: `minnet.layers` and `minnet.losses` hold only those base classes, and any
  other minnet module (the reference layers, the checker, the grader, the bug
  catalogue) refuses to import;
- limits its own address space, CPU time, file sizes and core files;
- installs an audit hook that refuses, from then on, to write or delete outside its
  folder, start processes, send signals, raise its limits, load native libraries
  through ctypes, or open sockets. Code in the same process can get around a hook,
  so without the jail this stops accidents and simple attacks, not a determined one.

Then it answers requests from the grader, one at a time, on a private pipe: import
the submission, build an object of a contract class, call one of its methods on the
arrays the grader sends (or on many perturbed copies of them at once). It sends back
only what the student's code returned: arrays and plain values, never a verdict. The
grader checks them, computes every number it judges itself, and gives the grade.

This file imports nothing from minnet's package: it loads wire.py, jail.py and
contract.py by path, so that none of minnet's reference code is ever in this process.
"""
import hashlib
import importlib.util
import json
import os
import sys
import traceback
import types


def main(argv):
    minnet_dir, request_fd, result_fd, config = argv[1], int(argv[2]), int(argv[3]), argv[4]
    config = json.loads(config)
    import numpy as np  # before the limits: numpy's import maps a lot of memory once

    here = os.path.join(minnet_dir, "course", "grade")
    wire = _load("minnet_grading_wire", os.path.join(here, "wire.py"))
    contract = _load("minnet.contract", os.path.join(minnet_dir, "contract.py"))
    folder = os.path.realpath(os.getcwd())
    isolation = "process"
    if config["jail"]:
        jail = _load("minnet_grading_jail", os.path.join(here, "jail.py"))
        if jail.available():
            try:
                jail.enter(folder, config["root"], config["hidden"])
                isolation = "namespaces"
            except OSError as error:  # the kernel refused: grade with the process's walls
                isolation = f"process (no namespaces: {error})"
    _install_contract_only(contract)
    _limit(config)
    np.seterr(over="raise", divide="raise", invalid="raise", under="ignore")
    sys.path.insert(0, folder)  # the student's own helper modules, beside the file
    # The contract classes and what they share (contract._Part): code a student may inherit.
    contracts = {*contract.Layer.__mro__, *contract.Loss.__mro__} - {object}
    server = Server(np, wire, folder, contracts, isolation)
    sys.addaudithook(server.audit)
    server.serve(request_fd, result_fd)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


HIDDEN = ("minnet's reference implementation is not available while grading: the "
          "submission must define its classes itself (only minnet.layers.Layer and "
          "minnet.losses.Loss, the contracts, can be imported)")


class _ContractOnly(types.ModuleType):
    """A stand-in for a minnet module that holds only what the contracts allow."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"{self.__name__}.{name}: {HIDDEN}")


class _RefuseMinnet:
    """An import hook: every minnet module not already stood in for refuses to load."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "minnet" or fullname.startswith("minnet."):
            raise ImportError(f"{fullname}: {HIDDEN}")
        if fullname in ("_posixsubprocess", "subprocess", "multiprocessing", "ctypes"):
            raise ImportError(f"{fullname}: starting processes and loading native code are "
                              "not allowed while grading")
        return None


def _install_contract_only(contract):
    package = _ContractOnly("minnet")
    package.__path__ = []  # a package, so that submodule imports reach _RefuseMinnet
    for name, base in (("layers", contract.Layer), ("losses", contract.Loss)):
        module = _ContractOnly(f"minnet.{name}")
        setattr(module, base.__name__, base)
        setattr(package, name, module)
        sys.modules[module.__name__] = module
    package.contract = contract
    sys.modules["minnet"] = package
    for name in ("_posixsubprocess", "subprocess", "multiprocessing", "ctypes"):
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, _RefuseMinnet())


def _limit(config):
    import resource
    limits = [(resource.RLIMIT_AS, config["memory"]), (resource.RLIMIT_FSIZE, config["file_size"]),
              (resource.RLIMIT_CORE, 0)]
    for kind, value in limits:
        resource.setrlimit(kind, (value, value))
    # CPU time: SIGXCPU at the soft limit; a backstop, since the grader's wall clock comes first
    resource.setrlimit(resource.RLIMIT_CPU, (config["cpu"], config["cpu"] + 1))


# Audit events (PEP 578) the child refuses once the student's code may run, by what
# they would do. Paths are checked separately: writing inside the folder is allowed.
REFUSED = {
    "os.fork": "starting a process", "os.forkpty": "starting a process",
    "os.system": "starting a process", "os.exec": "starting a process",
    "os.posix_spawn": "starting a process", "os.spawn": "starting a process",
    "subprocess.Popen": "starting a process", "os.startfile": "starting a process",
    "os.kill": "sending a signal", "os.killpg": "sending a signal",
    "signal.pthread_kill": "sending a signal",
    "resource.setrlimit": "changing the limits", "resource.prlimit": "changing the limits",
    "ctypes.dlopen": "loading native code", "ctypes.dlsym": "loading native code",
    "ctypes.cdata": "reading raw memory", "ctypes.addressof": "reading raw memory",
    "socket.__new__": "opening a socket",
    "sys.remote_exec": "running code in another process",
}
PATH_EVENTS = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
               "os.link", "os.symlink", "os.truncate", "os.utime", "os.chdir", "os.chflags",
               "os.setxattr", "os.removexattr", "shutil.rmtree", "shutil.copyfile",
               "shutil.copymode", "shutil.copystat", "shutil.move")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Server:
    """Answers the grader's requests; `audit` is its audit hook."""

    def __init__(self, np, wire, folder, contracts, isolation):
        self.np, self.wire, self.folder, self.contracts = np, wire, folder, contracts
        self.isolation = isolation
        self.module, self.objects, self.refused = None, {}, []
        self.file = None  # the submission's file, once imported

    # -- the audit hook ----------------------------------------------------------------

    def audit(self, event, args):
        """Refuse what REFUSED names, and writing or deleting outside the folder."""
        what = REFUSED.get(event)
        if event == "open":
            what = self._outside_write(args[0], args[1], args[2])
        elif event in PATH_EVENTS:
            what = next((f"{event} on {path}" for path in args[:2] if self._outside(path)),
                        None)
        if what:
            self.refused.append(what if event in PATH_EVENTS + ("open",)
                                else f"{what} ({event})")
            raise PermissionError(f"the grader refuses {what} while grading")

    def _outside_write(self, path, mode, flags):
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                  (isinstance(flags, int) and flags & WRITE_FLAGS)
        if writing and self._outside(path):
            return f"writing {path}"
        return None

    def _outside(self, path):
        if isinstance(path, int) or path is None:
            return False
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return True
        return real != "/dev/null" and os.path.commonpath([real, self.folder]) != self.folder

    # -- the requests ------------------------------------------------------------------

    def serve(self, request_fd, result_fd):
        while True:
            request = self.wire.receive(request_fd)
            if request is None:  # the grader is done, or gone
                return
            # Everything from here to the reply may run student code: a property, a
            # dict subclass, a __str__. Whatever it raises (SystemExit and MemoryError
            # too) goes back to the grader, who decides.
            try:
                reply = getattr(self, "op_" + request["op"])(request)
                sys.stdout.flush()  # what was printed reaches its pipe before the reply
                sys.stderr.flush()
            except BaseException as error:
                reply = {"error": self._details(error)}
            if request.get("op") == "import":
                reply["isolation"] = self.isolation
            reply["refused"], self.refused = self.refused, []
            self.wire.send(result_fd, reply)

    def op_import(self, request):
        path = os.path.join(self.folder, request["file"])
        self.file = os.path.realpath(path)
        name = request["module"]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        self.module = module
        return {"classes": {name: self._origin(getattr(module, name, None))
                            for name in request["names"]}}

    def _origin(self, cls):
        """Where a contract class comes from (missing, the submission's folder, or
        elsewhere), and fingerprints of its forward and backward's compiled code."""
        if not isinstance(cls, type):
            return {"found": False}
        for klass in cls.__mro__:
            if klass is object or klass in self.contracts:
                continue
            for value in vars(klass).values():
                code = getattr(getattr(value, "__func__", value), "__code__", None)
                if code is not None and self._outside(code.co_filename):
                    return {"found": True, "own": False, "where": code.co_filename}
        fingerprints = {}
        for method in ("forward", "backward"):
            code = getattr(getattr(cls, method, None), "__code__", None)
            if code is not None:
                fingerprints[method] = fingerprint(code)
        return {"found": True, "own": True, "fingerprints": fingerprints}

    def op_new(self, request):
        cls = getattr(self.module, request["class"])
        obj = cls(*request["args"], **request["kwargs"])
        key = len(self.objects)
        self.objects[key] = obj
        return {"id": key, "params": self._params(obj),
                "weights": [str(w) for w in getattr(obj, "weights", ()) or ()],
                "attrs": {name: _plain(getattr(obj, name, None)) for name in request["attrs"]},
                "buffers": self._buffers(obj, request.get("buffers", []))}

    def op_call(self, request):
        """One call of a method, on the arrays sent, after setting params and attributes."""
        obj = self.objects[request["id"]]
        self._set(obj, request)
        args = [a.copy() if isinstance(a, self.np.ndarray) else a for a in request["args"]]
        result = getattr(obj, request["method"])(*args)
        reply = {"result": self._describe(result),
                 "args": [self._describe(a) for a in args],
                 "params": self._params(obj),
                 "buffers": self._buffers(obj, request.get("buffers", {}))}
        if request.get("grads"):
            grads = getattr(obj, "grads", None)
            reply["grads"] = ({key: self._describe(value) for key, value in grads.items()}
                              if isinstance(grads, dict) else {"__kind__": type(grads).__name__})
        return reply

    def op_many(self, request):
        """The method on many copies of the arguments, each with one entry moved.

        moves: [target, flat index, delta] with target "arg<k>" or "param:<key>";
        before each call the params (and buffers) get the values sent again. Returns
        the results stacked.
        """
        obj = self.objects[request["id"]]
        method = getattr(obj, request["method"])
        results = []
        for target, flat, delta in request["moves"]:
            self._set(obj, request)
            args = [a.copy() if isinstance(a, self.np.ndarray) else a for a in request["args"]]
            if target.startswith("arg"):
                moved = args[int(target[3:])]
            else:
                moved = obj.params[target[6:]]
            moved.flat[flat] += delta
            results.append(method(*args))
        return self._stacked(request, results)

    def op_each(self, request):
        """The method once per entry of a stack: method(stack[k], *args) for every k."""
        obj = self.objects[request["id"]]
        self._set(obj, request)
        method = getattr(obj, request["method"])
        results = [method(item.copy(), *[a.copy() if isinstance(a, self.np.ndarray) else a
                                          for a in request["args"]])
                   for item in request["stack"]]
        return self._stacked(request, results)

    def _stacked(self, request, results):
        try:
            stacked = self.np.array([self.np.asarray(r) for r in results])
            if stacked.dtype.kind not in "fc":
                raise ValueError(f"dtype {stacked.dtype}")
        except (ValueError, TypeError) as error:
            raise TypeError(f"{request['method']} returned results that do not stack into "
                            f"one float array ({error}): each call must return the same "
                            "shape") from None
        return {"results": stacked.astype(self.np.complex128 if stacked.dtype.kind == "c"
                                          else self.np.float64)}

    # -- helpers -------------------------------------------------------------------------

    def _set(self, obj, request):
        for name, value in request.get("attrs", {}).items():
            setattr(obj, name, value)
        for name, value in request.get("buffers", {}).items():
            old = getattr(obj, name, None)
            if isinstance(old, self.np.ndarray) and old.shape == value.shape and \
                    old.dtype == value.dtype and old.flags.writeable:
                old[...] = value
            else:
                setattr(obj, name, value.copy())
        params = getattr(obj, "params", None)
        for key, value in request.get("params", {}).items():
            old = params.get(key) if isinstance(params, dict) else None
            if isinstance(old, self.np.ndarray) and old.shape == value.shape and \
                    old.dtype == value.dtype and old.flags.writeable:
                old[...] = value  # in place: a layer may hold its own reference to it
            elif isinstance(params, dict):
                params[key] = value.copy()

    def _buffers(self, obj, names):
        """The buffers (BatchNorm's running statistics) named, as the object holds them."""
        return {str(name): self._describe(getattr(obj, name, None)) for name in names}

    def _params(self, obj):
        params = getattr(obj, "params", {})  # a loss has none
        if not isinstance(params, dict):
            return {"__kind__": type(params).__name__}
        return {str(key): self._describe(value) for key, value in params.items()}

    def _describe(self, value):
        """What student code returned, as the wire can carry it, with its original type."""
        np = self.np
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
            kind = value.dtype.kind
            wire_dtype = ("float32" if value.dtype == np.float32 else
                          {"b": "bool", "i": "int64", "u": "int64", "f": "float64",
                           "c": "complex128"}[kind])
            return {"array": value.astype(wire_dtype), "dtype": value.dtype.name}
        if isinstance(value, (bool, np.bool_)):
            return {"number": bool(value), "type": type(value).__name__}
        if isinstance(value, (int, float, np.integer, np.floating)):
            return {"number": float(value), "type": type(value).__name__}
        if value is None:
            return {"none": True}
        return {"other": type(value).__name__}

    def _details(self, error):
        try:
            message = str(error)
        except BaseException:  # a student exception whose __str__ itself fails
            message = "(the error's message could not be shown)"
        frame, line = self._student_frame(error.__traceback__)
        where = None if frame is None else (f"in {frame.f_code.co_name}, "
                                            f"{os.path.basename(frame.f_code.co_filename)} "
                                            f"line {line}")
        return {"type": type(error).__name__, "message": message[:500], "where": where,
                "code": error.code if isinstance(error, SystemExit) and
                isinstance(error.code, (int, str, type(None))) else None}


    def _student_frame(self, tb):
        """The student's own line in a traceback: (frame, line number) of its innermost
        frame in the submission's file, else in another file of its folder (a helper
        module), else (None, None). An error raised inside numpy (np.ones out of
        memory) is thus told at the line of the submission that called numpy."""
        own, helper = (None, None), (None, None)
        for frame, line in traceback.walk_tb(tb):
            filename = frame.f_code.co_filename
            if self._is_file(filename):
                own = frame, line
            elif not self._outside(filename):
                helper = frame, line
        return own if own[0] is not None else helper

    def _is_file(self, filename):
        try:
            return self.file is not None and os.path.realpath(filename) == self.file
        except (TypeError, ValueError):
            return False


def fingerprint(code):
    """A hash of what a function's code does (its bytecode, constants and names, nested
    code included), not of where it came from: the same source compiles to the same
    fingerprint under any file name. The grader compares these with its reference's."""
    digest = hashlib.sha256()
    parts = [code.co_code, repr(code.co_names).encode()]
    for const in code.co_consts:
        parts.append(fingerprint(const).encode() if hasattr(const, "co_code")
                     else repr(const).encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _plain(value):
    """An attribute as a JSON value (None if it is not a plain number, string or bool)."""
    return value if isinstance(value, (bool, int, float, str, type(None))) else None


if __name__ == "__main__":
    main(sys.argv)
