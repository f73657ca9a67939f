# %% [markdown]
# # 09 · Precision: float32 and float64
#
# A gradient check divides a small difference of two losses by a small step:
#
#     numerical = (J(θ + h) - J(θ - h)) / 2h
#
# Both losses are rounded to the precision of the numbers the net computes with, so
# the subtraction loses digits, and dividing by 2h magnifies what is lost. This lesson
# measures how much, in float32 and in float64:
#
# 1. machine epsilon, and the error budget of a difference quotient (the same budget
#    lessons 01 and 03 use);
# 2. a numerical gradient by hand, in a float32 net and in a float64 net, and its error
#    against the step h: in float32 it falls, grows, and then sits at 1 once rounding
#    swamps the step;
# 3. what a float32 check can still see (a factor-2 bug) and what it cannot (a 0.1% bug);
# 4. why minnet always checks in float64, even a float32 net.
#
# Gradients that are tiny next to their loss, and what to do about them (a larger
# step, loss scaling, the complex step), are lesson 10.
#
# Run it as `python tutorials/09_precision.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.checker import RELATIVE_STEPS, relative_error
from minnet.datasets import load_iris, standardize

# %% [markdown]
# ## Machine epsilon
# A floating-point number keeps a fixed number of significant bits: 24 in float32, 53
# in float64. The gap between 1 and the next number up is machine epsilon, eps, and a
# correctly rounded result is off by at most eps / 2 of its size (IEEE 754).

# %%
EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)
print(f"float32: eps = {EPS32:.2e}, about {-np.log10(EPS32):.1f} significant digits")
print(f"float64: eps = {EPS64:.2e}, about {-np.log10(EPS64):.1f} significant digits")
print("1 + 1e-8 in float32 equals 1:", np.float32(1) + np.float32(1e-8) == np.float32(1))
print(f"eps32 / eps64 = {EPS32 / EPS64:.1e}")
assert EPS32 == 2.0 ** -23 and EPS64 == 2.0 ** -52
assert np.float32(1) + np.float32(1e-8) == np.float32(1)

# %% [markdown]
# ## The error budget of a difference quotient
# Every evaluation of the loss carries a rounding error σ. One correctly rounded value
# has σ ≈ eps·|J|/2; a loss computed through many operations carries at best about
# σ ≈ eps·|J|. The difference J(θ + h) - J(θ - h) is then off by up to 2σ, and the
# centered quotient, which divides it by 2h, by about σ / h. Taylor's series adds the
# truncation error (h²/6)·|J'''|. Relative to the gradient entry g being estimated:
#
#     relative error  ≈  eps·|J| / (h·|g|)  +  C·h²,      C = |J'''| / (6·|g|)
#                        rounding: falls as h grows      truncation: grows as h²
#
# Two things follow. The rounding term carries the ratio |J| / |g|: the same eps costs
# more where the gradient is small next to the loss (lesson 10 is about that). And
# the two terms balance at
#
#     h* = (eps·|J| / (2·C·|g|))^(1/3),
#
# a step of order eps^(1/3): minnet's default step for centered differences.

# %%
print(f"eps^(1/3): float32 {EPS32 ** (1 / 3):.1e}, float64 {EPS64 ** (1 / 3):.1e} "
      f"(minnet's centered step: {RELATIVE_STEPS['central']:.1e})")
assert RELATIVE_STEPS["central"] == EPS64 ** (1 / 3)
assert 4.85e-3 < EPS32 ** (1 / 3) < 4.95e-3                 # "eps32^(1/3) = 4.9e-3"

# %% [markdown]
# ## The net
# 4 inputs (the iris measurements, standardized), 10 tanh units, 3 classes. tanh is
# smooth, so no kink (as at ReLU's 0) gets in the way of this lesson. We build it twice
# from the same seed, once in float64 and once in float32.

# %%
X_all, y_all = load_iris()
X_all = standardize(X_all)
batch = np.random.default_rng(0).choice(len(X_all), size=16, replace=False)
X, y = X_all[batch], y_all[batch]

