import re
import time
import warnings

import numpy as np
import pytest

from minnet import SGD, Adam, Affine, Dropout, Momentum, MSELoss, Net, ReLU, SoftmaxLoss, fit
from minnet import demo
from minnet.datasets import load_digits, make_spiral, train_test_split


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


def digits():
    X, y = load_digits()
    return X / 16, y


@pytest.mark.parametrize("lr", [10, 100, 1e4])
def test_a_learning_rate_far_too_large_warns_naming_it(lr):
    X, y = digits()
    with pytest.warns(RuntimeWarning) as caught:
        history = fit(Net.mlp([64, 128, 64, 10], seed=0), X, y, SGD(lr), epochs=2,
                      verbose=False)
    assert len(caught) == 1  # one warning per fit, not one per epoch
    message = str(caught[0].message)
    assert re.escape(f"SGD(lr={float(lr)!r})") in re.escape(message)
    assert "diverging" in message and "too large" in message and f"lr={lr / 10:g}" in message
    assert max(history.epoch_loss) > 10 * history.loss[0]  # it did diverge


@pytest.mark.parametrize("optimizer", [SGD(0.1), Momentum(0.1), Adam(0.01)], ids=repr)
def test_healthy_learning_rates_train_without_a_warning(optimizer):
    X, y = digits()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(Net.mlp([64, 128, 64, 10], seed=0), X, y, optimizer, epochs=2,
                      verbose=False)
    assert [str(w.message) for w in caught] == []
    assert history.train_acc[-1] > 0.8


def test_a_classifier_stuck_at_chance_warns():
    # SGD(3.0) kills the ReLUs in the first steps; the loss then settles near log(10),
    # never 10 times its start, but every digit gets the same class.
    X, _, y, _ = train_test_split(*digits(), test_fraction=0.2, seed=0)
    with pytest.warns(RuntimeWarning, match=r"no better than always predicting the most "
                                            r"frequent class.*SGD\(lr=3.0\).*too large"):
        history = fit(Net.mlp([64, 128, 64, 10], seed=0), X, y, SGD(3.0), epochs=3,
                      verbose=False)
    assert max(history.epoch_loss) < 10 * history.loss[0]  # so the other rule is silent
    assert history.train_acc[-1] <= np.bincount(y).max() / len(y) + 0.01


def fit_quietly(*args, **kwargs):
    """fit, returning (history, the messages of every warning it gave)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(*args, verbose=False, **kwargs)
    return history, [str(w.message) for w in caught]


def rare_class_data(seed, shift, N=1000):
    """Two features; about 10% of the samples are class 1, their features shifted by `shift`
    (1.2: the classes overlap almost everywhere)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(N) < 0.1).astype(int)
    return rng.standard_normal((N, 2)) + shift * y[:, None], y


def test_a_perfect_classifier_of_a_rare_class_trains_without_a_warning():
    X = np.random.default_rng(0).standard_normal((1000, 2))
    y = np.zeros(1000, dtype=int)
    y[:6], X[:6, 0] = 1, X[:6, 0] + 5  # 99.4% class 0; the 6 others stand apart
    history, messages = fit_quietly(Net.mlp([2, 16, 2], seed=0), X, y, Adam(1e-2), epochs=20)
    assert history.train_acc[-1] == 1.0 and messages == []


def test_a_net_that_learned_a_little_of_a_rare_class_trains_without_a_warning():
    X, y = rare_class_data(seed=2, shift=1.2)
    net = Net.mlp([2, 16, 2], seed=2)
    history, messages = fit_quietly(net, X, y, SGD(0.1), epochs=2)
    assert history.epoch_loss[-1] < 0.3 * history.loss[0]  # it learned...
    assert 0 < np.sum(net.predict(X)[y == 1] == 1) < 0.1 * np.sum(y == 1)  # ...a little
    assert messages == []


def test_a_net_that_tells_a_few_of_a_rare_class_apart_is_not_collapsed():
    # One feature, x = 1 for 8 samples (4 of them class 1) and 0 for the rest; the net
    # predicts class 1 for x = 1: its accuracy is exactly chance (0.9), yet it picks 4
    # of the 100 samples of class 1 out of the crowd.
    y = np.zeros(1000, dtype=int)
    y[:100] = 1
    X = np.zeros((1000, 1))
    X[96:104] = 1.0
    net = Net([Affine(1, 2, rng=0)], SoftmaxLoss())
    net.params["W1"][...] = [[-10.0, 10.0]]
    net.params["b1"][...] = [5.0, 0.0]
    history, messages = fit_quietly(net, X, y, SGD(1e-9), epochs=1)
    assert history.train_acc[-1] == 0.9 and np.mean(net.predict(X)[y == 1] == 0) == 0.96
    assert messages == []


