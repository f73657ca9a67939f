# %% [markdown]
# # 10 · Tiny gradients: when the rounding noise is as large as the gradient
#
# Lesson 09 measured the error budget of a centered difference: relative to the gradient
# entry g it estimates,
#
#     relative error  ≈  eps·|J| / (h·|g|)  +  C·h²,      C = |J'''| / (6·|g|)
#
# (rounding of the loss J, divided by the step h; then Taylor's truncation). The first
# term carries the ratio |J| / |g|. A gradient of 1e-10 next to a loss of 1 makes it
# 1e10 times larger than for a gradient as large as its loss: at minnet's default step
# the rounding noise of the quotient is then as large as the gradient itself, and a
# correct gradient and a doubled one look alike. This lesson shows:
#
# 1. the budget as a picture: the smaller |g| next to |J|, the larger the best step;
# 2. the floor of the relative error, which hides mistakes in gradients below 1e-8, and
#    `loss_scale=`, which lifts them above it;
# 3. a tiny gradient next to an ordinary loss, where the remedy is a larger step;
# 4. the remedies side by side (default step, a larger step, loss scaling, both, the
#    complex step), measured, and when each is the better one.
#
# Run it as `python tutorials/10_tiny_gradients.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.checker import band, default_step, numerical_gradient, relative_error

EPS = float(np.finfo(np.float64).eps)  # every check in this lesson runs in float64

# %% [markdown]
# ## The budget when the gradient is small next to the loss
# Take the budget with C = 1 and three ratios |J| / |g|: 10 (an ordinary gradient, as
# in lesson 09's net), 1e5 and 1e10. The two terms balance at
#
#     h* = (eps·|J| / (2·C·|g|))^(1/3),
#
# so h* grows as (|J| / |g|)^(1/3), and the best error reached there, 3·C·h*², grows
# as (|J| / |g|)^(2/3).

# %%
steps_grid = np.logspace(-8, 0, 161)
fig, ax = plt.subplots(figsize=(7, 4.6))
best_of = {}
for ratio, color in ((1e1, "#2a9d8f"), (1e5, "#e9c46a"), (1e10, "#e76f51")):
    total = EPS * ratio / steps_grid + steps_grid ** 2
    h_star = (EPS * ratio / 2) ** (1 / 3)
    best_of[ratio] = (h_star, 3 * h_star ** 2)
    ax.loglog(steps_grid, total, color=color, label=f"|J| / |g| = {ratio:.0e}")
    ax.plot([h_star], [best_of[ratio][1]], "o", color=color)
    print(f"|J|/|g| = {ratio:.0e}: h* = {h_star:.1e}, best relative error "
          f"{best_of[ratio][1]:.1e}; rounding term at the default step "
          f"{default_step('central', 0):.1e}: {EPS * ratio / default_step('central', 0):.1e}")
    assert abs(total.min() / best_of[ratio][1] - 1) < 0.01   # the formula is the minimum
ax.axvline(default_step("central", 0), color="#555555", ls=":", lw=1,
           label="minnet's default step, eps^(1/3)")
ax.axhline(0.5, color="#c0392b", ls="--", lw=1, label="0.5: a doubled gradient's error")
ax.set(xlabel="step h", ylabel="budget: eps·|J|/(h·|g|) + h²  (C = 1)", ylim=(1e-12, 1e4),
       title="the smaller |g| is next to |J|, the larger the step that balances the budget")
ax.legend(fontsize=8, loc="upper right")
minnet.plot.save(fig, "10_budget.png")
assert abs(best_of[1e10][0] / best_of[1e1][0] - 1e3) < 1   # h*: 1e-5 -> 1e-2
assert EPS * 1e10 / default_step("central", 0) > 0.3     # noise at the default step
assert best_of[1e10][1] < 1e-3                              # still far below 0.5
stands_out = 0.5 / best_of[1e10][1]
print(f"|J|/|g| = 1e+10 at h*: a doubled gradient's 0.5 is {stands_out:.0f} times the budget")
assert 1500 < stands_out < 1700                             # "about 1,600"

