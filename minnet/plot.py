"""Pictures: training curves, check reports, the error-vs-h curve, decision regions.

Every function draws on the Axes it is given (or on a new figure), returns what it
drew on, and never calls plt.show() unless asked with show=True. Each one checks its
input before it opens a figure or draws anything, so a refused call leaves no empty
figure behind (a notebook would show it blank) and the Axes it was given untouched.

`save(fig, "name.png")` writes a figure where the lessons keep theirs (the folder in
$MINNET_FIGURES, else figures/), cropped to what is drawn, and closes it only where
nothing could show it: in a notebook or a window it stays open and is shown; in a
script or a test (the Agg backend) it is closed, so figures do not pile up.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .checker.compare import BANDS, relative_denominator, relative_error
from .checker.numerical import RELATIVE_STEPS
from .checker.report import BAND_COLORS, RESULT_COLORS

if TYPE_CHECKING:  # matplotlib is imported only when a picture is drawn
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from numpy.typing import ArrayLike

    from .checker.report import CheckReport, CheckRow
    from .net import Net
    from .train import History

# Colors of classes 0, 1, 2, ... in decision_regions (cycled past 10).
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _pyplot():
    import matplotlib.pyplot as plt  # imported late: `import minnet` stays light
    return plt


def _finish(result: Any, show: bool) -> Any:
    if show:
        _pyplot().show()
    return result


def _check_bottom(bottom: float | None, function: str) -> None:
    """Refuse a bottom that no log axis can have, before anything is drawn."""
    if bottom is not None and not (np.isfinite(bottom) and bottom > 0):
        raise ValueError(f"{function}: bottom must be a positive number (the y-axis is "
                         f"logarithmic), got {bottom!r}; leave it None to fit the data")


def figures_folder() -> str:
    """Where save() puts figures: $MINNET_FIGURES if set, else "figures"."""
    return os.environ.get("MINNET_FIGURES") or "figures"


def displays_figures() -> bool:
    """Whether matplotlib's backend can show a figure: True for Jupyter's inline
    backend, ipympl and GUI windows; False for Agg, PDF, SVG and the other
    file-only backends that scripts and tests use."""
    import matplotlib
    backend = matplotlib.get_backend().lower()
    try:
        from matplotlib.backends import BackendFilter, backend_registry
        file_only = backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE)
    except ImportError:  # matplotlib < 3.9
        from matplotlib.rcsetup import non_interactive_bk as file_only
    return backend not in {name.lower() for name in file_only}


def save(fig: Figure | Axes, name: str, folder: str | None = None, dpi: int = 100) -> str:
    """Save a figure as a PNG, and close it unless it can be shown.

    fig: a Figure (or an Axes: its figure); name: the file name ("05_kinks.png");
    folder: where to save (default: figures_folder(), that is $MINNET_FIGURES or
    "figures"; created if missing). The figure is cropped to what is drawn
    (bbox_inches="tight"). Under a backend that displays figures (Jupyter's inline
    backend, ipympl, a GUI) the figure stays open, so that a notebook shows it under
    its cell; under a file-only backend such as Agg (scripts, tests) it is closed.
    Returns the path written.
    """
    from matplotlib.figure import Figure
    if not isinstance(fig, Figure):
        fig = fig.figure
    folder = figures_folder() if folder is None else folder
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if not displays_figures():
        _pyplot().close(fig)
    return path


def error_floor(values: ArrayLike, lowest: float = 1e-16, highest: float = 1e-8) -> float:
    """The bottom edge of a log axis of relative errors that shows every positive
    value among `values`: a decade below the smallest, but not below `lowest`
    (float64 resolves nothing finer than about 1e-16 of a value) and not above
    `highest` (so the "excellent" band below 1e-7 always shows a little). Values
    of 0 (and below the floor) are drawn on that edge, marked."""
    values = np.asarray([v for v in np.ravel(values) if np.isfinite(v) and v > 0])
    if not len(values):
        return highest
    floor = 10.0 ** np.floor(np.log10(values.min()))
    if values.min() < 2 * floor:  # keep the smallest bar or point off the very edge
        floor /= 10
    return float(min(highest, max(lowest, floor)))


def _bands(ax: Axes, bottom: float, top: float, labels: str = "inside") -> None:
    """Shade the course table's bands between bottom and top and name each one with
    its edges: in the Axes' right margin (labels="inside", the caller leaves room)
    or just outside its right edge (labels="outside")."""
    edges = [top] + [threshold for threshold, _ in BANDS[:-1]] + [bottom]
    names = [name for _, name in BANDS]
    powers = [f"1e{round(np.log10(threshold))}" for threshold, _ in BANDS[:-1]]
    spans = dict(zip(names, [f"above {powers[0]}"]
                     + [f"{low} to {high}" for high, low in zip(powers, powers[1:])]
                     + [f"below {powers[-1]}"]))
    for name, high, low in zip(names, edges[:-1], edges[1:]):
        high, low = min(high, top), max(low, bottom)
        if low >= high:
            continue
        ax.axhspan(low, high, color=BAND_COLORS[name], alpha=0.15, lw=0, zorder=0)
        if high < top:
            ax.axhline(high, color="#777777", ls=":", lw=0.8, zorder=0.5)
        x, align = (0.99, "right") if labels == "inside" else (1.01, "left")
        ax.text(x, np.sqrt(low * high), f"{name}\n{spans[name]}", ha=align, va="center",
                transform=ax.get_yaxis_transform(), fontsize=7.5, color="#444444",
                linespacing=1.1, clip_on=labels == "inside")


def _zero_handle(color: str = "#555555", what: str = "error exactly 0") -> Line2D:
    """A legend entry for the triangles that stand for errors a log axis cannot show."""
    from matplotlib.lines import Line2D
    return Line2D([], [], color=color, marker="v", ls="", markersize=6,
                  label=f"{what}: drawn on the bottom edge")


def smoothing_window(steps: int) -> int:
    """The k of training_curves' smoothed loss, "the mean of the last k steps": about
    a twentieth of the run, at least 2; 1 (no smoothing) for runs under 20 steps."""
    return 1 if steps < 20 else max(2, int(round(steps / 20)))


def training_curves(history: History, fig: Figure | None = None, title: str | None = None,
                    window: int | None = None, loss_label: str = "loss",
                    accuracy_label: str | None = None, val_name: str = "validation",
                    show: bool = False) -> Figure:
    """The loss at every step (left, log scale) and the accuracy after every epoch
    (right), from a History.

    Left: the loss of each step's minibatch (gray) and its running mean, "the mean of
    the last k steps" (k = window, default smoothing_window(history.steps)); the
    bottom axis counts optimizer steps, the top one epochs. If the History has a
    validation loss (a non-empty `val_loss`, one value after each epoch), it is drawn
    at the end of each epoch. Right: the accuracy on the whole training set and on the
    validation data (named val_name: "validation", "test", ...) after each epoch.
    title: the figure's title (say what to see); loss_label, accuracy_label: the
    y-axis labels (accuracy_label defaults to history.metric: "accuracy", or "R²" for a
    regression net). A loss that is 0 somewhere (a hinge loss can be) is drawn on a
    linear axis instead of a log one.

    Returns the Figure, with the loss and accuracy Axes first in fig.axes.
    """
    from matplotlib.ticker import MaxNLocator
    loss = np.asarray(history.loss, dtype=float)
    if loss.ndim != 1:
        raise ValueError(f"training_curves: history.loss must hold one number per step; "
                         f"got an array of shape {loss.shape}")
    if history.val_acc and len(history.val_acc) != len(history.train_acc):
        raise ValueError(f"training_curves: history.val_acc holds {len(history.val_acc)} and "
                         f"history.train_acc {len(history.train_acc)} values; give val_acc "
                         f"one value per epoch, like train_acc, or none")
    plt = _pyplot()
    accuracy_label = accuracy_label or history.metric
    fig = fig or plt.figure(figsize=(10, 3.8))
    loss_ax, acc_ax = fig.subplots(1, 2)
    steps = np.arange(1, len(loss) + 1)
    epochs = len(history.train_acc)
    per_epoch = len(loss) // epochs if epochs and len(loss) % epochs == 0 else None
    loss_ax.plot(steps, loss, color="#bbbbbb", lw=0.8, label="each step (one mini-batch)")
    k = smoothing_window(len(loss)) if window is None else int(window)
    if 1 < k <= len(loss):
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        loss_ax.plot(steps[k - 1:], smooth, color="#1f77b4", lw=1.6,
                     label=f"mean of the last {k} steps")
    val_loss = list(getattr(history, "val_loss", None) or [])
    if val_loss and per_epoch:
        loss_ax.plot(per_epoch * np.arange(1, len(val_loss) + 1), val_loss, color="#ff7f0e",
                     marker="o", ms=4, label=f"{val_name} loss (after each epoch)")
    if len(loss) and np.all(loss > 0):
        loss_ax.set_yscale("log")
        _plain_log_labels(loss_ax.yaxis)
        scale = "log scale"
    else:
        scale = "linear scale: the loss reaches 0"
    loss_ax.set(xlabel="step (one mini-batch)", ylabel=f"{loss_label} ({scale})",
                title="training loss at every step" + (f", {val_name} loss per epoch"
                                                       if val_loss and per_epoch else ""))
    if per_epoch:
        top = loss_ax.secondary_xaxis("top", functions=(lambda s: s / per_epoch,
                                                        lambda e: e * per_epoch))
        top.set_xlabel("epoch", fontsize=9)
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.tick_params(labelsize=8)
    loss_ax.legend(fontsize=8)
    numbers = np.arange(1, epochs + 1)
    acc_ax.plot(numbers, history.train_acc, marker=".", label="training set")
    if history.val_acc:
        acc_ax.plot(numbers, history.val_acc, marker=".", label=f"{val_name} set")
    acc_ax.set(xlabel="epoch", ylabel=accuracy_label,
               title=f"{accuracy_label} after each epoch")
    acc_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    acc_ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize="x-large")
    fig.tight_layout()
    return _finish(fig, show)


def _plain_log_labels(axis: Axis) -> None:
    """Label a log axis 0.3, 1, 40 rather than 3 x 10^-1, 10^0, 4 x 10^1, which is easier
    to read on a slide; the intermediate ticks get labels only on a short range."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            """x as a plain number ("0.3", "40") if LogFormatter labels it, else ""."""
            # LogFormatter picks which ticks get a label; only the way they read changes
            return f"{x:g}" if super().__call__(x, pos) else ""

    axis.set_major_formatter(Plain())
    axis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(2, 0.6)))


def allowed_error(row: CheckRow) -> float:
    """The relative error minnet's pass rule allowed at the probe whose error a check
    report's bar shows: the probe with the largest relative error (for a FAIL row, the
    largest among the probes that differ). The rule allows each probe the numerical
    estimate's own error, measured (rounding and truncation), so a bar below this
    bound passes and a bar above it fails, whatever band it is in. It is row.tolerance
    (the largest allowance over all probes) when the row keeps no per-probe numbers."""
    if row.allowed is None or row.analytic is None or not len(row.allowed):
        return float(row.tolerance)
    a, n = np.asarray(row.analytic), np.asarray(row.numerical)
    errors = relative_error(a, n)
    candidates = np.asarray(row.differs, dtype=bool) if row.result == "FAIL" and \
        row.differs is not None and np.any(row.differs) else np.ones(len(errors), dtype=bool)
    worst = np.flatnonzero(candidates)[np.argmax(errors[candidates])]
    return float(np.asarray(row.allowed)[worst] / relative_denominator(a[worst], n[worst]))


def report_floor(*reports: CheckReport) -> float:
    """The bottom edge check_report would choose for these reports together: pass it as
    check_report(..., bottom=) to draw several reports on one shared y-axis."""
    values = [value for report in reports for row in report.rows if row.checked
              for value in (row.max_rel_error, allowed_error(row))]
    return error_floor(values)


def check_report(report: CheckReport, ax: Axes | None = None, title: str | None = None,
                 bottom: float | None = None, legend: bool = True, show: bool = False) -> Axes:
    """A CheckReport as one bar per tensor: its largest relative error (row.max_rel_error),
    on a log scale, over the course table's bands, which are shaded and named with their
    edges in a margin on the right.

    A bar's color is the check's result (PASS, FAIL, cannot resolve), not its band:
    each tensor also gets a black tick at allowed_error(row), the error the pass rule
    allowed the probe the bar shows (the numerical estimate's own error, measured). A
    bar below its tick passes, even inside the "suspicious" band; a bar above it
    fails. A tick beyond the top of the axis is a triangle just under the top. An
    error of exactly 0 (or below the axis) is a triangle on the bottom edge; a tensor
    with no probes judged gets no bar and the words "not judged". The legend, under
    the plot, names the colors and marks (legend=False leaves it out, for a panel
    beside one that has it).

    bottom: the bottom of the y-axis (default: report_floor(report), a decade under
    the smallest error or tick), to give several panels the same axis; title: the
    Axes' title (default: what the check found). Returns the Axes.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    _check_bottom(bottom, "check_report")
    rows = list(report.rows)
    judged = np.array([row.checked > 0 for row in rows], dtype=bool)
    errors = np.array([row.max_rel_error if ok else 0.0 for row, ok in zip(rows, judged)])
    allowed = np.array([allowed_error(row) if ok else 0.0 for row, ok in zip(rows, judged)])
    if bottom is None:
        bottom = report_floor(report)
    top = max(10.0, 10.0 ** np.ceil(np.log10(max(errors.max(initial=0), 1e-300) * 1.5)))
    x = np.arange(len(rows))
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(max(6, 0.75 * len(rows) + 3.5), 4.2))
    ax.set_yscale("log")
    _bands(ax, bottom, top, labels="inside")
    ax.bar(x, errors, width=0.6, zorder=2, tick_label=[row.name for row in rows],
           color=[RESULT_COLORS.get(row.result, "#999999") for row in rows])
    handles = [Patch(color=RESULT_COLORS[result], label={
        "PASS": "PASS: below its allowed error", "FAIL": "FAIL: above its allowed error",
        "cannot resolve": "cannot resolve: gradient too small to judge"}[result])
        for result in RESULT_COLORS if any(row.result == result for row in rows)]
    inside = judged & (allowed > 0) & (allowed <= top)
    ax.scatter(x[inside], allowed[inside], marker="_", s=500, linewidths=2.2, color="black",
               zorder=3)
    handles.append(Line2D([], [], color="black", marker="_", ls="", markersize=16,
                          markeredgewidth=2.2, label="allowed error: the numerical "
                                                     "estimate's own error, measured"))
    beyond = judged & (allowed > top)
    if beyond.any():
        ax.scatter(x[beyond], np.full(beyond.sum(), top / 2.5), marker="^", s=60,
                   color="black", zorder=3)
        handles.append(Line2D([], [], color="black", marker="^", ls="",
                              label=f"allowed error above {top:g}"))
    low = judged & (errors < bottom)
    if low.any():
        ax.scatter(x[low], np.full(low.sum(), bottom), marker="v", s=40, color="#555555",
                   zorder=3, clip_on=False)
        handles.append(_zero_handle(what="error 0 (or below the axis)"))
    for k in np.flatnonzero(~judged):
        ax.text(k, bottom * 3, "not judged", rotation=90, ha="center", va="bottom",
                fontsize=8, color="#555555")
    ax.set_xlim(-0.6, len(rows) - 0.4 + 1.5)  # the margin on the right names the bands
    ax.set_ylim(bottom, top)
    ax.set(xlabel="tensor", ylabel="largest relative error")
    if legend:
        ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  frameon=False)
    ax.set_title(title if title is not None else _report_message(report))
    return _finish(ax, show)


