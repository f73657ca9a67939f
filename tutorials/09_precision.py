# %% [markdown]
# # 09 · Precision: float32, float64 and tiny gradients
#
# A gradient check divides a small difference of two losses by a small step:
#
#     numerical = (J(θ + h) - J(θ - h)) / 2h
#
# Both losses are rounded to the precision of the numbers the net computes with, so
# the subtraction loses digits. This lesson measures how many, and shows:
#
# 1. why a check in float32 cannot work, and why minnet always checks in float64
#    (even a float32 net is checked on float64 copies of its parameters);
# 2. why tiny gradients (around 1e-10) make the relative error misleading, and what
#    `loss_scale=` does about it;
# 3. the complex step, a numerical derivative without any subtraction at all.
#
# Run it as `python tutorials/09_precision.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot
from minnet.checker import band, relative_error
from minnet.datasets import load_iris, standardize

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## Machine epsilon
# A floating-point number keeps a fixed number of significant bits: 24 in float32, 53
# in float64. The gap between 1 and the next number up is machine epsilon, and any
# result is rounded with a relative error of up to about eps / 2.

# %%
EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)
print(f"float32: eps = {EPS32:.2e}, about {-np.log10(EPS32):.1f} significant digits")
print(f"float64: eps = {EPS64:.2e}, about {-np.log10(EPS64):.1f} significant digits")
print("1 + 1e-8 in float32 equals 1:", np.float32(1) + np.float32(1e-8) == np.float32(1))

# %% [markdown]
# ## Where the rounding error of a difference quotient comes from
# If the loss J is only known to within about eps * |J|, then J(θ + h) - J(θ - h)
# carries an error of that size too, and dividing by 2h blows it up:
#
#     rounding error of the quotient  ~  eps * |J| / h
#
# The truncation error of the centered difference shrinks like h², so the two
# errors pull in opposite directions. With eps = 1.2e-7 (float32) and a loss near 1,
# a step of h = 1e-4 already gives a rounding error around 1e-3 in every numerical
# derivative, and derivatives of a small net are often around 1e-2 or 1e-1. The
# numbers below work it out for a real net.
#
# The net: 4 inputs (the iris measurements, standardized), 10 tanh units, 3 classes.
# tanh is smooth, so no kink (as at ReLU's 0) gets in the way of this lesson. We build
# it twice from the same seed, once in float64 and once in float32.

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
print(f"loss in float64: {loss64:.10f}")
print(f"loss in float32: {loss32:.10f}")
print("largest |dJ/dW1|:", f"{np.abs(grads64['W1']).max():.3f}")

# %% [markdown]
# Notice first that the *analytic* gradient is fine in float32: backprop multiplies
# and adds, it never divides a tiny difference by a tiny step, so it is off by only a
# few float32 roundings.

# %%
analytic32_error = relative_error(grads64["W1"], grads32["W1"].astype(np.float64)).max()
print(f"analytic dW1 in float32 vs float64: max relative error {analytic32_error:.1e}")
assert analytic32_error < 1e-4

# %% [markdown]
# ## A numerical gradient by hand, in float32 and in float64
# Now the numerical gradient of W1, coordinate by coordinate, exactly the textbook
# loop: nudge one weight up by h, evaluate the loss, nudge it down, evaluate again,
# put the weight back. In the float32 net the weights, the nudges and every operation
# of the forward pass are float32.


# %%
def numerical_dW1(net, h):
    """Centered differences of net.loss with respect to every entry of W1, step h."""
    W = net.params["W1"]               # the layer's own array: changed in place
    step = W.dtype.type(h)             # the step in the net's own precision
    grad = np.zeros(W.shape)
    for index in np.ndindex(W.shape):
        old = W[index]
        W[index] = old + step
        J_plus = net.loss(X, y)
        W[index] = old - step
        J_minus = net.loss(X, y)
        W[index] = old                 # always put the weight back
        grad[index] = (J_plus - J_minus) / (2 * h)
    return grad


