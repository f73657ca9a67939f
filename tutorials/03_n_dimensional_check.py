# %% [markdown]
# # 03 · The N-dimensional gradient check
#
# Lesson 02 checked one parameter. A network has many: here 47 numbers in six tensors.
# The N-dimensional check applies the same centered difference to each of them in
# turn, and compares the whole numerical gradient with the backward pass's gradient.
#
# **The intuition.** Give every parameter a point: its numerical derivative across,
# its analytic one (from the backward pass) up. A correct backward pass puts every
# point on the diagonal. A backward pass that multiplies one tensor's gradient by a
# stray factor k puts that tensor's points on the line of slope k. The classic
# exercise squeezes all the points into one number, the norm form of lesson 02,
#
#     difference = ‖grad - gradapprox‖ / (‖grad‖ + ‖gradapprox‖)
#
# which says *whether* something is wrong; a check per tensor says *where*; the slope
# says *what*.
#
# This is the classic exercise, on its own test case: a 3-layer network
#
#     LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID
#
# written in plain numpy, with two bugs hidden in its backward pass. Its two numbers
# are 0.2850931568 with the bugs and 1.189e-7 once they are fixed. Its N-dimensional
# code calls the backward pass right when the difference is below **2e-7** (only its
# one-dimensional code, lesson 02's, uses 1e-7). We will
#
# 1. run the check the way the exercise does, which only says "something is wrong";
# 2. draw the points, where the two bugs show as lines of slope 2 and 4;
# 3. run `minnet.gradient_check_n`, which names the broken tensors, and fix them one
#    at a time;
# 4. trace the fixed code's 1.189e-7, which lies between 1e-7 and 2e-7, to rounding
#    noise in log(1 - A3), and remove it two ways;
# 5. build the same network from minnet layers and reproduce the bugs with `minnet.bugs`.
#
# Run it as `python tutorials/03_n_dimensional_check.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet import bugs
from minnet.checker import difference
from minnet.params import dictionary_to_vector, gradients_to_vector, vector_to_dictionary

# %% [markdown]
# ## The network, in plain numpy
#
# In this exercise each *column* is a sample: X has shape (4, 3), four features and
# three samples, with the labels Y = [1, 1, 0]. The parameters are W1 (5, 4), b1 (5, 1),
# W2 (3, 5), b2 (3, 1), W3 (1, 3) and b3 (1, 1). The exercise draws all of them with
# `np.random.seed(1)` and `np.random.randn`, in this order. We draw the very same
# numbers from a private `np.random.RandomState(1)`, which gives the same stream
# without touching numpy's global random state. The cost is the logistic
# (cross-entropy) cost averaged over the m = 3 samples:
#
#     J = -(1/m) Σ [ Y log A3 + (1 - Y) log(1 - A3) ]
#
# The forward pass below computes it exactly as the exercise does, operation for
# operation: the last digits of J, and with them the number 1.189e-7, depend on it.


# %%
def exercise_test_case():
    """X (4, 3), Y (3,) and the six parameter tensors of the exercise's test case."""
    rs = np.random.RandomState(1)  # the stream of np.random.seed(1), kept private
    X = rs.randn(4, 3)
    Y = np.array([1, 1, 0])
    W1, b1 = rs.randn(5, 4), rs.randn(5, 1)
    W2, b2 = rs.randn(3, 5), rs.randn(3, 1)
    W3, b3 = rs.randn(1, 3), rs.randn(1, 1)
    return X, Y, {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}


