"""Training: minibatch gradient descent over a dataset, with a History of what happened."""
import time
from dataclasses import dataclass, field

import numpy as np

from .checker import check_net


@dataclass
class History:
    """What fit recorded.

    loss: the training loss of every step (one minibatch), in order
    train_acc, val_acc: accuracy on the whole training set and on the
        validation set after every epoch (val_acc is empty without val)
    seconds: wall-clock time of every epoch
    checks: (step, CheckReport) for every gradient check asked for with check_at
    check_seconds: the wall-clock time of each of those checks (those made during an
        epoch are included in its seconds)
    """
    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    check_seconds: list = field(default_factory=list)

    @property
    def steps(self):
        return len(self.loss)


def fit(net, X, y, optimizer, epochs=10, batch_size=64, val=None, seed=0, verbose=True,
        callback=None, check_at=(), check_size=16, check_options=None):
    """Train `net` on (X, y) with minibatches and return a History.

    net: what fit needs from a model (a minnet Net has all of it):
        `loss_and_grads(X, y) -> (loss, grads)`, `params` (dict name -> array,
        updated in place), `accuracy(X, y) -> float`, `train()`, `dtype`, and
        `layers`, each with a `training` flag
    X: (N, ...) inputs, whatever net's first layer takes; y: (N,) (or (N, T)) labels
    optimizer: a minnet.optim optimizer, called as optimizer.step(net.params, grads)
    epochs: passes over the data; batch_size: samples per step (the last
        minibatch of an epoch may be smaller)
    val: optional (X_val, y_val), for the validation accuracy after every epoch
    seed: int or Generator for the shuffling (nothing else is random here)
    verbose: print one line per epoch
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
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 2 or y.shape[:1] != X.shape[:1] or len(X) == 0:
        raise ValueError(f"fit: expected X of shape (N, D) and y of shape (N,) with the same "
                         f"N >= 1, got X {X.shape} and y {y.shape}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"fit: {name} must be a positive int, got {value!r}")
    if X.dtype.kind == "f":  # (integer token ids stay integers, for an Embedding)
        X = X.astype(net.dtype, copy=False)  # cast once here, not once per minibatch
    check_at = sorted(set(check_at))
    rng = np.random.default_rng(seed)
    history = History()
    modes = [layer.training for layer in net.layers]
    net.train()
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = rng.permutation(len(X))
            for first in range(0, len(X), batch_size):
                batch = order[first:first + batch_size]
                if history.steps in check_at:
                    _check(net, X[batch], y[batch], history, check_size, check_options, verbose)
                loss, grads = net.loss_and_grads(X[batch], y[batch])
                optimizer.step(net.params, grads)
                history.loss.append(loss)
                if callback is not None:
                    callback(history.steps, net, X[batch], y[batch])
            history.train_acc.append(net.accuracy(X, y))
            if val is not None:
                history.val_acc.append(net.accuracy(*val))
            history.seconds.append(time.perf_counter() - start)
            if verbose:
                print(_progress_line(epoch, epochs, history), flush=True)
        if history.steps in check_at:  # a check asked for after the very last step
            _check(net, X[batch], y[batch], history, check_size, check_options, verbose)
    finally:
        for layer, mode in zip(net.layers, modes):
            layer.training = mode
    return history


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
    steps_per_epoch = history.steps // epoch
    mean_loss = np.mean(history.loss[-steps_per_epoch:])
    line = (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {mean_loss:.4f}  "
            f"train acc {history.train_acc[-1]:.3f}")
    if history.val_acc:
        line += f"  val acc {history.val_acc[-1]:.3f}"
    return line + f"  ({history.seconds[-1]:.2f} s)"
