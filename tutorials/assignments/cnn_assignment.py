"""Assignment: the backward passes of a convolutional net (Conv2D, MaxPool2D, BatchNorm).

Each class below already has its forward pass. Your job is each `backward`, where it
says `raise NotImplementedError`: replace that line with your code. Read
layers_assignment.py first if you have not: the contract is the same.

- backward(dout) -> dx, where dout = dL/dout has the shape of out and dx = dL/dx has
  the shape of x; a layer with parameters also stores their gradients in self.grads,
  a dict with the keys of self.params ("W" -> dW, "b" -> db).
- Images are batches of shape (N, C, H, W): N images of C channels, H rows, W columns.

Work with whole arrays: loop over the kernel's entries or the window's positions if
you like (a handful of iterations), never over single pixels. Check yourself as you go:

    minnet grade tutorials/assignments/cnn_assignment.py --assignment cnn
    minnet grade my_cnn.py --classes Conv2D          # one class at a time

prints one row per class: PASS, or FAIL with the tensor that is wrong and how.
"""
import numpy as np

from minnet.layers import Layer


class Conv2D(Layer):
    """2-D convolution (a cross-correlation, as in PyTorch), with zero padding.

    x: (N, C, H, W) -> out: (N, F, H', W') with
        H' = 1 + (H + 2 pad - HH) // stride,   W' = 1 + (W + 2 pad - WW) // stride
    W: (F, C, HH, WW), F filters of C channels; b: (F,)

        out[n, f, i, j] = b[f] + sum over c, p, q of
                          W[f, c, p, q] * xpad[n, c, i * stride + p, j * stride + q]

    xpad is x with `pad` zeros around each image. kernel_size: an int (HH = WW) or a
    pair (HH, WW).
    """

    weights = ("W",)

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, pad=0, rng=None):
        super().__init__()
        HH, WW = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
        self.stride, self.pad = stride, pad
        std = np.sqrt(2 / (in_channels * HH * WW))
        rng = np.random.default_rng(rng)
        self.params = {"W": std * rng.standard_normal((out_channels, in_channels, HH, WW)),
                       "b": np.zeros(out_channels)}

    def forward(self, x):
        N, C, H, W = x.shape
        F, _, HH, WW = self.params["W"].shape
        s, p = self.stride, self.pad
        Ho, Wo = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
        self.xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        self.out_size = (Ho, Wo)
        out = np.zeros((N, F, Ho, Wo)) + self.params["b"].reshape(1, F, 1, 1)
        # Kernel entry (i, j) meets pixel (i + s * row, j + s * col) of every window:
        # one strided slice of xpad, (N, C, Ho, Wo), for all the windows at once.
        for i in range(HH):
            for j in range(WW):
                patch = self.xpad[:, :, i:i + s * Ho:s, j:j + s * Wo:s]
                out += np.einsum("nchw,fc->nfhw", patch, self.params["W"][:, :, i, j])
        return out

    def backward(self, dout):
        """dout: (N, F, H', W'). Store self.grads = {"W": dW, "b": db} with dW: (F, C,
        HH, WW) and db: (F,), and return dx: (N, C, H, W).

        Hint: forward is a sum of HH * WW terms, one per kernel entry (i, j); go through
        the same loop. Each term is linear in W[:, :, i, j] and in its `patch`, so
        each gives one slice of dW and adds into one strided slice of dxpad (a zero
        array shaped like self.xpad). Strides greater than 1 and overlapping windows
        need nothing special if you add (+=) into dxpad. Last, cut the padding off.
        Every window uses b[f]: db sums dout over everything but f.
        """
        raise NotImplementedError("Conv2D.backward: write dW, db and dx")


class MaxPool2D(Layer):
    """Max pooling: the largest value of each size x size window, channel by channel.

    x: (N, C, H, W) -> out: (N, C, H', W'), H' = 1 + (H - size) // stride, W' likewise.
    stride defaults to size (windows side by side); a smaller stride makes them overlap.
    """

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size = size
        self.stride = size if stride is None else stride

    def forward(self, x):
        N, C, H, W = x.shape
        k, s = self.size, self.stride
        Ho, Wo = 1 + (H - k) // s, 1 + (W - k) // s
        # Every window's values along a last axis, in row-major order: entry a of a
        # window is its pixel (a // k, a % k). Shape (N, C, Ho, Wo, k * k).
        windows = np.stack([x[:, :, i:i + s * Ho:s, j:j + s * Wo:s]
                            for i in range(k) for j in range(k)], axis=-1)
        self.argmax = windows.argmax(axis=-1)  # at a tie: the first maximum, in that order
        self.x_shape = x.shape
        return windows.max(axis=-1)

    def backward(self, dout):
        """dout: (N, C, H', W'). Return dx: (N, C, H, W).

        Hint: out[n, c, i, j] is one pixel of x, the one self.argmax[n, c, i, j] names:
        row i * stride + a // size, column j * stride + a % size. Its derivative is 1
        there and 0 at the window's other pixels (at a tie too: only the first maximum
        gets the gradient). Where windows overlap, a pixel can win several of them:
        add up what it gets (np.add.at adds at repeated indices, where dx[idx] += v
        would keep only one of them).
        """
        raise NotImplementedError("MaxPool2D.backward: write dx")

    def kink_state(self):
        return self.argmax  # tells the gradient checker where a maximum changes hands


class BatchNorm(Layer):
    """Batch normalization: each feature normalized over the batch, then scaled and shifted.

    x: (N, D), one mean and variance per feature over the N samples; or (N, C, H, W),
    one per channel over N, H and W. out: shaped like x; gamma, beta: (D,) or (C,).

        xhat = (x - mean) / sqrt(var + eps),   out = gamma * xhat + beta

    Training mode: mean and var (biased: divided by the count) are the batch's, and the
    running statistics move towards them:
        running = momentum * running + (1 - momentum) * batch statistic
    Eval mode (self.training is False): mean and var are the running statistics.
    """

    buffers = ("running_mean", "running_var")  # state that is saved, but never trained

    def __init__(self, features, *, momentum=0.9, eps=1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.params = {"gamma": np.ones(features), "beta": np.zeros(features)}
        self.running_mean, self.running_var = np.zeros(features), np.ones(features)

    def forward(self, x):
        self.axes = (0,) if x.ndim == 2 else (0, 2, 3)  # every axis but the feature axis
        self.shape = (1, -1) + (1,) * (x.ndim - 2)      # how a (D,) vector lines up with x
        if self.training:
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mean
            self.running_var = m * self.running_var + (1 - m) * var
        else:
            mean, var = self.running_mean, self.running_var
        self.inv_std = 1 / np.sqrt(var.reshape(self.shape) + self.eps)
        self.xhat = (x - mean.reshape(self.shape)) * self.inv_std
        gamma, beta = self.params["gamma"], self.params["beta"]
        return gamma.reshape(self.shape) * self.xhat + beta.reshape(self.shape)

    def backward(self, dout):
        """dout: shaped like x. Store self.grads = {"gamma": dgamma, "beta": dbeta}, each
        (D,), and return dx, shaped like x.

        Hint: dgamma and dbeta sum over self.axes, as the statistics do. In eval mode
        mean and var are constants, and out is a plain scale and shift of x. In
        training mode they are computed from x, so dx has three parts: the direct
        path through xhat, and the paths through mean and through var. Write g =
        dout * gamma and work with means over self.axes (keepdims=True keeps the
        shapes lined up). Leaving out the mean and variance paths is the classic bug.
        """
        raise NotImplementedError("BatchNorm.backward: write dgamma, dbeta and dx")
