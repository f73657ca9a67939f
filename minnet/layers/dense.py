"""Dense layers: Affine and the elementwise ones (ReLU, Sigmoid, Tanh, Dropout).

Read `Affine` and `ReLU` first: every other layer follows the same pattern, the
contract stated once in minnet.contract.Layer.
"""
from __future__ import annotations

import math

import numpy as np

from ..contract import Layer
from ..validate import real
from .common import batch, check_dout, check_width, init_std, sigmoid

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
    samplewise = flattens = True

    def __init__(self, in_features: int, out_features: int, *, init: str | float = "he",
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_width("Affine", "in_features", in_features)
        self.out_features = check_width("Affine", "out_features", out_features)
        std = init_std("Affine", init, self.in_features, self.out_features)
        rng = np.random.default_rng(rng)
        self.params = {"W": std * rng.standard_normal((self.in_features, self.out_features)),
                       "b": np.zeros(self.out_features)}
        self.x_shape: tuple[int, ...] | None = None
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.in_features:
            raise ValueError(
                f"Affine: expected x of shape (N, {self.in_features}) (or (N, ...) with "
                f"{self.in_features} values per sample), got {x.shape}")
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        x = self._cached("x")
        check_dout(self, dout, (x.shape[0], self.out_features))
        self.grads = {"W": x.T @ dout, "b": dout.sum(axis=0)}
        if not self.needs_dx:
            return None
        return (dout @ self.params["W"].T).reshape(self.x_shape)

    def config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features}


class ReLU(Layer):
    """out = max(0, x), elementwise.

    x: any shape (N, ...); out and dx: the same shape.
    The derivative is 1 where x > 0 and 0 elsewhere; at exactly 0 (the kink)
    it is not defined, and we take 0 as most libraries do.
    """

    samplewise = elementwise = has_kinks = True

    def __init__(self) -> None:
        super().__init__()
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
        self.mask = x.real > 0
        if np.iscomplexobj(x):  # a complex-step check: keep the imaginary parts where x > 0
            return x * self.mask
        return np.maximum(x, 0)  # the same as x * mask for real x, and twice as fast

    def backward(self, dout: np.ndarray) -> np.ndarray:
        mask = self._cached("mask")
        check_dout(self, dout, mask.shape)
        return dout * mask

    def kink_state(self) -> np.ndarray | None:
        return self.mask


class Sigmoid(Layer):
    """out = 1 / (1 + exp(-x)), elementwise; its derivative is out * (1 - out).

    x: any shape (N, ...); out and dx: the same shape.
    """

    samplewise = elementwise = True

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(batch(self, x))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        out = self._cached("out")
        check_dout(self, dout, out.shape)
        return dout * out * (1 - out)


class Tanh(Layer):
    """out = tanh(x), elementwise; its derivative is 1 - out**2.

    x: any shape (N, ...); out and dx: the same shape.
    """

    samplewise = elementwise = True

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(batch(self, x))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        out = self._cached("out")
        check_dout(self, dout, out.shape)
        return dout * (1 - out**2)


class Dropout(Layer):
    """Inverted dropout: keep each unit with probability keep_prob, scale kept units by 1/keep_prob.

    x: any shape (N, ...); out and dx: the same shape.
    The scaling keeps the expected value of every unit unchanged, so in eval mode
    (training = False) the layer is simply the identity.

    keep_prob: the probability of KEEPING a unit, as in the original dropout paper and
        the classic course notes. PyTorch's nn.Dropout(p) takes the probability of
        DROPPING one instead: keep_prob = 1 - p, so nn.Dropout(0.1) is Dropout(0.9).
    seed: if an int, every forward draws the same mask from a fresh generator made
        from it, so repeated forwards are identical (gradient checking needs this).
        Train without it: a fixed mask drops the same units at every step (fit warns).
    rng: if seed is None, the private generator (an int seed or a Generator) that
        draws a new mask at every forward; default: a fresh unseeded one. For
        training that is both random and reproducible, pass rng=0 (or a Generator).
    numpy's global random state is never used.
    """

    samplewise = elementwise = random = True

    def __init__(self, keep_prob: float = 0.5, seed: int | None = None, *,
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.keep_prob = keep_prob
        self.seed = seed
        self.rng = np.random.default_rng(rng)
        self.mask: np.ndarray | None = None

    @property
    def keep_prob(self) -> float:
        """The probability of keeping each unit, in (0, 1] (PyTorch's p is 1 - keep_prob).

        Setting it checks the value first: a bad one raises and changes nothing."""
        return self._keep_prob

    @keep_prob.setter
    def keep_prob(self, value: float) -> None:
        self._keep_prob = real(value, "keep_prob", "Dropout", low=0, high=1, low_open=True,
                               meaning="the probability of keeping a unit",
                               fix="PyTorch's p is the probability of dropping one: "
                                   "keep_prob = 1 - p")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
        dtype = x.real.dtype  # float32 stays float32; a complex x keeps a real mask
        if not self.training:
            self.mask = np.ones(x.shape, dtype=dtype)
            return x
        rng = self.rng if self.seed is None else np.random.default_rng(self.seed)
        keep = rng.random(x.shape) < self.keep_prob
        self.mask = (keep / self.keep_prob).astype(dtype)
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        mask = self._cached("mask")
        check_dout(self, dout, mask.shape)
        return dout * mask

    def config(self) -> dict:
        return {"keep_prob": self.keep_prob, "seed": self.seed}
