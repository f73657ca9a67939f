import os
import sys

import numpy as np
import pytest

import classic_exercise as classic
from helpers import assert_unchanged, data, snapshot, with_bug
import minnet
from minnet import (Affine, Dropout, Layer, MSELoss, Net, ReLU, SGD, Sigmoid,
                    SigmoidCrossEntropy, SoftmaxLoss, Tanh, fit)
from minnet.checker import (RELATIVE_STEPS, ForwardChangedParametersError,
                            NondeterministicForwardError, band, check_layer, check_loss,
                            check_net, difference, eval_numerical_gradient,
                            eval_numerical_gradient_array, gradient_check, gradient_check_n,
                            numerical_gradient, numerical_gradient_array, relative_error,
                            step_size_sweep)


# -- 1. numerical derivatives ----------------------------------------------------------

def test_simple_derivative_x_squared_plus_3x_at_2_is_7():
    f = lambda x: float(x[0] ** 2 + 3 * x[0])  # noqa: E731
    x = np.array([2.0])
    assert numerical_gradient(f, x, h=0.001)[0] == pytest.approx(7, abs=1e-9)
    assert numerical_gradient(f, x, h=0.001, method="forward")[0] == pytest.approx(7.001)
    assert numerical_gradient(f, x, h=0.001, method="backward")[0] == pytest.approx(6.999)
    assert numerical_gradient(lambda z: z[0] ** 2 + 3 * z[0], x, h=1e-20,
                              method="complex")[0] == pytest.approx(7, abs=2e-15)
    assert x[0] == 2.0


@pytest.mark.parametrize("method, order", [("forward", 1), ("backward", 1), ("central", 2),
                                           ("fivepoint", 4)])
def test_error_orders_by_halving_the_step(method, order):
    # exp at 0.5: halving h divides the truncation error by 2**order.
    x = np.array([0.5])
    exact = np.exp(0.5)
    h = {"forward": 1e-3, "backward": 1e-3, "central": 1e-2, "fivepoint": 1e-1}[method]
    e1 = abs(numerical_gradient(lambda z: np.exp(z[0]), x, h=h, method=method)[0] - exact)
    e2 = abs(numerical_gradient(lambda z: np.exp(z[0]), x, h=h / 2, method=method)[0] - exact)
    assert e1 / e2 == pytest.approx(2 ** order, rel=0.05)


def test_complex_step_has_no_cancellation_error():
    x = np.array([0.7, -1.3])
    grad = numerical_gradient(lambda z: np.sum(np.sin(z) * np.exp(z)), x, h=1e-20,
                              method="complex")
    exact = np.exp(x) * (np.sin(x) + np.cos(x))
    np.testing.assert_allclose(grad, exact, rtol=2e-16 * 4)
    # The central difference cannot use such a step.
    with pytest.raises(ValueError, match="too small for float64"):
        numerical_gradient(lambda z: np.sum(np.sin(z)), x, h=1e-20)


def test_numerical_gradient_restores_x_and_accepts_the_array_argument():
    x = np.array([[1.0, 2.0], [3.0, -4.0]])
    before = x.copy()
    grad = numerical_gradient(lambda z: np.sum(z**3), x)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-9)
    assert x.tobytes() == before.tobytes()

    def exploding(z):
        if z[1, 1] != -4.0:
            raise KeyboardInterrupt
        return 0.0

    with pytest.raises(KeyboardInterrupt):
        numerical_gradient(exploding, x)
    assert x.tobytes() == before.tobytes()


def test_course_assignment_names_work_with_closures():
    # cs231n style: f ignores its argument and reads the array that is perturbed in place.
    W = np.random.default_rng(0).standard_normal((3, 2))
    X = np.random.default_rng(1).standard_normal((4, 3))
    grad = eval_numerical_gradient(lambda _: np.sum((X @ W) ** 2), W)
    np.testing.assert_allclose(grad, X.T @ (2 * X @ W), rtol=1e-8)
    dout = np.random.default_rng(2).standard_normal((4, 2))
    dX = eval_numerical_gradient_array(lambda x: x @ W, X, dout)
    np.testing.assert_allclose(dX, dout @ W.T, rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient_array(lambda x: x @ W, X, dout), dX, rtol=1e-6)


