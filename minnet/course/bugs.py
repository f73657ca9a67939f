"""A catalogue of real backprop mistakes, to inject into a Net on purpose.

Each bug is a backward pass written the way students get it wrong, next to the
layer it belongs to. Inject one into a built Net and let the gradient checker find it:

    with minnet.bugs.inject(net, "affine-dW-doubled", layer=2):
        print(minnet.check_net(net, X, y))      # names W2, the broken tensor
    # here net.layers[2] has its correct backward again

`catalogue()` lists every bug; `buggy_class(name)` is the layer (or loss) class with
that bug built in, as a student's file would define it.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from types import MethodType
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import layers, losses, registry
from ..contract import Layer, Loss

if TYPE_CHECKING:
    from ..net import Net


def _always(layer: Layer) -> bool:
    """A Bug's default `fits`: the mistake can be made in every layer of its class."""
    return True


@dataclass(frozen=True)
class Bug:
    """One catalogued mistake.

    name: short id; description: the mistake in plain words; target: the registered
    name of the class it lives in ("Affine", ..., "SoftmaxLoss", ..., see
    minnet.registry), or "Net" for the regularization gradient; code: the wrong
    method. For a layer it replaces backward(layer, dout); for a loss, backward(loss);
    for "Net", reg_gradient(net, layer, key).
    pattern: the checker's diagnosis the bug leaves on the tensors it corrupts (see
    minnet.checker.diagnosis), where the mistake implies one; None otherwise.
    fits: fits(layer) -> whether the mistake can be made in this layer of the target
    class (a transposed dW only has W's shape when W is square); default: in every one.
    forward: None, or a forward that replaces the layer's own too, for a wrong
    backward that needs what the right forward does not keep (MaxPool2D's input, to
    find its ties). It returns the layer's own output: the bug stays in backward.
    """
    name: str
    description: str
    target: str
    code: Callable
    pattern: str | None = None
    fits: Callable[[Layer], bool] = _always
    forward: Callable | None = None


def _square(layer):
    return layer.in_features == layer.out_features


# -- Affine: out = x @ W + b; right: dW = x.T @ dout, db = dout summed over the batch,
#    dx = dout @ W.T ---------------------------------------------------------------------

def _affine(layer, dout, dW=None, db=None, dx=None):
    """Affine's backward with the given results in place of the correct ones."""
    right_dW = layer.x.T @ dout
    layer.grads = {"W": right_dW if dW is None else dW(right_dW),
                   "b": dout.sum(axis=0) if db is None else db}
    dx = dout @ layer.params["W"].T if dx is None else dx
    return dx.reshape(layer.x_shape)


def _one_coordinate(dW):
    dW = dW.copy()
    dW.flat[0] += 1e-3 * np.abs(dW).max() + 1e-12
    return dW


AFFINE_BUGS = [
    Bug("affine-dW-doubled", "dW is twice what it should be (the classic dW2 * 2)", "Affine",
        lambda layer, dout: _affine(layer, dout, dW=lambda dW: 2 * dW), pattern="scale"),
    Bug("affine-db-times-4", "db is 4 times what it should be (the classic db1 * 4)", "Affine",
        lambda layer, dout: _affine(layer, dout, db=4 * dout.sum(axis=0)), pattern="scale"),
    Bug("affine-db-one-sample", "db is taken from the first sample instead of summed over "
        "the batch", "Affine", lambda layer, dout: _affine(layer, dout, db=dout[0].copy())),
    Bug("affine-dW-divided-by-N", "dW is divided by the batch size again, though the loss "
        "already averaged", "Affine",
        lambda layer, dout: _affine(layer, dout, dW=lambda dW: dW / dout.shape[0]),
        pattern="scale"),
    Bug("affine-dW-transposed", "dW is computed as dout.T @ x, the transpose of the right "
        "answer; the shapes only fit when W is square", "Affine",
        lambda layer, dout: _affine(layer, dout, dW=lambda dW: dout.T @ layer.x),
        pattern="transpose", fits=_square),
    Bug("affine-dx-missing-transpose", "dx is dout @ W instead of dout @ W.T; the shapes "
        "only fit when W is square", "Affine",
        lambda layer, dout: _affine(layer, dout, dx=dout @ layer.params["W"]), fits=_square),
    Bug("affine-dx-sign-flip", "dx has the wrong sign", "Affine",
        lambda layer, dout: _affine(layer, dout, dx=-(dout @ layer.params["W"].T)), pattern="sign"),
    Bug("affine-dW-off-by-0.1%", "dW is 0.1% too large, everywhere", "Affine",
        lambda layer, dout: _affine(layer, dout, dW=lambda dW: 1.001 * dW), pattern="scale"),
    Bug("affine-dW-one-coordinate", "a single entry of dW is off, by 0.1% of dW's largest "
        "entry", "Affine", lambda layer, dout: _affine(layer, dout, dW=_one_coordinate),
        pattern="sparse"),
]