def forward_propagation_n(X, Y, parameters):
    """The cost J and a cache of the intermediate values backward needs."""
    m = X.shape[1]
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.maximum(0, Z2)
    Z3 = parameters["W3"] @ A2 + parameters["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1.0 / m * np.sum(logprobs)
    return cost, (Z1, A1, Z2, A2, Z3, A3)


def backward_propagation_n(X, Y, parameters, cache, fix_dW2=False, fix_db1=False):
    """Every gradient of the cost, with the two classic bugs unless they are fixed."""
    m = X.shape[1]
    Z1, A1, Z2, A2, Z3, A3 = cache
    dZ3 = A3 - Y                                  # sigmoid + cross-entropy, per sample
    dW3 = 1.0 / m * dZ3 @ A2.T
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = parameters["W3"].T @ dZ3
    dZ2 = dA2 * (A2 > 0)                          # ReLU passes the gradient where it was on
    dW2 = 1.0 / m * dZ2 @ A1.T * (1 if fix_dW2 else 2)  # BUG unless fixed: a stray factor 2
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = parameters["W2"].T @ dZ2
    dZ1 = dA1 * (A1 > 0)
    dW1 = 1.0 / m * dZ1 @ X.T
    db1 = (1.0 if fix_db1 else 4.0) / m * np.sum(dZ1, axis=1, keepdims=True)  # BUG: a stray 4
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2,
            "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


X, Y, parameters = exercise_test_case()
cost, cache = forward_propagation_n(X, Y, parameters)
gradients = backward_propagation_n(X, Y, parameters, cache)
print("X:", X.shape, "Y:", Y, {name: value.shape for name, value in parameters.items()})
print(f"cost J = {cost:.6f}")
assert abs(cost - 2.407833) < 1e-6


# %% [markdown]
# ## The check as the exercise does it
#
# Flatten every parameter into one long vector θ of 47 numbers
# (`minnet.params.dictionary_to_vector`), and the gradients the same way, in the same
# order (`gradients_to_vector`; it takes the "dW1" keys and ignores dZ1, dA1, ...).
# Then, for each i:
#
#     θ⁺ = θ with θ_i + ε,   θ⁻ = θ with θ_i - ε
#     gradapprox_i = (J(θ⁺) - J(θ⁻)) / 2ε
#
# and compare the two whole vectors with the norm form. The exercise uses ε = 1e-7
# and reports a mistake when the difference is above 2e-7.

# %%
def classic_check(cost_fn, parameters, gradients, epsilon=1e-7):
    """The exercise's loop over θ: returns (difference, grad vector, gradapprox vector).

    cost_fn(params) -> J; gradients: keyed "dW1", ... like the exercise's backward.
    """
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients, like=parameters)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.size):
        theta_plus, theta_minus = theta.copy(), theta.copy()
        theta_plus[i] += epsilon
        theta_minus[i] -= epsilon
        J_plus = cost_fn(vector_to_dictionary(theta_plus, parameters))
        J_minus = cost_fn(vector_to_dictionary(theta_minus, parameters))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    return difference(grad, gradapprox), grad, gradapprox


def exercise_cost(params):
    return forward_propagation_n(X, Y, params)[0]


N_DIMENSIONAL_RULE, ONE_DIMENSIONAL_RULE = 2e-7, 1e-7  # the exercise's two pass rules

buggy_difference, grad_vector, gradapprox_vector = classic_check(exercise_cost, parameters,
                                                                 gradients)
print(f"difference with the two bugs = {buggy_difference:.10f} -> "
      f"{'there is a mistake in the backward pass' if buggy_difference > N_DIMENSIONAL_RULE else 'right'}")
assert abs(buggy_difference - 0.2850931568) < 1e-10

# %% [markdown]
# The difference is far above 2e-7: something is wrong. But where? The single number
# mixes all 47 coordinates together.
#
# ## The picture: one point per parameter
#
# Draw every coordinate as a point, its numerical derivative gradapprox_i across and
# the backward pass's grad_i up, on axes with the same scale.

# %%
names = list(parameters)
sizes = [parameters[name].size for name in names]
owner = np.repeat(names, sizes)               # which tensor each coordinate of θ belongs to
on_diagonal = np.isclose(grad_vector, gradapprox_vector, rtol=1e-5, atol=1e-9)
for name, slope in (("W2", 2), ("b1", 4)):
    mine = owner == name
    moving = mine & (gradapprox_vector != 0)
    ratios = grad_vector[moving] / gradapprox_vector[moving]
    print(f"{name}: analytic / numerical = {ratios.min():.6f} ... {ratios.max():.6f} "
          f"over its {moving.sum()} nonzero coordinates")
    assert np.allclose(ratios, slope, rtol=1e-5)
