import os

import numpy as np
import pytest

from minnet import (LSTM, RNN, Affine, BatchNorm, Conv2D, Dropout, Embedding, Layer, LayerNorm,
                    Loss, MaxPool2D, MSELoss, Net, ReLU, Sigmoid, SigmoidCrossEntropy, SoftmaxLoss,
                    SVMLoss, Tanh, TemporalSoftmaxLoss, TimeAffine)

from minnet.checker import check_net


def small_data(seed=0, N=6, D=4, C=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


def test_params_keys_order_shapes_and_identity():
    net = Net.mlp([4, 5, 3, 2], seed=0)
    params = net.params
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p.shape for p in params.values()] == [(4, 5), (5,), (5, 3), (3,), (3, 2), (2,)]
    affines = [layer for layer in net.layers if isinstance(layer, Affine)]
    assert params["W2"] is affines[1].params["W"]
    net.params["W2"][0, 0] = 42.0
    assert affines[1].params["W"][0, 0] == 42.0


def test_mlp_layers():
    net = Net.mlp([4, 8, 3], activation="tanh", keep_prob=0.5, loss="softmax")
    assert [type(layer) for layer in net.layers] == [Affine, Tanh, Dropout, Affine]
    assert isinstance(net.loss_fn, SoftmaxLoss)
    assert repr(net).startswith("Net([\n  Affine(in_features=4, out_features=8),")


NETS = {
    "relu-softmax": lambda: Net.mlp([4, 6, 5, 3], seed=1),
    "tanh-dropout-reg": lambda: Net([Affine(4, 6, rng=2), Tanh(), Dropout(0.7, seed=3),
                                     Affine(6, 3, rng=4)], SoftmaxLoss(), reg=0.1),
    "sigmoid-logistic": lambda: Net([Affine(4, 5, init="xavier", rng=5), Sigmoid(),
                                     Affine(5, 1, rng=6)], SigmoidCrossEntropy(), reg=0.05),
    "relu-mse": lambda: Net([Affine(4, 5, rng=7), ReLU(), Affine(5, 3, rng=8)], MSELoss()),
}


@pytest.mark.parametrize("name", sorted(NETS))
def test_net_gradients_pass_the_gradient_check(name):
    net = NETS[name]()
    X, y = small_data()
    if isinstance(net.loss_fn, SigmoidCrossEntropy):
        y = y % 2
    if isinstance(net.loss_fn, MSELoss):
        y = np.random.default_rng(1).standard_normal((6, 3))
    _, grads = net.loss_and_grads(X, y)
    assert list(grads) == list(net.params)
    assert all(grads[key].shape == param.shape for key, param in net.params.items())
    report = check_net(net, X, y, sample=None)
    assert report.passed, str(report)
    assert [row.name for row in report.rows] == list(net.params)


def test_regularization_part_of_loss_and_gradient():
    X, y = small_data()
    plain = Net.mlp([4, 5, 3], seed=0)
    reg = Net.mlp([4, 5, 3], seed=0, reg=0.3)
    loss0, grads0 = plain.loss_and_grads(X, y)
    loss1, grads1 = reg.loss_and_grads(X, y)
    W1, W2 = reg.params["W1"], reg.params["W2"]
    expected_reg = 0.5 * 0.3 * (np.sum(W1**2) + np.sum(W2**2))
    assert reg.reg_loss == pytest.approx(expected_reg, rel=1e-14)
    assert reg.data_loss == pytest.approx(loss0, rel=1e-14)
    assert loss1 == pytest.approx(loss0 + expected_reg, rel=1e-14)
    np.testing.assert_allclose(grads1["W1"] - grads0["W1"], 0.3 * W1, atol=1e-15)
    np.testing.assert_array_equal(grads1["b1"], grads0["b1"])  # biases are not regularized


def test_float32_net_keeps_its_dtype():
    net = Net.mlp([4, 5, 3], seed=0, dtype=np.float32)
    X, y = small_data()
    loss, grads = net.loss_and_grads(X, y)
    assert isinstance(loss, float)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert all(g.dtype == np.float32 for g in grads.values())
    assert net.forward(X).dtype == np.float32


