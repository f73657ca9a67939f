"""RNN, LSTM, TimeAffine and Embedding against definitions written out here."""
import numpy as np
import pytest

from minnet import (LSTM, RNN, Affine, Embedding, Net, TemporalSoftmaxLoss, TimeAffine)
from minnet.checker import check_layer

from helpers import complex_step_gradients


def _biased(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    return layer


def test_rnn_forward_by_hand_and_backprop_through_time():
    rng = np.random.default_rng(0)
    layer = _biased(RNN(2, 3, rng=rng), rng)
    Wx, Wh, b = (layer.params[k] for k in ("Wx", "Wh", "b"))
    x = rng.standard_normal((4, 2, 2))
    h = layer.forward(x)
    h1 = np.tanh(x[:, 0] @ Wx + b)
    np.testing.assert_allclose(h[:, 0], h1, rtol=1e-14)
    np.testing.assert_allclose(h[:, 1], np.tanh(x[:, 1] @ Wx + h1 @ Wh + b), rtol=1e-14)
    # The loss at the last step reaches the first input only through time.
    dout = np.zeros(h.shape)
    dout[:, 1] = 1.0
    dx = layer.backward(dout)
    dz2 = 1 - h[:, 1]**2
    np.testing.assert_allclose(dx[:, 0], ((dz2 @ Wh.T) * (1 - h1**2)) @ Wx.T, rtol=1e-12)
    assert np.abs(dx[:, 0]).min() > 0


def test_time_affine_is_affine_at_every_step():
    rng = np.random.default_rng(1)
    layer, flat = TimeAffine(3, 2, rng=0), Affine(3, 2, init="xavier", rng=0)
    x = rng.standard_normal((4, 5, 3))
    out = layer.forward(x)
    np.testing.assert_array_equal(layer.params["W"], flat.params["W"])
    np.testing.assert_allclose(out.reshape(-1, 2), flat.forward(x.reshape(-1, 3)), rtol=1e-14)


@pytest.mark.parametrize("layer", [RNN(3, 4), TimeAffine(3, 4)])
def test_recurrent_layers_want_sequences(layer):
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}: expected x of shape "
                                         r"\(N, T, 3\), got \(5, 3\)"):
        layer.forward(np.ones((5, 3)))


def naive_lstm(x, Wx, Wh, b):
    """The LSTM equations, one sample, one step and one gate at a time."""
    N, T, _ = x.shape
    H = Wh.shape[0]

    def sig(z):
        return 1 / (1 + np.exp(-z))

    out = np.zeros((N, T, H), dtype=np.result_type(x, Wx))
    for n in range(N):
        h, c = np.zeros(H, dtype=out.dtype), np.zeros(H, dtype=out.dtype)
        for t in range(T):
            a = x[n, t] @ Wx + h @ Wh + b
            i, f, o = sig(a[:H]), sig(a[H:2 * H]), sig(a[2 * H:3 * H])
            g = np.tanh(a[3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out[n, t] = h
    return out


@pytest.mark.parametrize("N, T, D, H", [(2, 4, 3, 5), (1, 1, 2, 1), (3, 6, 1, 2)])
def test_lstm_forward_and_gradients_equal_the_definition(N, T, D, H):
    rng = np.random.default_rng(T)
    layer = _biased(LSTM(D, H, rng=rng), rng)
    Wx, Wh, b = (layer.params[k] for k in ("Wx", "Wh", "b"))
    x = rng.standard_normal((N, T, D))
    out = layer.forward(x)
    np.testing.assert_allclose(out, naive_lstm(x, Wx, Wh, b), rtol=1e-12, atol=1e-14)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    want = complex_step_gradients(naive_lstm, [x, Wx, Wh, b], dout)
    for got, ref in zip([dx, layer.grads["Wx"], layer.grads["Wh"], layer.grads["b"]], want):
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_lstm_gate_order_is_input_forget_output_candidate():
    # Only the forget gate's bias set high and the input gate's very low: the cell keeps
    # nothing new, so every h stays 0. Swap the two blocks and the cell fills up.
    layer = LSTM(1, 1, rng=0)
    layer.params["Wx"][...] = [[0.0, 0.0, 0.0, 1.0]]
    layer.params["Wh"][...] = 0.0
    layer.params["b"][...] = [-50.0, 50.0, 50.0, 0.0]   # i, f, o, g
    x = np.ones((1, 3, 1))
    np.testing.assert_allclose(layer.forward(x), 0, atol=1e-20)
    layer.params["b"][...] = [50.0, -50.0, 50.0, 0.0]
    np.testing.assert_allclose(layer.forward(x)[0, :, 0], np.tanh(np.tanh(1.0)), rtol=1e-12)


def test_embedding_looks_up_rows_and_accumulates_repeated_ids():
    layer = Embedding(4, 2, rng=0)
    W = layer.params["W"]
    x = np.array([[3, 1, 3], [0, 3, 3]])
    np.testing.assert_array_equal(layer.forward(x), W[x])
    dout = np.arange(12.0).reshape(2, 3, 2)
    assert layer.backward(dout) is None          # token ids have no gradient
    dW = np.zeros((4, 2))
    for n in range(2):
        for t in range(3):
            dW[x[n, t]] += dout[n, t]
    np.testing.assert_array_equal(layer.grads["W"], dW)
    assert layer.grads["W"][3].tolist() == [0 + 4 + 8 + 10, 1 + 5 + 9 + 11]  # four times
    assert layer.grads["W"][2].tolist() == [0, 0]                             # never used


def test_embedding_refuses_ids_it_cannot_look_up():
    layer = Embedding(5, 3)
    with pytest.raises(ValueError, match=r"Embedding.forward: token id 5 is out of range: this "
                                         r"Embedding has vocab_size = 5, so ids run from 0 to 4"):
        layer.forward(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="token id -1 is out of range"):
        layer.forward(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match=r"x must hold integer token ids, got an array of dtype "
                                         r"float64; convert token ids with x.astype\(int\)"):
        layer.forward(np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"expected a batch x of shape \(N, ...\)"):
        layer.forward(np.array(3))


def test_check_layer_skips_the_ids_and_checks_the_table():
    layer = Embedding(6, 3, rng=1)
    report = check_layer(layer, np.array([[1, 1, 4], [0, 1, 5]]))
    assert report.passed and [row.name for row in report.rows] == ["W"]
    assert report["W"].checked == 18


def test_a_net_passes_token_ids_to_its_embedding_unchanged():
    rng = np.random.default_rng(0)
    net = Net([Embedding(7, 4, rng=rng), LSTM(4, 5, rng=rng), TimeAffine(5, 7, rng=rng)],
              TemporalSoftmaxLoss(), dtype=np.float32)
    X = rng.integers(0, 7, (3, 6))
    seen = []
    original = net.layers[0].forward
    net.layers[0].forward = lambda x: seen.append(x) or original(x)
    loss = net.loss(X, rng.integers(0, 7, (3, 6)))
    assert seen[0].dtype == X.dtype and np.isfinite(loss)
    assert {g.dtype for g in net.backward().values()} == {np.dtype(np.float32)}
    with pytest.raises(ValueError, match=r"net.layers\[0\] = Embedding.*token id 9 is out of range"):
        net.loss(X + 3, X)


def test_an_embedding_anywhere_but_first_is_refused():
    with pytest.raises(ValueError, match=r"layers\[1\] = Embedding.*takes integer ids.*put it first"):
        Net([Affine(3, 3), Embedding(3, 2)], TemporalSoftmaxLoss())
