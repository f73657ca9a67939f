"""Numerical derivatives: the difference quotients a gradient check compares against.

A derivative is a limit, f'(x) = lim (f(x + h) - f(x)) / h, and a computer can only
take h small, not zero. Two errors pull in opposite directions:

- truncation: Taylor's series f(x + h) = f(x) + h f'(x) + h²/2 f''(x) + ... shows the
  forward difference is off by about h/2 |f''|, an error of order O(h). The centered
  difference (f(x + h) - f(x - h)) / 2h cancels the h² terms: its error is O(h²).
- rounding: f is only known to about eps |f| (eps = 2.2e-16 in float64), and dividing
  by h magnifies that to about eps |f| / h.

The best h balances the two: about eps^(1/2) for O(h) methods, eps^(1/3) for the
centered difference, eps^(1/5) for the O(h⁴) five-point stencil. The complex step
Im f(x + ih) / h has no subtraction at all, hence no cancellation, and works with
h = 1e-20.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..validate import real
from .compare import difference

EPS = np.finfo(np.float64).eps

# Each difference method evaluates f at x + offset * h and combines the values with
# these weights: derivative = sum(weight * f(x + offset * h)) / h, with a truncation
# error of order h**order.
STENCILS: dict[str, dict[str, Any]] = {
    "forward": {"offsets": (1, 0), "weights": (1.0, -1.0), "order": 1},
    "backward": {"offsets": (0, -1), "weights": (1.0, -1.0), "order": 1},
    "central": {"offsets": (1, -1), "weights": (0.5, -0.5), "order": 2},
    "fivepoint": {"offsets": (2, 1, -1, -2), "weights": (-1 / 12, 8 / 12, -8 / 12, 1 / 12),
                  "order": 4},
}
METHODS = (*STENCILS, "complex")

# The relative step that balances truncation (~h^order) against rounding (~eps/h).
RELATIVE_STEPS = {"forward": EPS ** (1 / 2), "backward": EPS ** (1 / 2),
                  "central": EPS ** (1 / 3), "fivepoint": EPS ** (1 / 5), "complex": 1e-20}


def default_step(method: str, x_value: float) -> float:
    """The step minnet uses at a coordinate of value x_value: RELATIVE_STEPS * max(1, |x|).

    Scaling by |x| keeps x + h a real change of x when x is large.
    """
    return RELATIVE_STEPS[method] * max(1.0, abs(float(np.real(x_value))))


def check_method(method: str, owner: str) -> None:
    """method must be one of METHODS ("central", "forward", ...): else a ValueError.
    owner: the function that takes the method, for the message."""
    if method not in METHODS:
        raise ValueError(f"{owner}: method must be one of "
                         f"{', '.join(repr(m) for m in METHODS)}, got {method!r}")


def check_step(h: float | None, method: str, x: np.ndarray, owner: str,
               name: str = "h") -> float | None:
    """h as a float (None stays None: each coordinate gets its default step).

    h must be a positive number (a numpy scalar is fine) that still changes x in float64
    (any h > 0 for complex). owner, name: who takes the step and what it is called
    there ("gradient_check_n" calls it epsilon), for the message.
    """
    if h is None:
        return None
    h = real(h, name, owner, low=0, low_open=True, fix=f"{name} is the step of the "
             "difference quotient; leave it out for the default")
    if method == "complex":
        return h
    largest = float(np.max(np.abs(np.real(x)), initial=0.0))
    spacing = np.spacing(max(largest, 1.0))
    if h < 4 * spacing:
        raise ValueError(
            f"{owner}: {name} = {h:g} is too small for float64: near |x| = "
            f"{max(largest, 1.0):g} neighbouring float64 numbers are {spacing:.1e} apart, so "
            f"x + {name} rounds to (nearly) x and the difference quotient is pure rounding "
            f"noise; use {name} around "
            f"{default_step(method, largest):.0e} (the default) or method='complex'")
    return h


def as_number(value: object, where: str, complex_expected: bool = False) -> float | complex:
    """The float (or complex) that f returned, or an error that says what is wrong with it."""
    if isinstance(value, tuple):  # the classic exercise's forward returns (cost, cache)
        value = value[0]
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "biufc":
        raise ValueError(f"{where} must return one number (the loss), got "
                         f"{type(value).__name__} of shape {array.shape}")
    number = array.reshape(()).item()
    if complex_expected and not isinstance(number, complex):
        raise ValueError(
            f"{where} returned a real number at a complex point, so the complex-step method "
            "cannot work: the function drops the imaginary part (np.abs, np.real, float(), "
            "comparisons on complex numbers) or reads its parameters from somewhere other "
            "than the array it is given; use method='central'")
    if not np.isfinite(number):
        raise ValueError(f"{where} returned {number}; a gradient check needs a finite loss")
    return number


def derivative(f: Callable[[], float | complex], x: np.ndarray, index: tuple, h: float,
               method: str = "central", f0: float | None = None) -> tuple[float, list]:
    """One partial derivative of f() with respect to x[index].

    f: a function of no arguments that reads x, returning a float (a complex for
    method="complex", where x is complex); x is changed in place and always
    restored, even if f raises. f0: f at the unperturbed x, if already known.
    returns (estimate, values): the estimate and the values of f it used.
    """
    old = x[index]
    try:
        if method == "complex":
            x[index] = old + 1j * h
            value = as_number(f(), "f", complex_expected=True)
            return value.imag / h, [value]
        stencil = STENCILS[method]
        values: list[float | complex] = []
        for offset in stencil["offsets"]:
            if offset == 0 and f0 is not None:
                values.append(f0)
                continue
            x[index] = old + offset * h
            values.append(as_number(f(), "f"))
        estimate = sum(w * v for w, v in zip(stencil["weights"], values)) / h
        return estimate, values
    finally:
        x[index] = old


def numerical_gradient(f: Callable[[np.ndarray], float | complex], x: np.ndarray,
                       h: float | None = None, method: str = "central") -> np.ndarray:
    """The gradient of the scalar function f at x, one coordinate at a time.

    f: called as f(x), returns a float (a complex for method="complex")
    x: float64 array of any shape, perturbed in place and always restored
    h: the step; default: RELATIVE_STEPS[method] * max(1, |x_i|) per coordinate
    method: "central" (default), "forward", "backward", "fivepoint" or "complex"
        (for "complex", f receives a complex copy of x and must compute from it)
    returns: array shaped like x

    Example: numerical_gradient(lambda x: np.sum(x**2), np.array([1.0, -2.0])) ~ [2, -4]
    """
    return _gradient(f, x, h, method, "numerical_gradient")


def _gradient(f, x, h, method, owner):
    """numerical_gradient's work; owner: the function the user called, named by its errors."""
    check_method(method, owner)
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            f"{owner}: x must be a float64 numpy array, because it is perturbed in "
            f"place; got {type(x).__name__}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
            + ": pass np.asarray(x, dtype=np.float64)")
    h = check_step(h, method, x, owner)
    target = x.astype(np.complex128) if method == "complex" else x
    f0 = as_number(f(target), "f") if method in ("forward", "backward") else None
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        step = h if h is not None else default_step(method, x[index])
        grad[index], _ = derivative(lambda: f(target), target, index, step, method, f0)
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                             dout: np.ndarray, h: float | None = None) -> np.ndarray:
    """For an array-valued f, the gradient of sum(f(x) * dout) with respect to x.

    x: float64 array (perturbed in place, restored); dout: shaped like f(x)
    returns: array shaped like x (what backward(dout) should return for x)
    """
    return _gradient_of_sum(f, x, dout, h, "numerical_gradient_array")


