"""Conv2D and MaxPool2D against naive loops written here, one output pixel at a time."""
import re

import numpy as np
import pytest

from minnet import Conv2D, MaxPool2D
from minnet.checker import check_layer

from helpers import complex_step_gradients


def naive_conv(x, W, b, stride, pad):
    """The definition: out[n, f, i, j] = b[f] + sum_{c,p,q} W[f,c,p,q] xpad[n,c,i s+p,j s+q]."""
    N, C, H, Wd = x.shape
    F, _, HH, WW = W.shape
    xpad = np.zeros((N, C, H + 2 * pad, Wd + 2 * pad), dtype=np.result_type(x, W))
    xpad[:, :, pad:pad + H, pad:pad + Wd] = x
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (Wd + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo), dtype=xpad.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    for c in range(C):
                        for p in range(HH):
                            for q in range(WW):
                                out[n, f, i, j] += W[f, c, p, q] * xpad[n, c, i * stride + p,
                                                                        j * stride + q]
                    out[n, f, i, j] += b[f]
    return out


def naive_maxpool(x, size, stride):
    """Each window's maximum, the first one in row-major order at a tie: (out, dx of dout)."""
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - size) // stride, 1 + (W - size) // stride
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    winner = np.zeros((N, C, Ho, Wo, 2), dtype=int)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best = None
                    for p in range(size):
                        for q in range(size):
                            r, s = i * stride + p, j * stride + q
                            if best is None or x[n, c, r, s].real > x[n, c, best[0], best[1]].real:
                                best = (r, s)
                    out[n, c, i, j] = x[n, c, best[0], best[1]]
                    winner[n, c, i, j] = best
    return out, winner


CONV_SHAPES = [  # (N, C, H, W), F, kernel, stride, pad
    ((2, 1, 5, 5), 3, 3, 1, 0), ((1, 2, 6, 7), 2, 3, 1, 1), ((2, 3, 7, 6), 4, (2, 3), 2, 1),
    ((3, 2, 5, 5), 1, 1, 1, 0), ((1, 1, 4, 4), 2, 4, 1, 2), ((2, 2, 8, 5), 3, 3, 3, 1)]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape, F, kernel, stride, pad", CONV_SHAPES)
def test_conv_forward_and_backward_equal_the_definition(shape, F, kernel, stride, pad, seed):
    rng = np.random.default_rng(seed)
    layer = Conv2D(shape[1], F, kernel, stride=stride, pad=pad, rng=rng)
    layer.params["b"][...] = rng.standard_normal(F)
    W, b = layer.params["W"], layer.params["b"]
    x = rng.standard_normal(shape)
    out = layer.forward(x)
    np.testing.assert_allclose(out, naive_conv(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    ref = complex_step_gradients(lambda x, W, b: naive_conv(x, W, b, stride, pad), [x, W, b], dout)
    for got, want in zip([dx, layer.grads["W"], layer.grads["b"]], ref):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_conv_output_size_formula_and_stride_that_leaves_pixels_out():
    # H' = 1 + (7 + 2 - 3) // 2 = 4: the last row and column of the padding are unused
    layer = Conv2D(1, 1, 3, stride=2, pad=1, rng=0)
    x = np.random.default_rng(0).standard_normal((1, 1, 7, 8))
    assert layer.forward(x).shape == (1, 1, 4, 4)
    assert layer.backward(np.ones((1, 1, 4, 4))).shape == x.shape


def test_conv_is_a_cross_correlation_like_pytorch():
    # a kernel with a single 1 in its top-left corner shifts the image, it does not flip it
    layer = Conv2D(1, 1, 2, rng=0)
    layer.params["W"][...] = [[[[1.0, 0.0], [0.0, 0.0]]]]
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(layer.forward(x), [[[[0, 1], [3, 4]]]])


def test_conv_first_layer_skips_dx_and_he_init():
    layer = Conv2D(3, 64, 3, rng=0)
    assert abs(layer.params["W"].std() / np.sqrt(2 / 27) - 1) < 0.05
    layer.needs_dx = False
    layer.forward(np.ones((2, 3, 5, 5)))
    assert layer.backward(np.ones((2, 64, 3, 3))) is None and layer.grads["W"].shape == (64, 3, 3, 3)


@pytest.mark.parametrize("shape, size, stride", [((2, 3, 4, 4), 2, None), ((1, 2, 5, 7), 2, None),
                                                 ((2, 1, 7, 7), 3, 2), ((1, 2, 6, 6), 3, 1),
                                                 ((1, 1, 3, 3), 3, None)])
def test_maxpool_forward_and_backward_equal_the_definition(shape, size, stride):
    rng = np.random.default_rng(1)
    layer = MaxPool2D(size, stride)
    x = rng.standard_normal(shape)
    out = layer.forward(x)
    want, _ = naive_maxpool(x, size, stride or size)
    np.testing.assert_array_equal(out, want)
    dout = rng.standard_normal(out.shape)
    dx, = complex_step_gradients(lambda x: naive_maxpool(x, size, stride or size)[0], [x], dout)
    np.testing.assert_allclose(layer.backward(dout), dx, rtol=1e-12, atol=1e-14)


def test_maxpool_ties_send_the_gradient_to_the_first_maximum_only():
    x = np.zeros((1, 1, 4, 4))           # a blank image: every window is a four-way tie
    x[0, 0, 2:, 2:] = [[1.0, 5.0], [5.0, 5.0]]  # a three-way tie at 5 in the last window
    layer = MaxPool2D(2)
    np.testing.assert_array_equal(layer.forward(x), [[[[0, 0], [0, 5]]]])
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 0, 4],
                                             [0, 0, 0, 0]])
    _, winner = naive_maxpool(x, 2, 2)
    assert winner[0, 0, 1, 1].tolist() == [2, 3]  # the naive loop agrees: row-major first


