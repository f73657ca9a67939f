# %% [markdown]
# # 01 · Numerical derivatives: forward, centered, five-point and complex step
#
# A gradient check compares the gradient your backward pass computes with a gradient
# estimated from the loss alone. This lesson is about that estimate: how a computer
# approximates a derivative, why the obvious formula is not the best one, and why
# making the step h smaller helps only up to a point.
#
# Everything here happens on one ordinary function of one variable,
#
#     f(x) = e^x · sin(x),   f'(x) = e^x (sin x + cos x),
#
# whose exact derivatives we know, so every error can be measured instead of guessed.
# Run it as `python tutorials/01_numerical_derivatives.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.checker import (METHODS, RELATIVE_STEPS, default_step, numerical_gradient,
                            relative_error, step_size_sweep)

FAST = os.environ.get("MINNET_FAST") == "1"  # nothing here is slow: same settings either way

EPS = np.finfo(np.float64).eps  # 2.2e-16: the gap between 1.0 and the next float64


def f(x):
    return np.exp(x) * np.sin(x)


# The exact derivatives, from the product rule. The fifth derivative is -4 f'(x).
def f1(x):
    return np.exp(x) * (np.sin(x) + np.cos(x))


def f2(x):
    return 2 * np.exp(x) * np.cos(x)


def f3(x):
    return 2 * np.exp(x) * (np.cos(x) - np.sin(x))


def f5(x):
    return -4 * f1(x)


x0 = 0.7
print(f"f({x0}) = {f(x0):.6f}, exact f'({x0}) = {f1(x0):.15f}")
print(f"machine epsilon of float64: {EPS:.3e}")

# %% [markdown]
# ## The picture: two secants and the tangent
#
# The derivative f'(x) is the slope of the tangent, the line that touches the curve at
# x. A difference quotient is the slope of a *secant*, a line through two points of the
# curve:
#
# - the forward difference (f(x + h) - f(x)) / h is the slope of the secant through
#   (x, f(x)) and (x + h, f(x + h));
# - the centered difference (f(x + h) - f(x - h)) / 2h is the slope of the secant
#   through (x - h, f(x - h)) and (x + h, f(x + h)).
#
# Both secants turn into the tangent as h shrinks, but not equally fast. The figure
# draws them for x = 0.7 and a step h = 0.5 large enough to see.

# %%
h_picture = 0.5
slope_forward = (f(x0 + h_picture) - f(x0)) / h_picture
slope_centered = (f(x0 + h_picture) - f(x0 - h_picture)) / (2 * h_picture)
print(f"h = {h_picture}: forward secant slope {slope_forward:.4f}, centered secant slope "
      f"{slope_centered:.4f}, tangent slope f'(x) = {f1(x0):.4f}")
picture_ratio = (slope_forward - f1(x0)) / (slope_centered - f1(x0))
print(f"  forward is off by {slope_forward - f1(x0):.4f}, centered by "
      f"{slope_centered - f1(x0):.4f}: {picture_ratio:.0f} times less; f''(x) = {f2(x0):.2f}")
assert abs(slope_forward - f1(x0) - 0.757) < 1e-3
assert abs(slope_centered - f1(x0) - 0.0143) < 1e-4
assert 50 < picture_ratio < 56 and f2(x0) > 0

fig, ax = plt.subplots(figsize=(7, 5))
xs = np.linspace(0.0, 1.4, 200)
ax.plot(xs, f(xs), color="black", lw=2, label="f(x) = exp(x) sin(x)")
ax.plot(xs, f(x0) + f1(x0) * (xs - x0), color="#2a9d8f", lw=2,
        label=f"tangent at x = {x0}: slope f'(x) = {f1(x0):.3f}")
ax.plot(xs, f(x0) + slope_forward * (xs - x0), "--", color="#1f77b4",
        label=f"forward secant through x, x + h: slope {slope_forward:.3f}")
ax.plot(xs, f(x0 - h_picture) + slope_centered * (xs - x0 + h_picture), "--", color="#e76f51",
        label=f"centered secant through x - h, x + h: slope {slope_centered:.3f}")
ax.plot([x0 - h_picture, x0, x0 + h_picture], f(np.array([x0 - h_picture, x0, x0 + h_picture])),
        "o", color="black")
