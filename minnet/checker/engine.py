"""The engine behind every check: one driver, one pass rule, for coordinates and directions.

A numerical derivative is itself only approximate, so "analytic equals numerical" can
only mean "equal within the numerical error". For each probe (a coordinate of a
tensor, or a random direction through it) the driver estimates the derivative of f
with a difference quotient and judges it by one rule:

    |analytic - numerical| <= RTOL * max(|analytic|, |numerical|)   agreement asked for
                              + resolution(f) * sum|weights| / step  rounding of f
                              + |truncation|                         (second look only)
                              + FLOOR * max(|f|, unit)               the analytic's own rounding

resolution(f) is how precisely f is known: at least 4 eps |f| (one rounding is off by
up to eps |f| / 2; a loss computed through many operations carries more, so the first
look allows a margin), and minnet measures the rest (random rounding noise, and the
smallest change f shows at all). A probe that agrees at once is done. The rest get a second look:

1. Richardson extrapolation over three steps removes the truncation error and measures
   what is left of it, at the first step and at a step fitted to the probe (the one
   that balances rounding, resolution / step, against truncation, |g| step^order):
   whichever allows the smaller error;
2. where a step crossed a kink that a layer or the loss reports (ReLU at 0), the probe
   is judged from the side the analytic gradient belongs to, or left out when both
   sides cross;
3. where the two one-sided estimates disagree with each other and the analytic
   value equals one of them, f has a kink there that no layer reported (a LeakyReLU
   at exactly 0, a hinge at a tie): the probe is judged the same way.

A probe whose error budget is at least RESOLVE times its gradient is not judged: the
check could not see an error of that size there ("unresolved"). A tensor fails when a
judged probe differs; it passes when none does and most of its probes were judged;
otherwise it "cannot resolve", and the report does not say PASSED.

Evaluators (evaluators.py) give f at many points at once: the plain loop, the stacked
evaluation of a Net (stacked.py), or a layer that evaluates many perturbed forwards in
one call. The driver asks for every point it needs of a tensor in one call per stage.
"""
import numpy as np

from .compare import band, difference, relative_error
from .evaluators import LoopEvaluator, Probes, Unchanged, Watched
from .numerical import EPS, RELATIVE_STEPS, STENCILS, as_number
from .report import CheckRow

RTOL = 1e-6          # agreement asked for beyond the numerical error itself
NOISE_SIGMAS = 10    # the rounding bound, in standard deviations of f's noise
FLOOR = 64 * EPS     # the analytic gradient's own rounding, relative to the loss's scale
RESOLVE = 0.1        # a probe is judged only if its error budget is below this share of it
NONSMOOTH = 1e-3     # extrapolations further apart than this, relatively: f is not smooth
MAX_STEP = 0.1       # the largest step a second look takes, times max(1, |x|)
POINTS = 9           # noise probes: f at 9 points a thousandth of a step apart

# The status of a probe (small integers, for speed): still open, or one of these.
OPEN, AGREES, DIFFERS, UNRESOLVED, KINK = 0, 1, 2, 3, 4
# How a judged probe was judged: at its step, or from one side of a kink.
CENTRAL, ONE_SIDED, DETECTED_KINK = 0, 1, 2


class NondeterministicForwardError(RuntimeError):
    """Two evaluations of the loss at the same parameters gave different values."""


# -- the driver ---------------------------------------------------------------------------

