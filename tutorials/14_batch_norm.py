# %% [markdown]
# # 14 · Batch normalization, and why its check must run in training mode
#
# Batch normalization rescales every feature with the mean and the variance of the
# current batch. That makes it the one layer in minnet whose output for a sample
# depends on the other samples of the batch (in training mode), and it changes how a
# gradient check works. This lesson covers the forward pass (batch statistics,
# running statistics, training and eval mode), the backward pass through the
# statistics, a bug that only a check in training mode can catch, what the coupling
# of the samples means for the checker, and a bias whose gradient is exactly 0.
#
# Run it as `python tutorials/14_batch_norm.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.datasets import load_digits, standardize

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## The forward pass
# For an input x of shape (N, D), a batch of N samples with D features, BatchNorm
# computes for every feature j, over the N samples,
#
#     mean_j = (1/N) sum_n x[n, j]
#     var_j  = (1/N) sum_n (x[n, j] - mean_j)**2          (divided by N, not N - 1)
#     xhat[n, j] = (x[n, j] - mean_j) / sqrt(var_j + eps)
#     out[n, j]  = gamma_j * xhat[n, j] + beta_j
#
# so every feature leaves with mean 0 and standard deviation (almost) 1, and then the
# learned gamma and beta give it back whatever scale and shift training wants. eps
# (1e-5 in minnet) keeps the division safe when a feature does not vary.
# For images (N, C, H, W) the statistics are taken per channel, over N, H and W.
#
# Our inputs: the digits' raw pixels (0 to 16), a batch of 32, through an Affine
# layer 64 -> 16. Its 16 outputs have all kinds of means and spreads; BatchNorm evens
# them out.

# %%
pixels, y = load_digits()
affine = minnet.Affine(64, 16, rng=0)
pre = affine.forward(pixels[:32])
bn = minnet.BatchNorm(16)
out = bn.forward(pre)
print(f"before: feature means from {pre.mean(axis=0).min():.2f} to "
      f"{pre.mean(axis=0).max():.2f}, standard deviations from {pre.std(axis=0).min():.2f} "
      f"to {pre.std(axis=0).max():.2f}")
print(f"after:  largest |mean| {np.abs(out.mean(axis=0)).max():.1e}, standard deviations "
      f"from {out.std(axis=0).min():.6f} to {out.std(axis=0).max():.6f}")
assert np.abs(out.mean(axis=0)).max() < 1e-12
var = pre.var(axis=0)
np.testing.assert_allclose(out.std(axis=0), np.sqrt(var / (var + 1e-5)))

# %% [markdown]
# The standard deviations come out as sqrt(var / (var + eps)), a hair below 1 (the
# last line of the cell above confirms that formula).
#
# ## Running statistics, and eval mode
# After training, a net must classify one image at a time, and the "mean of the batch"
# of a single image is the image itself. So in training mode BatchNorm also keeps
# running averages of the batch statistics,
#
#     running_mean = momentum * running_mean + (1 - momentum) * mean     (momentum = 0.9)
#
# and likewise running_var, starting from 0 and 1. In eval mode (`net.eval()`, or
# `layer.training = False`) it normalizes with those instead of the batch's. They are
# buffers, not parameters: saved with the net, never trained or gradient-checked.
#
# Feed BatchNorm a stream of minibatches and watch running_mean approach the mean of
# the Affine's outputs over all 1797 digits:

# %%
stream = np.random.default_rng(1).permutation(len(pixels))
BATCHES = 40 if FAST else len(pixels) // 32   # (all: one pass over the digits)
target = affine.forward(pixels).mean(axis=0)
bn = minnet.BatchNorm(16)
trace = [bn.running_mean.copy()]
for k in range(BATCHES):
    bn.forward(affine.forward(pixels[stream[32 * k:32 * (k + 1)]]))
    trace.append(bn.running_mean.copy())
trace = np.array(trace)
distance = np.abs(trace - target).max(axis=1)
for k in (1, 10, 20, BATCHES):
    print(f"after {k:3d} batches: largest |running_mean - mean over all digits| = "
          f"{distance[k]:.3f}   (weight left on the initial 0: 0.9**{k} = {0.9**k:.3f})")
assert distance[BATCHES] < 0.2 * distance[0]

fig, ax = plt.subplots(figsize=(6, 3.5))
for j, color in zip((0, 1, 2), ("#264653", "#2a9d8f", "#e76f51")):
    ax.plot(trace[:, j], color=color, label=f"feature {j}")
    ax.axhline(target[j], color=color, ls=":", lw=1)