# -- ReLU: right: dx = dout where x > 0, 0 elsewhere -------------------------------------

RELU_BUGS = [
    Bug("relu-mask-inverted", "the mask is inverted: gradient flows where x <= 0", "ReLU",
        lambda layer, dout: dout * ~layer.mask),
    Bug("relu-mask-from-dout", "the mask is taken from dout > 0 instead of x > 0", "ReLU",
        lambda layer, dout: dout * (dout > 0)),
    Bug("relu-no-mask", "the mask is forgotten: dout passes through unchanged", "ReLU",
        lambda layer, dout: dout.copy()),
]

# -- Sigmoid (s = out) and Tanh (t = out): right: dx = dout * s * (1 - s), dout * (1 - t**2)

SMOOTH_BUGS = [
    Bug("sigmoid-derivative-s", "sigmoid's derivative written as s instead of s * (1 - s)",
        "Sigmoid", lambda layer, dout: dout * layer.out),
    Bug("sigmoid-derivative-one-minus-s", "sigmoid's derivative written as 1 - s", "Sigmoid",
        lambda layer, dout: dout * (1 - layer.out)),
    Bug("tanh-derivative-one-minus-t", "tanh's derivative written as 1 - t instead of "
        "1 - t**2", "Tanh", lambda layer, dout: dout * (1 - layer.out)),
    Bug("tanh-no-derivative", "the derivative is forgotten: dout passes through unchanged",
        "Tanh", lambda layer, dout: dout.copy()),
]

# -- Dropout: right: dx = dout * mask, the very mask forward used (scaled by 1/keep_prob)


def _fresh_mask(layer, dout):
    keep = layer.rng.random(dout.shape) < layer.keep_prob  # not the mask forward used
    return dout * keep / layer.keep_prob


DROPOUT_BUGS = [
    Bug("dropout-no-mask", "the mask is forgotten in backward: dout passes through", "Dropout",
        lambda layer, dout: dout.copy()),
    Bug("dropout-no-scale", "the 1/keep_prob scale is forgotten in backward", "Dropout",
        lambda layer, dout: dout * (layer.mask > 0), pattern="scale"),
    Bug("dropout-fresh-mask", "backward draws a fresh mask instead of reusing forward's",
        "Dropout", _fresh_mask),
]

# -- RNN: right: dz = (dout[:, t] + dh_next) * (1 - h_t**2), dWh += h_{t-1}.T @ dz,
#    dh_next = dz @ Wh.T, from the last step back to the first; TimeAffine: as Affine,
#    with the steps folded into the batch ------------------------------------------------


