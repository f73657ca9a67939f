"""What kind of mistake a failing row's numbers show, and where in a Net to look first.

A failing row has, at every judged probe, the analytic value a and the numerical
value n. Most backprop bugs leave a fingerprint on the pair (a, n):

    "scale"       a = k n everywhere (row.factor = k): a doubled term, a missing 1/N
    "sign"        a = -n: a sign flipped somewhere
    "zero"        a = 0 although the loss changes: a gradient never computed
    "transpose"   a = n.T for a square tensor: a product in the wrong order
    "sparse"      a few entries wrong, the rest right
    "reg-missing" a = n - reg W: the regularization gradient left out
    "reg-extra"   a = n + reg W: the regularization gradient added once too often
                  (twice, or to a bias)
    "kink"        wrong only next to kinks: a mask or a side of a kink taken wrongly
    "other"       none of these

For a Net, the regularization gradient reg * W is known exactly, so the data parts,
a - reg W and n - reg W, are compared: after training the data and regularization
gradients nearly cancel, and a doubled data gradient would look like a flipped sign of
the total.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .compare import relative_error

if TYPE_CHECKING:  # for the hints only: nothing more is imported when it runs
    from collections.abc import Iterable

    from .report import CheckRow

PATTERNS = ("scale", "sign", "zero", "transpose", "sparse", "reg-missing", "reg-extra", "kink",
            "other")
CLOSE = 1e-4  # a fit may miss by this, relatively, beyond each probe's allowed error


def diagnose(row, penalty=None, regularized=False, batch=None):
    """Set row.pattern, row.factor and row.diagnosis for a failing row.

    penalty: reg * theta at the row's judged probes (a Net's regularization strength
    times the tensor), or None; regularized: whether the tensor's gradient includes
    it (weights yes, biases no); batch: the batch size N, to name a missing or extra 1/N.
    """
    a, n = np.asarray(row.analytic, dtype=float), np.asarray(row.numerical, dtype=float)
    slack = np.asarray(row.allowed, dtype=float) if row.allowed is not None else np.zeros_like(a)
    p = np.zeros_like(a) if penalty is None else np.asarray(penalty, dtype=float)
    pattern, factor, words = _pattern(a, n, slack, p, regularized, row, batch)
    row.pattern, row.factor = pattern, factor
    tensor = f"d{row.name}" if row.name != "scores" else "dscores"
    row.diagnosis = f"{pattern}: {tensor} {words}"
    return row


def _fits(a, b, slack):
    """Whether a equals b at every probe, within each probe's allowed error."""
    return bool(np.all(np.abs(a - b) <= slack + CLOSE * np.maximum(np.abs(a), np.abs(b))))


