# %% [markdown]
# # 05 · Kinks: where the derivative jumps
#
# ReLU, max(0, x), has a corner at x = 0: its slope is 0 on the left and 1 on the
# right, and at 0 itself there is no derivative at all (backward simply uses 0 there).
# A gradient check estimates each derivative with the centered difference
#
#     (J(θ + h) - J(θ - h)) / 2h
#
# which assumes J is smooth between θ - h and θ + h. When a ReLU input sits closer
# to 0 than the step moves it, the two evaluations land on different sides of the
# corner, and the quotient mixes the two slopes: it is neither the left nor the right
# derivative. This lesson shows that on the bare function, then inside a net, and shows
# what minnet's checker does about it.
#
# Run it as `python tutorials/05_kinks.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.checker import numerical_gradient, relative_error

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## The bare kink
# Take f(x) = max(0, x) at x = 1e-7 with the step h = 1e-5. The point is on the right
# of the kink, where the true slope is 1. But x - h = -9.9e-6 is on the left, where
# f is 0, so
#
#     (f(x + h) - f(x - h)) / 2h = (x + h - 0) / 2h = 1/2 + x / 2h
#
# which for x much smaller than h is about 0.5: half of one slope, half of the other.

# %%
def relu(x):
    return np.maximum(0.0, x)


x0, h = 1e-7, 1e-5
centered = (relu(x0 + h) - relu(x0 - h)) / (2 * h)
forward = (relu(x0 + h) - relu(x0)) / h
backward = (relu(x0) - relu(x0 - h)) / h
print(f"x = {x0:g}, h = {h:g}")
print(f"  centered difference: {centered:.6f}   (the true slope here is 1)")
print(f"  forward difference:  {forward:.6f}")
print(f"  backward difference: {backward:.6f}")
assert abs(centered - 0.505) < 1e-9          # 1/2 + x/2h: neither 0 nor 1
assert abs(forward - 1) < 1e-9               # stays on the right: correct
assert abs(backward - 1) > 0.4               # crosses the kink: wrong

# %% [markdown]
# The forward difference only looks at x and x + h, both on the right of the kink, so
# it measures the right slope. The backward difference crosses the kink and is off
# too. A rule follows: near a kink, a one-sided difference that stays on the side of
# the current point measures the derivative that backward computes.
#
# How wide is the trouble zone? The centered quotient is wrong exactly when |x| < h:
# it ramps linearly from 0 (at x = -h) to 1 (at x = +h). The figure shows the secant
# of the step that crosses the kink, and the quotient as a function of x for this h.

# %%
xs = np.linspace(-3 * h, 3 * h, 601)
quotient = (relu(xs + h) - relu(xs - h)) / (2 * h)
inside = np.abs(xs) < h
print(f"centered quotient for |x| >= h: min {quotient[~inside].min():.3f}, "
      f"max {quotient[~inside].max():.3f} (exact: 0 on the left, 1 on the right)")
print(f"points with |x| < h get values strictly between: "
      f"{np.all((quotient[inside] > 0) & (quotient[inside] < 1))}")

# Both panels measure x in units of the step (x / h), so the picture holds for any h.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6))
zoom = np.linspace(-2 * h, 2 * h, 201)
left.plot(zoom / h, relu(zoom) / h, color="black", lw=2, label="max(0, x)")
ends = np.array([x0 - h, x0 + h])
left.plot(ends / h, relu(ends) / h, "o--", color="#e76f51",
          label=f"secant from x-h to x+h: slope {centered:.3f}")
left.plot([x0 / h], [relu(x0) / h], "s", color="#1f77b4", label=f"x = {x0:g} = {x0 / h:g} h")
left.plot(zoom / h, (relu(x0) + (zoom - x0)) / h, ":", color="#2a9d8f",
          label="true tangent at x: slope 1")
left.set(xlabel="x / h", ylabel="f(x) / h", title=f"one step h = {h:g} across the kink",
         ylim=(-1, 2))
