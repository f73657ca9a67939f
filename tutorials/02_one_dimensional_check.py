# %% [markdown]
# # 02 · The one-dimensional gradient check
#
# Before checking a whole network, check the smallest possible "network": one
# parameter θ, one input x, and the cost
#
#     J(θ) = θ · x
#
# Its forward pass computes J; its backward pass computes the derivative
# dJ/dθ = x. A gradient check asks: does the backward pass agree with what the
# forward pass alone says about the slope of J? This lesson builds that check by
# hand, compares it with `minnet.checker.gradient_check`, and shows a wrong backward
# pass being caught. Run it as `python tutorials/02_one_dimensional_check.py`.

# %%
import os

import numpy as np

from minnet.checker import band, difference, gradient_check

FAST = os.environ.get("MINNET_FAST") == "1"  # nothing here is slow: same settings either way


def forward(x, theta):
    """The cost J(θ) = θ · x."""
    return theta * x


def backward(x, theta):
    """dJ/dθ for J = θ · x: the derivative of θ · x with respect to θ is x."""
    return x


x, theta = 2.0, 4.0
print(f"J = forward(x, theta) = {forward(x, theta)}, dJ/dθ = backward(x, theta) = "
      f"{backward(x, theta)}")

# %% [markdown]
# ## The check by hand
#
# From lesson 01: the centered difference estimates a derivative from two evaluations
# of the function,
#
#     gradapprox = (J(θ + ε) - J(θ - ε)) / 2ε,
#
# with an error of order ε². We compare it with the backward pass's answer, grad,
# through a *relative* difference, so that the verdict does not depend on the scale
# of the gradient:
#
#     difference = |grad - gradapprox| / (|grad| + |gradapprox|)
#
# For vectors the absolute values become Euclidean norms, ‖grad - gradapprox‖ /
# (‖grad‖ + ‖gradapprox‖): the "norm form" that `minnet.checker.difference`
# computes. It lies between 0 (identical) and 1 (for example when one of the two is
# zero, or when they point in opposite directions). The classic exercise calls the
# gradient right when it is below 1e-7.

# %%
epsilon = 1e-7
theta_plus, theta_minus = theta + epsilon, theta - epsilon
J_plus, J_minus = forward(x, theta_plus), forward(x, theta_minus)
gradapprox = (J_plus - J_minus) / (2 * epsilon)
grad = backward(x, theta)
by_hand = difference(grad, gradapprox)
print(f"J(θ + ε) = {J_plus!r}, J(θ - ε) = {J_minus!r}")
print(f"gradapprox = {gradapprox!r}, grad = {grad!r}")
print(f"difference = {by_hand:.3e}")
assert by_hand == abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))
assert by_hand < 1e-7  # the backward pass is right

# %% [markdown]
# ## The same check with minnet
#
# `minnet.checker.gradient_check(forward, backward, x, theta, epsilon=1e-7)` does
# exactly these steps: it calls forward(x, θ ± ε), builds gradapprox, calls
# backward(x, θ) and returns the norm-form difference. Its answer is the number we
# computed by hand, to the last bit.

# %%
checked = gradient_check(forward, backward, x, theta, epsilon=1e-7)
print(f"gradient_check(forward, backward, x={x}, theta={theta}, epsilon=1e-7) = {checked:.3e}")
assert checked == by_hand

# %% [markdown]
# ## Why is the difference not exactly zero?
#
# J = θ · x is a straight line: every derivative beyond the first is zero, so the
# Taylor series of lesson 01 has no error terms at all and the centered difference has
# *no truncation error*. Whatever is left is rounding. Here it comes from the step
# itself: θ + ε = 4.0000001 is not a float64 number, so it is rounded to the nearest
# one, and so is θ - ε. The step actually taken is (θ + ε) - (θ - ε) as float64
# computes it, not exactly 2ε. Neighbouring float64 numbers near θ = 4 are
# `np.spacing(4.0)` apart, so each rounding moves θ ± ε by at most half of that, and
# the relative error of gradapprox is at most spacing(θ) / 2ε: the eps/h rule of
# lesson 01 once more.

