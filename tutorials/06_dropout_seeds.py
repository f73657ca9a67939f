# %% [markdown]
# # 06 · Dropout and fixed seeds
#
# A gradient check compares backprop with
#
#     (J(θ + h) - J(θ - h)) / 2h
#
# and that quotient only means something if J is one fixed function of θ: the two
# evaluations must differ only because θ moved. Dropout breaks this. In training
# mode every forward pass draws a fresh random mask, so J(θ + h) and J(θ - h) are
# losses of two *different* networks. Their difference is dominated by the change
# of mask, not by the step h, and dividing it by 2h (about 2e-5) blows it up.
#
# This lesson measures that, shows how minnet's checker fixes every Dropout mask for
# the length of a check (and puts the net's own random state back afterwards), why
# switching dropout off for the check is not enough, and what minnet does with a
# forward pass that is random in a way it cannot fix.
#
# Run it as `python tutorials/06_dropout_seeds.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.checker import NondeterministicForwardError, difference, relative_error
from minnet.datasets import make_moons

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## A net with dropout
# Two moons, a batch of 16 points, and a net 2 -> 32 -> 2 with a Dropout layer
# (keep_prob = 0.5) after the ReLU. `Net.mlp` gives each Dropout its own random
# generator and no fixed seed (`seed=None`), which is what training wants: a new mask
# at every step.

# %%
X, y = make_moons(n=200, noise=0.1, seed=0)
batch = np.random.default_rng(0).permutation(len(X))[:16]
Xb, yb = X[batch], y[batch]

net = minnet.Net.mlp([2, 32, 2], keep_prob=0.5, seed=0)
dropout = net.layers[2]
print(net)
print("Dropout seed:", dropout.seed)
assert isinstance(dropout, minnet.Dropout) and dropout.seed is None

# %% [markdown]
# Two forward passes at the very same parameters already disagree:

# %%
first, second = net.loss(Xb, yb), net.loss(Xb, yb)
print(f"J twice at the same θ: {first:.6f} and {second:.6f}")
assert first != second

# %% [markdown]
# ## A plain numerical gradient with fresh masks
# We write the centered difference ourselves, a loop over the coordinates of W1 that
# calls `net.loss` at θ + h and θ - h, exactly what a first gradient check looks like.
# Each call draws its own mask. Then we compare with backprop's gradient (which used
# yet another mask, the one drawn during `loss_and_grads`).