print(" h       float32: median   max rel error   float64: median   max rel error   "
      "eps32*|J|/h")
hand = {}
for h in (1e-2, 1e-3, 1e-4, 1e-5):
    err32 = relative_error(grads64["W1"], numerical_dW1(net32, h))
    err64 = relative_error(grads64["W1"], numerical_dW1(net64, h))
    hand[h] = (err32, err64)
    print(f"{h:.0e}          {np.median(err32):.1e}         {err32.max():.1e}"
          f"            {np.median(err64):.1e}         {err64.max():.1e}"
          f"        {EPS32 * loss32 / h:.1e}")

# %% [markdown]
# Read the table row by row. In float64 the error falls with h (truncation, h²) all
# the way down to the smallest step tried. In float32 it falls only until rounding
# takes over, and then it grows again: at h = 1e-4 and 1e-5 the worst coordinates are
# off by tens of percent, and no step gets the worst coordinate anywhere near the
# 1e-7 that the classic bands call "excellent". The last column is the rough
# rounding estimate eps32 * |J| / h: divide it by a gradient of size 0.01 to 0.1 to
# see why the relative errors land where they do.
#
# So a correct float32 gradient gives float32 relative errors in the range a bug
# would give. A gradient check in float32 cannot tell right from wrong.

# %%
best32 = min(hand[h][0].max() for h in hand)
best64 = min(hand[h][1].max() for h in hand)
print(f"best worst-coordinate error over these steps: float32 {best32:.1e}, "
      f"float64 {best64:.1e}")
assert best32 > 1e-4                      # float32: never better than "suspicious"
assert best64 < 1e-7                      # float64: "excellent" at a good step
assert np.median(hand[1e-4][0]) > 1e-3    # the median coordinate, float32, h = 1e-4
assert hand[1e-4][0].max() > 0.1          # tens of percent at h = 1e-4
assert hand[1e-5][0].max() > 0.1          # and at h = 1e-5
worst64 = [hand[h][1].max() for h in hand]
assert all(a > b for a, b in zip(worst64, worst64[1:]))   # float64: falls all the way

# %% [markdown]
# ## The whole curve: error against h
# The same comparison over many steps, as a picture. For each h we take the median
# relative error over the 40 entries of W1. The third curve is the complex step,
# explained at the end of the lesson.


# %%
def complex_step_dW1(net, h):
    """Im J(W1 + i h e_k) / h for every entry k of W1: no subtraction anywhere."""
    layer = net.layers[0]
    W = layer.params["W"]
    Wc = W.astype(np.complex128)
    layer.params["W"] = Wc              # the net now computes with complex numbers
    grad = np.zeros(W.shape)
    try:
        for index in np.ndindex(W.shape):
            old = Wc[index]
            Wc[index] = old + 1j * h
            grad[index] = np.imag(net.loss(X, y)) / h
            Wc[index] = old
    finally:
        layer.params["W"] = W           # the real weights back, exactly as they were
    return grad


steps = np.logspace(-12, -1, 12 if FAST else 23)
curves = {"float32, centered": [], "float64, centered": [], "complex step": []}
for h in steps:
    curves["float32, centered"].append(
        np.median(relative_error(grads64["W1"], numerical_dW1(net32, h))))
    curves["float64, centered"].append(
        np.median(relative_error(grads64["W1"], numerical_dW1(net64, h))))
    curves["complex step"].append(
        np.median(relative_error(grads64["W1"], complex_step_dW1(net64, h))))
sweeps = {label: (steps, np.array(errors)) for label, errors in curves.items()}
for label, (_, errors) in sweeps.items():
    k = int(np.argmin(errors))
    print(f"{label:18s}: best median error {errors[k]:.1e} at h = {steps[k]:.0e}")