others = ~np.isin(owner, ["W2", "b1"])
zeros = int(np.sum(gradapprox_vector == 0))
print(f"the other {others.sum()} coordinates: all on the diagonal: {on_diagonal[others].all()}")
print(f"{zeros} of the 47 coordinates do not move the cost at all (a ReLU is off for every "
      "sample): both derivatives are exactly 0")
assert on_diagonal[others].all() and zeros == 20

fig, ax = plt.subplots(figsize=(6.4, 6.4))
span = np.array([-1.2, 2.8])
for slope, style in ((1, "-"), (2, "--"), (4, ":")):
    ax.plot(span, slope * span, style, color="grey", lw=1, label=f"analytic = {slope} × numerical")
for name, color in (("W2", "#e76f51"), ("b1", "#f4a261")):
    mine = owner == name
    ax.plot(gradapprox_vector[mine], grad_vector[mine], "o", color=color, ms=7,
            label=f"{name} (bug)")
ax.plot(gradapprox_vector[others], grad_vector[others], "o", color="#1f77b4", ms=5, alpha=0.8,
        label="W1, b2, W3, b3")
ax.set(xlim=span, ylim=span, aspect="equal", xlabel="numerical derivative gradapprox_i",
       ylabel="analytic derivative grad_i (backward pass)")
ax.set_title("the two bugs lie on lines of slope 2 (W2) and 4 (b1);\n"
             "every other parameter lies on the diagonal")
ax.legend(fontsize=9, loc="upper left")
ax.grid(alpha=0.3)
minnet.plot.save(fig, "03_analytic_vs_numerical.png")

# %% [markdown]
# The picture already says where and what: W2's points lie on the line of slope 2,
# b1's on the line of slope 4, everything else on the diagonal. (The 20 points at the
# origin belong to coordinates whose ReLU is off for all three samples.)
#
# ## The same check with minnet, tensor by tensor
#
# `minnet.gradient_check_n(forward, parameters, gradients, epsilon=1e-7)` runs the same
# centered differences. `forward(params)` must return the cost, or `(cost, cache)` as
# our forward does; `gradients` may be keyed "dW1" or "W1" (other keys are ignored);
# `epsilon` is used as given, like the exercise's. It never modifies `parameters`.
# The report has one row per tensor, and `report.difference` is the exercise's number.

# %%
def forward(params):
    return forward_propagation_n(X, Y, params)


report = minnet.gradient_check_n(forward, parameters, gradients, epsilon=1e-7)
print(report)

# %%
numerical = np.concatenate([row.quotients for row in report.rows])
assert np.array_equal(numerical, gradapprox_vector)  # the very same centered differences
assert np.isclose(report.difference, buggy_difference, rtol=1e-12, atol=0)
assert sorted(report.failed) == ["W2", "b1"]
assert report["W2"].band == report["b1"].band == "wrong"

# %% [markdown]
# ## Fixing the bugs one at a time
#
# The report names b1 and W2. Start with the one nearest the loss: backpropagation
# runs from the loss backwards, so a mistake in a layer near the loss (in dZ2, say)
# flows into every gradient computed after it, those of the layers before it: fixing
# the tensor nearest the loss first can make other failures disappear with it. W2 is
# nearer the loss than b1. The ratio of its analytic and numerical values (the slope
# in the picture) tells what kind of mistake it is.

# %%
def ratio(row):
    """How many times larger the analytic gradient is than the numerical one, overall."""
    return np.linalg.norm(row.analytic) / np.linalg.norm(row.quotients)


print(f"W2: analytic / numerical = {ratio(report['W2']):.6f}")
print(f"b1: analytic / numerical = {ratio(report['b1']):.6f}")
assert abs(ratio(report["W2"]) - 2) < 1e-5 and abs(ratio(report["b1"]) - 4) < 1e-5

