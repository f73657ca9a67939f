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
# forward pass alone says about the slope of J? This lesson starts with a picture of
# why the centered difference is exact for this J, defines the two measures of a
# gradient check's difference and the bands read from them, builds the check by hand,
# compares it with `minnet.checker.gradient_check`, shows wrong backward passes being
# caught, and ends with what a fixed threshold misses and what minnet's rule does
# instead. Run it as `python tutorials/02_one_dimensional_check.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.checker import (band, default_step, difference, gradient_check, gradient_check_n,
                            numerical_gradient, relative_error)

FAST = os.environ.get("MINNET_FAST") == "1"  # nothing here is slow: same settings either way

EPS = np.finfo(np.float64).eps  # 2.2e-16


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
# ## The picture: the secant of a straight line is the line itself
#
# The derivative dJ/dθ is the slope of the tangent to the curve J(θ) at θ. The centered
# difference of lesson 01,
#
#     gradapprox = (J(θ + ε) - J(θ - ε)) / 2ε,
#
# is the slope of the secant through the points at θ - ε and θ + ε. On a curved cost the
# two slopes differ (left panel: a cubic cost with the same value 8 at θ = 4). On our
# straight line J = θ · x (right panel) the secant through any two of its points *is*
# the line, so its slope is x, the tangent's slope, for every ε: the centered difference
# is exact, up to rounding. The step ε = 1.5 in the figure is huge on purpose.

# %%
def curved(x, theta):
    """A curved cost for comparison: J(θ) = x θ³ / 16, with J'(θ) = 3 x θ² / 16."""
    return x * theta**3 / 16


def secant_slope(cost, step):
    """The slope of the secant of cost(x, ·) through θ - step and θ + step."""
    return (cost(x, theta + step) - cost(x, theta - step)) / (2 * step)


step_picture = 1.5
secant_curved, secant_line = secant_slope(curved, step_picture), secant_slope(forward, step_picture)
tangent_curved = 3 * x * theta**2 / 16
print(f"ε = {step_picture}: cubic cost: secant slope {secant_curved}, tangent slope "
      f"{tangent_curved}")
print(f"         straight line: secant slope {secant_line}, tangent slope {backward(x, theta)}")
# Taylor's series of a cubic stops at θ³: the secant is off by exactly ε²/6 · J'''
assert secant_curved - tangent_curved == step_picture**2 / 6 * (6 * x / 16) == 0.28125
assert secant_line == backward(x, theta) == 2.0  # no error at all for the line

fig, panels = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
thetas = np.linspace(1.0, 7.0, 200)
ends = np.array([theta - step_picture, theta + step_picture])
for ax, cost, secant, tangent, name in (
        (panels[0], curved, secant_curved, tangent_curved, "cubic cost x θ³ / 16"),
        (panels[1], forward, secant_line, backward(x, theta), "our cost J = θ · x")):
    ax.plot(thetas, cost(x, thetas), color="black", lw=2, label=name)
    ax.plot(thetas, cost(x, theta) + tangent * (thetas - theta), color="#2a9d8f", lw=4,
            alpha=0.5, label=f"tangent at θ = {theta:g}: slope {tangent:g}")
    ax.plot(thetas, cost(x, ends[0]) + secant * (thetas - ends[0]), "--", color="#e76f51",
            label=f"secant through θ ± ε: slope {secant:g}")
    ax.plot(ends, cost(x, ends), "o", color="#e76f51")
    ax.plot([theta], [cost(x, theta)], "s", color="black")
    ax.set(xlabel="θ", title=f"{name}: secant off by {secant - tangent:g}")
    ax.legend(fontsize=9, loc="upper left")
panels[0].set(ylabel="J(θ)", ylim=(0, 25))
fig.suptitle(f"for a straight line the centered secant is the tangent: no truncation error "
             f"(x = {x:g}, ε = {step_picture})", fontsize="large")