# %% [markdown]
# The picture (`figures/10_budget.png`): at the default step, about 6e-6, the budget of
# the 1e10 curve is about 0.4, as large as a doubled gradient's error of 0.5: a doubled
# gradient cannot be told from a correct one there. Yet the same curve comes down to
# 3e-4 at h ≈ 1e-2, where a doubled gradient's 0.5 stands out by a factor of about
# 1,600. The step is a choice, and the rounding term falls as 1/h. (Lesson 03 made the
# same move for the classic exercise: a larger ε, 1e-5 instead of 1e-7, divides its
# rounding error by 100.)
#
# Before we measure that on a net, one more thing stands between a tiny gradient and a
# readable relative error.
#
# ## The floor of the relative error
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
assert abs(float(relative_error(2e-10, 1e-10)) - 1e-2) < 1e-12
assert band(float(relative_error(2e-12, 1e-12))) == "acceptable"

# %% [markdown]
# A factor-of-2 mistake reads as "acceptable" once the gradients are near 1e-12.
#
# ## A tiny loss: scale it
# Where do gradients that small come from? First case: a regression net whose outputs
# and targets are tiny, for example quantities measured in the wrong unit so that every
# value is around 1e-5. Here the output layer's weights are multiplied by 1e-5 and the
# targets are of that size too; with MSE the loss is around 1e-10 and the gradients of
# the first layer around 1e-11. The loss is as tiny as the gradients, so |J| / |g| is
# ordinary and the quotient is accurate: only the floor hides the mistake.

# %%
rng = np.random.default_rng(3)
X_reg = rng.standard_normal((16, 3))
UNIT = 1e-5
tiny = minnet.Net.mlp([3, 8, 2], activation="tanh", loss="mse", seed=2)
tiny.params["W2"][:] *= UNIT            # the output layer, scaled down in place
y_reg = UNIT * rng.standard_normal((16, 2))
tiny_loss, tiny_grads = tiny.loss_and_grads(X_reg, y_reg)
largest_W1 = float(np.abs(tiny_grads["W1"]).max())
print(f"loss {tiny_loss:.1e}, largest |dW1| {largest_W1:.1e}, "
      f"|J| / |g| about {tiny_loss / np.median(np.abs(tiny_grads['W1'])):.0f}")
assert tiny_loss < 1e-9 and largest_W1 < 1e-10

# %% [markdown]
# Hide the classic bug in the first layer, a doubled dW (`affine-dW-doubled`), and
# check; then check again with `loss_scale=`, which multiplies the loss, and so every
# gradient, by a constant before comparing. Derivatives are linear, so nothing else
# changes, but the gradients climb above the floor.

# %%
scale = float(10.0 ** np.ceil(-np.log10(largest_W1) - 2))   # brings W1's gradients near 1e-2
with minnet.bugs.inject(tiny, "affine-dW-doubled", layer=0):
    plain = minnet.check_net(tiny, X_reg, y_reg)
    scaled = minnet.check_net(tiny, X_reg, y_reg, loss_scale=scale)
fixed = minnet.check_net(tiny, X_reg, y_reg, loss_scale=scale)
print(f"dW1 doubled:                   W1 max relative error {plain['W1'].max_rel_error:.1e} "
      f"'{plain['W1'].band}', {plain['W1'].result}; norm-form difference {plain.difference:.1e}")
print(f"dW1 doubled, loss_scale={scale:.0e}: W1 max relative error "
      f"{scaled['W1'].max_rel_error:.2f} '{scaled['W1'].band}', {scaled['W1'].result}")
print(f"correct,     loss_scale={scale:.0e}: W1 max relative error "
      f"{fixed['W1'].max_rel_error:.1e}, {fixed['W1'].result}")
