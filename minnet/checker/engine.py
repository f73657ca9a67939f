"""The comparison engine behind every check: numerical estimates, kinks, and the pass rule.

The pass rule. A numerical derivative is itself only approximate, so "analytic equals
numerical" can only mean "equal within the numerical error". At each coordinate:

    |analytic - numerical| <= RTOL * max(|analytic|, |numerical|) + rounding

where rounding is the rounding error of the difference quotient, measured rather than
guessed: minnet first measures how noisy f is (sigma) and then bounds the quotient's
error by about 10 sigma / h. A coordinate that fails this test gets a second look with
two more steps: estimates that jump between steps mean a kink; otherwise Richardson
extrapolation removes the truncation error. Only an error that neither rounding,
truncation nor a kink explains fails the check.
"""
from dataclasses import dataclass

import numpy as np

from .compare import RELATIVE_FLOOR, band, difference, relative_error
from .numerical import EPS, RELATIVE_STEPS, STENCILS, as_number, default_step, derivative
from .report import CheckRow

RTOL = 1e-6           # agreement required beyond the numerical error itself
NOISE_SIGMAS = 10     # the rounding bound, in standard deviations of f's noise
NONSMOOTH = 1e-3      # estimates at h and h/2 differing by more than this, relatively: a kink


class NondeterministicForwardError(RuntimeError):
    """Two evaluations of the loss at the same parameters gave different values."""


class ForwardChangedParametersError(RuntimeError):
    """Evaluating the loss wrote to the parameters being checked."""


@dataclass
class _Coordinate:
    index: tuple
    analytic: float
    numerical: float
    kink: bool = False        # left out: every step crossed a kink
    ok: bool = True
    one_sided: bool = False   # judged with a one-sided difference beside a kink


def check_tensors(f, targets, analytic, *, method="central", h=None, sample=None, seed=0,
                  kink_probe=None, expected=None, batch=None):
    """Compare analytic gradients with numerical ones, tensor by tensor.

    f: () -> the loss, a number; it reads the arrays in `targets`
    targets: dict name -> array that f reads, perturbed here in place and always
        restored (float64, or complex128 for method="complex")
    analytic: dict name -> the analytic gradient, shaped like the target
    h: a fixed step, or None for default_step(method, x) at each coordinate
    sample: None for every coordinate, or an int: that many coordinates per tensor,
        drawn with numpy.random.default_rng(seed)
    kink_probe: () -> list of kink states after the last f() (see Layer.kink_state)
    expected: the loss the analytic pass saw, to confirm f gives the same value
    batch: optional batch(name, flat, deltas) -> (values, crossed), f at many single-
        coordinate perturbations of targets[name] at once and whether each crossed a
        kink (see stacked.StackedLoss); it then makes the first estimate of every
        coordinate, and f still takes every second look
    returns a list of CheckRow, one per target
    """
    rng = np.random.default_rng(seed)
    f0, watch, unchanged = _prepare(f, targets, kink_probe, expected, method)
    loop = _loop(watch, targets)
    noise = _Noise(lambda: _noise(_coordinate_lines(loop, targets, method, h), seed), method)
    if method == "complex":
        batch = None
    if batch is not None:  # the first estimates come from batch: measure its own noise
        batch_noise = _Noise(lambda: _noise(_coordinate_lines(batch, targets, method, h), seed),
                             method)
    rows = []
    for name, x in targets.items():
        indices = _coordinates(x.shape, sample, rng)
        flat = np.ravel_multi_index(tuple(np.array(indices).T), x.shape) if indices else []
        a = np.real(np.asarray(analytic[name]).flat[flat]).astype(float)
        estimates, ok = np.zeros(len(flat)), np.zeros(len(flat), dtype=bool)
        if batch is not None and len(flat):
            estimates, ok = _first_pass(batch, name, flat, np.real(x.flat[flat]), a, method, h,
                                        f0, batch_noise)
        # What does not agree at once gets the closer look, one coordinate at a time.
        coords = [_Coordinate(index, a[k], estimates[k]) if ok[k] else
                  _compare(watch, x, index, a[k], method, h, f0, noise)
                  for k, index in enumerate(indices)]
        rows.append(_row(name, x.shape, coords))
    unchanged.confirm()  # after every evaluation, at perturbed points too
    return rows