def test_eval_numerical_gradient_verbose_prints_every_coordinate(capsys):
    eval_numerical_gradient(lambda x: np.sum(x**2), np.array([1.0, 2.0]), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["(0,)", "(1,)"]
    assert [float(line.split()[1]) for line in lines] == pytest.approx([2.0, 4.0], abs=1e-9)


# -- 2. step size ------------------------------------------------------------------------

def test_default_steps_follow_the_error_balance():
    eps = np.finfo(float).eps
    assert RELATIVE_STEPS["central"] == pytest.approx(eps ** (1 / 3))
    assert RELATIVE_STEPS["forward"] == pytest.approx(eps ** 0.5)
    assert RELATIVE_STEPS["fivepoint"] == pytest.approx(eps ** 0.2)


def test_step_size_sweep_is_v_shaped_with_its_minimum_near_eps_cube_root():
    steps, errors = step_size_sweep(np.exp, 1.0, exact=np.e)
    best = steps[np.argmin(errors)]
    assert 1e-7 <= best <= 1e-4
    assert errors.min() < 1e-10
    assert errors[0] > 1e-3 and errors[-1] > 1e-2   # rounding at 1e-16, truncation at 1
    left, right = errors[: np.argmin(errors)], errors[np.argmin(errors):]
    assert np.mean(np.diff(np.log(left)) < 0) > 0.7   # falling towards the minimum...
    assert np.mean(np.diff(np.log(right)) > 0) > 0.7  # ...and rising after it
    _, complex_errors = step_size_sweep(np.exp, 1.0, exact=np.e, method="complex",
                                        steps=np.logspace(-30, -8, 12))
    assert complex_errors.max() < 1e-15                # no V: no rounding side


# -- 3. relative error and difference ----------------------------------------------------

def test_relative_error_elementwise_with_floor():
    np.testing.assert_allclose(relative_error(np.array([1.0, 2.0, 1e-12, 0.0]),
                                              np.array([1.1, 2.0, 2e-12, 0.0])),
                               [0.1 / 1.1, 0.0, 1e-12 / 1e-8, 0.0])


def test_difference_norm_form():
    assert difference(np.array([3.0, 4.0]), np.array([3.0, 4.0])) == 0.0
    assert difference(np.array([1.0, 0.0]), np.array([0.0, 0.0])) == 1.0
    assert difference(np.zeros(3), np.zeros(3)) == 0.0
    assert difference(np.array([2.0]), np.array([1.0])) == pytest.approx(1 / 3)


# -- 4. verdict bands --------------------------------------------------------------------

@pytest.mark.parametrize("error, name", [(0.5, "wrong"), (2e-2, "wrong"), (1e-3, "suspicious"),
                                         (1e-5, "acceptable"), (1e-8, "excellent"),
                                         (0.0, "excellent")])
def test_bands(error, name):
    assert band(error) == name


# -- the classic exercises ---------------------------------------------------------------

def test_one_dimensional_check():
    assert gradient_check(lambda x, t: t * x, lambda x, t: x, 2, 4) == pytest.approx(
        2.919e-10, rel=1e-3)


def test_classic_n_dimensional_check_finds_both_injected_bugs():
    X, Y, params = classic.test_case()
    cost, cache = classic.forward(X, Y, params)
    grads = classic.backward(X, Y, params, cache)
    before = {k: v.copy() for k, v in params.items()}
    report = gradient_check_n(lambda p: classic.forward(X, Y, p), params, grads, epsilon=1e-7)
    assert report.difference == pytest.approx(0.2850931568, abs=1e-10)
    assert sorted(report.failed) == ["W2", "b1"]
    assert report["W2"].band == report["b1"].band == "wrong"
    index, analytic, numerical = report["b1"].worst[0]
    assert analytic == pytest.approx(4 * numerical, rel=1e-5)  # db1 is 4 times too large
    assert all(params[k].tobytes() == before[k].tobytes() for k in params)
    assert "FAILED: b1, W2" in str(report)


def test_classic_fixed_backward_is_called_correct_and_the_threshold_explained():
    X, Y, params = classic.test_case()
    cost, cache = classic.forward(X, Y, params)
    grads = classic.backward(X, Y, params, cache, fixed=True)
    report = gradient_check_n(lambda p: classic.forward(X, Y, p), params, grads, epsilon=1e-7)
    assert report.difference == pytest.approx(1.189e-7, rel=1e-3)
    # between the 1-D exercise's 1e-7 and the N-dimensional exercise's own 2e-7
    assert 1e-7 < report.difference < 2e-7
    assert report.passed
    assert report.notes[0] == "difference 1.189e-07 (below the classic 2e-7 threshold)"
    # A smaller step pushes the correct code's difference above 2e-7: the note says why.
    smaller = gradient_check_n(lambda p: classic.forward(X, Y, p), params, grads, epsilon=1e-8)
    assert smaller.passed and smaller.difference > 2e-7
    assert "above 2e-7 a mistake" in smaller.notes[0] and "rounding error" in smaller.notes[0]
    # With a sensible step the classic number falls well below 1e-7.
    better = gradient_check_n(lambda p: classic.forward(X, Y, p), params, grads, epsilon=1e-5)
    assert better.passed and better.difference < 1e-8


# -- 5. double precision -----------------------------------------------------------------

def test_float32_net_is_checked_in_float64_and_left_untouched():
    net = Net.mlp([5, 7, 3], activation="tanh", seed=0, dtype=np.float32)
    before = snapshot(net)
    report = check_net(net, *data())
    assert report.passed, str(report)
    assert any("float32" in note and "float64" in note for note in report.notes)
    assert net.dtype == np.float32
    assert_unchanged(net, before)
    # float32 itself would be hopeless: its rounding error at the default step is ~1e-2.
    assert max(row.max_rel_error for row in report.rows) < 1e-6


# -- 6. kinks ----------------------------------------------------------------------------

def test_relu_layer_with_inputs_on_and_near_the_kink_passes():
    x = np.array([[0.0, 1e-7, -1e-7, 2e-6], [-3e-6, 0.5, 0.0, -0.5]])
    report = check_layer(ReLU(), x, seed=0)
    assert report.passed, str(report)
    row = report["x"]
    assert row.kinks + row.one_sided >= 5  # every entry within a step of 0
    assert row.checked + row.kinks == 8


def test_relu_net_with_pre_activations_placed_at_zero_passes():
    rng = np.random.default_rng(3)
    net = Net.mlp([4, 6, 6, 3], seed=3)
    X = rng.standard_normal((5, 4))
    # Choose b1 so that several first-layer pre-activations are exactly 0 or within h of 0.
    Z = X @ net.params["W1"]
    net.params["b1"][:] = -Z[0]
    net.params["b1"][:3] += np.array([0.0, 3e-6, -3e-6])
    report = check_net(net, X, rng.integers(0, 3, 5))
    assert report.passed, str(report)
    assert sum(row.kinks + row.one_sided for row in report.rows) > 0


def test_kinks_do_not_hide_a_wrong_relu_mask():
    class LeakyMaskReLU(ReLU):
        def backward(self, dout):
            return dout * (self.mask | (self.kink_state() == 0))  # passes everything through

    x = np.array([[0.0, 1e-7, -0.3, 0.2], [-0.6, 0.5, 0.0, -0.5]])
    report = check_layer(LeakyMaskReLU(), x, seed=0)
    assert report.failed == ["x"]


# -- 7. dropout seeds --------------------------------------------------------------------

def test_unseeded_dropout_is_fixed_during_the_check_and_restored_after():
    net = Net.mlp([5, 10, 3], keep_prob=0.5, seed=0)
    dropout = net.layers[2]
    X, y = data()
    state = dropout.rng.bit_generator.state
    report = check_net(net, X, y)
    assert report.passed, str(report)
    assert dropout.seed is None
    assert dropout.rng.bit_generator.state == state


def test_nondeterministic_forward_is_refused_with_an_explanation():
    class NoisyLayer(Layer):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(0)

        def forward(self, x):
            return x * (1 + 1e-3 * self.rng.standard_normal())

        def backward(self, dout):
            return dout

    net = Net([Affine(5, 3, rng=0), NoisyLayer()], SoftmaxLoss())
    with pytest.raises(NondeterministicForwardError, match="not deterministic.*2h"):
        check_net(net, *data())


# -- 8. checking a subset ----------------------------------------------------------------

def test_sampled_check_covers_every_tensor_and_is_seeded():
    net = Net.mlp([5, 8, 6, 3], seed=1)
    X, y = data()
    report = check_net(net, X, y, sample=4, seed=7)
    assert [row.name for row in report.rows] == list(net.params)
    for row in report.rows:
        assert row.checked + row.kinks == min(4, int(np.prod(row.shape)))
    again = check_net(net, X, y, sample=4, seed=7)
    assert [row.indices for row in again.rows] == [row.indices for row in report.rows]
    other = check_net(net, X, y, sample=4, seed=8)
    assert [row.indices for row in other.rows] != [row.indices for row in report.rows]


def test_auto_sampling_beyond_ten_thousand_parameters():
    small = check_net(Net.mlp([5, 8, 3], seed=0), *data())
    assert sum(row.checked + row.kinks for row in small.rows) == 5 * 8 + 8 + 8 * 3 + 3
    big = Net.mlp([64, 128, 64, 10], activation="tanh", seed=0)  # 17,226 parameters
    X = np.random.default_rng(0).standard_normal((4, 64))
    report = check_net(big, X, np.array([0, 1, 2, 3]))
    assert report.passed
    assert [row.checked + row.kinks for row in report.rows] == [200, 128, 200, 64, 200, 10]
    assert any("sampled up to 200 coordinates per tensor" in note for note in report.notes)


# -- 9. checks during training -----------------------------------------------------------

def test_fit_checks_at_the_requested_steps_without_changing_training():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)
    plain = Net.mlp([4, 8, 3], keep_prob=0.8, seed=1)
    checked = Net.mlp([4, 8, 3], keep_prob=0.8, seed=1)
    h1 = fit(plain, X, y, SGD(0.1), epochs=5, batch_size=10, verbose=False)
    h2 = fit(checked, X, y, SGD(0.1), epochs=5, batch_size=10, verbose=False,
             check_at=[0, 20, 30], check_size=8)
    assert [step for step, _ in h2.checks] == [0, 20, 30]
    assert all(report.passed for _, report in h2.checks)
    assert h1.loss == h2.loss
    assert_unchanged(checked, plain.params)


