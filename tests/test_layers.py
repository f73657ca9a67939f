import re

import numpy as np
import pytest

from minnet.layers import (LSTM, RNN, Affine, BatchNorm, Conv2D, Dropout, Embedding, LayerNorm,
                           MaxPool2D, ReLU, Sigmoid, Tanh, TimeAffine)

from minnet.checker import check_layer


def _biased(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    return layer


def _eval(layer):
    layer.training = False
    return layer


def _tokens(rng, shape):
    return rng.integers(0, 6, shape)


def _blank_images(rng, shape):
    """Images that are 0 but for a patch: max pooling meets exact ties."""
    x = np.zeros(shape)
    x[:, :, 1:-1, 1:-1] = rng.standard_normal(shape[:2] + (shape[2] - 2, shape[3] - 2))
    return x


# One declarative table: every layer, over several input shapes and seeds.
# name: (make(rng), [input shapes], draw(rng, shape) for x, by default standard normal)
LAYER_CASES = {
    "affine": (lambda rng: Affine(6, 4, rng=rng), [(3, 6), (1, 6), (2, 3, 2)]),
    "affine-xavier": (lambda rng: Affine(5, 5, init="xavier", rng=rng), [(4, 5)]),
    "relu": (lambda rng: ReLU(), [(3, 5), (2, 2, 3)]),
    "sigmoid": (lambda rng: Sigmoid(), [(3, 5), (1, 1)]),
    "tanh": (lambda rng: Tanh(), [(3, 5), (4, 2, 2)]),
    "dropout": (lambda rng: Dropout(0.6, seed=7), [(6, 5)]),
    "dropout-eval": (lambda rng: _eval(Dropout(0.3, seed=1)), [(6, 5)]),
    "conv": (lambda rng: _biased(Conv2D(2, 3, 3, pad=1, rng=rng), rng), [(2, 2, 5, 5), (1, 2, 3, 4)]),
    "conv-strided": (lambda rng: Conv2D(1, 2, (3, 2), stride=2, pad=1, rng=rng), [(2, 1, 7, 6)]),
    "maxpool": (lambda rng: MaxPool2D(2), [(2, 3, 4, 4), (1, 2, 5, 7)]),
    "maxpool-ties": (lambda rng: MaxPool2D(2), [(2, 2, 6, 6)], _blank_images),
    "maxpool-overlapping": (lambda rng: MaxPool2D(3, stride=2), [(2, 1, 7, 7)]),
    "batchnorm": (lambda rng: BatchNorm(4), [(5, 4), (2, 4, 3, 3)]),
    "batchnorm-eval": (lambda rng: _eval(BatchNorm(4)), [(5, 4), (1, 4, 2, 2)]),
    "layernorm": (lambda rng: LayerNorm(4), [(3, 4), (2, 5, 4), (1, 4)]),
    "rnn": (lambda rng: _biased(RNN(3, 4, rng=rng), rng), [(2, 5, 3), (1, 1, 3), (3, 2, 3)]),
    "lstm": (lambda rng: _biased(LSTM(3, 4, rng=rng), rng), [(2, 5, 3), (1, 1, 3)]),
    "time-affine": (lambda rng: _biased(TimeAffine(4, 3, rng=rng), rng), [(2, 5, 4), (1, 1, 4)]),
    "embedding": (lambda rng: Embedding(6, 3, rng=rng), [(4, 5), (3,)], _tokens),
}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_backward_passes_the_gradient_check(case, seed):
    make_layer, shapes, *draw = LAYER_CASES[case]
    draw = draw[0] if draw else (lambda rng, shape: rng.standard_normal(shape))
    rng = np.random.default_rng(seed)
    for shape in shapes:
        layer = make_layer(rng)
        report = check_layer(layer, draw(rng, shape), seed=seed)
        assert report.passed, str(report)
        inputs = [] if layer.integer_input else ["x"]
        assert [row.name for row in report.rows] == [*inputs, *layer.params]
        for row in report.rows:  # every coordinate was judged, or sat on a kink
            size = int(np.prod(shape)) if row.name == "x" else layer.params[row.name].size
            assert row.checked + row.kinks == size


def test_every_registered_layer_is_in_the_table():
    from minnet.registry import LAYERS
    tested = {type(make(np.random.default_rng(0))).__name__ for make, *_ in LAYER_CASES.values()}
    assert tested == set(LAYERS)


def test_affine_forward_by_hand():
    layer = Affine(2, 3)
    layer.params["W"][...] = [[1, 2, 3], [4, 5, 6]]
    layer.params["b"][...] = [0.5, 0, -1]
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 2.0]])), [[9.5, 12, 14]])


