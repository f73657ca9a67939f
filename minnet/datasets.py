"""Datasets: real data bundled with minnet, the classic 2-D teaching sets, and two helpers.

Loaders return the raw values (digits pixels 0..16, MNIST pixels 0..255):
    X, y = load_digits()          # X: (1797, 64) float64, y: (1797,) int64
    text = load_text()            # a short English text (str), for character models
    X, y, chars = char_windows(text, length=32, stride=4)  # token ids (N, 32), int64
Generators draw from their formula with their own generator (never numpy's global one):
    X, y = make_spiral(n_per_class=100, n_classes=3, noise=0.2, seed=0)   # X: (300, 2)
Helpers:
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
    X_train, X_test = standardize(X_train, X_test)

The data files live in the top-level datasets/ folder of a checkout and are installed
inside the package as minnet/data/; see datasets/README.md for their origin and license.
minnet never downloads anything.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .validate import count, real


# -- bundled data -------------------------------------------------------------------

def _data_file(name):
    """The path of a bundled data file, installed (minnet/data/) or in a checkout (datasets/)."""
    here = Path(__file__).resolve().parent
    places = [here / "data", here.parent / "datasets"]
    for folder in places:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"minnet's bundled data file {name} is missing: looked in "
                            f"{' and '.join(str(p) for p in places)}; reinstall minnet")


def _load_csv(name):
    """Rows of numbers with the label in the last column -> (X float64, y int64)."""
    path = _data_file(name)
    with (gzip.open(path, "rt") if name.endswith(".gz") else open(path)) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    return table[:, :-1], table[:, -1].astype(np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """UCI handwritten digits: 8x8 images, pixel values 0..16.

    returns X: (1797, 64) float64, one flattened image per row; y: (1797,) labels 0..9
    """
    return _load_csv("digits.csv.gz")


def load_mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """5,000 MNIST training images, 500 per class: 28x28 pixels, values 0..255.

    returns X: (5000, 784) float64; y: (5000,) labels 0..9
    """
    return _load_csv("mnist_5k.csv.gz")


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris: sepal length and width, petal length and width, in cm.

    returns X: (150, 4) float64; y: (150,) labels 0..2, named by IRIS_CLASSES
    """
    path = _data_file("iris.csv")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return table[:, :-1], table[:, -1].astype(np.int64)


IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def load_text() -> str:
    """A short plain-English text about neural networks and backpropagation, written for
    minnet (about 6,000 characters of ASCII, lines ending in a newline). It repeats its
    words and phrases a lot, so a small character-level model learns it quickly.

    returns the text, a str; char_windows turns it into training windows
    """
    return _data_file("backprop_notes.txt").read_text(encoding="ascii")


