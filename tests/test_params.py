import numpy as np
import pytest

from minnet import Net
from minnet.params import dictionary_to_vector, gradients_to_vector, vector_to_dictionary


def classic_params():
    """The shapes of the classic 3-layer gradient-checking exercise (columns are samples)."""
    rng = np.random.default_rng(1)
    shapes = {"W1": (5, 4), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def test_dictionary_to_vector_order_and_keys():
    params = {"W1": np.array([[1.0, 2.0], [3.0, 4.0]]), "b1": np.array([5.0, 6.0])}
    theta, keys = dictionary_to_vector(params)
    np.testing.assert_array_equal(theta, [1, 2, 3, 4, 5, 6])
    assert theta.dtype == np.float64 and theta.ndim == 1
    assert list(keys) == ["W1"] * 4 + ["b1"] * 2


def test_round_trip_is_exact():
    params = classic_params()
    theta, keys = dictionary_to_vector(params)
    assert theta.size == 20 + 5 + 15 + 3 + 3 + 1
    back = vector_to_dictionary(theta, like=params)
    assert list(back) == list(params)
    for name in params:
        assert back[name].shape == params[name].shape
        np.testing.assert_array_equal(back[name], params[name])
    back["W1"][0, 0] = 99.0  # copies, not views of theta
    assert theta[0] != 99.0


def test_round_trip_on_a_net_and_float32():
    net = Net.mlp([4, 3, 2], seed=0, dtype=np.float32)
    theta, _ = dictionary_to_vector(net.params)
    assert theta.dtype == np.float64
    back = vector_to_dictionary(theta, like=net.params)
    for name, value in net.params.items():
        np.testing.assert_array_equal(back[name].astype(np.float32), value)


def test_gradients_to_vector_accepts_d_prefix_and_ignores_cache_keys():
    params = classic_params()
    grads = {"d" + name: value * 2 for name, value in params.items()}
    grads.update({"dZ1": np.ones(3), "dA1": np.ones(2)})
    theta, _ = dictionary_to_vector(params)
    np.testing.assert_array_equal(gradients_to_vector(grads, like=params), 2 * theta)
    plain = {name: value * 2 for name, value in params.items()}
    np.testing.assert_array_equal(gradients_to_vector(plain, like=params), 2 * theta)


def test_wrong_length_names_every_parameter():
    params = classic_params()
    with pytest.raises(ValueError, match=r"length 47 \(W1: 20, b1: 5, .*got an array of shape \(46,\)"):
        vector_to_dictionary(np.zeros(46), like=params)


def test_missing_and_misshaped_gradients_are_named():
    params = classic_params()
    grads = {"dW1": np.zeros((5, 4))}
    with pytest.raises(ValueError, match="no gradient for b1, W2, b2, W3, b3"):
        gradients_to_vector(grads, like=params)
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    grads["b2"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"gradient of b2 has shape \(3,\), but b2 has shape \(3, 1\)"):
        gradients_to_vector(grads, like=params)


def test_empty_params_rejected():
    with pytest.raises(ValueError, match="empty"):
        dictionary_to_vector({})
