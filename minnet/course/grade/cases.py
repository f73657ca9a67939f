"""The tests of one class: forward against minnet's reference, inputs left alone, and
backward against minnet's checker.

Every test builds its own objects with `make(*args, **kwargs)` (the submission's
class: a proxy into the grading child, or a trusted class in this process) and
minnet's reference class with the same arguments and the same parameter values,
draws its input from the grading rng, and returns a TestResult. Nothing here trusts a
number the submission computes about itself: outputs are compared with minnet's,
gradients with numerical derivatives computed here. A proxy goes further: its Twin
judges every output it returns, not only the first (see Twin).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...checker import check_layer, check_loss, check_net
from ...checker.report import CheckRow
from ...contract import Layer
from ...net import Net
from .result import Judged, TestResult, changed
from .table import ENTRIES, Entry, LayerCase, LossCase, NetCase, labels_for

FORWARD_RTOL = 1e-10   # forward must match minnet's reference this closely, relatively
PARAM_SCALE = 0.5      # parameters are drawn as PARAM_SCALE * N(0, 1), biases included


def describe(entry: Entry, case: LayerCase | LossCase | NetCase) -> str:
    """A test's name, as the report shows it."""
    if isinstance(case, LayerCase):
        args = ", ".join([repr(a) for a in case.args] +
                         [f"{k}={v!r}" for k, v in case.kwargs.items()])
        mode = "" if case.training else " in eval mode"
        note = f", {case.note}" if case.note else ""
        return f"{entry.name}({args}){mode} on x of shape {case.x_shape}{note}"
    if isinstance(case, LossCase):
        args = f"({', '.join(repr(a) for a in case.args)})" if case.args else ""
        return f"{entry.name}{args} on scores of shape {case.scores_shape}"
    names = [name for name, _, _ in case.layers] + [case.loss]
    return f"{entry.name} inside a Net ({' -> '.join(names)}), X of shape {case.X_shape}"


class Twin:
    """minnet's own object beside a submission's, judging every output it gives.

    A forward checked only at the point where the test starts could answer right
    there and differently a hair away (a cache, a detector of perturbed inputs), and
    the gradient check, which differentiates the submission's own forward, would
    then check the wrong function. So a proxy hands each output to its twin, with the
    input it was computed from, and the twin raises Judged when minnet's class gives
    something else (for a random class such as Dropout: when the output breaks the
    class's defining property). minnet's object gets the proxy's parameters, mode and
    buffers (BatchNorm's running statistics) as they were sent with the call. Kink
    states, of layers and of losses (SVMLoss's margins), come from the twin too, never
    from the submission, whose kink_state could claim a kink everywhere.
    """

    def __init__(self, entry: Entry, args: tuple, kwargs: dict) -> None:
        self.entry, self.args, self.kwargs = entry, args, kwargs
        self.reference = entry.reference(*args, **kwargs)
        # a random class's kept units, by seed and input shape
        self.masks: dict[tuple, np.ndarray] = {}

    def layer(self, proxy: Layer, x: np.ndarray, out: object,
              params: dict | None = None) -> object:
        """Raise Judged unless out is what the class gives for x (with params, default
        the proxy's own); returns minnet's kink state for x."""
        reference = self.reference
        reference.training = proxy.training
        for key in reference.params:
            reference.params[key] = (params or proxy.params)[key]
        for name in reference.buffers:
            value, expected = getattr(proxy, name, None), np.shape(getattr(reference, name))
            if not isinstance(value, np.ndarray) or value.shape != expected:
                raise Judged("wrong behaviour", f"{self.entry.name}.{name} must be an array of "
                                                f"shape {expected}, got {_kind(value)}")
            setattr(reference, name, value.copy())
        what = f"{self.entry.name}.forward(x)"
        if self.entry.forward == "reference":
            message = forward_mismatch(what, out, reference.forward(x.copy()))
        elif not isinstance(out, np.ndarray) or out.shape != x.shape:
            message = forward_mismatch(what, out, x)
        else:
            message = self.entry.forward(LayerCase(self.args, x.shape, self.kwargs,
                                                   proxy.training), x, out) or \
                self._same_mask(proxy, x, out)
        if message:
            raise Judged("wrong forward", message)
        return reference.kink_state() if self.entry.forward == "reference" else None

    def _same_mask(self, proxy, x, out):
        """With a seed, a random class must keep the same units at every forward of the
        same shape, whatever x holds: a mask that follows x would make every perturbed
        loss jump, and its jumps look like noise or kinks to a gradient check."""
        seed = getattr(proxy, "seed", None)
        if seed is None or not proxy.training:
            return None
        kept = (out != 0) | (x == 0)
        first = self.masks.setdefault((seed, x.shape), kept)
        if np.array_equal(first, kept):
            return None
        return (f"{self.entry.name}(seed={seed}).forward kept different units for two inputs "
                f"of shape {x.shape}: with a seed, the mask must not depend on x (draw it "
                "from a generator made from the seed alone)")

    def loss(self, scores: np.ndarray, y: np.ndarray, value: object) -> object:
        """Raise Judged unless value is the loss minnet's class gives for (scores, y);
        returns minnet's kink state for them (None for a smooth loss)."""
        message = loss_mismatch(f"{self.entry.name}.forward(scores, y)", value,
                                self.reference.forward(scores.copy(), np.copy(y)), len(scores))
        if message:
            raise Judged("wrong forward", message)
        return self.reference.kink_state()