def test_predict_uses_eval_mode_and_restores_modes():
    net = Net.mlp([4, 16, 3], keep_prob=0.5, seed=0)
    X, _ = small_data()
    first = net.predict(X)
    np.testing.assert_array_equal(net.predict(X), first)  # no dropout noise
    assert all(layer.training for layer in net.layers)
    net.eval()
    np.testing.assert_array_equal(net.forward(X).argmax(axis=1), first)
    assert not any(layer.training for layer in net.layers)
    assert net.train() is net and all(layer.training for layer in net.layers)


def test_predict_restores_each_layers_mode_when_a_layer_raises():
    # Images of the wrong size pass the convolution and fail at the Affine after it:
    # predict has already put every layer in eval mode when the error comes.
    net = Net([Conv2D(1, 2, 3, pad=1, rng=0), BatchNorm(2), ReLU(), Dropout(0.5, seed=1),
               Affine(2 * 4 * 4, 3, rng=1)], SoftmaxLoss())
    net.layers[1].training = False  # a mix of modes, each to be given back as it was
    net.layers[4].training = False
    modes = [layer.training for layer in net.layers]
    with pytest.raises(ValueError, match=r"net.layers\[4\] = Affine"):
        net.predict(np.ones((2, 1, 5, 5)))
    assert [layer.training for layer in net.layers] == modes == [True, False, True, True, False]


def test_accuracy():
    net = Net.mlp([4, 5, 3], seed=0)
    X, _ = small_data()
    y = net.predict(X)
    assert net.accuracy(X, y) == 1.0
    y[:3] = (y[:3] + 1) % 3
    assert net.accuracy(X, y) == 0.5


def test_loss_gives_a_contract_loss_its_labels_as_an_array():
    # Net.loss takes any array-like y, but the Loss contract promises forward an ndarray:
    # a student's loss may use y.shape. Lists of labels must arrive as an array.
    class ShapeCheckingLoss(Loss):
        def forward(self, scores, y):
            if y.shape != scores.shape[:1]:
                raise ValueError(f"expected {scores.shape[:1]} labels, got {y.shape}")
            return float(np.mean((scores[:, 0] - y) ** 2))

    X, y = small_data()
    net = Net([Affine(4, 1, rng=0)], ShapeCheckingLoss())
    expected = np.mean((X @ net.params["W1"][:, 0] + net.params["b1"][0] - y) ** 2)
    assert net.loss(X, y.tolist()) == pytest.approx(expected, rel=1e-12)


def test_save_load_round_trip_is_exact(tmp_path):
    net = Net([Affine(4, 6, rng=0), ReLU(), Dropout(0.7, seed=5), Affine(6, 3, rng=1)],
              SoftmaxLoss(), reg=0.01, dtype=np.float32)
    net.params["b1"][...] = np.arange(6)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = Net.load(path)
    assert list(loaded.params) == list(net.params)
    for name, value in net.params.items():
        assert loaded.params[name].dtype == np.float32
        np.testing.assert_array_equal(loaded.params[name], value)
    assert [type(layer) for layer in loaded.layers] == [Affine, ReLU, Dropout, Affine]
    assert loaded.layers[2].keep_prob == 0.7 and loaded.layers[2].seed == 5
    assert loaded.reg == 0.01 and loaded.dtype == np.float32
    X, y = small_data()
    assert loaded.loss(X, y) == net.loss(X, y)


def test_save_replaces_atomically_and_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = Net.mlp([4, 5, 3], seed=0)
    old.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        Net.mlp([4, 5, 3], seed=1).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        Net.load(tmp_path / "missing.npz")
    good = tmp_path / "good.npz"
    Net.mlp([4, 5, 3], seed=0).save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a checkpoint at all")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    for path in (truncated, garbage, foreign):
        with pytest.raises(ValueError, match="not a readable minnet checkpoint"):
            Net.load(path)


def test_load_rejects_parameters_of_the_wrong_shape(tmp_path):
    good = tmp_path / "good.npz"
    Net.mlp([4, 5, 3], seed=0).save(good)
    with np.load(good) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["W2"] = np.ones((4, 3))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="damaged"):
        Net.load(bad)