ax.set(xlabel="training-mode forwards (batches of 32)", ylabel="running_mean",
       title="running means settle at the mean over all digits (dotted)")
ax.legend()
fig.tight_layout()
minnet.plot.save(fig, "14_running_mean.png")

# %% [markdown]
# After k batches the running mean is 0.9**k times its initial 0 plus a weighted
# average of the k batch means, the recent ones weighing most. So the gap to the mean
# over all digits closes about like 0.9**k, and what remains is the noise of the
# latest batches' own means: it wanders around the mean over all digits and never
# settles exactly (`figures/14_running_mean.png`).
#
# What the modes mean for one sample: put image 0 of the digits in two different
# batches.

# %%
with_a = np.concatenate([pixels[:1], pixels[100:131]])   # image 0 and 31 others
with_b = np.concatenate([pixels[:1], pixels[500:531]])   # image 0 and 31 different others
for training in (True, False):
    bn.training = training
    first = bn.forward(affine.forward(with_a))[0]
    second = bn.forward(affine.forward(with_b))[0]
    print(f"training={training!s:5}: image 0's output differs between the two batches by up "
          f"to {np.abs(first - second).max():.3f}")
    assert (np.abs(first - second).max() > 0.01) if training else np.array_equal(first, second)

# %% [markdown]
# In training mode, the same image comes out differently depending on its company; in
# eval mode it comes out the same, bit for bit. (Every training-mode forward also moves
# the running statistics a little. A gradient check runs many of them; minnet's
# checker puts every layer's attributes back when it is done, the running statistics
# included.)
#
# ## The backward pass, through the statistics
# mean_j and var_j are computed from x, so x reaches the loss along three roads: through
# xhat directly, through the mean, and through the variance. With g = dout * gamma
# (the gradient reaching xhat) and the means taken over the batch, the chain rule gives
#
#     dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)
#
# The first term is the direct road. The second is the mean's: moving x[n, j] moves
# mean_j by 1/N, and that shifts every sample's xhat. The third is the variance's.
# dgamma = sum over the batch of dout * xhat and dbeta = sum of dout, as for any scale
# and shift.
#
# In eval mode the statistics are running_mean and running_var, constants that do not
# depend on x, and only the first term is left: dx = g / sqrt(running_var + eps).
#
# A student who treats the statistics as constants in training mode too (it is easy:
# the forward pass computed them "once, beforehand") writes this backward:


# %%
class BatchNormStatsAsConstants(minnet.BatchNorm):
    """BatchNorm whose backward forgets that the mean and the variance depend on x."""

    def backward(self, dout):
        xhat = self._cached("xhat")
        self.grads = {"gamma": (dout * xhat).sum(axis=self.axes),
                      "beta": dout.sum(axis=self.axes)}
        gamma = self.params["gamma"].reshape(self.shape)
        return dout * gamma * self.inv_std      # the direct road only


# %% [markdown]
# Check it with `check_layer`, once in eval mode and once in training mode. (For the
# eval-mode check, running statistics and gamma that are not just 0, 1 and 1.)

# %%
rng = np.random.default_rng(2)
x = 3 + 2 * rng.standard_normal((8, 5))
reports = {}
for training in (False, True):
    layer = BatchNormStatsAsConstants(5)
    layer.params["gamma"][...] = 1 + 0.3 * rng.standard_normal(5)
    layer.params["beta"][...] = 0.3 * rng.standard_normal(5)
    layer.running_mean, layer.running_var = 3 + rng.standard_normal(5), 4 + rng.random(5)
    layer.training = training
    reports[training] = minnet.check_layer(layer, x)
    print(f"--- the buggy BatchNorm, training={training}:")
    print(reports[training])
assert reports[False].passed
assert reports[True].failed == ["x"]

# %% [markdown]
# In eval mode the buggy backward is the right one, so the check passes; in training
# mode it fails, on x alone. gamma and beta pass in both: their gradients never went
# through the statistics.
#
# Inside a net the same holds, one step removed: the layers before BatchNorm get
# their gradients through its dx. A net 64 -> 16 -> BatchNorm -> ReLU -> 10 on the
# standardized digits, with the buggy layer, checked in eval mode and in training mode:


# %%
X = standardize(pixels)
Xb, yb = X[:32], y[:32]


def make_net(norm=minnet.BatchNorm):
    init = np.random.default_rng(0)
    return minnet.Net([minnet.Affine(64, 16, rng=init), norm(16), minnet.ReLU(),
                       minnet.Affine(16, 10, rng=init)], minnet.SoftmaxLoss())


