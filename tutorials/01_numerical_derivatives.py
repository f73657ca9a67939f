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

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

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
# ## Rounding: why a smaller h is not always better
#
# If truncation were the only error, we would take h = 1e-15 and be done. But f(x + h)
# and f(x - h) are float64 numbers, each known only to about eps · |f| with
# eps = 2.2e-16. For tiny h they agree in most of their leading digits, and the
# subtraction f(x + h) - f(x - h) throws those digits away: only the last few,
# partly rounding noise, survive. This is called *cancellation*. The numerator is off
# by about eps · |f|, and dividing by 2h blows that up to an error of about
#
#     rounding error ≈ eps · |f(x)| / h
#
# which grows as h shrinks. Look at the digits:

# %%
for h in (1e-4, 1e-12):
    plus, minus = f(x0 + h), f(x0 - h)
    estimate = (plus - minus) / (2 * h)
    shared = -np.log10(abs(plus - minus) / abs(plus))  # leading digits the two values share
    print(f"h = {h:.0e}: f(x+h) = {plus:.17f}\n"
          f"         f(x-h) = {minus:.17f}\n"
          f"         they agree to about {shared:.0f} significant digits; "
          f"difference = {plus - minus:.3e}\n"
          f"         estimate = {estimate:.15f}, "
          f"relative error {abs(estimate - f1(x0)) / abs(f1(x0)):.1e}")
err_small_h = abs(centered_diff(x0, 1e-12) - f1(x0))
err_mid_h = abs(centered_diff(x0, 1e-4) - f1(x0))
assert err_small_h > err_mid_h  # the smaller step is the worse one here

# %% [markdown]
# At h = 1e-12 the two values share most of their 16 or so digits (the printed count),
# and the estimate is worse than at h = 1e-4, even though its truncation error,
# proportional to h², is 1e16 times smaller.
#
# ## The V-shaped curve of error against h
#
# Put both errors together. For the centered difference
#
#     total error ≈ h²/6 · |f'''| + eps · |f| / h
#
# The first term falls as h shrinks, the second rises. Setting the derivative of the
# sum to zero gives the best step, h* = (3 eps |f| / |f'''|)^(1/3): of the order of
# eps^(1/3) ≈ 6e-6 when f and its derivatives are of order 1. For the forward
# difference, h/2 · |f''| + eps · |f| / h is smallest at h* = 2 (eps |f| / |f''|)^(1/2),
# of the order of eps^(1/2) ≈ 1.5e-8. A higher-order method has a smaller truncation
# error, so it can afford a larger step: eps^(1/5) for the five-point stencil.
#
# `minnet.checker.step_size_sweep(f, x, exact, steps, method)` measures the relative
# error of one method for many steps h; `minnet.plot.step_sweep` draws the curves on
# log-log axes and marks each method's default step with a dotted line.

# %%
steps = np.logspace(-16, 0, 33 if FAST else 65)
sweeps = {method: step_size_sweep(f, x0, f1(x0), steps=steps, method=method)
          for method in ("forward", "central", "fivepoint", "complex")}
print(f"{'method':>10}  {'best h in the sweep':>19}  {'its error':>9}  "
      f"{'RELATIVE_STEPS':>14}  {'error at that step':>18}")
best_steps = {}
for method, (hs, errors) in sweeps.items():
    k = int(np.argmin(errors))
    best_steps[method] = hs[k]
    _, at_default = step_size_sweep(f, x0, f1(x0), steps=[RELATIVE_STEPS[method]],
                                    method=method)
    print(f"{method:>10}  {hs[k]:19.1e}  {errors[k]:9.1e}  {RELATIVE_STEPS[method]:14.1e}  "
          f"{at_default[0]:18.1e}")

