import numpy as np
import pytest

from minnet.datasets import (IRIS_CLASSES, char_windows, load_digits, load_iris,
                             load_mnist_subset, load_text, make_circles, make_flower,
                             make_moons, make_spiral, make_xor, standardize, train_test_split)

GENERATORS = {
    "spiral": lambda seed: make_spiral(50, 3, seed=seed),
    "flower": lambda seed: make_flower(101, seed=seed),
    "moons": lambda seed: make_moons(101, seed=seed),
    "circles": lambda seed: make_circles(101, seed=seed),
    "xor": lambda seed: make_xor(101, noise=0.1, seed=seed),
}


def test_load_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    assert set(y) == set(range(10)) and np.bincount(y).min() >= 170


def test_load_iris():
    X, y = load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    assert IRIS_CLASSES == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(X[0], [5.1, 3.5, 1.4, 0.2])
    assert 0 < X.min() and X.max() < 8


def test_load_mnist_subset():
    X, y = load_mnist_subset()
    assert X.shape == (5000, 784) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 255
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)


def test_load_text():
    text = load_text()
    assert isinstance(text, str) and 4000 < len(text) < 20000
    assert text.isascii() and "\r" not in text and text.endswith("\n")
    assert text.startswith("A neural network is a chain of small functions.")
    assert len(set(text)) == 45
    assert load_text() == text


def test_char_windows_shift_by_one_and_cover_the_text():
    text = load_text()
    X, y, chars = char_windows(text, 32, stride=4)
    N = 1 + (len(text) - 32 - 1) // 4
    assert X.shape == y.shape == (N, 32) and X.dtype == y.dtype == np.int64
    assert chars == "".join(sorted(set(text)))
    np.testing.assert_array_equal(X[:, 1:], y[:, :-1])
    for n in (0, 1, N - 1):
        assert "".join(chars[k] for k in X[n]) == text[4 * n:4 * n + 32]
        assert "".join(chars[k] for k in y[n]) == text[4 * n + 1:4 * n + 33]
    assert 4 * (N - 1) + 33 <= len(text) < 4 * N + 33   # the last window whose target fits


def test_char_windows_small_cases_and_a_given_vocabulary():
    X, y, chars = char_windows("abcab", 2)
    assert chars == "abc"
    np.testing.assert_array_equal(X, [[0, 1], [1, 2], [2, 0]])
    np.testing.assert_array_equal(y, [[1, 2], [2, 0], [0, 1]])
    X, y, chars = char_windows("abcab", 4, chars="cba")
    np.testing.assert_array_equal(X, [[2, 1, 0, 2]])
    np.testing.assert_array_equal(y, [[1, 0, 2, 1]])
    X, _, _ = char_windows("abcdefg", 3, stride=2)   # starts 0 and 2; 4 would need "h"
    np.testing.assert_array_equal(X, [[0, 1, 2], [2, 3, 4]])


@pytest.mark.parametrize("call, message", [
    (lambda: char_windows(b"abc", 2), "text must be a str"),
    (lambda: char_windows("abc", 3), "too short"),
    (lambda: char_windows("abc", 0), "length must be an int >= 1"),
    (lambda: char_windows("abcd", 2, stride=0), "stride must be an int >= 1"),
    (lambda: char_windows("abcd", 2, chars="abca"), "distinct"),
    (lambda: char_windows("abcd", 2, chars="abc"), "not in chars: 'd'"),
])
def test_char_windows_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded_and_leave_global_state_alone(name):
    state = np.random.get_state()
    X1, y1 = GENERATORS[name](0)
    X2, y2 = GENERATORS[name](0)
    X3, _ = GENERATORS[name](1)
    assert np.random.get_state()[1].tolist() == state[1].tolist()
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.dtype == np.float64 and y1.dtype == np.int64 and X1.shape == (len(y1), 2)
    X4, _ = GENERATORS[name](np.random.default_rng(0))  # a Generator works as the seed
    np.testing.assert_array_equal(X1, X4)


def test_spiral_formula_without_noise():
    X, y = make_spiral(n_per_class=50, n_classes=3, noise=0.0)
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    for j in range(3):
        points = X[y == j]
        np.testing.assert_allclose(np.hypot(points[:, 0], points[:, 1]), np.linspace(0, 1, 50),
                                   atol=1e-15)
        angles = np.arctan2(points[1:, 0], points[1:, 1])  # x = r sin t, y = r cos t
        expected = np.linspace(4 * j, 4 * (j + 1), 50)[1:]
        np.testing.assert_allclose(np.cos(angles), np.cos(expected), atol=1e-12)


def test_flower_formula_without_noise():
    X, y = make_flower(n=400, petals=4, noise=0.0)
    np.testing.assert_array_equal(np.bincount(y), [200, 200])
    t = np.linspace(0, 3.12, 200)
    r = 4 * np.sin(4 * t)
    np.testing.assert_allclose(X[y == 0], np.column_stack([r * np.sin(t), r * np.cos(t)]))


