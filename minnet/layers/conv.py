"""Layers for images: Conv2D and MaxPool2D.

An image batch has shape (N, C, H, W): N images of C channels, H rows, W columns.

Both layers see the image through its windows. `_windows` makes them without copying
a pixel: numpy's sliding_window_view is a view with one more pair of axes, so
windows[n, c, i, j] is the (HH, WW) patch whose top-left corner is pixel
(i * stride, j * stride). The naive convolution, six nested loops, is in tutorial 13;
here one matrix product does the work of all of them.
"""
from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..contract import Layer
from ..validate import count
from .common import batch, check_dout, check_width, init_std


def _windows(x, size, stride):
    """x: (N, C, H, W) -> a view (N, C, H', W', HH, WW) of every window, no copy."""
    return sliding_window_view(x, size, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]


def _pair(layer, name, value):
    """An int or a pair of ints, as a pair of positive ints."""
    if isinstance(value, numbers.Integral):
        pair = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
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

    im2col: every window of image n, flattened, becomes a column of cols[n], a
    (C HH WW, H' W') matrix; then out[n] is W flattened (F, C HH WW) @ cols[n], one matrix
    product per image (numpy's matmul does all N in one call), already in (F, H', W')
    order. backward is three more: dW from dout and cols (summed over the images), dcols
    from W and dout, and dx by adding every column of dcols back into the window it came
    from (the overlaps add up).
    """

    weights = ("W",)
    samplewise = True

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int], *, stride: int = 1, pad: int = 0,
                 init: str | float = "he",
                 rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_channels = check_width("Conv2D", "in_channels", in_channels)
        self.out_channels = check_width("Conv2D", "out_channels", out_channels)
        self.kernel_size = _pair("Conv2D", "kernel_size", kernel_size)
        self.stride = check_width("Conv2D", "stride", stride)
        self.pad = count(pad, "pad", "Conv2D", minimum=0,
                         meaning="the zeros added around each image")
        F, C, (HH, WW) = self.out_channels, self.in_channels, self.kernel_size
        std = init_std("Conv2D", init, C * HH * WW, F * HH * WW)
        self.params = {"W": std * np.random.default_rng(rng).standard_normal((F, C, HH, WW)),
                       "b": np.zeros(F)}
        self.x_shape: tuple[int, ...] | None = None
        self.cols: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _images(self, x, self.in_channels)
        N, C, H, W = x.shape
        (HH, WW), s, p = self.kernel_size, self.stride, self.pad
        if H + 2 * p < HH or W + 2 * p < WW:
            raise ValueError(f"Conv2D: a {HH}x{WW} kernel does not fit in images of {H}x{W} "
                             f"pixels padded by {p}")
        xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        windows = _windows(xpad, (HH, WW), (s, s))              # (N, C, H', W', HH, WW)
        Ho, Wo = windows.shape[2:4]
        # The one copy: cols[n, (c, p, q), (i, j)] = windows[n, c, i, j, p, q]. Its rows
        # follow W's (C, HH, WW) entries; each row is a shifted copy of an image's channel,
        # so the copy moves whole runs of pixels (a row per window would move HH WW at a time).
        self.cols = windows.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * HH * WW, Ho * Wo)
        self.x_shape = x.shape
        W2, b = self.params["W"].reshape(self.out_channels, -1), self.params["b"]
        out = W2 @ self.cols + b.reshape(-1, 1)                         # (N, F, H' W')
        return out.reshape(N, self.out_channels, Ho, Wo)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        cols = self._cached("cols")
        N, C, H, W = self._cached("x_shape")
        F, (HH, WW), s, p = self.out_channels, self.kernel_size, self.stride, self.pad
        Ho, Wo = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
        check_dout(self, dout, (N, F, Ho, Wo))
        dout = dout.reshape(N, F, Ho * Wo)                 # a column per window, as cols
        W2 = self.params["W"].reshape(F, -1)
        dW_T = (cols @ dout.transpose(0, 2, 1)).sum(axis=0)  # each image's dW.T, added up
        self.grads = {"W": dW_T.T.reshape(F, C, HH, WW), "b": dout.sum(axis=(0, 2))}
        if not self.needs_dx:
            return None
        dcols = (W2.T @ dout).reshape(N, C, HH, WW, Ho, Wo)
        dxpad = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=dcols.dtype)
        # Kernel entry (i, j) of every window touches the pixels (i + s * row, j + s * col):
        # one strided slice per entry, HH * WW additions in all, no loop over pixels.
        for i in range(HH):
            for j in range(WW):
                dxpad[:, :, i:i + s * Ho:s, j:j + s * Wo:s] += dcols[:, :, i, j]
        return dxpad[:, :, p:p + H, p:p + W]

    def config(self) -> dict:
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

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self.size = check_width("MaxPool2D", "size", size)
        self.stride = self.size if stride is None else check_width("MaxPool2D", "stride", stride)
        self.x_shape: tuple[int, ...] | None = None
        self.winner: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _images(self, x, None)
        k, s = self.size, self.stride
        if x.shape[2] < k or x.shape[3] < k:
            raise ValueError(f"MaxPool2D: a {k}x{k} window does not fit in images of "
                             f"{x.shape[2]}x{x.shape[3]} pixels")
        windows = _windows(x, (k, k), (s, s))                   # (N, C, H', W', k, k)
        # A copy with the window's entries first: stack[p k + q] is entry (p, q) of every
        # window, an (N, C, H', W') array, so the rest works on whole arrays at a time.
        stack = windows.transpose(4, 5, 0, 1, 2, 3).reshape((k * k,) + windows.shape[:4])
        top = stack.real.max(axis=0)
        # The winner of a window is its first entry equal to the maximum (row-major order).
        self.winner = stack.real == top                         # (k k, N, C, H', W') bools
        taken = self.winner[0].copy()
        for entry in self.winner[1:]:  # views: clearing a tie here clears it in winner
            entry &= ~taken
            taken |= entry
        self.x_shape = x.shape
        if x.dtype.kind == "c":  # top has the real parts only: take the winner's whole value
            return (stack * self.winner).sum(axis=0)
        return top

    def backward(self, dout: np.ndarray) -> np.ndarray:
        winner = self._cached("winner")
        N, C, H, W = self._cached("x_shape")
        k, s = self.size, self.stride
        Ho, Wo = winner.shape[3:]
        check_dout(self, dout, (N, C, Ho, Wo))
        dx = np.zeros((N, C, H, W), dtype=dout.dtype)
        # Entry (p, q) of window (i, j) is pixel (s i + p, s j + q): one strided slice per
        # entry, k * k additions in all (overlapping windows add up at a shared pixel).
        for p in range(k):
            for q in range(k):
                dx[:, :, p:p + s * Ho:s, q:q + s * Wo:s] += dout * winner[p * k + q]
        return dx

    def kink_state(self) -> np.ndarray | None:
        """The winner's position p k + q in each window, (N, C, H', W'); None before forward."""
        return None if self.winner is None else self.winner.argmax(axis=0)

    def config(self) -> dict:
        return {"size": self.size, "stride": self.stride}
