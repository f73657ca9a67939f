"""BatchNorm and LayerNorm against the definitions, written out step by step here."""
import numpy as np
import pytest

from minnet import Affine, BatchNorm, LayerNorm, Net, ReLU, SoftmaxLoss
from minnet.checker import check_layer, check_net

from helpers import complex_step_gradients


def staged_batchnorm(x, gamma, beta, eps, dout):
    """Batch normalization of x: (N, D) as a chain of small steps, and its backward taken
    back through the chain one step at a time: (out, dx, dgamma, dbeta)."""
    N = len(x)
    mu = x.sum(axis=0) / N
    centered = x - mu
    var = (centered**2).sum(axis=0) / N
    std = np.sqrt(var + eps)
    xhat = centered / std
    out = gamma * xhat + beta
    dbeta, dgamma = dout.sum(axis=0), (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dcentered = dxhat / std                              # through xhat = centered / std
    dstd = -(dxhat * centered).sum(axis=0) / std**2      # ... and through its 1 / std
    dvar = dstd / (2 * std)
    dcentered += dvar * 2 * centered / N                 # var = mean(centered**2)
    dx = dcentered - dcentered.sum(axis=0) / N           # centered = x - mean(x)
    return out, dx, dgamma, dbeta


@pytest.mark.parametrize("N, D", [(5, 3), (2, 4), (16, 1)])
def test_batchnorm_training_equals_the_staged_definition(N, D):
    rng = np.random.default_rng(N)
    layer = BatchNorm(D)
    layer.params["gamma"][...] = rng.standard_normal(D)
    layer.params["beta"][...] = rng.standard_normal(D)
    x, dout = 3 + 2 * rng.standard_normal((N, D)), rng.standard_normal((N, D))
    out, dx, dgamma, dbeta = staged_batchnorm(x, layer.params["gamma"], layer.params["beta"],
                                              1e-5, dout)
    np.testing.assert_allclose(layer.forward(x), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"], dgamma, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"], dbeta, rtol=1e-12)


