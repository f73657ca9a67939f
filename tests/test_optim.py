import numpy as np
import pytest

from minnet.optim import SGD, Adam, Momentum


def test_sgd_step_by_hand_in_place():
    W = np.array([1.0, 2.0])
    params = {"W": W}
    SGD(0.1).step(params, {"W": np.array([10.0, -10.0])})
    np.testing.assert_allclose(W, [0.0, 3.0])
    assert params["W"] is W


def test_momentum_accumulates_velocity_per_name():
    params = {"W": np.array([0.0]), "b": np.array([0.0])}
    opt = Momentum(lr=1.0, beta=0.5)
    grads = {"W": np.array([1.0]), "b": np.array([2.0])}
    opt.step(params, grads)  # v = -1, -2
    opt.step(params, grads)  # v = -1.5, -3
    np.testing.assert_allclose(params["W"], [-2.5])
    np.testing.assert_allclose(params["b"], [-5.0])


def test_adam_first_step_moves_each_coordinate_by_lr():
    # After bias correction, m_hat = g and v_hat = g**2, so the first step is lr * sign(g).
    params = {"W": np.zeros(3)}
    Adam(lr=0.01).step(params, {"W": np.array([1e-3, -5.0, 200.0])})
    np.testing.assert_allclose(params["W"], [-0.01, 0.01, -0.01], rtol=1e-4)


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: Momentum(0.1), lambda: Adam(0.01)])
def test_optimizers_minimize_a_quadratic_and_keep_float32(make):
    opt = make()
    W = np.array([3.0, -2.0], dtype=np.float32)
    for _ in range(2000):
        opt.step({"W": W}, {"W": 2 * W})  # gradient of sum(W**2)
    assert W.dtype == np.float32
    assert np.max(np.abs(W)) < 1e-2


def test_bad_calls_are_rejected_and_change_nothing():
    params = {"W": np.ones(2), "b": np.ones(3)}
    with pytest.raises(ValueError, match=r"missing \['b'\], extra \['c'\]"):
        SGD(0.1).step(params, {"W": np.ones(2), "c": np.ones(3)})
    with pytest.raises(ValueError, match=r"gradient of b has shape \(2,\)"):
        SGD(0.1).step(params, {"W": np.ones(2), "b": np.ones(2)})
    np.testing.assert_array_equal(params["W"], [1.0, 1.0])
    for bad in (0, -1.0, "0.1", float("nan")):
        with pytest.raises(ValueError, match="lr must be a positive number"):
            SGD(bad)
    with pytest.raises(ValueError, match="beta"):
        Momentum(0.1, beta=1.0)


def test_parameters_must_be_float_arrays_and_gradients_real_numbers():
    W = np.ones(2)
    with pytest.raises(TypeError, match=r"SGD.step: parameter b must be a float array to be "
                                        r"updated in place, got an array of dtype int64"):
        SGD(0.1).step({"W": W, "b": np.ones(3, dtype=np.int64)}, {"W": W, "b": np.ones(3)})
    with pytest.raises(TypeError, match="the gradient of b must be an array of real numbers, "
                                        "got an array of dtype object"):
        Adam(0.1).step({"W": W, "b": np.ones(3)}, {"W": np.ones(2), "b": np.ones(3, dtype=object)})
    with pytest.raises(TypeError, match="the gradient of W must be an array of real numbers, "
                                        "got a list"):
        Momentum(0.1).step({"W": W}, {"W": [1.0, 2.0]})
    np.testing.assert_array_equal(W, [1.0, 1.0])  # nothing was updated


def test_a_read_only_parameter_is_refused_before_anything_changes():
    W, b = np.ones(2), np.ones(3)
    b.flags.writeable = False
    with pytest.raises(ValueError, match="SGD.step: parameter b is read-only"):
        SGD(0.1).step({"W": W, "b": b}, {"W": np.ones(2), "b": np.ones(3)})
    np.testing.assert_array_equal(W, [1.0, 1.0])


def test_reprs_show_every_setting_and_rebuild_the_optimizer():
    assert repr(SGD(0.1)) == "SGD(lr=0.1)"
    assert repr(Momentum(0.05, beta=0.5)) == "Momentum(lr=0.05, beta=0.5)"
    assert repr(Adam()) == "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)"
    assert repr(SGD(np.float32(0.5))) == "SGD(lr=0.5)"  # a plain float, not np.float32(0.5)
    for optimizer in (SGD(0.3), Momentum(0.2, beta=0.8), Adam(0.01, beta1=0.8, eps=1e-6)):
        again = eval(repr(optimizer), {"SGD": SGD, "Momentum": Momentum, "Adam": Adam})
        assert type(again) is type(optimizer) and vars(again) == vars(optimizer)


def test_betas_and_eps_are_checked_with_their_meaning():
    with pytest.raises(ValueError, match=r"Adam: beta2, the decay of the squared gradient's "
                                         r"running mean, must be in \[0, 1\), got 1"):
        Adam(beta2=1)
    with pytest.raises(ValueError, match=r"Adam: eps, .* must be a positive number, got 0"):
        Adam(eps=0)
    with pytest.raises(ValueError, match=r"Momentum: beta, .* got '0.9' \(a str"):
        Momentum(0.1, beta="0.9")