net64 = minnet.Net.mlp([4, 10, 3], activation="tanh", seed=1)
net32 = minnet.Net.mlp([4, 10, 3], activation="tanh", seed=1, dtype=np.float32)
print("parameter dtypes:", net64.params["W1"].dtype, net32.params["W1"].dtype)

loss64, grads64 = net64.loss_and_grads(X, y)   # the reference: analytic, in float64
loss32, grads32 = net32.loss_and_grads(X, y)
g = np.abs(grads64["W1"])
print(f"loss in float64: {loss64:.10f}")
print(f"loss in float32: {loss32:.10f}")
print(f"|dJ/dW1|: median {np.median(g):.3f}, largest {g.max():.3f}; "
      f"so |J| / |g| is about {loss64 / np.median(g):.0f} for the median entry")
assert 0.1 < np.median(g) < 0.2 and abs(loss64 - 1.36) < 0.01

# %% [markdown]
# The *analytic* gradient is fine in float32: backprop multiplies and adds, it never
# divides a tiny difference by a tiny step, so it is off by only a few float32 roundings.

# %%
analytic32_error = relative_error(grads64["W1"], grads32["W1"].astype(np.float64)).max()
print(f"analytic dW1 in float32 vs float64: max relative error {analytic32_error:.1e}")
assert analytic32_error < 1e-5

# %% [markdown]
# ## A numerical gradient by hand, in float32 and in float64
# Now the numerical gradient of W1, coordinate by coordinate, exactly the textbook
# loop: nudge one weight up by h, evaluate the loss, nudge it down, evaluate again,
# put the weight back. In the float32 net the weights, the nudges and every operation
# of the forward pass are float32. We run it for steps from 1e-1 down to 1e-10 and
# compare with the float64 analytic gradient.


# %%
def numerical_dW1(net, h):
    """Centered differences of net.loss with respect to every entry of W1, step h.

    returns (grad, unmoved): grad (4, 10) in float64; unmoved (4, 10), True where
    W + h rounded back to W in the net's precision (the step was lost)
    """
    W = net.params["W1"]               # the layer's own array: changed in place
    step = W.dtype.type(h)             # the step in the net's own precision
    grad = np.zeros(W.shape)
    unmoved = np.zeros(W.shape, dtype=bool)
    for index in np.ndindex(W.shape):
        old = W[index]
        W[index] = old + step
        unmoved[index] = W[index] == old
        J_plus = net.loss(X, y)
        W[index] = old - step
        J_minus = net.loss(X, y)
        W[index] = old                 # always put the weight back
        grad[index] = (J_plus - J_minus) / (2 * h)
    return grad, unmoved


steps = np.logspace(-1, -10, 19)       # half a decade apart
errors32, errors64, unmoved32, zeros32, noise32 = [], [], [], [], []
for h in steps:
    n32, unmoved = numerical_dW1(net32, h)
    n64, _ = numerical_dW1(net64, h)
    errors32.append(relative_error(grads64["W1"], n32))
    errors64.append(relative_error(grads64["W1"], n64))
    unmoved32.append(unmoved)
    zeros32.append(n32 == 0)           # J(W + h) and J(W - h) rounded to the same float32
    noise32.append(np.abs(n32) > 10 * g)   # the quotient is rounding noise, far above g
median32 = np.array([np.median(e) for e in errors32])
median64 = np.array([np.median(e) for e in errors64])


def budget(eps, h, C):
    """The error budget eps·|J| / (h·|g|) + C·h², per entry of W1, at step h."""
    return eps * loss64 / (h * g) + C * h ** 2


def at(h):
    """The position of step h in `steps`."""
    return int(np.argmin(np.abs(np.log(steps / h))))


# C = |J'''| / (6|g|) per entry, read off the float64 errors at h = 1e-2, where the
# truncation term is all there is (the float64 rounding term is below 1e-12 there)
C = errors64[at(1e-2)] / 1e-2 ** 2
print(f"C = |J'''| / (6|g|) over W1's entries: median {np.median(C):.2f}\n")
print("          median relative error        budget's rounding   float32, of W1's 40 entries:")
print("   h      float32  float64             eps32|J|/(h|g|)     W+h == W  quotient 0  "
      "|quotient| > 10|g|")
