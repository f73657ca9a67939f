"""What several layers share: input checks, initialization, a stable sigmoid."""
from __future__ import annotations

import numpy as np

from ..validate import count, is_real


def batch(layer: object, x: object) -> np.ndarray:
    """x as an array of numbers with a batch axis, or an error that says what is wrong.

    Integers and booleans become float64 (arithmetic such as Dropout's scaling needs
    floats); float and complex arrays pass unchanged, so float32 stays float32.
    """
    x = np.asarray(x)
    name = type(layer).__name__
    if x.dtype.kind not in "biufc":
        raise ValueError(f"{name}.forward: x must be an array of numbers, got an array of "
                         f"dtype {x.dtype}; convert the data with np.asarray(x, dtype=float)")
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"{name}.forward: expected a batch x of shape (N, ...) with N >= 1, "
                         f"got {x.shape}")
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


def check_dout(layer: object, dout: object, out_shape: tuple) -> None:
    """Backward's dout must be an array of numbers with the shape of forward's out."""
    dout_array = np.asarray(dout)
    if dout_array.shape != out_shape:
        raise ValueError(
            f"{type(layer).__name__}.backward: expected dout of shape {out_shape} "
            f"(the shape forward returned), got {dout_array.shape}")
    if dout_array.dtype.kind not in "biufc":
        raise ValueError(f"{type(layer).__name__}.backward: dout must be an array of numbers, "
                         f"got dtype {dout_array.dtype}")


def check_width(layer: str, name: str, value: object) -> int:
    """A size argument (in_features, hidden, ...) as a plain int: it must be a positive
    int (np.int64 is fine). layer: the class name, for the message."""
    return count(value, name, layer)


def init_std(layer: str, init: str | float, fan_in: int, fan_out: int) -> float:
    """The standard deviation of initial weights: "he" sqrt(2 / fan_in) (for ReLU nets),
    "xavier" sqrt(2 / (fan_in + fan_out)) (for tanh and sigmoid), or a float."""
    if init == "he":
        return np.sqrt(2.0 / fan_in)
    if init == "xavier":
        return np.sqrt(2.0 / (fan_in + fan_out))
    if is_real(init) and 0 <= float(init) < np.inf:
        return float(init)
    raise ValueError(f'{layer}: init must be "he", "xavier" or a float standard deviation '
                     f'>= 0, got {init!r}')


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow for any x, real or complex.

    exp is only ever taken of a number with real part <= 0, so it never overflows:
    for x >= 0 use 1 / (1 + e^-x), for x < 0 the equal form e^x / (1 + e^x).
    """
    positive = x.real >= 0
    e = np.exp(np.where(positive, -x, x))
    return np.where(positive, 1 / (1 + e), e / (1 + e))