def _pattern(a, n, slack, p, regularized, row, batch):
    if np.any(p):
        if regularized and _fits(a, n - p, slack):
            return "reg-missing", None, ("lacks the regularization term reg * W: add it in "
                                         "backward (or in Net.reg_gradient)")
        if _fits(a, n + p, slack):
            return "reg-extra", None, ("has a regularization term reg * W too many: added "
                                       "twice, or to a parameter (a bias) that is not "
                                       "regularized")
    if regularized:  # compare the data parts: after training they can nearly cancel p
        a, n = a - p, n - p
    if _fits(a, 0 * a, slack) and not _fits(n, 0 * n, slack):
        return "zero", None, (f"is zero, but the loss does change with {row.name} (numerical "
                              f"values up to {np.abs(n).max():.3g}): the gradient is never "
                              "computed, or is overwritten")
    denominator = float(n @ n)
    k = float(a @ n) / denominator if denominator else 0.0
    if k and _fits(a, k * n, abs(k) * slack):
        if abs(k + 1) <= 1e-3:
            return "sign", -1.0, "has the wrong sign everywhere: a minus sign lost or added"
        return "scale", k, f"is {k:.6g} times the right value everywhere" + _why(k, batch)
    transposed = _transposed(n, row)
    if transposed is not None and _fits(a, transposed, slack + _transposed(slack, row)):
        return "transpose", None, ("is the transpose of the right value: a product written "
                                   "in the wrong order (dout.T @ x for x.T @ dout, say)")
    wrong = np.asarray(row.differs, dtype=bool) if row.differs is not None else a != n
    count = int(wrong.sum())
    probes = "entries" if row.along == "coordinates" else "directions"
    kinked = np.asarray(row.kinked, dtype=bool)
    if len(kinked) == len(a) and count and np.all(kinked[wrong]):
        return "kink", None, (f"is wrong at {count} of {len(a)} {probes}, all of them next to a "
                              "kink, and right elsewhere: a mask (x > 0) or the side of a "
                              "kink taken wrongly")
    if 0 < count < len(a) and count <= max(3, len(a) // 10):  # some entries must be right
        places = ", ".join(str(list(row.indices[i])) for i in np.flatnonzero(wrong)[:5])
        return "sparse", None, (f"is wrong at {count} of {len(a)} {probes} ({places}) and right "
                                "at the others: a single entry, row or column computed apart")
    return "other", None, (f"differs from the numerical values at {count} of {len(a)} {probes}, "
                           "with none of the simple patterns (a factor, a sign, a transpose)")


def _why(k, batch):
    """What a constant factor k usually means."""
    near = lambda value: abs(k - value) <= 1e-3 * abs(value)  # noqa: E731
    if batch and batch > 1 and near(batch):
        return (f": N = {batch}, the batch size: a missing 1/N, or a sum where the loss takes "
                "the mean")
    if batch and batch > 1 and near(1 / batch):
        return f": 1/N with N = {batch}: divided by the batch size once too often"
    if near(2):
        return ": a factor 2 too many (a term counted twice)"
    if near(0.5):
        return ": a factor 2 too few (the 2 of a square's derivative forgotten?)"
    return ": a constant factor too many or too few"


def _transposed(values, row):
    """values rearranged as the transpose of a square tensor, when every entry was judged."""
    if len(row.shape) != 2 or row.shape[0] != row.shape[1] or row.along != "coordinates" \
            or len(values) != row.shape[0] ** 2:
        return None
    full = np.zeros(row.shape)
    for (i, j), value in zip(row.indices, values):
        full[i, j] = value
    return np.array([full[j, i] for i, j in row.indices])


def summary(rows: Iterable[CheckRow]) -> str:
    """The diagnoses of failing rows in one sentence, rows with the same words merged:
    "W1, b1: sign: the gradient has the wrong sign everywhere ..."."""
    grouped: dict[str, list[str]] = {}
    for row in rows:
        if row.diagnosis:
            pattern, _, rest = row.diagnosis.partition(": ")
            words = rest.split(" ", 1)[1] if " " in rest else rest
            grouped.setdefault(f"{pattern}: the gradient {words}", []).append(row.name)
    return "; ".join(f"{', '.join(names)}: {words}" for words, names in grouped.items())


def suspects(report, owners, count):
    """The layers whose backward may hold the bug, nearest the loss first (at most 3).

    owners: row name -> index in net.layers of the layer holding that tensor;
    count: len(net.layers). The layer owning the failing tensors, or, when every tensor
    before some layer fails and those after it pass, the layers from there up to the
    first passing one (any of their dx may be wrong), or the loss when none passes.
    """
    failing = [row for row in report.rows if row.result == "FAIL"]
    if not failing:
        return []
    if all(row.pattern in ("reg-missing", "reg-extra") for row in failing):
        return ["reg"]
    last = max(owners[row.name] for row in failing)
    before = [row for row in report.rows if owners[row.name] <= last]
    after = sorted(owners[row.name] for row in report.rows if owners[row.name] > last
                   and row.result == "PASS")
    if all(row.result == "FAIL" for row in before):
        first_passing = after[0] if after else None
        layers = list(range(last, first_passing + 1 if after else count))
        return (([] if after else ["loss"]) + layers[::-1])[:3]
    return sorted({owners[row.name] for row in failing}, reverse=True)[:3]