for k in range(0, len(steps), 2):      # a row per decade
    h = steps[k]
    print(f"{h:7.0e}  {median32[k]:8.1e} {median64[k]:8.1e}"
          f"                {np.median(EPS32 * loss64 / (h * g)):8.1e}"
          f"          {unmoved32[k].sum():2d}        {zeros32[k].sum():2d}          "
          f"{noise32[k].sum():2d}")

# %% [markdown]
# Read the float32 column from the top. The median error first *falls* as the step
# shrinks (truncation, C·h²), bottoms out near h = 1e-2, then *grows* as 1/h (rounding:
# the budget column; the measured median sits a few times below it, as the budget
# counts σ at its larger end). From about h = 3e-8 down it stays at 1 (0.88 at 1e-7),
# for two reasons the last columns count:
#
# - once the rounding error σ / h is larger than the gradient itself (the budget's
#   rounding term passes 1 at h ≈ 1e-6 here) the quotient is noise: either far
#   larger than g, or exactly 0 where J(W + h) and J(W - h) rounded to the same float32
#   number. The relative error |a - n| / max(|a|, |n|) is then |n - g| / |n| ≈ 1 or
#   |g - 0| / |g| = 1: it cannot follow the budget above 1;
# - below about 1e-8 the step itself is lost: W + h rounds back to W as soon as h is
#   below half the spacing of float32 numbers at W (about eps32·|W| / 2: 6e-8 for a
#   weight near 1, 1e-8 for this net's median weight of 0.19). Then J(W + h) and
#   J(W - h) are the very same computation, the quotient is exactly 0 and the error
#   exactly 1. At h = 1e-10 no weight of W1 moves at all.
#
# In float64 the same story plays out eps32 / eps64 = 5e8 times further down, so within
# these steps its error only falls and then starts to grow again.

# %%
assert at(1e-2) <= np.argmin(median32) <= at(3e-3)         # float32's best: 1e-2 ... 3e-3
assert median32[0] > 10 * median32.min()                   # falls ...
assert median32[at(1e-5)] > 100 * median32.min()           # ... grows ...
print(f"float32 median error at h = 1e-7: {median32[at(1e-7)]:.2f}; at every h <= "
      f"{steps[at(3.2e-8)]:.1e}: {median32[steps <= 3.2e-8].min():.3f} ... "
      f"{median32[steps <= 3.2e-8].max():.3f}")
assert abs(median32[at(1e-7)] - 0.88) < 0.005                # "0.88 at 1e-7"
assert np.all(np.abs(median32[steps <= 3.2e-8] - 1) < 1e-3)  # ... and stays at 1
assert np.all(median32[steps <= 1e-8] == 1)                # exactly, once most quotients are 0
assert 0.2 < median32[at(1e-6)] < median32[at(1e-7)] < 1   # noise takes over from 1e-6
for k in range(at(3.2e-8), len(steps)):
    assert (zeros32[k] | noise32[k]).sum() >= 20           # most quotients: 0 or noise
W32 = net32.params["W1"]
for k in np.flatnonzero(steps <= 1e-7):
    # W + h == W exactly where h is below half the float32 spacing at W (IEEE 754)
    lost = np.float32(steps[k]) < np.abs(np.spacing(W32)) / 2
    assert np.array_equal(unmoved32[k], lost)
    assert np.array_equal(W32 + np.float32(steps[k]) == W32, lost)
    assert np.all(zeros32[k][lost])                        # a lost step: a quotient of 0
assert unmoved32[at(1e-7)].sum() == 0 and unmoved32[at(1e-8)].sum() >= 10
assert unmoved32[at(1e-10)].all()                          # at h = 1e-10 nothing moves
rounding = (steps >= 1e-6) & (steps <= 1e-3)               # where rounding dominates
measured_over_budget = median32[rounding] / np.array(
    [np.median(EPS32 * loss64 / (h * g)) for h in steps[rounding]])