def check_directions(f, targets, analytic, *, method="central", h=None, count=3, seed=0,
                     kink_probe=None, expected=None, along=None):
    """Directional checks: per tensor, compare the analytic gradient's projection on
    `count` random unit directions v with the numerical derivative of f along v.

    A wrong gradient almost never has the right projection on a random direction, so a
    few directions per tensor find which tensors are wrong at the cost of 2 * count
    evaluations each, whatever their size. Arguments as for check_tensors, and
    along: optional along(name, V, ts) -> (values, crossed), f at targets[name] + ts[k] * V[k]
        for many k at once (see stacked.StackedLoss.along), for the first estimates.
    returns a list of CheckRow whose "coordinates" are the directions (index (k,): the k-th).
    """
    rng = np.random.default_rng(seed)
    f0, watch, unchanged = _prepare(f, targets, kink_probe, expected, method)
    directions = {name: _unit_directions(rng, x.shape, count) for name, x in targets.items()}
    loop = _loop_along(watch, targets)
    moves = (lambda name, v, ts: (np.array([loop(name, v, t) for t in ts]),
                                  np.zeros(len(ts), dtype=bool)))
    noise = _Noise(lambda: _noise(_direction_lines(moves, directions, method, h), seed), method)
    if along is not None:
        stacked_moves = (lambda name, v, ts: along(name, np.repeat(v[None], len(ts), axis=0),
                                                   ts))
        along_noise = _Noise(lambda: _noise(_direction_lines(stacked_moves, directions, method,
                                                             h), seed), method)
    t = np.zeros(1, dtype=np.complex128 if method == "complex" else np.float64)
    rows = []
    for name, x in targets.items():
        V = directions[name]
        # the analytic directional derivatives: the projections v . grad
        a = np.real(V.reshape(len(V), x.size) @ np.asarray(analytic[name]).reshape(-1)
                    ).astype(float)
        estimates, ok = np.zeros(len(V)), np.zeros(len(V), dtype=bool)
        if along is not None and method != "complex" and len(V):
            estimates, ok = _first_pass(lambda _, picks, ts: along(name, V[picks], ts), name,
                                        np.arange(len(V)), np.zeros(len(V)), a, method, h, f0,
                                        along_noise)
        coords = []
        for k, v in enumerate(V):
            if ok[k]:
                coords.append(_Coordinate((k,), a[k], estimates[k]))
                continue
            direction = _KinkWatch(lambda v=v: loop(name, v, t[0]), watch.probe, watch.base)
            coord = _compare(direction, t, (0,), float(a[k]), method, h, f0, noise)
            coord.index = (k,)
            coords.append(coord)
        rows.append(_row(name, x.shape, coords))
    unchanged.confirm()  # after every evaluation, at perturbed points too
    return rows


def _unit_directions(rng, shape, count):
    """count random unit directions: entries drawn uniformly from [-1/2, 1/2), then scaled.

    The entries must come from a continuous distribution. With entries of +-1 (say),
    two equal errors of opposite sign (a bias gradient off by +e in one entry and -e in
    another) cancel exactly in the projection whenever their two signs agree: in half
    of all directions. With continuous entries no errors cancel exactly, and a single
    wrong entry k shows in direction v in proportion to |v_k|, which is rarely tiny in
    all the directions at once.
    """
    if int(np.prod(shape)) == 0:
        return np.zeros((0,) + tuple(shape))
    V = rng.random((count,) + tuple(shape)) - 0.5
    flat = V.reshape(count, -1)
    flat /= np.sqrt(np.einsum("ki,ki->k", flat, flat))[:, None]
    return V


def _prepare(f, targets, kink_probe, expected, method):
    """f0 and a kink-watching f; refuses an f that writes to targets or is nondeterministic."""
    complex_step = method == "complex"
    unchanged = _Unchanged(targets)
    f0 = as_number(f(), "the loss", complex_expected=complex_step)
    unchanged.confirm()
    base_kinks = kink_probe() if kink_probe else None
    # Two evaluations at the same point must agree; the analytic pass's loss, when
    # given, came first, otherwise f runs once more.
    first, second = (expected, f0) if expected is not None else (
        f0, as_number(f(), "the loss", complex_expected=complex_step))
    # The analytic pass ran in real arithmetic: complex arithmetic may round differently.
    slack = 1e-12 * abs(f0) if complex_step else 0.0
    if abs(np.real(first) - np.real(second)) > slack:
        raise NondeterministicForwardError(_nondeterministic_message(first, second))
    return f0, _KinkWatch(f, kink_probe, base_kinks), unchanged


class _Unchanged:
    """A copy of the arrays f reads, to confirm that evaluating f left them as they were."""

    def __init__(self, targets):
        self.targets = targets
        self.before = {name: x.copy() for name, x in targets.items()}

    def confirm(self):
        changed = [name for name, x in self.targets.items()
                   if not np.array_equal(x, self.before[name], equal_nan=True)]
        if changed:
            raise ForwardChangedParametersError(
                _changed_message(changed, self.before, self.targets))