# %% [markdown]
# dW2 is exactly twice what it should be, everywhere: a stray factor 2 in the line
# that computes dW2. Fix that line (here: `fix_dW2=True`) and check again.

# %%
gradients = backward_propagation_n(X, Y, parameters, cache, fix_dW2=True)
report = minnet.gradient_check_n(forward, parameters, gradients, epsilon=1e-7)
print(report)
assert report.failed == ["b1"]

# %% [markdown]
# Only b1 is left, and its analytic gradient is 4 times the numerical one: the stray
# 4 in the db1 line. Note that W1 passed all along: the bug in db1 does not travel,
# because db1 is not used to compute anything else; dZ1, from which dW1 is made, is
# right. Fix db1 too:

# %%
gradients = backward_propagation_n(X, Y, parameters, cache, fix_dW2=True, fix_db1=True)
report = minnet.gradient_check_n(forward, parameters, gradients, epsilon=1e-7)
print(report)
assert report.passed

fixed_difference, fixed_grad, fixed_gradapprox = classic_check(exercise_cost, parameters,
                                                               gradients)
print(f"difference of the fixed code at epsilon = 1e-7: {fixed_difference:.3e}")
print(f"  below the N-dimensional rule 2e-7: {fixed_difference < N_DIMENSIONAL_RULE}; "
      f"below the one-dimensional rule 1e-7: {fixed_difference < ONE_DIMENSIONAL_RULE}")
assert abs(fixed_difference - 1.189e-7) < 0.001e-7
assert fixed_difference == report.difference
assert ONE_DIMENSIONAL_RULE < fixed_difference < N_DIMENSIONAL_RULE

# %% [markdown]
# The fixed code's difference, 1.189e-7, passes the exercise's N-dimensional rule
# (2e-7) but would fail the 1e-7 of its one-dimensional code. It is not zero, and it is
# not tiny: a correct backward pass comes within a factor 2 of the line. Why?
#
# ## Where 1.189e-7 comes from: the error budget
#
# The backward pass is now right, so all of the difference is the error of
# gradapprox, the numerical side. The error budget of lesson 01:
#
# - Each evaluation of a function carries a rounding error σ. A loss computed through
#   many operations carries at best about σ ≈ eps·|J| (eps = 2.2e-16 in float64),
#   often more (cancellation) — minnet measures σ whenever a probe does not agree at
#   once.
# - The difference of two evaluations is off by up to 2σ, so the centered quotient
#   (J(θ + ε) - J(θ - ε)) / 2ε has a rounding error of about σ / ε.
# - Its truncation error is (ε²/6)·|J'''|.
# - For a gradient entry g the relative error is then about
#   eps·|J| / (ε·|g|) + C·ε², with C = |J'''| / (6·|g|) (eps = 2.2e-16, machine
#   epsilon; ε, the step), and with the measured σ in place of eps·|J| when
#   cancellation makes it larger.
#
# Look at the last layer. The third sample has the label 0, and its A3 is very close to 1:

# %%
A3 = cache[5].ravel()
print(f"Y = {Y}, A3 = {np.array2string(A3, precision=8)}")
print(f"third sample: label {Y[2]}, A3 = {A3[2]:.5f}, 1 - A3 = {1 - A3[2]:.3e}")
print(f"A3's rounding error, up to spacing(A3) / 2 = {np.spacing(A3[2]) / 2:.1e}, is "
      f"1 / (1 - A3) = {1 / (1 - A3[2]):.0f} times larger relative to 1 - A3 than to A3")
assert Y[2] == 0 and abs(A3[2] - 0.99887) < 5e-6
assert np.spacing(A3[2]) / 2 == 2.0**-54 and 850 < 1 / (1 - A3[2]) < 900

