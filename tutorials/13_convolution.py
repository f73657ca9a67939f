# %% [markdown]
# # 13 · Convolution: the loops, im2col, max pooling, and checking a small CNN
#
# A convolutional layer slides a small filter over an image and, at every position,
# takes the dot product of the filter with the patch under it. This lesson writes
# that definition as plain loops, shows that minnet's `Conv2D` ("im2col" and a matrix
# product) computes the same numbers and measures how much faster it is, looks at
# max pooling and what it does when several inputs tie for the maximum, and then
# gradient-checks a small CNN on the handwritten digits, coordinate by coordinate.
#
# Run it as `python tutorials/13_convolution.py`.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import minnet
import minnet.plot
from minnet.datasets import load_digits, train_test_split

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## The definition
# Images come in batches of shape (N, C, H, W): N images, C channels (1 for gray
# digits, 3 for color), H rows, W columns. A `Conv2D(C, F, kernel_size)` has F filters,
# each of shape (C, HH, WW), in a weight tensor W of shape (F, C, HH, WW), and one bias
# per filter, b of shape (F,). With `pad` rows and columns of zeros around each image
# (xpad) and a `stride` s,
#
#     out[n, f, i, j] = b[f] + sum over c, p, q of W[f, c, p, q] * xpad[n, c, i*s+p, j*s+q]
#
# for every output row i and column j, of which there are
# H' = 1 + (H + 2 pad - HH) // s and W' = 1 + (W + 2 pad - WW) // s.
# (Strictly this is a cross-correlation: the filter is not flipped. Deep-learning
# libraries call it convolution all the same.)
#
# The formula has seven indices. Below, numpy handles the batch index n (every image
# at once), and there is one loop for each of the other six: the readable definition.


