"""Net: a list of layers followed by a loss, with L2 regularization, save and load."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import registry
from .layers import Affine, Dropout, ReLU, Sigmoid, Tanh
from .losses import MSELoss, SigmoidCrossEntropy, SoftmaxLoss
from .validate import real

if TYPE_CHECKING:
    from .contract import Layer, Loss

ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
LOSSES = {"softmax": SoftmaxLoss, "sigmoid": SigmoidCrossEntropy, "mse": MSELoss}
CHECKPOINT_FORMAT = "minnet-net-2"
FORMATS = ("minnet-net-1", CHECKPOINT_FORMAT)  # what Net.load reads
PREDICT_CHUNK = 512


class Net:
    """A feed-forward network: layers applied in order, then a loss.

    layers: list of layers (see minnet.layers.Layer for the contract)
    loss: a loss (see minnet.losses.Loss), kept as `net.loss_fn`
    reg: L2 regularization strength; the loss adds 0.5 * reg * sum(W**2) over
        every weight matrix (biases excluded, the usual course convention)
    dtype: float64 (default) or float32; parameters and buffers live in this dtype
        and the input X is cast to it on the way in (but for a first layer with
        integer_input, such as Embedding, which gets X's integers unchanged)

    net.params is an ordered dict over the parametric layers, named
    <short name><k> with k counting parametric layers from 1: W1, b1, W2, b2, ...
    Its values are the very arrays the layers hold.

    X: (N, D) one sample per row, or (N, ...) whatever the first layer takes:
    images (N, C, H, W), sequences (N, T, D), token ids (N, T); scores: (N, C) (or
    (N, T, C) for sequences); y: (N,) labels or targets (or (N, T)).
    """

    def __init__(self, layers: Iterable[Layer], loss: Loss, reg: float = 0.0,
                 dtype: DTypeLike = np.float64):
        self.layers = list(layers)
        self.loss_fn = loss
        self.reg = _check_reg(reg)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"Net: dtype must be float64 or float32, got {self.dtype}")
        _check_architecture(self.layers, loss)
        _check_distinct(self.layers)
        _check_names(self._slots(), self.layers)
        # Convert everything before changing anything: a refused Net leaves the layers as
        # they were.
        converted = [_converted(i, layer, self.dtype) for i, layer in enumerate(self.layers)]
        for layer, (params, buffers) in zip(self.layers, converted):
            layer.params.update(params)
            for name, value in buffers.items():
                setattr(layer, name, value)
            layer.needs_dx = True  # it may have been first in an earlier Net
        self.layers[0].needs_dx = False  # the input's gradient is of no use to anyone
        self.data_loss: float | complex | None = None
        self.reg_loss: float | complex | None = None

    @classmethod
    def mlp(cls, sizes: Sequence[int], activation: str = "relu",
            keep_prob: float | None = None, loss: str = "softmax", reg: float = 0.0,
            init: str | float | None = None, seed: int | np.random.Generator = 0,
            dtype: DTypeLike = np.float64) -> Net:
        """A multilayer perceptron: Affine, activation[, Dropout], ..., Affine, then the loss.

        sizes: [D, H1, ..., C], the input width, the hidden widths, the output width
        activation: "relu", "tanh" or "sigmoid"
        keep_prob: None for no dropout, else a Dropout(keep_prob) after every activation
        loss: "softmax", "sigmoid" (one output, two classes) or "mse"
        init: "he", "xavier" or a float std; default "he" for ReLU, "xavier" otherwise
        seed: int or Generator, for the initial weights and the dropout masks

        Net.mlp([64, 128, 10]) is Affine(64, 128), ReLU(), Affine(128, 10), SoftmaxLoss().
        """
        if activation not in ACTIVATIONS:
            raise ValueError(f"Net.mlp: activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {activation!r}")
        if loss not in LOSSES:
            raise ValueError(f"Net.mlp: loss must be one of {sorted(LOSSES)}, got {loss!r}")
        if len(sizes) < 2:
            raise ValueError(f"Net.mlp: sizes needs at least the input and output widths, "
                             f"got {sizes!r}")
        if init is None:
            init = "he" if activation == "relu" else "xavier"
        rng = np.random.default_rng(seed)
        layers: list[Layer] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Affine(fan_in, fan_out, init=init, rng=rng))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
                if keep_prob is not None:
                    layers.append(Dropout(keep_prob, rng=rng.spawn(1)[0]))
        return cls(layers, LOSSES[loss](), reg=reg, dtype=dtype)

    def __repr__(self):
        lines = [f"  {layer!r}," for layer in self.layers]
        return (f"Net([\n" + "\n".join(lines) + f"\n], {self.loss_fn!r}, reg={self.reg}, "
                f"dtype={self.dtype.name})")

    # -- parameters -------------------------------------------------------------

    def _slots(self):
        """(name, layer, key) for every parameter, in order: ("W1", layer, "W"), ..."""
        slots, k = [], 0
        for layer in self.layers:
            if layer.params:
                k += 1
                slots.extend((f"{key}{k}", layer, key) for key in layer.params)
        return slots

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Ordered dict name -> the layer's own array: W1, b1, W2, b2, ..."""
        return {name: layer.params[key] for name, layer, key in self._slots()}

    def weights(self) -> list[np.ndarray]:
        """The arrays L2 regularization applies to (each layer's `weights`)."""
        return [layer.params[key] for layer in self.layers for key in layer.weights]

    # -- modes ------------------------------------------------------------------

    def train(self) -> Net:
        """Training mode for every layer (Dropout drops units). Returns the net."""
        for layer in self.layers:
            layer.training = True
        return self

    def eval(self) -> Net:
        """Evaluation mode for every layer (Dropout is the identity). Returns the net."""
        for layer in self.layers:
            layer.training = False
        return self

    # -- forward and backward ---------------------------------------------------

    def forward(self, X: ArrayLike) -> np.ndarray:
        """X: (N, ...), what the first layer takes -> scores: what the last layer gives,
        (N, C), or (N, T, C) for sequences; through every layer in order."""
        out = self._input(X)
        for i, layer in enumerate(self.layers):
            try:
                out = layer.forward(out)
            except ValueError as err:
                raise ValueError(f"net.layers[{i}] = {layer!r}: {err}") from err
            except FloatingPointError as err:  # numpy's, under np.errstate(over="raise"), say
                raise FloatingPointError(f"net.layers[{i}] = {layer!r}: {err}") from err
        return out

    def loss(self, X: ArrayLike, y: ArrayLike) -> float | complex:
        """X: (N, ...), y: (N,) (or (N, T)) -> the total loss, data loss + 0.5 * reg * sum(W**2).

        Afterwards net.data_loss and net.reg_loss hold the two parts. (The loss is
        complex during a complex-step gradient check, whose parameters are complex.)
        """
        # A diverging net overflows inside some layer or in the loss. Here numpy raises at the
        # first overflow, even one whose result would end finite (a saturated tanh turns inf
        # into 1), and we turn that into one FloatingPointError that names where it happened
        # and says what to do. An invalid operation (inf - inf) leaves a NaN, which the
        # isfinite checks below catch; numpy's invalid flag is not trusted here, because a
        # BLAS matmul can set it on finite input (seen with OpenBLAS; numpy issue 24067).
        with np.errstate(over="raise", invalid="ignore"):
            try:
                scores = self.forward(X)  # its error names the layer
            except FloatingPointError as err:
                raise FloatingPointError(self._diverged_message(str(err))) from err
            if not isinstance(scores, np.ndarray) or scores.dtype.kind not in "fc":
                got = type(scores).__name__ + (f" of dtype {scores.dtype}"
                                               if hasattr(scores, "dtype") else "")
                raise ValueError(f"net.layers[{len(self.layers) - 1}] = {self.layers[-1]!r}: "
                                 f"forward must return an array of floats, got {got}")
            if not np.all(np.isfinite(scores)):  # X is finite (forward checked): the net made them
                raise FloatingPointError(self._diverged_message("the scores contain NaN or Inf"))
            try:
                # the Loss contract promises forward an ndarray y, even when given a list
                data_loss = self.loss_fn.forward(scores, np.asarray(y))
            except ValueError as err:
                raise ValueError(f"net.loss_fn = {self.loss_fn!r}: {err}") from err
            except FloatingPointError as err:
                raise FloatingPointError(
                    self._diverged_message(f"net.loss_fn = {self.loss_fn!r}: {err}")) from err
        reg_loss = 0.0
        if self.reg:
            with np.errstate(over="ignore"):  # huge weights: the isfinite check below says so
                reg_loss = 0.5 * self.reg * sum(W.ravel() @ W.ravel() for W in self.weights())
        self.data_loss, self.reg_loss = _scalar(data_loss), _scalar(reg_loss)
        total = self.data_loss + self.reg_loss
        if not np.isfinite(total):
            raise FloatingPointError(self._diverged_message(f"the loss is {total}"))
        return total

    def backward(self) -> dict[str, np.ndarray]:
        """Gradients of the last net.loss(X, y): dict keyed like net.params.

        Each gradient has the shape of its parameter and includes reg * W for
        the regularized weights.
        """
        if self.data_loss is None:
            raise RuntimeError("Net.backward: call net.loss(X, y) first, then net.backward()")
        dout = self.loss_fn.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for name, layer, key in self._slots():
            grad = layer.grads.get(key)
            if grad is None or np.shape(grad) != layer.params[key].shape:
                i = next(i for i, other in enumerate(self.layers) if other is layer)
                got = "nothing" if grad is None else f"an array of shape {np.shape(grad)}"
                raise ValueError(f"net.layers[{i}] = {layer!r}: backward stored {got} in "
                                 f"grads[{key!r}]; it must store the gradient of params[{key!r}]"
                                 f", of shape {layer.params[key].shape}")
            # without reg, hand over the layers' fresh arrays as they are
            grads[name] = grad + self.reg_gradient(layer, key) if self.reg else grad
        return grads

    def reg_gradient(self, layer: Layer, key: str) -> np.ndarray | float:
        """The gradient of 0.5 * reg * sum(W**2) with respect to layer.params[key].

        reg * W for the weights (layer.weights), 0 for everything else (biases).
        """
        return self.reg * layer.params[key] if key in layer.weights else 0.0

    def loss_and_grads(self, X: ArrayLike,
                       y: ArrayLike) -> tuple[float | complex, dict[str, np.ndarray]]:
        """X: (N, ...), y: (N,) (or (N, T)) -> (loss, grads): net.loss(X, y), then
        net.backward()."""
        return self.loss(X, y), self.backward()

    def predict(self, X: ArrayLike) -> np.ndarray:
        """X: (N, ...) -> predictions: class labels (N,) (or (N, T) for sequences), or the
        scores themselves for MSELoss.

        Runs in eval mode (no dropout, BatchNorm's running statistics) and then restores
        each layer's mode. When every layer then treats each sample on its own (minnet's
        all do), large X goes through in chunks of PREDICT_CHUNK samples: the same
        numbers, and the activations of a chunk stay in the CPU's cache.
        """
        with layer_modes(self.layers, training=False):
            X = np.asarray(X)
            if X.ndim and len(X) > PREDICT_CHUNK and all(
                    getattr(layer, "samplewise", False) is True for layer in self.layers):
                scores = np.concatenate([self.forward(X[start:start + PREDICT_CHUNK])
                                         for start in range(0, len(X), PREDICT_CHUNK)])
            else:
                scores = self.forward(X)
        return self.loss_fn.predict(scores)

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float:
        """Fraction of the predictions for X: (N, ...) that equal the labels y: (N,) (or (N, T))."""
        y = np.asarray(y)
        predictions = self.predict(X)
        if y.shape != predictions.shape:
            raise ValueError(f"Net.accuracy: expected {predictions.shape[0]} labels of shape "
                             f"{predictions.shape}, got {y.shape}")
        return float(np.mean(predictions == y))

    def _input(self, X):
        X = np.asarray(X)
        if X.dtype.kind not in "biufc":
            raise ValueError(f"Net: X must be an array of numbers, got dtype {X.dtype}")
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"Net: expected X of shape (N, D) with N >= 1, one sample per row, "
                             f"got {X.shape}" + ("; use X.reshape(1, -1) for one sample"
                                                 if X.ndim == 1 else ""))
        if not np.all(np.isfinite(X)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
            raise ValueError(f"Net: X contains NaN or Inf (first at index {bad}); "
                             "clean the data before training")
        if getattr(self.layers[0], "integer_input", False):  # token ids: the first layer checks them itself
            return X
        # Complex input passes through unchanged: the complex-step check needs it.
        return X if X.dtype.kind == "c" else X.astype(self.dtype, copy=False)

    def _diverged_message(self, what):
        bad = [name for name, value in self.params.items() if not np.all(np.isfinite(value))]
        where = (f"parameters {', '.join(bad)} contain NaN or Inf" if bad
                 else "the parameters are finite, so the arithmetic overflowed or made a NaN")
        return (f"Net.loss: {what} ({where}). During training this means it diverged: try a "
                "smaller learning rate; otherwise check the parameters you set by hand and "
                "each layer's forward")

    # -- save and load ------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture, the parameters and the buffers (BatchNorm's running
        statistics) to the .npz file `path` (no pickle).

        Every class must be in minnet's registry (minnet.register adds your own). The
        file is written beside the target and then renamed over it, so a crash during
        save never destroys an earlier checkpoint at `path`.
        """
        try:
            architecture = {
                "format": CHECKPOINT_FORMAT,
                "layers": [{"type": registry.name_of(layer), "config": layer.config()}
                           for layer in self.layers],
                "loss": {"type": registry.name_of(self.loss_fn), "config": self.loss_fn.config()},
                "reg": self.reg,
                "dtype": self.dtype.name,
            }
        except ValueError as err:
            raise ValueError(f"Net.save: {err}") from err
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".minnet-", suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, architecture=np.array(json.dumps(architecture)), **self.params,
                         **self._buffers())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    def _buffers(self):
        """name -> array for every layer's buffers: "buffer.3.running_mean" is
        net.layers[3].running_mean."""
        return {f"buffer.{i}.{name}": getattr(layer, name)
                for i, layer in enumerate(self.layers) for name in getattr(layer, "buffers", ())}

    @classmethod
    def load(cls, path: str | os.PathLike) -> Net:
        """Rebuild a Net written by Net.save(path)."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Net.load: no file at {path!r}")
        try:
            # Opening the file ourselves guarantees it is closed even when numpy fails.
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            architecture = json.loads(str(arrays.pop("architecture")))
            if architecture.get("format") not in FORMATS:
                raise ValueError(f"unknown format {architecture.get('format')!r}")
            layers = [registry.lookup(spec["type"])(**spec["config"])
                      for spec in architecture["layers"]]
            loss = architecture["loss"]
            if isinstance(loss, str):  # minnet-net-1 wrote the name alone
                loss = {"type": loss, "config": {}}
            net = cls(layers, registry.lookup(loss["type"])(**loss["config"]),
                      reg=architecture["reg"], dtype=architecture["dtype"])
        except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"Net.load: {path!r} is not a readable minnet checkpoint "
                             f"({type(err).__name__}: {err}); write one with net.save(path)"
                             ) from err
        expected = {name: value.shape for name, value in {**net.params, **net._buffers()}.items()}
        received = {name: value.shape for name, value in arrays.items()}
        if architecture["format"] == "minnet-net-1":  # no buffers then (no BatchNorm either)
            expected = {name: shape for name, shape in expected.items()
                        if not name.startswith("buffer.")}
        if expected != received:
            raise ValueError(f"Net.load: {path!r} holds arrays {received}, but its "
                             f"architecture needs {expected}; the file is damaged")
        for name, layer, key in net._slots():
            layer.params[key] = arrays[name].astype(net.dtype)
        for i, layer in enumerate(net.layers):
            for name in layer.buffers:
                setattr(layer, name, arrays[f"buffer.{i}.{name}"].astype(net.dtype))
        return net


