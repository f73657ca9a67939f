"""The autograder: check a student's layer classes, one row per class.

    minnet grade my_layers.py            # a table, exit status 0 only if all pass
    minnet grade my_layers.py --json     # the same, for course tooling

The student's file defines classes under the contract names (Affine, ReLU, Sigmoid,
Tanh, Dropout, SoftmaxLoss, SigmoidCrossEntropy, MSELoss, and for recurrent nets RNN,
TimeAffine, TemporalSoftmaxLoss) with the constructors of minnet's own classes. Each class is checked on its own with check_layer or check_loss
over several shapes and seeds, then inside a small Net built from minnet's reference
classes around it, with check_net. Every other part of each test is minnet's own code,
so a failure always points at the class it is reported on.

A class that is missing, raises, returns the wrong shape, leaves backward
unimplemented or runs past its time limit fails with that said; the other classes
are still graded. What student code prints is counted, not shown.
"""
import contextlib
import importlib.util
import io
import json
import os
import signal
import sys
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

from . import layers, losses
from .checker import check_layer, check_loss, check_net
from .checker.compare import MEANINGS, band, relative_error
from .net import Net

CORE = ("Affine", "ReLU", "Sigmoid", "Tanh", "Dropout",
        "SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss")
RECURRENT = ("RNN", "TimeAffine", "TemporalSoftmaxLoss")
CONTRACT = CORE + RECURRENT
SEEDS = (0, 1, 2)
LOSSES = ("SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss", "TemporalSoftmaxLoss")
TIME_LIMIT = 10.0  # seconds per class


@dataclass
class ClassGrade:
    """The grade of one class.

    name: the contract name; passed: every test passed; problem: "" when passed, else
    "missing", "not implemented", "raised", "time limit" or "wrong gradient";
    max_rel_error: the worst relative error over every check that ran (None if none
    ran); meaning: what that error means; hint: where to look; tests: checks run;
    printed: characters the class printed while graded (not shown).
    """
    name: str
    passed: bool
    problem: str = ""
    max_rel_error: float = None
    meaning: str = ""
    hint: str = ""
    tests: int = 0
    printed: int = 0


@dataclass
class Grade:
    """rows: one ClassGrade per graded class; source: what was graded;
    printed_on_import: characters the file printed when it was imported."""
    source: str
    rows: list = field(default_factory=list)
    printed_on_import: int = 0

    @property
    def passed(self):
        return all(row.passed for row in self.rows)

    @property
    def score(self):
        return sum(row.passed for row in self.rows)

    def to_json(self):
        return json.dumps({"source": self.source, "passed": self.passed, "score": self.score,
                           "total": len(self.rows), "printed_on_import": self.printed_on_import,
                           "classes": [asdict(r) for r in self.rows]},
                          indent=2)

    def format(self):
        header = ("class", "grade", "tests", "worst rel error", "what it means")
        table = [header] + [(row.name, "PASS" if row.passed else "FAIL", str(row.tests),
                             "-" if row.max_rel_error is None else f"{row.max_rel_error:.1e}",
                             row.meaning) for row in self.rows]
        widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
        lines = [f"grading {self.source}", ""]
        lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
                  for cells in table]
        lines.append("")
        for row in self.rows:
            if row.hint:
                lines.append(f"{row.name}: {row.hint}")
            if row.printed:
                lines.append(f"{row.name}: printed {row.printed} characters while graded "
                             "(not shown; remove debugging prints)")
        if self.printed_on_import:
            lines.append(f"importing the file printed {self.printed_on_import} characters "
                         "(not shown)")
        lines.append(f"score: {self.score}/{len(self.rows)}"
                     + (": all classes pass" if self.passed else ""))
        return "\n".join(lines)

    def __str__(self):
        return self.format()


class TimeLimitExceeded(BaseException):
    """Student code ran past its time limit (a BaseException, so `except Exception`
    in student code cannot swallow it)."""


