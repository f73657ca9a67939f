"""Gradient checking: prove a backward pass right, or find exactly where it is wrong.

A backward pass computes the gradient analytically; a gradient check compares it
with a numerical estimate made from the loss alone, (J(x + h) - J(x - h)) / 2h for
every coordinate, and says which tensor disagrees.

    from minnet.checker import check_net, check_layer
    report = check_net(net, X[:16], y[:16])
    print(report)            # a row per tensor: W1, b1, W2, ... PASS or FAIL, and why
    report.passed, report.failed, report.suspects

The pieces, each a small module:
- numerical: difference quotients (forward, backward, central, five-point, complex
  step), step sizes, numerical_gradient and the course-assignment helpers
- compare: relative_error, difference (the norm form) and the course table's bands
- engine: the driver and its pass rule, which accounts for the numerical error itself
  and for kinks, for coordinates and random directions alike
- evaluators: the loss at many points at once: the plain loop (and stacked: the
  stacked evaluation of a Net)
- diagnosis: what kind of mistake a failing row shows, and where in a Net to look
- checks: check_net, check_layer, check_loss, gradient_check_n
- report: CheckReport, printed as a table or plotted
"""
from .checks import check_layer, check_loss, check_net, gradient_check_n, preserved
from .compare import BANDS, MEANINGS, band, difference, relative_error
from .diagnosis import PATTERNS
from .engine import NondeterministicForwardError
from .evaluators import ForwardChangedParametersError
from .numerical import (METHODS, RELATIVE_STEPS, STENCILS, default_step, eval_numerical_gradient,
                        eval_numerical_gradient_array, gradient_check, numerical_gradient,
                        numerical_gradient_array, step_size_sweep)
from .report import CheckReport, CheckRow

__all__ = [
    "check_net", "check_layer", "check_loss", "gradient_check_n", "gradient_check", "preserved",
    "numerical_gradient", "numerical_gradient_array", "eval_numerical_gradient",
    "eval_numerical_gradient_array", "step_size_sweep", "default_step",
    "relative_error", "difference", "band", "BANDS", "MEANINGS", "METHODS", "RELATIVE_STEPS",
    "STENCILS", "PATTERNS", "CheckReport", "CheckRow", "ForwardChangedParametersError",
    "NondeterministicForwardError",
]