def test_save_refuses_layers_it_cannot_rebuild(tmp_path):
    class Square(Layer):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, dout):
            return 2 * self.x * dout

    net = Net([Affine(4, 3), Square()], SoftmaxLoss())
    with pytest.raises(ValueError, match=r"Square\(\) is of a class the registry does not know.*minnet.register"):
        net.save(tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


def test_wiring_mistakes_are_caught_at_construction():
    with pytest.raises(ValueError, match="layers is empty"):
        Net([], SoftmaxLoss())
    with pytest.raises(ValueError, match=r"layers\[2\] = Affine\(in_features=6.*expects 6 features, "
                                         r"but layers\[0\] = Affine.* outputs 5"):
        Net([Affine(4, 5), ReLU(), Affine(6, 3)], SoftmaxLoss())
    with pytest.raises(ValueError, match=r"outputs 3 scores per sample, but SigmoidCrossEntropy needs 1; use SoftmaxLoss"):
        Net([Affine(4, 3)], SigmoidCrossEntropy())
    with pytest.raises(ValueError, match="outputs 1 score per sample, but SoftmaxLoss needs at least 2"):
        Net([Affine(4, 1)], SoftmaxLoss())
    with pytest.raises(ValueError, match="is not a layer"):
        Net([Affine(4, 3), np.tanh], SoftmaxLoss())
    with pytest.raises(ValueError, match="is not a loss"):
        Net([Affine(4, 3)], "softmax")
    with pytest.raises(ValueError, match="reg must be"):
        Net([Affine(4, 3)], SoftmaxLoss(), reg=-1)
    with pytest.raises(ValueError, match="dtype"):
        Net([Affine(4, 3)], SoftmaxLoss(), dtype=np.int32)
    with pytest.raises(ValueError, match="activation"):
        Net.mlp([4, 3], activation="gelu")


def test_bad_input_names_the_layer_and_shapes():
    net = Net.mlp([4, 5, 3], seed=0)
    with pytest.raises(ValueError, match=r"net.layers\[0\] = Affine.*expected x of shape \(N, 4\)"
                                         r".*got \(2, 7\)"):
        net.forward(np.ones((2, 7)))
    with pytest.raises(ValueError, match=r"X contains NaN or Inf \(first at index \(1, 2\)\)"):
        net.forward(np.array([[0, 0, 0, 0], [0, 0, np.inf, 0.0]]))
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        net.forward(np.ones(4))
    with pytest.raises(ValueError, match="N >= 1"):
        net.forward(np.ones((0, 4)))
    with pytest.raises(ValueError, match="array of numbers"):
        net.forward(np.array([["a", "b", "c", "d"]]))
    with pytest.raises(ValueError, match=r"net.loss_fn = SoftmaxLoss\(\).*0\.\.2.*got 7"):
        net.loss(np.ones((2, 4)), np.array([0, 7]))
    with pytest.raises(RuntimeError, match="call net.loss"):
        Net.mlp([4, 5, 3]).backward()


def test_diverged_parameters_are_named():
    net = Net.mlp([4, 5, 3], seed=0)
    net.params["W2"][0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="parameters W2 contain NaN"):
        net.loss(*small_data())


def test_recurrent_net_checks_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    net = Net([RNN(3, 5, rng=rng), Dropout(0.8, seed=2), TimeAffine(5, 4, rng=rng)],
              TemporalSoftmaxLoss(), reg=0.01)
    X, y = rng.standard_normal((2, 6, 3)), rng.integers(0, 4, (2, 6))
    report = check_net(net, X, y)
    assert report.passed and [row.name for row in report.rows] == ["Wx1", "Wh1", "b1", "W2", "b2"]
    net.save(tmp_path / "rnn.npz")
    loaded = Net.load(tmp_path / "rnn.npz")
    assert loaded.loss(X, y) == net.loss(X, y)
    # a label per time step: the class of the highest score, in eval mode (no dropout)
    predicted = net.predict(X)
    scores = net.eval().forward(X)
    net.train()
    assert predicted.shape == (2, 6)
    assert all(predicted[n, t] == np.argmax(scores[n, t]) for n in range(2) for t in range(6))
    labels = predicted.copy()
    labels[0, :3] = (labels[0, :3] + 1) % 4  # 3 of the 12 steps wrong
    assert net.accuracy(X, labels) == 9 / 12


def test_overflowing_scores_are_reported_as_divergence():
    net = Net.mlp([4, 5, 3], seed=0)
    net.params["W2"][...] = 1e308  # finite, but the scores overflow to inf
    with pytest.raises(FloatingPointError, match=r"Net.loss: net.layers\[2\] = Affine\("
                                                 r"in_features=5, out_features=3\): overflow "
                                                 r"encountered in matmul \(the parameters are "
                                                 r"finite, so the arithmetic overflowed"):
        with np.errstate(over="ignore"):  # the caller's errstate does not hide a divergence
            net.loss(*small_data())


def test_an_overflow_that_ends_finite_is_reported_as_divergence():
    # tanh(inf) is 1: the scores are finite, but the first layer overflowed on the way
    net = Net([Affine(2, 4, rng=0), Tanh(), Affine(4, 3, rng=1)], SoftmaxLoss())
    net.params["W1"][...] = 1e300
    with pytest.raises(FloatingPointError, match=r"Net.loss: net.layers\[0\] = Affine\("
                                                 r"in_features=2, out_features=4\): overflow "
                                                 r"encountered in matmul.*diverged"):
        net.loss(np.full((2, 2), 1e10), np.array([0, 1]))


def test_an_overflowing_loss_is_reported_as_divergence():
    net = Net([Affine(2, 3, rng=0)], MSELoss())
    net.params["W1"][...] = 1e200  # scores of 2e200, whose squares overflow in the loss
    with pytest.raises(FloatingPointError, match=r"Net.loss: net.loss_fn = MSELoss\(\): "
                                                 r"overflow encountered in square.*diverged"):
        net.loss(np.ones((2, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize("broken, got", [
    (lambda grads: grads.pop("b"), "nothing"),
    (lambda grads: grads.update(W=grads["W"][:, :2]), r"an array of shape \(5, 2\)"),
])
def test_a_backward_that_stores_wrong_gradients_is_named(broken, got):
    net = Net.mlp([4, 5, 3], seed=0)
    X, y = small_data()
    net.loss(X, y)
    original = net.layers[2].backward

    def backward(dout):
        dx = original(dout)
        broken(net.layers[2].grads)
        return dx
    net.layers[2].backward = backward
    with pytest.raises(ValueError, match=rf"net.layers\[2\] = Affine\(in_features=5, "
                                         rf"out_features=3\): backward stored {got} in "
                                         rf"grads\['[Wb]'\]; it must store the gradient"):
        net.backward()


def test_a_last_layer_that_returns_nothing_is_named():
    class Forgetful(Affine):
        def forward(self, x):
            super().forward(x)

    net = Net([Affine(4, 5, rng=0), ReLU(), Forgetful(5, 3, rng=1)], SoftmaxLoss())
    with pytest.raises(ValueError, match=r"net.layers\[2\] = Forgetful\(in_features=5, "
                                         r"out_features=3\): forward must return an array of "
                                         r"floats, got NoneType"):
        net.loss(*small_data())


def course_net(dtype=np.float64):
    """A net with every image layer, and its batch."""
    rng = np.random.default_rng(0)
    net = Net([Conv2D(1, 3, 3, pad=1, rng=rng), BatchNorm(3), ReLU(), MaxPool2D(2),
               Affine(12, 6, rng=rng), LayerNorm(6), Tanh(), Affine(6, 3, rng=rng)],
              SVMLoss(delta=0.5), reg=0.01, dtype=dtype)
    return net, rng.standard_normal((5, 1, 4, 4)), rng.integers(0, 3, 5)


def test_save_load_keeps_every_new_class_and_the_running_statistics(tmp_path):
    net, X, y = course_net()
    for _ in range(3):  # move the running statistics away from 0 and 1
        net.loss(X + 1, y)
    bn = net.layers[1]
    assert not np.allclose(bn.running_mean, 0)
    net.save(tmp_path / "cnn.npz")
    loaded = Net.load(tmp_path / "cnn.npz")
    assert repr(loaded) == repr(net) and "SVMLoss(delta=0.5)" in repr(loaded)
    np.testing.assert_array_equal(loaded.layers[1].running_mean, bn.running_mean)
    np.testing.assert_array_equal(loaded.layers[1].running_var, bn.running_var)
    assert "running_mean" not in " ".join(loaded.params)  # buffers are not parameters
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))  # eval mode: running stats
    loaded.eval()
    net.eval()
    assert loaded.loss(X, y) == net.loss(X, y)
    rng = np.random.default_rng(1)
    lm = Net([Embedding(5, 3, rng=rng), LSTM(3, 4, rng=rng), TimeAffine(4, 5, rng=rng)],
             TemporalSoftmaxLoss())
    lm.save(tmp_path / "lm.npz")
    tokens = rng.integers(0, 5, (2, 4))
    np.testing.assert_array_equal(Net.load(tmp_path / "lm.npz").forward(tokens),
                                  lm.forward(tokens))


def test_a_checkpoint_of_the_first_format_still_loads(tmp_path):
    import json
    net = Net.mlp([4, 5, 3], seed=0)
    net.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    architecture = json.loads(str(arrays["architecture"]))
    architecture.update(format="minnet-net-1", loss="SoftmaxLoss")  # as the first format wrote
    arrays["architecture"] = np.array(json.dumps(architecture))
    np.savez(tmp_path / "old.npz", **arrays)
    X, y = small_data()
    assert Net.load(tmp_path / "old.npz").loss(X, y) == net.loss(X, y)


def test_a_damaged_buffer_is_refused(tmp_path):
    net, _, _ = course_net()
    net.save(tmp_path / "cnn.npz")
    with np.load(tmp_path / "cnn.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["buffer.1.running_var"] = np.ones(4)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"buffer.1.running_var.*\(4,\).*damaged"):
        Net.load(tmp_path / "bad.npz")


def test_a_float32_course_net_trains_in_float32():
    net, X, y = course_net(np.float32)
    assert net.layers[1].running_mean.dtype == np.float32
    before = net.loss(X, y)
    for _ in range(20):
        loss, grads = net.loss_and_grads(X, y)
        assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
        for name, grad in grads.items():
            net.params[name] -= 0.05 * grad
    assert net.loss(X, y) < before
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net.layers[1].running_mean.dtype == np.float32


def test_widths_are_followed_through_the_new_layers():
    with pytest.raises(ValueError, match=r"layers\[1\] = LSTM.*expects 4 features, but "
                                         r"layers\[0\] = Embedding.* outputs 3"):
        Net([Embedding(5, 3), LSTM(4, 2), TimeAffine(2, 5)], TemporalSoftmaxLoss())
    with pytest.raises(ValueError, match=r"layers\[2\] = BatchNorm\(features=5.*expects 5 "
                                         r"features, but layers\[0\] = Affine.* outputs 4"):
        Net([Affine(3, 4), ReLU(), BatchNorm(5), Affine(5, 2)], SoftmaxLoss())
    with pytest.raises(ValueError, match=r"outputs 1 score per sample, but SVMLoss needs at "
                                         r"least 2"):
        Net([Affine(3, 1)], SVMLoss())
    # after a Conv2D the width depends on the images: nothing to compare
    Net([Conv2D(1, 2, 3), ReLU(), Affine(2 * 4 * 4, 3)], SoftmaxLoss())
    with pytest.raises(ValueError, match=r"net.layers\[1\] = BatchNorm\(features=3.*expected x "
                                         r"of shape \(N, 3\) or \(N, 3, H, W\), got \(2, 2, 4, 4\)"):
        Net([Conv2D(1, 2, 3, pad=1), BatchNorm(3), Affine(32, 3)], SoftmaxLoss()).forward(
            np.ones((2, 1, 4, 4)))


def test_predict_goes_through_large_batches_in_chunks_with_the_same_result(monkeypatch):
    import minnet.net
    net, X, y = course_net()
    X = np.random.default_rng(2).standard_normal((70, 1, 4, 4))
    whole = net.predict(X)
    monkeypatch.setattr(minnet.net, "PREDICT_CHUNK", 8)
    sizes = []
    original = net.forward
    net.forward = lambda X: sizes.append(len(X)) or original(X)
    np.testing.assert_array_equal(net.predict(X), whole)
    assert sizes == [8] * 8 + [6]
    net.layers[4].samplewise = False  # a layer that mixes samples sees the whole batch
    sizes.clear()
    np.testing.assert_array_equal(net.predict(X), whole)
    assert sizes == [70]


def test_a_layer_that_flattens_is_compared_only_with_a_whole_sample():
    rng = np.random.default_rng(0)
    sequences, tokens = rng.standard_normal((2, 5, 3)), rng.integers(0, 10, (2, 3))
    # RNN(3, 4) and Embedding(10, 4) give 4 values per step; Affine flattens all T steps
    assert Net([RNN(3, 4), Affine(20, 2)], SoftmaxLoss()).forward(sequences).shape == (2, 2)
    assert Net([Embedding(10, 4), Affine(12, 2)], SoftmaxLoss()).forward(tokens).shape == (2, 2)
    # a layer that works per step compares its width with the step's
    with pytest.raises(ValueError, match=r"layers\[1\] = TimeAffine\(in_features=5.*expects 5 "
                                         r"features, but layers\[0\] = RNN.* outputs 4"):
        Net([RNN(3, 4), TimeAffine(5, 2)], TemporalSoftmaxLoss())
    with pytest.raises(ValueError, match=r"layers\[1\] = LayerNorm\(features=3.*expects 3 "
                                         r"features, but layers\[0\] = RNN.* outputs 4"):
        Net([RNN(3, 4), LayerNorm(3), TimeAffine(4, 2)], TemporalSoftmaxLoss())
    # after a layer that keeps the leading axes, a whole sample stays whole
    with pytest.raises(ValueError, match=r"layers\[3\] = Affine\(in_features=7.*expects 7 "
                                         r"features, but layers\[1\] = LayerNorm.* outputs 4"):
        Net([Affine(3, 4), LayerNorm(4), Tanh(), Affine(7, 3)], SoftmaxLoss())


def test_the_width_goes_through_the_normalizations():
    for norm in (BatchNorm(4), LayerNorm(4)):
        name = type(norm).__name__
        with pytest.raises(ValueError, match=rf"layers\[2\] = Affine\(in_features=7.*expects 7 "
                                             rf"features, but layers\[1\] = {name}.* outputs 4"):
            Net([Affine(3, 4), norm, Affine(7, 3)], SoftmaxLoss())
        assert (norm.in_features, norm.out_features) == (4, 4)


def test_one_layer_object_in_two_places_is_refused_naming_both():
    hidden = Affine(4, 4)
    with pytest.raises(ValueError, match=r"layers\[0\] and layers\[2\] are the same object, "
                                         r"Affine\(in_features=4, out_features=4\); give each"):
        Net([hidden, ReLU(), hidden, Affine(4, 3)], SoftmaxLoss())


def test_a_layer_first_in_one_net_gives_its_dx_in_the_next():
    shared = Affine(4, 4, rng=1)
    first = Net([shared, ReLU(), Affine(4, 3, rng=2)], SoftmaxLoss())
    assert shared.needs_dx is False
    second = Net([Affine(4, 4, rng=3), Tanh(), shared, Affine(4, 3, rng=4)], SoftmaxLoss())
    assert shared.needs_dx is True and second.layers[0].needs_dx is False
    X, y = small_data()
    report = check_net(second, X, y, sample=None)
    assert report.passed, str(report)
    assert first.layers[0] is shared


def test_a_parameter_that_is_not_numbers_is_refused_and_nothing_changes():
    good, bad = Affine(4, 5, rng=0), Affine(5, 3, rng=1)
    good.params["W"] = good.params["W"].tolist()  # converted only when a Net accepts it
    bad.params["W"] = "abc"
    good.needs_dx = bad.needs_dx = "untouched"
    before = [dict(layer.params) for layer in (good, bad)]
    with pytest.raises(ValueError, match=r"Net: layers\[2\] = Affine\(in_features=5, "
                                         r"out_features=3\) params\['W'\] is not an array of "
                                         r"numbers \(.*\); set it to a numeric array"):
        Net([good, ReLU(), bad], SoftmaxLoss())
    for layer, params in zip((good, bad), before):
        assert layer.needs_dx == "untouched"
        assert all(layer.params[key] is value for key, value in params.items())
    assert isinstance(good.params["W"], list)