fig, ax = plt.subplots(figsize=(7, 5))
ax.axhline(1e-7, color="#999999", ls=":", lw=1, label="1e-7: edge of the excellent band")
minnet.plot.step_sweep(sweeps, ax=ax, function="the loss J by W1 (median over W1's entries)",
                       title="no step makes a float32 check precise; "
                             "float64 and the complex step do")
ax.set_ylabel("median relative error of dJ/dW1")
minnet.plot.save(ax, "09_precision_sweep.png")

best = {label: errors.min() for label, (_, errors) in sweeps.items()}
assert best["float32, centered"] > 100 * best["float64, centered"]
small_steps = steps <= 1e-8
assert sweeps["complex step"][1][small_steps].max() < 1e-13   # flat and tiny for small h
print(f"eps32 / eps64 = {EPS32 / EPS64:.1e}")

# %% [markdown]
# The picture (`figures/09_precision_sweep.png`) shows the V-shaped error curve twice:
# the float32 V bottoms out far higher and further to the right than the float64 V,
# because its rounding side (eps / h) starts eps32 / eps64 times higher (printed
# above). The complex step
# is flat for every small h: it never subtracts two nearly equal numbers, so it has no
# rounding side at all; it only rises at large h, where its own h² truncation error
# shows (on the right it runs along the float64 centered curve: both are O(h²)).
#
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
# ## Tiny gradients and the floor of the relative error
# minnet's relative error is, coordinate by coordinate,
#
#     |a - n| / max(|a|, |n|, 1e-8)
#
# where a is analytic and n numerical. The floor of 1e-8 keeps two values that are
# both essentially zero (say 3e-17 and -2e-17) from counting as 100% apart. But when
# real gradients are themselves below the floor, it squeezes every error: look at a
# gradient that is wrong by a factor of 2.

# %%
for size in (1e-2, 1e-10, 1e-12):
    error = float(relative_error(2 * size, size))
    print(f"analytic {2 * size:.0e}, numerical {size:.0e} (a factor of 2 off): "
          f"relative error {error:.1e} -> '{band(error)}'")
assert band(float(relative_error(2e-2, 1e-2))) == "wrong"
assert band(float(relative_error(2e-12, 1e-12))) == "acceptable"

# %% [markdown]
# A factor-of-2 mistake reads as "acceptable" once the gradients are near 1e-12. Where do
# gradients that small come from? A concrete case: a regression net whose outputs and
# targets are tiny, for example quantities measured in the wrong unit so that every
# value is around 1e-5. Here the output layer's weights are multiplied by 1e-5 and the
# targets are of that size too; with MSE the loss is around 1e-10 and the gradients of
# the first layer around 1e-11.

# %%
rng = np.random.default_rng(3)
X_reg = rng.standard_normal((16, 3))
UNIT = 1e-5
tiny = minnet.Net.mlp([3, 8, 2], activation="tanh", loss="mse", seed=2)
tiny.params["W2"][:] *= UNIT            # the output layer, scaled down in place
y_reg = UNIT * rng.standard_normal((16, 2))
tiny_loss, tiny_grads = tiny.loss_and_grads(X_reg, y_reg)
print(f"loss {tiny_loss:.1e}")
for name, g in tiny_grads.items():
    print(f"  largest |d{name}| = {np.abs(g).max():.1e}")
largest_W1 = float(np.abs(tiny_grads["W1"]).max())
assert largest_W1 < 1e-8

# %% [markdown]
# Hide the classic bug in the first layer, a doubled dW (`affine-dW-doubled`), and
# check. The loss here is tiny, so its rounding noise is tiny too (about eps * 1e-10)
# and the numerical gradient is accurate. It is only the relative error that hides
# the size of the mistake.

# %%
with minnet.bugs.inject(tiny, "affine-dW-doubled", layer=0):
    plain = minnet.check_net(tiny, X_reg, y_reg)
print(plain)
print(f"\nW1: analytic is twice the numerical, yet the max relative error is "
      f"{plain['W1'].max_rel_error:.1e}, in the '{band(plain['W1'].max_rel_error)}' band")