left.legend(fontsize=8, loc="upper left")
right.plot(xs / h, quotient, color="#e76f51", label="centered quotient")
right.plot(xs / h, (xs > 0).astype(float), color="black", lw=1, ls="--",
           label="derivative backward uses")
right.axvspan(-1, 1, color="#f4a261", alpha=0.2, label="|x| < h: meaningless")
right.set(xlabel="x / h", ylabel="estimated derivative", title="the centered quotient near 0")
right.legend(fontsize=8, loc="upper left")
fig.suptitle("a centered step across a kink averages the two slopes: wrong for every |x| < h",
             fontsize="x-large")
fig.tight_layout()
minnet.plot.save(fig, "05_kinks.png")

# %% [markdown]
# ## Kinks inside a net
# In a real net the ReLU inputs are pre-activations z = x @ W1 + b1, and the
# parameters move them. Perturbing b1[j] by h moves z[i, j] by h for every sample i;
# perturbing W1[k, j] by h moves it by h * x[i, k]. So a pre-activation within a step of
# 0 turns every coordinate feeding it into a kink problem.
#
# With random data this is rare for any one unit (the checker's default step is about
# 6e-6, printed in the report below), but a check covers every unit for every sample,
# and some inputs sit exactly on the kink: a sample at the origin, with the biases at
# their initial 0, gives z = 0 at every unit of the first layer. Here we place
# pre-activations near 0 on purpose, in a tiny net with 3 inputs, 4 hidden ReLU units
# and 3 classes:
#
# - unit 0: sample 0 gets z = +1e-7 (just right of the kink);
# - unit 1: sample 0 gets z = +1e-7 and sample 1 gets z = -1e-7 (one on each side).
#
# To get the second one we nudge sample 1 along a direction that leaves unit 0's
# pre-activation untouched.

# %%
rng = np.random.default_rng(0)
X = rng.standard_normal((6, 3))
y = rng.integers(0, 3, size=6)
net = minnet.Net([minnet.Affine(3, 4, rng=1), minnet.ReLU(), minnet.Affine(4, 3, rng=2)],
                 minnet.SoftmaxLoss())
W1, b1 = net.params["W1"], net.params["b1"]
w0, w1 = W1[:, 0], W1[:, 1]
along = w1 - (w1 @ w0) / (w0 @ w0) * w0           # changes unit 1, not unit 0
X[1] += (X[0] @ w1 - 2e-7 - X[1] @ w1) / (along @ w1) * along
b1[0] = 1e-7 - X[0] @ w0
b1[1] = 1e-7 - X[0] @ w1

z = X @ W1 + b1
np.set_printoptions(precision=3, suppress=False, linewidth=100)
print("pre-activations z (samples x units):")
print(z)
assert np.allclose([z[0, 0], z[0, 1], z[1, 1]], [1e-7, 1e-7, -1e-7], rtol=1e-6, atol=0)

# %% [markdown]
# ## What a naive check sees
# A plain centered difference with h = 1e-5 over b1 (minnet's `numerical_gradient`
# computes exactly that, one coordinate at a time) against backprop's b1 gradient:

# %%
loss, grads = net.loss_and_grads(X, y)
naive = numerical_gradient(lambda _: net.loss(X, y), b1, h=1e-5)
errors = relative_error(grads["b1"], naive)
for j in range(4):
    print(f"b1[{j}]: backprop {grads['b1'][j]: .6f}, centered difference {naive[j]: .6f}, "
          f"relative error {errors[j]:.1e}")
assert errors[0] > 1e-2 and errors[1] > 1e-2   # the kinks make b1[0] and b1[1] look "wrong"
assert errors[2] < 1e-7 and errors[3] < 1e-7   # units away from the kink are fine

# %% [markdown]
# The backward pass is correct (it is minnet's own ReLU), yet the naive check calls
# b1[0] and b1[1] wrong. Their relative errors are artefacts of the kink: for b1[0]
# the quotient mixed the slopes on both sides of sample 0's kink, for b1[1] those of
# samples 0 and 1.
#
# ## How minnet detects a kink
# A layer with kinks reports which side of every kink its last forward's input fell
# on, through `kink_state()`; for ReLU that is the mask z > 0. The checker records the
# state at the unperturbed parameters, and after each evaluation at θ ± h compares it
# with that record: any change means the step crossed a kink. We can watch it happen
# on b1[0]:

