"""Losses: the last stage of a Net, turning scores and labels into one number."""
from __future__ import annotations

import numpy as np

from .contract import Loss
from .layers import sigmoid
from .validate import real

__all__ = ["Loss", "SoftmaxLoss", "SVMLoss", "SigmoidCrossEntropy", "MSELoss",
           "TemporalSoftmaxLoss"]


class SoftmaxLoss(Loss):
    """Softmax followed by cross-entropy: L = mean_i( -log softmax(scores_i)[y_i] ).

    scores: (N, C) real numbers (logits); y: (N,) integer labels in 0..C-1
    backward() -> dscores: (N, C), equal to (softmax(scores) - onehot(y)) / N
    """

    def __init__(self) -> None:
        self.probs: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def forward(self, scores: np.ndarray, y: np.ndarray) -> float | complex:
        scores = _check_scores(self, scores, ndim=2)
        N, C = scores.shape
        self.y = _class_labels(self, y, N, C)
        # Subtracting each row's maximum changes nothing mathematically but keeps exp()
        # from overflowing: the largest exponent becomes 0 and the sum is at least 1.
        shifted = scores - scores.real.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1)
        exp /= total[:, None]  # exp is ours: normalize it in place into the probabilities
        self.probs = exp
        return (np.log(total).sum() - shifted[np.arange(N), self.y].sum()) / N

    def sample_losses(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        """scores: (N, C), y: (N,) -> (N,), -log softmax(scores_i)[y_i] of each sample."""
        scores = _check_scores(self, scores, ndim=2)
        y = _class_labels(self, y, *scores.shape)
        # -log softmax(scores_i)[y_i] = log sum_j exp(scores_ij) - scores_i,y_i
        return _logsumexp(scores) - scores[np.arange(len(scores)), y]

    def backward(self) -> np.ndarray:
        probs = self._cached("probs")
        N = probs.shape[0]
        dscores = probs / N
        dscores[np.arange(N), self.y] -= 1 / N
        return dscores

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return np.argmax(np.real(scores), axis=1)

    def width_problem(self, width: int) -> str | None:
        return _classes_problem(width)


def _classes_problem(width):
    """What a classification loss needs of its scores' width: None, or the problem in words."""
    if width < 2:
        return "needs at least 2, one per class; use SigmoidCrossEntropy for one output"
    return None


class SVMLoss(Loss):
    """The multiclass SVM (hinge) loss: L = mean_i sum_{j != y_i} max(0, s_ij - s_iy_i + delta).

    scores: (N, C); y: (N,) integer labels in 0..C-1; delta: the margin wanted, > 0
    backward() -> dscores: (N, C). Each positive margin adds 1 / N at its class j and
    takes 1 / N from the correct class y_i: dscores[i, j] = [margin_ij > 0] / N for
    j != y_i, and dscores[i, y_i] = -(number of positive margins of sample i) / N.

    A margin of exactly 0 is a kink (the max switches from 0 to the line); there we
    take the derivative 0, and kink_state() says which margins are positive, so the
    checker sees a step that moves one across 0.
    """

    has_kinks = True

    def __init__(self, delta: float = 1.0) -> None:
        self.delta = real(delta, "delta", "SVMLoss", low=0, low_open=True,
                          meaning="the margin wanted")
        self.positive: np.ndarray | None = None
        self.y: np.ndarray | None = None
        self.dtype: np.dtype | None = None

    def forward(self, scores: np.ndarray, y: np.ndarray) -> float | complex:
        margins, self.y = self._margins(scores, y)
        self.positive = margins.real > 0
        self.dtype = margins.real.dtype  # float32 scores get float32 dscores
        return (margins * self.positive).sum() / len(margins)  # max(0, m), complex-safe

    def sample_losses(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        """scores: (N, C), y: (N,) -> (N,), each sample's sum of positive margins."""
        margins, _ = self._margins(scores, y)
        return (margins * (margins.real > 0)).sum(axis=1)

    def _margins(self, scores, y):
        """(margins (N, C) with 0 at the correct class, labels): s_ij - s_iy_i + delta."""
        scores = _check_scores(self, scores, ndim=2)
        N, C = scores.shape
        y = _class_labels(self, y, N, C)
        rows = np.arange(N)
        margins = scores - scores[rows, y][:, None] + self.delta
        margins[rows, y] = 0  # the sum leaves out j = y_i
        return margins, y

    def backward(self) -> np.ndarray:
        positive = self._cached("positive")
        N = len(positive)
        dscores = positive.astype(self.dtype)
        dscores[np.arange(N), self.y] = -positive.sum(axis=1)
        return dscores / N

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return np.argmax(np.real(scores), axis=1)

    def kink_state(self) -> np.ndarray | None:
        return self.positive

    def width_problem(self, width: int) -> str | None:
        return _classes_problem(width)

    def config(self) -> dict:
        return {"delta": self.delta}


def _logsumexp(scores):
    """log(sum(exp(scores))) over the last axis, computed stably: (..., C) -> (...)."""
    # Taking out the maximum changes nothing mathematically but keeps exp() from
    # overflowing: the largest exponent becomes 0.
    top = scores.real.max(axis=-1)
    exp = np.exp(scores - top[..., None])
    # einsum adds up short rows several times faster than .sum(axis=-1) does.
    return top + np.log(np.einsum("...c->...", exp))


class TemporalSoftmaxLoss(Loss):
    """Softmax cross-entropy at every time step, summed over the steps, averaged over the batch.

    scores: (N, T, C) logits; y: (N, T) integer labels in 0..C-1
    L = (1/N) sum_n sum_t -log softmax(scores[n, t])[y[n, t]]
    backward() -> dscores: (N, T, C), equal to (softmax(scores) - onehot(y)) / N
    """

    def __init__(self) -> None:
        self.probs: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def forward(self, scores: np.ndarray, y: np.ndarray) -> float | complex:
        scores = _check_scores(self, scores, ndim=3)
        N, T, C = scores.shape
        y = np.asarray(y)
        if y.shape != (N, T):
            raise ValueError(f"TemporalSoftmaxLoss: expected labels of shape {(N, T)}, one per "
                             f"sample and step, got {y.shape}")
        self.y = _class_labels(self, y.reshape(-1), N * T, C).reshape(N, T)
        log_probs = scores - _logsumexp(scores)[..., None]
        self.probs = np.exp(log_probs)
        picked = np.take_along_axis(log_probs, self.y[..., None], axis=-1)
        return -picked.sum() / N

    def sample_losses(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The loss of each sequence: its sum over the steps."""
        scores = _check_scores(self, scores, ndim=3)
        N, T, C = scores.shape
        y = _class_labels(self, np.asarray(y).reshape(-1), N * T, C).reshape(N, T)
        picked = np.take_along_axis(scores, y[..., None], axis=-1)[..., 0]
        return (_logsumexp(scores) - picked).sum(axis=1)

    def backward(self) -> np.ndarray:
        probs, y = self._cached("probs"), self._cached("y")
        dscores = probs.copy()
        np.put_along_axis(dscores, y[..., None],
                          np.take_along_axis(probs, y[..., None], axis=-1) - 1, axis=-1)
        return dscores / probs.shape[0]

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return np.argmax(np.real(scores), axis=-1)


class SigmoidCrossEntropy(Loss):
    """Logistic cost for two classes: L = -mean( y log a + (1 - y) log(1 - a) ), a = sigmoid(z).

    z: (N,) or (N, 1) logits; y: N labels in [0, 1] (usually 0 or 1)
    backward() -> dz: shaped like z, equal to (a - y) / N

    Written with log(1 + e^z) = softplus(z), the cost per sample is
    softplus(z) - y z, which never takes the log of 0 and never overflows.
    """

    def __init__(self) -> None:
        self.z: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def forward(self, z: np.ndarray, y: np.ndarray) -> float | complex:
        self.z, self.y = self._checked(z, y)
        return (_softplus(self.z) - self.y * self.z).mean()

    def sample_losses(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """z: (N,) or (N, 1), y: N labels -> (N,), softplus(z) - y z of each sample."""
        z, y = self._checked(z, y)
        return (_softplus(z) - y * z).reshape(z.shape[0])

    def _checked(self, z, y):
        """z as an array of logits, y as labels shaped like z, or a clear error."""
        z = _check_scores(self, z, ndim=None)
        if not (z.ndim == 1 or (z.ndim == 2 and z.shape[1] == 1)):
            raise ValueError(f"SigmoidCrossEntropy: expected logits of shape (N,) or (N, 1), "
                             f"got {z.shape}")
        y = _numeric_targets(self, y, z.shape[0])
        if y.size != z.shape[0]:
            raise ValueError(f"SigmoidCrossEntropy: expected {z.shape[0]} labels, one per "
                             f"sample, got an array of shape {y.shape}")
        y = y.reshape(z.shape)
        if np.any((y < 0) | (y > 1)):
            raise ValueError("SigmoidCrossEntropy: labels must lie in [0, 1] (usually 0 or 1), "
                             f"got values from {y.min()} to {y.max()}")
        return z, y

    def backward(self) -> np.ndarray:
        z, y = self._cached("z"), self._cached("y")
        return (sigmoid(z) - y) / z.shape[0]

    def predict(self, z: np.ndarray) -> np.ndarray:
        return (np.real(z) > 0).astype(np.int64).reshape(z.shape[0])

    def width_problem(self, width: int) -> str | None:
        if width != 1:
            return f"needs 1; use SoftmaxLoss for {width} classes"
        return None


def _softplus(z):
    """log(1 + e^z) for real or complex z: z + log(1 + e^-z) when z >= 0, else log(1 + e^z)."""
    positive = z.real >= 0
    return np.where(positive, z, 0) + np.log1p(np.exp(np.where(positive, -z, z)))


class MSELoss(Loss):
    """Mean squared error over every element: L = mean( (scores - y)**2 ).

    scores: (N, K) or (N,); y: the same shape (a (N,) y is accepted for (N, 1) scores)
    backward() -> dscores: shaped like scores, equal to 2 (scores - y) / scores.size

    regression = True: its predictions are values, not classes, so fit reports R²
    rather than an accuracy (every other loss here is a classifier's).
    """

    regression = True

    def __init__(self) -> None:
        self.diff: np.ndarray | None = None

    def forward(self, scores: np.ndarray, y: np.ndarray) -> float | complex:
        self.diff = self._difference(scores, y)
        return (self.diff**2).mean()

    def sample_losses(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        """scores, y: (N, ...) -> (N,), each sample's mean squared error."""
        diff = self._difference(scores, y)
        return (diff**2).reshape(diff.shape[0], -1).mean(axis=1)

    def _difference(self, scores, y):
        scores = _check_scores(self, scores, ndim=None)
        y = _numeric_targets(self, y, scores.shape[0])
        if y.size != scores.size:
            raise ValueError(f"MSELoss: expected targets of shape {scores.shape}, got {y.shape}")
        return scores - y.reshape(scores.shape)

    def backward(self) -> np.ndarray:
        diff = self._cached("diff")
        return 2 * diff / diff.size

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return scores


def _check_scores(loss, scores, ndim):
    scores = np.asarray(scores)
    name = type(loss).__name__
    if scores.dtype.kind not in "biufc":
        raise ValueError(f"{name}: scores must be an array of numbers, got dtype {scores.dtype}")
    if not np.all(np.isfinite(scores)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(scores))[0])
        raise ValueError(f"{name}: the scores contain NaN or Inf (first at index {bad}); the "
                         "layers before the loss overflowed, or their input had NaN or Inf")
    if ndim is not None and scores.ndim != ndim:
        expected = "(N, C)" if ndim == 2 else "(N, T, C)"
        raise ValueError(f"{name}: expected scores of shape {expected}, got {scores.shape}")
    if scores.ndim == 0 or scores.shape[0] == 0:
        raise ValueError(f"{name}: the batch is empty (scores of shape {scores.shape}); "
                         "pass at least one sample")
    return scores


def _numeric_targets(loss, y, N):
    y = np.asarray(y)
    name = type(loss).__name__
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{name}: targets must be numbers, got an array of dtype {y.dtype}")
    if y.shape[0:1] != (N,):
        raise ValueError(f"{name}: expected {N} targets (one per row of scores), "
                         f"got an array of shape {y.shape}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name}: targets contain NaN or Inf")
    return y


def _class_labels(loss, y, N, C):
    """Check that y holds N whole-number labels in 0..C-1 and return them as int64."""
    y = _numeric_targets(loss, y, N)
    name = type(loss).__name__
    if y.ndim != 1:
        raise ValueError(f"{name}: expected labels of shape ({N},), got {y.shape}; "
                         "pass class indices, not one-hot rows")
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        raise ValueError(f"{name}: labels must be whole numbers (class indices), "
                         f"got fractional values such as {y[y != np.round(y)][0]}")
    if y.min() < 0 or y.max() >= C:
        bad = y[(y < 0) | (y >= C)][0]
        raise ValueError(f"{name}: labels must be class indices in 0..{C - 1} "
                         f"(the scores have {C} columns), got {bad}")
    return y.astype(np.int64, copy=False)