assert plain["W1"].band != "wrong" and plain.difference < 1e-4   # the numbers understate it
assert plain.failed == ["W1"]                                     # minnet's rule does not
assert scaled.failed == ["W1"] and abs(scaled["W1"].max_rel_error - 0.5) < 0.01
assert fixed.passed and fixed["W1"].max_rel_error < 1e-6

# %% [markdown]
# Unscaled, the doubled dW1 reads at most "suspicious", and the norm-form difference
# (dominated by W2 and b2, whose gradients are larger) gives no hint that one whole
# tensor is off by a factor of 2. minnet fails W1 all the same, because its pass rule
# compares |a - n| with the quotient's own error (tiny here) rather than with the
# floor. Rerun with `loss_scale=`, and the relative error says what it means: 0.5.
#
# ## A tiny gradient next to an ordinary loss: take a larger step
# The harder case. A classifier whose output weights start a billion times too small:
# the loss is log 3 ≈ 1.1 (uniform guesses), and the first layer's gradients, which
# flow back through those weights, are near 1e-11. Now |J| / |g| is about 1e10, the
# right-hand curve of the picture.

# %%
X_cls = rng.standard_normal((16, 3))
y_cls = rng.integers(0, 3, 16)


def quiet_net(activation: str) -> minnet.Net:
    """A 3-8-3 classifier whose output weights are a billion times too small."""
    net = minnet.Net.mlp([3, 8, 3], activation=activation, seed=2)
    net.params["W2"][:] *= 1e-9
    return net


quiet = quiet_net("tanh")
quiet_loss, quiet_grads = quiet.loss_and_grads(X_cls, y_cls)
g = np.abs(quiet_grads["W1"])
h0 = default_step("central", 0.0)       # eps^(1/3): minnet's step for |θ| <= 1
print(f"loss {quiet_loss:.4f}; |dW1|: median {np.median(g):.1e}, largest {g.max():.1e}")
print(f"|J| / |g| for the median entry: {quiet_loss / np.median(g):.0e}")
print(f"budget's rounding term at the default step {h0:.1e}: median "
      f"{np.median(EPS * quiet_loss / (h0 * g)):.1f}; at h = 1e-2: "
      f"{np.median(EPS * quiet_loss / (1e-2 * g)):.1e}")
assert abs(quiet_loss - np.log(3)) < 1e-6
assert 1e-11 < np.median(g) < 1e-10
assert np.median(EPS * quiet_loss / (h0 * g)) > 1          # noise as large as the gradient

# %% [markdown]
# Measure it: the centered quotients of all 24 entries of W1, at steps from 1e-6 to
# 0.3, compared with the correct dW1 and with a doubled one. The loss is multiplied
# by 1e8 for this, so that the 1e-8 floor does not squeeze the errors
# and they mean what they say; that changes neither the ratio |J| / |g| nor anything
# else relative.

# %%
LOSS_SCALE = 1e8
W1 = quiet.params["W1"]


def loss_times(factor):
    """The quiet net's loss times `factor`, as numerical_gradient wants it (it moves W1
    in place, which the net reads)."""
    return lambda _: factor * quiet.loss(X_cls, y_cls)


analytic = LOSS_SCALE * quiet_grads["W1"]
sweep = np.logspace(-6, -0.5, 12)
medians = {"correct dW1": [], "doubled dW1": []}
for h in sweep:
    numerical = numerical_gradient(loss_times(LOSS_SCALE), W1, h=h)
    medians["correct dW1"].append(np.median(relative_error(analytic, numerical)))
    medians["doubled dW1"].append(np.median(relative_error(2 * analytic, numerical)))
medians = {label: np.array(values) for label, values in medians.items()}
# C = |J'''| / (6|g|), read off the correct dW1's error at the largest step (truncation)
C_quiet = medians["correct dW1"][-1] / sweep[-1] ** 2
h_star = float((EPS * quiet_loss / (2 * C_quiet * np.median(g))) ** (1 / 3))
best = float(sweep[np.argmin(medians["correct dW1"])])
print("   h       correct dW1   doubled dW1   (median relative error over W1)")
for h, right, wrong in zip(sweep, medians["correct dW1"], medians["doubled dW1"]):
    print(f"{h:8.1e}     {right:8.1e}      {wrong:8.1e}")
