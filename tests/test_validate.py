"""Numbers from numpy are numbers: every argument checked by minnet.validate takes numpy
scalars, returns plain Python numbers, and refuses bools and strings by name."""
import math

import numpy as np
import pytest

from minnet import (LSTM, RNN, SGD, Adam, Affine, BatchNorm, Conv2D, Dropout, Embedding,
                    LayerNorm, MaxPool2D, Momentum, Net, SoftmaxLoss, SVMLoss, TimeAffine,
                    check_layer, check_net, fit, gradient_check_n)
from minnet.checker import (check_loss, eval_numerical_gradient, eval_numerical_gradient_array,
                            numerical_gradient, numerical_gradient_array)
from minnet.datasets import (char_windows, make_circles, make_flower, make_spiral,
                             train_test_split)
from minnet.validate import count, is_real, real

from helpers import data


def test_real_takes_numpy_scalars_and_returns_a_plain_float():
    for value in (0.5, np.float32(0.5), np.float64(0.5), np.float16(0.5)):
        out = real(value, "lr", "SGD", low=0, low_open=True)
        assert type(out) is float and out == 0.5
    assert type(real(np.int64(3), "x", "f")) is float


def test_real_honours_open_and_closed_bounds():
    assert real(0, "reg", "Net", low=0) == 0.0
    with pytest.raises(ValueError, match=r"f: lr must be a positive number, got 0"):
        real(0, "lr", "f", low=0, low_open=True)
    assert real(1, "keep_prob", "Dropout", low=0, high=1, low_open=True) == 1.0
    with pytest.raises(ValueError, match=r"must be in \[0, 1\), got 1"):
        real(1, "beta", "Momentum", low=0, high=1, high_open=True)
    for never in (math.nan, math.inf, -math.inf, np.float32("nan")):
        with pytest.raises(ValueError, match="must be a finite number"):
            real(never, "x", "f")


@pytest.mark.parametrize("build, said", [
    (lambda: SGD(-1), "got -1;"),
    (lambda: SGD(np.float32(-0.1)), r"got np.float32\(-0.1\);"),
    (lambda: Dropout(np.float64(1.5)), r"got np.float64\(1.5\);"),
    (lambda: real(-2, "x", "f", low=0), "got -2$"),
], ids=["int", "float32", "float64", "real"])
def test_a_refusal_shows_the_value_as_passed_not_as_converted(build, said):
    with pytest.raises(ValueError, match=said):  # not -1.0, not -0.10000000149011612
        build()


@pytest.mark.parametrize("huge, size", [(10**400, r"10\*\*400"), (-10**400, r"-10\*\*400"),
                                        (10**5000, r"10\*\*5000")], ids=["big", "-big", "huge"])
def test_an_int_too_large_for_a_float_is_refused_by_its_size(huge, size):
    # float(10**400) raises OverflowError, and 10**5000 has too many digits to print
    with pytest.raises(ValueError, match=rf"^SGD: lr must be a positive number, got an int "
                                         rf"near {size}, too large for a float;"):
        SGD(huge)
    with pytest.raises(ValueError, match="too large for a float$"):
        real(huge, "x", "f")


def test_count_takes_numpy_integers_and_refuses_floats_even_whole_ones():
    for value in (3, np.int64(3), np.int32(3), np.uint8(3), np.array(3)):
        out = count(value, "n", "f")
        assert type(out) is int and out == 3
    with pytest.raises(ValueError, match=r"f: n must be a positive int, got 3.0 \(a float, "
                                         r"not an int\)"):
        count(3.0, "n", "f")
    with pytest.raises(ValueError, match=r"f: pad must be an int >= 0, got -1"):
        count(-1, "pad", "f", minimum=0)
    assert count(0, "pad", "f", minimum=0) == 0


@pytest.mark.parametrize("bad, said", [
    (True, r"got True \(a bool, not a number\)"),
    (np.True_, r"got np.True_ \(a bool, not a number\)"),
    ("0.1", r"got '0.1' \(a str, not a number; pass the number itself, without quotes\)"),
    ([0.1], r"got \[0.1\] \(a list, not a number\)"),
    (None, r"got None \(a NoneType, not a number\)"),
])
def test_bools_strings_and_other_things_are_refused_saying_what_came(bad, said):
    assert not is_real(bad)
    with pytest.raises(ValueError, match=r"SGD: lr must be a positive number, " + said):
        real(bad, "lr", "SGD", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"Affine: in_features must be a positive int, " + said):
        count(bad, "in_features", "Affine")


def test_the_fix_and_the_meaning_are_part_of_the_message():
    with pytest.raises(ValueError, match=r"^Dropout: keep_prob, the probability of keeping a "
                                         r"unit, must be in \(0, 1\], got 1.5; PyTorch's p"):
        Dropout(1.5)