def learnable_classes(N=20):
    """X: (N, 4), y: (N,) in 0..2, the largest of X's first three features raised by 2:
    a net learns it within an epoch (fit warns when training learns nothing)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, 4))
    y = X[:, :3].argmax(axis=1)
    X[np.arange(N), y] += 2.0
    return X, y


def test_fit_reports_a_failing_check(capsys):
    X, y = learnable_classes()
    net = with_bug(Net.mlp([4, 8, 3], seed=1), lambda g: {**g, "W1": 2 * g["W1"]})
    history = fit(net, X, y, SGD(0.1), epochs=1, batch_size=10, check_at=[1])
    assert "gradient check at step 1: FAILED (W1)" in capsys.readouterr().out
    assert history.checks[0][1].failed == ["W1"]


def test_fit_checks_are_fast_directional_unless_asked_otherwise():
    X, y = learnable_classes()
    fast = fit(Net.mlp([4, 8, 3], seed=1), X, y, SGD(0.1), epochs=1, batch_size=10,
               verbose=False, check_at=[0])
    full = fit(Net.mlp([4, 8, 3], seed=1), X, y, SGD(0.1), epochs=1, batch_size=10,
               verbose=False, check_at=[0], check_options={"fast": False})
    (_, fast_report), = fast.checks
    (_, full_report), = full.checks
    assert any(note.startswith("fast check: 3 random directions") for note in fast_report.notes)
    assert [row.checked for row in fast_report.rows] == [3] * 4
    assert [row.checked for row in full_report.rows] == [32, 8, 24, 3]
    assert len(fast.check_seconds) == 1 and 0 < fast.check_seconds[0] < fast.seconds[0]


def test_random_directions_are_seeded_unit_vectors_with_continuous_entries():
    from minnet.checker.engine import _unit_directions
    for shape in [(3, 4), (5,), (1,), (64, 128)]:
        V = _unit_directions(np.random.default_rng(0), shape, 3)
        assert V.shape == (3,) + shape
        np.testing.assert_allclose((V**2).reshape(3, -1).sum(axis=1), 1.0)
        np.testing.assert_array_equal(V, _unit_directions(np.random.default_rng(0), shape, 3))
    V = _unit_directions(np.random.default_rng(1), (64, 128), 3).reshape(3, -1)
    assert 0.45 < np.mean(V > 0) < 0.55 and len(np.unique(V)) == V.size
    assert _unit_directions(np.random.default_rng(0), (0, 2), 3).size == 0


def test_equal_errors_of_opposite_signs_do_not_cancel_in_the_fast_check():
    # A bias gradient off by +e and -e in two entries: directions of +-1 entries miss it
    # whenever their two signs agree (in 1 of 2 directions); continuous ones never do.
    net = Net.mlp([5, 4, 2], seed=0)
    misses = 0
    for seed in range(40):
        broken = with_bug(Net.mlp([5, 4, 2], seed=0),
                          lambda g: {**g, "b2": g["b2"] + np.array([0.1, -0.1])})
        misses += check_net(broken, *data(C=2), fast=True, seed=seed).failed != ["b2"]
    assert misses == 0
    assert check_net(net, *data(C=2), fast=True).passed


# -- 10. regularization must not hide data-loss bugs -------------------------------------

def test_parts_of_the_loss_are_checked_separately():
    X, y = data()
    net = Net.mlp([5, 6, 3], seed=0, reg=50.0)
    for part in ("total", "data", "reg"):
        assert check_net(net, X, y, part=part).passed, part
    report = check_net(net, X, y)
    assert any("regularization term dominates the gradient of W1" in n for n in report.notes)
    # A data-gradient bug: flagged when the data loss is checked on its own.
    shift = 1e-3 * np.abs(net.loss_and_grads(X, y)[1]["W2"]).mean()
    buggy = with_bug(Net.mlp([5, 6, 3], seed=0, reg=50.0),
                     lambda g: {**g, "W2": g["W2"] + shift})
    assert check_net(buggy, X, y, part="data").failed == ["W2"]
    assert check_net(buggy, X, y, part="reg").passed


def test_regularization_gradient_bug_is_found_in_the_reg_part():
    X, y = data()
    net = Net.mlp([5, 6, 3], seed=0, reg=0.1)
    net.params["b1"][:] = 0.5
    # The regularization gradient applied to the biases too: reg * b added to db
    # (net.reg, because the checker switches it off to get the data part alone).
    buggy = with_bug(net, lambda g: {k: v + net.reg * net.params[k] if k.startswith("b") else v
                                     for k, v in g.items()})
    assert check_net(buggy, X, y, part="data").passed
    assert check_net(buggy, X, y, part="reg").failed == ["b1"]
    assert check_net(buggy, X, y).failed == ["b1"]


# -- 11. tiny gradients ------------------------------------------------------------------

def test_tiny_gradients_of_a_tiny_loss_are_judged_and_a_doubled_one_caught():
    rng = np.random.default_rng(0)
    net = Net([Affine(3, 4, init=1e-4, rng=0), Tanh(), Affine(4, 2, init=1e-4, rng=1)],
              MSELoss())
    X, Y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)) * 1e-6
    report = check_net(net, X, Y)
    assert report.passed, str(report)
    assert all(row.unresolved == 0 for row in report.rows)  # a loss made of tiny numbers
    assert check_net(net, X, Y, loss_scale=1e8).passed
    buggy = with_bug(net, lambda g: {**g, "W1": 2 * g["W1"]})
    assert check_net(buggy, X, Y).failed == ["W1"]


# -- 12. localization --------------------------------------------------------------------

def test_a_single_wrong_coordinate_is_named():
    net = Net.mlp([5, 6, 3], seed=0)

    def corrupt(g):
        dW = g["W1"].copy()
        dW[2, 4] += 0.01
        return {**g, "W1": dW}

    report = check_net(with_bug(net, corrupt), *data())
    assert report.failed == ["W1"]
    index, analytic, numerical = report["W1"].worst[0]
    assert index == (2, 4)
    assert analytic - numerical == pytest.approx(0.01, rel=1e-5)
    assert "W1[2, 4]" in str(report)


# -- trustworthiness over many seeds -----------------------------------------------------

ACTIVATIONS = [ReLU, Tanh, Sigmoid]


def random_net(seed):
    """A random small net: depth, widths, activations, dropout, loss, reg, dtype and data."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(2, 7))] + [int(rng.integers(2, 9))
                                          for _ in range(rng.integers(1, 4))]
    loss = ["softmax", "sigmoid", "mse"][seed % 3]
    sizes.append(1 if loss == "sigmoid" else int(rng.integers(2, 5)))
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Affine(fan_in, fan_out, init=float(rng.choice([0.3, 1.0])), rng=rng))
        layers[-1].params["b"][:] = 0.1 * rng.standard_normal(fan_out)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[rng.integers(3)]())
            if rng.random() < 0.4:
                # Seeded, so that the gradients seen here are the ones the check sees.
                layers.append(Dropout(0.7, seed=int(rng.integers(1000))))
    loss_fn = {"softmax": SoftmaxLoss(), "sigmoid": SigmoidCrossEntropy(), "mse": MSELoss()}[loss]
    net = Net(layers, loss_fn, reg=float(rng.choice([0.0, 1e-3, 0.1])),
              dtype=[np.float64, np.float32][seed % 2])
    N = int(rng.integers(1, 9))
    X = rng.standard_normal((N, sizes[0]))
    X[rng.random(X.shape) < 0.2] = 0.0
    y = {"softmax": rng.integers(0, sizes[-1], N), "sigmoid": rng.integers(0, 2, N),
         "mse": rng.standard_normal((N, sizes[-1]))}[loss]
    return net, X, y


