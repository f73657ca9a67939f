"""An honest student's solution, written from scratch (it imports only the contracts).

The grader tests must give it full marks; the attack tests start from it.
"""
import numpy as np

from minnet.layers import Layer
from minnet.losses import Loss


class Affine(Layer):
    weights = ("W",)

    def __init__(self, in_features, out_features, *, rng=None):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.params = {"W": rng.normal(0, np.sqrt(2 / in_features), (in_features, out_features)),
                       "b": np.zeros(out_features)}

    def forward(self, x):
        self.shape = x.shape
        self.flat = x.reshape(len(x), -1)
        return self.flat @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads = {"W": self.flat.T @ dout, "b": np.sum(dout, axis=0)}
        return (dout @ self.params["W"].T).reshape(self.shape)


class ReLU(Layer):
    def forward(self, x):
        self.positive = x > 0
        return np.where(self.positive, x, 0.0)

    def backward(self, dout):
        return np.where(self.positive, dout, 0.0)

    def kink_state(self):
        return self.positive


class Sigmoid(Layer):
    def forward(self, x):
        # exp of a non-positive number only: no overflow
        e = np.exp(-np.abs(x))
        self.s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.s

    def backward(self, dout):
        return dout * self.s * (1 - self.s)


class Tanh(Layer):
    def forward(self, x):
        self.t = np.tanh(x)
        return self.t

    def backward(self, dout):
        return dout * (1 - self.t * self.t)


class Dropout(Layer):
    def __init__(self, keep_prob=0.5, seed=None):
        super().__init__()
        self.keep_prob, self.seed = keep_prob, seed
        self.rng = np.random.default_rng()

    def forward(self, x):
        if self.training:
            rng = self.rng if self.seed is None else np.random.default_rng(self.seed)
            self.mask = np.where(rng.random(x.shape) < self.keep_prob, 1 / self.keep_prob, 0.0)
        else:
            self.mask = np.ones(x.shape)
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class SoftmaxLoss(Loss):
    def forward(self, scores, y):
        z = scores - scores.max(axis=1, keepdims=True)
        log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        self.p, self.y = np.exp(log_p), y
        return -np.mean(log_p[np.arange(len(y)), y])

    def backward(self):
        d = self.p.copy()
        d[np.arange(len(self.y)), self.y] -= 1
        return d / len(self.y)


class SigmoidCrossEntropy(Loss):
    def forward(self, z, y):
        self.z, self.y = z, np.reshape(y, z.shape)
        return np.mean(np.logaddexp(0, z) - self.y * z)

    def backward(self):
        e = np.exp(-np.abs(self.z))
        a = np.where(self.z >= 0, 1 / (1 + e), e / (1 + e))
        return (a - self.y) / len(self.z)


class MSELoss(Loss):
    def forward(self, scores, y):
        self.d = scores - np.reshape(y, scores.shape)
        return np.mean(self.d ** 2)

    def backward(self):
        return 2 * self.d / self.d.size