def _rnn(layer, dout, through_time=True, previous=True):
    """RNN's backward, optionally without the path through time or with h_t for h_{t-1}."""
    x, h = layer.x, layer.h
    Wx, Wh = layer.params["Wx"], layer.params["Wh"]
    dx, dh_next = np.zeros(x.shape), np.zeros(h[:, 0].shape)
    grads = {key: np.zeros_like(value) for key, value in layer.params.items()}
    for t in reversed(range(x.shape[1])):
        dz = (dout[:, t] + dh_next) * (1 - h[:, t]**2)
        h_prev = h[:, t - 1] if t > 0 else np.zeros_like(dh_next)
        grads["Wx"] += x[:, t].T @ dz
        grads["Wh"] += (h_prev if previous else h[:, t]).T @ dz
        grads["b"] += dz.sum(axis=0)
        dx[:, t] = dz @ Wx.T
        dh_next = dz @ Wh.T if through_time else 0 * dh_next
    layer.grads = grads
    return dx


def _time_affine_db_last_step(layer, dout):
    dx = layers.TimeAffine.backward(layer, dout)
    layer.grads["b"] = dout[:, -1].sum(axis=0)
    return dx


def _time_affine_dW_mean_over_steps(layer, dout):
    dx = layers.TimeAffine.backward(layer, dout)
    layer.grads["W"] = layer.grads["W"] / dout.shape[1]
    return dx


RECURRENT_BUGS = [
    Bug("rnn-no-bptt", "the gradient is not carried back through time: h_t only gets "
        "dout[:, t], nothing from h_{t+1}", "RNN",
        lambda layer, dout: _rnn(layer, dout, through_time=False)),
    Bug("rnn-dWh-with-h_t", "dWh is summed from h_t.T @ dz instead of h_{t-1}.T @ dz", "RNN",
        lambda layer, dout: _rnn(layer, dout, previous=False)),
    Bug("time-affine-db-last-step", "db is summed over the batch at the last time step only",
        "TimeAffine", _time_affine_db_last_step),
    Bug("time-affine-dW-mean-over-steps", "dW is averaged over the time steps instead of "
        "summed, though every step uses the same W", "TimeAffine",
        _time_affine_dW_mean_over_steps, pattern="scale"),
    Bug("temporal-softmax-mean-over-steps", "the gradient is divided by N * T though the loss "
        "only averages over the N sequences", "TemporalSoftmaxLoss",
        lambda loss: losses.TemporalSoftmaxLoss.backward(loss) / loss.y.shape[1], pattern="scale"),
    Bug("temporal-softmax-no-minus-one", "the 1 is not subtracted at the true class of each "
        "step", "TemporalSoftmaxLoss", lambda loss: loss.probs / loss.probs.shape[0]),
]


# -- For the bugs below whose backward needs x, which the layer's own forward does not
#    keep: a student's forward keeps it ------------------------------------------------


def _keep_input(layer, x):
    """A student's forward that keeps its input x for backward (as the naive loops do):
    the output is the layer's own, so the bug stays in backward."""
    layer.x = np.asarray(x)
    return registry.lookup(type(layer).__name__).forward(layer, x)


# -- Conv2D, a cross-correlation (layers/conv.py): right:
#    dW[f, c, p, q] = sum over n, i, j of dout[n, f, i, j] * xpad[n, c, i s + p, j s + q],
#    db = dout summed over n, i and j, and dx: each output (i, j) sends dout * W back to
#    the pixels of its window, with W as it is (flipped only for a true convolution) ----


def _conv(layer, dout, flip=False, dW_stride=None, db_mean=False):
    """Conv2D's backward by the formulas above, from the x forward kept, with the chosen
    mistakes: the kernel flipped in dx, dW's windows taken dW_stride apart, db a mean
    over the output positions."""
    N, C, H, W = layer.x.shape
    (HH, WW), s, p = layer.kernel_size, layer.stride, layer.pad
    Ho, Wo = dout.shape[2:]
    xpad = np.pad(layer.x, ((0, 0), (0, 0), (p, p), (p, p)))
    step = s if dW_stride is None else dW_stride
    windows = sliding_window_view(xpad, (HH, WW), axis=(2, 3))[:, :, ::step, ::step]
    dW = np.einsum("nfij,ncijpq->fcpq", dout, windows[:, :, :Ho, :Wo])
    db = dout.mean(axis=(2, 3)).sum(axis=0) if db_mean else dout.sum(axis=(0, 2, 3))
    layer.grads = {"W": dW, "b": db}
    kernel = layer.params["W"][:, :, ::-1, ::-1] if flip else layer.params["W"]
    dxpad = np.zeros(xpad.shape)
    for u in range(HH):  # kernel entry (u, v) of window (i, j) met pixel (i s + u, j s + v)
        for v in range(WW):
            dxpad[:, :, u:u + s * Ho:s, v:v + s * Wo:s] += np.einsum("nfij,fc->ncij", dout,
                                                                     kernel[:, :, u, v])
    return dxpad[:, :, p:p + H, p:p + W]