buggy = make_net(BatchNormStatsAsConstants)
for k in range(20):  # training-mode forwards, so that the running statistics mean something
    buggy.loss(X[32 * k:32 * (k + 1)], y[32 * k:32 * (k + 1)])
buggy.eval()
in_eval = minnet.check_net(buggy, Xb, yb)
buggy.train()
in_training = minnet.check_net(buggy, Xb, yb)
print("eval mode:    ", "passed" if in_eval.passed else f"failed {in_eval.failed}")
print("training mode:", "passed" if in_training.passed else f"failed {in_training.failed}")
print(in_training)
assert in_eval.passed
assert in_training.failed == ["W1", "b1"]
assert in_training.suspects[0] == 1   # net.layers[1], the BatchNorm

# %% [markdown]
# The eval-mode check passes a backward that is wrong for every step of training;
# the training-mode check fails it, on the two tensors before the BatchNorm, and its
# suspects point at the BatchNorm layer. So: **check a net with BatchNorm in training
# mode**, the mode in which its backward is used. (A Net is in training mode unless
# you call `net.eval()`; `check_net` checks the net in whatever mode it is in.)
#
# ## The batch couples the samples
# In training mode every output depends on the whole batch. Move sample 1's value of
# feature 0 by a small step and sample 0's output moves too. Differentiating the
# forward pass gives, for two different samples n and m of the batch (same feature),
#
#     d out[n] / d x[m] = gamma / sqrt(var + eps) * (-1/N - xhat[n] * xhat[m] / N)
#
# one over N for the mean, the rest for the variance (gamma is 1 in a new layer).
# Measured:

# %%
layer = minnet.BatchNorm(16)
h = 1e-6
moved = pre.copy()
moved[1, 0] += h
measured = (layer.forward(moved)[0, 0] - layer.forward(pre)[0, 0]) / h
xhat = layer.xhat
formula = layer.inv_std[0, 0] * (-1 / len(pre) - xhat[0, 0] * xhat[1, 0] / len(pre))
print(f"d out[0, 0] / d x[1, 0]: measured {measured:.6f}, formula {formula:.6f}")
assert abs(measured - formula) < 1e-4 * abs(formula)
layer.training = False
assert layer.forward(moved)[0, 0] == layer.forward(pre)[0, 0]   # eval mode: no coupling

# %% [markdown]
# So the loss of one sample depends on the other samples. The figure moves sample 1
# along a random direction (t times it, added to its 64 pixels) and plots the loss of
# sample 0 alone, in training mode and in eval mode. In training mode it changes,
# although sample 0 itself never moved; in eval mode it stays flat.

# %%
net = make_net()
for k in range(20):  # running statistics from some training-mode batches, as above
    net.loss(X[32 * k:32 * (k + 1)], y[32 * k:32 * (k + 1)])
direction = np.random.default_rng(3).standard_normal(64)
ts = np.linspace(-3, 3, 61)
curves = {}
for training in (True, False):
    net.train() if training else net.eval()
    losses = []
    for t in ts:
        Xt = Xb.copy()
        Xt[1] += t * direction
        losses.append(net.loss_fn.sample_losses(net.forward(Xt), yb)[0])
    curves[training] = np.array(losses)
    print(f"training={training!s:5}: loss of sample 0 from {curves[training].min():.4f} to "
          f"{curves[training].max():.4f} while sample 1 moves")
assert np.ptp(curves[True]) > 0.01 and np.ptp(curves[False]) == 0
net.train()

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(ts, curves[True], label="training mode (batch statistics)")
ax.plot(ts, curves[False], label="eval mode (running statistics)")
ax.set(xlabel="t: sample 1 moved by t * direction", ylabel="loss of sample 0",
       title="one sample's loss depends on another sample")
ax.legend()
fig.tight_layout()
minnet.plot.save(fig, "14_batch_coupling.png")

# %% [markdown]
# ## What the coupling does to a stacked gradient check
# `check_net` does not run the whole net twice per coordinate. It evaluates many
# perturbed copies of the batch at once: for thousands of perturbations, it stacks P
# copies of the batch (P·N rows) and runs the layers after the perturbed one on all of
# them in one pass (`stacked=False` turns this off). That is right for layers that
# treat every row on its own. Through a training-mode BatchNorm it is wrong: the
# statistics would be taken over all P·N rows, mixing the copies.
#
# The numerical derivative for W1[20, 3] with the step h = 1e-5, two ways: two separate
# forwards (W1 + h, then W1 - h), and the two copies stacked through the BatchNorm:

