import time

import numpy as np
import pytest

from minnet import SGD, Adam, Affine, Momentum, Net, ReLU, SoftmaxLoss, fit
from minnet import demo
from minnet.datasets import make_spiral


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demo_mlp_reaches_95_percent_on_held_out_digits_in_under_30_s(seed):
    start = time.perf_counter()
    found = demo.run(seed=seed, out=None, verbose=False)
    net, history, accuracy = found["net"], found["history"], found["accuracy"]
    seconds = time.perf_counter() - start
    print(f"\ndigits MLP, seed {seed}: held-out accuracy {accuracy:.4f} in {seconds:.1f} s")
    assert accuracy >= 0.95
    assert seconds < 30
    assert history.val_acc[-1] == accuracy
    assert [type(layer).__name__ for layer in net.layers].count("Dropout") == 2


def test_two_layer_relu_net_fits_the_spiral_where_a_linear_classifier_cannot():
    X, y = make_spiral(n_per_class=100, n_classes=3, seed=0)
    net = Net([Affine(2, 100, rng=0), ReLU(), Affine(100, 3, rng=1)], SoftmaxLoss(), reg=1e-3)
    fit(net, X, y, Adam(0.01), epochs=1500, batch_size=300, verbose=False)
    linear = Net([Affine(2, 3, rng=0)], SoftmaxLoss(), reg=1e-3)
    fit(linear, X, y, Adam(0.01), epochs=1500, batch_size=300, verbose=False)
    relu_acc, linear_acc = net.accuracy(X, y), linear.accuracy(X, y)
    print(f"\nspiral: 2-layer ReLU net {relu_acc:.4f}, linear softmax {linear_acc:.4f}")
    assert relu_acc >= 0.97
    assert 0.4 <= linear_acc <= 0.6


def test_history_records_every_step_and_epoch():
    X, y = make_spiral(n_per_class=20, n_classes=3, seed=1)
    net = Net.mlp([2, 16, 3], seed=0)
    history = fit(net, X, y, SGD(0.5), epochs=3, batch_size=25, val=(X, y), verbose=False)
    assert history.steps == 3 * 3  # 60 samples in minibatches of 25, 25 and 10
    assert len(history.train_acc) == len(history.val_acc) == len(history.seconds) == 3
    assert history.train_acc == history.val_acc
    assert all(isinstance(loss, float) for loss in history.loss)
    assert history.loss[-1] < history.loss[0]


def test_fit_is_reproducible_and_leaves_global_random_state_alone():
    X, y = make_spiral(n_per_class=30, seed=2)
    state = np.random.get_state()
    runs = []
    for _ in range(2):
        net = Net.mlp([2, 16, 3], keep_prob=0.9, seed=3)
        runs.append((fit(net, X, y, SGD(0.3), epochs=4, batch_size=16, seed=4, verbose=False),
                     net.params["W1"].copy()))
    assert runs[0][0].loss == runs[1][0].loss
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert np.random.get_state()[1].tolist() == state[1].tolist()


def test_progress_lines_and_silence(capsys):
    X, y = make_spiral(n_per_class=10, seed=0)
    net = Net.mlp([2, 8, 3], seed=0)
    fit(net, X, y, SGD(0.1), epochs=2, batch_size=10, val=(X, y))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2  loss ") and "train acc" in lines[0] and "val acc" in lines[0]
    fit(net, X, y, SGD(0.1), epochs=2, batch_size=10, verbose=False)
    assert capsys.readouterr().out == ""


def test_callback_sees_every_step_and_modes_are_restored():
    X, y = make_spiral(n_per_class=10, seed=0)
    net = Net.mlp([2, 8, 3], keep_prob=0.5, seed=0).eval()
    seen = []
    fit(net, X, y, SGD(0.1), epochs=2, batch_size=15, verbose=False,
        callback=lambda step, model, X_batch, y_batch: seen.append(
            (step, model.layers[2].training, len(X_batch))))
    assert seen == [(1, True, 15), (2, True, 15), (3, True, 15), (4, True, 15)]
    assert not any(layer.training for layer in net.layers)


def test_fit_rejects_bad_arguments():
    net = Net.mlp([2, 4, 3])
    X, y = make_spiral(n_per_class=5, seed=0)
    with pytest.raises(ValueError, match="same N"):
        fit(net, X, y[:-1], SGD(0.1))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        fit(net, X, y, SGD(0.1), batch_size=0)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit(net, X, y, SGD(0.1), epochs=1.5)