def _bigger_kernel(layer):
    return layer.kernel_size != (1, 1)  # a 1 x 1 kernel flipped is the same kernel


def _strided(layer):
    return layer.stride > 1


CONV_BUGS = [
    Bug("conv-dx-flipped-kernel", "dx uses the kernel flipped by 180 degrees, as for a true "
        "convolution, though forward is a cross-correlation", "Conv2D",
        lambda layer, dout: _conv(layer, dout, flip=True), fits=_bigger_kernel,
        forward=_keep_input),
    Bug("conv-dW-ignores-stride", "dW takes its windows of x one pixel apart, as if the "
        "stride were 1 (i + p where i * stride + p belongs)", "Conv2D",
        lambda layer, dout: _conv(layer, dout, dW_stride=1), fits=_strided,
        forward=_keep_input),
    Bug("conv-db-averaged", "db is averaged over the output positions instead of summed",
        "Conv2D", lambda layer, dout: _conv(layer, dout, db_mean=True), pattern="scale",
        forward=_keep_input),
]

# -- MaxPool2D: right: dout[n, c, i, j] goes to the first maximum of window (i, j) alone,
#    the winner forward picked (kink_state(): its row-major index p k + q in the window)


def _pool_dx(layer, dout, share):
    """dx when window (i, j) sends dout[..., i, j] * share[..., i, j, p, q] to its entry
    (p, q); share: (N, C, H', W', k, k). Where windows overlap, the shares add up."""
    k, s = layer.size, layer.stride
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(layer.x_shape)
    for p in range(k):
        for q in range(k):
            dx[:, :, p:p + s * Ho:s, q:q + s * Wo:s] += dout * share[..., p, q]
    return dx