@contextlib.contextmanager
def layer_modes(layers: Iterable[Layer], *, training: bool) -> Iterator[None]:
    """Inside the with block every layer is in training mode (training=True) or eval mode
    (training=False); afterwards each layer has its own mode back, even when the block
    raises: with layer_modes(net.layers, training=False): scores = net.forward(X)."""
    layers = list(layers)
    modes = [layer.training for layer in layers]
    for layer in layers:
        layer.training = training
    try:
        yield
    finally:
        for layer, mode in zip(layers, modes):
            layer.training = mode


def _scalar(value: float | complex) -> float | complex:
    """A numpy scalar as a Python float (or complex, during a complex-step check)."""
    return complex(value) if isinstance(value, (complex, np.complexfloating)) else float(value)


def _check_reg(reg):
    """reg as a float: a finite number >= 0 (a numpy scalar is fine)."""
    return real(reg, "reg", "Net", low=0,
                fix="reg is the L2 regularization strength, and 0 turns it off")


def _check_distinct(layers):
    """A layer keeps its last forward's input for backward, so one object in two places
    would hand the first place's input to the second's backward."""
    for j, layer in enumerate(layers):
        i = next(k for k, each in enumerate(layers) if each is layer)
        if i != j:
            raise ValueError(f"Net: layers[{i}] and layers[{j}] are the same object, "
                             f"{layer!r}; give each place a layer of its own (build another "
                             f"{type(layer).__name__}, or copy.deepcopy it to share its values "
                             "at the start)")