# %% [markdown]
# For a label 0 the cost takes log(1 - A3). A3 is stored with an absolute rounding
# error of up to half its spacing, `np.spacing(A3) / 2` = 5.6e-17 (IEEE 754: A3 is
# rounded to the nearest float64); the subtraction 1 - A3 keeps that absolute error but
# shrinks the value to 1.1e-3, so its *relative* error is 888 times larger than A3's:
# cancellation, as in lesson 01. log turns a relative error
# of 1 - A3 into an absolute error of log(1 - A3), and the cost divides it by m = 3.
# So this one term should carry a noise of order spacing(A3) / (2 (1 - A3) m), far above
# eps·|J|.
#
# We can measure the noise. Move b3 (which moves Z3 of every sample) by steps of 1e-10,
# a thousand times smaller than ε: over such a range the cost is a parabola far beyond
# rounding precision, so whatever a parabola cannot fit is rounding noise. (minnet's
# checker measures σ in a similar way whenever a probe does not agree at once.) We
# measure the whole cost, and each sample's term of it on its own.

# %%
def cost_noise(cost_fn, params, name="b3", step=1e-10, points=101):
    """The standard deviation of the rounding noise in cost_fn, along params[name][0, 0]."""
    offsets = np.arange(points) - points // 2
    values = []
    for k in offsets:
        moved = {key: value.copy() for key, value in params.items()}
        moved[name][0, 0] += k * step
        values.append(cost_fn(moved))
    values = np.array(values)
    fit = np.polyval(np.polyfit(offsets, values, 2), offsets)
    return float(np.std(values - fit))


def sample_term(params, i):
    """Sample i's term of the exercise's cost, computed as the exercise computes it."""
    A3 = forward_propagation_n(X, Y, params)[1][5]
    m = X.shape[1]
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    return 1.0 / m * logprobs[0, i]


EPS = np.finfo(np.float64).eps
sigma = cost_noise(exercise_cost, parameters)
term_sigmas = [cost_noise(lambda p, i=i: sample_term(p, i), parameters) for i in range(3)]
predicted_term = np.spacing(A3[2]) / (2 * (1 - A3[2]) * X.shape[1])
print(f"eps·|J| = {EPS * abs(cost):.1e}; measured noise of the cost σ = {sigma:.1e}")
print("noise of each sample's term: " + ", ".join(f"{s:.1e}" for s in term_sigmas)
      + f"  (spacing(A3) / (2 (1 - A3) m) = {predicted_term:.1e} for the third)")
assert sigma > 10 * EPS * abs(cost)
assert term_sigmas[2] > 10 * max(term_sigmas[:2])          # the log(1 - A3) term
assert 0.5 < term_sigmas[2] / sigma < 2                     # ... is nearly all of the noise
assert 0.2 < term_sigmas[2] / predicted_term < 5            # ... and of the size cancellation gives

# %% [markdown]
# The cost's noise σ is more than 10 times eps·|J|, and nearly all of it is the third
# sample's log(1 - A3) term, of the size the cancellation predicts. Now the budget:
# at ε = 1e-7 each gradapprox_i should be off by about σ / ε. The coordinates that do
# not move the cost (the 20 at the origin of the picture) have J(θ⁺) = J(θ⁻) exactly and
# no error; the others should scatter by σ / ε. The norm form then adds them up:
# ‖grad - gradapprox‖ ≈ √n · σ/ε over the n coordinates that move the cost, and the
# denominator is about 2‖grad‖.

# %%
errors = fixed_grad - fixed_gradapprox
moves = fixed_gradapprox != 0
rms = np.sqrt(np.mean(errors[moves] ** 2))
predicted = np.sqrt(moves.sum()) * (sigma / 1e-7) / (2 * np.linalg.norm(fixed_grad))
print(f"σ / ε = {sigma / 1e-7:.1e}; the disagreements |grad - gradapprox| of the "
      f"{moves.sum()} coordinates that move the cost: rms {rms:.1e}, largest {np.abs(errors).max():.1e}")
print(f"the budget's difference √n·(σ/ε) / (2‖grad‖) = {predicted:.2e}; "
      f"measured {fixed_difference:.2e}")
assert np.all(errors[~moves] == 0)
assert 0.3 < rms / (sigma / 1e-7) < 3
assert 0.5 < fixed_difference / predicted < 2