print(f"the norm-form difference over all tensors is {plain.difference:.1e}")
assert band(plain["W1"].max_rel_error) != "wrong"   # the relative error understates it
assert plain.difference < 1e-4                       # and the classic number misses it

# %% [markdown]
# By the bands alone this is at most "suspicious", and the norm-form difference over
# all tensors (printed above), dominated by the larger gradients of W2 and b2, gives
# no hint that one whole tensor is off by a factor of 2. minnet still fails W1,
# because its pass rule compares |a - n| with the numerical error (which is tiny
# here) rather than with the floor; and its note says what to do: rerun with
# `loss_scale=`. That option multiplies the loss, and so every gradient, by a
# constant before comparing. Derivatives are linear, so nothing else changes, but the
# gradients climb above the floor and the relative error means what it says again.

# %%
assert "W1" in plain.failed
scale = float(10.0 ** np.ceil(-np.log10(largest_W1) - 2))   # brings W1's gradients near 1e-2
print(f"loss_scale = {scale:.0e}")
with minnet.bugs.inject(tiny, "affine-dW-doubled", layer=0):
    scaled = minnet.check_net(tiny, X_reg, y_reg, loss_scale=scale)
print(scaled)
assert scaled.failed == ["W1"]
assert scaled["W1"].band == "wrong" and scaled["W1"].max_rel_error > 0.4

fixed = minnet.check_net(tiny, X_reg, y_reg, loss_scale=scale)
print(f"\nwithout the bug, with loss_scale: passed = {fixed.passed}, "
      f"max relative error of W1 = {fixed['W1'].max_rel_error:.1e}")
assert fixed.passed and fixed["W1"].max_rel_error < 1e-6

# %% [markdown]
# ## When the rounding noise is as large as the gradient
# `loss_scale` fixes the floor, not the noise. In the case above the loss was tiny
# along with its gradients. The harder case is a gradient near 1e-10 on top of a loss
# near 1: the rounding error of the quotient, eps * |J| / h, is then about as large
# as the gradient itself, and multiplying the loss by a constant multiplies the noise
# by the same constant.
#
# A classifier whose output weights start a billion times too small shows it: the
# loss is log 3 (uniform guesses) and the first layer's gradients, which flow back
# through those weights, are near 1e-10.

# %%
X_cls = rng.standard_normal((16, 3))
y_cls = rng.integers(0, 3, 16)
quiet = minnet.Net.mlp([3, 8, 3], activation="tanh", seed=2)
quiet.params["W2"][:] *= 1e-9
quiet_loss, quiet_grads = quiet.loss_and_grads(X_cls, y_cls)
step = minnet.checker.default_step("central", 0.0)
noise = EPS64 * quiet_loss / step
quiet_W1 = float(np.abs(quiet_grads["W1"]).max())
print(f"loss {quiet_loss:.4f}, largest |dW1| = {quiet_W1:.1e}, "
      f"rounding estimate eps*|J|/h = {noise:.1e}")
assert noise > 0.1 * quiet_W1

correct = minnet.check_net(quiet, X_cls, y_cls)
correct_scaled = minnet.check_net(quiet, X_cls, y_cls, loss_scale=1e8)
with minnet.bugs.inject(quiet, "affine-dW-doubled", layer=0):
    doubled = minnet.check_net(quiet, X_cls, y_cls)
for title, report in (("correct net", correct), ("correct net, loss_scale=1e8", correct_scaled),
                      ("dW1 doubled", doubled)):
    print(f"{title:28s}: W1 max relative error {report['W1'].max_rel_error:.1e}, "
          f"passed = {report.passed}")

