"""What several layers share: input checks, initialization, a stable sigmoid."""
import numpy as np


def batch(layer, x):
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


def check_dout(layer, dout, out_shape):
    """Backward's dout must be an array of numbers with the shape of forward's out."""
    if np.shape(dout) != out_shape:
        raise ValueError(
            f"{type(layer).__name__}.backward: expected dout of shape {out_shape} "
            f"(the shape forward returned), got {np.shape(dout)}")
    if np.asarray(dout).dtype.kind not in "biufc":
        raise ValueError(f"{type(layer).__name__}.backward: dout must be an array of numbers, "
                         f"got dtype {np.asarray(dout).dtype}")


def check_width(layer, name, value):
    """A size argument (in_features, hidden, ...) must be a positive int."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


def init_std(layer, init, fan_in, fan_out):
    """The standard deviation of initial weights: "he" sqrt(2 / fan_in) (for ReLU nets),
    "xavier" sqrt(2 / (fan_in + fan_out)) (for tanh and sigmoid), or a float."""
    if init == "he":
        return np.sqrt(2.0 / fan_in)
    if init == "xavier":
        return np.sqrt(2.0 / (fan_in + fan_out))
    if isinstance(init, (int, float)) and not isinstance(init, bool) and init >= 0:
        return float(init)
    raise ValueError(f'{layer}: init must be "he", "xavier" or a float standard deviation '
                     f'>= 0, got {init!r}')


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for any x, real or complex.

    exp is only ever taken of a number with real part <= 0, so it never overflows:
    for x >= 0 use 1 / (1 + e^-x), for x < 0 the equal form e^x / (1 + e^x).
    """
    positive = x.real >= 0
    e = np.exp(np.where(positive, -x, x))
    return np.where(positive, 1 / (1 + e), e / (1 + e))