print(f"C = {C_quiet:.2f}; budget h* = {h_star:.1e}, measured best step {best:.1e}")
assert medians["correct dW1"][0] > 0.2                        # at 1e-6: noise ...
assert medians["doubled dW1"][0] > 0.2                        # ... for both
at_1e2 = int(np.argmin(np.abs(np.log(sweep / 1e-2))))        # h = 1e-2 in the sweep
apart = medians["doubled dW1"][at_1e2] / medians["correct dW1"][at_1e2]
print(f"from h = 1e-5 up the doubled dW1 reads "
      f"{medians['doubled dW1'][sweep >= 1e-5].min():.2f} ... "
      f"{medians['doubled dW1'][sweep >= 1e-5].max():.2f}; at h = 1e-2 it stands "
      f"{apart:.1e} times above the correct one")
assert medians["correct dW1"].min() < 1e-3                    # a larger step: clean ...
assert np.all(np.abs(medians["doubled dW1"][sweep >= 1e-5] - 0.5) < 0.05)  # ... bug: 0.5
assert medians["doubled dW1"][1] > 0.8                        # not yet at h = 3.2e-6
assert 1700 < apart < 1900                                    # "about 1,800"
assert h_star / 3 <= best <= 3 * h_star
assert medians["correct dW1"][-1] > 10 * medians["correct dW1"].min()   # truncation again

fig, ax = plt.subplots(figsize=(7, 4.6))
fine = np.logspace(-6, -0.5, 100)
ax.loglog(fine, np.minimum(1, np.median(EPS * quiet_loss / np.outer(fine, g), axis=1)
                           + C_quiet * fine ** 2),
          "--", color="#2a9d8f", lw=1, label="budget eps·|J|/(h·|g|) + C·h² (median)")
ax.loglog(sweep, medians["correct dW1"], "o-", color="#2a9d8f", label="correct dW1")
ax.loglog(sweep, medians["doubled dW1"], "s-", color="#e76f51", label="doubled dW1")
ax.axvline(h0, color="#555555", ls=":", lw=1, label=f"default step {h0:.0e}")
ax.axvline(h_star, color="#2a9d8f", ls=":", lw=1, label=f"budget h* = {h_star:.0e}")
ax.set(xlabel="step h", ylabel="median relative error over W1 (loss × 1e8)",
       title="|dW1| ~ 1e-11 next to J = 1.1: at the default step the doubled dW1\n"
             f"hides in the noise; at h ~ 1e-2 it stands out by a factor of about "
             f"{round(apart, -2):,.0f}")
ax.legend(fontsize=8, loc="lower left")
minnet.plot.save(fig, "10_tiny_gradient_sweep.png")

# %% [markdown]
# At h = 1e-6 both errors are 1.0: the quotients are noise, and no rule applied to them
# could tell right from wrong at that step. But the correct error falls as 1/h, as the
# budget says (a few times below it, as in lesson 09), to 3e-4 at h = 1e-2, next to the
# budget's h* = 2e-2; the doubled dW1 stays at 0.5 from h = 1e-5 up, about 1,800 times
# the correct one's error at h = 1e-2. A larger step sees the bug. Too large a step and
# truncation takes over again (7e-2 at h = 0.3).
#
# ## The remedies side by side
# Five ways to check this net, each with the correct dW1 and the doubled one (median
# relative error of the quotients over W1's 24 entries, as the check would read them):
#
# - the default step, eps^(1/3);
# - a larger step, h = 1e-2;
# - `loss_scale` = 1e8 at the default step;
# - both: h = 1e-2 and loss scale 1e8;
# - the complex step, Im J(θ + i h) / h with h = 1e-20 (lesson 01), alone and with
#   the loss scale.