# %%
_, grads = net.loss_and_grads(Xb, yb)
W1, k, h = net.params["W1"], (20, 3), 1e-5
original = W1[k]
firsts = []
for step in (+h, -h):
    W1[k] = original + step
    firsts.append(net.layers[0].forward(Xb))
W1[k] = original
separate = []
for first in firsts:  # one copy at a time
    out = first
    for layer in net.layers[1:]:
        out = layer.forward(out)
    separate.append(net.loss_fn.sample_losses(out, yb).mean())
out = np.concatenate(firsts)  # both copies stacked: 64 rows through the BatchNorm
for layer in net.layers[1:]:
    out = layer.forward(out)
stacked = net.loss_fn.sample_losses(out, np.tile(yb, 2)).reshape(2, -1).mean(axis=1)
print(f"backward:                    {grads['W1'][k]:.8f}")
print(f"copy by copy:                {(separate[0] - separate[1]) / (2 * h):.8f}")
print(f"stacked through BatchNorm:   {(stacked[0] - stacked[1]) / (2 * h):.8f}")
assert abs((separate[0] - separate[1]) / (2 * h) - grads["W1"][k]) < 1e-6
assert abs((stacked[0] - stacked[1]) / (2 * h) - grads["W1"][k]) > 0.1 * abs(grads["W1"][k])

# %% [markdown]
# Stacked, each copy is normalized with statistics that half come from the other copy,
# and the estimate is off by the amount printed above: a check built on it would fail
# a correct backward.
#
# minnet's checker knows which layers it may stack. Each layer says whether it is
# `samplewise` (its output for a sample depends on that sample alone); BatchNorm says
# False in training mode and True in eval mode:

# %%
layer = minnet.BatchNorm(16)
print("samplewise in training mode:", layer.samplewise)
layer.training = False
print("samplewise in eval mode:    ", layer.samplewise)
assert layer.samplewise is True
layer.training = True
assert layer.samplewise is False

# %% [markdown]
# The stacked check still reuses everything before the perturbed layer, and stacks the
# layers that allow it; a layer that does not gets one copy at a time, on that copy
# alone. Nothing to do for the user: here the stacked check and the plain loop (two
# full forwards per coordinate, `stacked=False`) give the same verdicts.

# %%
running = net.layers[1].running_mean.copy(), net.layers[1].running_var.copy()
report = minnet.check_net(net, Xb, yb)
plain = minnet.check_net(net, Xb, yb, stacked=False)
assert np.array_equal(net.layers[1].running_mean, running[0])   # the buffers are back
assert np.array_equal(net.layers[1].running_var, running[1])
for row, other in zip(report.rows, plain.rows):
    print(f"{row.name:7s} stacked: {row.result:15s} plain loop: {other.result}")
assert [row.result for row in report.rows] == [row.result for row in plain.rows]

# %% [markdown]
# The correct BatchNorm passes everywhere except one row: b1, "cannot resolve". That
# is the last topic.
#
# ## A bias before BatchNorm has the gradient 0
# The Affine before the BatchNorm computes x W1 + b1, and BatchNorm subtracts the
# batch mean of each feature. Adding b1[j] to feature j of every sample adds b1[j] to
# its mean too, and the difference, all that BatchNorm passes on, does not change.
# The loss does not depend on b1 at all: its gradient is exactly 0. (In eval mode the
# mean is running_mean, a constant, and b1 matters again.)
#
# What the backward pass computes for it, next to the other gradients, and what the
# difference quotients see:

# %%
print(report)
_, grads = net.loss_and_grads(Xb, yb)
quotients = []
b1 = net.params["b1"]
for j in range(len(b1)):
    original = b1[j]
    b1[j] = original + 1e-5
    plus = net.loss(Xb, yb)
    b1[j] = original - 1e-5
    minus = net.loss(Xb, yb)
    b1[j] = original
    quotients.append((plus - minus) / 2e-5)
quotients = np.array(quotients)
print(f"largest |analytic db1|:          {np.abs(grads['b1']).max():.1e}   "
      f"({np.sum(grads['b1'] == 0)} of 16 exactly 0)")
print(f"largest |difference quotient|:   {np.abs(quotients).max():.1e}   "
      f"({np.sum(quotients == 0)} of 16 exactly 0)")
print(f"for comparison, largest |dW1|:   {np.abs(grads['W1']).max():.1e}")
row = report["b1"]
print(f"the check's verdict on b1: {row.result} ({row.reason}); {row.unresolved} of 16 "
      f"coordinates could not be judged")
assert np.abs(grads["b1"]).max() < 1e-14 and np.abs(quotients).max() < 1e-9
assert row.result == "cannot resolve"

