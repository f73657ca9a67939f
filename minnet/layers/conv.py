"""Layers for images: Conv2D and MaxPool2D.

An image batch has shape (N, C, H, W): N images of C channels, H rows, W columns.

Both layers see the image through its windows. `_windows` makes them without copying
a pixel: numpy's sliding_window_view is a view with one more pair of axes, so
windows[n, c, i, j] is the (HH, WW) patch whose top-left corner is pixel
(i * stride, j * stride). The naive convolution, six nested loops, is in tutorial 12;
here one matrix product does the work of all of them.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..contract import Layer
from .common import batch, check_dout, check_width, init_std


def _windows(x, size, stride):
    """x: (N, C, H, W) -> a view (N, C, H', W', HH, WW) of every window, no copy."""
    return sliding_window_view(x, size, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]


def _pair(layer, name, value):
    """An int or a pair of ints, as a pair of positive ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(check_width(layer, name, v) for v in pair)


def _images(layer, x, channels):
    x = batch(layer, x)
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        C = "C" if channels is None else channels
        raise ValueError(f"{type(layer).__name__}: expected images x of shape (N, {C}, H, W), "
                         f"got {x.shape}" + ("; reshape flat rows with "
                                             "x.reshape(N, C, H, W)" if x.ndim == 2 else ""))
    return x


class Conv2D(Layer):
    """2-D convolution, a cross-correlation as in PyTorch's conv2d.

    x: (N, C, H, W) -> out: (N, F, H', W'), with
        H' = 1 + (H + 2 pad - HH) // stride,   W' = 1 + (W + 2 pad - WW) // stride
    W: (F, C, HH, WW), F filters of C channels; b: (F,)

        out[n, f, i, j] = b[f] + sum over c, p, q of
                          W[f, c, p, q] * xpad[n, c, i * stride + p, j * stride + q]

    where xpad is x with `pad` zeros around each image. kernel_size: HH = WW = an int,
    or a pair (HH, WW); stride and pad: ints. init: "he" (std sqrt(2 / (C HH WW)),
    for ReLU nets), "xavier" or a float std; rng: an int seed or a Generator.

    im2col: every window of xpad, flattened, becomes a row of `cols` (N H' W', C HH WW);
    then out is cols @ W flattened (C HH WW, F), one matrix product. backward is three
    more: dW from cols and dout, dcols from dout and W, and dx by adding every row of
    dcols back into the window it came from (the overlaps add up).
    """

    weights = ("W",)
    samplewise = True

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, pad=0, init="he",
                 rng=None):
        super().__init__()
        self.in_channels = check_width("Conv2D", "in_channels", in_channels)
        self.out_channels = check_width("Conv2D", "out_channels", out_channels)
        self.kernel_size = _pair("Conv2D", "kernel_size", kernel_size)
        self.stride = check_width("Conv2D", "stride", stride)
        if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
            raise ValueError(f"Conv2D: pad must be an int >= 0, got {pad!r}")
        self.pad, self.init = int(pad), init
        F, C, (HH, WW) = self.out_channels, self.in_channels, self.kernel_size
        std = init_std("Conv2D", init, C * HH * WW, F * HH * WW)
        self.params = {"W": std * np.random.default_rng(rng).standard_normal((F, C, HH, WW)),
                       "b": np.zeros(F)}
        self.x_shape = self.cols = None

    def forward(self, x):
        x = _images(self, x, self.in_channels)
        N, C, H, W = x.shape
        (HH, WW), s, p = self.kernel_size, self.stride, self.pad
        if H + 2 * p < HH or W + 2 * p < WW:
            raise ValueError(f"Conv2D: a {HH}x{WW} kernel does not fit in images of {H}x{W} "
                             f"pixels padded by {p}")
        xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        windows = _windows(xpad, (HH, WW), (s, s))              # (N, C, H', W', HH, WW)
        Ho, Wo = windows.shape[2:4]
        # the one copy: each window a row, in the order of W's (C, HH, WW) entries
        self.cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, C * HH * WW)
        self.x_shape = x.shape
        out = self.cols @ self.params["W"].reshape(self.out_channels, -1).T + self.params["b"]
        return out.reshape(N, Ho, Wo, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, dout):
        cols = self._cached("cols")
        N, C, H, W = self.x_shape
        F, (HH, WW), s, p = self.out_channels, self.kernel_size, self.stride, self.pad
        Ho, Wo = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
        check_dout(self, dout, (N, F, Ho, Wo))
        dout2 = dout.transpose(0, 2, 3, 1).reshape(N * Ho * Wo, F)  # a row per window
        self.grads = {"W": (dout2.T @ cols).reshape(self.params["W"].shape),
                      "b": dout2.sum(axis=0)}
        if not self.needs_dx:
            return None
        dcols = (dout2 @ self.params["W"].reshape(F, -1)).reshape(N, Ho, Wo, C, HH, WW)
        dxpad = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=dcols.dtype)
        # Kernel entry (i, j) of every window touches the pixels (i + s * row, j + s * col):
        # one strided slice per entry, HH * WW additions in all, no loop over pixels.
        for i in range(HH):
            for j in range(WW):
                dxpad[:, :, i:i + s * Ho:s, j:j + s * Wo:s] += \
                    dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return dxpad[:, :, p:p + H, p:p + W]

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride, "pad": self.pad}


class MaxPool2D(Layer):
    """Max pooling: the largest value of each size x size window, channel by channel.

    x: (N, C, H, W) -> out: (N, C, H', W'), H' = 1 + (H - size) // stride, W' likewise;
    stride defaults to size (windows side by side, not overlapping).

    backward sends each dout entry to the one input that was the window's maximum.
    At a tie it goes to the first maximum in row-major window order, as PyTorch does.
    Ties are common (blank image regions, zeros after ReLU), and where the winner
    changes the function has a kink: kink_state() is the winner's position in each
    window, so the checker sees a step that hands the maximum to another input.
    """

    samplewise = has_kinks = True

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = check_width("MaxPool2D", "size", size)
        self.stride = self.size if stride is None else check_width("MaxPool2D", "stride", stride)
        self.x_shape = self.argmax = None

    def forward(self, x):
        x = _images(self, x, None)
        k, s = self.size, self.stride
        if x.shape[2] < k or x.shape[3] < k:
            raise ValueError(f"MaxPool2D: a {k}x{k} window does not fit in images of "
                             f"{x.shape[2]}x{x.shape[3]} pixels")
        windows = _windows(x, (k, k), (s, s))
        flat = windows.reshape(windows.shape[:4] + (k * k,))   # (N, C, H', W', k k), a copy
        self.argmax = flat.real.argmax(axis=-1)  # the first maximum, in row-major order
        self.x_shape = x.shape
        return np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dout):
        argmax = self._cached("argmax")
        check_dout(self, dout, argmax.shape)
        N, C, H, W = self.x_shape
        k, s = self.size, self.stride
        Ho, Wo = argmax.shape[2:]
        # The winner's (row, column) in x, then its index in x flattened.
        rows = s * np.arange(Ho)[:, None] + argmax // k
        cols = s * np.arange(Wo)[None, :] + argmax % k
        flat = (np.arange(N * C).reshape(N, C, 1, 1) * H + rows) * W + cols
        # bincount adds the entries that land on the same pixel (overlapping windows)
        dx = np.bincount(flat.ravel(), weights=dout.ravel(), minlength=N * C * H * W)
        return dx.reshape(self.x_shape).astype(dout.dtype, copy=False)

    def kink_state(self):
        return self.argmax

    def config(self):
        return {"size": self.size, "stride": self.stride}