# %%
def complex_dW1(factor):
    """Im J(W1 + i h e_k) / h for every entry k of W1 (h = 1e-20), times `factor`."""
    layer = quiet.layers[0]
    W = layer.params["W"]

    def loss(Wc):                       # numerical_gradient hands us a complex copy of W1
        layer.params["W"] = Wc          # the net now computes with complex numbers
        return factor * quiet.loss(X_cls, y_cls)

    try:
        return numerical_gradient(loss, W, h=1e-20, method="complex")
    finally:
        layer.params["W"] = W           # the real weights back, exactly as they were


remedies = {
    "default step": lambda: numerical_gradient(loss_times(1.0), W1, h=h0),
    "h = 1e-2": lambda: numerical_gradient(loss_times(1.0), W1, h=1e-2),
    "loss_scale 1e8": lambda: numerical_gradient(loss_times(1e8), W1, h=h0),
    "h = 1e-2 + loss_scale": lambda: numerical_gradient(loss_times(1e8), W1, h=1e-2),
    "complex step": lambda: complex_dW1(1.0),
    "complex + loss_scale": lambda: complex_dW1(1e8),
}
factors = {name: (1e8 if "loss_scale" in name else 1.0) for name in remedies}
table = {}
print("                          median relative error of the quotients")
print("                           correct dW1    doubled dW1    doubled / correct")
for name, estimate in remedies.items():
    numerical = estimate()
    a = factors[name] * quiet_grads["W1"]
    right = float(np.median(relative_error(a, numerical)))
    wrong = float(np.median(relative_error(2 * a, numerical)))
    table[name] = (right, wrong)
    print(f"{name:24s}   {right:9.1e}      {wrong:9.1e}      {wrong / right:9.1e}")

# %% [markdown]
# Read the rows:
#
# - **default step**: both errors are about 1.5e-3, squeezed by the floor, and about
#   equal: the quotient is noise, the bug invisible;
# - **h = 1e-2**: the correct error drops over a thousandfold (1.4e-3 to 5.2e-7), the
#   doubled one does not: the bug is there to see, but the floor still squeezes it to
#   "suspicious";
# - **loss_scale alone**: the floor is gone, but nothing else changes: the loss's
#   rounding is scaled along with the gradient, |J| / |g| stays as it was, and both
#   errors are around 0.5: noise;
# - **h = 1e-2 + loss_scale**: the correct dW1 at about 3e-4, the doubled one at 0.50,
#   in the "wrong" band. This is the remedy for a tiny gradient next to an ordinary loss;
# - **complex step**: no subtraction, so no rounding noise at any step: the correct
#   error is at the last bits of float64, and with the loss scale the doubled one reads
#   0.50 as well.

# %%
assert table["default step"][1] < 3 * table["default step"][0]          # indistinguishable
assert band(table["default step"][1]) != "wrong"
assert table["h = 1e-2"][1] > 1000 * table["h = 1e-2"][0]                # seen ...
assert table["default step"][0] > 1000 * table["h = 1e-2"][0]            # a thousandfold
assert abs(table["default step"][0] / 1.4e-3 - 1) < 0.05 and abs(table["h = 1e-2"][0] / 5.2e-7 - 1) < 0.05
assert band(table["h = 1e-2"][1]) == "suspicious"                        # ... but squeezed
assert table["loss_scale 1e8"][0] > 0.1                                  # noise, both
assert table["loss_scale 1e8"][1] < 3 * table["loss_scale 1e8"][0]
right, wrong = table["h = 1e-2 + loss_scale"]
assert 1e-4 < right < 1e-3 and abs(wrong - 0.5) < 0.01                   # the remedy
assert table["complex step"][0] < 1e-15 and band(table["complex step"][1]) != "wrong"
assert table["complex + loss_scale"][0] < 1e-12
assert abs(table["complex + loss_scale"][1] - 0.5) < 1e-6

