"""Plots return what they drew on, never show it unless asked, and draw what they say."""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

import minnet
from minnet import demo, plot
from minnet.checker import step_size_sweep
from minnet.checker.compare import relative_denominator
from minnet.checker.report import CheckRow
from minnet.datasets import make_moons
from minnet.train import History


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: shown.append(True))
    yield shown
    plt.close("all")


@pytest.fixture(scope="module")
def trained():
    X, y = make_moons(n=200, noise=0.1, seed=0)
    net = minnet.Net.mlp([2, 16, 2], activation="tanh", seed=0)
    history = minnet.fit(net, X, y, minnet.Adam(0.02), epochs=150, batch_size=50,
                         val=(X, y), verbose=False, check_at=[0, 40, 100])
    return net, X, y, history


def test_training_curves(trained, no_show):
    fig = plot.training_curves(trained[3])
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), trained[3].loss)
    assert [line.get_label() for line in acc_ax.lines] == ["training set", "validation set"]
    assert no_show == []
    plot.training_curves(trained[3], show=True)
    assert no_show == [True]


def test_decision_regions_show_a_trained_boundary(trained):
    net, X, y, _ = trained
    ax = plot.decision_regions(net, X, y, resolution=50)
    assert net.accuracy(X, y) > 0.95
    # the colored grid is net.predict at the center of each pixel of the image's extent
    left, right, bottom, top = ax.images[0].get_extent()
    image = np.asarray(ax.images[0].get_array())
    assert image.shape == (50, 50) and ax.images[0].origin == "lower"
    xs = left + (np.arange(50) + 0.5) * (right - left) / 50
    ys = bottom + (np.arange(50) + 0.5) * (top - bottom) / 50
    rows = np.array([net.predict(np.column_stack([xs, np.full(50, v)])) for v in ys])
    np.testing.assert_array_equal(image, rows)
    assert len(np.unique(rows)) == 2  # the boundary crosses the plot
    assert left <= X[:, 0].min() and right >= X[:, 0].max()
    assert bottom <= X[:, 1].min() and top >= X[:, 1].max()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["class 0", "class 1"]
    assert "true class" in ax.get_legend().get_title().get_text()
    assert ax.get_title() == f"training accuracy {100 * net.accuracy(X, y):.1f}%"
    assert ax.get_xlabel() and ax.get_ylabel()
    ax = plot.decision_regions(net, X[::3], y[::3], split="test", title="tanh net",
                               class_names=["upper moon", "lower moon"], resolution=10)
    assert ax.get_title() == f"tanh net\ntest accuracy {100 * net.accuracy(X[::3], y[::3]):.1f}%"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["upper moon",
                                                                          "lower moon"]
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 2\), got \(4, 3\)"):
        plot.decision_regions(net, np.ones((4, 3)), np.zeros(4))


def test_check_plots(trained):
    net, X, y, history = trained
    report = minnet.check_net(net, X[:8], y[:8])
    ax = plot.check_report(report, title="after training")
    assert ax.get_title() == "after training" and len(ax.containers[0]) == len(report.rows)
    ax = plot.checks_over_training(history.checks)
    curves = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in curves] == ["W1", "b1", "W2", "b2"]
    assert list(curves[0].get_xdata()) == [0, 40, 100]
    with pytest.raises(ValueError, match="no checks"):
        plot.checks_over_training([])


def test_step_sweep_draws_each_method_and_marks_default_steps():
    sweeps = {method: step_size_sweep(np.sin, 1.0, np.cos(1.0), method=method)
              for method in ("forward", "central", "complex")}
    ax = plot.step_sweep(sweeps)
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["forward", "central", "complex"]
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(dotted) == 2  # forward and central; the complex step has no rounding side