# %% [markdown]
# σ / ε is the size of the disagreements, and the budget predicts the difference
# within a factor 2. The fixed code is right; 1.189e-7 is the rounding noise of
# log(1 - A3), divided by ε.
#
# ## The picture: the difference against ε
#
# The budget says more: the rounding term falls as 1/ε and the truncation term grows
# as ε². Run the exercise's check over a range of ε, for the fixed code and for the
# code with the bugs, and draw the exercise's two rules as horizontal lines. The second
# panel zooms in on the number line around the rules at ε = 1e-7.
#
# A second remedy removes the noise at its source. With A3 = sigmoid(Z3),
# log A3 = -log(1 + e^-Z3) and log(1 - A3) = -log(1 + e^Z3), so the cost per sample is
# log(1 + e^Z3) - Y·Z3, which `np.logaddexp(0, Z3) - Y * Z3` computes without ever
# forming 1 - A3. (minnet's `SigmoidCrossEntropy` is written this way.) Its curve is in
# the figure too.

# %%
def stable_cost(params):
    """The exercise's cost, computed without the cancellation in 1 - A3."""
    A1 = np.maximum(0, params["W1"] @ X + params["b1"])
    A2 = np.maximum(0, params["W2"] @ A1 + params["b2"])
    Z3 = params["W3"] @ A2 + params["b3"]
    return np.mean(np.logaddexp(0, Z3) - Y * Z3)


buggy_gradients = backward_propagation_n(X, Y, parameters, cache)
epsilons = np.logspace(-9, -2, 22)
curves = {
    "with the two bugs": [classic_check(exercise_cost, parameters, buggy_gradients, e)[0]
                          for e in epsilons],
    "fixed code": [classic_check(exercise_cost, parameters, gradients, e)[0] for e in epsilons],
    "fixed code, stable cost (logaddexp)": [classic_check(stable_cost, parameters, gradients, e)[0]
                                            for e in epsilons],
}
wide_difference = classic_check(exercise_cost, parameters, gradients, 1e-5)[0]
stable_difference = classic_check(stable_cost, parameters, gradients, 1e-7)[0]
sigma_stable = cost_noise(stable_cost, parameters)
print(f"fixed code, epsilon = 1e-5: difference {wide_difference:.1e}")
print(f"fixed code, stable cost, epsilon = 1e-7: difference {stable_difference:.1e} "
      f"(its noise σ = {sigma_stable:.1e}, eps·|J| = {EPS * abs(cost):.1e})")
assert abs(stable_cost(parameters) - cost) < 1e-12
assert 8e-10 < wide_difference < 1.1e-9
assert 50 < fixed_difference / stable_difference < 200 and sigma_stable < sigma / 10
assert sigma_stable < 3 * EPS * abs(cost)  # the stable cost's noise is about eps·|J|
assert np.allclose(curves["with the two bugs"], buggy_difference, rtol=1e-5)

# The two terms of the budget in norm form: R / ε (rounding, measured σ) and T ε²
# (truncation, through the largest ε, where it alone is left).
rounding = np.sqrt(moves.sum()) * sigma / (2 * np.linalg.norm(fixed_grad))
truncation = curves["fixed code"][-1] / epsilons[-1] ** 2
best_step = (rounding / (2 * truncation)) ** (1 / 3)
measured_best = epsilons[np.argmin(curves["fixed code"])]
print(f"the budget's best step (R / 2T)^(1/3) = {best_step:.1e}; "
      f"the measured curve is lowest at epsilon = {measured_best:.1e}")
print(f"at epsilon = 1e-5: rounding R / ε = {rounding / 1e-5:.1e}, "
      f"truncation T ε² = {truncation * 1e-10:.1e}")
assert 1 / 3 < measured_best / best_step < 3
assert truncation * 1e-10 < rounding / 1e-5 / 100

fig, (sweep, line) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [3, 2]})
styles = {"with the two bugs": ("#e76f51", "s-"), "fixed code": ("#1f77b4", "o-"),
          "fixed code, stable cost (logaddexp)": ("#2a9d8f", "^-")}
