"""The checks: a whole Net, a single layer, a loss, or any function of a parameter dict.

Every check perturbs the very float64 arrays the layers hold, in place, and puts each
entry back bit for bit (a float32 net is checked on float64 copies, and the complex
step on complex ones), fixes the Dropout masks, and leaves the net or layer exactly
as it found it: parameters, modes, seeds, generators and caches, even when the loss
raises or a KeyboardInterrupt arrives in the middle.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from ..params import gradients_to_vector, vector_to_dictionary
from ..validate import count, real
from .diagnosis import diagnose, suspects
from .engine import check_tensors, loss_noise
from .evaluators import Evaluator, LoopEvaluator
from .numerical import EPS, RELATIVE_STEPS, as_number, check_method, check_step
from .report import CheckReport
from .stacked import StackedLoss, stackable

if TYPE_CHECKING:  # for the type hints only
    from ..contract import Layer, Loss
    from ..net import Net

AUTO_FULL = 10_000   # sample="auto" compares every coordinate of nets up to this size...
AUTO_SAMPLE = 200    # ...and this many coordinates per tensor in larger nets
PARTS = ("total", "data", "reg")


def check_net(net: Net, X: np.ndarray, y: np.ndarray, *, method: str = "central",
              h: float | None = None, sample: int | str | None = "auto", part: str = "total",
              seed: int = 0, loss_scale: float = 1.0, stacked: bool = True, fast: bool = False,
              directions: int = 3) -> CheckReport:
    """Check every gradient net.backward() returns against numerical derivatives of net.loss.

    net: a minnet Net; X: (N, D) a small batch; y: (N,) its labels
    method: "central" (default), "forward", "backward", "fivepoint" or "complex"
    h: a fixed step, or None for RELATIVE_STEPS[method] * max(1, |theta_i|)
    sample: None checks every coordinate; an int checks that many per tensor;
        "auto" checks everything in nets of up to 10,000 parameters and 200
        coordinates per tensor beyond (drawn with `seed`)
    part: "total" (data loss + regularization), "data" or "reg"
    seed: for the sampled coordinates and the fixed Dropout masks
    loss_scale: multiply the loss (and so every gradient) by this, for tiny gradients
    stacked: evaluate many perturbations at once, reusing the activations before the
        perturbed layer (see checker.stacked; same coordinates, same verdicts, many
        times faster); used when the loss can give each sample's loss
        (sample_losses). False runs the plain loop: the whole net twice per coordinate.
    fast: check `directions` random directions per tensor instead of coordinates (see
        engine.check_tensors): the same tensors flagged, at a tiny fraction of the
        cost. A flagged tensor is then checked element-wise on a sample of
        coordinates, to show its worst ones.
    returns a CheckReport with rows named like net.params
    """
    h, loss_scale = _check_options("check_net", method, h, part, loss_scale)
    directions = count(directions, "directions", "check_net",
                       fix="it is the number of random directions per tensor in a fast check")
    size = sum(p.size for p in net.params.values())
    per_tensor = _per_tensor(sample, size)
    notes = []
    if net.dtype != np.float64:
        notes.append(f"the net is {net.dtype.name}: it was checked on float64 copies of its "
                     "parameters (a check needs double precision); the net is unchanged")
    if fast:
        notes.append(f"fast check: {directions} random directions per tensor; pass "
                     "fast=False to compare coordinates")
    elif per_tensor is not None:
        notes.append(f"sampled up to {per_tensor} coordinates per tensor (seed {seed}) of "
                     f"{size} parameters; pass sample=None to check them all")
    with preserved([net, net.loss_fn, *net.layers]):
        copies = net.dtype != np.float64 or method == "complex"
        net.dtype = np.dtype(np.float64)
        _fix_dropout(net.layers, seed)
        targets = _install(net, np.float64)
        analytic, expected, data_grads = _analytic(net, X, y, part)
        if method == "complex":
            targets = _install(net, np.complex128)
        parts: list[Layer | Loss] = [*net.layers, net.loss_fn]
        kinky = [part for part in parts if _kink_state(part) is not None]

        def loss():
            total = net.loss(X, y)
            return {"total": total, "data": net.data_loss, "reg": net.reg_loss}[part] * loss_scale

        loop = LoopEvaluator(loss, lambda: [layer.kink_state() for layer in kinky])
        evaluator: Evaluator = loop
        if stacked and method != "complex" and stackable(net):
            evaluator = StackedLoss(net, X, y, part, loss_scale)
        options = dict(method=method, h=h, seed=seed, expected=expected * loss_scale,
                       unit=loss_scale, loop=loop, copies=copies)
        analytic = _scaled(analytic, loss_scale)
        if fast:
            rows = check_tensors(loss, targets, analytic, evaluator, directions=directions,
                                 **options)
            for k, row in enumerate(rows):
                if not row.passed:  # judge coordinates: show the worst, or judge at all
                    refined, = check_tensors(loss, {row.name: targets[row.name]}, analytic,
                                             evaluator, sample=AUTO_SAMPLE, **options)
                    if refined.result == "FAIL" or row.result == "cannot resolve":
                        rows[k] = refined
        else:
            rows = check_tensors(loss, targets, analytic, evaluator, sample=per_tensor,
                                 **options)
    position = {id(layer): i for i, layer in enumerate(net.layers)}
    owners = {name: position[id(layer)] for name, layer, _ in net._slots()}
    regularized = {name for name, layer, key in net._slots() if key in layer.weights}
    for row in rows:
        if row.result == "FAIL":
            penalty = _at(net.reg * np.real(targets[row.name]) * loss_scale, row) \
                if net.reg and part != "data" else None
            diagnose(row, penalty, row.name in regularized, batch=len(X))
    if part == "total" and net.reg:
        notes += _dominance_notes(analytic, data_grads)
    report = CheckReport(rows, method, _step_text(method, h), notes)
    report.suspects = suspects(report, owners, len(net.layers))
    report.layer_names = {i: repr(layer) for i, layer in enumerate(net.layers)}
    report.layer_names["loss"] = repr(net.loss_fn)
    return report


def check_layer(layer: Layer, x: np.ndarray, dout: np.ndarray | None = None, *,
                method: str = "central", h: float | None = None, sample: int | None = None,
                seed: int = 0, loss_scale: float = 1.0) -> CheckReport:
    """Check a layer's backward: dx and every parameter gradient, against sum(forward(x) * dout).

    layer: any object with the layer contract (minnet.layers.Layer)
    x: (N, ...) the input; dout: shaped like forward(x), default a random normal
        array drawn with `seed`
    returns a CheckReport with rows "x" and the layer's parameter names; no "x" for
        a layer with integer_input (Embedding), whose input has no derivative
    """
    h, loss_scale = _check_options("check_layer", method, h, "total", loss_scale)
    sample = _check_sample("check_layer", sample)
    name = type(layer).__name__
    differentiable_x = not getattr(layer, "integer_input", False)
    with preserved([layer]):
        _fix_dropout([layer], seed)
        layer.needs_dx = differentiable_x
        x64 = np.array(x, dtype=np.float64) if differentiable_x else np.asarray(x)
        params = {key: value if isinstance(value, np.ndarray) and value.dtype == np.float64
                  and value.flags.writeable else np.array(value, dtype=np.float64)
                  for key, value in layer.params.items()}  # the layer's own arrays if it can
        layer.params.update(params)
        out = _checked_output(name, layer.forward(x64), len(x64))
        if dout is None:
            dout = np.random.default_rng(seed).standard_normal(out.shape)
        dout = np.asarray(dout, dtype=np.float64)
        if dout.shape != out.shape:
            raise ValueError(f"check_layer: dout must have the shape of {name}.forward(x), "
                             f"{out.shape}, got {dout.shape}")
        dx = layer.backward(dout)
        analytic = _checked_grads(name, layer.grads, params)
        targets = dict(params)
        if differentiable_x:
            analytic = {"x": _checked_dx(name, dx, x64.shape), **analytic}
            targets = {"x": x64, **targets}
        if method == "complex":
            targets = {key: value.astype(np.complex128) for key, value in targets.items()}
            layer.params.update({key: targets[key] for key in params})
        x_in = targets["x"] if differentiable_x else x64
        kinky = [layer] if _kink_state(layer) is not None else []
        batch = _LayerBatch(layer, x_in, dout, loss_scale) if method != "complex" and \
            callable(getattr(layer, "forward_perturbed", None)) else None

        def loss():
            return np.sum(layer.forward(x_in) * dout) * loss_scale

        loop = LoopEvaluator(loss, lambda: [k.kink_state() for k in kinky])
        rows = check_tensors(loss, targets, _scaled(analytic, loss_scale), batch or loop,
                             method=method, h=h, sample=sample, seed=seed, unit=loss_scale,
                             expected=np.sum(out * dout) * loss_scale, loop=loop,
                             copies=method == "complex")
    for row in rows:
        if row.result == "FAIL":
            diagnose(row, batch=len(x64))
    return CheckReport(rows, method, _step_text(method, h))


def check_loss(loss: Loss, scores: np.ndarray, y: np.ndarray, *, method: str = "central",
               h: float | None = None, sample: int | None = None, seed: int = 0) -> CheckReport:
    """Check a loss's backward: dscores against numerical derivatives of forward(scores, y).

    loss: any object with the loss contract (minnet.losses.Loss)
    scores: (N, C) (or whatever shape the loss takes); y: the labels or targets
    returns a CheckReport with one row, "scores"
    """
    h, _ = _check_options("check_loss", method, h, "total", 1.0)
    sample = _check_sample("check_loss", sample)
    name = type(loss).__name__
    with preserved([loss]):
        scores64 = np.array(scores, dtype=np.float64)
        value = as_number(loss.forward(scores64, y), f"{name}.forward")
        dscores = loss.backward()
        _checked_array(f"{name}.backward returned dscores", dscores, scores64.shape,
                       "the shape of the scores")
        target = scores64.astype(np.complex128) if method == "complex" else scores64
        kinky = [loss] if _kink_state(loss) is not None else []
        loop = LoopEvaluator(lambda: loss.forward(target, y),
                             lambda: [k.kink_state() for k in kinky])
        batch = _LossBatch(loss, target, y) if method != "complex" and \
            callable(getattr(loss, "forward_perturbed", None)) else None
        rows = check_tensors(lambda: loss.forward(target, y), {"scores": target},
                             {"scores": dscores}, batch or loop, method=method, h=h,
                             sample=sample, seed=seed, expected=value, loop=loop)
    for row in rows:
        if row.result == "FAIL":
            diagnose(row, batch=len(scores64))
    return CheckReport(rows, method, _step_text(method, h))


def gradient_check_n(forward: Callable, parameters: dict, gradients: dict,
                     epsilon: float = 1e-7, *, method: str = "central",
                     sample: int | None = None, seed: int = 0,
                     loss_scale: float = 1.0) -> CheckReport:
    """The N-dimensional check of the classic exercise, with minnet's verdict.

    forward: forward(params) -> cost, or (cost, cache) as the classic forward returns
    parameters: dict name -> array ("W1", "b1", ...), never modified (copies are used)
    gradients: dict keyed like parameters or with the "d" prefix ("dW1"); other
        keys such as "dZ1" are ignored
    epsilon: the step, used as it is (not scaled), as in the exercise
    returns a CheckReport; report.difference is the exercise's number,
        ||grad - gradapprox|| / (||grad|| + ||gradapprox||)
    """
    epsilon, loss_scale = _check_options("gradient_check_n", method, epsilon, "total",
                                         loss_scale, step_name="epsilon")
    sample = _check_sample("gradient_check_n", sample)
    dtype = np.complex128 if method == "complex" else np.float64
    targets = {name: np.array(value, dtype=dtype) for name, value in parameters.items()}
    analytic = vector_to_dictionary(gradients_to_vector(gradients, like=parameters),
                                    like=parameters)

    def cost():
        return as_number(forward(targets), "forward", method == "complex") * loss_scale

    J = np.real(cost())
    rows = check_tensors(cost, targets, _scaled(analytic, loss_scale), LoopEvaluator(cost),
                         method=method, h=epsilon, sample=sample, seed=seed, unit=loss_scale)
    for row in rows:
        if row.result == "FAIL":
            diagnose(row)
    report = CheckReport(rows, method, f"epsilon = {epsilon:g}")
    sigma = 0.0 if method == "complex" else loss_noise(lambda: np.real(cost()), targets,
                                                        method, epsilon, seed)
    report.notes.append(_classic_note(report, epsilon, J, sigma))
    return report


class _LayerBatch(Evaluator):
    """The evaluator of check_layer for a layer that runs many perturbed forwards in one
    call: forward_perturbed(x, moves) -> (outs, kink states), forward with one entry moved
    per (name, flat index, delta), name "x" or a key of params. The grader's proxies for
    student code in another process offer it (one round trip for thousands of moves).
    Create it right after forward(x): the kink state then is the unperturbed one."""
    directions = False

    def __init__(self, layer, x, dout, scale):
        self.layer, self.x, self.dout, self.scale = layer, x, dout, scale
        state = _kink_state(layer)
        self.base = None if state is None else np.array(state)

    def at(self, probes, which, deltas):
        flat = probes.flat[which]
        outs, kinks = self.layer.forward_perturbed(
            self.x, [(probes.name, int(k), float(d)) for k, d in zip(flat, deltas)])
        values = (np.asarray(outs).reshape(len(flat), -1) @ self.dout.reshape(-1)) * self.scale
        crossed = np.zeros(len(flat), dtype=bool)
        if self.base is not None and kinks is not None:
            crossed = np.any(np.asarray(kinks).reshape(len(flat), -1)
                             != self.base.reshape(1, -1), axis=1)
        return values, crossed


class _LossBatch(Evaluator):
    """The evaluator of check_loss for a loss with forward_perturbed(scores, y, flat,
    deltas) -> values (the grader's proxies)."""
    directions = False

    def __init__(self, loss, scores, y):
        self.loss, self.scores, self.y = loss, scores, y

    def at(self, probes, which, deltas):
        values = self.loss.forward_perturbed(self.scores, self.y, probes.flat[which], deltas)
        return np.asarray(values, dtype=float), np.zeros(len(which), dtype=bool)


@contextmanager
def preserved(objects: list) -> Iterator[None]:
    """Put back everything these objects hold when the block ends, however it ends.

    Restores each object's attributes, the contents of its dict attributes (such as
    params and grads) and of the arrays in its params (a check perturbs the very
    parameter arrays, and a faulty forward may write to them), the state of its numpy
    Generators, and numpy's global random state (minnet never uses it, but code under
    check might).
    """
    saved = []
    for obj in objects:
        attributes = dict(vars(obj))
        dicts = [(value, dict(value)) for value in attributes.values() if isinstance(value, dict)]
        params = attributes.get("params")
        arrays = [(array, array.copy()) for array in params.values()
                  if isinstance(array, np.ndarray) and array.flags.writeable] \
            if isinstance(params, dict) else []
        rngs = [(value, value.bit_generator.state) for value in attributes.values()
                if isinstance(value, np.random.Generator)]
        saved.append((obj, attributes, dicts, arrays, rngs))
    global_state = np.random.get_state()
    try:
        yield
    finally:
        for obj, attributes, dicts, arrays, rngs in saved:
            vars(obj).clear()
            vars(obj).update(attributes)
            for mapping, contents in dicts:
                mapping.clear()
                mapping.update(contents)
            for array, original in arrays:
                np.copyto(array, original)
            for generator, state in rngs:
                generator.bit_generator.state = state
        np.random.set_state(global_state)


def _check_options(owner, method, h, part, loss_scale, step_name="h"):
    """Check the options every check shares; returns (h, loss_scale) as floats (h may be
    None). owner: the check's name, for the messages; step_name: what it calls h."""
    check_method(method, owner)
    h = check_step(h, method, np.zeros(1), owner, step_name)
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    loss_scale = real(loss_scale, "loss_scale", owner, low=0, low_open=True,
                      fix="the loss and every gradient are multiplied by it")
    return h, loss_scale


def _per_tensor(sample, size):
    if sample == "auto":
        return None if size <= AUTO_FULL else AUTO_SAMPLE
    return _check_sample("check_net", sample, 'None, "auto" or a positive int')


def _check_sample(owner, sample, expected="None or a positive int"):
    """sample: None (every coordinate) or how many coordinates per tensor, as an int."""
    if sample is None:
        return None
    return count(sample, "sample", owner, expected=f"{expected} (coordinates per tensor)")


def _fix_dropout(layers, seed):
    """Give every random layer left unseeded (a Dropout with seed None) a fixed seed, so
    that every evaluation draws the same mask."""
    for i, layer in enumerate(layers):
        if getattr(layer, "seed", 0) is None:
            layer.seed = seed * 1000 + i


def _install(net, dtype):
    """name -> the array the check perturbs: the layer's own array when it already has
    the dtype (so a layer holding its own reference to it sees every perturbation),
    else a copy of that dtype, put in its place. Their owner, preserved(), puts the
    originals back."""
    arrays = {}
    for name, layer, key in net._slots():
        value = layer.params[key]
        if not (isinstance(value, np.ndarray) and value.dtype == dtype and value.flags.writeable):
            value = layer.params[key] = np.array(value, dtype=dtype)
        arrays[name] = value
    return arrays


def _at(values, row):
    """An array's values at a row's judged coordinates (None for directions)."""
    if row.along != "coordinates" or not row.indices:
        return None
    return np.array([values[index] for index in row.indices])


def _analytic(net, X, y, part):
    """(gradients of `part`, its value, the data-loss gradients) from the net's own backward."""
    total = net.loss(X, y)
    grads = net.backward()
    for name, layer, key in net._slots():
        _checked_array(f"{name}, the gradient net.backward() returned for {layer!r}.params"
                       f"[{key!r}],", grads[name], layer.params[key].shape, "its shape")
    value = {"total": total, "data": net.data_loss, "reg": net.reg_loss}[part]
    if not net.reg:
        return ({k: np.zeros_like(g) for k, g in grads.items()} if part == "reg" else grads,
                value, grads)
    reg = net.reg
    net.reg = 0.0  # the same pass again, without the reg * W terms
    try:
        net.loss(X, y)
        data = net.backward()
    finally:
        net.reg = reg
    if part == "data":
        return data, value, data
    if part == "reg":
        return {k: grads[k] - data[k] for k in grads}, value, data
    return grads, value, data


def _dominance_notes(grads, data):
    """Notes for the tensors whose regularization gradient is over 10 times their data gradient."""
    notes = []
    for name in grads:
        data_norm = np.linalg.norm(data[name])
        reg_norm = np.linalg.norm(grads[name] - data[name])
        if reg_norm > 10 * data_norm:
            ratio = reg_norm / data_norm if data_norm else np.inf
            notes.append(f"the regularization term dominates the gradient of {name} "
                         f"({ratio:.1f} times the data part): a bug in the data gradient can "
                         "hide under it; check part='data' as well")
    return notes


# The classic exercise's N-dimensional check calls a difference above 2e-7 a mistake (its
# one-dimensional check uses 1e-7); gradient_check_n is the N-dimensional one.
CLASSIC_THRESHOLD, CLASSIC_TEXT = 2e-7, "2e-7"


def _classic_note(report, epsilon, J, sigma):
    """sigma: the measured rounding noise of J (at least eps * |J|, often far more)."""
    d, line, text = report.difference, CLASSIC_THRESHOLD, CLASSIC_TEXT
    noise = max(sigma, EPS * abs(J))
    if report.passed and d > line:
        return (f"the classic exercise calls a difference above {text} a mistake, but at "
                f"epsilon = {epsilon:g} every difference quotient carries a rounding error of "
                f"about {noise / epsilon:.1e}: J itself scatters by {noise:.1e} between "
                f"evaluations a hair apart (eps * |J| = {EPS * abs(J):.1e} would be the least), "
                f"and the quotient divides that by epsilon. So {d:.2e} is what a correct "
                "gradient gives here; every coordinate agrees within that error. A step near "
                "1e-5 makes the rounding error smaller")
    if not report.passed and d <= line:
        return (f"the difference {d:.2e} is below the classic {text} threshold, which would "
                "have missed this bug; minnet judges every coordinate on its own")
    return f"difference {d:.3e} ({'above' if d > line else 'below'} the classic {text} threshold)"


def _kink_state(layer):
    probe = getattr(layer, "kink_state", None)
    return probe() if callable(probe) else None


def _scaled(grads, scale):
    return {name: np.asarray(g) * scale for name, g in grads.items()}


def _checked_dx(name, dx, shape):
    return _checked_array(f"{name}.backward returned dx", dx, shape, "the shape of x")


def _checked_grads(name, grads, params):
    if not isinstance(grads, dict):
        raise TypeError(f"{name}.grads must be a dict like {name}.params, got "
                        f"{type(grads).__name__}")
    missing = sorted(set(params) - set(grads))
    extra = sorted(set(grads) - set(params))
    if missing or extra:
        raise ValueError(f"{name}.grads must have exactly the keys of {name}.params; "
                         f"missing {missing}, extra {extra}")
    for key in params:
        _checked_array(f"{name}.grads[{key!r}]", grads[key], params[key].shape,
                       f"the shape of {name}.params[{key!r}]")
    return grads


def _checked_output(name, out, N):
    """A layer's forward must return a float array with one row per sample."""
    if not isinstance(out, np.ndarray) or out.dtype.kind not in "fc" or out.ndim == 0:
        kind = (f"an array of dtype {out.dtype} and shape {out.shape}"
                if isinstance(out, np.ndarray) else f"a {type(out).__name__}")
        raise TypeError(f"{name}.forward(x) must return its output, a numpy array of floats "
                        f"with one row per sample, got {kind}")
    if len(out) != N:
        raise ValueError(f"{name}.forward(x) returned {len(out)} rows for a batch of {N} "
                         f"samples (shape {out.shape}); it must keep one row per sample")
    return out


def _checked_array(what, value, shape, expected):
    """A gradient must be a finite float ndarray of the right shape: say which one is not."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc":
        kind = (f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray)
                else f"a {type(value).__name__}")
        raise TypeError(f"{what}: expected a numpy array of floats, got {kind}")
    if value.shape != shape:
        raise ValueError(f"{what} of shape {value.shape}; it must have {expected}, {shape}")
    if not np.all(np.isfinite(value)):
        index = [int(i) for i in np.argwhere(~np.isfinite(value))[0]]
        raise ValueError(f"{what} contains {value[tuple(index)]} at {index}; a gradient must be "
                         "finite: look in backward for a division by zero or an overflow")
    return value


def _step_text(method, h):
    if h is not None:
        return f"h = {h:g}"
    return f"h = {RELATIVE_STEPS[method]:.1e}" + ("" if method == "complex" else " x max(1, |x|)")
