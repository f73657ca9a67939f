"""Pictures: training curves, check reports, the error-vs-h curve, decision regions.

Every function draws on the Axes it is given (or on a new figure), returns what it
drew on, and never calls plt.show() unless asked with show=True. Save with
`fig.savefig("name.png")`, where fig is `ax.figure` for the functions returning Axes.
"""
import numpy as np

from .checker.compare import BANDS
from .checker.numerical import RELATIVE_STEPS


def _pyplot():
    import matplotlib.pyplot as plt  # imported late: `import minnet` stays light
    return plt


def _finish(result, show):
    if show:
        _pyplot().show()
    return result


def training_curves(history, fig=None, show=False):
    """Loss per step (left) and accuracy per epoch (right) from a History.

    Returns the Figure, with its two Axes in fig.axes.
    """
    plt = _pyplot()
    fig = fig or plt.figure(figsize=(9, 3.5))
    loss_ax, acc_ax = fig.subplots(1, 2)
    steps = np.arange(1, history.steps + 1)
    loss_ax.plot(steps, history.loss, color="#bbbbbb", lw=0.8, label="each step")
    window = max(1, history.steps // 50)
    if history.steps >= window:
        smooth = np.convolve(history.loss, np.ones(window) / window, mode="valid")
        loss_ax.plot(steps[window - 1:], smooth, color="#1f77b4", label=f"mean of {window}")
    loss_ax.set(xlabel="step", ylabel="training loss", title="loss")
    loss_ax.legend()
    epochs = np.arange(1, len(history.train_acc) + 1)
    acc_ax.plot(epochs, history.train_acc, marker=".", label="training")
    if history.val_acc:
        acc_ax.plot(epochs, history.val_acc, marker=".", label="validation")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    acc_ax.legend()
    fig.tight_layout()
    return _finish(fig, show)


def check_report(report, ax=None, title=None, show=False):
    """A CheckReport as bars of each tensor's largest relative error over the verdict bands.

    Returns the Axes.
    """
    ax = report.plot(ax)
    if title:
        ax.set_title(title)
    return _finish(ax, show)


def step_sweep(sweeps, ax=None, show=False):
    """The V-shaped error of numerical derivatives against the step h.

    sweeps: dict label -> (steps, errors), as minnet.checker.step_size_sweep returns
    them; a label naming a method ("central", "forward", ...) also marks that
    method's default step. Returns the Axes.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, (steps, errors) in sweeps.items():
        line, = ax.loglog(steps, np.maximum(errors, 1e-17), marker=".", label=label)
        if label in RELATIVE_STEPS and label != "complex":
            ax.axvline(RELATIVE_STEPS[label], color=line.get_color(), ls=":", lw=1)
    ax.set(xlabel="step h", ylabel="relative error of the derivative",
           title="numerical derivative error against h (dotted: default steps)")
    ax.legend()
    return _finish(ax, show)


def decision_regions(net, X, y, ax=None, resolution=200, show=False):
    """The class the net predicts over the plane, with the points of a 2-D dataset on top.

    net: a trained Net with 2 inputs; X: (N, 2); y: (N,). Returns the Axes.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_regions: expected X of shape (N, 2), got {X.shape}")
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    u, v = np.meshgrid(np.linspace(low[0], high[0], resolution),
                       np.linspace(low[1], high[1], resolution))
    regions = net.predict(np.column_stack([u.ravel(), v.ravel()])).reshape(u.shape)
    ax.contourf(u, v, regions, alpha=0.3, cmap="viridis",
                levels=np.arange(regions.max() + 2) - 0.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="viridis", edgecolors="k", linewidths=0.3)
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), aspect="equal",
           title=f"decision regions ({100 * net.accuracy(X, y):.1f}% right)")
    return _finish(ax, show)


def checks_over_training(checks, ax=None, show=False):
    """Each tensor's largest relative error at every check of a training run.

    checks: history.checks, a list of (step, CheckReport). Returns the Axes.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    if not checks:
        raise ValueError("checks_over_training: no checks; train with fit(..., check_at=[...])")
    steps = [step for step, _ in checks]
    for name in [row.name for row in checks[0][1].rows]:
        errors = [max(report[name].max_rel_error, 1e-17) for _, report in checks]
        ax.semilogy(steps, errors, marker="o", label=name)
    for threshold, _ in BANDS[:-1]:
        ax.axhline(threshold, color="#999999", ls=":", lw=1)
    ax.set(xlabel="training step", ylabel="max relative error",
           title="gradient check errors during training (dotted: band edges)")
    ax.legend(ncol=2, fontsize=8)
    return _finish(ax, show)