def test_save_writes_a_cropped_png_and_closes_the_figure_only_where_nothing_shows_it(tmp_path):
    assert matplotlib.get_backend().lower() == "agg"
    assert not plot.displays_figures()
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    path = plot.save(ax, "line.png", folder=str(tmp_path / "new"))
    assert path == str(tmp_path / "new" / "line.png")
    assert (tmp_path / "new" / "line.png").read_bytes()[:4] == b"\x89PNG"
    assert not plt.fignum_exists(fig.number)  # Agg: closed, so figures do not pile up
    plt.switch_backend("module://matplotlib_inline.backend_inline")
    try:
        assert plot.displays_figures()
        fig, ax = plt.subplots()
        plot.save(fig, "kept.png", folder=str(tmp_path))
        assert plt.fignum_exists(fig.number)  # inline: open, so the notebook shows it
        assert (tmp_path / "kept.png").exists()
    finally:
        plt.close("all")
        plt.switch_backend("agg")


def test_save_uses_the_figures_folder_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MINNET_FIGURES", str(tmp_path / "lesson"))
    fig, _ = plt.subplots()
    assert plot.save(fig, "01_x.png") == str(tmp_path / "lesson" / "01_x.png")
    assert (tmp_path / "lesson" / "01_x.png").exists()


def _history(val_loss=None, epochs=4, per_epoch=10):
    rng = np.random.default_rng(0)
    steps = epochs * per_epoch
    history = History(loss=list(np.exp(-np.arange(steps) / 10) + 0.1 * rng.random(steps)),
                      train_acc=list(np.linspace(0.5, 0.9, epochs)),
                      val_acc=list(np.linspace(0.4, 0.8, epochs)))
    if val_loss is not None:
        history.val_loss = val_loss
    return history


def test_training_curves_log_loss_smoothing_epochs_and_validation_loss():
    history = _history(val_loss=[0.9, 0.6, 0.5, 0.45])
    fig = plot.training_curves(history, title="the loss falls")
    loss_ax = fig.axes[0]
    assert loss_ax.get_yscale() == "log"
    assert fig._suptitle.get_text() == "the loss falls"
    assert loss_ax.get_xlabel() == "step (one mini-batch)"
    lines = {line.get_label(): line for line in loss_ax.lines}
    k = plot.smoothing_window(40)
    assert k == 2
    smooth = lines[f"mean of the last {k} steps"]
    loss = np.array(history.loss)
    expected = [loss[i - k + 1:i + 1].mean() for i in range(k - 1, len(loss))]
    np.testing.assert_allclose(smooth.get_ydata(), expected)
    np.testing.assert_array_equal(smooth.get_xdata(), np.arange(k, len(loss) + 1))
    val = lines["validation loss (after each epoch)"]
    np.testing.assert_array_equal(val.get_xdata(), [10, 20, 30, 40])  # the end of each epoch
    np.testing.assert_array_equal(val.get_ydata(), history.val_loss)
    epoch_axis = [child for child in loss_ax.child_axes if child.get_xlabel() == "epoch"]
    assert len(epoch_axis) == 1  # steps below, epochs on top
    assert "validation loss" in loss_ax.get_title()


def test_training_curves_without_validation_loss_or_with_a_zero_loss():
    history = _history()
    fig = plot.training_curves(history, window=5)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["each step (one mini-batch)", "mean of the last 5 steps"]
    history.val_loss = []
    assert len(plot.training_curves(history).axes[0].lines) == 2
    history.loss[3] = 0.0  # a hinge loss can reach 0: no log axis then
    fig = plot.training_curves(history)
    assert fig.axes[0].get_yscale() == "linear" and "reaches 0" in fig.axes[0].get_ylabel()


@pytest.fixture(scope="module")
def demo_reports():
    found = demo.run(epochs=2, seed=0, out=None, verbose=False)
    return found["before"], found["after"], found["broken"]


def _band_labels(ax):
    return [text.get_text() for text in ax.texts]