def test_a_collapsed_net_whose_loss_fell_is_told_to_train_longer_not_to_lower_lr():
    X, y = rare_class_data(seed=0, shift=1.0)
    net = Net.mlp([2, 16, 2], seed=0)
    history, messages = fit_quietly(net, X, y, SGD(0.1), epochs=2)
    assert np.all(net.predict(X) == 0)  # the class frequencies and nothing else
    assert history.epoch_loss[-1] < 0.5 * history.loss[0]
    assert len(messages) == 1
    assert re.search(r"predicts class 0 for 100% of the samples labelled otherwise: it learned "
                     r"nothing but the class frequencies.*learning rate is not the problem: "
                     r"train for more epochs", messages[0])
    assert "too large" not in messages[0]


def test_a_wrong_val_is_refused_before_training_with_the_net_unchanged():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    net = Net.mlp([4, 8, 3], seed=0)
    before = {name: value.copy() for name, value in net.params.items()}
    for val, message in [
        ((X[:, :3], y), r"fit: val's X_val has samples of shape \(3,\), but X has \(4,\); "
                        r"the validation inputs must have the training inputs' features"),
        ((X, y[:-1]), r"fit: val = \(X_val, y_val\) needs the same number N >= 1 of samples "
                      r"and labels, got X_val \(30, 4\) and y_val \(29,\)"),
        ((X[:0], y[:0]), r"needs the same number N >= 1 .* got X_val \(0, 4\)"),
        ((X,), r"fit: val must be a pair \(X_val, y_val\) .* got tuple of length 1"),
        (X, r"fit: val must be a pair .* got ndarray"),
        ((X, y[:, None]), r"fit: val's y_val has labels of shape \(1,\) per sample, but y has "
                          r"\(\); y_val must be shaped like y"),
        ((X, y + 0.5), r"fit: val's y_val holds float64 values, but y holds integer labels"),
    ]:
        with pytest.raises(ValueError, match=message):
            fit(net, X, y, SGD(0.1), val=val, verbose=False)
        for name, value in net.params.items():
            np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_a_fixed_dropout_mask_is_named_with_the_fix():
    X, y = make_spiral(n_per_class=10, seed=0)
    net = Net([Affine(2, 8, rng=0), ReLU(), Dropout(0.5, seed=0), Affine(8, 3, rng=1)],
              SoftmaxLoss())
    with pytest.warns(UserWarning, match=r"net.layers\[2\] = Dropout\(keep_prob=0.5, seed=0\) "
                                         r"has a fixed seed.*Dropout\(keep_prob=0.5\).*rng="):
        fit(net, X, y, SGD(0.1), epochs=1, batch_size=10, verbose=False)
    for fresh in (Dropout(0.5), Dropout(0.5, rng=0)):
        net = Net([Affine(2, 8, rng=0), ReLU(), fresh, Affine(8, 3, rng=1)], SoftmaxLoss())
        fit(net, X, y, SGD(0.1), epochs=1, batch_size=10, verbose=False)  # no warning


def test_every_epoch_draws_a_new_order_of_all_samples():
    X = np.arange(40, dtype=float).reshape(-1, 1)  # each sample's value is its index
    y = (np.arange(40) >= 20).astype(int)  # labels a net can learn (parity would warn of chance)
    seen = []
    fit(Net.mlp([1, 4, 2], seed=0), X, y, SGD(0.01), epochs=3, batch_size=8, verbose=False,
        callback=lambda step, net, X_batch, y_batch: seen.extend(X_batch[:, 0].astype(int)))
    epochs = [seen[k * 40:(k + 1) * 40] for k in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(40))  # every sample once per epoch
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2] and epochs[0] != epochs[2]