def check_tensors(f, targets, analytic, evaluator, *, method="central", h=None, sample=None,
                  directions=None, seed=0, expected=None, unit=1.0, loop=None, copies=False):
    """Compare analytic gradients with numerical ones, tensor by tensor.

    f: () -> the loss, a number; it reads the arrays in `targets`
    targets: dict name -> array f reads, perturbed in place and always restored
    analytic: dict name -> the analytic gradient, shaped like the target
    evaluator: an Evaluator over f (LoopEvaluator(f), or a faster one)
    h: a fixed step, or None for the default RELATIVE_STEPS[method] * max(1, |x|)
    sample: None for every coordinate, or that many coordinates per tensor (seeded)
    directions: None for coordinates, or that many random unit directions per tensor
    expected: the loss the analytic pass saw, to confirm that f gives the same value
    unit: the scale f's numbers are computed at (the loss scale): rounding is judged
        relative to max(|f|, unit)
    loop: an Evaluator to use where `evaluator` cannot go (directions, when it moves
        coordinates only); default: the evaluator itself
    copies: whether targets are copies of what the layers hold (a float32 net checked
        in float64): a tensor whose perturbations never move f is then reported as one
        the layer seems to read from its own copy, not as a wrong gradient
    returns a list of CheckRow, one per target
    """
    rng = np.random.default_rng(seed)
    unchanged = Unchanged(targets)  # confirmed after every evaluation, perturbed ones too
    f0 = _first_value(f, expected, method, unchanged)
    for each in {id(evaluator): evaluator, id(loop): loop}.values():
        if each is not None:
            each.reset()
    rows = []
    for name, x in targets.items():
        if directions is None:
            probes = Probes(name, x, flat=_sampled(x.size, sample, rng))
        else:
            probes = Probes(name, x, V=_unit_directions(rng, x.shape, directions))
        use = evaluator if directions is None or evaluator.directions or loop is None else loop
        tensor = _Tensor(probes, probes.derivatives(analytic[name]), Watched(use, unchanged),
                         method, h, f0, unit, [seed, len(rows), 1], copies)
        rows.append(tensor.row())
    unchanged.confirm()
    return rows


