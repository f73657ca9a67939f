"""Comparing an analytic gradient with a numerical one: relative error, the norm form,
and the course table's bands.

The bands read the relative error alone, as the classic course notes do: above 1e-2
wrong, above 1e-4 suspicious, above 1e-7 acceptable, else excellent. They are a
rule of thumb for the element-wise (max) form with a step near 1e-5 to 1e-7, and for
nets with kinks; for smooth nets 1e-4 is already too much. A check's PASS or FAIL
comes from minnet's pass rule instead (engine.py), which weighs each error against
the numerical estimate's own error, measured."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# The floor of the relative error's denominator: below it, gradients count as zero.
RELATIVE_FLOOR = 1e-8

# The bands of the classic course notes, from the worst down.
BANDS = (
    (1e-2, "wrong"),
    (1e-4, "suspicious"),
    (1e-7, "acceptable"),
    (0.0, "excellent"),
)
MEANINGS = {
    "wrong": "relative error above 1e-2: the course table calls the gradient wrong",
    "suspicious": "relative error between 1e-4 and 1e-2: the course table calls it suspicious",
    "acceptable": "relative error between 1e-7 and 1e-4: acceptable by the course table, "
                  "where kinks or the difference quotient's own error explain it",
    "excellent": "relative error below 1e-7: excellent by the course table",
}


def relative_denominator(a: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Elementwise max(|a|, |n|, 1e-8): what relative_error divides |a - n| by.

    a, n: arrays of one shape, or numbers. An absolute allowance divided by it is the
    relative error it allows.
    """
    return np.maximum(np.maximum(np.abs(a), np.abs(n)), RELATIVE_FLOOR)


def relative_error(a: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Elementwise |a - n| / max(|a|, |n|, 1e-8).

    a: analytic gradient, n: numerical gradient (arrays of one shape, or numbers).
    The 1e-8 floor keeps two near-zero values from looking far apart.
    """
    a, n = np.asarray(a), np.asarray(n)
    return np.abs(a - n) / relative_denominator(a, n)


def difference(grad: ArrayLike, approx: ArrayLike) -> float:
    """The norm form over a whole vector: ||grad - approx||₂ / (||grad||₂ + ||approx||₂).

    grad, approx: arrays of one shape (or numbers); 0.0 when both are zero.
    """
    grad, approx = np.ravel(grad), np.ravel(approx)
    denominator = np.linalg.norm(grad) + np.linalg.norm(approx)
    return float(np.linalg.norm(grad - approx) / denominator) if denominator > 0 else 0.0


def band(error: float) -> str:
    """The course table's name for a relative error: "wrong", "suspicious", "acceptable"
    or "excellent" (an error exactly on an edge belongs to the band below it)."""
    for threshold, name in BANDS:
        if error > threshold:
            return name
    return "excellent"