def test_batchnorm_of_images_normalizes_each_channel_over_n_h_w():
    rng = np.random.default_rng(0)
    layer = BatchNorm(3)
    layer.params["gamma"][...] = [1.0, 2.0, 0.5]
    x = rng.standard_normal((4, 3, 5, 6)) * [[[[1.0]], [[3.0]], [[0.1]]]] + 7
    out = layer.forward(x)
    # the same numbers as BatchNorm over rows of (N H W, C): the channel is the feature
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)
    flat = BatchNorm(3)
    flat.params["gamma"][...] = [1.0, 2.0, 0.5]
    np.testing.assert_allclose(out.transpose(0, 2, 3, 1).reshape(-1, 3), flat.forward(rows),
                               rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    flat_dx = flat.backward(dout.transpose(0, 2, 3, 1).reshape(-1, 3))
    np.testing.assert_allclose(dx.transpose(0, 2, 3, 1).reshape(-1, 3), flat_dx, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"], flat.grads["gamma"], rtol=1e-12)


def test_batchnorm_gradients_equal_the_complex_step():
    rng = np.random.default_rng(3)
    for shape in [(6, 4), (3, 4, 2, 3)]:
        layer = BatchNorm(4)
        gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
        layer.params.update(gamma=gamma, beta=beta)
        x = rng.standard_normal(shape)
        out = layer.forward(x)
        dout = rng.standard_normal(out.shape)
        dx = layer.backward(dout)

        def f(x, gamma, beta):
            probe = BatchNorm(4)
            probe.params.update(gamma=gamma, beta=beta)
            return probe.forward(x)

        for got, want in zip([dx, layer.grads["gamma"], layer.grads["beta"]],
                             complex_step_gradients(f, [x, gamma, beta], dout)):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_running_statistics_follow_the_momentum_rule_and_serve_eval_mode():
    rng = np.random.default_rng(1)
    layer = BatchNorm(2, momentum=0.8)
    np.testing.assert_array_equal(layer.running_mean, [0, 0])
    np.testing.assert_array_equal(layer.running_var, [1, 1])
    batches = [rng.standard_normal((10, 2)) * [1, 4] + [2, -1] for _ in range(3)]
    mean, var = np.zeros(2), np.ones(2)
    for x in batches:
        layer.forward(x)
        mean = 0.8 * mean + 0.2 * x.mean(axis=0)
        var = 0.8 * var + 0.2 * x.var(axis=0)  # biased: divided by N
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-14)
    layer.training = False
    x = rng.standard_normal((1, 2))
    np.testing.assert_allclose(layer.forward(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-14)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)
    kept = layer.running_mean.copy()
    layer.forward(x)
    np.testing.assert_array_equal(layer.running_mean, kept)  # eval mode leaves them alone
    np.testing.assert_allclose(layer.backward(np.ones((1, 2))), [1 / np.sqrt(var + 1e-5)],
                               rtol=1e-14)


def test_forward_rebinds_the_running_statistics_instead_of_writing_into_them():
    layer = BatchNorm(3)
    kept = layer.running_mean
    layer.forward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(kept, [0, 0, 0])
    assert layer.running_mean is not kept


def test_batchnorm_mixes_the_batch_only_in_training_mode():
    layer = BatchNorm(2)
    assert layer.samplewise is False
    x = np.random.default_rng(0).standard_normal((4, 2))
    first = layer.forward(x)[0]
    assert not np.allclose(layer.forward(np.vstack([x[:1], 5 + x[1:]]))[0], first)
    layer.training = False
    assert layer.samplewise is True
    np.testing.assert_array_equal(layer.forward(x[:1])[0], layer.forward(x)[0])


@pytest.mark.parametrize("training", [True, False])
def test_check_layer_passes_batchnorm_in_both_modes(training):
    rng = np.random.default_rng(2)
    layer = BatchNorm(3)
    layer.params["gamma"][...] = rng.standard_normal(3)
    layer.running_mean, layer.running_var = rng.standard_normal(3), 0.5 + rng.random(3)
    layer.training = training
    for shape in [(5, 3), (2, 3, 3, 2)]:
        report = check_layer(layer, rng.standard_normal(shape))
        assert report.passed, str(report)


def test_a_checked_net_keeps_its_running_statistics():
    rng = np.random.default_rng(0)
    # (a bias right before BatchNorm would have a gradient of exactly 0: see lesson 14)
    net = Net([Affine(4, 5, rng=0), ReLU(), BatchNorm(5), Affine(5, 3, rng=1)], SoftmaxLoss())
    bn = net.layers[2]
    before = bn.running_mean.copy(), bn.running_var.copy()
    assert check_net(net, rng.standard_normal((6, 4)), rng.integers(0, 3, 6)).passed
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5)])
def test_layernorm_equals_the_definition_and_the_complex_step(shape):
    rng = np.random.default_rng(4)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    layer = LayerNorm(5)
    layer.params.update(gamma=gamma, beta=beta)
    x = rng.standard_normal(shape) * 3 + 1

    def f(x, gamma, beta):
        mean = x.sum(axis=-1, keepdims=True) / 5
        var = ((x - mean)**2).sum(axis=-1, keepdims=True) / 5
        return gamma * (x - mean) / np.sqrt(var + 1e-5) + beta

    out = layer.forward(x)
    np.testing.assert_allclose(out, f(x, gamma, beta), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    for got, want in zip([dx, layer.grads["gamma"], layer.grads["beta"]],
                         complex_step_gradients(f, [x, gamma, beta], dout)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_layernorm_never_mixes_samples():
    layer = LayerNorm(3)
    x = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(layer.forward(x[2:3]), layer.forward(x)[2:3])
    assert layer.samplewise is True


@pytest.mark.parametrize("layer", [BatchNorm(3), LayerNorm(3)], ids=repr)
def test_float32_in_float32_out(layer):
    for key in layer.params:
        layer.params[key] = layer.params[key].astype(np.float32)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones((4, 3), np.float32)).dtype == np.float32
    assert {g.dtype for g in layer.grads.values()} == {np.dtype(np.float32)}


def test_normalization_layers_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"BatchNorm: expected x of shape \(N, 3\) or "
                                         r"\(N, 3, H, W\), got \(2, 4\)"):
        BatchNorm(3).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"LayerNorm: expected x of shape \(N, 3\).*got \(2, 4\)"):
        LayerNorm(3).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"BatchNorm: momentum must be in \[0, 1\), got 1"):
        BatchNorm(3, momentum=1)
    with pytest.raises(ValueError, match="LayerNorm: eps must be a small positive number"):
        LayerNorm(3, eps=0)
    with pytest.raises(ValueError, match="BatchNorm: features must be a positive int"):
        BatchNorm(0)
    with pytest.raises(RuntimeError, match="before forward"):
        BatchNorm(3).backward(np.ones((2, 3)))


def test_a_batch_variance_that_overflows_raises_and_leaves_the_running_statistics():
    layer = BatchNorm(2)
    before = layer.running_mean.copy(), layer.running_var.copy()
    x = np.array([[1e200, 1.0], [-1e200, 2.0]])  # the variance, 1e400, overflows
    with pytest.raises(FloatingPointError, match="BatchNorm: the batch variance overflowed"):
        layer.forward(x)
    np.testing.assert_array_equal(layer.running_mean, before[0])
    np.testing.assert_array_equal(layer.running_var, before[1])