def _report_message(report: CheckReport) -> str:
    """What a check found, as a title."""
    if report.failed:
        verb = "is" if len(report.failed) == 1 else "are"
        return f"{', '.join(report.failed)} {verb} wrong"
    if report.unresolved:
        return f"{', '.join(report.unresolved)} could not be judged; the rest agree"
    return "every gradient agrees with its numerical estimate"


def step_sweep(sweeps: dict, ax: Axes | None = None, function: str | None = None,
               x0: float | None = None, title: str | None = None, show: bool = False) -> Axes:
    """The V-shaped error of numerical derivatives against the step h, on log-log axes.

    sweeps: dict label -> (steps, errors), as minnet.checker.step_size_sweep returns
    them; a label naming a method ("central", "forward", ...) also marks that
    method's default step with a dotted line of its color. function, x0: what was
    differentiated and where, named in the title ("f(x) = exp(x) sin(x)", 0.7); title: the
    message, a first line above that. An error of exactly 0 (the estimate hit the exact value to the
    last bit, as the complex step often does) has no place on a log axis: such points
    are triangles on the bottom edge, which sits a decade below the smallest nonzero
    error, and the legend says so. Lines with a label already on ax (a guide such as
    eps / h, drawn before) join the legend, right of the plot. Returns the Axes.
    """
    from matplotlib.lines import Line2D
    if not sweeps:
        raise ValueError("step_sweep: no sweeps to draw; give a dict label -> (steps, errors), "
                         "as minnet.checker.step_size_sweep returns them")
    curves = {label: (np.asarray(steps, dtype=float), np.asarray(errors, dtype=float))
              for label, (steps, errors) in sweeps.items()}
    for label, (steps, errors) in curves.items():
        if steps.ndim != 1 or steps.shape != errors.shape:
            raise ValueError(f"step_sweep: sweeps[{label!r}] has {steps.size} steps but "
                             f"{errors.size} errors; give one error per step, both 1-D")
    all_errors = np.concatenate([errors for _, errors in curves.values()])
    bottom = error_floor(all_errors, lowest=1e-18, highest=1e-10)
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(6.5, 4.5))
    zeros = False
    for label, (steps, errors) in curves.items():
        line, = ax.loglog(steps, np.maximum(errors, bottom), marker=".", label=label)
        low = errors < bottom
        if low.any():
            zeros = True
            ax.plot(steps[low], np.full(low.sum(), bottom), "v", color=line.get_color(),
                    ms=6, clip_on=False, label="_zeros")
        if label in RELATIVE_STEPS and label != "complex":
            ax.axvline(RELATIVE_STEPS[label], color=line.get_color(), ls=":", lw=1)
    handles = ax.get_legend_handles_labels()[0]  # with what the caller drew there before
    if any(label in RELATIVE_STEPS and label != "complex" for label in sweeps):
        handles.append(Line2D([], [], color="#555555", ls=":", lw=1,
                              label="default step of that method"))
    if zeros:
        handles.append(_zero_handle())
    top = max(10.0, float(np.nanmax(all_errors)) * 3) if len(all_errors) else 10.0
    ax.set_ylim(bottom, top)
    what = "relative error of the derivative against the step h"
    if function is not None:
        what = f"derivatives of {function}" + (
            f" at x = {x0:g}" if x0 is not None else "") + ", against the step h"
    ax.set(xlabel="step h", ylabel="relative error of the derivative",
           title=f"{title}\n{what}" if title else what)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _finish(ax, show)


