"""Layers for sequences: RNN, LSTM, TimeAffine and Embedding.

A batch of sequences has shape (N, T, D): N sequences of T steps, D features per
step. Embedding turns integer tokens (N, T) into such vectors.
"""
from __future__ import annotations

import numpy as np

from ..contract import Layer
from .common import batch, check_dout, check_width, init_std, sigmoid


class RNN(Layer):
    """A vanilla recurrent layer: h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b), with h_0 = 0.

    x: (N, T, D), a batch of N sequences of T steps; out: (N, T, H), every hidden state
    Wx: (D, H) input to hidden, Wh: (H, H) hidden to hidden, b: (H,)

    backward runs backpropagation through time: the gradient reaching h_t comes from
    dout[:, t] and from h_{t+1}, through Wh. The same Wx, Wh and b serve every step,
    so their gradients are sums over the steps.
    """

    weights = ("Wx", "Wh")
    samplewise = True

    def __init__(self, in_features: int, hidden: int, *, init: str | float = "xavier",
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_width("RNN", "in_features", in_features)
        self.hidden = self.out_features = check_width("RNN", "hidden", hidden)
        D, H = self.in_features, self.hidden
        rng = np.random.default_rng(rng)
        self.params = {"Wx": init_std("RNN", init, D, H) * rng.standard_normal((D, H)),
                       "Wh": init_std("RNN", init, H, H) * rng.standard_normal((H, H)),
                       "b": np.zeros(H)}
        self.x: np.ndarray | None = None
        self.h: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
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

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        x, h = self._cached("x"), self._cached("h")
        check_dout(self, dout, h.shape)
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

    def config(self) -> dict:
        return {"in_features": self.in_features, "hidden": self.hidden}


class TimeAffine(Layer):
    """The same Affine at every time step: out[:, t] = x[:, t] @ W + b.

    x: (N, T, D), W: (D, M), b: (M,), out: (N, T, M)
    """

    weights = ("W",)
    samplewise = True

    def __init__(self, in_features: int, out_features: int, *, init: str | float = "xavier",
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_width("TimeAffine", "in_features", in_features)
        self.out_features = check_width("TimeAffine", "out_features", out_features)
        std = init_std("TimeAffine", init, self.in_features, self.out_features)
        self.params = {"W": std * np.random.default_rng(rng).standard_normal(
                           (self.in_features, self.out_features)),
                       "b": np.zeros(self.out_features)}
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
        if x.ndim != 3 or x.shape[2] != self.in_features:
            raise ValueError(f"TimeAffine: expected x of shape (N, T, {self.in_features}), "
                             f"got {x.shape}")
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        x = self._cached("x")
        check_dout(self, dout, x.shape[:2] + (self.out_features,))
        # Every step is one more row of the batch: fold T into N.
        x2, dout2 = x.reshape(-1, self.in_features), dout.reshape(-1, self.out_features)
        self.grads = {"W": x2.T @ dout2, "b": dout2.sum(axis=0)}
        return dout @ self.params["W"].T

    def config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features}


class LSTM(Layer):
    """A long short-term memory layer, with h_0 = c_0 = 0.

    x: (N, T, D) -> out: (N, T, H), every hidden state
    Wx: (D, 4H), Wh: (H, 4H), b: (4H,); the four blocks of H columns belong to the
    gates i, f, o (input, forget, output) and the candidate g, in that order:

        a = x_t @ Wx + h_{t-1} @ Wh + b,  split into a_i, a_f, a_o, a_g
        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)

    backward runs backpropagation through time along two paths: h_t gets dout[:, t]
    and the gradient from step t + 1 through Wh; the cell c_t gets the gradient from
    h_t (through o * tanh) and from c_{t+1} (times f_{t+1}), the path that lets
    gradients survive long sequences.
    """

    weights = ("Wx", "Wh")
    samplewise = True

    def __init__(self, in_features: int, hidden: int, *, init: str | float = "xavier",
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_width("LSTM", "in_features", in_features)
        self.hidden = self.out_features = check_width("LSTM", "hidden", hidden)
        D, H = self.in_features, self.hidden
        rng = np.random.default_rng(rng)
        self.params = {"Wx": init_std("LSTM", init, D, H) * rng.standard_normal((D, 4 * H)),
                       "Wh": init_std("LSTM", init, H, H) * rng.standard_normal((H, 4 * H)),
                       "b": np.zeros(4 * H)}
        self.x: np.ndarray | None = None
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = batch(self, x)
        if x.ndim != 3 or x.shape[2] != self.in_features:
            raise ValueError(f"LSTM: expected x of shape (N, T, {self.in_features}), "
                             f"got {x.shape}")
        N, T, _ = x.shape
        H, Wh = self.hidden, self.params["Wh"]
        a_x = x @ self.params["Wx"] + self.params["b"]  # the input's share, all steps at once
        dtype = a_x.dtype
        gates = np.zeros((N, T, 4 * H), dtype=dtype)    # i, f, o, g after their nonlinearity
        c, h = np.zeros((N, T, H), dtype=dtype), np.zeros((N, T, H), dtype=dtype)
        h_prev, c_prev = np.zeros((N, H), dtype=dtype), np.zeros((N, H), dtype=dtype)
        for t in range(T):
            a = a_x[:, t] + h_prev @ Wh
            gates[:, t, :3 * H] = sigmoid(a[:, :3 * H])
            gates[:, t, 3 * H:] = np.tanh(a[:, 3 * H:])
            i, f, o, g = np.split(gates[:, t], 4, axis=1)
            c_prev = c[:, t] = f * c_prev + i * g
            h_prev = h[:, t] = o * np.tanh(c_prev)
        self.x, self.cache = x, (gates, c, h)
        return h

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        x = self._cached("x")
        gates, c, h = self._cached("cache")
        check_dout(self, dout, h.shape)
        N, T, H = h.shape
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        dtype = np.result_type(dout, Wx)
        da = np.zeros(gates.shape, dtype=dtype)  # dL/da at every step
        dh_next, dc_next = np.zeros((N, H), dtype=dtype), np.zeros((N, H), dtype=dtype)
        for t in reversed(range(T)):
            i, f, o, g = np.split(gates[:, t], 4, axis=1)
            c_prev = c[:, t - 1] if t > 0 else np.zeros_like(c[:, 0])
            tanh_c = np.tanh(c[:, t])
            dh = dout[:, t] + dh_next
            dc = dc_next + dh * o * (1 - tanh_c**2)
            da[:, t] = np.concatenate([dc * g * i * (1 - i),          # input gate
                                       dc * c_prev * f * (1 - f),     # forget gate
                                       dh * tanh_c * o * (1 - o),     # output gate
                                       dc * i * (1 - g**2)], axis=1)  # candidate
            dh_next = da[:, t] @ Wh.T
            dc_next = dc * f
        h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
        da2 = da.reshape(N * T, 4 * H)  # the same weights serve every step: sum over them
        self.grads = {"Wx": x.reshape(N * T, -1).T @ da2,
                      "Wh": h_prev.reshape(N * T, H).T @ da2, "b": da2.sum(axis=0)}
        return da @ Wx.T

    def config(self) -> dict:
        return {"in_features": self.in_features, "hidden": self.hidden}


class Embedding(Layer):
    """A lookup table of vectors, one per token: out = W[x].

    x: integers of shape (N, ...) with values in 0..V-1 (token ids) -> out: (N, ..., D)
    W: (V, D), row v is the vector of token v; initialized standard normal.

    backward adds dout[n, ...] into row x[n, ...] of dW: a token that appears k times
    in the batch collects k gradients (np.add.at adds at repeated indices, where
    dW[x] += dout would keep only one of them). x is not differentiable, so backward
    returns None.
    """

    samplewise = integer_input = True

    def __init__(self, vocab_size: int, dim: int, *,
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.vocab_size = check_width("Embedding", "vocab_size", vocab_size)
        self.dim = self.out_features = check_width("Embedding", "dim", dim)
        rng = np.random.default_rng(rng)
        self.params = {"W": rng.standard_normal((self.vocab_size, self.dim))}
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            hint = ("; convert token ids with x.astype(int)" if x.dtype.kind in "fb" else "")
            raise ValueError(f"Embedding.forward: x must hold integer token ids, got an array "
                             f"of dtype {x.dtype}{hint}")
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"Embedding.forward: expected a batch x of shape (N, ...) with "
                             f"N >= 1, got {x.shape}")
        if x.min() < 0 or x.max() >= self.vocab_size:
            bad = x[(x < 0) | (x >= self.vocab_size)].flat[0]
            raise ValueError(f"Embedding.forward: token id {bad} is out of range: this "
                             f"Embedding has vocab_size = {self.vocab_size}, so ids run from 0 "
                             f"to {self.vocab_size - 1}")
        self.x = x
        return self.params["W"][x]

    def backward(self, dout: np.ndarray) -> None:
        x = self._cached("x")
        check_dout(self, dout, x.shape + (self.dim,))
        dW = np.zeros(self.params["W"].shape, dtype=np.result_type(dout, self.params["W"]))
        np.add.at(dW, x, dout)
        self.grads = {"W": dW}
        return None

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "dim": self.dim}