# %%
def plain_numerical_gradient(net, X, y, name, h=1e-5):
    """Centered differences of net.loss over net.params[name], nothing fixed."""
    theta = net.params[name]
    grad = np.zeros_like(theta)
    for index in np.ndindex(theta.shape):
        old = theta[index]
        theta[index] = old + h
        plus = net.loss(X, y)
        theta[index] = old - h
        minus = net.loss(X, y)
        theta[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


_, grads = net.loss_and_grads(Xb, yb)
fresh = plain_numerical_gradient(net, Xb, yb, "W1")
fresh_errors = relative_error(grads["W1"], fresh)
print(f"largest |backprop dW1|:          {np.abs(grads['W1']).max():.3g}")
print(f"largest |numerical dW1| (fresh): {np.abs(fresh).max():.3g}")
print(f"relative errors: median {np.median(fresh_errors):.3g}, max {fresh_errors.max():.3g}")
print(f"difference (norm form): {difference(grads['W1'], fresh):.3g}")
assert np.median(fresh_errors) > 0.5                 # garbage, coordinate after coordinate
assert np.abs(fresh).max() > 100 * np.abs(grads["W1"]).max()

# %% [markdown]
# The numerical "gradient" is orders of magnitude larger than the real one. A change
# of mask changes J by about as much as the two values of J printed earlier differ,
# and that, divided by 2h = 2e-5, is huge next to any real derivative. No tolerance can
# save this check; the backward pass is not the problem.
#
# ## The same loop with a fixed mask
# A Dropout with an integer `seed` draws its mask from a fresh generator made from
# that seed at every forward, so every forward uses the same mask. Set it, and the
# very same loop works:

# %%
dropout.seed = 123
_, grads_fixed = net.loss_and_grads(Xb, yb)
fixed = plain_numerical_gradient(net, Xb, yb, "W1")
fixed_errors = relative_error(grads_fixed["W1"], fixed)
print(f"fixed mask: relative errors: max {fixed_errors.max():.3g}, "
      f"difference {difference(grads_fixed['W1'], fixed):.3g}")
dropout.seed = None                                  # back to a new mask every step
assert fixed_errors.max() < 1e-5

fig, ax = plt.subplots(figsize=(5.5, 4.5))
ax.loglog(np.abs(grads["W1"]).ravel(), np.abs(fresh).ravel(), "o", color="#e76f51",
          label="fresh mask at every forward")
ax.loglog(np.abs(grads_fixed["W1"]).ravel(), np.abs(fixed).ravel(), "o", color="#2a9d8f",
          label="one fixed mask")
span = np.array([1e-4, 1e5])
ax.loglog(span, span, color="black", lw=1, ls="--", label="numerical = backprop")
ax.set(xlabel="|backprop dW1| per coordinate", ylabel="|numerical dW1| per coordinate",
       title="a fresh dropout mask at every forward\nmakes the numerical gradient meaningless")
ax.legend(fontsize=8)
fig.tight_layout()
minnet.plot.save(fig, "06_dropout_seeds.png")

# %% [markdown]
# In the figure every coordinate of dW1 is a point: with a fixed mask the points sit
# on the diagonal, with fresh masks they scatter far above it.
#
# ## What `check_net` does for you
# You do not have to remember to seed: during a check `minnet.check_net` gives every
# Dropout without a seed a fixed one (derived from the check's `seed` argument), so the
# analytic pass and every J(θ ± h) use one mask. When the check ends, everything is
# put back: the Dropout's `seed` attribute and the state of its own generator, so the
# training that follows draws exactly the masks it would have drawn without a check.

# %%
rng_state_before = dropout.rng.bit_generator.state
seed_before = dropout.seed
report = minnet.check_net(net, Xb, yb)
print(report)
print("Dropout seed after the check:", dropout.seed)
print("Dropout generator state unchanged:", dropout.rng.bit_generator.state == rng_state_before)
assert report.passed
assert dropout.seed is seed_before is None
assert dropout.rng.bit_generator.state == rng_state_before

# %% [markdown]
# Fixed masks do not mean Dropout goes unchecked: its backward must multiply by the
# very mask (scaled by 1/keep_prob) that forward used, and a check with a fixed mask
# tests exactly that. Forget the scale, and the check fails on everything below the
# Dropout layer:

# %%
with minnet.bugs.inject(net, "dropout-no-scale"):
    buggy = minnet.check_net(net, Xb, yb)
print(buggy.format())
assert not buggy.passed and set(buggy.failed) == {"W1", "b1"}

# %% [markdown]
# ## The other option: keep_prob = 1
# The classic exercise offers a second way out: switch dropout off for the check
# (keep_prob = 1), and on again afterwards. J is then deterministic too, and the rest
# of the net is checked. But with keep_prob = 1 the mask is all ones and its scale is
# 1, so Dropout is the identity and its backward has nothing to get wrong: a mistake
# with the mask or the scale changes nothing. Dropout's own backward goes unchecked.
# minnet's catalogue of mistakes (`minnet.bugs`) has three Dropout bugs; here is each
# one checked both ways:

# %%
dropout_bugs = [bug.name for bug in minnet.bugs.catalogue() if bug.target == "Dropout"]
verdicts = {}
for keep_prob in (1.0, 0.5):
    dropout.keep_prob = keep_prob
    for name in dropout_bugs:
        with minnet.bugs.inject(net, name):
            verdicts[name, keep_prob] = minnet.check_net(net, Xb, yb)
dropout.keep_prob = 0.5                                # back to the net we train
print(f"{'bug':20} {'keep_prob = 1':>16} {'fixed mask, keep_prob = 0.5':>30}")
for name in dropout_bugs:
    off, fixed = verdicts[name, 1.0], verdicts[name, 0.5]
    print(f"{name:20} {'PASSED' if off.passed else 'FAILED':>16} "
          f"{'PASSED' if fixed.passed else 'FAILED ' + ', '.join(fixed.failed):>30}")
assert dropout_bugs == ["dropout-no-mask", "dropout-no-scale", "dropout-fresh-mask"]
assert all(verdicts[name, 1.0].passed for name in dropout_bugs)      # all three unseen
assert all(verdicts[name, 0.5].failed == ["W1", "b1"] for name in dropout_bugs)

# %% [markdown]
# With keep_prob = 1 every one of the three buggy nets passes; with a fixed mask at
# keep_prob = 0.5 every one fails, on W1 and b1, the tensors below the Dropout. Check
# with dropout on and the mask fixed (what `check_net` does); a check with
# keep_prob = 1 tests everything except the dropout.

# %% [markdown]
# ## Randomness minnet cannot fix
# minnet only knows how to fix the masks of its own Dropout layers. Any other
# randomness inside the forward pass, say a layer that adds Gaussian noise with its
# own generator (a "noise injection" layer), still makes J a random function. Before
# comparing anything, the checker evaluates J twice at the same θ; if the two values
# differ, it refuses with `NondeterministicForwardError` and explains why, instead of
# printing a report full of nonsense.

# %%
class GaussianNoise(minnet.Layer):
    """out = x + scale * N(0, 1) noise, drawn anew at every forward; dx = dout."""

    def __init__(self, scale=0.1, rng=None):
        super().__init__()
        self.scale = scale
        self.rng = np.random.default_rng(rng)

    def forward(self, x):
        return x + self.scale * self.rng.standard_normal(x.shape)

    def backward(self, dout):
        return dout


noisy = minnet.Net([minnet.Affine(2, 32, rng=0), minnet.ReLU(), GaussianNoise(rng=1),
                    minnet.Affine(32, 2, rng=2)], minnet.SoftmaxLoss())
try:
    minnet.check_net(noisy, Xb, yb)
    refused = None
except NondeterministicForwardError as err:
    refused = err
    print("NondeterministicForwardError:", err)
assert refused is not None

# %% [markdown]
# The fix is the one the message gives: seed that randomness for the check, or draw
# the noise once outside the forward pass. Here, a layer that makes a fresh generator
# from a fixed seed at every forward (as Dropout does with `seed`) is deterministic
# and passes:

# %%
class SeededGaussianNoise(GaussianNoise):
    def __init__(self, scale=0.1, seed=0):
        super().__init__(scale)
        self.seed = seed

    def forward(self, x):
        return x + self.scale * np.random.default_rng(self.seed).standard_normal(x.shape)


noisy.layers[2] = SeededGaussianNoise(seed=1)
seeded_report = minnet.check_net(noisy, Xb, yb)
print(seeded_report)
assert seeded_report.passed

# %% [markdown]
# ## What to remember
# - A numerical gradient needs J to be one deterministic function of θ. A fresh
#   dropout mask per forward makes (J(θ + h) - J(θ - h)) / 2h measure the change of
#   mask divided by 2h: garbage, however right the backward pass is.
# - Fix the masks (a Dropout `seed`) for a check; `check_net` does it for every
#   Dropout and restores the seed and the generator state afterwards.
# - Switching dropout off (keep_prob = 1) also makes J deterministic, but leaves
#   Dropout's own backward unchecked: all three catalogued Dropout bugs pass that way.
# - Any other randomness in the forward pass is refused with
#   `NondeterministicForwardError`: seed it, or take it out of the forward pass.
