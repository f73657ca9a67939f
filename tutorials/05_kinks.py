# %% [markdown]
# # 05 · Kinks: where the derivative jumps
#
# ReLU, max(0, x), has a corner at x = 0: its slope is 0 on the left and 1 on the
# right, and at 0 itself there is no derivative at all (backward simply uses 0 there).
# A gradient check estimates each derivative with the centered difference
#
#     (J(θ + h) - J(θ - h)) / 2h
#
# which assumes J is smooth between θ - h and θ + h. When a ReLU input z sits closer
# to 0 than the step moves it (a step h in θ moves z by about h·∂z/∂θ), the two
# evaluations land on different sides of the corner, and the quotient mixes the two
# slopes: it is neither the left nor the right derivative. This lesson shows that on
# the bare function, then inside a net, shows what minnet's checker does about it, and
# two other ways around kinks.
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
# How wide is the trouble zone? Here the step moves the ReLU input itself, so the
# centered quotient is wrong exactly when |x| < h: it ramps linearly from 0 (at x = -h)
# to 1 (at x = +h).

# %%
xs = np.linspace(-3 * h, 3 * h, 601)
quotient = (relu(xs + h) - relu(xs - h)) / (2 * h)
inside = np.abs(xs) < h
print(f"centered quotient for |x| >= h: min {quotient[~inside].min():.3f}, "
      f"max {quotient[~inside].max():.3f} (exact: 0 on the left, 1 on the right)")
print(f"points with |x| < h get values strictly between: "
      f"{np.all((quotient[inside] > 0) & (quotient[inside] < 1))}")
assert np.allclose(quotient[~inside], xs[~inside] > 0, rtol=0, atol=1e-9)
assert np.all((quotient[inside] > 0) & (quotient[inside] < 1))

# %% [markdown]
# In a net the step is taken in a parameter θ, not in the ReLU input z. A step h in θ
# moves z by about h·∂z/∂θ, so the condition for crossing the kink is
#
#     |z| < h·|∂z/∂θ|,      not |z| < h.
#
# Two cases with z = a·θ (a is ∂z/∂θ, say an input feature multiplying a weight),
# at the same h = 1e-5:
#
# - a = 0.1, z = 5e-6: |z| < h, yet the step moves z by only 1e-6: no crossing, and
#   the quotient is exactly a;
# - a = 3, z = 2e-5: |z| > h, yet the step moves z by 3e-5: it crosses, and the
#   quotient is (z + a·h) / 2h = 2.5 instead of 3.

# %%
def centered_of_relu(a, z, h):
    """The centered quotient of max(0, a·θ) in θ, at the θ where a·θ = z."""
    theta = z / a
    return (relu(a * (theta + h)) - relu(a * (theta - h))) / (2 * h)


cases = {}
for a, z in ((0.1, 5e-6), (3.0, 2e-5)):
    cases[a] = centered_of_relu(a, z, h)
    print(f"a = {a:g}, z = {z:g}: |z| {'<' if abs(z) < h else '>'} h, "
          f"h·|a| = {h * a:.0e}; centered quotient {cases[a]:.6f}, true slope {a:g}")
assert abs(cases[0.1] - 0.1) < 1e-9                 # |z| < h, but no crossing: exact
assert abs(cases[3.0] - 2.5) < 1e-9                 # |z| > h, but it crosses: wrong

# %% [markdown]
# The figure shows the secant of the step that crosses the kink, and the quotient (in
# units of the true slope a) against z for three slopes: the ramp is as wide as h·|a|.

# %%
# Both panels measure x (and z) in units of the step, so the picture holds for any h.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
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
zs = np.linspace(-4 * h, 4 * h, 801)
for a, color in ((0.3, "#2a9d8f"), (1.0, "#e76f51"), (3.0, "#6a4c93")):
    right.plot(zs / h, centered_of_relu(a, zs, h) / a, color=color,
               label=f"∂z/∂θ = {a:g}: wrong for |z| < {a:g} h")
right.plot(zs / h, (zs > 0).astype(float), color="black", lw=1, ls="--",
           label="derivative backward uses")
right.set(xlabel="z / h (the ReLU input)", ylabel="centered quotient / true slope",
          title="the trouble zone is |z| < h·|∂z/∂θ|")
right.legend(fontsize=8, loc="lower right")
fig.suptitle("a centered step across a kink averages the two slopes: "
             "wrong wherever |z| < h·|∂z/∂θ|", fontsize="x-large")
fig.tight_layout()
minnet.plot.save(fig, "05_kinks.png")