def test_no_false_alarms_on_correct_nets_over_many_seeds():
    failures = [seed for seed in range(300) if not check_net(*random_net(seed)).passed]
    print(f"\ncorrect random nets: {300 - len(failures)}/300 passed")
    assert failures == []


@pytest.mark.parametrize("how", ["tensor off by 0.1%", "one coordinate off"])
def test_small_bugs_are_caught_and_localized_over_many_seeds(how):
    caught = tried = 0
    for seed in range(150):
        net, X, y = random_net(seed)
        grads = net.loss_and_grads(X, y)[1]
        names = [k for k, g in grads.items() if np.abs(g).max() > 1e-6]  # observable bugs only
        if not names:
            continue
        name = names[seed % len(names)]
        k = int(np.argmax(np.abs(grads[name])))

        def corrupt(g, name=name, k=k):
            bad = np.array(g[name], dtype=np.float64)
            if how == "tensor off by 0.1%":
                bad *= 1.001
            else:
                bad.flat[k] += 1e-3 * abs(bad.flat[k])
            return {**g, name: bad}

        tried += 1
        caught += check_net(with_bug(net, corrupt), X, y).failed == [name]
    print(f"\n{how}: caught and localized {caught}/{tried}")
    assert caught == tried


@pytest.mark.parametrize("how", ["dW scaled by 1 + 1e-5", "largest entry of dW off by 1e-5"])
@pytest.mark.parametrize("seed", range(3))
def test_bugs_of_one_part_in_a_hundred_thousand_are_caught_in_float64(how, seed):
    # The pass rule asks for agreement to RTOL = 1e-6 beyond the difference quotient's own
    # error, which a smooth float64 net keeps far below 1e-5: a backward off by 1e-5
    # fails, and only in its own tensor.
    rng = np.random.default_rng(seed)
    net = Net([Affine(5, 6, rng=rng), Tanh(), Affine(6, 4, rng=rng), Sigmoid(),
               Affine(4, 3, rng=rng)], SoftmaxLoss(), reg=0.01)
    for name in ("b1", "b2", "b3"):
        net.params[name][:] = 0.1 * rng.standard_normal(net.params[name].shape)
    X, y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    assert check_net(net, X, y).passed

    def corrupt(grads):
        dW = np.array(grads["W2"])
        if how == "dW scaled by 1 + 1e-5":
            dW *= 1 + 1e-5
        else:
            dW.flat[np.argmax(np.abs(dW))] += 1e-5 * np.abs(dW).max()
        return {**grads, "W2": dW}

    report = check_net(with_bug(net, corrupt), X, y)
    assert not report.passed and report.failed == ["W2"]
    assert all(row.passed for row in report.rows if row.name != "W2")
    assert report["W2"].max_rel_error == pytest.approx(1e-5, rel=0.01)


# -- nothing lost ------------------------------------------------------------------------

class Tripwire(Layer):
    """Raises the given exception at its n-th forward: an interruption in the middle of a check."""

    def __init__(self, n, error):
        super().__init__()
        self.n, self.error, self.calls = n, error, 0

    def forward(self, x):
        self.calls += 1
        if self.calls == self.n:
            raise self.error
        return x

    def backward(self, dout):
        return dout


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("boom")])
@pytest.mark.parametrize("n", [1, 3, 10, 40])
def test_an_interrupted_check_loses_nothing(error, n):
    net = Net([Affine(5, 6, rng=0), ReLU(), Dropout(0.5, rng=1), Tripwire(n, error),
               Affine(6, 3, rng=2)], SoftmaxLoss(), reg=0.1, dtype=np.float32)
    net.eval().train()
    net.layers[1].training = False
    before = snapshot(net)
    state = net.layers[2].rng.bit_generator.state
    global_state = np.random.get_state()
    with pytest.raises(type(error)):
        check_net(net, *data())
    assert_unchanged(net, before)
    assert net.dtype == np.float32 and net.reg == 0.1
    assert [layer.training for layer in net.layers] == [True, False, True, True, True]
    assert net.layers[2].seed is None and net.layers[2].rng.bit_generator.state == state
    assert np.random.get_state()[1].tolist() == global_state[1].tolist()
    assert all(net.params[k] is layer.params[key] for k, layer, key in net._slots())


def test_check_layer_leaves_the_layer_and_x_untouched():
    layer = Affine(4, 3, rng=0)
    W = layer.params["W"]
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    x_before = x.copy()
    report = check_layer(layer, x)
    assert report.passed
    assert layer.params["W"] is W and x.tobytes() == x_before.tobytes()


# -- complex step on whole nets ----------------------------------------------------------