def layer_case(entry: Entry, case: LayerCase, make: Callable, rng: np.random.Generator,
               seed: int) -> TestResult:
    """forward(x) against the reference, x unchanged, then check_layer on backward."""
    layer = make(*case.args, **case.kwargs)
    reference = entry.reference(*case.args, **case.kwargs)
    layer.training = reference.training = case.training
    _same_params(layer, reference, rng)
    for name, value in (entry.buffers(rng, reference) if entry.buffers else {}).items():
        setattr(layer, name, value.copy())
        setattr(reference, name, value.copy())
    x = (case.inputs or entry.inputs)(rng, case.x_shape, case.args)
    problems: list[tuple[str, str]] = []
    out = _output(layer.forward, x, f"{entry.name}.forward", problems)
    if not isinstance(out, np.ndarray):
        _add(problems, forward_mismatch(f"{entry.name}.forward(x)", out, x))
        return _result(problems)
    if entry.forward == "reference":
        _add(problems, forward_mismatch(f"{entry.name}.forward(x)", out,
                                        reference.forward(x.copy())))
    elif out.shape != x.shape:
        _add(problems, forward_mismatch(f"{entry.name}.forward(x)", out, x))
    else:
        _add(problems, entry.forward(case, x, out))
    dout = rng.standard_normal(out.shape)
    _output(layer.backward, dout, f"{entry.name}.backward", problems, name="dout")
    report = _checked(problems, check_layer, layer, x, dout, seed=seed)
    return _result(problems, report)


def loss_case(entry: Entry, case: LossCase, make: Callable, rng: np.random.Generator,
              seed: int) -> TestResult:
    """forward(scores, y) against the reference (the batch mean), then check_loss."""
    loss = make(*case.args)
    scores = 2 * entry.inputs(rng, case.scores_shape)
    y = entry.targets(rng, case.scores_shape)
    problems: list[tuple[str, str]] = []
    given_scores, given_y = scores.copy(), y.copy()
    value = loss.forward(given_scores, given_y)
    _unchanged(problems, f"{entry.name}.forward", "scores", scores, given_scores)
    _unchanged(problems, f"{entry.name}.forward", "y", y, given_y)
    expected = entry.reference(*case.args).forward(scores.copy(), y.copy())
    _add(problems, loss_mismatch(f"{entry.name}.forward(scores, y)", value, expected,
                                 len(scores)))
    report = _checked(problems, check_loss, loss, scores, y, seed=seed)
    return _result(problems, report)