def test_affine_backward_by_hand():
    layer = Affine(2, 2)
    layer.params["W"][...] = [[1, 2], [3, 4]]
    x = np.array([[1.0, 0.0], [0.0, 2.0]])
    layer.forward(x)
    dx = layer.backward(np.array([[1.0, 0.0], [1.0, 1.0]]))
    np.testing.assert_array_equal(dx, [[1, 3], [3, 7]])        # dout @ W.T
    np.testing.assert_array_equal(layer.grads["W"], [[1, 0], [2, 2]])  # x.T @ dout
    np.testing.assert_array_equal(layer.grads["b"], [2, 1])    # summed over the batch


def test_affine_flattens_images_and_returns_dx_in_their_shape():
    layer = Affine(12, 2, rng=0)
    x = np.arange(24.0).reshape(2, 3, 4)
    out = layer.forward(x)
    np.testing.assert_allclose(out, x.reshape(2, 12) @ layer.params["W"])
    assert layer.backward(np.ones((2, 2))).shape == (2, 3, 4)


@pytest.mark.parametrize("init, expected", [("he", np.sqrt(2 / 400)),
                                            ("xavier", np.sqrt(2 / 600)), (0.01, 0.01)])
def test_affine_init_std(init, expected):
    W = Affine(400, 200, init=init, rng=0).params["W"]
    assert W.dtype == np.float64
    assert abs(W.std() / expected - 1) < 0.01
    np.testing.assert_array_equal(Affine(400, 200, init=init, rng=0).params["W"], W)


def test_affine_accepts_a_generator_and_leaves_global_state_alone():
    state = np.random.get_state()
    a = Affine(3, 3, rng=np.random.default_rng(5)).params["W"]
    b = Affine(3, 3, rng=5).params["W"]
    np.testing.assert_array_equal(a, b)
    assert np.random.get_state()[1].tolist() == state[1].tolist()


def test_grads_are_fresh_arrays_not_accumulated():
    layer = Affine(3, 2, rng=0)
    x = np.ones((4, 3))
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    first = layer.grads["W"]
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    np.testing.assert_array_equal(layer.grads["W"], first)
    assert layer.grads["W"] is not first


def test_relu_forward_and_kink_convention():
    layer = ReLU()
    np.testing.assert_array_equal(layer.forward(np.array([[-1.0, 0.0, 2.0]])), [[0, 0, 2]])
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0, 0, 1]])


def test_sigmoid_forward_by_hand_and_no_overflow_at_1000():
    layer = Sigmoid()
    out = layer.forward(np.array([[0.0, np.log(3), -np.log(3), 1000.0, -1000.0]]))
    np.testing.assert_allclose(out, [[0.5, 0.75, 0.25, 1.0, 0.0]], rtol=1e-15, atol=0)
    dx = layer.backward(np.ones((1, 5)))
    np.testing.assert_allclose(dx, [[0.25, 0.1875, 0.1875, 0.0, 0.0]], rtol=1e-15, atol=1e-300)


def test_tanh_forward_and_backward_by_hand():
    layer = Tanh()
    np.testing.assert_allclose(layer.forward(np.array([[np.log(2), 0.0]])), [[0.6, 0.0]])
    np.testing.assert_allclose(layer.backward(np.ones((1, 2))), [[0.64, 1.0]])