fig.tight_layout()
print("saved", minnet.plot.save(fig, "02_secant_line.png"))

# %% [markdown]
# So for J = θ · x any difference between gradapprox and the backward pass's x is either
# rounding or a bug. The rest of the lesson measures that difference.
#
# ## Two ways to measure the difference
#
# A gradient check compares the backward pass's gradient a (analytic) with the numerical
# estimate n (gradapprox). Their difference only means something relative to their
# size, and there are two common ways to make it relative.
#
# **The element-wise relative error**, one number per coordinate,
#
#     relative error = |a - n| / max(|a|, |n|)
#
# and, for a tensor, its largest value over the coordinates (the "max relative
# error"). `minnet.checker.relative_error(a, n)` computes it with a floor of 1e-8 in
# the denominator, max(|a|, |n|, 1e-8): below 1e-8 a gradient counts as zero, so an
# analytic 0 next to a numerical 1e-14 of rounding noise does not read as 100% wrong.
#
# **The norm form** over a whole vector (or one number),
#
#     difference = ‖a - n‖ / (‖a‖ + ‖n‖)
#
# with Euclidean norms: `minnet.checker.difference`, the number the classic exercise
# computes. It lies between 0 (identical) and 1 (one of them zero, or the two pointing in
# opposite directions). For one number it is |a - n| / (|a| + |n|), between half of the
# element-wise error and all of it.
#
# **The course table's bands** are defined for the element-wise max form, as in the
# classic course notes, and `minnet.checker.band` names them:
#
#     above 1e-2          wrong
#     1e-2 ... 1e-4       suspicious
#     1e-4 ... 1e-7       acceptable, for nets with kinks (ReLU: a step across a kink
#                         mixes two slopes, lesson 05)
#     below 1e-7          excellent
#
# For smooth nets (tanh, softmax, no kinks), where |g| is not small next to |J|, the
# numerical error is far below 1e-4, so 1e-4 there means a bug. Where |g| ≪ |J| the
# rounding term eps·|J|/(h·|g|) can exceed it: 5.0e-4 for a correct gradient below at
# ε = 1e-7 (budget 2.5e-3). We measure both further down. The bands do not carry
# over to the norm form, which averages over coordinates: we show below what that does to
# one wrong coordinate among many.

# %%
floored = float(relative_error(0.0, 1e-14))
print(f"analytic 0, numerical 1e-14: relative error with the 1e-8 floor {floored:.0e}; "
      f"without it |a - n| / max(|a|, |n|) = {abs(0.0 - 1e-14) / 1e-14:g}")
assert floored == 1e-6
print("bands:", {error: band(error) for error in (0.5, 1e-3, 1e-5, 1e-9)})
assert [band(e) for e in (0.5, 1e-3, 1e-5, 1e-9)] == ["wrong", "suspicious", "acceptable",
                                                       "excellent"]

# %% [markdown]
# ## The check by hand
#
# The classic exercise computes gradapprox with ε = 1e-7, then the norm form, and calls
# the gradient right when it is below 1e-7.

# %%
epsilon = 1e-7
theta_plus, theta_minus = theta + epsilon, theta - epsilon
J_plus, J_minus = forward(x, theta_plus), forward(x, theta_minus)
gradapprox = (J_plus - J_minus) / (2 * epsilon)
grad = backward(x, theta)
by_hand = difference(grad, gradapprox)
print(f"J(θ + ε) = {J_plus!r}, J(θ - ε) = {J_minus!r}")
print(f"gradapprox = {gradapprox!r}, grad = {grad!r}")
by_hand_elementwise = float(relative_error(grad, gradapprox))
print(f"difference = {by_hand:.3e} (norm form); relative error {by_hand_elementwise:.3e} "
      f"(element-wise)")