def test_verbose_k_prints_every_kth_epoch_and_the_last(capsys):
    X, y = make_spiral(n_per_class=10, seed=0)
    for verbose, printed in ((3, [3, 6, 7]), (True, [1, 2, 3, 4, 5, 6, 7]),
                             (np.int64(2), [2, 4, 6, 7]), (0, []), (False, [])):
        fit(Net.mlp([2, 8, 3], seed=0), X, y, SGD(0.1), epochs=7, batch_size=10,
            verbose=verbose)
        lines = capsys.readouterr().out.splitlines()
        assert [int(line.split()[1].split("/")[0]) for line in lines] == printed, verbose
    for bad in (-1, 1.5, "2", None):
        with pytest.raises(ValueError, match=r"fit: verbose must be an int >= 0, got"):
            fit(Net.mlp([2, 8, 3]), X, y, SGD(0.1), verbose=bad)


def regression_data(seed=0, N=200):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 3))
    return X, X @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.standard_normal(N)


def test_a_regression_net_reports_r2_instead_of_accuracy(capsys):
    X, y = regression_data()
    X_val, y_val = regression_data(seed=1, N=50)
    net = Net([Affine(3, 1, rng=0)], MSELoss())
    history = fit(net, X, y, SGD(0.05), epochs=20, batch_size=20, val=(X_val, y_val),
                  verbose=10)
    lines = capsys.readouterr().out.splitlines()
    assert "train R² " in lines[-1] and "val R² " in lines[-1] and "acc" not in lines[-1]
    assert history.metric == "R²"
    # R² by its definition, from the predictions of the trained net
    for (X_set, y_set), score in (((X, y), history.train_acc[-1]),
                                   ((X_val, y_val), history.val_acc[-1])):
        residual = y_set - net.predict(X_set)[:, 0]
        assert score == pytest.approx(1 - residual @ residual / np.sum((y_set - y_set.mean())**2))
    assert history.train_acc[-1] > 0.99 and history.train_acc[0] < history.train_acc[-1]


def test_validation_loss_is_the_eval_mode_loss_after_each_epoch():
    X, y = digits()
    X_train, y_train, X_val, y_val = X[:700], y[:700], X[700:], y[700:]  # 1097: three chunks
    net = Net.mlp([64, 32, 10], keep_prob=0.5, reg=1e-3, seed=0)
    history = fit(net, X_train, y_train, SGD(0.1), epochs=3, val=(X_val, y_val), verbose=False)
    assert len(history.val_loss) == len(history.epoch_loss) == 3
    net.eval()
    expected = net.loss(X_val, y_val)  # one piece, no dropout, regularization included
    assert history.val_loss[-1] == pytest.approx(expected, rel=1e-12)
    assert history.val_loss[-1] != pytest.approx(net.train().loss(X_val, y_val), rel=1e-3)


def test_history_reads_as_a_line_and_as_a_table():
    X, y = make_spiral(n_per_class=20, seed=0)
    history = fit(Net.mlp([2, 16, 3], seed=0), X, y, Adam(0.02), epochs=3, batch_size=20,
                  val=(X, y), verbose=False)
    text = repr(history)
    assert text.startswith("History(3 epochs, 9 steps, loss ")
    assert f"val loss {history.val_loss[-1]:.4g}" in text
    assert f"train accuracy {history.train_acc[-1]:.4f}" in text
    table = history._repr_html_()
    assert table.count("<tr>") == 1 + 3  # the header and one row per epoch
    for k in range(3):
        assert (f"<td>{k + 1}</td><td>{history.epoch_loss[k]:.4f}</td>"
                f"<td>{history.val_loss[k]:.4f}</td><td>{history.train_acc[k]:.4f}</td>") in table
    assert "<th>val accuracy</th>" in table
    assert history.epoch_loss[0] == pytest.approx(np.mean(history.loss[:3]))


def test_a_diverged_loss_names_the_optimizer():
    X, y = make_spiral(n_per_class=10, seed=0)
    net = Net.mlp([2, 8, 3], seed=0)

    def overflowing(X_batch, y_batch):
        raise FloatingPointError("Net.loss: the loss is inf")
    net.loss_and_grads = overflowing
    net.eval()
    with pytest.raises(FloatingPointError, match=r"fit: at step 1 \(epoch 1\) with "
                                                 r"Momentum\(lr=0.5, beta=0.9\): Net.loss"):
        fit(net, X, y, Momentum(0.5), verbose=False)
    assert not any(layer.training for layer in net.layers)  # each layer's mode given back
