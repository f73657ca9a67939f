"""Normalization layers: BatchNorm (statistics over the batch) and LayerNorm (per sample).

Both compute xhat = (x - mean) / sqrt(var + eps) and return gamma * xhat + beta.
The mean and the variance depend on x, so backward must go through them too; with
m values in each statistic, and g = dout * gamma:

    dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)

(the means taken over the same m values). The two subtracted terms are what the
mean and the variance pass back; leaving them out is a classic bug.
"""
from __future__ import annotations

import numpy as np

from ..contract import Layer
from ..validate import real
from .common import batch, check_dout, check_width


def _normalize_backward(dout, xhat, gamma, inv_std, axes):
    """dx of gamma * xhat + beta, xhat normalized over `axes` (see the module docstring)."""
    g = dout * gamma
    return inv_std * (g - g.mean(axis=axes, keepdims=True)
                      - xhat * (g * xhat).mean(axis=axes, keepdims=True))


def _feature_sum(a, b=None):
    """The sum over every axis but axis 1 (the features) of a, or of a * b:
    (N, D) -> (D,), (N, C, H, W) -> (C,). einsum adds up three times faster than
    a.sum(axis=(0, 2, 3)) does, and multiplies a * b on the way, with no array for it."""
    axes = "nd" if a.ndim == 2 else "ndhw"
    if b is None:
        return np.einsum(f"{axes}->d", a)
    return np.einsum(f"{axes},{axes}->d", a, b)


def _check_eps(layer, eps):
    """eps, added to the variance before its square root, as a float > 0."""
    return real(eps, "eps", layer, low=0, low_open=True, expected="a small positive number",
                fix="it keeps the division away from zero; 1e-5 is usual")


class BatchNorm(Layer):
    """Batch normalization: each feature normalized over the batch, then scaled and shifted.

    x: (N, D), one statistic per feature over the N samples; or (N, C, H, W), one per
    channel over N, H and W (as after a Conv2D). out: shaped like x.
    gamma, beta: (D,) or (C,), starting at ones and zeros.

    training: mean and var are the batch's mean and biased variance (divided by the
        count, not count - 1), and running_mean and running_var (which start at 0 and
        1) move towards them: running = momentum * running + (1 - momentum) * batch
    eval: mean and var are running_mean and running_var, so one sample's output no
        longer depends on the rest of its batch

    The running statistics are buffers: saved with a Net, never checked, regularized
    or updated by an optimizer. In training mode every output depends on the whole
    batch: the layer is not samplewise, and a gradient check must run in training
    mode to test the backward students write (tutorial 14).
    """

    buffers = ("running_mean", "running_var")

    def __init__(self, features: int, *, momentum: float = 0.9, eps: float = 1e-5) -> None:
        super().__init__()
        self.features = check_width("BatchNorm", "features", features)
        self.in_features = self.out_features = self.features
        self.momentum = real(momentum, "momentum", "BatchNorm", low=0, high=1, high_open=True,
                             fix="it is the share of the running statistics kept at each "
                                 "step; 0.9 is usual")
        self.eps = _check_eps("BatchNorm", eps)
        self.params = {"gamma": np.ones(self.features), "beta": np.zeros(self.features)}
        self.running_mean, self.running_var = np.zeros(self.features), np.ones(self.features)
        self.xhat: np.ndarray | None = None
        self.inv_std: np.ndarray | None = None
        self.axes: tuple[int, ...] | None = None
        self.shape: tuple[int, ...] | None = None

    @property
    def samplewise(self) -> bool:
        """True in eval mode only: in training mode the batch's statistics mix the samples."""
        return not self.training

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
        if x.ndim not in (2, 4) or x.shape[1] != self.features:
            raise ValueError(f"BatchNorm: expected x of shape (N, {self.features}) or "
                             f"(N, {self.features}, H, W), got {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2, 3)   # every axis but the feature axis
        shape = (1, -1) + (1,) * (x.ndim - 2)       # (D,) broadcast against x
        if self.training:
            m = x.size // self.features                 # the values in each statistic
            mean = _feature_sum(x) / m
            centered = x - mean.reshape(shape)
            var = _feature_sum(centered, centered) / m
            if not np.all(np.isfinite(var)):  # einsum overflows to inf without numpy's flag
                raise FloatingPointError(
                    f"BatchNorm: the batch variance overflowed (largest |x| "
                    f"{np.max(np.abs(x)):.3g}): the layers before it diverged; during training "
                    "try a smaller learning rate")
            # Rebinding (not writing in place) leaves any saved copy of the old arrays alone.
            k = self.momentum
            self.running_mean = k * self.running_mean + (1 - k) * mean.real
            self.running_var = k * self.running_var + (1 - k) * var.real
        else:
            mean, var = self.running_mean, self.running_var
            centered = x - mean.reshape(shape)
        self.inv_std = (1 / np.sqrt(var + self.eps)).reshape(shape)
        self.xhat = centered * self.inv_std
        self.axes, self.shape = axes, shape
        return self.params["gamma"].reshape(shape) * self.xhat + self.params["beta"].reshape(shape)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat = self._cached("xhat")
        check_dout(self, dout, xhat.shape)
        dgamma, dbeta = _feature_sum(dout, xhat), _feature_sum(dout)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        scale = self.params["gamma"].reshape(self.shape) * self.inv_std
        if not self.training:  # the statistics are constants: a plain scale and shift
            return dout * scale
        # The module docstring's dx, with g = dout * gamma and gamma the same for all m
        # values of a statistic: mean(g) = gamma * dbeta / m, mean(g * xhat) = gamma *
        # dgamma / m. The sums just taken for the gradients serve again.
        m = xhat.size // self.features
        return scale * (dout - (dbeta / m).reshape(self.shape)
                        - xhat * (dgamma / m).reshape(self.shape))

    def config(self) -> dict:
        return {"features": self.features, "momentum": self.momentum, "eps": self.eps}


class LayerNorm(Layer):
    """Layer normalization: each sample normalized over its own features.

    x: (N, D), or (N, T, D) with every step normalized on its own; out: shaped like x
    gamma, beta: (D,), starting at ones and zeros.
    mean and var (biased) are taken over the last axis, so samples never mix: the
    same in training and in eval mode, and samplewise.
    """

    samplewise = True

    def __init__(self, features: int, *, eps: float = 1e-5) -> None:
        super().__init__()
        self.features = check_width("LayerNorm", "features", features)
        self.in_features = self.out_features = self.features
        self.eps = _check_eps("LayerNorm", eps)
        self.params = {"gamma": np.ones(self.features), "beta": np.zeros(self.features)}
        self.xhat: np.ndarray | None = None
        self.inv_std: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
        if x.ndim < 2 or x.shape[-1] != self.features:
            raise ValueError(f"LayerNorm: expected x of shape (N, {self.features}) (or "
                             f"(N, ..., {self.features})), got {x.shape}")
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean)**2).mean(axis=-1, keepdims=True)
        self.inv_std = 1 / np.sqrt(var + self.eps)
        self.xhat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat = self._cached("xhat")
        check_dout(self, dout, xhat.shape)
        rows = (dout * xhat).reshape(-1, self.features), dout.reshape(-1, self.features)
        self.grads = {"gamma": rows[0].sum(axis=0), "beta": rows[1].sum(axis=0)}
        return _normalize_backward(dout, xhat, self.params["gamma"], self.inv_std, -1)

    def config(self) -> dict:
        return {"features": self.features, "eps": self.eps}