def test_check_report_bars_ticks_bands_legend_and_a_bottom_that_fits_the_data(demo_reports):
    for report in demo_reports:
        ax = plot.check_report(report)
        assert ax.get_yscale() == "log"
        assert [label.get_text() for label in ax.get_xticklabels()] == \
            [row.name for row in report.rows]  # a bar per tensor, in the report's order
        bars = ax.containers[0]
        heights = np.array([bar.get_height() for bar in bars])
        np.testing.assert_array_equal(heights, [row.max_rel_error for row in report.rows])
        ticks = ax.collections[0].get_offsets()
        assert len(ticks) == len(report.rows)  # every bound inside the axis here
        for row, height, (_, tick) in zip(report.rows, heights, ticks):
            assert tick == plot.allowed_error(row)
            # the tick explains the color: a passing bar stays under it, a failing one not
            assert (height <= tick) if row.result == "PASS" else (height > tick)
        # the bars' colors say PASS or FAIL, not the band the error falls in
        colors = {tuple(bar.get_facecolor()[:3]) for bar in bars}
        assert colors == {to_rgb(plot.RESULT_COLORS[row.result]) for row in report.rows}
        low, high = ax.get_ylim()
        values = np.concatenate([heights, ticks[:, 1]])
        assert low <= values.min() < 100 * low  # the bottom adapts: no empty decades
        assert high >= 10
        labels = _band_labels(ax)
        for name, span in (("wrong", "above 1e-2"), ("suspicious", "1e-4 to 1e-2"),
                           ("acceptable", "1e-7 to 1e-4")):
            assert f"{name}\n{span}" in labels
        legend = [text.get_text() for text in ax.get_legend().get_texts()]
        assert any(text.startswith("PASS") for text in legend)
        assert any(text.startswith("allowed error") for text in legend)
    assert demo_reports[2].failed and any(text.startswith("FAIL") for text in legend)
    assert plot.check_report(demo_reports[0], legend=False).get_legend() is None


def test_check_report_shares_one_bottom_and_marks_errors_below_it(demo_reports):
    before, after, _ = demo_reports
    bottom = plot.report_floor(before, after)
    assert bottom == min(plot.report_floor(before), plot.report_floor(after))
    ax = plot.check_report(after, bottom=bottom / 1e6)
    assert ax.get_ylim()[0] == bottom / 1e6
    assert "excellent\nbelow 1e-7" in _band_labels(ax)
    ax = plot.check_report(after, bottom=1e-3)  # most errors fall below this bottom
    below = [row for row in after.rows if row.max_rel_error < 1e-3]
    marks = ax.collections[-1]
    assert len(marks.get_offsets()) == len(below) > 0
    np.testing.assert_array_equal(marks.get_offsets()[:, 1], 1e-3)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "error 0 (or below the axis): drawn on the bottom edge" in legend


def test_error_floor_is_a_decade_or_two_below_the_smallest_value():
    assert plot.error_floor([3e-9, 1e-2]) == pytest.approx(1e-9)
    assert plot.error_floor([1.5e-11, 0.0]) == pytest.approx(1e-12)  # off the very edge
    assert plot.error_floor([1e-20]) == 1e-16  # float64 resolves nothing finer
    assert plot.error_floor([3e-6, 0.5]) == 1e-8  # the excellent band always shows a little
    assert plot.error_floor([0.0, np.nan]) == 1e-8


def test_step_sweep_names_the_function_and_draws_exact_zeros_on_the_bottom_edge():
    steps = np.array([1e-8, 1e-6, 1e-4])
    sweeps = {"complex": (steps, np.array([0.0, 1e-12, 1e-8])),
              "central": (steps, np.array([1e-8, 1e-10, 1e-8]))}
    ax = plot.step_sweep(sweeps, function="f(x) = sin(x)", x0=1.0, title="a V")
    assert ax.get_title() == "a V\nderivatives of f(x) = sin(x) at x = 1, against the step h"
    bottom = ax.get_ylim()[0]
    assert bottom == pytest.approx(1e-13)  # a decade below the smallest nonzero error
    zeros = [line for line in ax.get_lines() if line.get_label() == "_zeros"]
    assert len(zeros) == 1
    np.testing.assert_array_equal(zeros[0].get_xdata(), [1e-8])
    np.testing.assert_array_equal(zeros[0].get_ydata(), [bottom])
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "error exactly 0: drawn on the bottom edge" in legend