# %%
def naive_conv(x, W, b, stride=1, pad=0):
    """The definition of Conv2D's forward, six nested loops."""
    N, C, H, Wd = x.shape
    F, _, HH, WW = W.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (Wd + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for f in range(F):
        for i in range(Ho):
            for j in range(Wo):
                out[:, f, i, j] = b[f]
                for c in range(C):
                    for p in range(HH):
                        for q in range(WW):
                            out[:, f, i, j] += W[f, c, p, q] * xpad[:, c, i * stride + p,
                                                                    j * stride + q]
    return out


# %% [markdown]
# ## im2col: the same sums as one matrix product
# Every output number is a dot product between a filter, flattened to C·HH·WW
# numbers, and the patch of xpad under it, flattened the same way. Write every patch
# as a row of a matrix `cols`, of shape (N·H'·W', C·HH·WW), and every filter as a
# column of W reshaped to (C·HH·WW, F): then one matrix product `cols @ W_flat`
# gives all N·H'·W'·F outputs at once. That is "im2col" (image to columns).
#
# numpy's `sliding_window_view` gives every window of an image as a view, without
# copying a pixel; one reshape then copies the windows into `cols`.


# %%
def im2col(xpad, HH, WW, stride):
    """(N, C, H, W) -> cols (N H' W', C HH WW): every window of every image, as a row."""
    windows = sliding_window_view(xpad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, Ho, Wo = windows.shape[:4]                       # windows: (N, C, H', W', HH, WW)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, C * HH * WW)


def im2col_conv(x, W, b, stride=1, pad=0):
    """Conv2D's forward as one matrix product."""
    F, C, HH, WW = W.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = 1 + (xpad.shape[2] - HH) // stride, 1 + (xpad.shape[3] - WW) // stride
    out = im2col(xpad, HH, WW, stride) @ W.reshape(F, -1).T + b   # (N H' W', F)
    return out.reshape(len(x), Ho, Wo, F).transpose(0, 3, 1, 2)


# %% [markdown]
# A 4x4 image holding the numbers 0..15 and a 3x3 kernel: four windows, so four
# rows of nine numbers each.

# %%
tiny = np.arange(16.0).reshape(1, 1, 4, 4)
cols = im2col(tiny, 3, 3, 1)
print("the image:\n", tiny[0, 0])
print("cols, one row per window:\n", cols)
assert cols.shape == (4, 9) and np.array_equal(cols[0], tiny[0, 0, :3, :3].ravel())

# %% [markdown]
# The backward pass is two more matrix products and a sum: dW from `cols` and dout,
# the gradient of `cols` from dout and W, and db, dout summed. The gradient of `cols`
# goes back into the image by adding every row into the window it came from; where
# windows overlap, a pixel collects a contribution from each of them.
#
# ## Same numbers?
# minnet's `Conv2D` works the same way: it takes the windows from
# `sliding_window_view`, copies them once into a matrix of windows (its docstring
# gives the layout) and multiplies it by the filters. On random inputs, with padding,
# strides and a rectangular kernel, the loops, the im2col above and minnet's layer:

# %%
rng = np.random.default_rng(0)
CASES = [((2, 3, 7, 7), 4, 3, 1, 1),        # (N, C, H, W), F, kernel, stride, pad
         ((2, 2, 9, 8), 3, (2, 3), 2, 0),
         ((3, 1, 8, 8), 2, 5, 1, 2)]
for shape, F, kernel, stride, pad in CASES:
    layer = minnet.Conv2D(shape[1], F, kernel, stride=stride, pad=pad, rng=rng)
    layer.params["b"][...] = rng.standard_normal(F)
    x = rng.standard_normal(shape)
    fast = layer.forward(x)
    slow = naive_conv(x, layer.params["W"], layer.params["b"], stride, pad)
    ours = im2col_conv(x, layer.params["W"], layer.params["b"], stride, pad)
    gaps = np.abs(fast - slow).max(), np.abs(ours - slow).max()
    print(f"x {shape}, W {layer.params['W'].shape}, stride {stride}, pad {pad}: out "
          f"{fast.shape}; largest difference from the loops: Conv2D {gaps[0]:.1e}, "
          f"im2col above {gaps[1]:.1e}")
    assert fast.shape == slow.shape == ours.shape and max(gaps) < 1e-12

# %% [markdown]
# They agree to the last few bits: they add the same products, in different orders.
#
# ## How much faster?
# Both are timed by the same rule: call the function back to back until at least
# `burst` seconds have passed, take the time per call, and keep the best of three such
# rounds (the best round is the one the rest of the machine disturbed least).


# %%
def seconds_per_call(function, rounds=3, burst=0.2):
    best = np.inf
    for _ in range(rounds):
        calls, start = 0, time.perf_counter()
        while calls == 0 or time.perf_counter() - start < burst:
            function()
            calls += 1
        best = min(best, (time.perf_counter() - start) / calls)
    return best


shape, F = ((4, 3, 8, 8), 4) if FAST else ((8, 3, 16, 16), 8)
x = rng.standard_normal(shape)
layer = minnet.Conv2D(shape[1], F, 3, pad=1, rng=rng)
W, b = layer.params["W"], layer.params["b"]
burst = 0.05 if FAST else 0.2
loops = seconds_per_call(lambda: naive_conv(x, W, b, 1, 1), burst=burst)
im2col = seconds_per_call(lambda: layer.forward(x), burst=burst)
ratio = loops / im2col
inner = F * shape[1] * shape[2] * shape[3] * 9      # F C H' W' 3 3 (pad 1 keeps H' = H)
print(f"x {shape}, {F} filters of 3x3, pad 1: loops {1e3 * loops:.2f} ms, "
      f"im2col {1e3 * im2col:.3f} ms per forward: {ratio:.0f} times faster")
print(f"the innermost loop ran {inner} times per forward, each on all {shape[0]} images")
assert ratio > 1

# %% [markdown]
# The ratio printed above depends on the machine and on the sizes. The loops pay
# Python's overhead at every pass through the innermost loop (F·C·H'·W'·9 of them,
# printed above); minnet's im2col pays it a handful of times and leaves the
# arithmetic to a matrix product.
#
# The backward pass is checked like any layer's, with `check_layer` (lesson 04): the
# input x and both parameters, every coordinate.

# %%
layer = minnet.Conv2D(2, 3, 3, stride=2, pad=1, rng=1)
layer.params["b"][...] = rng.standard_normal(3)
report = minnet.check_layer(layer, rng.standard_normal((2, 2, 5, 5)))
print(report)
assert report.passed

# %% [markdown]
# ## Max pooling, and its ties
# `MaxPool2D(2)` cuts every channel into 2x2 windows and keeps each window's largest
# value. Its backward pass sends each window's gradient to the input that was the
# maximum; the other three get 0.
#
# When several inputs tie for the maximum, one of them must get the gradient. minnet
# gives it to the first maximum in row-major order (the window's top row from left
# to right, then the next row), as PyTorch does. In this 4x4 example the top-left window
# has two 3s, the bottom-left window four 0s and the bottom-right window four 5s:

# %%
x = np.array([[1., 3., 3., 0.],
              [3., 2., 0., 0.],
              [0., 0., 5., 5.],
              [0., 0., 5., 5.]]).reshape(1, 1, 4, 4)
pool = minnet.MaxPool2D(2)
out = pool.forward(x)
dx = pool.backward(np.ones_like(out))
print("out:\n", out[0, 0])
print("dx for dout = 1 everywhere:\n", dx[0, 0])
assert np.array_equal(out[0, 0], [[3, 3], [0, 5]])
assert np.array_equal(np.argwhere(dx[0, 0] == 1), [[0, 1], [0, 2], [2, 0], [2, 2]])

# %% [markdown]
# The first 3 of the top-left window is at row 0, column 1 (the other is at row 1,
# column 0), so that one gets the gradient; each tied window gives it to its first
# maximum in row-major order.
#
# At a tie the maximum has a kink: lower the winner a little and another input takes
# over (slope 0 from that side, 1 from the other); raise a loser a little and it
# takes over. So a gradient check that moves one input at a time, as `check_layer`
# does, steps across a kink at every input that shares its window's maximum. minnet's
# MaxPool2D reports which input won each window (its `kink_state`), so the checker sees
# each crossing and judges that input from the side that keeps the winner, the side
# backward's gradient belongs to:

# %%
windows = x.reshape(1, 1, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(-1, 4)
shares_max = (windows == windows.max(axis=1, keepdims=True))
tied_inputs = int(shares_max[shares_max.sum(axis=1) > 1].sum())
report = minnet.check_layer(pool, x)
row = report["x"]
print(report)
print(f"{tied_inputs} of the {x.size} inputs share their window's maximum with another; "
      f"the check judged {row.one_sided} inputs from one side of a kink")
assert report.passed and row.one_sided == tied_inputs == 10

# %% [markdown]
# ## A small CNN on the digits, checked coordinate by coordinate
# The bundled digits are 8x8 gray images; `load_digits` gives them as rows of 64
# pixels from 0 to 16. Dividing by 16 and reshaping to (N, 1, 8, 8) makes them images
# with pixels in [0, 1], and leaves a blank pixel at exactly 0.
#
# The net: Conv2D with 4 filters of 3x3 and pad 1 (8x8 stays 8x8), ReLU, BatchNorm
# (in training mode, so it normalizes with the statistics of the batch: lesson 14),
# MaxPool2D(2) (8x8 becomes 4x4), Dropout with a fixed seed (the same mask at every
# forward, lesson 06), and an Affine from the 4·4·4 = 64 pooled values to 10 scores.
# `check_net(..., sample=None)` compares every one of its parameters.

# %%
X, y = load_digits()
X = (X / 16).reshape(-1, 1, 8, 8)
batch = np.random.default_rng(0).permutation(len(X))[:16]
Xb, yb = X[batch], y[batch]

F = 4
net = minnet.Net([minnet.Conv2D(1, F, 3, pad=1, rng=1), minnet.ReLU(), minnet.BatchNorm(F),
                  minnet.MaxPool2D(2), minnet.Dropout(0.8, seed=3),
                  minnet.Affine(F * 4 * 4, 10, rng=4)], minnet.SoftmaxLoss())
print(net)
size = sum(value.size for value in net.params.values())
start = time.perf_counter()
report = minnet.check_net(net, Xb, yb, sample=None)
seconds = time.perf_counter() - start
print(report)
print(f"{size} parameters, {sum(row.checked for row in report.rows)} coordinates judged "
      f"in {seconds:.2f} s")
for row in report.rows:
    print(f"  {row.name:6s}: {row.checked:3d} judged, {row.one_sided} from one side of a "
          f"kink, {row.kinks} left out")
assert report.passed
assert sum(row.checked for row in report.rows) == size
assert all(row.kinks == 0 for row in report.rows)
assert [row.name for row in report.rows if row.one_sided] == ["b1"]
assert report["b1"].one_sided == F

# %% [markdown]
# Every coordinate is judged and agrees. Now look at what the pooling layer saw. Run
# the first three layers on the batch and count the 2x2 windows of the pooling
# input in which the maximum appears more than once, exactly:

# %%
relu_out = net.layers[1].forward(net.layers[0].forward(Xb))   # Conv2D, then ReLU
acts = net.layers[2].forward(relu_out)                         # BatchNorm: what pooling gets


def windows_of(a):
    """(N, C, 8, 8) -> (N, C, 4, 4, 4): the four values of each 2x2 pooling window."""
    n, c, h, w = a.shape
    return a.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h // 2, w // 2, 4)


values = windows_of(acts)
tied = (values == values.max(axis=-1, keepdims=True)).sum(axis=-1) > 1
all_zero = (windows_of(relu_out) == 0).all(axis=-1)       # ReLU zeroed all four
padded = np.pad(Xb[:, 0], ((0, 0), (1, 1), (1, 1)))        # what a 3x3 filter sees with pad 1
blank = np.array([[[not padded[n, 2 * i:2 * i + 4, 2 * j:2 * j + 4].any() for j in range(4)]
                   for i in range(4)] for n in range(len(Xb))])   # (N, 4, 4)
blank = np.broadcast_to(blank[:, None], tied.shape)         # the same in every channel
print(f"pooling windows: {tied.size} ({len(Xb)} images x {F} channels x 4 x 4)")
print(f"windows with an exact tie for the maximum: {tied.sum()}")
print(f"  of which over a blank patch of the image: {(tied & blank).sum()} "
      f"(all {blank.sum()} such windows: {blank.sum() // F} per channel)")
print(f"  of which ReLU zeroed all four values: {(tied & all_zero).sum()}")
assert (tied & blank).sum() == blank.sum() > 0
assert np.array_equal(tied, all_zero)

# %% [markdown]
# A window whose 4x4 patch of the image (the pixels its four 3x3 filters see) is
# blank gets, in channel f, the conv output b[f] at all four positions, whatever the
# weights are: every product has a 0 pixel in it. At initialization b is 0, ReLU makes
# those 0 too, and BatchNorm turns equal values into equal values. So blank image
# regions make exact ties in every channel, and ReLU adds more wherever it zeroes
# four negative responses in one window; the lines above count both, and in this
# batch every tie is a window of four zeros.
#
# Yet the check above judged every coordinate, and all but the four of b1 without
# meeting any kink (0 from one side, 0 left out). Unlike `check_layer` before, it
# never moves a single pixel: it moves a parameter, and apart from b1 (below) that
# leaves the ties alone. Every tied window holds four zeros out of ReLU. A step in a
# weight changes negative ReLU inputs a little, and none of them was within a step of
# 0 (the check met no kink there), so the zeros stayed zeros; where the filter sees
# only blank pixels, the ReLU input is b1[f] whatever the weights are. gamma and beta
# then map equal values to equal values. A tied window stays tied (its first maximum
# keeps the gradient), and the loss is smooth along these steps.
#
# The four probes of b1 are the exception, and the kink they meet is ReLU's:
# b1 = 0 puts the ReLU input at exactly 0, its kink, wherever the filter sees only
# blank pixels. A step up in b1[f] lifts all those inputs off 0 (and may hand a
# window's maximum to one of them); a step down leaves them at 0. ReLU's backward
# takes the slope 0 at exactly 0, the slope of the step-down side, and the checker
# judged b1 from that side, where nothing changes hands.
#
# The figure marks, for four images of the batch, the windows tied in every channel.

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 3.3))
everywhere = tied.all(axis=1)                      # (N, 4, 4): tied in all F channels
for k, ax in enumerate(axes):
    ax.imshow(Xb[k, 0], cmap="gray_r", vmin=0, vmax=1)
    for i, j in zip(*np.nonzero(everywhere[k])):
        ax.add_patch(plt.Rectangle((2 * j - 0.5, 2 * i - 0.5), 2, 2, fill=False,
                                   edgecolor="#e76f51", lw=2))
    ax.set(xticks=[], yticks=[], title=f"label {yb[k]}: {everywhere[k].sum()} tied")
fig.suptitle("2x2 pooling windows whose maximum is tied in every channel (outlined)",
             fontsize="x-large")
fig.tight_layout()
minnet.plot.save(fig, "13_tied_windows.png")

# %% [markdown]
# ## Training it
# The same architecture with 8 filters, trained on 80% of the digits with Adam.
# The Dropout now draws a new mask at every step from its own seeded generator; the
# checks `fit` runs at the steps in `check_at` fix the masks for their duration. Those
# are fast directional checks (lesson 08).
#
# For a CNN on the MNIST subset, see `benchmarks/cnn_mnist.py`.

# %%
X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
init = np.random.default_rng(0)
F = 8
cnn = minnet.Net([minnet.Conv2D(1, F, 3, pad=1, rng=init), minnet.ReLU(), minnet.BatchNorm(F),
                  minnet.MaxPool2D(2), minnet.Dropout(0.8, rng=init),
                  minnet.Affine(F * 4 * 4, 10, rng=init)], minnet.SoftmaxLoss())
EPOCHS = 2 if FAST else 15
CHECK_AT = [0, 50] if FAST else [0, 100, 400]
history = minnet.fit(cnn, X_train, y_train, minnet.Adam(0.01), epochs=EPOCHS, batch_size=32,
                     val=(X_test, y_test), check_at=CHECK_AT, seed=0, verbose=True)
for step, check in history.checks:
    print(f"check at step {step}: {'passed' if check.passed else check.failed}")
test_acc = cnn.accuracy(X_test, y_test)
print(f"{history.steps} steps in {sum(history.seconds):.1f} s; test accuracy {test_acc:.3f}")
assert all(check.passed for _, check in history.checks)
assert test_acc > 0.8

fig = minnet.plot.training_curves(
    history, val_name="test", title="the CNN learns the digits, its gradient checks passing")
minnet.plot.save(fig, "13_cnn_training.png")

# %% [markdown]
# `figures/13_cnn_training.png` shows the loss of every step and the accuracy after
# every epoch, on the training and the test images.
#
# ## What to take away
# - A convolution is six nested loops (seven with the batch) around one multiply-add;
#   im2col turns them into one matrix product, with the same result up to rounding
#   and at a fraction of the time.
# - Max pooling sends each window's gradient to one input, the first maximum in
#   row-major order at a tie. Ties are kinks: a check that moves single inputs
#   crosses them, and must judge those inputs from one side.
# - In a CNN, blank image regions (and ReLU's zeros) make exact ties all over the
#   pooling input. A check over the parameters never moves one input alone; here it
#   met a kink only at the four coordinates of b1 (ReLU's, at blank pixels), judged
#   those from the side where nothing changes, and judged every coordinate.
