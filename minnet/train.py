"""Training: minibatch gradient descent over a dataset, with a History of what happened.

fit also watches for the classic ways training goes wrong, and warns when it sees one:
- the loss climbs far above where it started (DIVERGENCE_FACTOR times, and by more than
  DIVERGENCE_MARGIN): the learning rate is too large (RuntimeWarning);
- a classifier ends at chance (its accuracy closes at most CHANCE_MARGIN of the gap
  between always predicting the most frequent class and a perfect 1.0) and predicts one
  class for nearly every sample labelled otherwise (COLLAPSED): it learned nothing
  (RuntimeWarning). If its loss did not fall clearly (to LOSS_FELL times its start), the
  learning rate is most likely so large that the first steps killed or saturated every
  unit; if it did fall, the net learned the class frequencies alone, and needs more
  epochs or features that tell the classes apart;
- a Dropout with a fixed seed, which drops the same units at every step (UserWarning).
Healthy training meets none of these rules, however unbalanced its classes: its loss does
not climb, and a classifier that learned anything either beats chance by that margin or
gets some samples of the other classes right. The lessons and the demo train without a
warning.
"""
from __future__ import annotations

import html
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .checker import check_net
from .net import layer_modes
from .validate import count

if TYPE_CHECKING:  # for the type hints only
    from .net import Net
    from .optim import Optimizer

# The loss has diverged when an epoch's mean is this many times the first step's loss...
DIVERGENCE_FACTOR = 10.0
# ...and above it by more than this (so a tiny starting loss, say of a net trained
# before, may still wobble).
DIVERGENCE_MARGIN = 1.0
# A classifier is at chance when its training accuracy closes at most this share of the gap
# between the share of the most frequent class (what always predicting that class scores)
# and 1: with 99.4% of the labels in one class, 0.994 is at chance and 1.0 is not...
CHANCE_MARGIN = 0.01
# ...and it learned nothing when, in addition, it predicts one class for at least this share
# of the samples labelled otherwise (a net whose every ReLU died gives every sample the same
# scores, while one that learned a little already gets some samples of the rare classes right).
# This second rule implies the first (CHANCE_MARGIN >= 1 - COLLAPSED); the first is checked
# first because it needs no pass over the data.
COLLAPSED = 0.99
# The loss fell clearly when the last epoch's mean is below this share of the first step's
# loss: a net that learned nothing then learned the class frequencies, and the learning rate
# is not to blame.
LOSS_FELL = 0.8
# The validation loss is computed on chunks of this many samples (the memory of one
# forward), when every layer treats each sample on its own.
EVALUATION_CHUNK = 512


