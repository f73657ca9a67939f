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
    complex_step = method == "complex"
    f0 = as_number(f(), "the loss", complex_expected=complex_step)
    base_kinks = kink_probe() if kink_probe else None
    again = as_number(f(), "the loss", complex_expected=complex_step)
    # The analytic pass ran in real arithmetic: complex arithmetic may round differently.
    slack = 1e-12 * abs(f0) if complex_step else 0.0
    for other in (again, expected):
        if other is not None and abs(np.real(other) - np.real(f0)) > slack:
            raise NondeterministicForwardError(_nondeterministic_message(f0, other))
    watch = _KinkWatch(f, kink_probe, base_kinks)
    sigma = 0.0 if complex_step else _noise(watch, targets, rng, method, h)
    rows = []
    for name, x in targets.items():
        grad = np.asarray(analytic[name])
        indices = _coordinates(x.shape, sample, rng)
        if batch is not None and not complex_step and indices:
            coords = _batched(batch, name, watch, x, indices, grad, method, h, f0, sigma)
        else:
            coords = [_compare(watch, x, index, float(np.real(grad[index])), method, h, f0,
                               sigma) for index in indices]
        rows.append(_row(name, x.shape, coords))
    return rows


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


def _noise(watch, targets, rng, method, h, points=9, probes=3, tries=12):
    """The standard deviation of the rounding noise in f, measured.

    Along a few coordinates, f is evaluated at 9 points only a thousandth of a step
    apart; there f is a parabola to far better than rounding precision, so whatever
    a parabola cannot fit is rounding noise. Coordinates where these tiny steps
    cross a kink are skipped: there f is not a parabola.
    """
    names = [name for name, x in targets.items() if x.size]
    offsets = np.arange(points) - points // 2
    basis = np.vander(offsets / offsets.max(), 3)
    sigmas = []
    for _ in range(tries):
        if len(sigmas) == probes or not names:
            break
        x = targets[names[rng.integers(len(names))]]
        index = tuple(int(i) for i in np.unravel_index(rng.integers(x.size), x.shape))
        tiny = 1e-3 * (h if h is not None else default_step(method, x[index]))
        old = x[index]
        watch.reset()
        try:
            values = []
            for k in offsets:
                x[index] = old + k * tiny
                values.append(as_number(watch(), "the loss"))
        finally:
            x[index] = old
        if watch.crossed:
            continue
        values = np.array(values)
        fit, *_ = np.linalg.lstsq(basis, values - values.mean(), rcond=None)
        residual = values - values.mean() - basis @ fit
        sigmas.append(float(np.sqrt(np.sum(residual**2) / (points - 3))))
    return max(sigmas, default=0.0)


def _batched(batch, name, watch, x, indices, grad, method, h, f0, sigma):
    """_compare for many coordinates, with the first estimates made by batch."""
    flat = np.ravel_multi_index(tuple(np.array(indices).T), x.shape)
    values_x = x.flat[flat]
    steps = np.full(len(flat), float(h)) if h is not None else \
        RELATIVE_STEPS[method] * np.maximum(1.0, np.abs(values_x))
    stencil = STENCILS[method]
    values, crossed = [], np.zeros(len(flat), dtype=bool)
    for offset in stencil["offsets"]:
        if offset == 0:
            values.append(np.full(len(flat), f0))
            continue
        # x + offset * step, rounded as the plain loop rounds it
        deltas = (values_x + offset * steps) - values_x
        v, c = batch(name, flat, deltas)
        values.append(v)
        crossed |= c
    values = np.array(values)
    weights = np.array(stencil["weights"])[:, None]
    estimates = np.sum(weights * values, axis=0) / steps
    analytic = np.real(grad.flat[flat]).astype(np.float64)
    rounding = (NOISE_SIGMAS * sigma * np.sqrt(np.sum(weights**2))
                + 4 * EPS * np.abs(values).max(axis=0) * np.sum(np.abs(weights))) / steps
    ok = (~crossed & (np.abs(analytic - estimates)
                      <= RTOL * np.maximum(np.abs(analytic), np.abs(estimates)) + rounding))
    # Coordinates that do not agree at once get the full treatment, one by one.
    return [_Coordinate(index, float(analytic[k]), float(estimates[k])) if ok[k] else
            _compare(watch, x, index, float(analytic[k]), method, h, f0, sigma)
            for k, index in enumerate(indices)]


def _rounding(values, step, method, sigma):
    """A bound on the rounding error of a difference quotient with this step."""
    if method == "complex":  # no subtraction: only the last bits of the result are off
        return 64 * EPS * abs(values[0])
    weights = np.array(STENCILS[method]["weights"])
    size = max(abs(v) for v in values)
    return (NOISE_SIGMAS * sigma * np.sqrt(np.sum(weights**2))
            + 4 * EPS * size * np.sum(np.abs(weights))) / step


def _compare(watch, x, index, a, method, h, f0, sigma):
    step = h if h is not None else default_step(method, x[index])
    n, status = _judge(watch, x, index, a, method, step, f0, sigma)
    if status == "kink" and method != "complex":
        # A step crossed a kink. The analytic gradient belongs to the side of every kink
        # the unperturbed x is on, so a one-sided difference that stays on that side
        # still measures it; only when both sides cross is the coordinate left out.
        for side in ("backward", "forward"):
            n_side, side_status = _judge(watch, x, index, a, side, step, f0, sigma)
            if side_status != "kink":
                return _Coordinate(index, a, float(n_side), ok=side_status == "ok",
                                   one_sided=True)
    return _Coordinate(index, a, float(n), kink=status == "kink", ok=status != "fail")


def _judge(watch, x, index, a, method, step, f0, sigma):
    """Estimate the derivative with this method and step; returns (estimate, status).

    status: "ok" (agrees within the numerical error), "fail", or "kink" (a step
    crossed a kink, or the function is not smooth enough here to judge).
    """
    watch.reset()
    n, values = derivative(watch, x, index, step, method, f0)
    if watch.crossed:
        return n, "kink"
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
                     "them near 1e-2 and get meaningful relative errors")
    if row.checked == 0 and row.kinks:
        notes.append("no coordinate could be judged")
    return "; ".join(notes)


def _nondeterministic_message(first, second):
    return (
        f"the forward pass is not deterministic: two evaluations at the same parameters gave "
        f"the loss {first!r} and then {second!r}. A gradient check divides J(x + h) - J(x - h) "
        "by 2h, a change of about h * |dJ/dx| (around 1e-6); any randomness in the forward "
        "pass changes J by far more and turns the numerical gradient into noise. minnet "
        "fixes the masks of its own Dropout layers during a check; seed any other "
        "randomness (or draw it once, outside the forward pass)")