def test_moons_circles_and_xor_formulas():
    X, y = make_moons(n=101, noise=0.0)
    np.testing.assert_array_equal(np.bincount(y), [50, 51])
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)
    X, y = make_circles(n=100, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X.T), np.where(y == 0, 1.0, 0.3))
    X, y = make_xor(n=500, noise=0.0, seed=3)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    assert np.abs(X).max() <= 1 and 0.4 < y.mean() < 0.6


def test_train_test_split_is_stratified_disjoint_and_reproducible():
    X, y = load_iris()
    X_copy = X.copy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
    assert X_train.shape == (120, 4) and X_test.shape == (30, 4)
    np.testing.assert_array_equal(np.bincount(y_test), [10, 10, 10])
    np.testing.assert_array_equal(X, X_copy)
    # Iris has two identical samples (rows 101 and 142), so samples cannot be told apart
    # by value: split their indices (unique), with the same labels and seed.
    assert np.array_equal(X[101], X[142]) and y[101] == y[142]
    index = np.arange(len(y))
    i_train, i_test, iy_train, iy_test = train_test_split(index, y, test_fraction=0.2, seed=0)
    assert set(i_train).isdisjoint(i_test)
    np.testing.assert_array_equal(np.sort(np.concatenate([i_train, i_test])), index)
    np.testing.assert_array_equal(iy_train, y[i_train])
    np.testing.assert_array_equal(iy_test, y[i_test])
    # the samples go where their indices go: the split depends on y and the seed alone
    np.testing.assert_array_equal(X_train, X[i_train])
    np.testing.assert_array_equal(X_test, X[i_test])
    np.testing.assert_array_equal(y_train, y[i_train])
    np.testing.assert_array_equal(y_test, y[i_test])
    again = train_test_split(X, y, test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again[1], X_test)
    other = train_test_split(X, y, test_fraction=0.2, seed=1)
    assert not np.array_equal(other[1], X_test)


def test_standardize_uses_training_statistics_and_survives_constant_features():
    X, _ = load_digits()
    X_train, X_test = X[:1000], X[1000:]
    S_train, S_test = standardize(X_train, X_test)
    varying = X_train.std(axis=0) > 0
    assert not varying.all()  # the corner pixels of the digits are always 0
    np.testing.assert_allclose(S_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(S_train.std(axis=0)[varying], 1, rtol=1e-12)
    np.testing.assert_array_equal(S_train[:, ~varying], 0)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    np.testing.assert_allclose(S_test[:, varying], ((X_test - mean) / np.where(varying, std, 1))
                               [:, varying])
    np.testing.assert_array_equal(standardize(X_train), S_train)


@pytest.mark.parametrize("call, message", [
    (lambda: make_spiral(n_per_class=-3), "n_per_class must be an int >= 1, got -3"),
    (lambda: make_spiral(n_classes=2.5), "n_classes"),
    (lambda: make_moons(noise=-1), "noise"),
    (lambda: make_circles(factor=1.5), "factor"),
    (lambda: make_flower(n=1), "n must be an int >= 2"),
    (lambda: train_test_split(np.ones((4, 2)), np.ones(3)), "X has 4 samples but y has 3"),
    (lambda: train_test_split(np.ones((4, 2)), np.ones(4), test_fraction=1.0), "test_fraction"),
    (lambda: train_test_split(np.ones((2, 2)), np.ones(2), test_fraction=0.1), "one side empty"),
    (lambda: standardize(np.ones(3)), r"shape \(N, D\)"),
    (lambda: standardize(np.ones((3, 2)), np.ones((3, 5))), r"X_test of shape \(M, 2\)"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("name, make", [
    ("spiral", lambda noise: make_spiral(20, 3, noise=noise)),
    ("flower", lambda noise: make_flower(40, noise=noise)),
    ("moons", lambda noise: make_moons(40, noise=noise)),
    ("circles", lambda noise: make_circles(40, noise=noise)),
    ("xor", lambda noise: make_xor(40, noise=noise)),
])
def test_a_numpy_noise_is_used_as_a_plain_float(name, make):
    # np.longdouble times a float64 array is a longdouble array: the checked float must
    # be the one used, so X stays float64 with the same points as for noise=0.1
    X, y = make(np.longdouble(0.1))
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, make(0.1)[0])


def test_numpy_counts_are_used_as_plain_ints():
    # np.uint8(255) + 1 wraps to 0 in numpy (with an overflow warning): the length must be
    # used as the int the check returned
    text = "ab" * 200
    X, y, chars = char_windows(text, np.uint8(255), stride=np.uint8(100))
    assert X.shape == (2, 255) and X.dtype == np.int64
    X, y = make_flower(n=np.uint8(255), petals=np.int8(2))
    assert X.shape == (255, 2) and np.bincount(y).tolist() == [127, 128]