def test_maxpool_overlapping_windows_add_up_at_a_shared_maximum():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 9.0                  # the maximum of all four 2x2 windows (stride 1)
    layer = MaxPool2D(2, stride=1)
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    assert dx[0, 0, 1, 1] == 4 and dx.sum() == 4


def test_maxpool_kink_state_changes_where_the_maximum_changes_hands():
    layer = MaxPool2D(2)
    x = np.array([[[[1.0, 2.0], [0.0, 1.999]]]])
    layer.forward(x)
    before = layer.kink_state().copy()
    x[0, 0, 1, 1] += 0.002               # now the bottom-right entry is the largest
    layer.forward(x)
    assert before.tolist() == [[[[1]]]] and layer.kink_state().tolist() == [[[[3]]]]


def test_check_layer_passes_maxpool_on_a_blank_image_full_of_ties():
    x = np.zeros((2, 2, 6, 6))
    x[:, :, 1:4, 2:5] = np.random.default_rng(0).standard_normal((2, 2, 3, 3))
    report = check_layer(MaxPool2D(2), x)
    assert report.passed, str(report)


@pytest.mark.parametrize("layer, shape", [(Conv2D(2, 3, 3, pad=1, rng=0), (2, 2, 4, 4)),
                                          (MaxPool2D(2), (2, 3, 4, 4))], ids=repr)
def test_float32_in_float32_out_and_the_complex_step(layer, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    for key in layer.params:
        layer.params[key] = layer.params[key].astype(np.float32)
    out = layer.forward(x.astype(np.float32))
    assert out.dtype == np.float32
    assert layer.backward(np.ones(out.shape, np.float32)).dtype == np.float32
    for key in layer.params:
        assert layer.grads[key].dtype == np.float32
        layer.params[key] = layer.params[key].astype(np.float64)
    direction, dout = rng.standard_normal(shape), rng.standard_normal(out.shape)
    derivative = np.sum(layer.forward(x + 1e-20j * direction) * dout).imag / 1e-20
    layer.forward(x)
    np.testing.assert_allclose(derivative, np.sum(layer.backward(dout) * direction), rtol=1e-12)


def test_image_layers_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"Conv2D: expected images x of shape \(N, 3, H, W\), "
                                         r"got \(2, 1, 5, 5\)"):
        Conv2D(3, 4, 3).forward(np.ones((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"got \(2, 64\); reshape flat rows"):
        Conv2D(1, 4, 3).forward(np.ones((2, 64)))
    with pytest.raises(ValueError, match="a 5x5 kernel does not fit in images of 3x3 pixels "
                                         "padded by 0"):
        Conv2D(1, 1, 5).forward(np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="a 3x3 window does not fit in images of 2x4"):
        MaxPool2D(3).forward(np.ones((1, 1, 2, 4)))
    for bad in (dict(kernel_size=0), dict(kernel_size=(1, 2, 3)), dict(kernel_size=3, stride=0),
                dict(kernel_size=3, pad=-1), dict(kernel_size=3, init="glorot")):
        with pytest.raises(ValueError, match="Conv2D: (kernel_size|stride|pad|init)"):
            Conv2D(1, 1, **bad)
    with pytest.raises(ValueError, match="MaxPool2D: size must be a positive int"):
        MaxPool2D(1.5)
    layer = Conv2D(1, 2, 3)
    layer.forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"Conv2D.backward: expected dout of shape "
                                         r"\(1, 2, 2, 2\)"):
        layer.backward(np.ones((1, 2, 4, 4)))


@pytest.mark.parametrize("kernel", [3.0, None, (1, 2, 3), "ab", [3]])
def test_a_kernel_size_that_is_no_int_or_pair_is_refused_by_name(kernel):
    with pytest.raises(ValueError, match=r"^Conv2D: kernel_size must be an int or a pair of "
                                         rf"ints, got {re.escape(repr(kernel))}$"):
        Conv2D(1, 1, kernel)