class _Tensor:
    """The probes of one tensor, their estimates and their status, from first look to last."""

    def __init__(self, probes, analytic, evaluator, method, h, f0, unit, seed, copies=False):
        self.probes, self.a, self.evaluator = probes, analytic, evaluator
        self.method, self.f0, self.unit, self.seed = method, f0, unit, seed
        self.copies = copies
        self.stencil = STENCILS.get(method)
        P = len(probes)
        self.steps = (np.full(P, float(h)) if h is not None else
                      RELATIVE_STEPS[method] * np.maximum(1.0, np.abs(probes.origins())))
        self.n = np.zeros(P)         # the estimate each probe is judged by
        self.quotient = np.zeros(P)  # the plain difference quotient at the step asked for
        self.status = np.full(P, OPEN, dtype=np.int8)
        self.how = np.full(P, CENTRAL, dtype=np.int8)
        self.allowed = np.zeros(P)                  # the error each probe was allowed
        self.flat = False                           # f never moved along any probe
        self.resolution = None                      # how precisely f is known, once measured
        if P:
            self._first_look()
        open_ = np.flatnonzero(self.status == OPEN)
        if len(open_):
            self._second_look(open_)

    # -- the looks ----------------------------------------------------------------------

    def _first_look(self):
        """Every probe at the default step, judged at float64's own rounding of f."""
        everything = np.arange(len(self.probes))
        if self.method == "complex":  # no subtraction: only the last bits of f are off
            values, _ = self._values(everything, 1j * self.steps)
            self.n = np.imag(values) / self.steps
            self.quotient = self.n.copy()
            self._judge(everything, self.n, RTOL * self._size(self.n)
                        + 64 * EPS * np.abs(self.n) + self._floor(), final=True)
            return
        values, crossed, self.n = self._estimate(everything, self.steps)
        self.quotient = self.n.copy()
        self.flat = bool(np.all(values == self.f0)) and bool(np.any(self.a))
        rounding = 4 * EPS * self._scale(values) * self._weights() / self.steps
        clean = np.flatnonzero(~crossed.any(axis=0))
        self._judge(clean, self.n[clean], (RTOL * self._size(self.n) + rounding
                                           + self._floor())[clean])
        kinked = np.flatnonzero(crossed.any(axis=0))
        if len(kinked):  # a layer reports a kink within the step
            self._one_sided(kinked, self.steps[kinked], np.zeros(len(kinked), dtype=bool))

    def _second_look(self, which):
        """Richardson extrapolation over three steps (wider ones, or narrower ones where f
        is not smooth over the wider: a kink), at the first look's step and at a step
        fitted to the probe; each probe keeps the one that allows the smaller error.

        The fitted step balances f's rounding, resolution / step, against truncation,
        about |g| step^order (in units of the parameter's scale): it is
        (resolution / |g|)^(1 / (order + 1)), larger the smaller a gradient is next to
        how precisely f is known. A gradient small only because two large parts cancel
        (data and regularization) has a large curvature all the same: for it the first
        look's step stays the better one.
        """
        resolution = self._measure()
        order = self.stencil["order"]
        scale = np.maximum(1.0, np.abs(self.probes.origins()[which]))
        size = np.maximum(np.maximum(np.abs(self.a[which]), np.abs(self.n[which])), 1e-300)

        def fit(resolution):
            return np.clip(scale * (resolution / (size * scale)) ** (1 / (order + 1)),
                           self.steps[which], MAX_STEP * scale)

        fitted = fit(resolution)
        if np.any(fitted > 2 * self.steps[which]):
            # f's noise over a span as wide as such a step: a loss computed in low
            # precision jumps there by more than its smallest jump
            picks = self._picks()
            wide = np.median(fitted / scale) * np.maximum(1.0, np.abs(
                self.probes.origins()[picks])) / 4
            resolution = self.resolution = max(resolution, self._noise(wide))
            fitted = fit(resolution)
        best = None
        for step in (self.steps[which], fitted):
            result = self._extrapolated(which, step.copy(), resolution)
            if best is None:
                best = result
            else:
                better = result[2] & (~best[2] | (result[1] < best[1]))
                best = tuple(np.where(better, new, old) for new, old in zip(result, best))
            if np.all(fitted <= 2 * self.steps[which]):
                break  # the fitted step is the first look's: one pass is enough
        estimate, allowed, smooth, step = best
        self.n[which] = estimate
        self._judge(which[smooth], estimate[smooth], allowed[smooth], final=True)
        # Apart from their estimate (or f not smooth there): is it a kink?
        apart = (self.status[which] == DIFFERS) | ~smooth
        if np.any(apart):
            self._one_sided(which[apart], step[apart], smooth[apart])

    def _extrapolated(self, which, step, resolution):
        """(estimate, allowed, smooth, finest step): Richardson at step * (1, 2, 4), or at
        step * (1/4, 1/2, 1) where the wider steps are not smooth."""
        result = self._richardson(which, step, (1, 2, 4), resolution)
        rough = ~result[2]
        if np.any(rough):
            narrower = self._richardson(which[rough], step[rough], (0.25, 0.5, 1), resolution)
            for full, part in zip(result, narrower):
                full[rough] = part
            step[rough] /= 4
        return (*result, step)

    def _richardson(self, which, step, scales, resolution):
        """(extrapolated estimate, allowed error, smooth) from the estimates at the steps
        step * scales (finest first). Extrapolation cancels the leading truncation term;
        two extrapolations that agree show how accurate the result is. smooth: no step
        crossed a reported kink, and the two extrapolations agree to NONSMOOTH."""
        estimates, crossed = [], np.zeros(len(which), dtype=bool)
        for scale in scales:
            _, crossed_here, n = self._estimate(which, step * scale)
            estimates.append(n)
            crossed |= crossed_here.any(axis=0)
        k = 2 ** self.stencil["order"]
        fine, middle, coarse = estimates
        extrapolated = (k * fine - middle) / (k - 1)
        previous = (k * middle - coarse) / (k - 1)
        finest = step * scales[0]
        rounding = resolution * self._weights() / finest * (k + 1) / (k - 1)
        size = np.maximum(np.abs(self.a[which]), np.abs(extrapolated))
        truncation = np.abs(extrapolated - previous)
        allowed = RTOL * size + 2 * truncation + rounding + self._floor()
        smooth = ~crossed & (truncation <= NONSMOOTH * size + rounding)
        return extrapolated, allowed, smooth

    def _one_sided(self, which, step, measured):
        """Judge probes at a kink from its two sides: from the side that no reported kink
        crossed (the analytic value belongs to the point's own side); where neither
        crossed but the two slopes differ, the analytic value must be one of them (a
        kink no layer reports); where both crossed, the probe is left out.

        measured: probes whose smooth central estimate already differs from the
        analytic value; unless a kink turns up, they differ (one-sided estimates are
        less precise, and cannot overrule it).
        """
        self._measure()
        slopes, allowed = [], []
        for sign in (-1, +1):
            slope, ok, crossed = self._side(which, sign, step)
            slopes.append(slope)
            allowed.append(np.where(crossed, np.inf, ok))
        (left, right), (left_ok, right_ok) = slopes, allowed
        a = self.a[which]
        both_crossed = np.isinf(left_ok) & np.isinf(right_ok)
        reported = np.isinf(left_ok) ^ np.isinf(right_ok)
        on_left = np.abs(a - left) <= left_ok
        on_right = np.abs(a - right) <= right_ok
        kinked = ~both_crossed & ~reported & (np.abs(left - right) > left_ok + right_ok)
        # the side each probe is judged from: the uncrossed one, or the one it matches
        use_left = np.where(reported, np.isfinite(left_ok), on_left | ~on_right)
        estimate = np.where(use_left, left, right)
        budget = np.where(use_left, left_ok, right_ok)
        smooth = ~both_crossed & ~reported & ~kinked
        agrees = ((reported & np.where(use_left, on_left, on_right))
                  | (kinked & (on_left | on_right)) | (smooth & ~measured & on_left & on_right))
        resolved = budget < RESOLVE * np.maximum(np.abs(a), np.abs(estimate))
        keep = smooth & measured  # the central estimate stands
        self.n[which] = np.where(both_crossed | keep, self.n[which], estimate)
        self.allowed[which] = np.where(keep, self.allowed[which], budget)
        self.status[which] = np.select(
            [both_crossed, keep, np.abs(a - estimate) == 0, ~resolved, agrees],
            [KINK, DIFFERS, AGREES, UNRESOLVED, AGREES], DIFFERS)
        self.how[which] = np.where(reported, ONE_SIDED,
                                   np.where(kinked & agrees, DETECTED_KINK, CENTRAL))

    def _side(self, which, sign, step):
        """(slope, allowed error, crossed) from one side: first differences at the steps
        step and step / 2, Richardson-extrapolated (their O(step) errors cancel)."""
        v1, c1 = self._values(which, sign * step)
        v2, c2 = self._values(which, sign * step / 2)
        d1, d2 = sign * (v1 - self.f0) / step, sign * (v2 - self.f0) / (step / 2)
        slope = 2 * d2 - d1
        resolution = max(self.resolution or 0.0, 4 * EPS * abs(self.f0))
        rounding = 10 * np.maximum(resolution, 4 * EPS * np.maximum(np.abs(v1), np.abs(v2))) / step
        allowed = (RTOL * np.maximum(np.abs(self.a[which]), np.abs(slope))
                   + 2 * np.abs(d2 - d1) + rounding + self._floor())
        return slope, allowed, c1 | c2

    # -- the rule -----------------------------------------------------------------------

    def _judge(self, which, n, allowed, final=False):
        """Probes agree when |a - n| is within the allowed error, and the allowed error
        is below RESOLVE times the gradient (else the check could not see an error of that
        size: the probe is unresolved). Those that do not agree are
        left open for a closer look, unless this is the final one (then: they differ,
        or cannot be resolved)."""
        a = self.a[which]
        error = np.abs(a - n)
        unresolved = (error > 0) & (allowed >= RESOLVE * np.maximum(np.abs(a), np.abs(n)))
        agrees = (error == 0) | (~unresolved & (error <= allowed))
        if final:
            status = np.where(agrees, AGREES, np.where(unresolved, UNRESOLVED, DIFFERS))
        else:
            status = np.where(agrees, AGREES, OPEN)
        self.status[which] = status
        self.allowed[which] = allowed

    def _measure(self):
        """How precisely f is known along this tensor: the larger of its random rounding
        noise (NOISE_SIGMAS standard deviations of what a smooth curve through 9 points a
        thousandth of a step apart cannot fit) and the smallest change of f seen at all
        along steps from a millionth of the step to the largest step a second look takes
        (f moves in jumps: a loss computed from numbers near 1 cannot change by less than
        eps, however small itself, and one computed in low precision by far more); at
        least 4 eps |f|."""
        if self.resolution is None:
            picks = self._picks()
            scale = np.maximum(1.0, np.abs(self.probes.origins()[picks]))
            sweeps = [self.steps[k] * 10.0 ** np.arange(-6, 1 + np.floor(np.log10(
                MAX_STEP * c / self.steps[k]))) for k, c in zip(picks, scale)]
            which = np.concatenate([np.full(len(sweep), k) for k, sweep in zip(picks, sweeps)])
            values, crossed = self._values(which, np.concatenate(sweeps))
            changes = np.abs(values[~crossed] - self.f0)
            jump = float(changes[changes > 0].min()) if np.any(changes > 0) else 0.0
            self.resolution = max(self._noise(1e-3 * self.steps[picks]), jump,
                                  4 * EPS * abs(self.f0))
        return self.resolution

    def _noise(self, spacing):
        """NOISE_SIGMAS standard deviations of f's noise at the chosen probes, 9 points
        `spacing` apart on each: what a cubic through them cannot fit (over so short a
        span f is a cubic to far better than its rounding). A line with a kink in it (a
        reported one crossed, or one that two straight halves fit far better than a
        cubic) says nothing about noise and is skipped."""
        picks = self._picks()
        offsets = np.arange(POINTS) - POINTS // 2
        values, crossed = self._values(np.repeat(picks, POINTS),
                                       (spacing[:, None] * offsets).reshape(-1))
        t = offsets / offsets.max()
        cubic = np.vander(t, 4)
        halves = np.stack([np.minimum(t, 0), np.maximum(t, 0), np.ones_like(t)], axis=1)
        sigmas = []
        for line, line_crossed in zip(values.reshape(-1, POINTS), crossed.reshape(-1, POINTS)):
            smooth, kinked = (_residual(basis, line - line.mean()) for basis in (cubic, halves))
            if not np.any(line_crossed) and not kinked < smooth / 4:
                sigmas.append(smooth)
        return NOISE_SIGMAS * max(sigmas, default=0.0)

    def _picks(self):
        """The probes (up to 3, seeded) along which f's noise is measured."""
        rng = np.random.default_rng(self.seed)  # apart from the stream that samples probes
        return rng.choice(len(self.probes), size=min(3, len(self.probes)), replace=False)

    # -- evaluations --------------------------------------------------------------------

    def _estimate(self, which, step):
        """(values, crossed, estimates) of the stencil at these steps, for these probes:
        values and crossed have a row per stencil point (the unperturbed point: f0)."""
        offsets = self.stencil["offsets"]
        moving = [o for o in offsets if o != 0]
        origins = self.probes.origins()[which]
        # x + offset * step, rounded as the plain loop rounds it
        deltas = np.concatenate([(origins + o * step) - origins for o in moving])
        moved, crossed = self._values(np.tile(which, len(moving)), deltas)
        moved, crossed = moved.reshape(len(moving), -1), crossed.reshape(len(moving), -1)
        values = np.array([moved[moving.index(o)] if o else np.full(len(which), self.f0)
                           for o in offsets])
        crossed = np.array([crossed[moving.index(o)] if o else np.zeros(len(which), bool)
                            for o in offsets])
        estimates = np.array(self.stencil["weights"]) @ values / step
        return values, crossed, estimates

    def _values(self, which, deltas):
        if len(which) == 0:
            return np.zeros(0), np.zeros(0, dtype=bool)
        return self.evaluator.at(self.probes, np.asarray(which), np.asarray(deltas))

    def _weights(self):
        return float(np.sum(np.abs(self.stencil["weights"])))

    def _scale(self, values):
        return np.maximum(np.max(np.abs(values), axis=0), abs(self.f0))

    def _size(self, n):
        return np.maximum(np.abs(self.a), np.abs(n))

    def _floor(self):
        return FLOOR * max(abs(self.f0), self.unit)

    # -- the row ------------------------------------------------------------------------

    def row(self):
        probes, status = self.probes, self.status
        judged = np.flatnonzero((status == AGREES) | (status == DIFFERS))
        a, n, how = self.a[judged], self.n[judged], self.how[judged]
        errors = relative_error(a, n)
        failing = np.flatnonzero(status[judged] == DIFFERS)
        order = failing[np.argsort(-errors[failing], kind="stable")] if len(failing) else \
            np.argsort(-errors, kind="stable")
        counts = np.bincount(status, minlength=5)
        kinds = np.bincount(how, minlength=3)
        worst = float(errors.max()) if len(judged) else 0.0
        # A tensor passes when most of its probes (kinks aside) could be judged, and not
        # only where both values are exactly 0, which proves nothing where f is too flat
        # to show any gradient.
        seen = np.any((a != 0) | (n != 0)) or not counts[UNRESOLVED]
        most = len(judged) >= counts[UNRESOLVED]
        result = "FAIL" if len(failing) else ("PASS" if len(judged) and seen and most else
                                              "cannot resolve")
        reason = ""
        if self.flat and self.copies:  # f never moved, yet the gradient is not zero
            result, reason = "cannot resolve", "copy"
        elif result == "cannot resolve":
            noisy = (self.resolution or 0.0) > 64 * EPS * max(abs(self.f0), self.unit)
            reason = (("noisy loss" if noisy else "tiny gradients") if counts[UNRESOLVED]
                      else "kinks" if counts[KINK] else "empty")
        indices = probes.indices()
        tolerance = self.allowed[judged] / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-300)
        return CheckRow(
            name=probes.name, shape=tuple(probes.x.shape), checked=len(judged),
            kinks=int(counts[KINK]), one_sided=int(kinds[ONE_SIDED]),
            detected_kinks=int(kinds[DETECTED_KINK]), unresolved=int(counts[UNRESOLVED]),
            max_rel_error=worst, difference=difference(a, self.quotient[judged]),
            band=band(worst) if len(judged) else "", result=result, reason=reason,
            along="coordinates" if probes.flat is not None else "directions",
            worst=[(indices[judged[k]], float(a[k]), float(n[k])) for k in order[:3]],
            indices=[indices[i] for i in judged], analytic=a, numerical=n,
            quotients=self.quotient[judged], kinked=list(how != CENTRAL),
            allowed=self.allowed[judged], differs=status[judged] == DIFFERS,
            tolerance=float(tolerance.max()) if len(judged) else 0.0)


