"""Layers: the building blocks of a Net, each a small class with forward and backward.

Every layer keeps to the contract stated once in `Layer` (minnet.contract). Read `Affine` and `ReLU`
first: the others follow the same pattern.
"""
import math

import numpy as np

from .contract import Layer


def _batch(layer, x):
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


def _check_dout(layer, dout, out_shape):
    """Backward's dout must be an array of numbers with the shape of forward's out."""
    if np.shape(dout) != out_shape:
        raise ValueError(
            f"{type(layer).__name__}.backward: expected dout of shape {out_shape} "
            f"(the shape forward returned), got {np.shape(dout)}")
    if np.asarray(dout).dtype.kind not in "biufc":
        raise ValueError(f"{type(layer).__name__}.backward: dout must be an array of numbers, "
                         f"got dtype {np.asarray(dout).dtype}")


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for any x, real or complex.

    exp is only ever taken of a number with real part <= 0, so it never overflows:
    for x >= 0 use 1 / (1 + e^-x), for x < 0 the equal form e^x / (1 + e^x).
    """
    positive = x.real >= 0
    e = np.exp(np.where(positive, -x, x))
    return np.where(positive, 1 / (1 + e), e / (1 + e))


class Affine(Layer):
    """Fully connected layer: out = x @ W + b.

    x: (N, D), or (N, d1, ..., dk) with d1 * ... * dk = D, flattened per sample
    W: (D, M), b: (M,)
    out: (N, M)

    init: "he" (std sqrt(2 / D), for ReLU nets), "xavier" (std sqrt(2 / (D + M)),
    for tanh and sigmoid nets) or a float standard deviation. b starts at 0.
    rng: an int seed or a numpy.random.Generator for the initial W.
    """

    weights = ("W",)

    def __init__(self, in_features, out_features, *, init="he", rng=None):
        super().__init__()
        _check_width("Affine", "in_features", in_features)
        _check_width("Affine", "out_features", out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.init = init
        std = _init_std(init, self.in_features, self.out_features)
        rng = np.random.default_rng(rng)
        self.params = {"W": std * rng.standard_normal((self.in_features, self.out_features)),
                       "b": np.zeros(self.out_features)}
        self.x_shape = self.x = None

    def forward(self, x):
        x = _batch(self, x)
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.in_features:
            raise ValueError(
                f"Affine: expected x of shape (N, {self.in_features}) (or (N, ...) with "
                f"{self.in_features} values per sample), got {x.shape}")
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        x = self._cached("x")
        _check_dout(self, dout, (x.shape[0], self.out_features))
        self.grads = {"W": x.T @ dout, "b": dout.sum(axis=0)}
        if not self.needs_dx:
            return None
        return (dout @ self.params["W"].T).reshape(self.x_shape)

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features}


def _init_std(init, fan_in, fan_out):
    if init == "he":
        return np.sqrt(2.0 / fan_in)
    if init == "xavier":
        return np.sqrt(2.0 / (fan_in + fan_out))
    if isinstance(init, (int, float)) and not isinstance(init, bool) and init >= 0:
        return float(init)
    raise ValueError(f'Affine: init must be "he", "xavier" or a float standard deviation '
                     f'>= 0, got {init!r}')


class ReLU(Layer):
    """out = max(0, x), elementwise.

    x: any shape (N, ...); out and dx: the same shape.
    The derivative is 1 where x > 0 and 0 elsewhere; at exactly 0 (the kink)
    it is not defined, and we take 0 as most libraries do.
    """

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, x):
        x = _batch(self, x)
        self.mask = x.real > 0
        if np.iscomplexobj(x):  # a complex-step check: keep the imaginary parts where x > 0
            return x * self.mask
        return np.maximum(x, 0)  # the same as x * mask for real x, and twice as fast

    def backward(self, dout):
        mask = self._cached("mask")
        _check_dout(self, dout, mask.shape)
        return dout * mask

    def kink_state(self):
        return self.mask


class Sigmoid(Layer):
    """out = 1 / (1 + exp(-x)), elementwise; its derivative is out * (1 - out).

    x: any shape (N, ...); out and dx: the same shape.
    """

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = sigmoid(_batch(self, x))
        return self.out

    def backward(self, dout):
        out = self._cached("out")
        _check_dout(self, dout, out.shape)
        return dout * out * (1 - out)


class Tanh(Layer):
    """out = tanh(x), elementwise; its derivative is 1 - out**2.

    x: any shape (N, ...); out and dx: the same shape.
    """

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = np.tanh(_batch(self, x))
        return self.out

    def backward(self, dout):
        out = self._cached("out")
        _check_dout(self, dout, out.shape)
        return dout * (1 - out**2)


class Dropout(Layer):
    """Inverted dropout: keep each unit with probability keep_prob, scale kept units by 1/keep_prob.

    x: any shape (N, ...); out and dx: the same shape.
    The scaling keeps the expected value of every unit unchanged, so in eval mode
    (training = False) the layer is simply the identity.

    seed: if an int, every forward draws the same mask from a fresh generator made
        from it, so repeated forwards are identical (gradient checking needs this).
    rng: if seed is None, the private generator (an int seed or a Generator) that
        draws a new mask at every forward; default: a fresh unseeded one.
    numpy's global random state is never used.
    """

    def __init__(self, keep_prob=0.5, seed=None, *, rng=None):
        super().__init__()
        self.keep_prob = keep_prob
        self.seed = seed
        self.rng = np.random.default_rng(rng)
        self.mask = None

    @property
    def keep_prob(self):
        return self._keep_prob

    @keep_prob.setter
    def keep_prob(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ValueError(
                f"Dropout: keep_prob is the probability of keeping a unit and must be in "
                f"(0, 1], got {value!r}")
        self._keep_prob = float(value)

    def forward(self, x):
        x = _batch(self, x)
        dtype = x.real.dtype  # float32 stays float32; a complex x keeps a real mask
        if not self.training:
            self.mask = np.ones(x.shape, dtype=dtype)
            return x
        rng = self.rng if self.seed is None else np.random.default_rng(self.seed)
        keep = rng.random(x.shape) < self.keep_prob
        self.mask = (keep / self.keep_prob).astype(dtype)
        return x * self.mask

    def backward(self, dout):
        mask = self._cached("mask")
        _check_dout(self, dout, mask.shape)
        return dout * mask

    def config(self):
        return {"keep_prob": self.keep_prob, "seed": self.seed}


class RNN(Layer):
    """A vanilla recurrent layer: h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b), with h_0 = 0.

    x: (N, T, D), a batch of N sequences of T steps; out: (N, T, H), every hidden state
    Wx: (D, H) input to hidden, Wh: (H, H) hidden to hidden, b: (H,)

    backward runs backpropagation through time: the gradient reaching h_t comes from
    dout[:, t] and from h_{t+1}, through Wh. The same Wx, Wh and b serve every step,
    so their gradients are sums over the steps.
    """

    weights = ("Wx", "Wh")

    def __init__(self, in_features, hidden, *, init="xavier", rng=None):
        super().__init__()
        _check_width("RNN", "in_features", in_features)
        _check_width("RNN", "hidden", hidden)
        self.in_features, self.hidden, self.init = int(in_features), int(hidden), init
        rng = np.random.default_rng(rng)
        self.params = {
            "Wx": _init_std(init, in_features, hidden) * rng.standard_normal((in_features, hidden)),
            "Wh": _init_std(init, hidden, hidden) * rng.standard_normal((hidden, hidden)),
            "b": np.zeros(hidden)}
        self.x = self.h = None

    def forward(self, x):
        x = _batch(self, x)
        if x.ndim != 3 or x.shape[2] != self.in_features:
            raise ValueError(f"RNN: expected x of shape (N, T, {self.in_features}), "
                             f"got {x.shape}")
        N, T, _ = x.shape
        Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
        h = np.zeros((N, T, self.hidden), dtype=np.result_type(x, Wx))
        prev = np.zeros((N, self.hidden), dtype=h.dtype)
        for t in range(T):
            prev = h[:, t] = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        self.x, self.h = x, h
        return h

    def backward(self, dout):
        x, h = self._cached("x"), self._cached("h")
        _check_dout(self, dout, h.shape)
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        dx = np.zeros(x.shape, dtype=np.result_type(dout, Wx))
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(self.params["b"])
        dh_next = np.zeros_like(h[:, 0])
        for t in reversed(range(x.shape[1])):
            dz = (dout[:, t] + dh_next) * (1 - h[:, t]**2)  # through the tanh
            h_prev = h[:, t - 1] if t > 0 else np.zeros_like(dh_next)
            dWx += x[:, t].T @ dz
            dWh += h_prev.T @ dz
            db += dz.sum(axis=0)
            dx[:, t] = dz @ Wx.T
            dh_next = dz @ Wh.T
        self.grads = {"Wx": dWx, "Wh": dWh, "b": db}
        return dx

    def config(self):
        return {"in_features": self.in_features, "hidden": self.hidden}


class TimeAffine(Layer):
    """The same Affine at every time step: out[:, t] = x[:, t] @ W + b.

    x: (N, T, D), W: (D, M), b: (M,), out: (N, T, M)
    """

    weights = ("W",)

    def __init__(self, in_features, out_features, *, init="xavier", rng=None):
        super().__init__()
        _check_width("TimeAffine", "in_features", in_features)
        _check_width("TimeAffine", "out_features", out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        std = _init_std(init, in_features, out_features)
        self.params = {"W": std * np.random.default_rng(rng).standard_normal(
                           (in_features, out_features)),
                       "b": np.zeros(out_features)}
        self.x = None

    def forward(self, x):
        x = _batch(self, x)
        if x.ndim != 3 or x.shape[2] != self.in_features:
            raise ValueError(f"TimeAffine: expected x of shape (N, T, {self.in_features}), "
                             f"got {x.shape}")
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        x = self._cached("x")
        _check_dout(self, dout, x.shape[:2] + (self.out_features,))
        # Every step is one more row of the batch: fold T into N.
        x2, dout2 = x.reshape(-1, self.in_features), dout.reshape(-1, self.out_features)
        self.grads = {"W": x2.T @ dout2, "b": dout2.sum(axis=0)}
        return dout @ self.params["W"].T

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features}


def _check_width(layer, name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
