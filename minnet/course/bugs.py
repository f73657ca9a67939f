"""A catalogue of real backprop mistakes, to inject into a Net on purpose.

Each bug is a backward pass written the way students get it wrong, next to the
layer it belongs to. Inject one into a built Net and let the gradient checker find it:

    with minnet.bugs.inject(net, "affine-dW-doubled", layer=2):
        print(minnet.check_net(net, X, y))      # names W2, the broken tensor
    # here net.layers[2] has its correct backward again

`catalogue()` lists every bug; `buggy_class(name)` is the layer (or loss) class with
that bug built in, as a student's file would define it.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from types import MethodType

import numpy as np

from .. import layers, losses


@dataclass(frozen=True)
class Bug:
    """name: short id; description: the mistake in plain words; target: the class it
    lives in ("Affine", ..., "SoftmaxLoss", ..., or "Net" for the regularization
    gradient); code: the wrong method. For a layer it replaces backward(layer, dout);
    for a loss, backward(loss); for "Net", reg_gradient(net, layer, key).
    pattern: the checker's diagnosis the bug leaves on the tensors it corrupts (see
    minnet.checker.diagnosis), where the mistake implies one; None otherwise."""
    name: str
    description: str
    target: str
    code: object
    pattern: str = None


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
        pattern="transpose"),
    Bug("affine-dx-missing-transpose", "dx is dout @ W instead of dout @ W.T; the shapes "
        "only fit when W is square", "Affine",
        lambda layer, dout: _affine(layer, dout, dx=dout @ layer.params["W"])),
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


RECURRENT_BUGS = [
    Bug("rnn-no-bptt", "the gradient is not carried back through time: h_t only gets "
        "dout[:, t], nothing from h_{t+1}", "RNN",
        lambda layer, dout: _rnn(layer, dout, through_time=False)),
    Bug("rnn-dWh-with-h_t", "dWh is summed from h_t.T @ dz instead of h_{t-1}.T @ dz", "RNN",
        lambda layer, dout: _rnn(layer, dout, previous=False)),
    Bug("time-affine-db-last-step", "db is summed over the batch at the last time step only",
        "TimeAffine", _time_affine_db_last_step),
    Bug("temporal-softmax-mean-over-steps", "the gradient is divided by N * T though the loss "
        "only averages over the N sequences", "TemporalSoftmaxLoss",
        lambda loss: losses.TemporalSoftmaxLoss.backward(loss) / loss.y.shape[1], pattern="scale"),
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
        + RECURRENT_BUGS + LOSS_BUGS + NET_BUGS}
LOSS_TARGETS = ("SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss", "TemporalSoftmaxLoss")


def catalogue():
    """Every bug, in catalogue order: a list of Bug (name, description, target, code)."""
    return list(BUGS.values())


def get(name):
    """The Bug called `name`, or an error that lists the names there are."""
    if name not in BUGS:
        raise ValueError(f"no bug named {name!r}; the catalogue has: {', '.join(BUGS)}")
    return BUGS[name]


def applicable_layers(net, name):
    """The indices i of net.layers where the bug can be injected (empty for loss and Net bugs)."""
    bug = get(name)
    return [i for i, layer in enumerate(net.layers)
            if type(layer).__name__ == bug.target and _fits(bug, layer)]


def _fits(bug, layer):
    if bug.name in ("affine-dW-transposed", "affine-dx-missing-transpose"):
        return layer.in_features == layer.out_features
    return True


@contextmanager
def inject(net, name, layer=None):
    """Inject bug `name` into net for the duration of the with-block.

    layer: the index in net.layers of the layer to break (as in net.layers[2]); by
        default the first layer the bug applies to. Ignored for loss and Net bugs,
        which break net.loss_fn and the net's regularization gradient.
    The correct backward is back when the block ends, however it ends.
    """
    bug = get(name)
    if bug.target == "Net":
        owner, method = net, "reg_gradient"
    elif bug.target in LOSS_TARGETS:
        if type(net.loss_fn).__name__ != bug.target:
            raise ValueError(f"bug {name!r} breaks a {bug.target}, but this net's loss is "
                             f"{net.loss_fn!r}")
        owner, method = net.loss_fn, "backward"
    else:
        owner, method = net.layers[_layer_index(net, bug, layer)], "backward"
    had_own = method in vars(owner)
    saved = vars(owner).get(method)
    setattr(owner, method, MethodType(bug.code, owner))
    try:
        yield owner
    finally:
        if had_own:
            setattr(owner, method, saved)
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


def buggy_class(name):
    """The target class of bug `name` with the bug built into its backward.

    For example buggy_class("relu-mask-inverted") is a ReLU whose backward inverts
    the mask, as a student's file might define it. Not for Net bugs.
    """
    bug = get(name)
    if bug.target == "Net":
        raise ValueError(f"bug {name!r} is in the Net's regularization gradient, not in a "
                         "layer or loss class; use inject(net, name)")
    base = getattr(layers, bug.target, None) or getattr(losses, bug.target)
    return type(bug.target, (base,), {"backward": bug.code, "__doc__": bug.description})