def grade(path, classes=None, time_limit=TIME_LIMIT):
    """Grade the classes a student's Python file defines; returns a Grade.

    path: the student's .py file; classes: the contract names to grade, by default
        the eight feed-forward ones (CORE) and the recurrent ones the file defines;
    time_limit: seconds allowed per class (and for importing the file), or None.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"grade: no such file: {path}")
    printed = _Counter()
    try:
        with _student_code(printed, time_limit):
            namespace = vars(_import(path))
    except (Exception, SystemExit, TimeLimitExceeded) as error:
        problem = "time limit" if isinstance(error, TimeLimitExceeded) else "raised"
        hint = f"importing the file failed: {_describe(error)}"
        return Grade(str(path), [ClassGrade(name, False, problem, meaning="not graded",
                                            hint=hint) for name in classes or CORE],
                     printed.count)
    result = grade_namespace(namespace, classes, time_limit, source=str(path))
    result.printed_on_import = printed.count
    return result


def grade_namespace(namespace, classes=None, time_limit=TIME_LIMIT, source="namespace"):
    """Grade the classes found in a dict (a module's vars()) by their contract names.

    classes: as for grade()."""
    if classes is None:
        classes = CORE + tuple(name for name in RECURRENT if isinstance(namespace.get(name), type))
    unknown = [name for name in classes if name not in CONTRACT]
    if unknown:
        raise ValueError(f"grade: no contract class named {unknown}; the names are "
                         f"{', '.join(CONTRACT)}")
    return Grade(source, [_grade_class(name, namespace.get(name), time_limit)
                          for name in classes])


def _grade_class(name, cls, time_limit):
    if not isinstance(cls, type):
        return ClassGrade(name, False, "missing", meaning="not graded",
                          hint=f"the file defines no class {name}")
    printed = _Counter()
    tests, worst, what = 0, None, f"building {name}"
    try:
        with _student_code(printed, time_limit):
            for what, run in _tests(name, cls):
                report = run()
                tests += 1
                errors = [row.max_rel_error for row in report.rows if row.checked]
                worst = max(errors + ([worst] if worst is not None else []), default=worst)
                if not report.passed:
                    row = report[report.failed[0]]
                    return ClassGrade(name, False, "wrong gradient", worst,
                                      MEANINGS[row.verdict], f"{what}: {_diagnose(row)}",
                                      tests, printed.count)
    except (Exception, SystemExit, TimeLimitExceeded) as error:
        if isinstance(error, NotImplementedError):
            problem, meaning = "not implemented", "backward not written yet"
        elif isinstance(error, TimeLimitExceeded):
            problem, meaning = "time limit", f"ran over {time_limit:g} s"
        else:
            problem, meaning = "raised", "the code raised an error"
        return ClassGrade(name, False, problem, worst, meaning,
                          f"{what}: {_describe(error)}", tests, printed.count)
    meaning = ("the gradient is right" if band(worst) == "excellent" else
               "right: the error is the numerical estimate's own")
    return ClassGrade(name, True, "", worst, meaning, "", tests, printed.count)


# -- the tests: (description, () -> CheckReport), each building its own objects -----------

def _tests(name, cls):
    if name == "Affine":
        for x_shape, M in (((3, 4), 5), ((4, 4), 4), ((2, 3, 2), 3)):
            for seed in SEEDS:
                yield (f"Affine({int(np.prod(x_shape[1:]))}, {M}) on x of shape {x_shape}, "
                       f"seed {seed}", lambda s=seed, x=x_shape, m=M: _check_affine(cls, x, m, s))
    elif name in ("ReLU", "Sigmoid", "Tanh", "Dropout"):
        for shape in ((3, 4), (5, 6), (2, 3, 4)):
            for seed in SEEDS:
                yield (f"{name} on x of shape {shape}, seed {seed}",
                       lambda s=seed, sh=shape: _check_elementwise(name, cls, sh, s, True))
        if name == "Dropout":
            yield ("Dropout in eval mode (training = False), x of shape (3, 4)",
                   lambda: _check_elementwise(name, cls, (3, 4), 0, False))
    elif name in ("RNN", "TimeAffine"):
        for x_shape, M in (((2, 3, 4), 5), ((3, 5, 3), 3), ((1, 1, 2), 4)):
            for seed in SEEDS:
                yield (f"{name}({x_shape[2]}, {M}) on x of shape {x_shape}, seed {seed}",
                       lambda s=seed, x=x_shape, m=M: _check_recurrent(cls, x, m, s))
    else:
        for N, C in ((4, 3), (6, 5), (1, 4)):
            for seed in SEEDS:
                yield (f"{name} on scores of shape {_scores_shape(name, N, C)}, seed {seed}",
                       lambda s=seed, n=N, c=C: _check_loss(name, cls, n, c, s))
    for seed in SEEDS[:2]:
        yield f"{name} inside a Net, seed {seed}", lambda s=seed: _check_in_net(name, cls, s)


def _check_affine(cls, x_shape, M, seed):
    rng = np.random.default_rng(seed)
    D = int(np.prod(x_shape[1:]))
    layer = cls(D, M)
    _set_params(layer, {"W": rng.standard_normal((D, M)), "b": rng.standard_normal(M)})
    return check_layer(layer, rng.standard_normal(x_shape), seed=seed)


def _check_recurrent(cls, x_shape, M, seed):
    rng = np.random.default_rng(seed)
    layer = cls(x_shape[2], M)
    _set_params(layer, {key: 0.5 * rng.standard_normal(np.shape(value))
                        for key, value in _params_of(layer).items()})
    return check_layer(layer, rng.standard_normal(x_shape), seed=seed)


def _params_of(layer):
    params = getattr(layer, "params", None)
    if not isinstance(params, dict):
        raise TypeError(f"{type(layer).__name__}.params must be a dict of arrays, got "
                        f"{type(params).__name__}")
    return params


def _check_elementwise(name, cls, shape, seed, training):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if name == "ReLU":  # keep x away from the kink at 0, where no derivative exists
        x = np.sign(x) * (0.1 + np.abs(x))
    layer = cls(keep_prob=0.7, seed=seed) if name == "Dropout" else cls()
    layer.training = training
    return check_layer(layer, x, seed=seed)


def _scores_shape(name, N, C):
    return {"SigmoidCrossEntropy": (N,), "TemporalSoftmaxLoss": (N, 3, C)}.get(name, (N, C))


def _check_loss(name, cls, N, C, seed):
    rng = np.random.default_rng(seed)
    scores = 2 * rng.standard_normal(_scores_shape(name, N, C))
    return check_loss(cls(), scores, _targets(name, rng, N, C), seed=seed)


def _targets(name, rng, N, C):
    if name == "SoftmaxLoss":
        return rng.integers(0, C, N)
    if name == "TemporalSoftmaxLoss":
        return rng.integers(0, C, (N, 3))
    if name == "SigmoidCrossEntropy":
        return rng.integers(0, 2, N)
    return rng.standard_normal((N, C))


def _check_in_net(name, cls, seed):
    """A small Net of minnet's reference classes with the student's class in it."""
    rng = np.random.default_rng(seed)
    if name in RECURRENT:
        return _check_in_recurrent_net(name, cls, rng, seed)
    loss = cls() if name in LOSSES else losses.SoftmaxLoss()
    C = 1 if name == "SigmoidCrossEntropy" else 3
    if name == "Affine":
        first, last = cls(4, 6), cls(6, C)
        for layer in (first, last):
            _set_params(layer, {key: 0.5 * rng.standard_normal(value.shape)
                                for key, value in layer.params.items()})
        middle = [layers.Tanh()]
    else:
        first = layers.Affine(4, 6, init="xavier", rng=rng)
        last = layers.Affine(6, C, init="xavier", rng=rng)
        if name == "Dropout":
            middle = [layers.Tanh(), cls(keep_prob=0.7, seed=seed)]
        elif name in LOSSES:
            middle = [layers.Tanh()]
        else:
            middle = [cls()]
    net = Net([first, *middle, last], loss, reg=0.1)
    for value in net.params.values():
        value[...] = value + 0.1 * rng.standard_normal(value.shape)
    X = rng.standard_normal((5, 4))
    y = _targets(name if name in LOSSES else "SoftmaxLoss", rng, 5, C)
    return check_net(net, X, y, seed=seed)


def _check_in_recurrent_net(name, cls, rng, seed):
    rnn = cls(3, 5) if name == "RNN" else layers.RNN(3, 5, rng=rng)
    out = cls(5, 4) if name == "TimeAffine" else layers.TimeAffine(5, 4, rng=rng)
    loss = cls() if name == "TemporalSoftmaxLoss" else losses.TemporalSoftmaxLoss()
    net = Net([rnn, out], loss, reg=0.1)
    for layer in (rnn, out):
        _set_params(layer, {key: 0.5 * rng.standard_normal(np.shape(value))
                            for key, value in _params_of(layer).items()})
    return check_net(net, rng.standard_normal((3, 4, 3)), rng.integers(0, 4, (3, 4)), seed=seed)


def _set_params(layer, values):
    """Put the grader's own random values into a student's layer, after checking its params."""
    name = type(layer).__name__
    params = getattr(layer, "params", None)
    if not isinstance(params, dict) or set(params) != set(values):
        raise ValueError(f"{name}.params must be a dict with the keys {sorted(values)}, "
                         f"got {params!r:.80}")
    for key, value in values.items():
        if np.shape(params[key]) != value.shape:
            raise ValueError(f"{name}.params[{key!r}] must have shape {value.shape}, "
                             f"got {np.shape(params[key])}")
        params[key] = value


# -- reading the result ------------------------------------------------------------------

def _diagnose(row):
    """What the failing row's numbers say, in words."""
    a, n = np.asarray(row.analytic, dtype=float), np.asarray(row.numerical, dtype=float)
    tensor = "d" + row.name if row.name != "scores" else "dscores"
    if not np.any(a) and np.any(n):
        return f"{tensor} is all zeros, but the loss does change with {row.name}"
    index, worst_a, worst_n = row.worst[0]
    where = (f"worst at {tensor}{list(index)}: yours {worst_a:.6g}, "
             f"numerical {worst_n:.6g}")
    scale = max(np.abs(a).max(), np.abs(n).max())
    big = np.abs(n) > 1e-3 * scale
    ratio = float(np.median(a[big] / n[big])) if np.any(big) else 0.0
    if ratio and np.all(np.abs(a - ratio * n) <= 1e-4 * scale):
        if abs(ratio + 1) < 1e-3:
            return f"{tensor} has the wrong sign everywhere ({where})"
        return (f"{tensor} is {ratio:.4g} times the right value everywhere: a constant factor "
                f"too many or too few ({where})")
    wrong = int(np.sum(relative_error(a, n) > 1e-4))
    return f"{wrong} of the {a.size} entries of {tensor} checked are wrong; {where}"


def _describe(error):
    """An exception as one line, with the line of student code that raised it."""
    text = f"{type(error).__name__}: {error}"
    trace = error.__traceback__
    frame = None
    while trace is not None:
        if not trace.tb_frame.f_code.co_filename.startswith(os.path.dirname(__file__)):
            frame = trace
        trace = trace.tb_next
    if frame is not None and not isinstance(error, TimeLimitExceeded):
        code = frame.tb_frame.f_code
        text += f" (in {code.co_name}, {os.path.basename(code.co_filename)} line {frame.tb_lineno})"
    return text


# -- running untrusted code ----------------------------------------------------------------

class _Counter(io.TextIOBase):
    """A stdout that counts what is written and keeps none of it."""

    def __init__(self):
        self.count = 0

    def write(self, text):
        self.count += len(text)
        return len(text)


@contextlib.contextmanager
def _student_code(printed, seconds):
    """Run the block with stdout and stderr counted, stopped after `seconds`, and with
    numpy's overflow, division by zero and invalid values raised as errors."""
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), \
            np.errstate(over="raise", divide="raise", invalid="raise"), _time_limit(seconds):
        yield


@contextlib.contextmanager
def _time_limit(seconds):
    # SIGALRM only exists on Unix and only reaches the main thread; elsewhere no limit.
    if (seconds is None or not hasattr(signal, "SIGALRM")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def stop(signum, frame):
        raise TimeLimitExceeded(f"stopped after {seconds:g} s: an endless loop, or far too "
                                "slow (loop over whole arrays instead of single numbers)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _import(path):
    path = os.path.abspath(path)
    module_name = "minnet_student_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    # The student's own helper modules, beside the file, must be importable.
    sys.path.insert(0, os.path.dirname(path))
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
        sys.path.remove(os.path.dirname(path))
    return module