def _loop(watch, targets):
    """evaluate(name, flat, deltas) -> (values, crossed): f with one entry changed at a time."""
    def evaluate(name, flat, deltas):
        x, values, crossed = targets[name], [], []
        for k, delta in zip(flat, deltas):
            old = x.flat[k]
            watch.reset()
            try:
                x.flat[k] = old + delta
                values.append(as_number(watch(), "the loss"))
            finally:
                x.flat[k] = old
            crossed.append(watch.crossed)
        return np.array(values), np.array(crossed)
    return evaluate


def _loop_along(watch, targets):
    """move(name, v, t) -> f at targets[name] + t * v, which is then put back bit for bit."""
    def move(name, v, t):
        x = targets[name]
        origin = x.copy()
        x[...] = origin + t * v
        try:
            return watch.f()
        finally:
            x[...] = origin
    return move


class _Noise:
    """f's rounding noise, measured the first time it is needed (0 for the complex step)."""

    def __init__(self, measure, method):
        self.measure, self.value = measure, 0.0 if method == "complex" else None

    def __call__(self):
        if self.value is None:
            self.value = self.measure()
        return self.value


class _KinkWatch:
    """Calls f and remembers whether any layer's kink state left the base state since reset()."""

    def __init__(self, f, probe, base):
        self.f, self.probe, self.base = f, probe, base
        self.crossed = False

    def reset(self):
        self.crossed = False

    def __call__(self):
        value = self.f()
        if self.probe and not self.crossed:
            self.crossed = any(not np.array_equal(now, then)
                               for now, then in zip(self.probe(), self.base))
        return value


def _coordinates(shape, sample, rng):
    size = int(np.prod(shape))
    if sample is None or sample >= size:
        return list(np.ndindex(shape))
    chosen = np.sort(rng.choice(size, size=sample, replace=False))
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in chosen]


POINTS = 9  # noise probes: f at 9 points a thousandth of a step apart


def _noise(lines, seed, probes=3, tries=12):
    """The standard deviation of the rounding noise in f, measured.

    lines(rng) -> (values, crossed): f at 9 points only a thousandth of a step apart
    along some line (a coordinate, or a direction); there f is a parabola to far better
    than rounding precision, so whatever a parabola cannot fit is rounding noise.
    Lines where these tiny steps cross a kink are skipped: there f is not a parabola.
    """
    rng = np.random.default_rng([seed, 1])  # apart from the stream that picks coordinates
    offsets = np.arange(POINTS) - POINTS // 2
    basis = np.vander(offsets / offsets.max(), 3)
    sigmas = []
    for _ in range(tries):
        if len(sigmas) == probes:
            break
        line = lines(rng)
        if line is None:
            break
        values, crossed = line
        if np.any(crossed):
            continue
        fit, *_ = np.linalg.lstsq(basis, values - values.mean(), rcond=None)
        residual = values - values.mean() - basis @ fit
        sigmas.append(float(np.sqrt(np.sum(residual**2) / (POINTS - 3))))
    return max(sigmas, default=0.0)


def loss_noise(f, targets, method="central", h=None, seed=0):
    """The standard deviation of f's rounding noise near the point targets hold (see _noise)."""
    return _noise(_coordinate_lines(_loop(_KinkWatch(f, None, None), targets), targets, method,
                                    h), seed)


def _coordinate_lines(evaluate, targets, method, h):
    names = [name for name, x in targets.items() if x.size]

    def line(rng):
        if not names:
            return None
        name = names[rng.integers(len(names))]
        x = targets[name]
        k = int(rng.integers(x.size))
        old = float(np.real(x.flat[k]))
        tiny = 1e-3 * (h if h is not None else default_step(method, old))
        offsets = np.arange(POINTS) - POINTS // 2
        return evaluate(name, np.full(POINTS, k), (old + offsets * tiny) - old)
    return line


def _direction_lines(move, directions, method, h):
    """move(name, v, ts) -> (values, crossed): f at targets[name] + t * v for each t."""
    names = [name for name, V in directions.items() if len(V)]

    def line(rng):
        if not names:
            return None
        name = names[rng.integers(len(names))]
        v = directions[name][rng.integers(len(directions[name]))]
        tiny = 1e-3 * (h if h is not None else RELATIVE_STEPS[method])
        offsets = np.arange(POINTS) - POINTS // 2
        return move(name, v, offsets * tiny)
    return line