@pytest.mark.parametrize("loss", ["softmax", "sigmoid", "mse"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_complex_step_on_whole_nets_reaches_machine_precision(activation, loss):
    net = Net.mlp([5, 7, 6, 1 if loss == "sigmoid" else 3], activation=activation,
                  keep_prob=0.8, loss=loss, reg=0.01, seed=0)
    X, y = data()
    if loss == "sigmoid":
        y = y % 2
    if loss == "mse":
        y = np.random.default_rng(1).standard_normal((8, 3))
    report = check_net(net, X, y, method="complex")
    assert report.passed, str(report)
    assert report.difference < 1e-14
    assert sum(row.kinks for row in report.rows) == 0  # the complex step never crosses a kink


def test_complex_step_refuses_a_function_that_drops_the_imaginary_part():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="drops the imaginary part"):
        numerical_gradient(lambda z: float(np.sum(np.abs(z) ** 2)), x, method="complex")

    class AbsLayer(Layer):
        def forward(self, x):
            self.x = x
            return np.abs(x)

        def backward(self, dout):
            return dout * np.sign(self.x)

    with pytest.raises(ValueError, match="drops the imaginary part"):
        check_layer(AbsLayer(), np.array([[1.0, -2.0]]), method="complex")


# -- the other methods on whole nets -----------------------------------------------------

@pytest.mark.parametrize("method", ["forward", "backward", "fivepoint"])
def test_every_method_checks_a_net(method):
    net = Net.mlp([5, 7, 3], activation="tanh", keep_prob=0.7, reg=0.01, seed=0)
    assert check_net(net, *data(), method=method).passed
    buggy = with_bug(Net.mlp([5, 7, 3], activation="tanh", seed=0),
                     lambda g: {**g, "b2": -g["b2"]})
    assert check_net(buggy, *data(), method=method).failed == ["b2"]


# -- check_layer ---------------------------------------------------------------------------

def test_check_layer_rows_and_a_broken_backward():
    report = check_layer(Affine(4, 3, rng=0), np.ones((2, 4)))
    assert [row.name for row in report.rows] == ["x", "W", "b"]

    class NoTranspose(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["W"] = self.grads["W"].T  # fits only because W is square
            return dx

    x = np.random.default_rng(5).standard_normal((4, 3))
    report = check_layer(NoTranspose(3, 3, rng=0), x)
    assert report.failed == ["W"]


def test_check_layer_reports_broken_contracts():
    class WrongShape(Affine):
        def backward(self, dout):
            super().backward(dout)
            return dout

    with pytest.raises(ValueError, match=r"WrongShape.backward returned dx of shape \(2, 3\)"):
        check_layer(WrongShape(4, 3), np.ones((2, 4)))

    class MissingGrad(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            del self.grads["b"]
            return dx

    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        check_layer(MissingGrad(4, 3), np.ones((2, 4)))


# -- the report ----------------------------------------------------------------------------

def test_report_table():
    net = with_bug(Net.mlp([5, 6, 3], seed=0), lambda g: {**g, "b1": 4 * g["b1"]})
    report = check_net(net, *data())
    text = report.format()
    lines = text.splitlines()
    assert lines[1].split() == ["tensor", "shape", "checked", "kinks", "max", "rel", "error",
                                "band", "result"]
    assert "\033[" not in text
    assert "\033[31m" in report.format(color=True)
    b1 = next(line for line in lines if line.startswith("b1 "))
    assert b1.split()[-2:] == ["wrong", "FAIL"]
    assert "b1: scale: db1 is 4 times the right value everywhere" in text


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "secant"}, "method must be one of"),
    ({"h": 0}, "h must be a positive"),
    ({"h": -1e-5}, "h must be a positive"),
    ({"h": 1e-300}, "too small for float64"),
    ({"part": "weights"}, "part must be one of"),
    ({"sample": 0}, "sample must be"),
    ({"loss_scale": 0}, "loss_scale"),
    ({"fast": True, "directions": 0}, "directions must be a positive int"),
])
def test_bad_options_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_net(Net.mlp([5, 4, 3]), *data(), **kwargs)


@pytest.mark.parametrize("call, owner", [
    (lambda: numerical_gradient(np.sum, np.ones(2), method="secant"), "numerical_gradient"),
    (lambda: step_size_sweep(np.sin, 1.0, np.cos(1.0), method="secant"), "step_size_sweep"),
    (lambda: check_net(Net.mlp([5, 4, 3]), *data(), method="secant"), "check_net"),
    (lambda: check_loss(SoftmaxLoss(), np.zeros((2, 3)), np.array([0, 1]), method="secant"),
     "check_loss"),
], ids=["numerical_gradient", "step_size_sweep", "check_net", "check_loss"])
def test_a_bad_method_is_refused_by_name_of_the_function_called(call, owner):
    with pytest.raises(ValueError, match=rf"^{owner}: method must be one of .*'central'.*"
                                         r"got 'secant'$"):
        call()


def test_numerical_gradient_rejects_arrays_it_cannot_perturb():
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda x: 0.0, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="one number"):
        numerical_gradient(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="finite loss"):
        numerical_gradient(lambda x: np.nan, np.ones(3))


class UpdatingAffine(Affine):
    """A classic mistake: the parameters are updated inside forward."""

    def forward(self, x):
        self.params["W"] -= 1e-3 * self.params["W"]
        return super().forward(x)


def test_a_forward_that_changes_its_parameters_is_named():
    net = Net([Affine(5, 4, rng=0), ReLU(), UpdatingAffine(4, 3, rng=1)], SoftmaxLoss())
    before = snapshot(net)
    for options in ({}, {"fast": True}, {"stacked": False}, {"method": "complex"}):
        with pytest.raises(ForwardChangedParametersError,
                           match=r"computing the loss changed the arrays it reads: W2 "
                                 r"\(W2\[0, 0\] went from .* to .*\).*do not update "
                                 r"parameters in forward"):
            check_net(net, *data(), **options)
        assert_unchanged(net, before)
    layer = UpdatingAffine(3, 2, rng=0)
    W = layer.params["W"].copy()
    with pytest.raises(ForwardChangedParametersError, match=r"changed the arrays it reads: W "):
        check_layer(layer, np.ones((2, 3)))
    np.testing.assert_array_equal(layer.params["W"], W)

    def forward(parameters):
        parameters["b"] += 1.0
        return float(np.sum(parameters["b"] ** 2))
    parameters = {"b": np.ones(2)}
    with pytest.raises(ForwardChangedParametersError, match=r"changed the arrays it reads: b "):
        gradient_check_n(forward, parameters, {"db": np.ones(2)})
    np.testing.assert_array_equal(parameters["b"], [1.0, 1.0])


def test_a_backward_with_gradients_of_the_wrong_shape_is_named_and_nothing_changes():
    net = Net([Affine(5, 4, rng=0), ReLU(), Affine(4, 3, rng=1)], SoftmaxLoss(), reg=0.1)
    before = snapshot(net)
    original = net.layers[0].backward

    def backward(dout):
        original(dout)
        net.layers[0].grads["b"] = np.zeros(5)
    net.layers[0].backward = backward
    with pytest.raises(ValueError, match=r"net.layers\[0\] = Affine\(in_features=5, "
                                         r"out_features=4\): backward stored an array of shape "
                                         r"\(5,\) in grads\['b'\]"):
        check_net(net, *data())
    assert_unchanged(net, before)


def test_check_layer_and_check_loss_say_what_forward_should_return():
    class Forgetful(ReLU):
        def forward(self, x):
            super().forward(x)  # computes the output, but forgets to return it

    with pytest.raises(TypeError, match=r"Forgetful.forward\(x\) must return its output, a "
                                        r"numpy array of floats with one row per sample, got a "
                                        r"NoneType"):
        check_layer(Forgetful(), np.ones((2, 3)))

    class Summing(ReLU):
        def forward(self, x):
            return super().forward(x).sum(axis=0)

    with pytest.raises(ValueError, match=r"returned 3 rows for a batch of 2 samples"):
        check_layer(Summing(), np.ones((2, 3)))

    class Wordy(SoftmaxLoss):
        def forward(self, scores, y):
            super().forward(scores, y)
            return "the loss"

    with pytest.raises(ValueError, match=r"Wordy.forward must return one number \(the loss\), "
                                         r"got str"):
        check_loss(Wordy(), np.zeros((2, 3)), np.array([0, 1]))


# -- Ctrl-C at any point of a check --------------------------------------------------------

PACKAGE = os.path.dirname(minnet.__file__)


