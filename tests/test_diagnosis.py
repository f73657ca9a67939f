"""The checker's diagnosis: the kind of mistake a failing row shows, and where to look."""
import numpy as np
import pytest
from helpers import data, with_bug

from minnet import Affine, Net, ReLU, SoftmaxLoss, Tanh, bugs
from minnet.checker import PATTERNS, check_layer, check_net
from minnet.course.quiz import make_quiz, quiz_net_for, quiz_net


def square_net(reg=0.0):
    return Net([Affine(5, 4, rng=0), Tanh(), Affine(4, 4, rng=1), Tanh(), Affine(4, 3, rng=2)],
               SoftmaxLoss(), reg=reg)


@pytest.mark.parametrize("corrupt, pattern, factor", [
    (lambda g: {**g, "W2": 3 * g["W2"]}, "scale", 3.0),
    (lambda g: {**g, "W2": -g["W2"]}, "sign", -1.0),
    (lambda g: {**g, "W2": 0 * g["W2"]}, "zero", None),
    (lambda g: {**g, "W2": g["W2"].T.copy()}, "transpose", None),
    (lambda g: {**g, "W2": g["W2"] + np.where(np.arange(16).reshape(4, 4) == 5, 0.01, 0)},
     "sparse", None),
])
def test_each_pattern_is_named_with_its_numbers(corrupt, pattern, factor):
    report = check_net(with_bug(square_net(), corrupt), *data())
    row = report["W2"]
    assert report.failed == ["W2"]
    assert (row.pattern, row.factor) == (pattern, pytest.approx(factor) if factor else None)
    assert row.diagnosis.startswith(f"{pattern}: dW2 ")
    assert pattern in PATTERNS


def test_a_small_tensor_wrong_everywhere_is_not_called_sparse():
    # b3 has 3 entries: three wrong of three is no "few entries wrong, the rest right".
    noise = np.array([0.01, -0.02, 0.03])
    report = check_net(with_bug(square_net(), lambda g: {**g, "b3": g["b3"] + noise}), *data())
    row = report["b3"]
    assert report.failed == ["b3"] and row.pattern == "other"
    assert "3 of 3" in row.diagnosis and "right at the others" not in row.diagnosis


def test_a_factor_of_n_is_named_as_the_batch_size():
    X, y = data()
    report = check_net(with_bug(square_net(), lambda g: {**g, "b3": len(X) * g["b3"]}), X, y)
    assert report["b3"].pattern == "scale" and report["b3"].factor == pytest.approx(8)
    assert "N = 8, the batch size: a missing 1/N" in report["b3"].diagnosis
    report = check_net(with_bug(square_net(), lambda g: {**g, "b3": 2 * g["b3"]}), X, y)
    assert "a factor 2 too many" in report["b3"].diagnosis


def test_regularization_mistakes_are_told_apart_from_data_mistakes():
    X, y = data()
    net = square_net(reg=0.5)

    def without_reg(g):
        return {**g, "W1": g["W1"] - net.reg * net.params["W1"]}
    report = check_net(with_bug(net, without_reg), X, y)
    assert report.failed == ["W1"] and report["W1"].pattern == "reg-missing"
    assert report.suspects == ["reg"]
    net = square_net(reg=0.5)
    net.params["b2"][:] = [0.3, -0.2, 0.5, 0.1]  # biases start at 0, where reg * b is 0
    report = check_net(with_bug(net, lambda g: {**g, "b2": g["b2"] + net.reg * net.params["b2"]}),
                       X, y)
    assert report.failed == ["b2"] and report["b2"].pattern == "reg-extra"


def test_a_doubled_data_gradient_is_no_sign_flip_even_when_regularization_cancels_it():
    # After training the data and regularization gradients nearly cancel: a doubled data
    # gradient then looks like a flipped total (analytic 5.4e-05 against numerical -5.7e-05
    # in the demo). The data parts show what it is.
    from minnet.datasets import load_digits, standardize
    from minnet import Momentum, fit
    X, y = load_digits()
    X = standardize(X)
    net = Net.mlp([64, 32, 10], activation="relu", reg=1e-2, seed=0)
    fit(net, X[:600], y[:600], Momentum(lr=0.1), epochs=20, batch_size=64, verbose=False)
    with bugs.inject(net, "affine-dW-doubled", layer=2):
        report = check_net(net, X[:16], y[:16])
    row = report["W2"]
    a, n = row.analytic, row.numerical
    assert np.mean(np.sign(a) != np.sign(n)) > 0.1  # the totals often disagree in sign
    assert (row.pattern, row.factor) == ("scale", pytest.approx(2.0, rel=1e-3))


def test_a_wrong_mask_at_kinks_is_a_kink_pattern():
    class GreaterOrEqual(ReLU):
        def forward(self, x):
            self.x = x
            return super().forward(x)

        def backward(self, dout):
            return dout * (self.x >= 0)  # passes the gradient at exactly 0 too

    x = np.array([[0.0, 1.0, -2.0, 0.0], [0.5, 0.0, 3.0, -1.0]])
    row = check_layer(GreaterOrEqual(), x)["x"]
    assert row.pattern == "kink" and "3 of 8 entries, all of them next to a kink" in \
        row.diagnosis


def injected_reports(seed):
    """(bug, site, report) for every catalogued bug at every layer it fits, in a quiz net."""
    for bug in bugs.catalogue():
        net, X, y = quiz_net(quiz_net_for(bug), np.random.default_rng(seed))
        for site in bugs.applicable_layers(net, bug.name) or [None]:
            with bugs.inject(net, bug.name, layer=site):
                report = check_net(net, X, y)
            yield bug, site, net, report


@pytest.mark.parametrize("seed", [0, 1])
def test_every_catalogued_bug_shows_the_pattern_it_implies(seed, capsys):
    shown = expected = 0
    for bug, site, _, report in injected_reports(seed):
        for name in report.failed:
            row = report[name]
            assert row.pattern in PATTERNS and row.diagnosis
            if bug.pattern is not None:
                expected += 1
                shown += row.pattern == bug.pattern
                assert row.pattern == bug.pattern, (bug.name, site, name, row.diagnosis)
    with capsys.disabled():
        print(f"\ndiagnosis (seed {seed}): {shown}/{expected} failing tensors of catalogued "
              "bugs with an implied pattern showed it")


@pytest.mark.parametrize("seed", [0, 1])
def test_the_suspects_name_the_broken_backward(seed):
    for bug, site, net, report in injected_reports(seed):
        if not report.failed:  # a dx bug in the first layer hurts no parameter
            continue
        assert 1 <= len(report.suspects) <= 3
        if bug.target == "Net":
            assert report.suspects == ["reg"], bug.name
        elif site is None:
            assert report.suspects[0] == "loss", bug.name
        else:
            assert site in report.suspects, (bug.name, site, report.suspects)
        assert "Look first at" in str(report)


def test_the_quiz_keeps_the_diagnosis_for_the_answer():
    quiz = make_quiz(2)
    shown = quiz.report.format(diagnosis=False)
    assert "Look first at" not in shown and "sign:" not in shown
    answer = quiz.answer()
    assert "The checker's diagnosis: W1, b1, W2, b2, W3, b3, W4, b4: sign:" in answer
    assert "Look first at the loss's backward" in answer