def net_case(entry: Entry, case: NetCase, make: Callable, rng: np.random.Generator,
             seed: int) -> TestResult:
    """The class inside a small Net of minnet's classes: its input left alone, the loss
    against the all-minnet twin of the net, then check_net on every parameter."""
    def build(own):
        layers = [make(*args, **kwargs) if own and name == entry.name
                  else ENTRIES[name].reference(*args, **kwargs)
                  for name, args, kwargs in case.layers]
        loss = make() if own and case.loss == entry.name else ENTRIES[case.loss].reference()
        return layers, loss

    (layers, loss), (twin_layers, twin_loss) = build(True), build(False)
    for layer, twin in zip(layers, twin_layers):
        _same_params(layer, twin, rng)
    net, twin = Net(layers, loss, reg=0.1), Net(twin_layers, twin_loss, reg=0.1)
    X = rng.integers(0, case.vocab, case.X_shape, dtype=np.int64) if case.vocab else \
        rng.standard_normal(case.X_shape)  # int64: what the grader's channel carries
    y = labels_for(case.labels, rng, twin.forward(X).shape)  # labels for the scores' shape
    problems: list[tuple[str, str]] = []
    # Layer by layer first: what does the class do with what reaches it in the net?
    out = net._input(X)  # token ids stay integers for an Embedding, anything else float64
    for (name, args, kwargs), layer in zip(case.layers, layers):
        if name != entry.name:
            out = layer.forward(out)
            continue
        x = out
        out = _output(layer.forward, x, f"{name}.forward, inside the net,", problems)
        if entry.forward != "reference" and isinstance(out, np.ndarray) and out.shape == x.shape:
            wrong = entry.forward(LayerCase(args, x.shape, kwargs), x, out)
            _add(problems, wrong and f"inside the net: {wrong}")
    if case.loss == entry.name:
        given_scores, given_y = out.copy(), y.copy()
        loss.forward(given_scores, given_y)
        _unchanged(problems, f"{entry.name}.forward, inside the net,", "scores", out,
                   given_scores)
        _unchanged(problems, f"{entry.name}.forward, inside the net,", "y", y, given_y)
    if entry.forward == "reference":
        message = loss_mismatch("net.loss", net.loss(X, y), twin.loss(X, y), None)
        if message and net.data_loss == twin.data_loss:
            message = _regularization(layers, twin_layers, net, twin)
        _add(problems, message)
    report = _checked(problems, check_net, net, X, y, seed=seed)
    return _result(problems, report)


def property_case(test: Callable, make: Callable, rng: np.random.Generator) -> TestResult:
    """A property of the class (test(make, rng) -> None, or what is wrong) as a test."""
    message = test(make, rng)
    return TestResult("", message is None, "" if message is None else "wrong behaviour",
                      message or "")


# -- judging outputs -----------------------------------------------------------------------

def forward_mismatch(what: str, out: object, expected: np.ndarray) -> str | None:
    """What is wrong with a forward's output, in words, or None: it must have
    expected's shape and match it within FORWARD_RTOL of its largest value."""
    if not isinstance(out, np.ndarray):
        return f"{what} returned a {type(out).__name__}, not a numpy array"
    if out.shape != expected.shape:
        hint = ""
        if out.size == expected.size:
            hint = (": the right values with a wrong shape (np.squeeze and reshape drop or "
                    "move axes of size 1)")
        return f"{what} returned shape {out.shape}, expected {expected.shape}{hint}"
    if out.dtype.kind != "f":
        return f"{what} returned an array of dtype {out.dtype}, not of real floats"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    error = np.abs(out - expected)
    if np.all(np.isfinite(out)) and error.max(initial=0.0) <= FORWARD_RTOL * scale:
        return None
    i = tuple(int(k) for k in np.unravel_index(
        np.argmax(np.where(np.isfinite(error), error, np.inf)), error.shape))
    return (f"{what}: at {list(i)} yours is {out[i]:.6g}, minnet's reference gives "
            f"{expected[i]:.6g} (off by {error[i] / scale:.1e} of the output's largest value)")