for label, values in curves.items():
    color, style = styles[label]
    sweep.loglog(epsilons, values, style, color=color, ms=4, label=label)
sweep.loglog(epsilons, rounding / epsilons, ":", color="black", lw=1,
             label="budget: rounding √n·σ/(2ε‖grad‖)")
sweep.loglog(epsilons, truncation * epsilons**2, "--", color="black", lw=1,
             label="budget: truncation ∝ ε²")
for rule, color, text in ((N_DIMENSIONAL_RULE, "#6a4c93", "N-D rule 2e-7"),
                          (ONE_DIMENSIONAL_RULE, "#b5838d", "1-D rule 1e-7")):
    sweep.axhline(rule, color=color, lw=1.2, label=text)
    line.axvline(rule, color=color, lw=2, label=text)
sweep.axvline(1e-7, color="grey", lw=0.8, ls="-.")
sweep.annotate(f"{buggy_difference:.10f}", (1e-7, buggy_difference), xytext=(2e-8, 0.02),
               arrowprops={"arrowstyle": "->"})
sweep.annotate(f"{fixed_difference:.3e}", (1e-7, fixed_difference), xytext=(4e-7, 1e-5),
               arrowprops={"arrowstyle": "->"})
sweep.annotate(f"{wide_difference:.1e} at ε = 1e-5", (1e-5, wide_difference),
               xytext=(2e-9, 1e-11), arrowprops={"arrowstyle": "->"})
sweep.set(xlabel="step ε", ylabel="difference (norm form)", ylim=(1e-12, 3),
          title="the difference against ε")
sweep.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1, 0.9))
sweep.grid(alpha=0.3, which="both")
line.plot([fixed_difference], [0], "o", color="#1f77b4", ms=11,
          label=f"fixed code at ε = 1e-7: {fixed_difference:.3e}")
line.annotate(f"with the bugs: {buggy_difference:.10f}, far off this scale →", (3e-7, 0.35),
              xytext=(0.4e-7, 0.35), fontsize=9, color="#e76f51")
line.annotate("passes the N-D rule,\nwould fail the 1-D rule", (fixed_difference, 0.05),
              xytext=(fixed_difference, 0.12), ha="center", fontsize=9)
line.set(xlim=(0, 3e-7), ylim=(-0.5, 0.5), yticks=[], xlabel="difference at ε = 1e-7",
         title="the number line at ε = 1e-7")
line.legend(fontsize=9, loc="lower center")
fig.suptitle("the fixed code's 1.189e-7 sits between the 1-D (1e-7) and N-D (2e-7) rules: "
             "rounding noise / ε, not a bug", fontsize="large")
fig.tight_layout()
minnet.plot.save(fig, "03_difference_vs_epsilon.png")

# %% [markdown]
# Read the figure from the left. Below ε ≈ 1e-4 the fixed code's difference falls as
# 1/ε along the budget's rounding line; above it, it grows as ε² along the truncation
# line; the lowest point is where the budget puts it. The code with the bugs stays at
# 0.285 for every ε: no choice of step hides a factor 2. The stable cost has no
# cancellation, its noise σ is about eps·|J|, and its curve lies about a hundred times
# lower at small ε.
#
# Two remedies, both on the numerical side, none in the backward pass:
#
# - **A larger ε.** From ε = 1e-7 to ε = 1e-5 the rounding term σ / ε shrinks a hundred
#   times while the truncation term stays far below it: the difference drops to 9e-10.
# - **A cost without the cancellation** (`np.logaddexp`): the noise σ itself shrinks.
#
# **minnet's verdict** does not use a fixed threshold on the norm form. For each
# coordinate it allows
#
#     |analytic - numerical| <= 1e-6 · max(|analytic|, |numerical|) + (bound on the rounding)
#
# where the rounding bound is several times σ / ε, with σ measured whenever a probe
# does not agree at once: such a coordinate gets a second look with wider steps and
# Richardson extrapolation, which removes the truncation error. That is why it passed
# the fixed code whatever the noise, while failing W2 and b1, whose errors (factors 2
# and 4) are far beyond any rounding.