fig, ax = plt.subplots(figsize=(9, 4.8))
where = np.arange(len(table))
for shift, k, color, label in ((-0.2, 0, "#2a9d8f", "correct dW1"),
                               (0.2, 1, "#e76f51", "doubled dW1")):
    values = [v[k] for v in table.values()]
    bars = ax.bar(where + shift, values, 0.4, color=color, label=label)
    ax.bar_label(bars, [f"{v:.0e}" for v in values], fontsize=7, padding=1)
ax.axhline(1e-2, color="#c0392b", ls="--", lw=1, label="1e-2: edge of the 'wrong' band")
ax.set_yscale("log")
ax.set_xticks(where, [name.replace(" + ", "\n+ ") for name in table], fontsize=8)
ax.set(xlabel="how the quotients are taken", ylabel="median relative error over W1",
       ylim=(1e-20, 10),
       title="|dW1| ~ 1e-11 next to J = 1.1: a larger step separates right from wrong,\n"
             "the loss scale makes it readable; the complex step has no noise at all")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
minnet.plot.save(fig, "10_remedies.png")

# %% [markdown]
# ## What `check_net` does
# `check_net` takes these steps for you. Its pass rule compares |a - n| with the
# quotient's own error, so the floor does not decide; and where that error is too
# large to judge a gradient at the default step, it takes a second look at a larger
# step fitted to the gradient (the h* of the budget, from the rounding it measures).
# So even its default check passes the correct net and fails the doubled one; with
# `h=1e-2, loss_scale=1e8` the numbers it reports also read plainly.

# %%
def verdicts(**options):
    """check_net on the quiet net, correct and with dW1 doubled: (result, median
    relative error of W1's quotients) for each."""
    correct = minnet.check_net(quiet, X_cls, y_cls, **options)
    with minnet.bugs.inject(quiet, "affine-dW-doubled", layer=0):
        doubled = minnet.check_net(quiet, X_cls, y_cls, **options)
    return [(report["W1"].result,
             float(np.median(relative_error(report["W1"].analytic, report["W1"].quotients))))
            for report in (correct, doubled)]


for shown, options in (("defaults", {}), ("h=1e-2, loss_scale=1e8", {"h": 1e-2, "loss_scale": 1e8}),
                       ("method='complex'", {"method": "complex"})):
    (right_result, right), (wrong_result, wrong) = verdicts(**options)
    print(f"check_net({shown}): correct {right_result}, median relative error {right:.1e}; "
          f"doubled {wrong_result}, {wrong:.1e}")
    assert right_result == "PASS" and wrong_result == "FAIL"
    if options.get("loss_scale"):
        assert 1e-4 < right < 1e-3 and abs(wrong - 0.5) < 0.01
    else:
        assert band(wrong) == "suspicious"                 # the floor squeezes the number

# %% [markdown]
# Without the loss scale the doubled dW1 fails although its numbers read "suspicious"
# (about 2e-3): minnet's rule decides, not the bands. With `h=1e-2, loss_scale=1e8`
# the numbers agree with the verdicts: the correct dW1 at about 2e-4, the doubled at
# 0.5.

# %% [markdown]
# ## Where a larger step stops working: kinks
# A larger step assumes J is smooth over the step. Swap tanh for ReLU in the same net,
# and a step moves a pre-activation z by h·|x|: every entry of W1 whose step crosses a
# ReLU's 0 for some sample (|z| < h·|∂z/∂θ|, lesson 05) gets a quotient that mixes two
# slopes. The complex step never moves the real part, so it never crosses a kink
# (minnet's ReLU keeps the imaginary part where the real part is positive).

# %%
relu = quiet_net("relu")
relu_loss, relu_grads = relu.loss_and_grads(X_cls, y_cls)
z = X_cls @ relu.params["W1"] + relu.params["b1"]          # (16, 8) pre-activations
a = LOSS_SCALE * relu_grads["W1"]
rounding_relu = EPS * relu_loss / np.maximum(np.abs(relu_grads["W1"]), 1e-300)
print("   h     of W1's 24 entries:  crossing a kink   off by > 1e-2   "
      "off without a kink   of those, rounding term > 1e-2")