def _gradient_of_sum(f, x, dout, h, owner):
    """numerical_gradient_array's work; owner: the function the user called."""
    dout = np.asarray(dout)
    return _gradient(lambda x_: np.sum(_same_shape(f(x_), dout) * dout), x, h, "central", owner)


def _same_shape(out, dout):
    if np.shape(out) != dout.shape:
        raise ValueError(f"f(x) has shape {np.shape(out)} but dout has shape {dout.shape}; "
                         "dout must be shaped like f's output")
    return out


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                            verbose: bool = False, h: float = 1e-5) -> np.ndarray:
    """The course-assignment name: centered differences of f(x) with a fixed step h.

    x: float64 array, perturbed in place and restored; returns an array like x.
    verbose prints every coordinate and its derivative.
    """
    grad = _gradient(f, x, h, "central", "eval_numerical_gradient")
    if verbose:
        for index in np.ndindex(x.shape):
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                                  df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The course-assignment name: the gradient of sum(f(x) * df) with a fixed step h."""
    return _gradient_of_sum(f, x, df, h, "eval_numerical_gradient_array")


def gradient_check(forward: Callable, backward: Callable, x: float, theta: float,
                   epsilon: float = 1e-7) -> float:
    """The one-dimensional gradient check of the classic exercise.

    forward(x, theta) -> J; backward(x, theta) -> dJ/dtheta (for J = theta * x, that is x)
    returns difference(grad, gradapprox) = |grad - approx| / (|grad| + |approx|),
    with gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / (2 epsilon).
    """
    J_plus = forward(x, theta + epsilon)
    J_minus = forward(x, theta - epsilon)
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    return difference(backward(x, theta), gradapprox)


def step_size_sweep(f: Callable[[float], float] | Callable[[complex], complex], x: float,
                    exact: float,
                    steps: np.ndarray | None = None,
                    method: str = "central") -> tuple[np.ndarray, np.ndarray]:
    """The error of a numerical derivative of the scalar function f at the point x, for many steps.

    f: float -> float (complex -> complex for method="complex"); x: float
    exact: the true derivative f'(x)
    steps: the steps h to try (default: 1e-16 ... 1, two per decade)
    returns (steps, errors): errors[k] = |estimate(h_k) - exact| / max(|exact|, 1e-300)

    On a log-log plot the errors form a V: rounding error falls as 1/h on the left,
    truncation error rises as h^order on the right, the minimum sits near
    RELATIVE_STEPS[method] (complex step: flat, no rounding side).
    """
    check_method(method, "step_size_sweep")
    steps = np.logspace(-16, 0, 33) if steps is None else np.asarray(steps, dtype=float)
    point = np.array([x], dtype=np.complex128 if method == "complex" else np.float64)
    errors = np.empty(len(steps))
    for k, h in enumerate(steps):
        estimate, _ = derivative(lambda: f(point[0]), point, (0,), float(h), method)
        errors[k] = abs(estimate - exact) / max(abs(exact), 1e-300)
    return steps, errors