# %%
step = 6e-6                                  # about minnet's default step for b1
relu_layer = net.layers[1]
states = {}
for sign in (0, +1, -1):
    old = b1[0]
    b1[0] = old + sign * step
    net.loss(X, y)
    states[sign] = relu_layer.kink_state().copy()
    b1[0] = old
for sign, label in ((+1, "b1[0] + h"), (-1, "b1[0] - h")):
    changed = np.argwhere(states[sign] != states[0])
    print(f"{label}: mask entries that flipped (sample, unit): {changed.tolist()}")
assert not np.array_equal(states[-1], states[0])   # the step to the left crosses the kink
assert np.array_equal(states[+1], states[0])       # the step to the right does not

# %% [markdown]
# When a step crosses, minnet does not trust the centered difference. The analytic
# gradient belongs to the side of every kink the unperturbed point is on, so minnet
# tries the one-sided differences, (J(θ) - J(θ - h)) / h and (J(θ + h) - J(θ)) / h, and
# uses one whose step does not cross anything (error O(h) instead of O(h²), so slightly
# larger relative errors are expected there). If both directions cross (b1[1]: a step
# up flips sample 1, a step down flips sample 0) no difference quotient can measure the
# derivative, and the coordinate is left out and counted.
#
# In the report: the `kinks` column counts the left-out coordinates, and each
# `CheckRow` also has `one_sided`, the coordinates judged with a one-sided difference.

# %%
report = minnet.check_net(net, X, y)
print(report)
print("x[0] =", X[0], " x[1] =", X[1])
for row in report.rows:
    print(f"{row.name}: checked {row.checked}, one-sided {row.one_sided}, "
          f"left out (kinks) {row.kinks}")
assert report.passed
assert report["b1"].kinks == 1 and report["b1"].one_sided == 1
assert (0,) in report["b1"].indices          # b1[0]: judged from one side
assert (1,) not in report["b1"].indices      # b1[1]: both sides cross, left out
assert report["W1"].one_sided == 3 and report["W1"].kinks == 3
assert all((k, 0) in report["W1"].indices for k in range(3))   # column 0: judged, one-sided
assert not any((k, 1) in report["W1"].indices for k in range(3))  # column 1: left out
assert np.all(np.sign(X[0]) == np.sign(X[1]))
assert report["W2"].kinks == 0 and report["W2"].one_sided == 0

# %% [markdown]
# The correct net passes. W2 and b2 have no kinks: perturbing them changes the scores
# after the ReLU, never the ReLU's input. Column 0 of W1 feeds unit 0, with only
# sample 0 next to its kink: those coordinates are judged from one side. Column 1
# feeds unit 1; a step of W1[k, 1] moves sample 0's and sample 1's pre-activations
# by h * x[0, k] and h * x[1, k]. When those have the same sign (as printed above, they
# do here for every k) a step up pushes sample 1 across and a step down pushes sample
# 0 across: both sides cross, and the coordinate is left out.
#
# ## A kink is no hiding place for a bug
# Leaving out a few coordinates is safe only because a real bug shows up in many. With
# ReLU's mask inverted (gradient flowing where z <= 0), the same net fails:

# %%
with minnet.bugs.inject(net, "relu-mask-inverted"):
    buggy = minnet.check_net(net, X, y)
print(buggy.format())
assert not buggy.passed and "W1" in buggy.failed

# %% [markdown]
# ## What to remember
# - At a kink the centered difference averages the two slopes; it is meaningless
#   whenever |z| < h for some ReLU input z that the coordinate moves.
# - One-sided differences that stay on the current side still measure backward's
#   derivative; when both sides cross, nothing can, and the coordinate must be skipped.
# - minnet finds crossings from each layer's `kink_state()` and says so in the report
#   (`kinks` left out, `one_sided` compared from one side), so a correct ReLU net
#   passes, and a wrong one still fails.