@pytest.mark.parametrize("layer", [Affine(3, 2, rng=0), ReLU(), Sigmoid(), Tanh(),
                                   Dropout(0.5, seed=0)], ids=repr)
def test_layers_accept_complex_input_for_the_complex_step(layer):
    # Im f(x + ih) / h is the derivative: check it against backward for a tiny h.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    direction = rng.standard_normal((4, 3))
    h = 1e-20
    out = layer.forward(x + 1j * h * direction)
    dout = rng.standard_normal(out.shape)
    derivative = np.sum(out * dout).imag / h
    layer.forward(x)
    dx = layer.backward(dout)
    np.testing.assert_allclose(derivative, np.sum(dx * direction), rtol=1e-13)


def test_sigmoid_and_relu_complex_decide_by_real_part():
    x = np.array([[1000.0 + 1e-20j, -1000.0 + 1e-20j, -2.0 + 5j]])
    np.testing.assert_array_equal(ReLU().forward(x), [[1000.0 + 1e-20j, 0, 0]])
    out = Sigmoid().forward(x)
    np.testing.assert_allclose(out[0, :2], [1.0, 0.0], rtol=0, atol=1e-300)
    np.testing.assert_allclose(out[0, 2], 1 / (1 + np.exp(2 - 5j)), rtol=1e-14)


def test_sigmoid_complex_step_is_its_derivative_for_large_x_too():
    # The complex step's derivative Im sigmoid(x + ih) / h against sigmoid'(x), written
    # as exp(-|x|) / (1 + exp(-|x|))**2, which neither overflows nor cancels. Up to |x|
    # = 600 (beyond that exp(-|x|) * h is below float64's smallest number), and at
    # +-1000, where both are exactly 0.
    x = np.concatenate([np.linspace(-40, 40, 161), [-600, -300, -100, 100, 300, 600],
                        [-1000, 1000]])
    h = 1e-20
    out = Sigmoid().forward(x + 1j * h)
    derivative = out.imag / h
    e = np.exp(-np.abs(x))
    np.testing.assert_allclose(derivative, e / (1 + e) ** 2, rtol=1e-12, atol=0)
    assert derivative[-1] == derivative[-2] == 0.0
    # and the value to full precision, tiny ones too (exp(600) does not overflow yet)
    np.testing.assert_allclose(out.real[:-2], 1 / (1 + np.exp(-x[:-2])), rtol=1e-14, atol=0)


def test_dropout_inverted_scaling_and_keep_rate():
    layer = Dropout(keep_prob=0.8, seed=3)
    out = layer.forward(np.ones((200, 500)))
    assert set(np.unique(out)) == {0.0, 1.25}
    assert abs(np.mean(out > 0) - 0.8) < 0.005
    assert abs(out.mean() - 1.0) < 0.01  # the expected value of each unit is unchanged


def test_dropout_seed_gives_the_same_mask_every_forward():
    layer = Dropout(0.5, seed=11)
    x = np.ones((5, 8))
    np.testing.assert_array_equal(layer.forward(x), layer.forward(x))
    np.testing.assert_array_equal(Dropout(0.5, seed=11).forward(x), layer.forward(x))


def test_dropout_without_seed_advances_its_private_generator():
    layer = Dropout(0.5, rng=4)
    x = np.ones((5, 8))
    first, second = layer.forward(x), layer.forward(x)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(Dropout(0.5, rng=4).forward(x), first)  # reproducible


def test_dropout_eval_mode_is_identity_and_keep_prob_is_settable():
    layer = Dropout(0.5, seed=0)
    layer.training = False
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(layer.forward(x), x)
    layer.keep_prob = 1.0
    layer.training = True
    np.testing.assert_array_equal(layer.forward(x), x)
    layer.seed = 9
    assert layer.seed == 9 and layer.keep_prob == 1.0