assert by_hand == abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))
assert abs(by_hand - 2.919e-10) < 5e-14  # the classic exercise's number
assert by_hand < 1e-7  # the backward pass is right
assert by_hand <= by_hand_elementwise <= 2 * by_hand  # one number: half of it or all of it

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
# the relative error of gradapprox is at most spacing(θ) / 2ε: a rounding error
# divided by the step, as in lesson 01's error budget.

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
# returns k times the right gradient, the norm form is |k - 1| / (k + 1) and the
# element-wise relative error |k - 1| / k: 1/3 and 1/2 for k = 2, far above any
# threshold. A subtler mistake, a gradient 0.1% too large (k = 1.001), gives a norm form
# of about 5e-4 and a relative error of about 1e-3: still thousands of times the
# exercise's 1e-7. The band is read from the element-wise relative error.

# %%
def backward_returns_theta(x, theta):
    return theta  # wrong: the derivative with respect to θ of θ · x is x, not θ


def backward_doubled(x, theta):
    return 2 * x  # wrong: a factor of 2 too many


def backward_off_by_tenth_percent(x, theta):
    return 1.001 * x  # wrong, but only slightly


candidates = {"x (correct)": backward, "theta": backward_returns_theta, "2x": backward_doubled,
              "1.001x": backward_off_by_tenth_percent}
results, elementwise = {}, {}
for name, candidate in candidates.items():
    results[name] = gradient_check(forward, candidate, x, theta, epsilon=1e-7)
    elementwise[name] = float(relative_error(candidate(x, theta), gradapprox))
    verdict = "right" if results[name] < 1e-7 else "WRONG"
    print(f"backward returns {name:>12}: norm form {results[name]:.3e}, relative error "
          f"{elementwise[name]:.3e}, band '{band(elementwise[name])}' -> the classic rule "
          f"says {verdict}")

# %%
assert results["x (correct)"] < 1e-7 and band(elementwise["x (correct)"]) == "excellent"
for name in ("theta", "2x"):
    assert abs(results[name] - 1 / 3) < 1e-8 and abs(elementwise[name] - 1 / 2) < 1e-8
    assert band(elementwise[name]) == "wrong"
assert abs(results["1.001x"] - 4.997e-4) < 1e-7 and abs(elementwise["1.001x"] - 9.99e-4) < 1e-6
assert band(elementwise["1.001x"]) == "suspicious" and results["1.001x"] > 1000 * 1e-7

# %% [markdown]
# ## Many coordinates: the norm form averages a wrong coordinate away
#
# A net has thousands of parameters. Take the same kind of cost with 10,000 of them,
# J(θ) = θ · x = Σ θᵢ xᵢ, whose gradient is the vector x, and a backward pass that is
# right everywhere except in one coordinate of typical size, which it doubles. The
# element-wise max sees that coordinate alone: relative error 1/2, "wrong". The norm form
# divides the one bad coordinate's error by the norm of all 10,000: about
# |xₖ| / (2 ‖x‖), which is small because ‖x‖ grows as the square root of the number of
# coordinates.

# %%
rng = np.random.default_rng(0)
x_many = rng.standard_normal(10_000)
theta_many = rng.standard_normal(10_000)


def forward_many(parameters):
    """J(θ) = θ · x over 10,000 coordinates; parameters: {"theta": (10000,)}."""
    return float(parameters["theta"] @ x_many)