# %% [markdown]
# Both are rounding noise. The analytic db1[j] is the sum over the batch of dx[:, j],
# numbers that add up to exactly 0 in exact arithmetic; each quotient is a change of
# the loss in its last bit (or none), divided by the step. Comparing two noises says
# nothing, so the checker neither passes nor fails b1: it reports that these
# gradients are too small to be resolved (the report's note above), and the report
# does not say PASSED. (A coordinate where both came out exactly 0 counts as agreeing:
# 0 = 0 can be judged. Every other one is left unjudged.)
#
# The note suggests the complex step, which resolves gradients far smaller than a
# difference quotient can. It cannot help here: the true gradient is 0, not small, and
# what the backward pass returns is rounding noise whatever the method compares it with.

# %%
complex_report = minnet.check_net(net, Xb, yb, method="complex")
print("complex step:", ", ".join(f"{row.name} {row.result}" for row in complex_report.rows),
      f"(b1: {complex_report['b1'].reason})")
assert complex_report.unresolved == ["b1"] and not complex_report.failed
#
# The same happens to any weight whose input is the same number in every sample of
# the batch: W1[i, j] x[n, i] then adds the same amount to every sample's feature j,
# a bias by another name. Some pixels of the digits have one value across these 32
# images; those that are not 0 (a 0 pixel moves nothing, and its quotient and
# gradient are both exactly 0, which the check does judge) leave 16 weights each
# unresolved:

# %%
constant = np.all(Xb == Xb[0], axis=0)
nonzero_constant = int(np.sum(constant & (Xb[0] != 0)))
print(f"pixels with one value in all 32 images: {constant.sum()}, of which not 0: "
      f"{nonzero_constant}; W1 coordinates not judged: {report['W1'].unresolved} "
      f"(16 x {nonzero_constant} = {16 * nonzero_constant})")
assert report["W1"].unresolved == 16 * nonzero_constant
judged = {tuple(index) for index in report["W1"].indices}
unjudged = {(i, j) for i in range(64) for j in range(16)} - judged
assert unjudged == {(i, j) for i in np.flatnonzero(constant & (Xb[0] != 0)) for j in range(16)}

# %% [markdown]
# A correct backward through the BatchNorm computes db1 = 0, up to rounding. The buggy
# one from before does not: with the roads through the statistics missing, nothing
# cancels, and db1 comes out far from 0. That is what its training-mode check reported
# as a failure of b1:

# %%
row = in_training["b1"]
print(f"buggy BatchNorm, training mode: b1 {row.result}; worst coordinate: analytic "
      f"{row.worst[0][1]:.4g}, numerical {row.worst[0][2]:.4g}")
assert row.result == "FAIL"

# %% [markdown]
# The same holds for a Conv2D bias before a BatchNorm: BatchNorm takes one mean per
# channel, over the batch and every pixel, and b[f] adds the same amount to all of
# them. A small CNN on the digits as 1x8x8 images:

# %%
images = X.reshape(-1, 1, 8, 8)[:16]
init = np.random.default_rng(0)
cnn = minnet.Net([minnet.Conv2D(1, 4, 3, pad=1, rng=init), minnet.BatchNorm(4), minnet.ReLU(),
                  minnet.MaxPool2D(2), minnet.Affine(64, 10, rng=init)], minnet.SoftmaxLoss())
conv_report = minnet.check_net(cnn, images, yb[:16])
print(conv_report)
_, conv_grads = cnn.loss_and_grads(images, yb[:16])
print(f"largest |analytic db1| of the Conv2D: {np.abs(conv_grads['b1']).max():.1e}")
assert conv_report.unresolved == ["b1"] and not conv_report.failed
assert np.abs(conv_grads["b1"]).max() < 1e-14

# %% [markdown]
# The practical lesson: a bias right before a BatchNorm does nothing, and beta does
# its job (a learned shift per feature or channel). Frameworks let you leave it out
# (PyTorch's `bias=False`); in minnet, keep it and expect "cannot resolve" on it.
#
# ## What to take away
# - In training mode BatchNorm normalizes with the batch's statistics and updates its
#   running ones; in eval mode it uses the running ones, and samples stop interacting.
# - Its backward must go through the mean and the variance. A backward that treats
#   them as constants is right in eval mode only, so a check in eval mode passes it:
#   check in training mode.
# - In training mode every output depends on the whole batch. A checker that stacks
#   perturbed copies of a batch must give BatchNorm one copy at a time; minnet's does.
# - A bias before a BatchNorm has the gradient 0; the checker says it "cannot resolve"
#   it, and a nonzero db there is itself a sign of a forgotten road.
