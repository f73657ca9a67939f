"""The demo (`minnet demo`): train a net on handwritten digits with its gradients checked.

1. check the gradients of a fresh 64-128-64-10 MLP with dropout, at initialization;
2. train it, showing progress;
3. check again after training, where the net works as it will in use (at
   initialization the numbers can be unrepresentative: tiny weights, balanced classes);
4. inject a classic bug (dW of the last layer doubled) and show the checker naming it;
5. save figures of all of it.
"""
import os
import time

from . import bugs, datasets, plot
from .checker import check_net
from .net import Net
from .optim import Momentum
from .train import fit

BUG = "affine-dW-doubled"


def run(epochs=30, seed=0, out="minnet-demo", verbose=True):
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


def _figures(out, history, before, after, broken):
    import matplotlib
    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    paths = []

    def save(fig, name):
        path = os.path.join(out, name)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)

    save(plot.training_curves(history), "training.png")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True, gridspec_kw={"wspace": 0.35})
    plot.check_report(before, axes[0], title="check at initialization")
    plot.check_report(after, axes[1], title="check after training")
    save(fig, "checks.png")
    save(plot.check_report(broken, title=f"check with {BUG}: "
                           f"failed {', '.join(broken.failed)}").figure, "bug.png")
    return paths