class Interrupter:
    """A trace function that raises KeyboardInterrupt at the k-th call of a minnet function,
    as a Ctrl-C arriving at that point would (k = 0: only count the calls)."""

    def __init__(self, k=0):
        self.k, self.calls = k, 0

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE):
            self.calls += 1
            if self.calls == self.k:
                raise KeyboardInterrupt(f"at call {self.k} ({frame.f_code.co_name})")


def traced(run, tracer):
    """run() under tracer, then the trace function that was there before (a debugger's,
    or coverage's) back in place."""
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return run()
    finally:
        sys.settrace(previous)


def interrupted(run, k):
    """Run run() with a KeyboardInterrupt at the k-th minnet call; True if it was interrupted."""
    try:
        traced(run, Interrupter(k))
    except KeyboardInterrupt:
        return True
    return False


def everything_of(net):
    """What a check must put back: the parameters (bits, dtypes and the very arrays), each
    layer's mode, dropout seed, keep_prob and generator state, the net's dtype, reg and loss,
    and numpy's global random state."""
    layers = [(type(layer).__name__, layer.training, getattr(layer, "seed", None),
               getattr(layer, "keep_prob", None), layer.needs_dx,
               str(layer.rng.bit_generator.state) if hasattr(layer, "rng") else None,
               {key: (id(value), value.dtype.str, value.tobytes())
                for key, value in layer.params.items()}) for layer in net.layers]
    return (layers, net.dtype, net.reg, type(net.loss_fn), str(np.random.get_state()))


def interrupt_net():
    net = Net([Affine(5, 6, rng=0), ReLU(), Dropout(0.7, rng=1), Affine(6, 4, rng=2), Tanh(),
               Affine(4, 3, rng=3)], SoftmaxLoss(), reg=0.05, dtype=np.float32)
    net.layers[4].training = False
    return net


CHECKS = {
    "full": lambda net, X, y: check_net(net, X, y),
    "fast": lambda net, X, y: check_net(net, X, y, fast=True),
    "plain loop": lambda net, X, y: check_net(net, X, y, stacked=False, sample=3),
    "complex step": lambda net, X, y: check_net(net, X, y, method="complex", sample=3),
    "a layer": lambda net, X, y: check_layer(net.layers[2], X[:, :5] @ np.ones((5, 6))),
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_an_interrupt_at_any_point_of_a_check_loses_nothing(check, capsys):
    X, y = data()
    net = interrupt_net()
    counter = Interrupter()
    traced(lambda: CHECKS[check](net, X, y), counter)
    calls = counter.calls
    points = sorted(set(np.random.default_rng(0).integers(1, calls + 1, 40)) | {1, calls})
    for k in points:
        net = interrupt_net()
        before = everything_of(net)
        assert interrupted(lambda: CHECKS[check](net, X, y), k)
        assert everything_of(net) == before, f"interrupted at call {k} of {calls}"
        assert CHECKS[check](net, X, y).passed  # and the net still checks out afterwards
    with capsys.disabled():
        print(f"\n{check} check interrupted at {len(points)} of its {calls} minnet calls: "
              "nothing changed")


def test_a_loss_that_shifts_its_input_in_place_is_caught_after_the_perturbed_evaluations():
    class InPlace(SoftmaxLoss):
        def forward(self, scores, y):
            scores -= scores.max(axis=1, keepdims=True)  # modifies the caller's array
            return super().forward(scores, y)

    # After the first call every row maximum is 0, so unperturbed calls change nothing;
    # the evaluations at perturbed points do.
    with pytest.raises(ForwardChangedParametersError, match=r"changed the arrays it reads: "
                                                            r"scores .*do not modify the input "
                                                            r"in place"):
        check_loss(InPlace(), np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]]), np.array([0, 2]))


def test_nan_parameters_are_not_mistaken_for_changed_ones():
    parameters = {"W": np.array([1.0, np.nan])}
    with pytest.raises(ValueError, match="forward returned nan"):
        gradient_check_n(lambda p: float(np.sum(p["W"] ** 2)), parameters, {"dW": np.ones(2)})


# -- the hard cases: no false alarm, no silent pass ------------------------------------------

class Scaled(Layer):
    """out = x * w, elementwise, with w kept as the layer's own attribute too (as many
    people write layers): forward reads self.w, which is params["w"] itself."""

    def __init__(self, D):
        super().__init__()
        self.w = np.linspace(0.5, 1.5, D)
        self.params = {"w": self.w}

    def forward(self, x):
        self.x = x
        return x * self.w

    def backward(self, dout):
        self.grads = {"w": np.sum(dout * self.x, axis=0)}
        return dout * self.w


class Residual(Layer):
    """out = x + inner(x): a block whose params dict holds its sub-layer's arrays."""

    def __init__(self, D, rng):
        super().__init__()
        self.inner = Affine(D, D, rng=rng)
        self.params = {"W": self.inner.params["W"], "b": self.inner.params["b"]}

    def forward(self, x):
        return x + self.inner.forward(x)

    def backward(self, dout):
        dx = self.inner.backward(dout)
        self.grads = dict(self.inner.grads)
        return dout + dx


def test_layers_holding_their_own_reference_to_a_parameter_pass():
    X, y = data()
    for layer in (Scaled(5), Residual(5, rng=1)):
        net = Net([layer, Tanh(), Affine(5, 3, rng=2)], SoftmaxLoss())
        before = snapshot(net)
        for options in ({}, {"stacked": False}, {"fast": True}):
            report = check_net(net, X, y, **options)
            assert report.passed, (type(layer).__name__, options, str(report))
        assert check_layer(layer, X).passed
        assert_unchanged(net, before)


def test_a_float32_net_whose_layer_reads_its_own_copy_is_reported_as_such():
    X, y = data()
    net = Net([Scaled(5), Tanh(), Affine(5, 3, rng=2)], SoftmaxLoss(), dtype=np.float32)
    assert net.params["w1"] is not net.layers[0].w  # the net made a float32 copy
    report = check_net(net, X, y)
    row = report["w1"]
    assert row.result == "cannot resolve" and row.reason == "copy"
    assert not report.passed and report.failed == [] and report.unresolved == ["w1"]
    assert "seems to read its own copy of this parameter" in str(report)
    assert "NOT RESOLVED: w1" in str(report)


def trained_iris_net(boost):
    """A tanh net trained on 12 iris samples, its output layer multiplied by boost: the
    larger boost, the smaller the loss (1.4e-6, 1e-12, then exactly 0.0)."""
    from minnet.datasets import load_iris, standardize
    X, y = load_iris()
    X = standardize(X)[:12]
    y = y[:12]
    net = Net.mlp([4, 16, 3], activation="tanh", seed=0)
    optimizer = minnet.Adam(0.05)
    for _ in range(3000):
        optimizer.step(net.params, net.loss_and_grads(X, y)[1])
    net.params["W2"][:] *= boost
    net.params["b2"][:] *= boost
    return net, X, y


def test_a_zero_loss_is_reported_as_beyond_checking_not_as_wrong():
    net, X, y = trained_iris_net(3)
    assert net.loss(X, y) == 0.0
    for options in ({}, {"method": "complex"}, {"stacked": False}, {"fast": True}):
        report = check_net(net, X, y, **options)
        assert report.failed == [], (options, str(report))
        assert report["W1"].result == "cannot resolve"
        assert report["W1"].reason == "tiny gradients"
        assert "below what the check can resolve" in str(report)