# %%
actual_step = theta_plus - theta_minus
bound = np.spacing(theta) / (2 * epsilon)
relative = abs(gradapprox - grad) / abs(grad)
print(f"step taken: {actual_step!r} instead of 2ε = {2 * epsilon!r}")
print(f"relative error of gradapprox: {relative:.2e} (at most spacing(θ)/2ε = {bound:.2e})")
assert gradapprox == x * actual_step / (2 * epsilon)  # all of the error is the rounded step
assert 0 < relative <= bound

# %% [markdown]
# The smaller ε, the larger this rounding error can be: its bound spacing(θ) / 2ε grows
# as 1/ε, and the printed differences grow with it (raggedly, since rounding is
# random). With no truncation error to balance it, a large ε is best for this
# particular J; in general the two errors trade off as in lesson 01.

# %%
print(f"{'epsilon':>8}  difference")
by_epsilon = {}
for eps_try in (1e-2, 1e-4, 1e-7, 1e-10):
    by_epsilon[eps_try] = gradient_check(forward, backward, x, theta, epsilon=eps_try)
    print(f"{eps_try:8.0e}  {by_epsilon[eps_try]:.2e}")
assert by_epsilon[1e-10] > by_epsilon[1e-7] > by_epsilon[1e-4]

# %% [markdown]
# ## A wrong backward pass is caught
#
# Now the mistakes. A student might return θ instead of x (differentiating with
# respect to the wrong variable), or 2x (a stray factor of 2, the kind a square left
# behind). With θ = 4 and x = 2, both are off by a factor of 2. If the backward pass
# returns k times the right gradient, the difference is |k - 1| / (k + 1): 1/3 for
# k = 2, far above any threshold. A subtler mistake, a gradient 0.1% too large, gives
# about 5e-4: still thousands of times the threshold.
#
# `minnet.checker.band` names the verdict band of a number: above 1e-2 "wrong",
# 1e-4 to 1e-2 "suspicious", 1e-7 to 1e-4 "acceptable", below 1e-7 "excellent".

# %%
def backward_returns_theta(x, theta):
    return theta  # wrong: the derivative with respect to θ of θ · x is x, not θ


def backward_doubled(x, theta):
    return 2 * x  # wrong: a factor of 2 too many


def backward_off_by_tenth_percent(x, theta):
    return 1.001 * x  # wrong, but only slightly


candidates = {"x (correct)": backward, "theta": backward_returns_theta, "2x": backward_doubled,
              "1.001x": backward_off_by_tenth_percent}
results = {}
for name, candidate in candidates.items():
    d = gradient_check(forward, candidate, x, theta, epsilon=1e-7)
    results[name] = d
    verdict = "right" if d < 1e-7 else "WRONG"
    print(f"backward returns {name:>12}: difference {d:.3e}  band '{band(d)}'  "
          f"-> the classic rule says {verdict}")

# %%
assert results["x (correct)"] < 1e-7 and band(results["x (correct)"]) == "excellent"
for name in ("theta", "2x"):
    assert abs(results[name] - 1 / 3) < 1e-8 and band(results[name]) == "wrong"
assert band(results["1.001x"]) == "suspicious" and results["1.001x"] > 1e-7

# %% [markdown]
# ## What to take away
#
# - A gradient check compares the backward pass's gradient with a centered difference
#   of the forward pass, through the relative difference
#   |grad - gradapprox| / (|grad| + |gradapprox|).
# - `gradient_check(forward, backward, x, theta, epsilon)` is that check in one call.
# - Even a perfect backward pass leaves a small nonzero difference: the numerical side
#   has its own rounding (and, for curved functions, truncation) error.
# - A real mistake shows up as a difference many orders of magnitude larger.
#
# With many parameters the same idea is applied to one coordinate at a time: that is
# the N-dimensional check of lesson 03.