print(f"\nfloat32, h from 1e-6 to 1e-3: measured median / budget between "
      f"{measured_over_budget.min():.2f} and {measured_over_budget.max():.2f}")
assert np.all((measured_over_budget > 0.1) & (measured_over_budget < 1))

# %% [markdown]
# ## The whole curve, with the budget
# The same medians as a picture, over all 19 steps, with the budget drawn dashed
# (median over W1's entries of eps·|J| / (h·|g|) + C·h², capped at 1, the most a
# quotient of 0 or of pure noise shows). The dotted lines mark h* from the budget for
# each precision.

# %%
h_star = {name: float(np.median((eps * loss64 / (2 * C * g)) ** (1 / 3)))
          for name, eps in (("float32", EPS32), ("float64", EPS64))}
fine = np.logspace(-1, -10, 91)
fig, ax = plt.subplots(figsize=(7.5, 5))
colors = {"float32": "#e76f51", "float64": "#1f77b4"}
for name, eps, measured in (("float32", EPS32, median32), ("float64", EPS64, median64)):
    predicted = [min(1.0, float(np.median(budget(eps, h, C)))) for h in fine]
    ax.loglog(fine, predicted, "--", color=colors[name], lw=1,
              label=f"{name}: budget eps·|J|/(h·|g|) + C·h²")
    ax.loglog(steps, measured, "o-", color=colors[name], label=f"{name}: measured median")
    ax.axvline(h_star[name], color=colors[name], ls=":", lw=1,
               label=f"{name}: h* = {h_star[name]:.0e}")
ax.axvspan(steps[-1], 3.2e-8, color="#f4a261", alpha=0.15,
           label="float32: quotient 0 or pure noise, error 1")
ax.set(xlabel="step h", ylabel="median relative error of dJ/dW1 (40 entries)",
       title="float32: the error falls, grows as 1/h, then sits at 1 as the step is lost\n"
             "float64: the same V, a million times lower; the budget (dashed) predicts both",
       ylim=(1e-12, 3))
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
minnet.plot.save(fig, "09_precision_sweep.png")

for name, measured in (("float32", median32), ("float64", median64)):
    best = steps[int(np.argmin(measured))]
    print(f"{name}: measured best step {best:.0e}, budget h* = {h_star[name]:.1e}, "
          f"best median error {measured.min():.1e}")
    assert h_star[name] / 3 <= best <= 3 * h_star[name]
assert np.isclose(steps[int(np.argmin(median32))], 1e-2)     # float32: "1e-2 measured"
assert 1.35e-2 < h_star["float32"] < 1.45e-2                 # "h* = 1.4e-2"
assert median32.min() > 1e5 * median64.min()
assert 300 < h_star["float32"] / h_star["float64"] < 3000

# %% [markdown]
# The budget places both bottoms of the V within a factor of 3 of where they are
# measured (printed above). The float32 V bottoms out about a million times higher and
# a thousand times further to the right, because its rounding side starts eps32 / eps64
# = 5e8 times higher (and h* grows as eps^(1/3): (5e8)^(1/3) ≈ 800).
#
# ## What a float32 check can still see
# At h = eps32^(1/3) = 4.9e-3, near float32's best step (1e-2 measured, h* = 1.4e-2),
# the errors of a correct gradient reach about 1e-3 (median 6e-5). That is far from
# float64's 1e-10, but it is not nothing.
# Compare three analytic gradients with the same float32 numerical one: the correct
# dW1, a dW1 doubled (a term counted twice), and a dW1 0.1% too large.

# %%
h32 = EPS32 ** (1 / 3)
n32, _ = numerical_dW1(net32, h32)
n64, _ = numerical_dW1(net64, EPS64 ** (1 / 3))
print(f"   analytic dW1     float32 at h = {h32:.1e}: min    median   max   | "
      f"float64 at h = {EPS64 ** (1 / 3):.1e}: min    median   max")