def _every_maximum(layer, dout):
    k, s = layer.size, layer.stride
    windows = sliding_window_view(layer.x.real, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    winners = windows == windows.max(axis=(4, 5), keepdims=True)  # at a tie, several
    return _pool_dx(layer, dout, winners)


def _row_and_column_swapped(layer, dout):
    k, first = layer.size, layer.kink_state()
    swapped = (first % k) * k + first // k  # (column, row) taken for (row, column)
    share = np.zeros(dout.shape + (k * k,))
    np.put_along_axis(share, swapped[..., None], 1.0, axis=-1)
    return _pool_dx(layer, dout, share.reshape(dout.shape + (k, k)))


def _bigger_window(layer):
    return layer.size > 1  # a 1 x 1 window has one input: no mistake can show


POOL_BUGS = [
    Bug("maxpool-every-tie", "at a tie dout goes to every maximum of the window, not only "
        "to the first one", "MaxPool2D", _every_maximum, fits=_bigger_window,
        forward=_keep_input),
    Bug("maxpool-average", "dout is spread evenly over the window, as in average pooling, "
        "instead of going to its maximum", "MaxPool2D",
        lambda layer, dout: _pool_dx(layer, dout, np.full(dout.shape + (layer.size,) * 2,
                                                          1 / layer.size**2)),
        fits=_bigger_window),
    Bug("maxpool-row-column-swapped", "the maximum's row and column in its window are "
        "swapped (argmax % k taken as the row)", "MaxPool2D", _row_and_column_swapped,
        fits=_bigger_window),
]

# -- BatchNorm and LayerNorm (layers/norm.py): right, with g = dout * gamma and the means
#    over the values of each statistic: dx = (g - mean(g) - xhat * mean(g * xhat)) / std,
#    dgamma = dout * xhat summed, dbeta = dout summed; the two means are what the mean
#    and the variance pass back -----------------------------------------------------------


def _normalized_dx(dout, gamma, xhat, inv_std, axes, mean=True, variance=True):
    """dx of gamma * xhat + beta, optionally without the mean's or the variance's term."""
    g = dout * gamma
    dx = g
    if mean:
        dx = dx - g.mean(axis=axes, keepdims=True)
    if variance:
        dx = dx - xhat * (g * xhat).mean(axis=axes, keepdims=True)
    return dx * inv_std


def _batchnorm(layer, dout, mean=True, variance=True, dgamma=None):
    """BatchNorm's backward (training mode), with the chosen mistakes."""
    layers.BatchNorm.backward(layer, dout)  # the right dgamma and dbeta
    if dgamma is not None:
        layer.grads["gamma"] = dgamma
    gamma = layer.params["gamma"].reshape(layer.shape)
    return _normalized_dx(dout, gamma, layer.xhat, layer.inv_std, layer.axes, mean, variance)


def _layernorm(layer, dout, axes=-1, mean=True, variance=True, dgamma=None):
    """LayerNorm's backward, with the chosen mistakes."""
    layers.LayerNorm.backward(layer, dout)  # the right dgamma and dbeta
    if dgamma is not None:
        layer.grads["gamma"] = dgamma
    return _normalized_dx(dout, layer.params["gamma"], layer.xhat, layer.inv_std, axes, mean,
                          variance)


NORM_BUGS = [
    Bug("batchnorm-stats-constant", "dx treats the batch mean and variance as constants: "
        "dx = dout * gamma / std", "BatchNorm",
        lambda layer, dout: _batchnorm(layer, dout, mean=False, variance=False)),
    Bug("batchnorm-no-variance-path", "dx leaves out what the variance passes back: "
        "(g - mean(g)) / std", "BatchNorm",
        lambda layer, dout: _batchnorm(layer, dout, variance=False)),
    Bug("batchnorm-dgamma-without-xhat", "dgamma is dout summed, without the factor xhat "
        "(the same as dbeta)", "BatchNorm",
        lambda layer, dout: _batchnorm(layer, dout, dgamma=dout.sum(axis=layer.axes))),
    Bug("layernorm-stats-constant", "dx treats each sample's mean and variance as "
        "constants: dx = dout * gamma / std", "LayerNorm",
        lambda layer, dout: _layernorm(layer, dout, mean=False, variance=False)),
    Bug("layernorm-means-over-batch", "backward takes its means over the batch axis, as in "
        "BatchNorm, instead of over the features", "LayerNorm",
        lambda layer, dout: _layernorm(layer, dout, axes=0)),
    Bug("layernorm-dgamma-without-xhat", "dgamma is dout summed, without the factor xhat "
        "(the same as dbeta)", "LayerNorm",
        lambda layer, dout: _layernorm(
            layer, dout, dgamma=dout.reshape(-1, layer.features).sum(axis=0))),
]

# -- LSTM (layers/recurrent.py): right, from the last step back to the first:
#    dh = dout[:, t] + dh_next, dc = dc_next + dh * o * (1 - tanh(c_t)**2),
#    da = [dc g i(1-i), dc c_{t-1} f(1-f), dh tanh(c_t) o(1-o), dc i (1-g**2)],
#    dh_next = da @ Wh.T, dc_next = dc * f ---------------------------------------------


def _lstm(layer, dout, previous=True, cell_through_time=True, tanh_slope=True):
    """LSTM's backward, optionally with c_t for c_{t-1} in the forget gate's gradient,
    without the cell's path through time, or with 1 - c**2 for tanh'(c)."""
    x, (gates, c, h) = layer.x, layer.cache
    N, T, H = h.shape
    Wx, Wh = layer.params["Wx"], layer.params["Wh"]
    da = np.zeros(gates.shape)
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        i, f, o, g = np.split(gates[:, t], 4, axis=1)
        c_prev = c[:, t - 1] if t > 0 else np.zeros((N, H))
        tanh_c = np.tanh(c[:, t])
        dh = dout[:, t] + dh_next
        dc = dc_next + dh * o * ((1 - tanh_c**2) if tanh_slope else (1 - c[:, t]**2))
        da[:, t] = np.concatenate([dc * g * i * (1 - i),
                                   dc * (c_prev if previous else c[:, t]) * f * (1 - f),
                                   dh * tanh_c * o * (1 - o),
                                   dc * i * (1 - g**2)], axis=1)
        dh_next = da[:, t] @ Wh.T
        dc_next = dc * f if cell_through_time else np.zeros((N, H))
    h_prev = np.concatenate([np.zeros((N, 1, H)), h[:, :-1]], axis=1)
    da2 = da.reshape(N * T, 4 * H)
    layer.grads = {"Wx": x.reshape(N * T, -1).T @ da2, "Wh": h_prev.reshape(N * T, H).T @ da2,
                   "b": da2.sum(axis=0)}
    return da @ Wx.T


LSTM_BUGS = [
    Bug("lstm-forget-gate-with-c_t", "the forget gate's gradient uses c_t where c_{t-1} "
        "belongs (dc * c_t * f * (1 - f))", "LSTM",
        lambda layer, dout: _lstm(layer, dout, previous=False)),
    Bug("lstm-no-cell-bptt", "the cell's gradient is not carried back through time: "
        "dc_next = dc * f is dropped", "LSTM",
        lambda layer, dout: _lstm(layer, dout, cell_through_time=False)),
    Bug("lstm-tanh-slope-of-c", "tanh'(c_t) is written 1 - c_t**2 instead of "
        "1 - tanh(c_t)**2", "LSTM", lambda layer, dout: _lstm(layer, dout, tanh_slope=False)),
]

# -- Embedding: right: np.add.at(dW, x, dout), every occurrence of a token adds its dout
#    to the token's row; token ids have no gradient, backward returns None -------------


def _embedding_fancy_add(layer, dout):
    dW = np.zeros(layer.params["W"].shape)
    dW[layer.x] += dout  # buffered: a token seen k times keeps one of its k douts
    layer.grads = {"W": dW}
    return None


def _embedding_mean_per_token(layer, dout):
    layers.Embedding.backward(layer, dout)
    counts = np.bincount(layer.x.ravel(), minlength=layer.vocab_size)
    layer.grads["W"] = layer.grads["W"] / np.maximum(counts, 1)[:, None]
    return None


def _embedding_divided_by_N(layer, dout):
    layers.Embedding.backward(layer, dout)
    layer.grads["W"] = layer.grads["W"] / len(layer.x)
    return None


EMBEDDING_BUGS = [
    Bug("embedding-fancy-index-add", "dW[x] += dout adds once per distinct token: a repeated "
        "token keeps one gradient, not their sum", "Embedding", _embedding_fancy_add),
    Bug("embedding-mean-per-token", "a token seen k times gets the mean of its k gradients "
        "instead of their sum", "Embedding", _embedding_mean_per_token),
    Bug("embedding-dW-divided-by-N", "dW is divided by the batch size again, though the "
        "loss already averaged", "Embedding", _embedding_divided_by_N, pattern="scale"),
]

# -- Losses: right: SoftmaxLoss (probs - onehot(y)) / N; SigmoidCrossEntropy (a - y) / N;
#    MSELoss 2 (scores - y) / size -------------------------------------------------------


def _onehot(loss, shift=0):
    N, C = loss.probs.shape
    onehot = np.zeros((N, C))
    onehot[np.arange(N), (loss.y + shift) % C] = 1
    return onehot


LOSS_BUGS = [
    Bug("softmax-no-minus-one", "the 1 is not subtracted at the true class", "SoftmaxLoss",
        lambda loss: loss.probs / loss.probs.shape[0]),
    Bug("softmax-wrong-class", "the 1 is subtracted at the wrong class (the next one)",
        "SoftmaxLoss", lambda loss: (loss.probs - _onehot(loss, shift=1)) / loss.probs.shape[0]),
    Bug("softmax-missing-1/N", "the gradient is not divided by the batch size N",
        "SoftmaxLoss", lambda loss: loss.probs - _onehot(loss), pattern="scale"),
    Bug("sigmoid-ce-sign-flip", "the gradient is (y - a) / N instead of (a - y) / N",
        "SigmoidCrossEntropy", lambda loss: (loss.y - layers.sigmoid(loss.z)) / loss.z.shape[0],
        pattern="sign"),
    Bug("sigmoid-ce-missing-1/N", "the gradient is not divided by the batch size N",
        "SigmoidCrossEntropy", lambda loss: layers.sigmoid(loss.z) - loss.y, pattern="scale"),
    Bug("mse-missing-factor-2", "the 2 from the square's derivative is missing", "MSELoss",
        lambda loss: loss.diff / loss.diff.size, pattern="scale"),
    Bug("mse-missing-1/N", "the gradient is not divided by the number of entries", "MSELoss",
        lambda loss: 2 * loss.diff, pattern="scale"),
]

# -- SVMLoss: right: dscores[i, j] = [margin_ij > 0] / N for j != y_i, and
#    dscores[i, y_i] = -(number of positive margins of sample i) / N ---------------------


def _svm_counts_itself(loss):
    # margins[i, y_i] was never set to 0: it is delta > 0, so it counts as positive
    positive = loss.positive.copy()
    rows = np.arange(len(positive))
    positive[rows, loss.y] = True
    dscores = positive.astype(np.float64)
    dscores[rows, loss.y] = -positive.sum(axis=1)
    return dscores / len(positive)


def _svm_plus_at_correct_class(loss):
    dscores = losses.SVMLoss.backward(loss)
    rows = np.arange(len(dscores))
    dscores[rows, loss.y] = -dscores[rows, loss.y]
    return dscores


SVM_BUGS = [
    Bug("svm-counts-correct-class", "the correct class's own margin (delta) is counted "
        "among the positive margins", "SVMLoss", _svm_counts_itself),
    Bug("svm-missing-1/N", "the gradient is not divided by the batch size N", "SVMLoss",
        lambda loss: losses.SVMLoss.backward(loss) * len(loss.y), pattern="scale"),
    Bug("svm-plus-at-correct-class", "the correct class gets +(number of positive margins) "
        "/ N instead of minus", "SVMLoss", _svm_plus_at_correct_class),
]

# -- Net: the gradient of 0.5 * reg * sum(W**2) is reg * W for weights, 0 for biases ----

NET_BUGS = [
    Bug("reg-gradient-missing", "the regularization gradient reg * W is left out", "Net",
        lambda net, layer, key: 0.0, pattern="reg-missing"),
    Bug("reg-gradient-doubled", "the regularization gradient is 2 * reg * W (the 0.5 in the "
        "loss forgotten)", "Net",
        lambda net, layer, key: 2 * net.reg * layer.params[key] if key in layer.weights else 0.0,
        pattern="reg-extra"),
    Bug("reg-gradient-on-biases", "the regularization gradient reg * b is added to the "
        "biases too", "Net", lambda net, layer, key: net.reg * layer.params[key],
        pattern="reg-extra"),
]

BUGS = {bug.name: bug for bug in AFFINE_BUGS + RELU_BUGS + SMOOTH_BUGS + DROPOUT_BUGS
        + RECURRENT_BUGS + CONV_BUGS + POOL_BUGS + NORM_BUGS + LSTM_BUGS + EMBEDDING_BUGS
        + LOSS_BUGS + SVM_BUGS + NET_BUGS}


def catalogue() -> list[Bug]:
    """Every bug, in catalogue order: a list of Bug."""
    return list(BUGS.values())


def get(name: str) -> Bug:
    """The Bug called `name`, or an error that lists the names there are."""
    if name not in BUGS:
        raise ValueError(f"no bug named {name!r}; the catalogue has: {', '.join(BUGS)}")
    return BUGS[name]


def applicable_layers(net: Net, name: str) -> list[int]:
    """The indices i of net.layers where the bug can be injected (empty for loss and Net bugs)."""
    bug = get(name)
    return [i for i, layer in enumerate(net.layers)
            if type(layer).__name__ == bug.target and bug.fits(layer)]


def sites(net: Net, name: str) -> list[int | None]:
    """Where bug `name` can go in net: the layer indices it fits, [None] for a bug in the
    net's own loss class or in the regularization gradient of a regularized net, [] if
    nowhere."""
    bug = get(name)
    if bug.target == "Net":
        return [None] if net.reg else []
    if registry.is_loss(bug.target):
        return [None] if type(net.loss_fn).__name__ == bug.target else []
    return applicable_layers(net, name)


@contextmanager
def inject(net: Net, name: str, layer: int | None = None) -> Iterator[Layer | Loss | Net]:
    """Inject bug `name` into net for the duration of the with-block.

    layer: the index in net.layers of the layer to break (as in net.layers[2]); by
        default the first layer the bug applies to. Ignored for loss and Net bugs,
        which break net.loss_fn and the net's regularization gradient.
    The correct backward (and forward) is back when the block ends, however it ends.
    """
    bug = get(name)
    owner: Layer | Loss | Net
    if bug.target == "Net":
        owner, methods = net, {"reg_gradient": bug.code}
    elif registry.is_loss(bug.target):
        if type(net.loss_fn).__name__ != bug.target:
            raise ValueError(f"bug {name!r} breaks a {bug.target}, but this net's loss is "
                             f"{net.loss_fn!r}")
        owner, methods = net.loss_fn, {"backward": bug.code}
    else:
        owner, methods = net.layers[_layer_index(net, bug, layer)], {"backward": bug.code}
        if bug.forward is not None:
            methods["forward"] = bug.forward
    own = {method: vars(owner)[method] for method in methods if method in vars(owner)}
    for method, code in methods.items():
        setattr(owner, method, MethodType(code, owner))
    try:
        yield owner
    finally:
        for method in methods:
            if method in own:
                setattr(owner, method, own[method])
            else:
                delattr(owner, method)


def _layer_index(net, bug, layer):
    candidates = applicable_layers(net, bug.name)
    if layer is None:
        if not candidates:
            raise ValueError(f"bug {bug.name!r} breaks a {bug.target} layer, and this net has "
                             f"none it fits: {[type(lay).__name__ for lay in net.layers]}")
        return candidates[0]
    if layer not in candidates:
        found = (f"net.layers[{layer}] is {net.layers[layer]!r}"
                 if isinstance(layer, int) and -len(net.layers) <= layer < len(net.layers)
                 else f"the net has no layer {layer!r}")
        raise ValueError(f"bug {bug.name!r} breaks a {bug.target} layer, but {found}; the "
                         f"layers it fits are {candidates}")
    return layer


def buggy_class(name: str) -> type:
    """The target class of bug `name` with the bug built into its backward.

    For example buggy_class("relu-mask-inverted") is a ReLU whose backward inverts
    the mask, as a student's file might define it. Not for Net bugs.
    """
    bug = get(name)
    if bug.target == "Net":
        raise ValueError(f"bug {name!r} is in the Net's regularization gradient, not in a "
                         "layer or loss class; use inject(net, name)")
    methods = {"backward": bug.code, "__doc__": bug.description}
    if bug.forward is not None:
        methods["forward"] = bug.forward
    return type(bug.target, (registry.lookup(bug.target),), methods)