def _first_value(f, expected, method, unchanged):
    """f at the unperturbed point, after confirming that evaluating it changes nothing
    it reads, and that it is deterministic there."""
    complex_step = method == "complex"
    f0 = as_number(f(), "the loss", complex_expected=complex_step)
    unchanged.confirm()
    first, second = (expected, f0) if expected is not None else (
        f0, as_number(f(), "the loss", complex_expected=complex_step))
    # The analytic pass ran in real arithmetic: complex arithmetic may round differently.
    slack = 1e-12 * abs(f0) if complex_step else 0.0
    if abs(np.real(first) - np.real(second)) > slack:
        raise NondeterministicForwardError(_nondeterministic_message(first, second))
    return float(np.real(f0))


def _residual(basis, values):
    """The standard deviation of what a least-squares fit of `basis` leaves of `values`."""
    fit, *_ = np.linalg.lstsq(basis, values, rcond=None)
    residual = values - basis @ fit
    return float(np.sqrt(np.sum(residual**2) / (len(values) - basis.shape[1])))


def _sampled(size, sample, rng):
    if sample is None or sample >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=sample, replace=False))


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


def loss_noise(f, targets, method="central", h=None, seed=0):
    """How precisely f is known near the point targets hold (see _Tensor._measure)."""
    f0 = float(np.real(as_number(f(), "the loss")))
    name, x = next((name, x) for name, x in targets.items() if x.size)
    evaluator = LoopEvaluator(f)
    evaluator.reset()
    tensor = _Tensor(Probes(name, x, flat=np.zeros(0, dtype=int)), np.zeros(0),
                     evaluator, method, h, f0, 1.0, [seed, 1])
    tensor.probes = Probes(name, x, flat=np.arange(x.size))
    tensor.steps = (np.full(x.size, float(h)) if h is not None else
                    RELATIVE_STEPS[method] * np.maximum(1.0, np.abs(tensor.probes.origins())))
    return tensor._measure()


def _nondeterministic_message(first, second):
    return (
        f"the forward pass is not deterministic: two evaluations at the same parameters gave "
        f"the loss {first!r} and then {second!r}. A gradient check divides J(x + h) - J(x - h) "
        "by 2h, a change of about h * |dJ/dx| (around 1e-6); any randomness in the forward "
        "pass changes J by far more and turns the numerical gradient into noise. minnet "
        "fixes the masks of its own Dropout layers during a check; seed any other "
        "randomness (or draw it once, outside the forward pass)")