for where, name in ((x0 - h_picture, "x - h"), (x0, "x"), (x0 + h_picture, "x + h")):
    ax.annotate(name, (where, f(where)), xytext=(8, -14), textcoords="offset points")
ax.set(xlabel="x", ylabel="f(x)", ylim=(-0.5, 3.5),
       title=f"the centered secant is nearly parallel to the tangent, the forward one is not\n"
             f"secants of f at x = {x0} with the step h = {h_picture}")
ax.legend(fontsize=9, loc="upper left")
print("saved", minnet.plot.save(fig, "01_secant_tangent.png"))

# %% [markdown]
# With h = 0.5 the forward secant is off by 0.757, the centered one by 0.0143, about
# 53 times less. The curve bends (f'' > 0 here), and the forward secant, whose second
# point lies on the right of x only, tilts with the bend. The centered secant reaches
# equally far to both sides: the bend lifts both of its ends about equally, and the tilt
# it would cause cancels. Taylor's series makes this exact.
#
# ## Why the forward difference is O(h) and the centered one O(h²)
#
# Taylor's series writes f near x with the derivatives at x:
#
#     f(x + h) = f(x) + h f'(x) + h²/2 f''(x) + h³/6 f'''(x) + h⁴/24 f''''(x) + ...
#     f(x - h) = f(x) - h f'(x) + h²/2 f''(x) - h³/6 f'''(x) + h⁴/24 f''''(x) - ...
#
# **Forward difference.** Subtract f(x) from the first line and divide by h:
#
#     (f(x + h) - f(x)) / h = f'(x) + h/2 f''(x) + h²/6 f'''(x) + ...
#
# The leading error term is h/2 · f''(x): proportional to h. Halve h, halve the error.
# That is what "the forward difference is O(h)" means. (The backward difference
# (f(x) - f(x - h)) / h is the mirror image, also O(h).)
#
# **Centered difference.** Subtract the second line from the first. The even terms
# f(x) and h²/2 f''(x) appear in both lines with the same sign and cancel:
#
#     f(x + h) - f(x - h) = 2h f'(x) + 2 h³/6 f'''(x) + ...
#     (f(x + h) - f(x - h)) / 2h = f'(x) + h²/6 f'''(x) + ...
#
# Now the leading error is h²/6 · f'''(x): proportional to h². Divide h by 10 and the
# error drops by 100. It costs two evaluations of f per coordinate instead of one
# (the forward difference can reuse f(x) for every coordinate), and it is what
# gradient checks use by default.
#
# **Five-point stencil.** Combining the steps h and 2h also cancels the h² term:
#
#     (-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / 12h = f'(x) - h⁴/30 f⁽⁵⁾(x) + ...
#
# an O(h⁴) error, for four evaluations of f.
#
# Let us measure each error and compare it with the leading Taylor term.

# %%
def forward_diff(x, h):
    return (f(x + h) - f(x)) / h