def test_dropout_never_touches_global_random_state():
    state = np.random.get_state()
    Dropout(0.5).forward(np.ones((10, 10)))
    Dropout(0.5, seed=1).forward(np.ones((10, 10)))
    assert np.random.get_state()[1].tolist() == state[1].tolist()


def test_dropout_keeps_float32():
    out = Dropout(0.5, seed=0).forward(np.ones((3, 3), dtype=np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("keep_prob", [0, -0.1, 1.5, "0.5", True])
def test_dropout_rejects_bad_keep_prob(keep_prob):
    with pytest.raises(ValueError, match="keep_prob"):
        Dropout(keep_prob)
    layer = Dropout(0.5)
    with pytest.raises(ValueError, match="keep_prob"):
        layer.keep_prob = keep_prob
    assert layer.keep_prob == 0.5


def test_affine_rejects_wrong_width_naming_shapes():
    with pytest.raises(ValueError, match=r"Affine: expected x of shape \(N, 4\).*got \(2, 5\)"):
        Affine(4, 3).forward(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"got \(4,\)"):
        Affine(4, 3).forward(np.ones(4))


@pytest.mark.parametrize("bad", [0, -2, 2.5, "3", True])
def test_affine_rejects_bad_sizes_and_init(bad):
    with pytest.raises(ValueError, match="in_features"):
        Affine(bad, 3)
    with pytest.raises(ValueError, match="init"):
        Affine(3, 3, init="glorot")


@pytest.mark.parametrize("layer", [Affine(3, 2), ReLU(), Sigmoid(), Tanh(), Dropout()], ids=repr)
def test_backward_before_forward_and_wrong_dout_shape(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected dout of shape \(2, \d\)"):
        layer.backward(np.ones((5, 7)))


ALL_LAYERS = [Affine(3, 2), ReLU(), Sigmoid(), Tanh(), Dropout(0.5, seed=0), RNN(3, 2),
              TimeAffine(3, 2), LSTM(3, 2), Conv2D(3, 2, 1), MaxPool2D(1), BatchNorm(3),
              LayerNorm(3)]


@pytest.mark.parametrize("layer", ALL_LAYERS, ids=lambda layer: type(layer).__name__)
def test_forward_rejects_what_is_not_a_batch_of_numbers(layer):
    name = type(layer).__name__
    for bad in (np.array([[1, "a", 2]], dtype=object), np.array([["1", "2", "3"]])):
        with pytest.raises(ValueError, match=rf"{name}.forward: x must be an array of numbers, "
                                             rf"got an array of dtype {bad.dtype}"):
            layer.forward(bad)
    for bad in (np.float64(2.0), np.ones((0, 3)), np.ones((0, 2, 3))):
        with pytest.raises(ValueError, match=rf"{name}.forward: expected a batch x of shape "
                                             r"\(N, \.\.\.\) with N >= 1, got " + re.escape(str(bad.shape))):
            layer.forward(bad)


@pytest.mark.parametrize("layer", [Affine(3, 2), ReLU(), Sigmoid(), Tanh(), Dropout(0.5)],
                         ids=lambda layer: type(layer).__name__)
def test_backward_rejects_a_dout_that_is_not_numbers(layer):
    out = layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}.backward: dout must be an "
                                         "array of numbers, got dtype object"):
        layer.backward(np.ones(out.shape, dtype=object))


def test_integer_input_is_computed_in_floats():
    # Without the conversion, Dropout's mask 1 / keep_prob would be cut to an integer.
    out = Dropout(0.8, seed=0).forward(np.ones((50, 4), dtype=np.int64))
    assert out.dtype == np.float64 and set(np.unique(out)) <= {0.0, 1.25}
    out = ReLU().forward([[1, -2]])  # lists are arrays too
    assert out.dtype == np.float64 and out.tolist() == [[1.0, 0.0]]