def _first_pass(batch, name, flat, x_values, analytic, method, h, f0, noise):
    """First estimates for many coordinates (or directions) at once, from batch.

    flat: which entries; x_values: their values; analytic: the analytic derivatives.
    returns (estimates, ok): ok where the estimate agrees within its numerical error
    and no step crossed a kink; the rest need _compare's closer look.
    """
    steps = np.full(len(flat), float(h)) if h is not None else \
        RELATIVE_STEPS[method] * np.maximum(1.0, np.abs(x_values))
    stencil = STENCILS[method]
    offsets = [offset for offset in stencil["offsets"] if offset != 0]
    # x + offset * step, rounded as the plain loop rounds it; every offset in one call
    deltas = np.concatenate([(x_values + offset * steps) - x_values for offset in offsets])
    moved, crossed = batch(name, np.tile(flat, len(offsets)), deltas)
    moved, crossed = moved.reshape(len(offsets), -1), crossed.reshape(len(offsets), -1).any(0)
    values = np.array([np.full(len(flat), f0) if offset == 0 else moved[offsets.index(offset)]
                       for offset in stencil["offsets"]])
    weights = np.array(stencil["weights"])[:, None]
    estimates = np.sum(weights * values, axis=0) / steps
    error = np.abs(analytic - estimates)
    ok = ~crossed & (error <= RTOL * np.maximum(np.abs(analytic), np.abs(estimates)))
    if np.all(ok | crossed):
        return estimates, ok  # all agree without even counting rounding: no need to measure it
    rounding = (NOISE_SIGMAS * noise() * np.sqrt(np.sum(weights**2))
                + 4 * EPS * np.abs(values).max(axis=0) * np.sum(np.abs(weights))) / steps
    ok = ~crossed & (error <= RTOL * np.maximum(np.abs(analytic), np.abs(estimates)) + rounding)
    return estimates, ok


def _rounding(values, step, method, sigma):
    """A bound on the rounding error of a difference quotient with this step."""
    if method == "complex":  # no subtraction: only the last bits of the result are off
        return 64 * EPS * abs(values[0])
    weights = np.array(STENCILS[method]["weights"])
    size = max(abs(v) for v in values)
    return (NOISE_SIGMAS * sigma * np.sqrt(np.sum(weights**2))
            + 4 * EPS * size * np.sum(np.abs(weights))) / step


def _compare(watch, x, index, a, method, h, f0, noise):
    step = h if h is not None else default_step(method, x[index])
    n, status = _judge(watch, x, index, a, method, step, f0, noise)
    if status == "kink" and method != "complex":
        # A step crossed a kink. The analytic gradient belongs to the side of every kink
        # the unperturbed x is on, so a one-sided difference that stays on that side
        # still measures it; only when both sides cross is the coordinate left out.
        for side in ("backward", "forward"):
            n_side, side_status = _judge(watch, x, index, a, side, step, f0, noise)
            if side_status != "kink":
                return _Coordinate(index, a, float(n_side), ok=side_status == "ok",
                                   one_sided=True)
    return _Coordinate(index, a, float(n), kink=status == "kink", ok=status != "fail")


def _judge(watch, x, index, a, method, step, f0, noise):
    """Estimate the derivative with this method and step; returns (estimate, status).

    status: "ok" (agrees within the numerical error), "fail", or "kink" (a step
    crossed a kink, or the function is not smooth enough here to judge).
    """
    watch.reset()
    n, values = derivative(watch, x, index, step, method, f0)
    if watch.crossed:
        return n, "kink"
    sigma = noise()
    if abs(a - n) <= RTOL * max(abs(a), abs(n)) + _rounding(values, step, method, sigma):
        return n, "ok"
    if method == "complex":
        return n, "fail"
    # Second look with two more steps: a kink, truncation error, or a real mismatch?
    # Wider steps (2h, 4h) shrink the rounding error; Richardson extrapolation then
    # cancels the leading truncation term, and two extrapolations that agree show how
    # accurate the result is. Narrower steps (h/2, h/4) serve when wider ones cross a kink.
    for scale in (2, 0.5):
        watch.reset()
        n2, values2 = derivative(watch, x, index, step * scale, method, f0)
        n4, _ = derivative(watch, x, index, step * scale**2, method, f0)
        if not watch.crossed:
            break
    else:
        return n, "kink"
    rounding = _rounding(values if scale > 1 else values2, min(step, step * scale), method, sigma)
    if abs(n - n2) > NONSMOOTH * max(abs(n), abs(n2)) + rounding:
        return n, "kink"  # estimates that jump between steps: f is not smooth here
    k = 2 ** STENCILS[method]["order"]
    if scale > 1:  # the step sequence 4h, 2h, h, finest last
        coarse, middle, fine = n4, n2, n
    else:
        coarse, middle, fine = n, n2, n4
    extrapolated = (k * fine - middle) / (k - 1)
    previous = (k * middle - coarse) / (k - 1)
    rounding = _rounding(values if scale > 1 else values2, step * min(1, scale**2), method,
                         sigma) * (k + 1) / (k - 1)
    allowed = RTOL * max(abs(a), abs(extrapolated)) + 2 * abs(extrapolated - previous) + rounding
    return n, "ok" if abs(a - extrapolated) <= allowed else "fail"