for h in (1e-2, 3e-2, 1e-1):
    # W1[k, j] moves z[i, j] by h * X[i, k]: crossed if |z[i, j]| < h |X[i, k]|
    crosses = (np.abs(z)[:, None, :] < h * np.abs(X_cls)[:, :, None]).any(axis=0)
    numerical = numerical_gradient(lambda _: LOSS_SCALE * relu.loss(X_cls, y_cls),
                                   relu.params["W1"], h=h)
    off = relative_error(a, numerical) > 1e-2
    noisy = rounding_relu / h > 1e-2       # the budget's rounding term, the smallest |g|
    print(f"{h:7.0e}                            {crosses.sum():2d}                {off.sum():2d}"
          f"                  {(off & ~crosses).sum():2d}                    "
          f"{(off & ~crosses & noisy).sum():2d}")
    assert np.all(noisy[off & ~crosses])   # every other entry off: rounding, not a kink
    if h == 1e-2:
        assert crosses.sum() == 0
    if h == 1e-1:
        assert crosses.sum() >= 12 and off.sum() >= 12     # most entries, most of them off
complex_relu = minnet.check_net(relu, X_cls, y_cls, method="complex", loss_scale=LOSS_SCALE)
print(f"complex step on the ReLU net: W1 {complex_relu['W1'].result}, max relative error "
      f"{complex_relu['W1'].max_rel_error:.1e}")
assert complex_relu["W1"].passed and complex_relu["W1"].max_rel_error < 1e-12

# %% [markdown]
# ## Which remedy when
# - **A larger step** costs nothing extra: the same two evaluations per entry. It is the
#   remedy when |g| is small next to |J| (the rounding term eps·|J| / (h·|g|)) and J is
#   smooth over the step. It stops at the truncation term C·h², and at kinks within
#   the step, as the ReLU net shows. minnet's second look takes it automatically.
# - **loss_scale** multiplies J and every gradient by one constant. It lifts a tiny loss
#   and its tiny gradients above the 1e-8 floor of the relative error, so the errors
#   read what they mean, as in the regression net above. It does not
#   change |J| / |g|, so it does nothing against rounding noise: pair it with a larger
#   step (or the complex step) when the gradient is tiny next to the loss.
# - **The complex step** subtracts nothing, so it has no cancellation at all, at any
#   step: h = 1e-20 leaves no truncation and crosses no kink. It needs every operation
#   of the forward pass to carry complex numbers correctly (minnet's layers and losses
#   do, and a check refuses a loss that drops the imaginary part; code of your own that
#   takes abs(), compares complex values or casts to float breaks it), and one complex
#   forward pass per entry. It reads the gradient to the last bits,
#   so the floor is all that is left: add `loss_scale` for readable numbers.
#
# ## What to remember
# - Relative error ≈ eps·|J| / (h·|g|) + C·h²: the rounding term carries |J| / |g|. A
#   gradient of 1e-11 next to a loss of 1 has a rounding error as large as itself at the
#   default step, and a correct and a doubled gradient look alike there.
# - A larger step brings the rounding term down as 1/h: at h = 1e-2 (loss scaled by
#   1e8 to read it) the correct dW1 is off by about 3e-4 and the doubled one by 0.5. It
#   works while J is smooth over h (no kink within the step). `check_net` takes such a
#   step itself where the default one cannot judge a gradient.
# - The 1e-8 floor of the relative error squeezes mistakes in gradients below 1e-8;
#   `loss_scale=` lifts them above it, but does not change |J| / |g|: alone it does not
#   help against rounding noise.
# - The complex step has no subtraction, hence no noise and no kinks crossed, if the
#   code carries complex numbers.