@dataclass(repr=False)
class History:
    """What fit recorded.

    loss: the training loss of every step (one minibatch), in order
    epoch_loss: the mean of those losses over each epoch
    val_loss: the loss on the validation data after every epoch, in eval mode (no
        dropout), data loss plus regularization like the training loss (empty without val)
    metric: what train_acc and val_acc hold: "accuracy" (the fraction of samples whose
        predicted class is right) for a classifier, "R²" for a regression net (a loss
        with regression = True, such as MSELoss): 1 - sum((y - prediction)**2) /
        sum((y - mean(y))**2), 1 for perfect predictions, 0 for always predicting the mean
        (NaN for constant targets, where it would divide by 0)
    train_acc, val_acc: that metric on the whole training set and on the validation
        set after every epoch (val_acc is empty without val)
    seconds: wall-clock time of every epoch
    checks: (step, CheckReport) for every gradient check asked for with check_at
    check_seconds: the wall-clock time of each of those checks (those made during an
        epoch are included in its seconds)

    repr(history) sums it up in one line; in a notebook it shows as a table of epochs.
    """
    loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    metric: str = "accuracy"
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    check_seconds: list = field(default_factory=list)

    @property
    def steps(self) -> int:
        """The number of optimizer steps taken: len(history.loss)."""
        return len(self.loss)

    @property
    def epochs(self) -> int:
        """The number of epochs completed."""
        return len(self.epoch_loss)

    def __repr__(self) -> str:
        """One line: epochs, steps, the loss at the start and in the last epoch, the last
        validation loss, the last scores, the time and the number of checks."""
        if not self.epochs:
            return f"History({self.steps} steps, no epoch completed)"
        parts = [f"{self.epochs} epoch{'s' * (self.epochs != 1)}, {self.steps} steps",
                 f"loss {self.loss[0]:.4g} at the first step, {self.epoch_loss[-1]:.4g} "
                 "in the last epoch"]
        if self.val_loss:
            parts.append(f"val loss {self.val_loss[-1]:.4g}")
        parts.append(f"train {self.metric} {self.train_acc[-1]:.4f}")
        if self.val_acc:
            parts.append(f"val {self.metric} {self.val_acc[-1]:.4f}")
        parts.append(f"{sum(self.seconds):.1f} s")
        if self.checks:
            parts.append(f"{len(self.checks)} gradient check{'s' * (len(self.checks) != 1)}")
        return f"History({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """A table with a row per epoch: mean loss, val loss, train and val metric, time."""
        columns = [("loss (mean)", self.epoch_loss, ".4f")]
        if self.val_loss:
            columns.append(("val loss", self.val_loss, ".4f"))
        columns.append((f"train {self.metric}", self.train_acc, ".4f"))
        if self.val_acc:
            columns.append((f"val {self.metric}", self.val_acc, ".4f"))
        columns.append(("seconds", self.seconds, ".2f"))
        header = ["epoch"] + [name for name, _, _ in columns]
        rows = [[str(k + 1)] + [format(values[k], spec) for _, values, spec in columns]
                for k in range(self.epochs)]
        return _html_table(header, rows, caption=repr(self))


def _html_table(header, rows, caption):
    """A plain HTML table, every text escaped."""
    head = "".join(f"<th>{html.escape(text)}</th>" for text in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(text)}</td>" for text in cells) + "</tr>"
                   for cells in rows)
    return (f"<table><caption>{html.escape(caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def fit(net: Net, X: np.ndarray, y: np.ndarray, optimizer: Optimizer, epochs: int = 10,
        batch_size: int = 64, val: tuple[np.ndarray, np.ndarray] | None = None,
        seed: int | np.random.Generator = 0, verbose: bool | int = True,
        callback: Callable | None = None, check_at: Iterable[int] = (), check_size: int = 16,
        check_options: dict | None = None) -> History:
    """Train `net` on (X, y) with minibatches and return a History.

    net: what fit needs from a model (a minnet Net has all of it):
        `loss_and_grads(X, y) -> (loss, grads)`, `params` (dict name -> array,
        updated in place), `accuracy(X, y) -> float`, `predict(X)`, `loss(X, y)` (with
        `data_loss` and `reg_loss` set after it, for the validation loss), `dtype`,
        `loss_fn`, and `layers`, each with a `training` flag
    X: (N, ...) inputs, whatever net's first layer takes; y: (N,) (or (N, T)) labels
    optimizer: a minnet.optim optimizer, called as optimizer.step(net.params, grads)
    epochs: passes over the data; batch_size: samples per step (the last
        minibatch of an epoch may be smaller). The samples are shuffled anew at the
        start of every epoch, so no two epochs see the same minibatches.
    val: optional (X_val, y_val), for the validation loss and accuracy (R² for a
        regression net) after every epoch
    seed: int or Generator for the shuffling (nothing else is random here)
    verbose: print a line every `verbose` epochs and after the last one (True or 1:
        every epoch; False or 0: nothing); the line has the epoch's mean loss and the
        accuracy (R² for a regression net, whose loss has regression = True)
    callback: optional callback(step, net, X_batch, y_batch), called after every
        optimizer step (step counts from 1)
    check_at: steps at which to gradient-check the net (0: before the first step;
        200: after 200 steps), each on the first check_size samples of the minibatch
        about to be used, with fixed dropout masks. These checks are fast directional
        ones (check_net(..., fast=True): every tensor checked along random directions,
        a flagged tensor then sampled element-wise), so that checking every few hundred
        steps costs a few percent of the training time; check_options go to check_net
        and override that (check_options={"fast": False} compares coordinates).
        The reports land in history.checks. A check changes nothing in the net, so
        training goes exactly as it would without it.

    The net is in training mode while fitting; each layer's mode is restored after.
    Warnings (see the module's docstring) say when training goes wrong: a loss that
    climbs far above its start, a classifier still at chance, a Dropout with a fixed seed.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 2 or y.shape[:1] != X.shape[:1] or len(X) == 0:
        raise ValueError(f"fit: expected X of shape (N, D) and y of shape (N,) with the same "
                         f"N >= 1, got X {X.shape} and y {y.shape}")
    epochs = count(epochs, "epochs", "fit")
    batch_size = count(batch_size, "batch_size", "fit")
    if val is not None:  # checked now: a mistake found after an epoch would leave the net trained
        val = _check_val(val, X, y)
    every = _print_every(verbose)
    if X.dtype.kind == "f":  # (integer token ids stay integers, for an Embedding)
        X = X.astype(net.dtype, copy=False)  # cast once here, not once per minibatch
    check_at = sorted(set(check_at))
    regression = getattr(net.loss_fn, "regression", False) is True  # a duck-typed loss may lack it
    _warn_of_fixed_masks(net)
    rng = np.random.default_rng(seed)
    history = History(metric="R²" if regression else "accuracy")
    warned = False
    with layer_modes(net.layers, training=True):
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = rng.permutation(len(X))  # a new order every epoch
            for first in range(0, len(X), batch_size):
                batch = order[first:first + batch_size]
                if history.steps in check_at:
                    _check(net, X[batch], y[batch], history, check_size, check_options, every)
                try:
                    loss, grads = net.loss_and_grads(X[batch], y[batch])
                except FloatingPointError as err:  # name the optimizer: its lr is the suspect
                    raise FloatingPointError(f"fit: at step {history.steps + 1} (epoch {epoch}) "
                                             f"with {optimizer!r}: {err}") from err
                optimizer.step(net.params, grads)
                history.loss.append(loss)
                if callback is not None:
                    callback(history.steps, net, X[batch], y[batch])
            steps_per_epoch = -(-len(X) // batch_size)
            history.epoch_loss.append(float(np.mean(history.loss[-steps_per_epoch:])))
            history.train_acc.append(_score(net, X, y, regression))
            if val is not None:
                history.val_loss.append(_evaluation_loss(net, *val))
                history.val_acc.append(_score(net, *val, regression))
            history.seconds.append(time.perf_counter() - start)
            if every and (epoch % every == 0 or epoch == epochs):
                print(_progress_line(epoch, epochs, history), flush=True)
            if not warned and _diverged(history):
                warned = True
                _warn(f"the training loss climbed from {history.loss[0]:.4g} at the first "
                      f"step to {history.epoch_loss[-1]:.4g}, the mean of epoch {epoch}: "
                      f"more than {DIVERGENCE_FACTOR:g} times where it started, so training "
                      f"is diverging. {_too_large(optimizer, 'each step overshoots')}")
        if history.steps in check_at:  # a check asked for after the very last step
            _check(net, X[batch], y[batch], history, check_size, check_options, every)
    message = None if warned or regression else _learned_nothing(net, X, y, history, optimizer)
    if message:
        _warn(message)
    return history


def _check_val(val, X, y):
    """val as a pair of arrays (X_val, y_val) shaped like X: (N, ...) and y: (N,) (N may
    differ), with integer labels if y has them."""
    if not isinstance(val, (tuple, list)) or len(val) != 2:
        got = type(val).__name__ + (f" of length {len(val)}" if isinstance(val, (tuple, list))
                                    else "")
        raise ValueError(f"fit: val must be a pair (X_val, y_val) of validation inputs and "
                         f"their labels, got {got}")
    X_val, y_val = np.asarray(val[0]), np.asarray(val[1])
    if X_val.ndim == 0 or len(X_val) == 0 or y_val.shape[:1] != X_val.shape[:1]:
        raise ValueError(f"fit: val = (X_val, y_val) needs the same number N >= 1 of samples "
                         f"and labels, got X_val {X_val.shape} and y_val {y_val.shape}")
    if X_val.shape[1:] != X.shape[1:]:
        raise ValueError(f"fit: val's X_val has samples of shape {X_val.shape[1:]}, but X has "
                         f"{X.shape[1:]}; the validation inputs must have the training inputs' "
                         f"features: X_val of shape (N_val,) + {X.shape[1:]}")
    if y_val.shape[1:] != y.shape[1:]:
        raise ValueError(f"fit: val's y_val has labels of shape {y_val.shape[1:]} per sample, "
                         f"but y has {y.shape[1:]}; y_val must be shaped like y: "
                         f"(N_val,) + {y.shape[1:]}")
    if y.dtype.kind in "biu" and y_val.dtype.kind not in "biu":
        raise ValueError(f"fit: val's y_val holds {y_val.dtype} values, but y holds integer "
                         f"labels ({y.dtype}); pass the validation labels as integers too "
                         "(y_val.astype(int) if they are whole numbers)")
    return X_val, y_val


def _print_every(verbose):
    """verbose as a number of epochs between progress lines (0: none)."""
    if isinstance(verbose, (bool, np.bool_)):
        return int(verbose)
    return count(verbose, "verbose", "fit", minimum=0,
                 fix="True or 1 prints every epoch, k every k-th one, False or 0 nothing")


def _score(net, X, y, regression):
    """The accuracy of a classifier, or the R² of a regression net, on (X, y)."""
    if not regression:
        return net.accuracy(X, y)
    predictions = np.asarray(net.predict(X), dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(predictions.shape)
    residual = np.sum((y - predictions) ** 2)
    spread = np.sum((y - y.mean(axis=0)) ** 2)
    if spread == 0:  # constant targets: R² divides by their spread, 0
        return float("nan")
    return float(1 - residual / spread)


def _evaluation_loss(net, X, y):
    """The loss of net on (X, y) in eval mode, data loss plus regularization as net.loss
    computes it; in chunks when every layer treats each sample on its own (the data loss
    is a mean over samples, so the chunks' losses weighted by their sizes give it)."""
    X, y = np.asarray(X), np.asarray(y)
    with layer_modes(net.layers, training=False):
        if not all(getattr(layer, "samplewise", False) is True for layer in net.layers):
            return float(net.loss(X, y))
        total = 0.0
        for first in range(0, len(X), EVALUATION_CHUNK):
            chunk = slice(first, first + EVALUATION_CHUNK)
            net.loss(X[chunk], y[chunk])
            total += net.data_loss * len(X[chunk])
        return float(total / len(X) + net.reg_loss)


def _diverged(history):
    """The last epoch's mean loss is DIVERGENCE_FACTOR times the first step's loss, and
    more than DIVERGENCE_MARGIN above it."""
    start, now = history.loss[0], history.epoch_loss[-1]
    return now > DIVERGENCE_FACTOR * start and now > start + DIVERGENCE_MARGIN


def _chance(y):
    """The accuracy of always predicting the most frequent label of y."""
    _, counts = np.unique(y, return_counts=True)
    return counts.max() / counts.sum()


def _learned_nothing(net, X, y, history, optimizer):
    """The warning for a classifier that learned nothing, None otherwise: its accuracy is at
    chance (see CHANCE_MARGIN) and it predicts one class for at least COLLAPSED of the
    samples labelled otherwise. (Early in healthy training the accuracy may be at chance,
    but the net already gets some samples of the other classes right.)"""
    chance, accuracy = _chance(y), history.train_acc[-1]
    if accuracy > chance + CHANCE_MARGIN * (1 - chance):
        return None
    predictions = net.predict(X)
    classes, counts = np.unique(predictions, return_counts=True)
    favourite = classes[counts.argmax()]
    others = y != favourite
    if not others.any():  # every label is that class: there is nothing to tell apart
        return None
    share = np.mean(predictions[others] == favourite)
    if share < COLLAPSED:
        return None
    start, end = history.loss[0], history.epoch_loss[-1]
    message = (f"after {history.epochs} epoch{'s' * (history.epochs != 1)} the training "
               f"accuracy is {accuracy:.3f}, no better than always predicting the most "
               f"frequent class ({chance:.3f}), and the net predicts class {favourite} for "
               f"{share:.0%} of the samples labelled otherwise: it learned nothing")
    if end < LOSS_FELL * start:
        return (message + f" but the class frequencies. Its loss fell from {start:.4g} at the "
                f"first step to {end:.4g} in the last epoch, so the learning rate is not the "
                "problem: train for more epochs, or give the net features that tell the "
                "classes apart. If neither helps, check the data and the labels.")
    return (message + f" (its loss went from {start:.4g} at the first step to {end:.4g} in "
            "the last epoch). " + _too_large(optimizer, "a step too long can kill every ReLU, "
                                             "or saturate every unit, in the first steps, and "
                                             "then the net gives every sample the same scores")
            + " If no learning rate helps, check the data and the labels.")


def _too_large(optimizer, why):
    """The advice for a learning rate too large: lower it, 10 times at a time."""
    lr = getattr(optimizer, "lr", None)
    lower = (f" (lr={lr / 10:g}, then lr={lr / 100:g})"
             if isinstance(lr, (int, float)) and not isinstance(lr, bool) else "")
    return (f"The learning rate of {optimizer!r} is most likely too large ({why}): lower "
            f"it, 10 times at a time{lower}, until the loss falls.")


def _warn(message):
    """A RuntimeWarning from fit, pointing at the line that called fit."""
    warnings.warn(f"fit: {message}", RuntimeWarning, stacklevel=3)


def _warn_of_fixed_masks(net):
    """Warn of every random layer with a fixed seed: it draws the same mask at every step."""
    for i, layer in enumerate(net.layers):
        if getattr(layer, "random", False) and getattr(layer, "seed", None) is not None:
            config = getattr(layer, "config", dict)()
            args = ", ".join(f"{key}={value!r}" for key, value in config.items() if key != "seed")
            warnings.warn(
                f"fit: net.layers[{i}] = {layer!r} has a fixed seed, so it draws the same "
                "mask at every step and drops the same units all through training (a fixed "
                "mask is right for a gradient check, wrong for training). Build it without "
                f"a seed, {type(layer).__name__}({args}), for a new mask at every step, or "
                "with rng=0 (or a "
                "numpy Generator), for new masks that are the same from run to run.",
                UserWarning, stacklevel=3)


def _check(net, X_batch, y_batch, history, size, options, verbose):
    start = time.perf_counter()
    report = check_net(net, X_batch[:size], y_batch[:size], **{"fast": True, **(options or {})})
    history.check_seconds.append(time.perf_counter() - start)
    history.checks.append((history.steps, report))
    if verbose:
        worst = max(row.max_rel_error for row in report.rows)
        outcome = ("passed" if report.passed else f"FAILED ({', '.join(report.failed)})"
                   if report.failed else f"not resolved ({', '.join(report.unresolved)})")
        print(f"gradient check at step {history.steps}: {outcome}, "
              f"max relative error {worst:.1e}", flush=True)


def _progress_line(epoch, epochs, history):
    """epoch 3/10  loss 0.4321  train acc 0.912  val loss 0.5012  val acc 0.887  (0.12 s)"""
    score = "acc" if history.metric == "accuracy" else history.metric
    line = (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {history.epoch_loss[-1]:.4g}  "
            f"train {score} {history.train_acc[-1]:.3f}")
    if history.val_loss:
        line += f"  val loss {history.val_loss[-1]:.4g}  val {score} {history.val_acc[-1]:.3f}"
    return line + f"  ({history.seconds[-1]:.2f} s)"