# Every argument minnet checks with validate, with a numpy scalar for it.
NUMPY_SCALARS = {
    "SGD lr": lambda: SGD(np.float32(0.1)).lr,
    "Momentum lr": lambda: Momentum(np.float32(0.1)).lr,
    "Momentum beta": lambda: Momentum(0.1, beta=np.float32(0.5)).beta,
    "Adam lr": lambda: Adam(np.float64(0.01)).lr,
    "Adam beta1": lambda: Adam(beta1=np.float32(0.5)).beta1,
    "Adam beta2": lambda: Adam(beta2=np.float32(0.5)).beta2,
    "Adam eps": lambda: Adam(eps=np.float32(1e-6)).eps,
    "Dropout keep_prob": lambda: Dropout(np.float32(0.5)).keep_prob,
    "Net reg 0": lambda: Net([Affine(2, 3)], SoftmaxLoss(), reg=np.float64(0)).reg,
    "Net reg": lambda: Net([Affine(2, 3)], SoftmaxLoss(), reg=np.float32(0.5)).reg,
    "Net.mlp sizes": lambda: Net.mlp(np.array([4, 8, 3]), keep_prob=np.float32(0.5))
                             .layers[0].in_features,
    "Affine widths": lambda: Affine(np.int64(4), np.int64(3)).out_features,
    "Conv2D sizes": lambda: Conv2D(np.int64(1), np.int64(2), np.int64(3), stride=np.int64(1),
                                   pad=np.int64(1)).pad,
    "Conv2D kernel pair": lambda: Conv2D(1, 2, (np.int64(3), np.int64(2))).kernel_size[1],
    "MaxPool2D size": lambda: MaxPool2D(np.int64(2), stride=np.int64(2)).stride,
    "BatchNorm": lambda: BatchNorm(np.int64(3), momentum=np.float32(0.5),
                                   eps=np.float32(1e-3)).momentum,
    "LayerNorm": lambda: LayerNorm(np.int64(3), eps=np.float32(1e-3)).eps,
    "RNN": lambda: RNN(np.int64(3), np.int64(4)).hidden,
    "LSTM": lambda: LSTM(np.int64(3), np.int64(4)).hidden,
    "TimeAffine": lambda: TimeAffine(np.int64(3), np.int64(4)).out_features,
    "Embedding": lambda: Embedding(np.int64(5), np.int64(2)).dim,
    "SVMLoss delta": lambda: SVMLoss(np.float32(0.5)).delta,
}


@pytest.mark.parametrize("name", sorted(NUMPY_SCALARS))
def test_numpy_scalars_are_accepted_everywhere(name):
    value = NUMPY_SCALARS[name]()
    assert type(value) in (int, float)  # stored as a plain Python number, not a numpy one


def _split(fraction):
    X, y = np.arange(8.0).reshape(8, 1), np.arange(8) % 2  # rows told apart by their value
    return train_test_split(X, y, test_fraction=fraction)