def _converted(i, layer, dtype):
    """New dicts (params, buffers) holding layer's parameters and buffers as arrays of dtype;
    a value that is not numbers is refused, naming it."""
    def convert(value, what):
        try:
            return np.asarray(value, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise ValueError(f"Net: layers[{i}] = {layer!r} {what} is not an array of numbers "
                             f"({err}); set it to a numeric array") from err

    params = {key: convert(value, f"params[{key!r}]") for key, value in layer.params.items()}
    buffers = {name: convert(getattr(layer, name), name)
               for name in getattr(layer, "buffers", ())}
    return params, buffers


def _check_names(slots, layers):
    """Every parameter needs a name of its own in net.params: W1 of a layer whose key is
    "W1" would otherwise be W11, like the W of the eleventh parametric layer."""
    seen = {}
    for name, layer, key in slots:
        if name in seen:
            (other, other_key) = seen[name]
            i, j = (next(k for k, each in enumerate(layers) if each is which)
                    for which in (other, layer))
            raise ValueError(
                f"Net: two parameters would both be named {name} in net.params: "
                f"layers[{i}] = {other!r} params[{other_key!r}] and layers[{j}] = {layer!r} "
                f"params[{key!r}]; rename the key {key if key[-1:].isdigit() else other_key!r} "
                "(a key that ends in a digit runs into the layer numbers: use 'W_a', say)")
        seen[name] = (layer, key)


def _check_architecture(layers, loss):
    """Catch wiring mistakes when the Net is built, not deep inside the first forward."""
    if not layers:
        raise ValueError("Net: layers is empty; pass a list such as [Affine(4, 3)]")
    for i, layer in enumerate(layers):
        missing = [a for a in ("forward", "backward", "params") if not hasattr(layer, a)]
        if missing:
            raise ValueError(f"Net: layers[{i}] = {layer!r} is not a layer: it has no "
                             f"{', '.join(missing)} (see minnet.layers.Layer for the contract)")
    missing = [a for a in ("forward", "backward", "predict") if not hasattr(loss, a)]
    if missing:
        raise ValueError(f"Net: loss {loss!r} is not a loss: it has no {', '.join(missing)} "
                         "(see minnet.losses.Loss for the contract)")
    for i, layer in enumerate(layers[1:], start=1):
        if getattr(layer, "integer_input", False):
            raise ValueError(f"Net: layers[{i}] = {layer!r} takes integer ids, which only the "
                             "data can give: put it first")
    # Follow the width, the size of the output's last axis, from layer to layer: a layer
    # with out_features sets it, an elementwise layer keeps it, and any other layer (a
    # Conv2D, say, whose output depends on the image size) makes it unknown. `whole` says
    # whether the output is (N, width), which a layer that flattens needs for its
    # in_features to be comparable: after RNN(3, 4) the width is 4, yet Affine(20, 2)
    # fits sequences of T = 5 steps. The other layers keep the leading axes.
    width, whole, source = None, False, None
    for i, layer in enumerate(layers):
        flattens = getattr(layer, "flattens", False)
        expected = getattr(layer, "in_features", None)
        if (width is not None and expected is not None and (whole or not flattens)
                and expected != width):
            raise ValueError(f"Net: layers[{i}] = {layer!r} expects {expected} features, "
                             f"but {source} outputs {width}")
        if getattr(layer, "out_features", None) is not None:
            width, whole, source = layer.out_features, flattens or whole, f"layers[{i}] = {layer!r}"
        elif not getattr(layer, "elementwise", False):
            width, whole = None, False
    problem = None if width is None else getattr(loss, "width_problem", lambda w: None)(width)
    if problem:
        raise ValueError(f"Net: {source} outputs {width} score{'s' * (width != 1)} per sample, but "
                         f"{type(loss).__name__} {problem}")
