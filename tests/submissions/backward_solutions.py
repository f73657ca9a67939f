"""The backward passes of the cnn and sequence skeletons, written out as a student would.

`completed(skeleton)` pastes the body of each function below in place of the line
`raise NotImplementedError("<Class>.backward ...")` of tutorials/assignments/
cnn_assignment.py or sequence_assignment.py: the skeleton, completed. Each body uses
what that skeleton's forward saved. Written from the skeletons' docstrings. The
tests load this file with runpy (it is not a submission itself).
"""
import inspect
import re
import textwrap

import numpy as np

SOLVES = {}  # class name -> the function whose body is its backward


def solves(name):
    def register(function):
        SOLVES[name] = function
        return function
    return register


def completed(skeleton, **changes):
    """The text of the skeleton file (a Path) with its backward passes written, then
    each `old -> new` of changes applied (a mistake planted in the completed file)."""
    text = skeleton.read_text()
    for name, function in SOLVES.items():
        body = textwrap.dedent(inspect.getsource(function).split("):\n", 1)[1])  # after def
        line = re.compile(rf'^( *)raise NotImplementedError\("{name}\.backward.*$', re.M)
        text, count = line.subn(lambda m: textwrap.indent(body, m.group(1)).rstrip(), text)
        assert count <= 1, name
    assert "NotImplementedError(" not in text.split('"""', 2)[2], "a backward is left unwritten"
    for old, new in changes.values():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@solves("Conv2D")
def conv2d_backward(self, dout):
    N, F, Ho, Wo = dout.shape
    HH, WW = self.params["W"].shape[2:]
    s, p = self.stride, self.pad
    dW, dxpad = np.zeros_like(self.params["W"]), np.zeros_like(self.xpad)
    for i in range(HH):
        for j in range(WW):
            patch = self.xpad[:, :, i:i + s * Ho:s, j:j + s * Wo:s]
            dW[:, :, i, j] = np.einsum("nchw,nfhw->fc", patch, dout)
            dxpad[:, :, i:i + s * Ho:s, j:j + s * Wo:s] += np.einsum(
                "nfhw,fc->nchw", dout, self.params["W"][:, :, i, j])
    self.grads = {"W": dW, "b": dout.sum(axis=(0, 2, 3))}
    return dxpad[:, :, p:dxpad.shape[2] - p, p:dxpad.shape[3] - p]


@solves("MaxPool2D")
def maxpool2d_backward(self, dout):
    N, C, H, W = self.x_shape
    k, s = self.size, self.stride
    Ho, Wo = dout.shape[2:]
    rows = s * np.arange(Ho).reshape(1, 1, Ho, 1) + self.argmax // k
    cols = s * np.arange(Wo).reshape(1, 1, 1, Wo) + self.argmax % k
    dx = np.zeros(self.x_shape)
    np.add.at(dx, (np.arange(N).reshape(N, 1, 1, 1), np.arange(C).reshape(1, C, 1, 1),
                   rows, cols), dout)
    return dx


@solves("BatchNorm")
def batchnorm_backward(self, dout):
    self.grads = {"gamma": (dout * self.xhat).sum(axis=self.axes),
                  "beta": dout.sum(axis=self.axes)}
    g = dout * self.params["gamma"].reshape(self.shape)
    if not self.training:
        return g * self.inv_std
    return self.inv_std * (g - g.mean(axis=self.axes, keepdims=True)
                           - self.xhat * (g * self.xhat).mean(axis=self.axes, keepdims=True))


@solves("LSTM")
def lstm_backward(self, dout):
    N, T, H = dout.shape
    Wx, Wh = self.params["Wx"], self.params["Wh"]
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dx = np.zeros((N, T, Wx.shape[0]))
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        step = self.steps[t]
        i, f, o, g = step["i"], step["f"], step["o"], step["g"]
        tanh_c = np.tanh(step["c"])
        dh = dout[:, t] + dh_next
        dc = dc_next + dh * o * (1 - tanh_c**2)
        da = np.hstack([dc * g * i * (1 - i), dc * step["c_prev"] * f * (1 - f),
                        dh * tanh_c * o * (1 - o), dc * i * (1 - g**2)])
        dx[:, t] = da @ Wx.T
        dWx += step["x"].T @ da
        dWh += step["h_prev"].T @ da
        db += da.sum(axis=0)
        dh_next, dc_next = da @ Wh.T, dc * f
    self.grads = {"Wx": dWx, "Wh": dWh, "b": db}
    return dx


@solves("Embedding")
def embedding_backward(self, dout):
    dW = np.zeros_like(self.params["W"])
    np.add.at(dW, self.x, dout)  # a repeated token adds up its gradients
    self.grads = {"W": dW}
    return None