def loss_mismatch(what: str, value: object, expected: float, N: int | None) -> str | None:
    """What is wrong with a loss value, in words, or None (the sum instead of the mean
    of a batch of N, when it is that)."""
    value = np.asarray(value)
    if value.size != 1 or value.dtype.kind not in "biuf":
        kind = "a complex number" if value.dtype.kind == "c" else \
            f"an array of shape {value.shape} and dtype {value.dtype}"
        return f"{what} must return one real number (the loss), got {kind}"
    value = float(value.reshape(()))
    if abs(value - expected) <= FORWARD_RTOL * max(abs(expected), 1e-300):
        return None
    hint = ""
    if N and N > 1 and abs(value - N * expected) <= 1e-8 * abs(N * expected):
        hint = (f": {N} times the right value for a batch of {N}, the sum over the batch "
                "instead of its mean")
    return f"{what} returned {value:.10g}; minnet's reference gives {expected:.10g}{hint}"


# -- the pieces --------------------------------------------------------------------------

def _add(problems, message, problem="wrong forward"):
    if message:
        problems.append((problem, message))


def _checked(problems, check, *args, **kwargs):
    """check(*args, **kwargs), the checker's report; if the checker refuses what the
    class returns (a wrong shape or type), that goes into problems and None comes back."""
    try:
        return check(*args, **kwargs)
    except (TypeError, ValueError, RuntimeError, ArithmeticError) as error:
        if not problems:
            problems.append(("raised", f"{type(error).__name__}: {error}"))
        return None


def _regularization(layers, twin_layers, net, twin):
    """Why the data losses agree but the regularization terms do not, in words."""
    for layer, reference in zip(layers, twin_layers):
        if tuple(getattr(layer, "weights", ())) != tuple(reference.weights):
            return (f"net.reg_loss is {net.reg_loss:.10g}, minnet's reference gives "
                    f"{twin.reg_loss:.10g}: L2 regularization applies to the params named in "
                    f"the class's `weights`, and {type(layer).__name__}.weights is "
                    f"{tuple(getattr(layer, 'weights', ()))!r} where minnet's is "
                    f"{tuple(reference.weights)!r}")
    return f"net.reg_loss is {net.reg_loss:.10g}, minnet's reference gives {twin.reg_loss:.10g}"


def _kind(value):
    return f"shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__


def _same_params(layer, reference, rng):
    """Give the submission's layer and the reference the same random parameters."""
    values = {key: PARAM_SCALE * rng.standard_normal(np.shape(value))
              for key, value in reference.params.items()}
    name = type(layer).__name__
    params = getattr(layer, "params", None)
    if not isinstance(params, dict) or set(params) != set(values):
        keys = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{name}.params must be a dict with the keys {sorted(values)}, got "
                         f"{keys}")
    for key, value in values.items():
        if np.shape(params[key]) != value.shape:
            raise ValueError(f"{name}.params[{key!r}] must have shape {value.shape}, got "
                             f"{np.shape(params[key])}")
        params[key] = value
        reference.params[key] = value.copy()


def _output(method, array, what, problems, name="x"):
    """method(copy of array); records in problems if the call changed its argument."""
    given = array.copy()
    out = method(given)
    _unchanged(problems, what, name, array, given)
    return out


def _unchanged(problems, what, name, before, after):
    if isinstance(after, np.ndarray) and (after.shape != np.shape(before) or
                                          not np.array_equal(after, before, equal_nan=True)):
        problems.append(("changed its input", changed(what, name, before, after)))


def _result(problems, report=None):
    """A TestResult from the problems found and the gradient check's report."""
    worst = None
    if report is not None:
        errors = [row.max_rel_error for row in report.rows if row.checked]
        worst = max(errors) if errors else None
        if report.failed:
            problems.append(("wrong gradient", explain(report[report.failed[0]])))
        elif report.unresolved:
            row = report[report.unresolved[0]]
            problems.append(("wrong gradient", f"the gradient check could not judge "
                                               f"d{row.name} ({row.reason})"))
    if not problems:
        return TestResult("", True, max_rel_error=worst)
    return TestResult("", False, problems[0][0], "; ".join(m for _, m in problems), worst)


def explain(row: CheckRow) -> str:
    """A failing row in words: the checker's diagnosis and its worst probe."""
    tensor = "d" + row.name if row.name != "scores" else "dscores"
    index, a, n = row.worst[0]
    return (f"{row.diagnosis.split(': ', 1)[-1]} (worst at {tensor}{list(index)}: yours "
            f"{a:.6g}, numerical {n:.6g})").replace(f"{tensor} ", f"{tensor} ", 1)