def char_windows(text: str, length: int, stride: int = 1,
                 chars: str | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """A text as windows of character ids, for a model that predicts the next character.

    text: a str; length: T, characters per window; stride: how far apart windows start
    chars: the vocabulary, a str of distinct characters, character chars[k] having id k;
        default: every character of the text once, sorted
    returns X: (N, T) int64, X[n] the ids of text[s:s + T] for the start s = n * stride;
        y: (N, T) int64, the ids of text[s + 1:s + T + 1], the character after each one
        (so y[n, :-1] equals X[n, 1:]); chars: the vocabulary.
        N = 1 + (len(text) - T - 1) // stride: every window whose last target fits.
    """
    if not isinstance(text, str):
        raise ValueError(f"char_windows: text must be a str, got {type(text).__name__}")
    length = _check_count("char_windows", "length", length)
    stride = _check_count("char_windows", "stride", stride)
    if len(text) < length + 1:
        raise ValueError(f"char_windows: a text of {len(text)} characters is too short for "
                         f"windows of length {length} (each needs length + 1 characters: "
                         "the last target is the character after the window)")
    if chars is None:
        chars = "".join(sorted(set(text)))
    if not isinstance(chars, str) or len(set(chars)) != len(chars):
        raise ValueError(f"char_windows: chars must be a str of distinct characters, "
                         f"got {chars!r}")
    index = {c: k for k, c in enumerate(chars)}
    missing = sorted(set(text) - set(index))
    if missing:
        raise ValueError(f"char_windows: the text has characters that are not in chars: "
                         f"{''.join(missing)!r}")
    ids = np.array([index[c] for c in text], dtype=np.int64)
    starts = np.arange(0, len(text) - length, stride)
    steps = starts[:, None] + np.arange(length)
    return ids[steps], ids[steps + 1], chars


# -- generated 2-D data -------------------------------------------------------------

def make_spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
                seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """The spiral of the CS231n course: one arm per class, winding out from the origin.

    For class j, n points with radius r = linspace(0, 1, n) and angle
    t = linspace(4j, 4(j + 1), n) + noise * N(0, 1), at (r sin t, r cos t).
    returns X: (n_per_class * n_classes, 2) float64; y: (n_per_class * n_classes,) int64
    """
    n_per_class = _check_count("make_spiral", "n_per_class", n_per_class)
    n_classes = _check_count("make_spiral", "n_classes", n_classes)
    noise = _check_noise("make_spiral", noise)
    rng = np.random.default_rng(seed)
    X, y = [], []
    for j in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), n_per_class) + noise * rng.standard_normal(n_per_class)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, j))
    return np.concatenate(X), np.concatenate(y).astype(np.int64)