# %% [markdown]
# ## The same network from minnet layers
#
# minnet puts samples in *rows*: X becomes X.T, of shape (3, 4), and an `Affine`
# layer computes x @ W + b with W of shape (in, out), the transpose of the exercise's
# W1. `SigmoidCrossEntropy` is the sigmoid and the cost in one, written stably.
# Copy the exercise's parameters in and the two implementations agree.

# %%
net = minnet.Net([minnet.Affine(4, 5), minnet.ReLU(), minnet.Affine(5, 3), minnet.ReLU(),
                  minnet.Affine(3, 1)], minnet.SigmoidCrossEntropy())
for name, value in parameters.items():  # W: transposed, b: (n, 1) -> (n,)
    net.params[name][...] = value.T if name.startswith("W") else value.ravel()
X_rows, y = X.T, Y
net_cost, net_grads = net.loss_and_grads(X_rows, y)
print(f"net.loss = {net_cost:.15f}, exercise cost = {cost:.15f}")
for name in net.params:
    exercise_grad = gradients["d" + name]  # the fixed gradients from above
    expected = exercise_grad.T if name.startswith("W") else exercise_grad.ravel()
    assert np.allclose(net_grads[name], expected, rtol=1e-12, atol=1e-15), name
assert abs(net_cost - cost) < 1e-12
print("the net's gradients equal the fixed exercise gradients, tensor by tensor")

# %% [markdown]
# `minnet.check_net` checks the net's own backward pass. `minnet.bugs.inject` puts
# a known mistake into one layer for the length of a `with` block; the catalogue's
# "affine-dW-doubled" is exactly the exercise's dW2 bug. W2 lives in `net.layers[2]`
# (layers 1 and 3 are the ReLUs), so that is the layer to break. The catalogue's
# "affine-db-times-4" is the db1 bug, in `net.layers[0]`. The ratios come out as 2
# and 4 again.

# %%
print(minnet.check_net(net, X_rows, y))
assert minnet.check_net(net, X_rows, y).passed

with bugs.inject(net, "affine-dW-doubled", layer=2):
    buggy = minnet.check_net(net, X_rows, y)
print(buggy)
assert buggy.failed == ["W2"]

with bugs.inject(net, "affine-dW-doubled", layer=2):
    with bugs.inject(net, "affine-db-times-4", layer=0):
        both = minnet.check_net(net, X_rows, y)
print("both bugs injected -> failed:", both.failed)
print(f"W2: analytic / numerical = {ratio(both['W2']):.6f}, "
      f"b1: analytic / numerical = {ratio(both['b1']):.6f}")
assert sorted(both.failed) == ["W2", "b1"]
assert abs(ratio(both["W2"]) - 2) < 1e-5 and abs(ratio(both["b1"]) - 4) < 1e-5
assert minnet.check_net(net, X_rows, y).passed  # the with-blocks took the bugs out again

# %% [markdown]
# ## What to remember
#
# - The N-dimensional check is the one-dimensional check applied to each parameter in
#   turn, with the norm form over the whole vector. On the exercise's test case it
#   gives 0.2850931568 with the two bugs and 1.189e-7 once they are fixed.
# - One number says *whether*; a check per tensor says *where*; the slope of the
#   analytic-vs-numerical points (2 for W2, 4 for b1) says *what*.
# - The exercise's N-dimensional code passes below 2e-7 (its one-dimensional code
#   uses 1e-7). The fixed code's 1.189e-7 lies between the two: it is rounding noise,
#   not a bug.
# - The error budget explains it: the quotient's rounding error is about σ / ε, and σ
#   here is over 10 times eps·|J| because log(1 - A3) with A3 = 0.99887 cancels. Measure
#   σ, do not assume eps·|J|.
# - Remedies on the numerical side: a larger ε (1e-5 gives 9e-10), or a cost without
#   the cancellation (`np.logaddexp`). minnet's verdict measures σ and needs neither.