def centered_diff(x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def five_point(x, h):
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


print(f"{'h':>6}  {'forward error':>14} {'h/2 f2':>10}  {'centered error':>14} "
      f"{'h²/6 f3':>10}  {'five-point error':>16} {'h⁴/30 f5':>10}")
truncation = {}
for h in (1e-1, 1e-2, 1e-3):
    errors = (forward_diff(x0, h) - f1(x0), centered_diff(x0, h) - f1(x0),
              five_point(x0, h) - f1(x0))
    predicted = (h / 2 * f2(x0), h**2 / 6 * f3(x0), -h**4 / 30 * f5(x0))
    truncation[h] = (errors, predicted)
    print(f"{h:6.0e}  {errors[0]:14.3e} {predicted[0]:10.3e}  {errors[1]:14.3e} "
          f"{predicted[1]:10.3e}  {errors[2]:16.3e} {predicted[2]:10.3e}")

# %% [markdown]
# Read the table column by column. Each time h shrinks tenfold, the forward error
# shrinks about tenfold, the centered error about a hundredfold and the five-point
# error about ten-thousandfold, and each error sits close to its predicted leading
# term. (The five-point stencil at h = 1e-3 is left out of the check below: its
# truncation error there is so small that rounding, the subject of the next section,
# is already visible in it.)

# %%
for h, (errors, predicted) in truncation.items():
    for k, (error, guess) in enumerate(zip(errors, predicted)):
        if k == 2 and h < 1e-2:
            continue
        assert 0.9 < error / guess < 1.1, (h, k, error, guess)
ratio_fwd = truncation[1e-2][0][0] / truncation[1e-3][0][0]
ratio_ctr = truncation[1e-2][0][1] / truncation[1e-3][0][1]
print(f"h from 1e-2 to 1e-3: forward error divided by {ratio_fwd:.1f}, "
      f"centered error divided by {ratio_ctr:.1f}")
assert 9 < ratio_fwd < 11 and 90 < ratio_ctr < 110

# %% [markdown]
# ## Measuring an error: the relative error
#
# The table above prints absolute errors, fine for one function at one point. To
# compare derivatives of any size we measure the error as a fraction of the derivative
# itself, the *relative error* of an estimate n of the exact (or analytic) value a:
#
#     relative error = |a - n| / max(|a|, |n|)
#
# It says how many leading digits agree, whatever the scale: 1e-3 means about three
# significant digits are right, 1e-10 about ten. `minnet.checker.relative_error(a, n)`
# computes it element by element for arrays, with a floor of 1e-8 in the denominator
# (below it, gradients count as zero, so two tiny values do not look far apart; lesson 02
# comes back to this and to a second way of measuring).

# %%
estimate = centered_diff(x0, 1e-4)
print(f"centered estimate at h = 1e-4: {estimate:.15f}\nexact derivative:              "
      f"{f1(x0):.15f}\nrelative error {float(relative_error(f1(x0), estimate)):.1e}")
assert np.isclose(relative_error(f1(x0), estimate),
                  abs(estimate - f1(x0)) / max(abs(estimate), abs(f1(x0))), rtol=1e-12)
assert 2.7e-10 < relative_error(f1(x0), estimate) < 2.9e-10

# %% [markdown]
# The two numbers agree to nine digits (2.83749813...), and the relative error
# 2.8e-10 says as much: -log10(2.8e-10) ≈ 9.6 digits.
#
# ## Rounding: why a smaller h is not always better
#
# If truncation were the only error, we would take h = 1e-15 and be done. But f(x + h)
# and f(x - h) are float64 numbers. Each evaluation of a function carries a rounding
# error σ: for one correctly rounded value σ ≈ eps · |f| / 2 (half the gap between
# neighbouring float64 numbers near f), with eps = 2.2e-16. For tiny h the two values
# agree in most of their leading digits, and the subtraction f(x + h) - f(x - h) throws
# those digits away: only the last few, partly rounding noise, survive. This is called
# *cancellation*. The difference of two evaluations is off by up to 2σ = eps · |f|, and
# the division by the step turns that into the quotient's rounding error:
#
#     forward   (f(x + h) - f(x)) / h:        2σ / h  = eps · |f| / h
#     centered  (f(x + h) - f(x - h)) / 2h:   2σ / 2h = eps · |f| / (2h)
#
# Both grow as h shrinks. Look at the digits:

# %%
budget_header = "eps|f|/(2h|f'|)"
print(f"{'h':>6}  {'f(x+h)':>19}  {'f(x-h)':>19}  {'shared digits':>13}  "
      f"{'relative error':>14}  {budget_header:>15}")
digits_errors, shared_digits = {}, {}
for h in (1e-4, 1e-12):
    plus, minus = f(x0 + h), f(x0 - h)
    estimate = (plus - minus) / (2 * h)
    shared = -np.log10(abs(plus - minus) / abs(plus))  # leading digits the two values share
    shared_digits[h] = round(float(shared))
    digits_errors[h] = (float(relative_error(f1(x0), estimate)),
                        EPS * abs(f(x0)) / (2 * h * abs(f1(x0))))
    print(f"{h:6.0e}  {plus:19.17f}  {minus:19.17f}  {shared:13.0f}  "
          f"{digits_errors[h][0]:14.1e}  {digits_errors[h][1]:15.1e}")
assert digits_errors[1e-12][0] > 1e4 * digits_errors[1e-4][0]  # the smaller step is worse
assert shared_digits == {1e-4: 3, 1e-12: 11}
assert digits_errors[1e-12][0] < digits_errors[1e-12][1]  # within the rounding budget

# %% [markdown]
# At h = 1e-12 the two values share 11 of their 16 or so digits (the printed count),
# and the estimate is over ten thousand times worse than at h = 1e-4, even though its
# truncation error, proportional to h², is 1e16 times smaller. Its error stays below
# the rounding budget eps · |f| / (2h), relative to |f'| (last column): "up to 2σ" is a
# bound, and the actual roundings partly cancel.
#
# ## The V-shaped curve of error against h
#
# Put both errors together, rounding (with σ = eps · |f| / 2 per evaluation, as above)
# and truncation (the leading Taylor term). For the forward difference
#
#     total error ≈ eps · |f| / h + h/2 · |f''|
#
# The first term falls as h grows, the second rises. Setting the derivative of the sum
# to zero, -eps |f| / h² + |f''| / 2 = 0, gives the best step
#
#     forward:     h* = √(2 · eps · |f| / |f''|)
#
# For the centered difference, eps · |f| / (2h) + h²/6 · |f'''| is smallest at
#
#     centered:    h* = (3 · eps · |f| / (2 |f'''|))^(1/3)
#
# and for the five-point stencil, whose weights (1, 8, 8, 1) / 12h add up to 18 / 12h
# times σ, the rounding error is 0.75 · eps · |f| / h and the truncation error
# h⁴/30 · |f⁽⁵⁾|, smallest at
#
#     five-point:  h* = (45 · eps · |f| / (8 |f⁽⁵⁾|))^(1/5)
#
# When f and its derivatives are of order 1 these are of the order of eps^(1/2) ≈ 1.5e-8,
# eps^(1/3) ≈ 6e-6 and eps^(1/5) ≈ 7e-4: a higher-order method has a smaller truncation
# error, so it can afford a larger step. Those orders are minnet's default steps,
# `minnet.checker.RELATIVE_STEPS`. For our f at x = 0.7:

# %%
ORDERS = {"forward": 2, "central": 3, "fivepoint": 5}  # h* is of the order of eps^(1/p)
optimum = {"forward": np.sqrt(2 * EPS * abs(f(x0)) / abs(f2(x0))),
           "central": (3 * EPS * abs(f(x0)) / (2 * abs(f3(x0)))) ** (1 / 3),
           "fivepoint": (45 * EPS * abs(f(x0)) / (8 * abs(f5(x0)))) ** (1 / 5)}
print(f"{'method':>10}  {'h* (formula)':>12}  {'eps^(1/p)':>9}  {'RELATIVE_STEPS':>14}")
for method, p in ORDERS.items():
    print(f"{method:>10}  {optimum[method]:12.2e}  {EPS ** (1 / p):9.2e}  "
          f"{RELATIVE_STEPS[method]:14.2e}")
    assert RELATIVE_STEPS[method] == EPS ** (1 / p)
    assert 0.5 < optimum[method] / RELATIVE_STEPS[method] < 2  # same order here

# %% [markdown]
# `minnet.checker.step_size_sweep(f, x, exact, steps, method)` measures the relative
# error of one method for many steps h; `minnet.plot.step_sweep` draws the curves on
# log-log axes and marks each method's default step with a dotted line.

# %%
steps = np.logspace(-16, 0, 65)  # four per decade
sweeps = {method: step_size_sweep(f, x0, f1(x0), steps=steps, method=method)
          for method in ("forward", "central", "fivepoint", "complex")}
print(f"{'method':>10}  {'best h in the sweep':>19}  {'its error':>9}  "
      f"{'RELATIVE_STEPS':>14}  {'error at that step':>18}")
for method, (hs, errors) in sweeps.items():
    k = int(np.argmin(errors))
    _, at_default = step_size_sweep(f, x0, f1(x0), steps=[RELATIVE_STEPS[method]],
                                    method=method)
    print(f"{method:>10}  {hs[k]:19.1e}  {errors[k]:9.1e}  {RELATIVE_STEPS[method]:14.1e}  "
          f"{at_default[0]:18.1e}")

# %% [markdown]
# The best step of one sweep is a rough reading of the optimum: rounding errors are
# essentially random, so the bottom of each V is ragged, and its lowest point is where
# the luckiest rounding happened to fall. To measure the optimum, take
# many steps (ten per decade) and average the error over 41 points x in [0.69, 0.71],
# where f and its derivatives barely change: the randomness averages out, and the step
# with the smallest mean error is the measured optimum.

# %%
fine_steps = np.logspace(-16, 0, 161)
nearby = x0 + np.linspace(-0.01, 0.01, 41)
print(f"{'method':>10}  {'measured h*':>11}  {'formula h*':>10}  {'measured / formula':>18}")
measured_ratio = {}
for method in ORDERS:
    mean_error = np.mean([step_size_sweep(f, x, f1(x), steps=fine_steps, method=method)[1]
                          for x in nearby], axis=0)
    best = fine_steps[int(np.argmin(mean_error))]
    measured_ratio[method] = best / optimum[method]
    print(f"{method:>10}  {best:11.2e}  {optimum[method]:10.2e}  {measured_ratio[method]:18.2f}")
    assert 0.5 < measured_ratio[method] < 2, (method, best, optimum[method])

# %% [markdown]
# Each measured optimum lies within a factor 2 of its formula (the printed ratios), so
# the error budget above describes this f. On the right of each V the slope is the
# order of the method (1, 2 and 4 on log-log axes); on the left every real method rises
# as 1/h, along its rounding budget: eps · |f| / (h |f'|) relative to the derivative for
# the forward difference, half of that for the centered one, 0.75 of it for the
# five-point stencil. The left branches stay within a factor 3 of these lines: σ is a
# little more than eps · |f| / 2 here (f takes three rounded operations, and x ± h is
# rounded too), and the actual roundings partly cancel.

# %%
right = (steps >= 1e-2) & (steps <= 1e-1)  # truncation dominates here for every method
slopes = {}
for method, order in (("forward", 1), ("central", 2), ("fivepoint", 4)):
    hs, errors = sweeps[method]
    slopes[method] = np.polyfit(np.log10(hs[right]), np.log10(errors[right]), 1)[0]
    assert abs(slopes[method] - order) < 0.2, (method, slopes[method])
print("slopes of the right branch (log error per log h):",
      {m: round(float(s), 2) for m, s in slopes.items()})

left = steps <= 1e-11  # rounding dominates here
forward_rounding = EPS * abs(f(x0)) / (steps * abs(f1(x0)))  # relative to |f'|
ROUNDING_SHARE = {"forward": 1.0, "central": 0.5, "fivepoint": 0.75}
for method, share in ROUNDING_SHARE.items():
    worst_ratio = float(np.max(sweeps[method][1][left] / (share * forward_rounding[left])))
    print(f"left branch, {method}: measured error at most {worst_ratio:.2f} times its "
          f"rounding budget")
    assert 0.5 < worst_ratio < 3, (method, worst_ratio)

# %%
fig, ax = plt.subplots(figsize=(7, 5))
ax.loglog(steps, forward_rounding, color="gray", ls="--", lw=1,
          label="eps|f| / (h|f'|): forward rounding")
ax.loglog(steps, forward_rounding / 2, color="gray", ls="-.", lw=1,
          label="eps|f| / (2h|f'|): centered rounding")
minnet.plot.step_sweep(sweeps, ax=ax, function="f(x) = exp(x) sin(x)", x0=x0,
                       title="every method has a best step: too small, rounding wins; "
                             "too large, truncation")
for line in ax.get_lines():
    if line.get_label() == "complex":  # drawn under the centered curve, which it follows
        line.set(linestyle="--", marker="", zorder=1.5)
print("saved", minnet.plot.save(fig, "01_step_sweep.png"))

# %% [markdown]
# In the figure, the complex-step curve (red, next section) has no left branch at
# all: its error stays at the level of eps for every small h. Its right branch lies
# under the centered one, because both have the same truncation term h²/6 · f'''.
#
# Compare the bottoms of the V's at the default steps (last column of the table): the
# forward difference, with its O(h) truncation, cannot take a step much larger than
# eps^(1/2) without paying for it, and its error there is of the same order as
# eps^(1/2): the budget at h* is √(2 · eps · |f| · |f''|) / |f'| ≈ 1.5e-8 here. The
# centered difference gets several orders of magnitude closer. (A single
# step can be luckier or unluckier than its neighbours, because rounding is random:
# that is the raggedness of the left branches.)

# %%
_, at_defaults = zip(*(step_size_sweep(f, x0, f1(x0), steps=[RELATIVE_STEPS[m]], method=m)
                       for m in ("forward", "central")))
forward_budget = np.sqrt(2 * EPS * abs(f(x0)) * abs(f2(x0))) / abs(f1(x0))
print(f"at the default steps: forward error {at_defaults[0][0]:.1e} (budget at h*: "
      f"{forward_budget:.1e}), centered error {at_defaults[1][0]:.1e}")
assert 1.4e-8 < forward_budget < 1.6e-8 and at_defaults[0][0] < forward_budget
assert at_defaults[0][0] > 100 * at_defaults[1][0]
assert np.sqrt(EPS) / 10 < at_defaults[0][0] < 10 * np.sqrt(EPS)
tiny_steps = sweeps["complex"][0] <= 1e-8
assert np.all(sweeps["complex"][1][tiny_steps] <= 4 * EPS)  # the complex step has no left branch

# %% [markdown]
#
# ## The complex step: no subtraction, no cancellation
#
# If f is built from operations that also work on complex numbers (+, *, exp, sin,
# log, ...), take a step along the imaginary axis. Taylor's series still holds:
#
#     f(x + ih) = f(x) + ih f'(x) - h²/2 f''(x) - i h³/6 f'''(x) + ...
#
# The imaginary part is h f'(x) - h³/6 f'''(x) + ..., so
#
#     Im f(x + ih) / h = f'(x) - h²/6 f'''(x) + ...
#
# The truncation error is O(h²), like the centered difference, but there is no
# subtraction of two nearly equal numbers, hence no cancellation and no rounding term
# eps · |f| / h. The step can be absurdly small: h = 1e-20 makes the truncation error
# about 1e-40, and the answer is exact to the last bit or so.

# %%
h = 1e-20
complex_estimate = np.imag(f(x0 + 1j * h)) / h
real_estimate = (f(x0 + h) - f(x0 - h)) / (2 * h)
print(f"complex step, h = 1e-20:  {complex_estimate:.16f}")
print(f"exact derivative:         {f1(x0):.16f}")
print(f"centered difference, h = 1e-20: {real_estimate} (x0 + h == x0 in float64: "
      f"{x0 + h == x0})")
assert abs(complex_estimate - f1(x0)) <= 4 * EPS * abs(f1(x0))
assert real_estimate == 0.0

# %% [markdown]
# With a real step of 1e-20, x + h rounds back to x itself and the centered difference
# returns 0. minnet refuses such a step for the real methods and says why:

# %%
try:
    numerical_gradient(lambda w: np.sum(f(w)), np.array([x0]), h=1e-20, method="central")
    raise AssertionError("a step of 1e-20 should be refused for method='central'")
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# The price of the complex step is that the code for f must carry the imaginary part
# through every operation. np.abs, np.real, float() or a comparison such as x > 0
# (on the complex value) silently drop it. When f returns a real number at a complex
# point, minnet notices and refuses:

# %%
try:
    numerical_gradient(lambda w: np.sum(np.abs(w) ** 3), np.array([x0]), method="complex")
    raise AssertionError("a function that drops the imaginary part should be refused")
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# minnet's own layers are written to pass complex numbers through (ReLU decides on the
# real part, the losses avoid abs), so `check_net(net, X, y, method="complex")` works
# on a whole net.
#
# ## numerical_gradient: every coordinate of a function of many variables
#
# A gradient check needs the partial derivative with respect to every parameter.
# `minnet.checker.numerical_gradient(f, x, h=None, method="central")` perturbs one
# coordinate of x at a time, in place, and puts it back afterwards. Here it runs with
# each of the five methods on
#
#     g(w) = w0² w1 + sin(w2) e^(w0),
#     ∂g/∂w0 = 2 w0 w1 + sin(w2) e^(w0),   ∂g/∂w1 = w0²,   ∂g/∂w2 = cos(w2) e^(w0).

# %%
def g(w):
    return w[0] ** 2 * w[1] + np.sin(w[2]) * np.exp(w[0])


w = np.array([0.3, 1.2, -0.8])
exact_grad = np.array([2 * w[0] * w[1] + np.sin(w[2]) * np.exp(w[0]), w[0] ** 2,
                       np.cos(w[2]) * np.exp(w[0])])
print("exact gradient:", exact_grad)
worst = {}
for method in METHODS:
    estimate = numerical_gradient(g, w, method=method)
    worst[method] = float(relative_error(exact_grad, estimate).max())
    print(f"{method:>10}: {np.array2string(estimate, precision=12)}   "
          f"largest relative error {worst[method]:.1e}")
assert np.array_equal(w, [0.3, 1.2, -0.8])  # x is always restored

# %% [markdown]
# Each method, at its default step, lands where the V-curves said it would: the O(h)
# methods (forward, backward) keep only about half of float64's 16 digits, the
# centered difference about two thirds, the five-point stencil more, and the complex
# step essentially all. The assertions below pin the printed orders down.

# %%
assert worst["forward"] < 1e-6 and worst["backward"] < 1e-6
assert worst["central"] < 1e-9
assert worst["fivepoint"] < 1e-11
assert worst["complex"] < 1e-14
assert worst["complex"] < worst["fivepoint"] < worst["central"] < worst["forward"]

# %% [markdown]
# ## The default steps: RELATIVE_STEPS and default_step
#
# `minnet.checker.RELATIVE_STEPS` holds the balanced step of each method, the ones
# derived above; `default_step(method, x)` scales it by max(1, |x|), because near a
# large x the float64 numbers are far apart and a tiny step would barely change x
# (and the function typically changes on the scale of x too).

# %%
for method, step in RELATIVE_STEPS.items():
    print(f"{method:>10}: RELATIVE_STEPS = {step:.2e}   default_step at x = 0.5: "
          f"{default_step(method, 0.5):.2e}   at x = 1000: {default_step(method, 1000.0):.2e}")
assert RELATIVE_STEPS["central"] == EPS ** (1 / 3)
assert RELATIVE_STEPS["forward"] == EPS ** (1 / 2)
assert default_step("central", 1000.0) == 1000 * RELATIVE_STEPS["central"]

# %% [markdown]
# Why the scaling matters: the derivative of log(x) at x = 10,000 is 1e-4. With an
# unscaled step h = 6e-6, f(x ± h) ≈ 9.2 each carry σ ≈ eps · 9.2 / 2, and the centered
# quotient's rounding error σ / h is about 1.7e-10: 1.7e-6 of the small derivative. The
# scaled step is 1e4 times larger, so its rounding error is 1e4 times smaller, and its
# truncation error, h²/6 · |f'''| = h²/6 · 2/x³, is only h² / (3x²) ≈ 1.2e-11 of the
# derivative.

# %%
x_big = np.array([1e4])
scaled = numerical_gradient(lambda v: np.sum(np.log(v)), x_big)
unscaled = numerical_gradient(lambda v: np.sum(np.log(v)), x_big, h=RELATIVE_STEPS["central"])
err_scaled = float(relative_error(1 / x_big, scaled)[0])
err_unscaled = float(relative_error(1 / x_big, unscaled)[0])
h_scaled, h_unscaled = default_step("central", 1e4), RELATIVE_STEPS["central"]
sigma_log = EPS * np.log(1e4) / 2
budget_scaled = sigma_log / h_scaled / 1e-4 + h_scaled**2 / (3 * 1e4**2)
budget_unscaled = sigma_log / h_unscaled / 1e-4
print(f"d log(x)/dx at x = 1e4: scaled step {h_scaled:.1e} -> relative error "
      f"{err_scaled:.1e} (budget {budget_scaled:.1e}); unscaled step {h_unscaled:.1e} -> "
      f"{err_unscaled:.1e} (budget {budget_unscaled:.1e})")
assert 1.6e-6 < budget_unscaled < 1.8e-6 and budget_unscaled / 10 < err_unscaled < budget_unscaled
assert err_scaled < budget_scaled < err_unscaled / 1000

# %% [markdown]
# ## What to remember
#
# - A difference quotient is the slope of a secant. Forward differences are O(h),
#   centered differences O(h²), the five-point stencil O(h⁴): Taylor's series says
#   so, and the measurements agree.
# - Each evaluation carries a rounding error σ ≈ eps · |f| / 2, so the quotient's
#   rounding error is eps · |f| / h (forward) or eps · |f| / (2h) (centered). Against the
#   truncation error this makes the error-vs-h curve a V with its bottom at
#   h* = √(2 · eps · |f| / |f''|) (forward, order eps^(1/2)) or
#   (3 · eps · |f| / (2 |f'''|))^(1/3) (centered, order eps^(1/3)); the measured optima
#   lie within a factor 2 of these. A "smaller h is more accurate" instinct is wrong
#   below that point.
# - The relative error |a - n| / max(|a|, |n|) counts the digits that agree.
# - The complex step Im f(x + ih) / h has no cancellation and works at h = 1e-20, if
#   the code carries complex numbers through.
# - A gradient check therefore never expects exact agreement: the numerical side has
#   its own error, and the next lessons show how big it is in practice.
