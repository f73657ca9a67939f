"""The demo (`minnet demo`): train a net on handwritten digits with its gradients checked.

1. check the gradients of a fresh 64-128-64-10 MLP with dropout, at initialization;
2. train it, showing progress;
3. check again after training, where the net works as it will in use (at
   initialization the numbers can be unrepresentative: tiny weights, balanced classes);
4. inject a classic bug (dW of the last layer doubled) and show the checker naming it;
5. save figures of all of it.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from . import bugs, datasets, plot
from .checker import check_net
from .net import Net
from .optim import Momentum
from .train import History, fit

if TYPE_CHECKING:
    from .checker.report import CheckReport

BUG = "affine-dW-doubled"


def run(epochs: int = 30, seed: int = 0, out: str | None = "minnet-demo",
        verbose: bool = True) -> dict:
    """Run the demo; returns a dict of what it found (accuracy, the three reports, figures).

    out: the folder for the PNG figures (created if missing), or None for no figures.
    """
    say = print if verbose else (lambda *args, **kwargs: None)
    start = time.perf_counter()
    X, y = datasets.load_digits()
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_fraction=0.2,
                                                                 seed=seed)
    X_train, X_test = datasets.standardize(X_train, X_test)
    net = Net.mlp([64, 128, 64, 10], activation="relu", keep_prob=0.9, reg=1e-3, seed=seed)
    say(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels")
    say(net)
    X_check, y_check = X_train[:16], y_train[:16]

    say("\n1. Gradient check at initialization")
    before = check_net(net, X_check, y_check, seed=seed)
    say(before)

    say("\n2. Training")
    history = fit(net, X_train, y_train, Momentum(lr=0.1), epochs=epochs, batch_size=64,
                  val=(X_test, y_test), seed=seed, verbose=verbose)
    accuracy = net.accuracy(X_test, y_test)

    say("\n3. Gradient check after training")
    after = check_net(net, X_check, y_check, seed=seed)
    say(after)

    last = max(i for i, layer in enumerate(net.layers) if layer.params)
    say(f"\n4. The same check with a bug injected in net.layers[{last}]: "
        f"{bugs.get(BUG).description}")
    with bugs.inject(net, BUG, layer=last):
        broken = check_net(net, X_check, y_check, seed=seed)
    say(broken)

    figures = _figures(out, history, before, after, broken) if out else []
    result = {"accuracy": accuracy, "history": history, "before": before, "after": after,
              "broken": broken, "figures": figures, "net": net,
              "seconds": time.perf_counter() - start}
    say("\nSummary")
    say(f"  held-out accuracy: {accuracy:.1%} after {history.steps} steps")
    for label, report in (("at initialization", before), ("after training", after),
                          (f"with {BUG}", broken)):
        verdict = "passed" if report.passed else f"FAILED: {', '.join(report.failed)}"
        say(f"  gradient check {label}: {verdict}")
    if figures:
        say(f"  figures in {os.path.abspath(out)}: {', '.join(os.path.basename(f) for f in figures)}")
    say(f"  total time {result['seconds']:.1f} s")
    return result


def _figures(out: str, history: History, before: CheckReport, after: CheckReport,
             broken: CheckReport) -> list:
    """Draw the demo's three figures and save them in the folder out with plot.save
    (which leaves them open where a notebook or a window can show them); returns their
    paths."""
    import matplotlib.pyplot as plt

    accuracy = history.val_acc[-1] if history.val_acc else history.train_acc[-1]
    paths = [plot.save(plot.training_curves(
        history, val_name="held-out", title=f"the MLP learns the digits: loss falls, "
                                            f"held-out accuracy reaches {accuracy:.1%}"),
        "training.png", folder=out, dpi=110)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True,
                             gridspec_kw={"wspace": 0.25})
    bottom = plot.report_floor(before, after)
    plot.check_report(before, axes[0], title="at initialization", bottom=bottom, legend=False)
    plot.check_report(after, axes[1], title="after training", bottom=bottom)
    fig.suptitle("backprop agrees with the numerical gradient before and after training",
                 fontsize="x-large")
    paths.append(plot.save(fig, "checks.png", folder=out, dpi=110))
    ax = plot.check_report(broken, title=f"the checker names the tensor a bug spoils: "
                                         f"{', '.join(broken.failed)} ({BUG})")
    paths.append(plot.save(ax, "bug.png", folder=out, dpi=110))
    return paths