# A data set made with numpy scalars is the one made with the same plain numbers
# (0.25 and 0.5 are exact in float32), with the arrays' documented shapes and dtypes.
F, I = np.dtype(np.float64), np.dtype(np.int64)
DATASETS = {
    "make_spiral": (lambda: make_spiral(np.int64(5), np.int64(3), noise=np.float32(0.25)),
                    lambda: make_spiral(5, 3, noise=0.25), [((15, 2), F), ((15,), I)]),
    "make_flower": (lambda: make_flower(n=np.int64(10), petals=np.int64(2)),
                    lambda: make_flower(n=10, petals=2), [((10, 2), F), ((10,), I)]),
    "make_circles": (lambda: make_circles(n=np.int64(10), factor=np.float32(0.5)),
                     lambda: make_circles(n=10, factor=0.5), [((10, 2), F), ((10,), I)]),
    # N = 1 + (7 - 2 - 1) // 2 = 3 windows of 2 characters
    "char_windows": (lambda: char_windows("abcdefg", np.int64(2), stride=np.int64(2))[:2],
                     lambda: char_windows("abcdefg", 2, stride=2)[:2],
                     [((3, 2), I), ((3, 2), I)]),
    "train_test_split": (lambda: _split(np.float32(0.5)), lambda: _split(0.5),
                         [((4, 1), F), ((4, 1), F), ((4,), I), ((4,), I)]),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_numpy_scalars_make_the_data_set_plain_numbers_make(name):
    with_numpy, with_plain, expected = DATASETS[name]
    arrays, plain = with_numpy(), with_plain()
    assert [(a.shape, a.dtype) for a in arrays] == expected
    for array, same in zip(arrays, plain):
        np.testing.assert_array_equal(array, same, strict=True)


def test_numpy_scalars_reach_the_checker_and_fit():
    net = Net.mlp([5, 4, 3], seed=0)
    X, y = data()
    assert check_net(net, X, y, h=np.float64(1e-5), loss_scale=np.float32(2),
                     sample=np.int64(3)).passed
    assert check_net(net, X, y, fast=True, directions=np.int64(2)).passed
    assert check_layer(Affine(5, 3, rng=0), X, h=np.float32(1e-4)).passed
    params = {"W": np.array([1.0, -2.0])}
    assert gradient_check_n(lambda p: np.sum(p["W"] ** 2), params, {"dW": 2 * params["W"]},
                            epsilon=np.float32(1e-4)).passed
    np.testing.assert_allclose(numerical_gradient(lambda x: np.sum(x**2), np.array([1.0, -2.0]),
                                                  h=np.float32(1e-4)), [2, -4], rtol=1e-6)
    W = Affine(400, 300, init=np.float32(0.5), rng=0).params["W"]
    assert W.dtype == np.float64 and W.std() == pytest.approx(0.5, rel=0.01)
    history = fit(net, X, y, SGD(np.float32(0.1)), epochs=np.int64(2), batch_size=np.int64(4),
                  verbose=False)
    assert history.steps == 4


# (build with the bad value, the argument's name in the message)
REFUSALS = [
    (lambda bad: SGD(bad), "SGD: lr"),
    (lambda bad: Momentum(0.1, beta=bad), "Momentum: beta"),
    (lambda bad: Adam(beta1=bad), "Adam: beta1"),
    (lambda bad: Adam(eps=bad), "Adam: eps"),
    (lambda bad: Dropout(bad), "Dropout: keep_prob"),
    (lambda bad: Net([Affine(2, 3)], SoftmaxLoss(), reg=bad), "Net: reg"),
    (lambda bad: Affine(bad, 3), "Affine: in_features"),
    (lambda bad: Conv2D(1, 1, 3, pad=bad), "Conv2D: pad"),
    (lambda bad: BatchNorm(3, momentum=bad), "BatchNorm: momentum"),
    (lambda bad: LayerNorm(3, eps=bad), "LayerNorm: eps"),
    (lambda bad: SVMLoss(bad), "SVMLoss: delta"),
    (lambda bad: make_spiral(n_per_class=bad), "make_spiral: n_per_class"),
    (lambda bad: make_spiral(noise=bad), "make_spiral: noise"),
    (lambda bad: char_windows("abcdef", bad), "char_windows: length"),
    (lambda bad: train_test_split(np.ones((4, 1)), np.arange(4) % 2, test_fraction=bad),
     "train_test_split: test_fraction"),
    (lambda bad: check_net(Net.mlp([5, 4, 3]), *data(), h=bad), "check_net: h"),
    (lambda bad: check_net(Net.mlp([5, 4, 3]), *data(), loss_scale=bad), "check_net: loss_scale"),
    (lambda bad: gradient_check_n(lambda p: 0.0, {"W": np.ones(1)}, {"W": np.ones(1)},
                                  epsilon=bad), "gradient_check_n: epsilon"),
    (lambda bad: numerical_gradient(lambda x: 0.0, np.ones(1), h=bad), "numerical_gradient: h"),
    (lambda bad: numerical_gradient_array(lambda x: x, np.ones(1), np.ones(1), h=bad),
     "numerical_gradient_array: h"),
    (lambda bad: eval_numerical_gradient(lambda x: 0.0, np.ones(1), h=bad),
     "eval_numerical_gradient: h"),
    (lambda bad: eval_numerical_gradient_array(lambda x: x, np.ones(1), np.ones(1), h=bad),
     "eval_numerical_gradient_array: h"),
    (lambda bad: check_net(Net.mlp([5, 4, 3]), *data(), sample=bad), "check_net: sample"),
    (lambda bad: check_layer(Affine(5, 3, rng=0), data()[0], sample=bad), "check_layer: sample"),
    (lambda bad: check_loss(SoftmaxLoss(), np.ones((2, 3)), np.array([0, 1]), sample=bad),
     "check_loss: sample"),
    (lambda bad: gradient_check_n(lambda p: 0.0, {"W": np.ones(1)}, {"W": np.ones(1)},
                                  sample=bad), "gradient_check_n: sample"),
    (lambda bad: fit(Net.mlp([5, 4, 3]), *data(), SGD(0.1), epochs=bad), "fit: epochs"),
    (lambda bad: fit(Net.mlp([5, 4, 3]), *data(), SGD(0.1), batch_size=bad), "fit: batch_size"),
]


@pytest.mark.parametrize("bad", [True, "1"], ids=["bool", "str"])
@pytest.mark.parametrize("build, name", REFUSALS, ids=[name for _, name in REFUSALS])
def test_bools_and_strings_are_refused_naming_the_argument(build, name, bad):
    with pytest.raises(ValueError, match=rf"^{name}(, [^,]+,)? must be .*, got {bad!r} \(a "
                                         rf"{type(bad).__name__}"):
        build(bad)
