import numpy as np
import pytest

from minnet.losses import MSELoss, SigmoidCrossEntropy, SoftmaxLoss, SVMLoss, TemporalSoftmaxLoss

from minnet.checker import check_loss

from helpers import complex_step_gradients


def assert_loss_gradient(loss, scores, y):
    report = check_loss(loss, scores, y)
    assert report.passed, str(report)
    assert report["scores"].checked == scores.size


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_match_centered_differences(seed):
    rng = np.random.default_rng(seed)
    assert_loss_gradient(SoftmaxLoss(), rng.standard_normal((5, 4)), rng.integers(0, 4, 5))
    assert_loss_gradient(SigmoidCrossEntropy(), rng.standard_normal(6), rng.integers(0, 2, 6))
    assert_loss_gradient(SigmoidCrossEntropy(), rng.standard_normal((6, 1)), rng.random(6))
    assert_loss_gradient(MSELoss(), rng.standard_normal((5, 3)), rng.standard_normal((5, 3)))
    assert_loss_gradient(MSELoss(), rng.standard_normal((5, 1)), rng.standard_normal(5))
    assert_loss_gradient(TemporalSoftmaxLoss(), rng.standard_normal((3, 4, 5)),
                         rng.integers(0, 5, (3, 4)))
    assert_loss_gradient(SVMLoss(), rng.standard_normal((6, 4)), rng.integers(0, 4, 6))
    assert_loss_gradient(SVMLoss(delta=0.3), rng.standard_normal((1, 2)), np.array([1]))


def naive_svm(scores, y, delta=1.0):
    """The definition, one sample and one wrong class at a time."""
    N, C = scores.shape
    total = 0
    for i in range(N):
        for j in range(C):
            if j != y[i]:
                margin = scores[i, j] - scores[i, y[i]] + delta
                total = total + (margin if margin.real > 0 else 0)
    return total / N


@pytest.mark.parametrize("delta", [1.0, 0.25])
def test_svm_loss_and_gradient_equal_the_definition(delta):
    rng = np.random.default_rng(0)
    scores, y = rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    loss = SVMLoss(delta)
    assert loss.forward(scores, y) == pytest.approx(naive_svm(scores, y, delta), rel=1e-14)
    dscores, = complex_step_gradients(lambda s: naive_svm(s, y, delta), [scores], 1.0)
    np.testing.assert_allclose(loss.backward(), dscores, rtol=1e-12, atol=1e-15)


def test_svm_loss_by_hand_and_its_kink_state():
    loss = SVMLoss()
    # sample 0: margins 2 - 3 + 1 = 0 (the kink: not positive) and 3.5 - 3 + 1 = 1.5
    # sample 1: margins 1 - 0 + 1 = 2 and 0.5 - 0 + 1 = 1.5
    scores = np.array([[2.0, 3.0, 3.5], [1.0, 0.0, 0.5]])
    assert loss.forward(scores, np.array([1, 1])) == pytest.approx((1.5 + 3.5) / 2)
    np.testing.assert_array_equal(loss.kink_state(), [[False, False, True], [True, False, True]])
    np.testing.assert_allclose(loss.backward(), [[0, -0.5, 0.5], [0.5, -1.0, 0.5]])
    assert loss.has_kinks and repr(loss) == "SVMLoss(delta=1.0)"


def test_svm_loss_check_sees_a_margin_at_its_kink():
    scores = np.array([[2.0, 3.0, 3.5], [1.0, 0.0, 0.5]])  # margin exactly 0 at [0, 0]
    report = check_loss(SVMLoss(), scores, np.array([1, 1]))
    assert report.passed, str(report)
    assert report["scores"].kinks + report["scores"].one_sided >= 1


def test_svm_loss_rejects_bad_delta_and_one_score():
    with pytest.raises(ValueError, match="SVMLoss: delta, the margin wanted, must be a positive"):
        SVMLoss(0)
    assert "needs at least 2" in SVMLoss().width_problem(1)
    assert SVMLoss().width_problem(3) is None