def test_a_tiny_loss_raises_no_false_alarm_and_a_doubled_gradient_is_still_caught():
    net, X, y = trained_iris_net(2)
    assert 1e-13 < net.loss(X, y) < 1e-11
    report = check_net(net, X, y)
    assert report.failed == [] and report["W2"].passed and report["b2"].passed
    for row in report.rows:  # the first layer's gradients are near 1e-14: beyond judging
        assert row.passed or row.reason == "tiny gradients"
    with minnet.bugs.inject(net, "affine-dW-doubled", layer=2):
        report = check_net(net, X, y)
    assert report.failed == ["W2"] and report["W2"].pattern == "scale"


class LeakyReLU(Layer):
    """A user's LeakyReLU with no kink_state: the checker must find its kink itself."""

    def __init__(self, slope=0.01):
        super().__init__()
        self.slope = slope

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.slope * x)

    def backward(self, dout):
        return np.where(self.x > 0, dout, self.slope * dout)


class Hinge(minnet.Loss):
    """The multiclass hinge loss, written by a user, with no kink_state either."""

    def forward(self, scores, y):
        N = len(scores)
        self.y = y
        self.margins = scores - scores[np.arange(N), y][:, None] + 1.0
        self.margins[np.arange(N), y] = 0
        return np.maximum(self.margins, 0).sum() / N

    def backward(self):
        N = len(self.y)
        d = (self.margins > 0).astype(float)
        d[np.arange(N), self.y] = -d.sum(axis=1)
        return d / N


def test_kinks_no_layer_reports_are_found_from_the_numbers():
    x = np.array([[0.0, 1.0, -2.0, 0.0], [0.0, 0.0, 3.0, -1.0]])  # four inputs exactly at 0
    report = check_layer(LeakyReLU(), x, seed=0)
    assert report.passed, str(report)
    assert report["x"].detected_kinks == 4 and report["x"].checked == 8
    assert "a kink nothing reports" in str(report)

    class WrongLeaky(LeakyReLU):
        def backward(self, dout):
            return np.where(self.x > 0, dout, -self.slope * dout)
    assert check_layer(WrongLeaky(), x, seed=0).failed == ["x"]

    scores = np.array([[1.0, 0.0, 2.0], [0.5, -0.5, 0.5]])  # margins exactly 0: ties
    y = np.array([0, 2])
    report = check_loss(Hinge(), scores, y)
    assert report.passed and report["scores"].detected_kinks >= 2, str(report)

    class WrongHinge(Hinge):
        def backward(self):
            return 2 * super().backward()
    assert check_loss(WrongHinge(), scores, y).failed == ["scores"]


def low_precision_tanh(dtype, factor=1.0):
    class TanhLow(Layer):
        f"""tanh computed in {dtype.__name__} inside a float64 net; backward times {factor}."""

        def forward(self, x):
            self.out = np.tanh(x.astype(dtype)).astype(np.float64)
            return self.out

        def backward(self, dout):
            return factor * dout * (1 - self.out ** 2)
    return TanhLow()


def test_a_float32_layer_in_a_float64_net_hides_no_1_percent_bug():
    X, y = data()
    for stacked in (True, False):
        def net(factor):
            return Net([Affine(5, 6, rng=0), low_precision_tanh(np.float32, factor),
                        Affine(6, 3, rng=1)], SoftmaxLoss())
        correct = check_net(net(1.0), X, y, stacked=stacked)
        assert correct.passed, str(correct)
        # its errors are the float32 layer's rounding, allowed for; the step was fitted
        assert 1e-6 < correct["W1"].max_rel_error < correct["W1"].tolerance < 1e-2
        buggy = check_net(net(1.01), X, y, stacked=stacked)
        assert buggy.failed == ["W1", "b1"], str(buggy)
        assert buggy["W1"].pattern == "scale" and buggy["W1"].factor == pytest.approx(1.01, 1e-3)


class Scores16(Layer):
    """The scores rounded to float16: a loss known to about 3 digits."""

    def forward(self, x):
        return x.astype(np.float16).astype(np.float64)

    def backward(self, dout):
        return dout


def test_where_no_step_can_resolve_the_noise_the_report_does_not_pass():
    X, y = data()
    for stacked in (True, False):
        net = Net([Affine(5, 6, rng=0), Tanh(), Affine(6, 3, rng=1), Scores16()], SoftmaxLoss())
        report = check_net(net, X, y, stacked=stacked)
        assert not report.passed and report.failed == [], str(report)
        assert report["W1"].result == "cannot resolve" and report["W1"].reason == "noisy loss"
        assert "the loss is too noisy" in str(report) and "NOT RESOLVED" in str(report)


