"""Plots return what they drew on and never show it unless asked."""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import minnet
from minnet import plot
from minnet.checker import step_size_sweep
from minnet.datasets import make_moons


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
    assert [line.get_label() for line in acc_ax.lines] == ["training", "validation"]
    assert no_show == []
    plot.training_curves(trained[3], show=True)
    assert no_show == [True]


def test_decision_regions_show_a_trained_boundary(trained):
    net, X, y, _ = trained
    ax = plot.decision_regions(net, X, y, resolution=50)
    assert "% right" in ax.get_title() and net.accuracy(X, y) > 0.95
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 2\), got \(4, 3\)"):
        plot.decision_regions(net, np.ones((4, 3)), np.zeros(4))


def test_check_plots(trained):
    net, X, y, history = trained
    report = minnet.check_net(net, X[:8], y[:8])
    ax = plot.check_report(report, title="after training")
    assert ax.get_title() == "after training" and len(ax.containers[0]) == len(report.rows)
    ax = plot.checks_over_training(history.checks)
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] \
        == ["W1", "b1", "W2", "b2"]
    assert list(ax.get_lines()[0].get_xdata()) == [0, 40, 100]
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