# %% [markdown]
# ## Kinks inside a net
# In a real net the ReLU inputs are pre-activations z = x @ W1 + b1, and the
# parameters move them. Perturbing b1[j] by h moves z[i, j] by h for every sample i;
# perturbing W1[k, j] by h moves it by h * x[i, k]. So the step of a coordinate θ
# crosses the kink of z[i, j] when |z[i, j]| < h·|∂z[i, j]/∂θ|: when |z[i, j]| < h for
# b1[j], when |z[i, j]| < h·|x[i, k]| for W1[k, j].
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
# The rule |z| < h·|∂z/∂θ| predicts every crossing. For each coordinate of W1 and b1
# we take both steps, look for flipped mask entries, and compare with the rule (with
# ∂z[i, j]/∂W1[k, j] = x[i, k] and ∂z[i, j]/∂b1[j] = 1):

# %%
def step_crosses(theta, index):
    """Whether a step of +-step in theta[index] flips any entry of the ReLU's mask."""
    old, flipped = theta[index], False
    for sign in (+1, -1):
        theta[index] = old + sign * step
        net.loss(X, y)
        flipped |= not np.array_equal(relu_layer.kink_state(), states[0])
    theta[index] = old
    return flipped


observed = [step_crosses(W1, (k, j)) for k in range(3) for j in range(4)]
observed += [step_crosses(b1, (j,)) for j in range(4)]
predicted = [bool(np.any(np.abs(z[:, j]) < step * np.abs(X[:, k])))
             for k in range(3) for j in range(4)]
predicted += [bool(np.any(np.abs(z[:, j]) < step)) for j in range(4)]
print(f"coordinates of W1 and b1 whose steps cross a kink: {sum(observed)} of "
      f"{len(observed)}; the rule predicts each one: {observed == predicted}")
assert observed == predicted and sum(observed) == 8   # columns 0 and 1 of W1, b1[0], b1[1]

# %% [markdown]
# When a step crosses, minnet does not trust the centered difference. The analytic
# gradient belongs to the side of every kink the unperturbed point is on, so minnet
# looks from one side, (J(θ) - J(θ - h)) / h or (J(θ + h) - J(θ)) / h, whichever step
# does not cross anything. If both directions cross (b1[1]: a step up flips sample 1,
# a step down flips sample 0) no difference quotient can measure the derivative, and
# the coordinate is left out and counted.
#
# A plain one-sided difference is far less accurate than a centered one. Taylor's
# series gives its truncation error, (h/2)·|J''|, of order h, against the centered
# (h²/6)·|J'''|, of order h². At h = 1e-5 that is not "slightly larger". We measure it
# on coordinates without kinks (W2 and b2: they never move a ReLU input), where the
# true derivative is backprop's:

# %%
def one_sided_and_centered(name, h):
    """Relative errors against backprop of the forward, the centered and the
    extrapolated forward difference 2·D(h/2) - D(h), over every coordinate of name."""
    theta, J = net.params[name], lambda _: net.loss(X, y)
    forward_h = numerical_gradient(J, theta, h=h, method="forward")
    forward_half = numerical_gradient(J, theta, h=h / 2, method="forward")
    centered_h = numerical_gradient(J, theta, h=h, method="central")
    return [relative_error(grads[name], estimate).ravel()
            for estimate in (forward_h, centered_h, 2 * forward_half - forward_h)]


smooth = [np.concatenate(errors) for errors in
          zip(*(one_sided_and_centered(name, 1e-5) for name in ("W2", "b2")))]
one_sided_median, centered_median, extrapolated_median = (np.median(e) for e in smooth)
print("h = 1e-5, median relative error over the 15 coordinates of W2 and b2:")
print(f"  forward (one-sided) {one_sided_median:.1e}, centered {centered_median:.1e}: "
      f"{one_sided_median / centered_median:,.0f} times larger")
print(f"  forward extrapolated, 2·D(h/2) - D(h): {extrapolated_median:.1e}")
g_median = np.median(np.abs(np.concatenate([grads["W2"].ravel(), grads["b2"]])))
floor = np.finfo(np.float64).eps * loss / (1e-5 * g_median)
print(f"  the centered quotient's rounding floor eps·|J| / (h·|g|): {floor:.1e} "
      f"(J = {loss:.3f}, median |g| = {g_median:.3f})")
assert abs(one_sided_median - 2.6e-6) < 0.1e-6        # (h/2)|J''| / |g| at h = 1e-5
assert one_sided_median > 1e4 * centered_median       # O(h) against O(h²) and rounding
assert extrapolated_median < 1e-3 * one_sided_median  # the O(h) term is gone: 3.9e-10
assert 0.1 < centered_median / floor < 10             # the centered one: rounding only