def _row(name, shape, coords):
    judged = [c for c in coords if not c.kink]
    analytic = np.array([c.analytic for c in judged])
    numerical = np.array([c.numerical for c in judged])
    errors = relative_error(analytic, numerical) if judged else np.zeros(0)
    failing = [k for k, c in enumerate(judged) if not c.ok]
    max_error = float(errors.max()) if judged else 0.0
    if failing:
        verdict = "wrong" if max(errors[failing]) > 1e-2 else "suspicious"
        order = sorted(failing, key=lambda k: -errors[k])
    else:
        verdict = band(max_error) if band(max_error) == "excellent" else "acceptable"
        order = list(np.argsort(-errors, kind="stable"))
    worst = [(judged[k].index, judged[k].analytic, judged[k].numerical) for k in order[:3]]
    row = CheckRow(name=name, shape=tuple(shape), checked=len(judged),
                   kinks=len(coords) - len(judged), one_sided=sum(c.one_sided for c in judged),
                   max_rel_error=max_error,
                   difference=difference(analytic, numerical), verdict=verdict,
                   passed=not failing, worst=worst, indices=[c.index for c in judged],
                   analytic=analytic, numerical=numerical)
    row.note = _note(row, judged, analytic, numerical)
    return row


def _note(row, judged, analytic, numerical):
    notes = []
    if row.passed and row.verdict == "acceptable":
        notes.append(f"relative errors up to {row.max_rel_error:.1e} here are the difference "
                     "quotient's own rounding and truncation error, not a bug")
    if row.one_sided:
        notes.append(f"{row.one_sided} coordinate(s) sit within a step of a kink (such as "
                     "ReLU at 0) and were compared with a one-sided difference from the side "
                     "the analytic gradient belongs to")
    if row.kinks:
        notes.append(f"{row.kinks} coordinate(s) had kinks (such as ReLU at 0) on both sides "
                     "within a step, where no difference quotient is meaningful, and were "
                     "left out")
    largest = float(max(np.abs(analytic).max(initial=0), np.abs(numerical).max(initial=0)))
    if judged and 0 < largest < RELATIVE_FLOOR:
        scale = 10.0 ** np.ceil(-np.log10(max(largest, 1e-300)) - 2)
        notes.append(f"its gradients are tiny (at most {largest:.1e}), below the "
                     f"{RELATIVE_FLOOR:g} floor of the relative error, so the relative error "
                     "says little; the verdict compares absolute errors with the difference "
                     f"quotient's noise instead. Rerun with loss_scale={scale:.0e} to bring "
                     "them near 1e-2 and get meaningful relative errors (scaling cannot lift "
                     "them above the loss's own rounding noise, which scales with them: where "
                     "that noise is as large as the gradients, only method='complex' resolves "
                     "them)")
    if row.checked == 0 and row.kinks:
        notes.append("no coordinate could be judged")
    return "; ".join(notes)


def _changed_message(changed, before, after):
    name = changed[0]
    differs = (before[name] != after[name]) & ~(np.isnan(before[name]) & np.isnan(after[name]))
    index = tuple(int(i) for i in np.argwhere(differs)[0])
    return (f"computing the loss changed the arrays it reads: {', '.join(changed)} "
            f"({name}{list(index)} went from {before[name][index].item()!r} to "
            f"{after[name][index].item()!r}). A gradient check moves each entry by h and puts "
            "it back, so the forward pass must only read its parameters and its input: do not "
            "update parameters in forward (that is the optimizer's job), and do not modify the "
            "input in place (copy it first, or write x = x - m instead of x -= m)")


def _nondeterministic_message(first, second):
    return (
        f"the forward pass is not deterministic: two evaluations at the same parameters gave "
        f"the loss {first!r} and then {second!r}. A gradient check divides J(x + h) - J(x - h) "
        "by 2h, a change of about h * |dJ/dx| (around 1e-6); any randomness in the forward "
        "pass changes J by far more and turns the numerical gradient into noise. minnet "
        "fixes the masks of its own Dropout layers during a check; seed any other "
        "randomness (or draw it once, outside the forward pass)")