def decision_regions(net: Net, X: ArrayLike, y: ArrayLike, ax: Axes | None = None,
                     resolution: int = 200, split: str = "training",
                     class_names: Sequence[str] | None = None, xlabel: str = "x[:, 0]",
                     ylabel: str = "x[:, 1]", title: str | None = None,
                     show: bool = False) -> Axes:
    """The class the net predicts over the plane, with the points of a 2-D dataset on top.

    net: a trained Net with 2 inputs; X: (N, 2); y: (N,). The background is an image
    (ax.images[0]) of resolution x resolution pixels, each colored by
    net.predict at its center; the points are colored by their true class, one legend
    entry per class (class_names, default "class 0", "class 1", ...). split: which
    points X, y are ("training", "test", ...): the title gives the net's accuracy on
    them under that name, after `title` (what the net is) if given. The legend sits
    under the plot, where it hides no point. xlabel, ylabel: the axis labels. Returns
    the Axes.
    """
    from matplotlib.colors import ListedColormap
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or not len(X):
        raise ValueError(f"decision_regions: expected X of shape (N, 2), got {X.shape}; give "
                         f"one point per row, at least one")
    if y.shape != (len(X),):
        raise ValueError(f"decision_regions: expected y of shape ({len(X)},), one class per "
                         f"point of X, got {y.shape}")
    if not isinstance(resolution, (int, np.integer)) or resolution < 1:
        raise ValueError(f"decision_regions: resolution must be a whole number of pixels, at "
                         f"least 1 (200 by default), got {resolution!r}")
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    u, v = grid_centers(low, high, resolution)
    regions = net.predict(np.column_stack([u.ravel(), v.ravel()])).reshape(u.shape)
    accuracy = net.accuracy(X, y)
    classes = int(max(regions.max(), y.max())) + 1
    colors = [CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(classes)]
    names = list(class_names) if class_names is not None else \
        [f"class {k}" for k in range(classes)]
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(5, 5))
    ax.imshow(regions, origin="lower", extent=(low[0], high[0], low[1], high[1]),
              cmap=ListedColormap(colors), vmin=-0.5, vmax=classes - 0.5, alpha=0.3,
              interpolation="nearest", aspect="auto")
    for k in range(classes):
        if np.any(y == k):
            ax.scatter(X[y == k, 0], X[y == k, 1], s=14, color=colors[k], edgecolors="k",
                       linewidths=0.3, label=names[k])
    scored = f"{split} accuracy {100 * accuracy:.1f}%"
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xlabel=xlabel, ylabel=ylabel,
           title=f"{title}\n{scored}" if title else scored)
    ax.set_aspect("equal", adjustable="box")
    ax.legend(title="points: true class; background: predicted class", fontsize=8,
              title_fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13),
              ncol=min(classes, 4), frameon=False)
    return _finish(ax, show)