# %% [markdown]
# The one-sided error, 2.6e-6 here, is its truncation (h/2)·|J''|/|g|; the centered
# one, 30,000 times smaller, is rounding: it stays within the scale eps·|J| / (h·|g|)
# = 3.5e-10 that the error budget of lessons 01 and 03 gives it. So minnet never
# judges by a plain one-sided quotient: it takes two, at h and h/2, and combines them as
# 2·D(h/2) - D(h). Their (h/2)·J'' terms cancel (Richardson extrapolation), and what is
# left, 3.9e-10 here, is rounding and a term of order h². The check allows for what is
# left, and no more.
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
# ## Two other ways around kinks
# **The complex step.** Lesson 01's complex step takes its step along the imaginary
# axis: Im J(θ + ih) / h = J'(θ) + O(h²), with no subtraction, so h can be 1e-20. The
# step never moves the real part of anything: every ReLU input keeps its real part
# z, max(0, z) takes the branch of the unperturbed point (minnet's ReLU keeps x where
# its real part is > 0), and that is the branch backward differentiates. There is no
# crossing, however close z is to 0. The same net, with `method="complex"`:

# %%
complex_report = minnet.check_net(net, X, y, method="complex")
print(complex_report)
for row in complex_report.rows:
    assert row.checked == np.prod(row.shape) and row.kinks == row.one_sided == 0
assert complex_report.passed and max(r.max_rel_error for r in complex_report.rows) < 1e-13
with minnet.bugs.inject(net, "relu-mask-inverted"):
    assert minnet.check_net(net, X, y, method="complex").failed == ["W1", "b1"]

# %% [markdown]
# Every coordinate is judged, none from one side, none left out, and the relative
# errors are at float64's own rounding (the inverted mask still fails it). The price:
# every layer and the loss must compute with complex numbers without dropping the
# imaginary part (minnet's do; `abs`, `np.real` or comparisons of complex values
# would break it).
#
# **Fewer data points.** Along one coordinate, J has a kink wherever one of the
# samples' ReLU inputs crosses 0: the more samples, the more kinks, and the more
# likely a step lands across one. We count the coordinates where a step crossed a kink
# (`kinks` plus `one_sided` in the report) over 16 random batches of N samples, in a
# net with 64 hidden ReLU units, at h = 1e-5 and at a much larger step, 1e-3:

# %%
data_rng = np.random.default_rng(3)
X_all, y_all = data_rng.standard_normal((16 * 64, 3)), data_rng.integers(0, 3, 16 * 64)
wide = minnet.Net([minnet.Affine(3, 64, rng=1), minnet.ReLU(), minnet.Affine(64, 3, rng=2)],
                  minnet.SoftmaxLoss())
crossed = {}
for step_size in (1e-5, 1e-3):
    for N in (4, 16, 64):
        reports = [minnet.check_net(wide, X_all[64 * b:64 * b + N], y_all[64 * b:64 * b + N],
                                    h=step_size, sample=None) for b in range(16)]
        assert all(r.passed for r in reports)
        crossed[step_size, N] = sum(row.kinks + row.one_sided for r in reports for row in r.rows)
    print(f"h = {step_size:g}: coordinates whose step crossed a kink, over 16 batches of "
          f"N = 4, 16, 64: {[crossed[step_size, N] for N in (4, 16, 64)]}")
assert [crossed[1e-5, N] for N in (4, 16, 64)] == [0, 0, 0]      # rare at a small step
assert [crossed[1e-3, N] for N in (4, 16, 64)] == [9, 35, 154]   # about in proportion to N

# %% [markdown]
# At h = 1e-5 no step crossed a kink in any of these batches: with data that does not
# sit on a kink on purpose, they are rare. At h = 1e-3 the count grows about in
# proportion to N (9, 35, 154): a check on a handful of samples meets fewer kinks.

# %% [markdown]
# ## What to remember
# - At a kink the centered difference averages the two slopes; it is meaningless
#   whenever |z| < h·|∂z/∂θ| for some ReLU input z that the coordinate θ moves (a step
#   h in θ moves z by about h·∂z/∂θ).
# - One-sided differences that stay on the current side still measure backward's
#   derivative; when both sides cross, nothing can, and the coordinate must be skipped.
# - A plain one-sided difference is O(h): at h = 1e-5 its error was 30,000 times the
#   centered one's. minnet extrapolates two of them, 2·D(h/2) - D(h), to cancel that.
# - The complex step never moves a real part, so it never crosses a kink; fewer data
#   points mean fewer kinks to cross.
# - minnet finds crossings from each layer's `kink_state()` and says so in the report
#   (`kinks` left out, `one_sided` compared from one side), so a correct ReLU net
#   passes, and a wrong one still fails.