numerical_many = numerical_gradient(lambda v: forward_many({"theta": v}), theta_many.copy())
typical = int(np.argsort(np.abs(x_many))[len(x_many) // 2])  # a coordinate of median size
one_wrong = x_many.copy()
one_wrong[typical] *= 2
errors_many = relative_error(x_many, numerical_many)
smallest = int(np.argmin(np.abs(x_many)))
steps_many = np.array([default_step("central", value) for value in theta_many])
J_many = abs(forward_many({"theta": theta_many}))
budget_many = EPS * J_many / (steps_many * np.abs(x_many))  # eps |J| / (h |g|), lesson 01
one_wrong_max = float(relative_error(one_wrong, numerical_many).max())
one_wrong_norm = difference(one_wrong, numerical_many)
print(f"correct gradient: relative error median {np.median(errors_many):.1e}, max "
      f"{errors_many.max():.1e} at the smallest gradient |x| = {abs(x_many[smallest]):.1e} "
      f"(|J| = {J_many:.0f}); at most {np.max(errors_many / budget_many):.2f} times the "
      f"budget eps|J|/(h|g|)")
print(f"coordinate {typical} (|x| = {abs(x_many[typical]):.2f}, ‖x‖ = "
      f"{np.linalg.norm(x_many):.0f}) doubled: max relative error {one_wrong_max:.3f} "
      f"('{band(one_wrong_max)}'), norm form {one_wrong_norm:.1e} ('{band(one_wrong_norm)}' "
      f"if the table were read on it)")
assert 5e-10 < np.median(errors_many) < 2e-9
assert int(np.argmax(errors_many)) == smallest and 8e-6 < errors_many.max() < 1e-5
assert np.all(errors_many <= budget_many)
assert abs(one_wrong_max - 0.5) < 1e-6 and band(one_wrong_max) == "wrong"
assert 3.3e-3 < one_wrong_norm < 3.5e-3 and band(one_wrong_norm) == "suspicious"
assert np.isclose(one_wrong_norm, abs(x_many[typical]) / (2 * np.linalg.norm(x_many)), rtol=1e-3)

# %% [markdown]
# The correct gradient of this smooth cost first. A coordinate of ordinary size has a
# relative error of about 1e-9 (the median): where |g| is not small next to |J|, the
# numerical error of a smooth function is far below 1e-4, so 1e-4 there means a bug. The
# largest error, 9.2e-6, sits at the smallest gradient: J ≈ 143 is about a million times
# that gradient, and the rounding error of lesson 01's budget, eps · |J| / (h · |g|),
# grows with that ratio. Every coordinate stays within its budget. So even a correct
# gradient has no single right threshold: it depends on |J| / |g| coordinate by
# coordinate.
#
# Then the doubled coordinate. It is 100% wrong, and the element-wise max says so.
# Its norm form is 3.4e-3, which the table would only call "suspicious"; with 100
# times more parameters, ‖x‖ ten times larger, it would be ten times smaller still.
# The thresholds of the table are for the element-wise max; on the norm form they do
# not apply.
#
# ## Why "deeper nets, larger errors: 1e-2 is fine for 10 layers" is unsafe
#
# Course notes add that the relative error grows with depth, so that for a 10-layer net
# 1e-2 "might be okay". A loss computed through many layers can indeed carry more
# rounding (σ above eps · |J|) and cross more kinks, but a fixed 1e-2 also lets real
# bugs through. Both mistakes above sit far below it: the gradient that
# is 0.1% too large (relative error 9.99e-4, ten times under 1e-2), and the one wrong
# coordinate among 10,000 (norm form 3.4e-3). Lesson 07's bug is of the first kind: one
# layer's dW 1.001 times the right one (W1's max relative error 1.4e-3 at reg = 0,
# lesson 07), which the 1e-2 rule would pass.
#
# minnet's pass rule replaces the fixed threshold with a measurement. For every
# coordinate it measures how noisy J is and how large the truncation error is, and
# allows that coordinate the numerical error these explain, with a safety margin: a
# deep net with a noisy loss gets a larger allowance where its numbers show the noise,
# a smooth one keeps a tiny allowance. `gradient_check_n` (lesson 03) applies that rule
# to the classic exercise's check.

# %%
def gradient_rule(analytic):
    """minnet's verdict on an analytic gradient of forward_many, at the classic ε = 1e-7:
    the row of the report (one tensor, theta)."""
    report = gradient_check_n(forward_many, {"theta": theta_many}, {"dtheta": analytic},
                              epsilon=1e-7)
    return report.rows[0]


print(f"{'backward pass':>22}  {'max rel. error':>14}  {'band':>10}  {'1e-2 rule':>9}  "
      f"{'allowed: median':>15}  {'max':>7}  {'differ':>6}  minnet")
verdicts, allowed_median, allowed_max = {}, {}, {}
for name, analytic in (("correct", x_many), ("0.1% too large", 1.001 * x_many),
                       ("one coordinate doubled", one_wrong)):
    row = gradient_rule(analytic)
    allowed = row.allowed / np.maximum(np.abs(row.analytic), np.abs(row.numerical))
    verdicts[name] = row
    allowed_median[name], allowed_max[name] = float(np.median(allowed)), float(allowed.max())
    rule = "pass" if row.max_rel_error < 1e-2 else "fail"
    print(f"{name:>22}  {row.max_rel_error:14.1e}  {row.band:>10}  {rule:>9}  "
          f"{allowed_median[name]:15.1e}  {allowed_max[name]:7.1e}  "
          f"{int(np.sum(row.differs)):6d}  {row.result}")
correct, tenth, doubled = (verdicts[name] for name in verdicts)
assert correct.result == "PASS" and correct.band == "suspicious"
assert 4.9e-4 < correct.max_rel_error < 5.1e-4
assert 2e-6 < allowed_median["correct"] < 4e-6 and 9e-3 < allowed_max["correct"] < 1.1e-2
budget_smallest = EPS * J_many / (1e-7 * abs(x_many[smallest]))
print(f"eps|J|/(h|g|) at the smallest gradient, h = 1e-7: {budget_smallest:.1e}")
assert 2.45e-3 < budget_smallest < 2.55e-3 and budget_smallest < allowed_max["correct"]
assert tenth.result == "FAIL" and tenth.max_rel_error < 1e-2 and np.sum(tenth.differs) > 9900
assert doubled.result == "FAIL" and np.sum(doubled.differs) == 1
assert doubled.worst[0][0] == (typical,)  # minnet names the wrong coordinate
assert doubled.difference < 1e-2  # the norm form would pass the 1e-2 rule too

# %% [markdown]
# Read the table row by row. The correct gradient's max relative error is 5.0e-4 at the
# classic ε = 1e-7: "suspicious" by the table, for a gradient that is exactly right.
# minnet passes it: the coordinate with the smallest gradient was allowed up to 1e-2 of
# it, the rounding it measured in J divided by the step and by that small gradient
# (lesson 01's eps · |J| / (h · |g|) is 2.5e-3 there; the rule adds a safety margin),
# while the median coordinate was allowed only about 3e-6. The 0.1% bug has a max
# relative error under 1e-2, so the 1e-2 rule passes it; against those small allowances
# almost every coordinate differs (the "differ" column), and minnet fails it. The
# doubled coordinate fails alone, and the report names it.
#
# ## What to remember
#
# - For J = θ · x the centered secant is the line itself: gradapprox differs from x only
#   by rounding (2.919e-10 in the norm form at ε = 1e-7).
# - Two measures: the element-wise relative error |a - n| / max(|a|, |n|) (floor 1e-8;
#   its max over a tensor) and the norm form ‖a - n‖ / (‖a‖ + ‖n‖). The course table's
#   bands (1e-2, 1e-4, 1e-7) are for the element-wise max; "acceptable" up to 1e-4
#   holds for nets with kinks. For smooth nets, where |g| is not small next to |J|, the
#   numerical error is far below 1e-4, so 1e-4 there means a bug; where |g| ≪ |J| the
#   rounding term eps·|J|/(h·|g|) can exceed it (5.0e-4 for a correct gradient here at
#   ε = 1e-7, budget 2.5e-3).
# - The norm form averages a wrong coordinate away: the table does not apply to it.
# - A fixed 1e-2 for deep nets passes a 0.1% bug (relative error 1e-3). minnet's rule
#   allows each coordinate its measured numerical error instead.
#
# With many parameters the same idea is applied to one coordinate at a time: that is
# the N-dimensional check of lesson 03.