def test_temporal_softmax_sums_over_steps_and_averages_over_sequences():
    rng = np.random.default_rng(0)
    scores, y = rng.standard_normal((3, 4, 5)), rng.integers(0, 5, (3, 4))
    flat = SoftmaxLoss().forward(scores.reshape(12, 5), y.reshape(12))  # mean over 12 steps
    assert TemporalSoftmaxLoss().forward(scores, y) == pytest.approx(4 * flat, rel=1e-14)
    with pytest.raises(ValueError, match=r"expected labels of shape \(3, 4\), one per sample "
                                         r"and step, got \(3,\)"):
        TemporalSoftmaxLoss().forward(scores, y[:, 0])
    with pytest.raises(ValueError, match=r"expected scores of shape \(N, T, C\)"):
        TemporalSoftmaxLoss().forward(scores[0], y)


def test_softmax_loss_by_hand():
    loss = SoftmaxLoss()
    # Equal scores: every class has probability 1/C, so the loss is log C.
    assert loss.forward(np.zeros((2, 4)), np.array([0, 3])) == pytest.approx(np.log(4), rel=1e-15)
    # scores [0, log 3] give probabilities [1/4, 3/4].
    value = loss.forward(np.array([[0.0, np.log(3)]]), np.array([1]))
    assert value == pytest.approx(-np.log(0.75), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[0.25, -0.25]], rtol=1e-14)


def test_softmax_loss_is_stable_for_logits_of_1e4():
    loss = SoftmaxLoss()
    value = loss.forward(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]]), np.array([1, 2]))
    # Sample 1: the true class is 1e4 below the best: loss 1e4. Sample 2: a tie: log 2.
    assert value == pytest.approx((1e4 + np.log(2)) / 2, rel=1e-12)
    assert np.all(np.isfinite(loss.backward()))


def test_softmax_predict_and_float_labels():
    loss = SoftmaxLoss()
    np.testing.assert_array_equal(loss.predict(np.array([[0.1, 2.0], [3.0, -1.0]])), [1, 0])
    assert loss.forward(np.zeros((2, 3)), np.array([1.0, 2.0])) == pytest.approx(np.log(3))


def test_sigmoid_cross_entropy_by_hand_and_stable_at_1000():
    loss = SigmoidCrossEntropy()
    # z = 0: a = 1/2, the cost is log 2 whatever the label.
    assert loss.forward(np.zeros(3), np.array([0, 1, 1])) == pytest.approx(np.log(2))
    # z = log 3: a = 3/4; labels 1 and 0 cost -log(3/4) and -log(1/4).
    value = loss.forward(np.array([np.log(3), np.log(3)]), np.array([1, 0]))
    assert value == pytest.approx((-np.log(0.75) - np.log(0.25)) / 2, rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [-0.125, 0.375], rtol=1e-14)
    # Huge logits: right answers cost ~0, wrong ones cost |z|, never inf or a warning.
    value = loss.forward(np.array([[1000.0], [-1000.0], [1000.0]]), np.array([1, 0, 0]))
    assert value == pytest.approx(1000 / 3, rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[0.0], [0.0], [1 / 3]], atol=1e-300)
    np.testing.assert_array_equal(loss.predict(np.array([[2.0], [-1.0]])), [1, 0])


def test_mse_by_hand():
    loss = MSELoss()
    assert loss.forward(np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 0.0], [3.0, 2.0]])) \
        == pytest.approx((4 + 9) / 4)
    np.testing.assert_allclose(loss.backward(), [[0, 1.0], [0, 1.5]])


