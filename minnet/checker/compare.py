"""Comparing an analytic gradient with a numerical one: relative error and verdicts."""
import numpy as np

# The floor of the relative error's denominator: below it, gradients count as zero.
RELATIVE_FLOOR = 1e-8

# The verdict bands of the classic course notes, from the worst down.
BANDS = (
    (1e-2, "wrong"),
    (1e-4, "suspicious"),
    (1e-7, "acceptable"),
    (0.0, "excellent"),
)
MEANINGS = {
    "wrong": "relative error above 1e-2: the gradient is wrong",
    "suspicious": "relative error between 1e-4 and 1e-2: most likely a bug",
    "acceptable": "relative error between 1e-7 and 1e-4: fine where kinks or the difference "
                  "quotient's own error explain it, otherwise look closer",
    "excellent": "relative error below 1e-7: the gradient is right",
}


def relative_error(a, n):
    """Elementwise |a - n| / max(|a|, |n|, 1e-8).

    a: analytic gradient, n: numerical gradient (arrays of one shape, or numbers).
    The 1e-8 floor keeps two near-zero values from looking far apart.
    """
    a, n = np.asarray(a), np.asarray(n)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), RELATIVE_FLOOR)


def difference(grad, approx):
    """The norm form over a whole vector: ||grad - approx||₂ / (||grad||₂ + ||approx||₂).

    grad, approx: arrays of one shape (or numbers); 0.0 when both are zero.
    """
    grad, approx = np.ravel(grad), np.ravel(approx)
    denominator = np.linalg.norm(grad) + np.linalg.norm(approx)
    return float(np.linalg.norm(grad - approx) / denominator) if denominator > 0 else 0.0


def band(error):
    """The name of the verdict band a relative error falls in ("wrong" ... "excellent")."""
    for threshold, name in BANDS:
        if error > threshold:
            return name
    return "excellent"