def test_checks_over_training_spreads_early_checks_and_labels_the_bands(trained):
    ax = plot.checks_over_training(trained[3].checks)
    assert ax.get_xscale() == "symlog"
    positions = ax.transData.transform([(0, 1), (40, 1), (100, 1)])[:, 0]
    assert positions[1] - positions[0] > positions[2] - positions[1]  # 0 and 40 apart
    labels = _band_labels(ax)
    assert "wrong\nabove 1e-2" in labels and "acceptable\n1e-7 to 1e-4" in labels


def test_a_refused_plot_opens_no_figure_and_leaves_the_axes_it_was_given_blank(trained):
    net, X, y, history = trained
    report = history.checks[0][1]
    uneven = History(loss=[1.0, 0.5], train_acc=[0.5, 0.6], val_acc=[0.4])
    refusals = [
        (lambda: plot.checks_over_training([]), "no checks"),
        (lambda: plot.checks_over_training(history.checks, bottom=-1.0), "bottom must be"),
        (lambda: plot.decision_regions(net, np.ones((4, 3)), np.zeros(4)),
         r"expected X of shape \(N, 2\), got \(4, 3\)"),
        (lambda: plot.decision_regions(net, X, y[:-1]), r"expected y of shape \(200,\)"),
        (lambda: plot.decision_regions(net, X, y, resolution=0), "resolution"),
        (lambda: plot.training_curves(uneven), r"val_acc holds 1 and history.train_acc 2"),
        (lambda: plot.check_report(report, bottom=0.0), "bottom must be"),
        (lambda: plot.step_sweep({}), "no sweeps"),
        (lambda: plot.step_sweep({"central": ([1e-4, 1e-5], [1e-8])}), "'central'.*2 steps"),
    ]
    before = plt.get_fignums()
    for refuse, message in refusals:
        with pytest.raises(ValueError, match=message):
            refuse()
        assert plt.get_fignums() == before, message  # no empty figure left for a notebook
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="expected y"):
        plot.decision_regions(net, X, y[:-1], ax=ax)
    assert not ax.images and not ax.collections and ax.get_title() == ""


def test_the_loss_axis_reads_as_plain_numbers():
    history = _history()
    history.loss = list(np.geomspace(40, 0.3, len(history.loss)))
    fig = plot.training_curves(history)
    fig.canvas.draw()
    loss_ax = fig.axes[0]
    bottom, top = loss_ax.get_ylim()
    shown = {label.get_position()[1]: label.get_text()
             for label in loss_ax.get_yticklabels(which="both")
             if label.get_text() and bottom <= label.get_position()[1] <= top}
    # each label is its tick's value as a plain number: 40, not 4 x 10^1
    assert all(text == f"{value:g}" for value, text in shown.items()), shown
    assert {"0.3", "1", "10", "40"} <= set(shown.values())


def _row(result, differs=None):
    # probe 0: relative error |2 - 1.9| / 2 = 0.05; probe 1, two near-zero values:
    # |1e-10 - 1e-9| / 1e-8 (the floor) = 0.09, the largest
    return CheckRow("W", (2,), 2, 0, 0, 0.09, 0.0, "wrong", result, [],
                    analytic=np.array([2.0, 1e-10]), numerical=np.array([1.9, 1e-9]),
                    allowed=np.array([0.3, 1e-9]), differs=differs, tolerance=0.5)


def test_allowed_error_is_the_allowance_of_the_bar_s_probe_relative_to_the_floored_size():
    np.testing.assert_array_equal(relative_denominator([2.0, -3.0, 1e-10, 0.0],
                                                       [1.9, 1.0, -1e-9, 0.0]),
                                  [2.0, 3.0, 1e-8, 1e-8])
    assert plot.allowed_error(_row("PASS")) == pytest.approx(1e-9 / 1e-8)  # probe 1's
    # a FAIL bar shows the worst probe that differs: probe 0, allowed 0.3 of a size of 2
    assert plot.allowed_error(_row("FAIL", np.array([True, False]))) == pytest.approx(0.15)
    no_probes = _row("PASS")
    no_probes.allowed = None
    assert plot.allowed_error(no_probes) == 0.5  # the row's tolerance