def test_losses_return_complex_for_complex_scores():
    rng = np.random.default_rng(0)
    scores, y = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    direction, h = rng.standard_normal((4, 3)), 1e-20
    loss = SoftmaxLoss()
    value = loss.forward(scores + 1j * h * direction, y)
    loss.forward(scores, y)
    np.testing.assert_allclose(value.imag / h, np.sum(loss.backward() * direction), rtol=1e-13)
    loss = SigmoidCrossEntropy()
    z = rng.standard_normal(5) * 50
    value = loss.forward(z + 1j * h, np.array([0, 1, 1, 0, 1]))
    loss.forward(z, np.array([0, 1, 1, 0, 1]))
    np.testing.assert_allclose(value.imag / h, np.sum(loss.backward()), rtol=1e-13)


@pytest.mark.parametrize("y, message", [
    (np.array([0, 3]), r"0\.\.2 .*got 3"),
    (np.array([0, -1]), r"0\.\.2 .*got -1"),
    (np.array([0.5, 1.0]), "whole numbers"),
    (np.array([0, 1, 2]), "expected 2 targets"),
    (np.array(["a", "b"]), "must be numbers"),
    (np.array([[1, 0, 0], [0, 1, 0]]), "one-hot"),
    (np.array([0, np.nan]), "NaN"),
])
def test_softmax_rejects_bad_labels(y, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxLoss().forward(np.zeros((2, 3)), y)


def test_losses_reject_bad_scores():
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        SoftmaxLoss().forward(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="empty"):
        SoftmaxLoss().forward(np.zeros((0, 3)), np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"\(N,\) or \(N, 1\)"):
        SigmoidCrossEntropy().forward(np.zeros((2, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        SigmoidCrossEntropy().forward(np.zeros(2), np.array([0, 2]))
    with pytest.raises(ValueError, match="expected targets of shape"):
        MSELoss().forward(np.zeros((2, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize("loss", [SoftmaxLoss(), SigmoidCrossEntropy(), MSELoss(), SVMLoss()],
                         ids=repr)
def test_backward_before_forward(loss):
    with pytest.raises(RuntimeError, match="before forward"):
        loss.backward()


@pytest.mark.parametrize("loss, scores, y", [
    (SoftmaxLoss(), (5, 4), lambda rng: rng.integers(0, 4, 5)),
    (SigmoidCrossEntropy(), (5, 1), lambda rng: rng.integers(0, 2, 5)),
    (MSELoss(), (5, 3), lambda rng: rng.standard_normal((5, 3))),
    (TemporalSoftmaxLoss(), (5, 2, 4), lambda rng: rng.integers(0, 4, (5, 2))),
    (SVMLoss(), (5, 3), lambda rng: rng.integers(0, 3, 5)),
])
def test_forward_is_the_mean_of_the_sample_losses(loss, scores, y):
    rng = np.random.default_rng(0)
    scores, y = rng.standard_normal(scores), y(rng)
    per_sample = loss.sample_losses(scores, y)
    assert per_sample.shape == (5,)
    assert loss.forward(scores, y) == pytest.approx(per_sample.mean(), rel=1e-14)


@pytest.mark.parametrize("loss, shape", [(SoftmaxLoss(), (2, 3)), (SigmoidCrossEntropy(), (2,)),
                                         (MSELoss(), (2, 3))], ids=lambda v: repr(v))
def test_scores_must_be_finite_numbers(loss, shape):
    y = np.zeros(shape[:1] if isinstance(loss, (SoftmaxLoss, SigmoidCrossEntropy)) else shape)
    name = type(loss).__name__
    with pytest.raises(ValueError, match=f"{name}: scores must be an array of numbers, got "
                                         "dtype object"):
        loss.forward(np.zeros(shape, dtype=object), y)
    for bad in (np.nan, np.inf, -np.inf):
        scores = np.zeros(shape)
        scores[(1,) * len(shape)] = bad
        with pytest.raises(ValueError, match=rf"{name}: the scores contain NaN or Inf \(first "
                                             rf"at index \({', '.join(['1'] * len(shape))},?\)\)"):
            loss.forward(scores, y)