# %% [markdown]
# The printed best steps sit close to the predicted ones: near eps^(1/2) for the
# forward difference, eps^(1/3) for the centered one, eps^(1/5) for the five-point
# stencil. On the right of each V the slope is the order of the method (1, 2 and 4 on
# log-log axes); on the left every real method follows the same rising eps/h line,
# ragged because rounding errors are essentially random.

# %%
for method in ("forward", "central", "fivepoint"):
    ratio = best_steps[method] / RELATIVE_STEPS[method]
    assert 1 / 30 < ratio < 30, (method, best_steps[method])

right = (steps >= 1e-2) & (steps <= 1e-1)  # truncation dominates here for every method
slopes = {}
for method, order in (("forward", 1), ("central", 2), ("fivepoint", 4)):
    hs, errors = sweeps[method]
    slopes[method] = np.polyfit(np.log10(hs[right]), np.log10(errors[right]), 1)[0]
    assert abs(slopes[method] - order) < 0.2, (method, slopes[method])
print("slopes of the right branch (log error per log h):",
      {m: round(float(s), 2) for m, s in slopes.items()})

left = steps <= 1e-11  # rounding dominates here
guide = EPS / steps
worst_ratio = max(float(np.max(sweeps[m][1][left] / guide[left]))
                  for m in ("forward", "central", "fivepoint"))
print(f"left branch: measured error at most {worst_ratio:.2f} times eps/h")
assert worst_ratio < 10

# %%
fig, ax = plt.subplots(figsize=(7, 5))
ax.loglog(steps, guide, color="gray", ls="--", lw=1, label="eps / h (rounding)")
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
# eps^(1/2). The centered difference gets several orders of magnitude closer. (A single
# step can be luckier or unluckier than its neighbours, because rounding is random:
# that is the raggedness of the left branches.)

# %%
_, at_defaults = zip(*(step_size_sweep(f, x0, f1(x0), steps=[RELATIVE_STEPS[m]], method=m)
                       for m in ("forward", "central")))
print(f"at the default steps: forward error {at_defaults[0][0]:.1e}, "
      f"centered error {at_defaults[1][0]:.1e}")
assert at_defaults[0][0] > 100 * at_defaults[1][0]
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
# subtraction of two nearly equal numbers, hence no cancellation and no eps/h term.
# The step can be absurdly small: h = 1e-20 makes the truncation error about 1e-40,
# and the answer is exact to the last bit or so.

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
# unscaled step of 6e-6, f(x ± h) ≈ 9.2 each carry rounding errors of about eps · 9.2,
# which the division by 2h turns into an error far larger, relative to the small
# derivative, than with the scaled step.

# %%
x_big = np.array([1e4])
scaled = numerical_gradient(lambda v: np.sum(np.log(v)), x_big)
unscaled = numerical_gradient(lambda v: np.sum(np.log(v)), x_big, h=RELATIVE_STEPS["central"])
err_scaled = float(relative_error(1 / x_big, scaled)[0])
err_unscaled = float(relative_error(1 / x_big, unscaled)[0])
print(f"d log(x)/dx at x = 1e4: scaled step {default_step('central', 1e4):.1e} -> relative "
      f"error {err_scaled:.1e}; unscaled step {RELATIVE_STEPS['central']:.1e} -> "
      f"{err_unscaled:.1e}")
assert err_scaled < err_unscaled

# %% [markdown]
# ## What to take away
#
# - Forward differences are O(h), centered differences O(h²), the five-point stencil
#   O(h⁴): Taylor's series says so, and the measurements agree.
# - Rounding adds an error of about eps · |f| / h, so the error-vs-h curve is a V with
#   its bottom near eps^(1/2) (forward) or eps^(1/3) (centered). A "smaller h is more
#   accurate" instinct is wrong below that point.
# - The complex step Im f(x + ih) / h has no cancellation and works at h = 1e-20, if
#   the code carries complex numbers through.
# - A gradient check therefore never expects exact agreement: the numerical side has
#   its own error, and the next lessons show how big it is in practice.