def test_a_fast_check_never_passes_a_tensor_it_did_not_judge():
    X, y = data(N=4, D=3)

    class SignFlippedBias(Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["b"] = -self.grads["b"]
            return dx

    for first in (Affine(3, 5, rng=0), SignFlippedBias(3, 5, rng=0)):
        net = Net([first, ReLU(), Affine(5, 3, rng=1)], SoftmaxLoss())
        net.params["b1"][:] = -(X @ net.params["W1"])[0]  # sample 0 on every unit's kink
        report = check_net(net, X, y, fast=True)
        for row in report.rows:
            assert row.checked > 0 or row.result == "cannot resolve", str(report)
        if isinstance(first, SignFlippedBias):
            assert report.failed == ["b1"] and report["b1"].pattern == "sign", str(report)
        else:
            assert report.passed, str(report)


def test_parameter_names_never_collide():
    class OddlyNamed(Layer):
        def __init__(self):
            super().__init__()
            self.params = {"W1": np.eye(4)}

        def forward(self, x):
            return x @ self.params["W1"]

    layers = [OddlyNamed()] + [Affine(4, 4, rng=k) for k in range(10)] + [Affine(4, 2, rng=9)]
    with pytest.raises(ValueError, match=r"two parameters would both be named W11 in "
                                         r"net.params: layers\[0\] = OddlyNamed\(\) "
                                         r"params\['W1'\] and layers\[10\] = Affine.*rename "
                                         r"the key 'W1'"):
        Net(layers, SoftmaxLoss())


EDGES = [(1e-2, "wrong", "suspicious"), (1e-4, "suspicious", "acceptable"),
         (1e-7, "acceptable", "excellent")]


@pytest.mark.parametrize("edge, above, below", EDGES)
def test_bands_at_their_edges(edge, above, below):
    # The documented rule: an error exactly on an edge belongs to the band below it; the
    # next float up is in the band above, the next one down in the band below.
    assert band(np.nextafter(edge, np.inf)) == above
    assert band(edge) == below
    assert band(np.nextafter(edge, 0.0)) == below


def test_the_band_is_the_course_tables_and_the_result_the_rules():
    X, y = data()
    net = Net([Affine(5, 6, rng=0), low_precision_tanh(np.float32), Affine(6, 3, rng=1)],
              SoftmaxLoss())
    report = check_net(net, X, y, stacked=False)
    row = report["W1"]
    assert row.passed and row.band == band(row.max_rel_error) == "suspicious"
    text = str(report)
    assert text.count("from the suspicious band") == 1  # once per report, not once per row
    assert "PASS means every probe agrees within that error" in text


def test_identical_notes_are_merged():
    rng = np.random.default_rng(3)
    net = Net.mlp([4, 6, 6, 3], seed=3)
    X = rng.standard_normal((5, 4))
    net.params["b1"][:] = -(X @ net.params["W1"])[0] + 0.1  # kinks in the first ReLU...
    net.params["b1"][:2] -= 0.1
    hidden = np.maximum(X @ net.params["W1"] + net.params["b1"], 0)
    net.params["b2"][:] = -(hidden @ net.params["W2"])[1]     # ...and in the second
    text = str(check_net(net, X, rng.integers(0, 3, 5)))
    notes = [line for line in text.splitlines() if line.startswith("note: ")]
    assert len(notes) == len(set(notes)) >= 2, text
    kinks = [line for line in notes if "within a step of a kink" in line]
    assert len(kinks) == 1 and kinks[0].startswith("note: W2, b2: "), text  # said once


# -- the course nets: images, normalization, sequences ------------------------------------

def digits_cnn():
    """A CNN of 1,386 parameters on 16 bundled digits as 1x8x8 images, every layer kind of a
    course CNN, with nonzero biases (zero ones would put ReLU's inputs on its kink)."""
    from minnet import BatchNorm, Conv2D, MaxPool2D
    X, y = minnet.datasets.load_digits()
    rng = np.random.default_rng(0)
    # Conv2D, ReLU, then BatchNorm: a bias right before BatchNorm would have no effect at all
    net = Net([Conv2D(1, 8, 3, pad=1, rng=rng), ReLU(), BatchNorm(8), MaxPool2D(2),
               Dropout(0.8, seed=1), Affine(128, 10, rng=rng)], SoftmaxLoss())
    for value in net.params.values():
        value += 0.1 * rng.standard_normal(value.shape)
    return net, (X[:16] / 16).reshape(-1, 1, 8, 8), y[:16]


def tied_windows(net, X):
    """How many max-pool windows of the net's pass on X hold their maximum more than once."""
    out = X
    for layer in net.layers:
        if type(layer).__name__ == "MaxPool2D":
            windows = np.lib.stride_tricks.sliding_window_view(out, (2, 2), axis=(2, 3))
            windows = windows[:, :, ::2, ::2].reshape(-1, 4)
            return int(np.sum((windows == windows.max(axis=1, keepdims=True)).sum(axis=1) > 1))
        out = layer.forward(out)


def test_a_digits_cnn_passes_a_full_check_despite_exact_ties_in_max_pooling():
    import time
    net, X, y = digits_cnn()
    assert sum(p.size for p in net.params.values()) == 1386
    assert tied_windows(net, X) > 100  # blank regions: many windows tie exactly
    start = time.perf_counter()
    stacked = check_net(net, X, y)
    seconds = time.perf_counter() - start
    plain = check_net(net, X, y, stacked=False)
    for report in (stacked, plain):
        assert report.passed, str(report)
        assert all(row.checked + row.kinks == net.params[row.name].size for row in report.rows)
    assert [(r.name, r.result, r.checked, r.kinks) for r in stacked.rows] == \
        [(r.name, r.result, r.checked, r.kinks) for r in plain.rows]
    assert seconds < 5, f"a full check of the digits CNN took {seconds:.1f} s"


def test_a_bias_right_before_batchnorm_cannot_be_resolved_and_is_not_failed():
    from minnet import BatchNorm, Conv2D
    rng = np.random.default_rng(0)
    net = Net([Conv2D(1, 2, 3, pad=1, rng=rng), BatchNorm(2), ReLU(), Affine(2 * 4 * 4, 3, rng=rng)],
              SoftmaxLoss())
    net.params["b1"][...] = [0.3, -0.2]
    X, y = rng.standard_normal((4, 1, 4, 4)), rng.integers(0, 3, 4)
    report = check_net(net, X, y)
    assert report["b1"].result == "cannot resolve" and report.failed == []
    net.loss(X, y)
    assert np.abs(net.backward()["b1"]).max() < 1e-15  # BatchNorm removes any shift


def test_batchnorm_copies_are_evaluated_one_by_one_in_the_stacked_check():
    from minnet import BatchNorm
    from minnet.checker.stacked import StackedLoss
    rng = np.random.default_rng(1)
    net = Net([Affine(3, 4, rng=rng), Tanh(), BatchNorm(4), Affine(4, 3, rng=rng)], SoftmaxLoss())
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    batch = StackedLoss(net, X, y, "total", 1.0)
    for name in ("W1", "gamma2", "W3"):
        flat = np.arange(4)
        losses, _ = batch(name, flat, np.full(4, 1e-2))
        for k in flat:
            net.params[name].flat[k] += 1e-2
            expected = net.loss(X, y)
            net.params[name].flat[k] -= 1e-2
            assert losses[k] == pytest.approx(expected, rel=1e-13)


def test_svm_margins_at_their_kink_are_seen_stacked_and_plain():
    rng = np.random.default_rng(0)
    net = Net([Affine(3, 4, rng=rng), Tanh(), Affine(4, 3, rng=rng)], minnet.SVMLoss())
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    scores = net.forward(X)
    # move b2 so that sample 0's margin at a wrong class sits 1e-9 above its kink
    j = (y[0] + 1) % 3
    net.params["b2"][j] -= scores[0, j] - scores[0, y[0]] + 1 - 1e-9
    stacked, plain = check_net(net, X, y), check_net(net, X, y, stacked=False)
    for report in (stacked, plain):
        assert report.passed, str(report)
        assert report["b2"].kinks + report["b2"].one_sided >= 1
    # the same verdicts; a one-sided estimate may fall either side of the resolution rule
    assert [(r.name, r.result) for r in stacked.rows] == [(r.name, r.result) for r in plain.rows]


def test_language_model_checks_every_coordinate_the_same_way_stacked_or_not():
    from minnet import LSTM, Embedding, TemporalSoftmaxLoss, TimeAffine
    rng = np.random.default_rng(0)
    V = 9
    net = Net([Embedding(V, 4, rng=rng), LSTM(4, 5, rng=rng), TimeAffine(5, V, rng=rng)],
              TemporalSoftmaxLoss())
    for name, value in net.params.items():
        if name.startswith("b"):
            value[...] = 0.3 * rng.standard_normal(value.shape)
    X = rng.integers(0, V, (3, 6))
    X[:, 0] = 2                          # a repeated id: its gradient rows accumulate
    y = rng.integers(0, V, (3, 6))
    stacked, plain = check_net(net, X, y), check_net(net, X, y, stacked=False)
    assert stacked.passed and plain.passed, str(stacked) + str(plain)
    for a, b in zip(stacked.rows, plain.rows):
        assert (a.name, a.result, a.checked) == (b.name, b.result, b.checked)
        assert a.checked == net.params[a.name].size