def grid_centers(low: ArrayLike, high: ArrayLike, resolution: int) -> tuple:
    """The centers of a resolution x resolution grid of pixels over the rectangle from
    low to high, as decision_regions evaluates the net: (u, v), each (resolution,
    resolution), u varying along the rows' x, v along the columns' y."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    centers = [low[i] + (np.arange(resolution) + 0.5) * (high[i] - low[i]) / resolution
               for i in (0, 1)]
    return np.meshgrid(*centers)


def checks_over_training(checks: list, ax: Axes | None = None, title: str | None = None,
                         bottom: float | None = None, show: bool = False) -> Axes:
    """Each tensor's largest relative error at every check of a training run.

    checks: history.checks, a list of (step, CheckReport). The steps go on a symmetric
    log axis (linear from 0 to 1, logarithmic after), so that the check before
    training (step 0) and the early ones are not crammed together; each check's step
    is a tick. The errors go on a log axis over the course table's bands, shaded and
    named with their edges on the right. An error of exactly 0 (or below the axis) is a
    triangle on the bottom edge. bottom: the bottom of the y-axis (default: error_floor
    of the errors), to give several panels the same axis. Returns the Axes.
    """
    if not checks:
        raise ValueError("checks_over_training: no checks; train with fit(..., check_at=[...])")
    _check_bottom(bottom, "checks_over_training")
    steps = np.array([step for step, _ in checks])
    names = [row.name for row in checks[0][1].rows]
    errors = {name: np.array([report[name].max_rel_error for _, report in checks])
              for name in names}
    if bottom is None:
        bottom = error_floor(np.concatenate(list(errors.values())))
    top = 10.0
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    ax.set_yscale("log")
    ax.set_xscale("symlog", linthresh=1, linscale=0.5)
    _bands(ax, bottom, top, labels="outside")
    zeros = False
    for name in names:
        line, = ax.plot(steps, np.clip(errors[name], bottom, top), marker="o", ms=4,
                        label=name)
        low = errors[name] < bottom
        if low.any():
            zeros = True
            ax.plot(steps[low], np.full(low.sum(), bottom), "v", color=line.get_color(),
                    ms=7, clip_on=False, label="_zeros")
    if len(steps) <= 12:
        ax.set_xticks(steps, [str(step) for step in steps])
        ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlim(-0.3 if steps.min() == 0 else steps.min() / 1.5, steps.max() * 1.5)
    ax.set_ylim(bottom, top)
    ax.set(xlabel="training step of the check (log scale after step 1)",
           ylabel="largest relative error",
           title=title if title is not None else "gradient check errors during training")
    handles, labels = ax.get_legend_handles_labels()
    if zeros:
        handles.append(_zero_handle())
    ax.legend(handles=handles, ncol=2, fontsize=8, loc="upper left", framealpha=0.85)
    return _finish(ax, show)