# %% [markdown]
# Look at the three lines. At the default step the rounding error of the quotient,
# eps * |J| / h, is about as large as these gradients: no rule applied to quotients at
# that step could tell a right dW1 from a doubled one. But the step is a choice. The
# rounding error shrinks as 1/h and the truncation error grows as h², in proportion to
# the gradient itself; so the smaller the gradient next to the loss's rounding, the
# larger the step that balances the two. minnet takes that larger step for what it
# cannot judge at first, and then the doubled dW1 fails while the correct one passes.

# %%
assert correct.passed and correct_scaled.passed
assert not doubled.passed and doubled.failed == ["W1"]   # a larger step sees the bug

# %% [markdown]
# ## The complex step: no subtraction, no cancellation
# For a function that is real for real inputs and built from smooth operations, a
# step into the imaginary direction gives, by Taylor's series,
#
#     J(θ + i h) = J(θ) + i h J'(θ) - h² J''(θ) / 2 - i h³ J'''(θ) / 6 + ...
#
# so J'(θ) = Im J(θ + i h) / h with an error of order h². There is no difference of
# two nearly equal numbers, so no digits cancel, and h can be as small as 1e-20:
# the truncation error vanishes and the result is good to nearly every digit float64
# has. The price is one complex forward pass per coordinate, and every layer must work
# on complex numbers (minnet's do; ReLU decides on the real part).
#
# `check_net(..., method="complex")` uses it. On the net where the central
# difference drowned in noise, it sees the doubled dW1 at once, and passes the
# correct net with errors at the level of float64 rounding.

# %%
complex_correct = minnet.check_net(quiet, X_cls, y_cls, method="complex")
with minnet.bugs.inject(quiet, "affine-dW-doubled", layer=0):
    complex_doubled = minnet.check_net(quiet, X_cls, y_cls, method="complex")
print(complex_doubled)
print(f"\ncorrect net, complex step: passed = {complex_correct.passed}, "
      f"W1 max relative error {complex_correct['W1'].max_rel_error:.1e}")
assert complex_doubled.failed == ["W1"] and complex_doubled["W1"].band == "wrong"
assert complex_correct.passed and complex_correct["W1"].max_rel_error < 1e-10

# %% [markdown]
# The printed relative error of the doubled W1 is still squeezed by the floor (the
# gradients are near 1e-10). Here `loss_scale` does help, because the complex step
# has no rounding noise for it to scale up: together they show the factor of 2 plainly.

# %%
with minnet.bugs.inject(quiet, "affine-dW-doubled", layer=0):
    complex_scaled = minnet.check_net(quiet, X_cls, y_cls, method="complex", loss_scale=1e8)
print(f"dW1 doubled, complex step, loss_scale=1e8: failed {complex_scaled.failed}, "
      f"W1 max relative error {complex_scaled['W1'].max_rel_error:.2f}")
assert complex_scaled.failed == ["W1"] and complex_scaled["W1"].max_rel_error > 0.4

# %% [markdown]
# And on the float32 net from the start of the lesson, it also runs on (complex128)
# copies and leaves the net as it was:

# %%
report_c = minnet.check_net(net32, X, y, method="complex")
worst = max(row.max_rel_error for row in report_c.rows)
print(f"float32 net, complex step: passed = {report_c.passed}, worst relative error "
      f"{worst:.1e}")
assert report_c.passed
assert all(v.dtype == np.float32 and v.tobytes() == before[k].tobytes()
           for k, v in net32.params.items())

# %% [markdown]
# ## What to take away
# - A centered difference loses about eps / h of relative precision to rounding. In
#   float32 (eps = 1.2e-7) that swamps the check: run checks in float64, as minnet
#   always does, even for a float32 net.
# - The relative error's 1e-8 floor protects near-zero gradients from false alarms,
#   but it also squeezes real mistakes in gradients below 1e-8. When a report says
#   the gradients are tiny, rerun with `loss_scale=`.
# - If the gradient is tiny while the loss is not, the rounding noise itself is as
#   big as the gradient. Scaling alone does not help; the complex step
#   (`method="complex"`) does, because it never subtracts, and `loss_scale` then
#   makes its relative errors readable.