seen = {}
for label, factor in (("correct", 1.0), ("doubled", 2.0), ("0.1% too large", 1.001)):
    e32 = relative_error(factor * grads64["W1"], n32)
    e64 = relative_error(factor * grads64["W1"], n64)
    seen[label] = (e32, e64)
    print(f"   {label:15s}                {e32.min():7.1e} {np.median(e32):7.1e} {e32.max():7.1e}"
          f"                         {e64.min():7.1e} {np.median(e64):7.1e} {e64.max():7.1e}")
worst_correct32 = seen["correct"][0].max()
hidden = float(np.mean(seen["0.1% too large"][0] <= worst_correct32))
print(f"float32: entries of the 0.1% bug no worse than the worst correct entry: "
      f"{hidden:.0%}")

# %% [markdown]
# A threshold that passes every entry of the correct gradient in float32 must sit at
# its worst entry, about 1e-3. Every entry of the doubled gradient is 0.5 away, far
# above it: float32 catches a factor-2 bug. But the 0.1% bug's entries sit around 1e-3
# as well, most of them below that threshold: float32 cannot tell a 0.1% bug from its
# own rounding. In float64 the correct errors are near 1e-10 and the 0.1% bug stands
# out in every entry.

# %%
assert 1e-4 < worst_correct32 < 3e-3 and 5e-5 < np.median(seen["correct"][0]) < 7e-5
assert seen["doubled"][0].min() > 100 * worst_correct32      # factor 2: caught
assert hidden > 0.5                                          # 0.1%: mostly hidden
assert seen["correct"][1].max() < 1e-8                       # float64: ...
assert seen["0.1% too large"][1].min() > 100 * seen["correct"][1].max()  # ... sees it

# %% [markdown]
# ## Checks always run in float64
# Training in float32 is common (it halves memory and is faster on most hardware), so
# minnet lets you build one: `Net(..., dtype=np.float32)` or
# `Net.mlp(..., dtype=np.float32)`. `check_net` on such a net makes float64 copies of
# the parameters, computes both the analytic and the numerical gradient with them,
# says so in a note, and then puts the float32 arrays back untouched. Let us verify
# that bit for bit.

# %%
before = {name: value.copy() for name, value in net32.params.items()}
report32 = minnet.check_net(net32, X, y)
print(report32)

assert report32.passed
assert report32["W1"].max_rel_error < 1e-7
assert any("float64 copies" in note for note in report32.notes)
for name, value in net32.params.items():
    assert value.dtype == np.float32, name
    assert value.tobytes() == before[name].tobytes(), name   # bit for bit unchanged
assert net32.dtype == np.float32
print("after the check: every parameter is still float32 and bit-for-bit unchanged")

# %% [markdown]
# Note what was checked: the float32 net's own weights (float32 values are exactly
# representable in float64), so this is a check of the backward code, not of the
# float32 arithmetic. Rounding in float32 training is a separate, much smaller matter.
#
# ## What to remember
# - The error budget of a centered difference: relative error ≈ eps·|J| / (h·|g|) +
#   C·h², C = |J'''| / (6|g|). Rounding falls as 1/h, truncation grows as h², and the
#   best step h* = (eps·|J| / (2C|g|))^(1/3) is of order eps^(1/3). The ratio |J| / |g|
#   matters: lesson 10 is about gradients that are small next to their loss.
# - In float32 (eps = 1.2e-7) the best a check gets is errors up to about 1e-3, at
#   h ≈ eps32^(1/3) = 5e-3: enough to catch a factor-2 bug, not a 0.1% one.
# - Below about h = 1e-7 a float32 quotient is rounding noise or exactly 0, and its
#   relative error 1: the change of J is below J's rounding, and for h below half the
#   float32 spacing at W (eps32·|W| / 2), W + h rounds back to W itself.
# - Run checks in float64, as minnet always does, even for a float32 net: there the
#   same net's errors drop to about 1e-10 and a 0.1% bug stands out.