def make_flower(n: int = 400, petals: int = 4, noise: float = 0.2,
                seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """The planar "flower" of the deep-learning course: two classes of interleaved petals.

    For class j in {0, 1}, n/2 points at angle t = linspace(3.12 j, 3.12 (j + 1), n/2)
    + noise * N(0, 1) and radius r = 4 sin(petals * t) + noise * N(0, 1), placed at
    (r sin t, r cos t). Class sizes are n // 2 and n - n // 2.
    returns X: (n, 2) float64; y: (n,) int64 in {0, 1}
    """
    n = _check_count("make_flower", "n", n, minimum=2)
    petals = _check_count("make_flower", "petals", petals)
    noise = _check_noise("make_flower", noise)
    rng = np.random.default_rng(seed)
    X, y = [], []
    for j, size in enumerate((n // 2, n - n // 2)):
        t = np.linspace(3.12 * j, 3.12 * (j + 1), size) + noise * rng.standard_normal(size)
        r = 4.0 * np.sin(petals * t) + noise * rng.standard_normal(size)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(size, j))
    return np.concatenate(X), np.concatenate(y).astype(np.int64)


def make_moons(n: int = 200, noise: float = 0.1,
               seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    Class 0: (cos s, sin s); class 1: (1 - cos s, 0.5 - sin s), for s = linspace(0, pi)
    with n // 2 and n - n // 2 points, plus noise * N(0, 1) on each coordinate.
    returns X: (n, 2) float64; y: (n,) int64 in {0, 1}
    """
    n = _check_count("make_moons", "n", n, minimum=2)
    noise = _check_noise("make_moons", noise)
    rng = np.random.default_rng(seed)
    outer = np.linspace(0.0, np.pi, n // 2)
    inner = np.linspace(0.0, np.pi, n - n // 2)
    X = np.concatenate([np.column_stack([np.cos(outer), np.sin(outer)]),
                        np.column_stack([1 - np.cos(inner), 0.5 - np.sin(inner)])])
    y = np.concatenate([np.zeros(len(outer)), np.ones(len(inner))]).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), y


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
                 seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius `factor`.

    n // 2 and n - n // 2 points evenly spaced in angle, plus noise * N(0, 1) per coordinate.
    returns X: (n, 2) float64; y: (n,) int64 in {0, 1}
    """
    n = _check_count("make_circles", "n", n, minimum=2)
    noise = _check_noise("make_circles", noise)
    factor = real(factor, "factor", "make_circles", low=0, high=1, low_open=True,
                  high_open=True, meaning="the inner radius (the outer one is 1)")
    rng = np.random.default_rng(seed)
    rings, ring_labels = [], []
    for label, (size, radius) in enumerate([(n // 2, 1.0), (n - n // 2, factor)]):
        angle = np.linspace(0.0, 2 * np.pi, size, endpoint=False)
        rings.append(radius * np.column_stack([np.cos(angle), np.sin(angle)]))
        ring_labels.append(np.full(size, label))
    X = np.concatenate(rings)
    return X + noise * rng.standard_normal(X.shape), np.concatenate(ring_labels).astype(np.int64)


def make_xor(n: int = 200, noise: float = 0.0,
             seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR pattern: points uniform in [-1, 1]^2, label 1 where x1 * x2 > 0, else 0.

    Labels are decided before noise * N(0, 1) is added to the points.
    returns X: (n, 2) float64; y: (n,) int64 in {0, 1}
    """
    n = _check_count("make_xor", "n", n)
    noise = _check_noise("make_xor", noise)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), y


def _check_count(owner, name, value, minimum=1):
    """A count (samples, classes, petals) must be an int >= minimum (np.int64 is fine);
    returns it as a plain int, so numpy's integer overflow cannot reach the arithmetic."""
    return count(value, name, owner, minimum=minimum, expected=f"an int >= {minimum}")


def _check_noise(owner, noise):
    """noise, a standard deviation, must be a number >= 0 (np.float32 is fine); returns it
    as a plain float, so a np.longdouble cannot turn the data into float128."""
    return real(noise, "noise", owner, low=0, meaning="a standard deviation")


# -- helpers ------------------------------------------------------------------------

def train_test_split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.2,
                     seed: int | np.random.Generator = 0) -> tuple[np.ndarray, ...]:
    """Shuffle and split into a training and a test set, keeping class proportions.

    X: (N, ...) samples; y: (N,) labels
    test_fraction: the share of each class that goes to the test set, in (0, 1)
    returns X_train, X_test, y_train, y_test (scikit-learn's order), new arrays

    Each class is split on its own (stratified), so a rare class appears on both sides.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} samples but y has {len(y)} labels; "
                         "they must have one label per sample")
    test_fraction = real(test_fraction, "test_fraction", "train_test_split", low=0, high=1,
                         low_open=True, high_open=True,
                         meaning="the share of each class that goes to the test set")
    rng = np.random.default_rng(seed)
    test: list[int] = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test.extend(members[:int(round(test_fraction * len(members)))])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    if is_test.all() or not is_test.any():
        raise ValueError(f"train_test_split: test_fraction={test_fraction} of {len(y)} samples "
                         "leaves one side empty; use more samples or another fraction")
    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(np.flatnonzero(is_test))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def standardize(X_train: np.ndarray, X_test: np.ndarray | None = None,
                eps: float = 1e-8) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Scale every feature to mean 0 and standard deviation 1, with the training set's statistics.

    X_train: (N, D); X_test: optional (M, D), scaled with the same mean and std
    returns the scaled X_train, or (X_train, X_test) when X_test is given (new arrays)

    Features that never vary (such as the always-blank corner pixels of the digits)
    have std 0; they are divided by eps instead, which leaves them at 0.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    if X_train.ndim != 2 or len(X_train) == 0:
        raise ValueError(f"standardize: expected X_train of shape (N, D) with N >= 1, "
                         f"got {X_train.shape}")
    mean = X_train.mean(axis=0)
    std = np.maximum(X_train.std(axis=0), eps)
    if X_test is None:
        return (X_train - mean) / std
    X_test = np.asarray(X_test, dtype=np.float64)
    if X_test.ndim != 2 or X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"standardize: expected X_test of shape (M, {X_train.shape[1]}), "
                         f"got {X_test.shape}")
    return (X_train - mean) / std, (X_test - mean) / std
