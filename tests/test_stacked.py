"""The stacked fast path of check_net: the same coordinates and verdicts as the plain loop."""
import numpy as np
import pytest

from minnet import RNN, Dropout, Net, TemporalSoftmaxLoss, TimeAffine, bugs
from minnet.checker import check_net
from minnet.checker.stacked import StackedLoss, stackable
from minnet.course.quiz import quiz_net_for, quiz_net


def assert_same(fast, plain):
    assert fast.passed == plain.passed and fast.failed == plain.failed
    for a, b in zip(fast.rows, plain.rows):
        assert (a.name, a.checked, a.kinks, a.indices) == (b.name, b.checked, b.kinks, b.indices)
        # estimates may differ by rounding only (forward differences: about eps / h ~ 1e-8)
        np.testing.assert_allclose(a.numerical, b.numerical, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", ["SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss",
                                  "TemporalSoftmaxLoss"])
@pytest.mark.parametrize("options", [{}, {"part": "data"}, {"part": "reg"}, {"method": "forward"},
                                     {"method": "fivepoint"}, {"loss_scale": 100.0},
                                     {"sample": 5}, {"h": 1e-4}])
def test_stacked_and_plain_checks_agree(loss, options):
    net, X, y = quiz_net(loss, np.random.default_rng(3))
    assert stackable(net)
    assert_same(check_net(net, X, y, **options), check_net(net, X, y, stacked=False, **options))


@pytest.mark.parametrize("name", [bug.name for bug in bugs.catalogue()])
def test_every_bug_is_localized_the_same_way(name):
    bug = bugs.get(name)
    net, X, y = quiz_net(quiz_net_for(bug), np.random.default_rng(1))
    site = (bugs.applicable_layers(net, name) or [None])[-1]
    with bugs.inject(net, name, layer=site):
        fast = check_net(net, X, y)
        plain = check_net(net, X, y, stacked=False)
    assert fast.failed == plain.failed


def test_kinks_are_seen_in_stacked_evaluations():
    net, X, y = quiz_net("SoftmaxLoss", np.random.default_rng(0))
    # Put a pre-activation of the ReLU (layer 1) right at its kink: z = x @ W1 + b1 = 1e-9.
    net.params["b1"][2] -= (net.forward(X)[0:0].sum() + (X @ net.params["W1"] + net.params["b1"])[0, 2]
                            - 1e-9)
    fast, plain = check_net(net, X, y), check_net(net, X, y, stacked=False)
    assert fast.passed and plain.passed
    assert fast["b1"].kinks + fast["b1"].one_sided >= 1
    assert_same(fast, plain)


def test_stacked_losses_equal_the_nets_own_loss():
    rng = np.random.default_rng(2)
    net = Net([RNN(3, 4, rng=rng), Dropout(0.7, seed=1), TimeAffine(4, 5, rng=rng)],
              TemporalSoftmaxLoss(), reg=0.1)
    X, y = rng.standard_normal((2, 3, 3)), rng.integers(0, 5, (2, 3))
    batch = StackedLoss(net, X, y, "total", 1.0)
    for name, value in net.params.items():
        flat = np.arange(min(4, value.size))
        deltas = 1e-3 * (1 + flat)
        losses, crossed = batch(name, flat, deltas)
        for k, delta, got in zip(flat, deltas, losses):
            old = value.flat[k]
            value.flat[k] = old + delta
            expected = net.loss(X, y)
            value.flat[k] = old
            assert got == pytest.approx(expected, rel=1e-12)
        assert not crossed.any()


@pytest.mark.parametrize("loss", ["SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss",
                                  "TemporalSoftmaxLoss"])
def test_losses_along_directions_equal_the_nets_own_loss(loss):
    net, X, y = quiz_net(loss, np.random.default_rng(4))
    net.reg = 0.1
    batch = StackedLoss(net, X, y, "total", 1.0)
    rng = np.random.default_rng(5)
    for name, value in net.params.items():
        V = rng.standard_normal((3,) + value.shape)
        ts = np.array([1e-3, -2e-3, 5e-4])
        losses, crossed = batch.along(name, V, ts)
        origin = value.copy()
        for v, t, got in zip(V, ts, losses):
            value[...] = origin + t * v
            expected = net.loss(X, y)
            value[...] = origin
            assert got == pytest.approx(expected, rel=1e-12), name
        assert crossed.dtype == bool and crossed.shape == (3,)


@pytest.mark.parametrize("hidden", [(7,), (9, 5)])
def test_the_chunk_size_changes_nothing(hidden, monkeypatch):
    rng = np.random.default_rng(6)
    net = Net.mlp([4, *hidden, 3], activation="tanh", keep_prob=0.8, reg=0.01, seed=2)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    reference = check_net(net, X, y)
    from minnet.checker import stacked
    monkeypatch.setattr(stacked, "VALUES_PER_PASS", 1)  # one perturbation per pass
    assert_same(check_net(net, X, y), reference)
