# %% [markdown]
# # 07 · Regularization can hide a bug in the data gradient
#
# A Net's loss has two parts, the data loss and the L2 penalty:
#
#     J(θ) = data_loss(θ) + 0.5 * reg * sum(W**2)
#
# so every weight's gradient is a sum, dJ/dW = d + reg * W, where d is the gradient of
# the data loss. A gradient check of the total J compares that sum with its numerical
# estimate. Now suppose backward gets d slightly wrong, d' = d + e. In coordinate i the
# check sees
#
#     relative error ≈ |e_i| / |d_i + reg * W_i|
#
# Where reg * W_i is much larger than d_i the denominator is large and the bug's share
# small: in most coordinates, and so in norms and medians over a tensor, the bug hides
# under the regularization term, which is perfectly right. But where d_i and reg * W_i
# nearly cancel, the denominator is small and the bug stands out. This lesson builds
# such a case, measures both, finds where a check of the total at the default step stops
# seeing the bug (past reg ≈ 65), and shows the remedies: a larger step or the complex
# step for the total, and a check of the data part on its own,
# `check_net(..., part="data")`.
#
# Run it as `python tutorials/07_regularization.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.datasets import load_digits, standardize

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## A net where the data gradient of W1 is small
# A deep net of sigmoids is the textbook case of vanishing gradients: sigmoid's slope
# is at most 1/4; with this net's weights each layer back shrinks the data gradient
# (the cell below prints ||d||: W5 0.66, W4 0.23, W3 0.048, W2 0.012, W1 0.0070).
# Whether it shrinks depends on the largest singular value of W·diag(sigmoid'), not on
# the 1/4 alone (lesson 11). The L2 term does not care about depth: its gradient is
# reg * W1, as large as W1 itself. Four hidden layers of 32 sigmoid units on the 8x8
# digits, a batch of 16 images.
#
# The bug: `affine-dW-off-by-0.1%` from `minnet.bugs`, in the first layer. Its dW is
# 1.001 times the right one: a real mistake (a wrong constant somewhere), small but
# not a rounding error.

# %%
X, y = load_digits()
X = standardize(X)
Xb, yb = X[:16], y[:16]
SIZES = [64, 32, 32, 32, 32, 10]
BUG = "affine-dW-off-by-0.1%"


def make_net(reg):
    return minnet.Net.mlp(SIZES, activation="sigmoid", reg=reg, seed=0)


def data_and_reg_norms(net):
    """||d|| and ||reg * W|| for every weight matrix of the (correct) net."""
    reg = net.reg
    net.reg = 0.0
    _, data = net.loss_and_grads(Xb, yb)
    net.reg = reg
    return {name: (np.linalg.norm(data[name]), np.linalg.norm(reg * W))
            for name, W in net.params.items() if name.startswith("W")}


norms = data_and_reg_norms(make_net(reg=1.0))
for name, (d, r) in norms.items():
    print(f"reg = 1: {name}: ||data gradient|| = {d:.2e}, ||reg * W|| = {r:.2e}, "
          f"ratio {r / d:8.1f}")
assert norms["W1"][1] > 100 * norms["W1"][0]
for name, value in {"W5": 0.66, "W4": 0.23, "W3": 0.048, "W2": 0.012, "W1": 0.0070}.items():
    assert abs(norms[name][0] / value - 1) < 0.03, (name, norms[name][0])  # shrinks back

# %% [markdown]
# Already at reg = 1 the penalty's gradient on W1 is far larger than the data's (look
# at the printed ratio), and the ratio grows linearly with reg.
#
# ## The same bug, more and more regularization
# The bug is in the data gradient, so a check of the data part alone shows it at its
# true size whatever reg is (`part="data"`; it is also what a check of the total sees
# at reg = 0). Then, for several values of reg, we check the total loss of the buggy
# net, every coordinate (`sample=None`), and read from each report:
#
# - `difference`: the classic norm form over all compared coordinates,
#   ||analytic - numerical|| / (||analytic|| + ||numerical||); the classic exercise
#   calls anything below 2e-7 correct (1e-7 in its one-dimensional check, lesson 02);
# - W1's own row: its norm-form difference and its largest relative error;
# - minnet's verdict, which judges each coordinate against the numerical error of its
#   own difference quotient (relative agreement to 1e-6, plus the rounding error it
#   measures).
#
# Next to them, from backprop alone: the bug's share of each coordinate's total
# gradient, 0.001·|d_i| / |d_i + reg·W_i|, its median and its largest value over W1.

# %%
def bug_shares(reg):
    """The bug's share of W1's total gradient, 0.001 |d| / |d + reg W|, per coordinate
    (where the total is not 0), from the correct net's backprop."""
    net = make_net(reg)
    net.reg = 0.0
    _, data = net.loss_and_grads(Xb, yb)
    net.reg = reg
    _, total = net.loss_and_grads(Xb, yb)
    nonzero = total["W1"] != 0
    return 1e-3 * np.abs(data["W1"][nonzero]) / np.abs(total["W1"][nonzero])


net = make_net(5.0)
with minnet.bugs.inject(net, BUG, layer=0):
    data_report = minnet.check_net(net, Xb, yb, sample=None, part="data")
print(f"data part (any reg): difference {data_report.difference:.2e}, W1 difference "
      f"{data_report['W1'].difference:.2e}, W1 max rel error "
      f"{data_report['W1'].max_rel_error:.2e}, FAILED {data_report.failed}")

regs = [0.1, 1.0, 5.0, 100.0] if FAST else [0.1, 0.3, 1.0, 3.0, 5.0, 10.0, 30.0, 100.0, 1000.0]
totals, shares = {}, {}
print(f"{'reg':>5}  {'difference':>10}  {'W1 difference':>13}  {'W1 max rel':>10}  "
      f"{'bug share: median':>17}  {'max':>8}  total check")
for reg in regs:
    net = make_net(reg)
    with minnet.bugs.inject(net, BUG, layer=0):
        report = minnet.check_net(net, Xb, yb, sample=None, part="total")
    totals[reg], shares[reg] = report, bug_shares(reg)
    verdict = "passed" if report.passed else f"FAILED {report.failed}"
    print(f"{reg:5g}  {report.difference:10.2e}  {report['W1'].difference:13.2e}  "
          f"{report['W1'].max_rel_error:10.2e}  {np.median(shares[reg]):17.2e}  "
          f"{shares[reg].max():8.2e}  {verdict}")

# %% [markdown]
# The picture: the norm forms on the left, W1's relative errors on the right, the data
# check (the bug at its true size) as dotted lines, minnet's verdict as the marker.

# %%
def mark_verdicts(ax, values):
    """Red crosses where minnet's check of the total failed, green dots where it passed."""
    for reg in regs:
        failed = not totals[reg].passed
        ax.plot(reg, values[reg], "x" if failed else "o", color="#c0392b" if failed
                else "#2a9d8f", ms=8, mew=2, zorder=3)


fig, (norms_ax, rel_ax) = plt.subplots(1, 2, figsize=(12, 4.8))
for values, data_value, color, label in (
        ({reg: totals[reg].difference for reg in regs}, data_report.difference, "#1f77b4",
         "difference, whole net"),
        ({reg: totals[reg]["W1"].difference for reg in regs}, data_report["W1"].difference,
         "#6a4c93", "difference, W1")):
    norms_ax.loglog(regs, [values[reg] for reg in regs], color=color, label=label)
    norms_ax.axhline(data_value, color=color, ls=":", lw=1.5)
    mark_verdicts(norms_ax, values)
norms_ax.axhline(2e-7, color="black", ls="--", lw=1, label="2e-7: the classic rule's 'correct'")
norms_ax.plot([], [], color="gray", ls=":", label="data part (the bug's true size)")
norms_ax.plot([], [], "x", color="#c0392b", mew=2, label="minnet, default step: FAIL")
norms_ax.plot([], [], "o", color="#2a9d8f", label="minnet, default step: PASS")
norms_ax.set(xlabel="reg", ylabel="norm-form difference",
             title="norms fall like 1/reg, below the classic 2e-7")
norms_ax.legend(fontsize=8, loc="lower left")
max_rel = {reg: totals[reg]["W1"].max_rel_error for reg in regs}
rel_ax.loglog(regs, [max_rel[reg] for reg in regs], color="#e76f51",
              label="W1: largest relative error (measured)")
rel_ax.loglog(regs, [shares[reg].max() for reg in regs], color="#e76f51", ls="--", lw=1,
              label="W1: the bug's largest share")
rel_ax.loglog(regs, [np.median(shares[reg]) for reg in regs], color="#264653",
              label="W1: the bug's median share")
rel_ax.axhline(data_report["W1"].max_rel_error, color="#e76f51", ls=":", lw=1.5,
               label="W1: largest relative error, data part")
mark_verdicts(rel_ax, max_rel)
for level, name in ((1e-2, "1e-2: course table's 'wrong'"), (1e-4, "1e-4: 'suspicious'")):
    rel_ax.axhline(level, color="black", ls="--", lw=1)
    rel_ax.text(regs[-1], level * 1.3, name, fontsize=8, ha="right")
rel_ax.set(xlabel="reg", ylabel="relative error of W1's gradient",
           title="the median falls like 1/reg; the largest does not")
rel_ax.legend(fontsize=8, loc="lower left")
fig.suptitle("regularization hides a 0.1% bug in W1's data gradient from norms and medians",
             fontsize="x-large")
fig.tight_layout()
minnet.plot.save(fig, "07_regularization.png")

# %% [markdown]
# Read it from the left. The data check shows the bug at its true size: W1's difference
# is 0.001 / 2.001 = 5.0e-4, the norm form of an error of 0.1% in every coordinate. As
# reg grows, W1's difference in the total check falls like 1/reg, and the difference
# over the whole net falls below the classic 2e-7 line: by the textbook rule, this
# buggy net "works perfectly". (The data check's difference over the whole net is
# smaller than W1's own, since W1's gradient is a small part of the whole gradient
# vector: a norm over everything dilutes a bug in one tensor. The per-tensor rows are
# what point at W1.)
#
# The largest relative error does not fall with them: 1.4e-3 at reg = 0, 1.0e-2 at
# reg = 0.1, 6.3e-2 at reg = 1, far above the bug's 0.1%. It is the bug's share
# where d_i and reg·W_i nearly cancel and leave a small total: there the bug is a large
# part of what is left (the measured largest error is the largest share, within 10% for
# reg ≤ 5). Only for larger reg, when a near-cancellation needs a weight ever closer to
# -d_i / reg, does it fall too (9.6e-4 at reg = 5, 1.9e-5 at reg = 100). So
# regularization does not make the bug look tiny everywhere: it hides it in norms and
# medians, and it stands out in the few coordinates where the two gradients cancel.
# Here is that coordinate at reg = 1:

# %%
net = make_net(0.0)
_, data = net.loss_and_grads(Xb, yb)
penalty = 1.0 * net.params["W1"]                      # reg * W1 at reg = 1
share = 1e-3 * np.abs(data["W1"]) / np.maximum(np.abs(data["W1"] + penalty), 1e-300)
worst = tuple(int(i) for i in np.unravel_index(np.argmax(share), share.shape))
print(f"reg = 1, W1{list(worst)}: d = {data['W1'][worst]:.3e}, reg·W = {penalty[worst]:.3e}, "
      f"total {data['W1'][worst] + penalty[worst]:.3e}: the bug is {share[worst]:.1e} of it")
assert abs(share[worst] / shares[1.0].max() - 1) < 1e-6
assert not data_report.passed and data_report.failed == ["W1"]
assert abs(data_report["W1"].difference - 1e-3 / 2.001) < 1e-5  # the bug, at its real size
assert abs(data_report["W1"].max_rel_error - 1.43e-3) < 0.01e-3   # "1.4e-3 at reg = 0"
expected_max = {0.1: 1.05e-2, 1.0: 6.27e-2, 5.0: 9.57e-4, 100.0: 1.86e-5}
for reg, value in expected_max.items():
    assert abs(max_rel[reg] / value - 1) < 0.01, (reg, max_rel[reg])
    assert abs(totals[reg]["W1"].difference * reg / 5.31e-7 - 1) < 0.1  # ~ 1/reg
for reg in (r for r in regs if r <= 5):                           # measured = largest share
    assert abs(max_rel[reg] / shares[reg].max() - 1) < 0.1
for reg in (5.0, 100.0):
    assert totals[reg].difference < 1e-7              # the classic rule (2e-7) is fooled
assert all(totals[reg].failed == ["W1"] for reg in (0.1, 1.0, 5.0))  # minnet still sees it
assert totals[100.0].passed                  # at reg 100 minnet's default step does not
biggest = {reg: shares[reg].max() for reg in regs}
assert biggest[0.1] > 10 * 1e-3 and biggest[1.0] > biggest[0.1] > biggest[5.0]

# %% [markdown]
# ## The default step's limit: reg = 100
# At reg = 100 minnet's check of the total, at its default step, passes too. It does
# not skip the bug out of
# carelessness: the bug changes the total gradient by less than the difference
# quotient can resolve. Lesson 01's error budget says how much that is. Each
# evaluation of J carries a rounding error σ, at best about eps·|J| (eps = 2.2e-16 in
# float64); the centered quotient (J(θ + h) - J(θ - h)) / 2h divides the difference of
# two evaluations by 2h, so its rounding error is about σ/h, and relative to the
# gradient g, eps·|J| / (h·|g|) + C·h². The penalty makes J large, while the bug's error,
# 0.001·|d_i|, is the same at every reg. We measure, in W1 at reg = 5 and 100:
#
# - the bug's largest error, 0.001·max|d_i|;
# - the rounding scale eps·|J| / h;
# - how far the plain quotients of the correct gradient really are off;
# - the smallest error minnet's rule allowed any probe of W1 (its bound on rounding is
#   4·eps·|J| / h: four times the budget's σ/h with σ ≈ eps·|J|, a margin for a loss
#   computed through many operations), and how many probes it found differing.

# %%
eps, h = np.finfo(np.float64).eps, minnet.checker.default_step("central", 0.0)
limits = {}
for reg in (5.0, 100.0):
    net = make_net(reg)
    net.reg = 0.0
    _, data = net.loss_and_grads(Xb, yb)
    net.reg = reg
    J, total = net.loss_and_grads(Xb, yb)
    row = totals[reg]["W1"]
    right = total["W1"][tuple(np.array(row.indices).T)]     # the correct gradient there
    limits[reg] = {"J": J, "bug": 1e-3 * np.abs(data["W1"]).max(), "scale": eps * J / h,
                   "noise": np.abs(row.quotients - right).max(), "allowed": row.allowed.min(),
                   "differing": int(row.differs.sum())}
    print(f"reg {reg:4g}: J = {J:7.1f}; bug's largest error {limits[reg]['bug']:.1e}, "
          f"eps·|J|/h = {limits[reg]['scale']:.1e}, quotients off by up to "
          f"{limits[reg]['noise']:.1e}, smallest allowed {limits[reg]['allowed']:.1e}; "
          f"{limits[reg]['differing']} of {row.checked} probes differ")
at5, at100 = limits[5.0], limits[100.0]
assert abs(at5["bug"] - 7.3e-7) < 0.05e-7 and at100["bug"] == at5["bug"]
assert at5["bug"] > 20 * at5["scale"] and at5["differing"] > 100           # caught
assert abs(at100["scale"] / 2.8e-7 - 1) < 0.05 and at100["bug"] < 3 * at100["scale"]
assert at100["bug"] < 5 * at100["noise"]                 # within a small factor of the noise
assert abs(at100["allowed"] / (4 * at100["scale"]) - 1) < 0.05   # the rounding bound
assert at100["bug"] < at100["allowed"]
assert at100["differing"] == 0

# %% [markdown]
# At reg = 5 the bug's largest error, 7.3e-7, is 50 times the rounding scale, and
# minnet finds the coordinates where it stands out. At reg = 100 J is 7654, the
# rounding scale is 2.8e-7, and the correct gradient's own quotients are already off by
# up to 1.7e-7: the bug is within a factor 3 of the scale and about 4 of that noise.
# minnet allows every quotient 4·eps·|J| / h = 1.1e-6 of rounding, because it cannot
# know each one's actual rounding error, only its bound, and it must not fail a correct
# net. The bug, smaller than that everywhere, passes. This is where minnet's
# noise-aware rule reaches what the difference quotient's noise allows at this step.
# The limit belongs to the step, not to checking the total: a step with less rounding
# still sees the bug (below). And a check of the data part sees it at once, because the
# data loss (J = 2.5) has no penalty to inflate its rounding.

# %% [markdown]
# Where does the limit lie? J grows linearly with reg, J = data loss + 0.5·reg·sum(W²),
# and with it minnet's allowance 4·eps·|J| / h and the rounding scale eps·|J| / h; the
# bug's largest error stays 7.3e-7. The allowance reaches the bug where
# 4·eps·|J| / h = 7.3e-7, the rounding scale itself four times further out:

# %%
weights_sq = sum(np.sum(W**2) for name, W in make_net(0.0).params.items()
                 if name.startswith("W"))
data_loss = make_net(0.0).loss(Xb, yb)


def reg_where(J):
    """The reg at which the loss J = data loss + 0.5 reg sum(W²) reaches J."""
    return (J - data_loss) / (0.5 * weights_sq)


J_limit, J_scale = at100["bug"] * h / (4 * eps), at100["bug"] * h / eps
reg_limit, reg_scale = reg_where(J_limit), reg_where(J_scale)
print(f"J = {data_loss:.2f} + 0.5·reg·{weights_sq:.1f}; the allowance reaches the bug at "
      f"J = {J_limit:.0f}, reg = {reg_limit:.0f}; the rounding scale eps·|J|/h at "
      f"J = {J_scale:.0f}, reg = {reg_scale:.0f}")
assert abs(limits[100.0]["J"] - (data_loss + 50 * weights_sq)) < 1e-6 * limits[100.0]["J"]
assert 30 < reg_limit < 100 and abs(reg_limit - 65) < 2
assert abs(reg_scale - 261) < 5                                   # about 4 times further

# %% [markdown]
# ## Past the limit: a larger step, or the complex step
# The budget's rounding term, eps·|J| / (h·|g|), falls as 1/h. h = 1e-4 is 16.5 times
# minnet's default step, so it cuts the rounding scale and the allowance 16.5 times,
# and its truncation term C·h² is still small here (the correct net's W1 is off by at
# most 3.3e-7 at h = 1e-4). The complex step, Im J(θ + ih) / h,
# subtracts nothing: it has no rounding term at all. These are lesson 10's remedies for
# a tiny gradient next to an ordinary loss; here |J| is large instead, and the bug's
# share of |g| is what is tiny. We check the total at reg = 100 with each, on the buggy
# net and on the correct one, every coordinate, and compare the probes that differ
# with the coordinates where the bug's share is above the 1e-6 agreement minnet asks
# for (its relative tolerance, beyond the numerical error):

# %%
STEPS = {"default step": {}, "h = 1e-4": {"h": 1e-4}, "complex step": {"method": "complex"}}
net = make_net(100.0)
net.reg = 0.0
_, data = net.loss_and_grads(Xb, yb)
net.reg = 100.0
_, total = net.loss_and_grads(Xb, yb)
above_rtol = {tuple(int(i) for i in index)
              for index in np.argwhere(1e-3 * np.abs(data["W1"]) > 1e-6 * np.abs(total["W1"]))}
print(f"h = 1e-4 is {1e-4 / h:.1f} times the default step {h:.1e}")
remedies = {}
for name, options in STEPS.items():
    net = make_net(100.0)
    correct_report = minnet.check_net(net, Xb, yb, sample=None, **options)
    with minnet.bugs.inject(net, BUG, layer=0):
        buggy_report = minnet.check_net(net, Xb, yb, sample=None, **options)
    row = buggy_report["W1"]
    differing = {tuple(int(i) for i in row.indices[k]) for k in np.flatnonzero(row.differs)}
    remedies[name] = {"correct": correct_report.passed, "buggy": buggy_report.passed,
                      "failed": buggy_report.failed, "differing": differing,
                      "allowed": row.allowed.min(),
                      "correct_error": correct_report["W1"].max_rel_error}
    print(f"reg 100, {name:12}: correct net {'passed' if correct_report.passed else 'FAILED'}"
          f" (W1 max rel error {correct_report['W1'].max_rel_error:.1e}); buggy net "
          f"{'passed' if buggy_report.passed else f'FAILED {buggy_report.failed}'}, "
          f"{len(differing)} of {row.checked} W1 probes differ, smallest allowed "
          f"{row.allowed.min():.1e}")
share_100 = 1e-3 * np.abs(data["W1"]) / np.abs(total["W1"])
larger_step_shares = sorted((share_100[i] for i in remedies["h = 1e-4"]["differing"]),
                            reverse=True)
print(f"coordinates of W1 where the bug's share of the total is above 1e-6: {len(above_rtol)}"
      f"; the bug's share where h = 1e-4 finds it: "
      + ", ".join(f"{value:.1e}" for value in larger_step_shares))
assert all(remedy["correct"] for remedy in remedies.values())     # no false alarm
assert abs(1e-4 / h - 16.5) < 0.05
assert abs(remedies["h = 1e-4"]["correct_error"] / 3.3e-7 - 1) < 0.05  # truncation: small
assert remedies["default step"]["buggy"] and not remedies["default step"]["differing"]
for name in ("h = 1e-4", "complex step"):
    assert remedies[name]["failed"] == ["W1"] and remedies[name]["differing"] <= above_rtol
assert len(remedies["h = 1e-4"]["differing"]) == 2
assert np.allclose(larger_step_shares, [2.5e-5, 7.2e-6], rtol=0.02)
assert remedies["complex step"]["differing"] == above_rtol and len(above_rtol) == 12
assert remedies["h = 1e-4"]["allowed"] < at100["bug"] / 5        # far below the bug
assert remedies["complex step"]["allowed"] < remedies["h = 1e-4"]["allowed"] / 5

# %% [markdown]
# Both catch the bug at reg = 100 and both pass the correct net. The complex step finds
# exactly the 12 coordinates where the bug's share is above 1e-6; h = 1e-4 finds 2 of
# them (the bug's share 2.5e-5 and 7.2e-6 there): elsewhere its allowance, 16.5 times
# smaller than the default step's but not zero, still covers the bug. The picture: the default step's allowance against the bug, with h = 1e-4's
# allowance next to it.

# %%
reg_grid = np.logspace(-1, 3, 81)
J_grid = data_loss + 0.5 * reg_grid * weights_sq
fig, ax = plt.subplots(figsize=(7, 4.8))
ax.loglog(reg_grid, eps * J_grid / h, color="#264653", label="rounding scale eps·|J| / h")
ax.loglog(reg_grid, 4 * eps * J_grid / h, color="#264653", ls="--",
          label="minnet's allowance 4·eps·|J| / h")
ax.loglog(reg_grid, 4 * eps * J_grid / 1e-4, color="#6a4c93", ls="--",
          label=f"the allowance at h = 1e-4 ({1e-4 / h:.1f} times smaller)")
ax.axhline(at100["bug"], color="#e76f51", label="the bug's largest error, 0.001·max|d|")
for reg in regs:
    failed = not totals[reg].passed
    ax.plot(reg, at100["bug"], "x" if failed else "o", ms=9, mew=2, zorder=3,
            color="#c0392b" if failed else "#2a9d8f")
ax.plot([], [], "x", color="#c0392b", mew=2, label="check of the total, default step: FAIL")
ax.plot([], [], "o", color="#2a9d8f", label="check of the total, default step: PASS")
ax.axvline(reg_limit, color="gray", ls=":",
           label=f"the allowance reaches the bug: reg = {reg_limit:.0f}")
ax.axvline(reg_scale, color="gray", ls="-.",
           label=f"eps·|J| / h reaches the bug: reg = {reg_scale:.0f}")
caught = {name: len(remedies[name]["differing"]) for name in ("h = 1e-4", "complex step")}
ax.annotate(f"reg = 100, buggy net:\nh = 1e-4 FAILS it ({caught['h = 1e-4']} probes),\n"
            f"complex step FAILS it ({caught['complex step']} probes);\n"
            "the correct net PASSES both", xy=(100, at100["bug"]), xytext=(0.15, 2e-6),
            fontsize=8, arrowprops={"arrowstyle": "->", "color": "#6a4c93"},
            bbox={"boxstyle": "round", "fc": "white", "ec": "#6a4c93"})
ax.set(xlabel="reg", ylabel="error in W1's gradient (absolute)", ylim=(5e-11, 2e-5),
       title=f"past reg ≈ {reg_limit:.0f} the default step passes the bug;\n"
             "a larger step or the complex step still catches it")
ax.legend(fontsize=7.5, loc="lower right")
fig.tight_layout()
minnet.plot.save(fig, "07_regularization_limit.png")

# %% [markdown]
# ## The three parts, and the report's warning
# `check_net(..., part=...)` checks "total" (the default), "data" (data loss only) or
# "reg" (the penalty only). When a tensor's regularization gradient is more than 10
# times its data gradient, the total check adds a note that says so and asks for a
# check of part="data". Here are all three at reg = 5:

# %%
net = make_net(5.0)
with minnet.bugs.inject(net, BUG, layer=0):
    reg_report = minnet.check_net(net, Xb, yb, sample=None, part="reg")
print("part='total':")
print(totals[5.0].format())
print("\npart='data':")
print(data_report.format())
print("\npart='reg':")
print(reg_report.format())
assert reg_report.passed                    # the penalty's gradient reg * W is right
assert any("dominates the gradient of W1" in note for note in totals[5.0].notes)

# %% [markdown]
# The reg check passes (reg * W is right), the data check names W1, and the total
# check's notes list the tensors where the penalty dominates.
#
# Finally, the correct net passes the data check, so the failure above is the bug and
# not some artefact of the data part:

# %%
correct = minnet.check_net(make_net(5.0), Xb, yb, sample=None, part="data")
print(f"correct net, part='data': passed {correct.passed}, difference {correct.difference:.2e}")
assert correct.passed

# %% [markdown]
# ## What to remember
# - The total gradient of a weight is d + reg * W. A strong penalty (or a small data
#   gradient, as in the first layers of a deep sigmoid net) lets reg * W dominate, and a
#   bug in d shrinks like 1/reg in norms and medians measured on the total.
# - It does not shrink everywhere: where d_i and reg * W_i nearly cancel the bug stands
#   out, and W1's largest relative error rose from 1.4e-3 to 6.3e-2 (reg 0 to 1).
# - A norm form over the whole gradient below 2e-7 (or 1e-7) proves nothing then. Past
#   reg ≈ 65 even minnet's coordinate-by-coordinate check of the total passes the bug
#   at its default step: the penalty makes |J| large, the rounding term
#   eps·|J| / (h·|g|) grows with it, and the bug's error does not (minnet's allowance
#   4·eps·|J| / h reaches the bug at reg ≈ 65, the rounding scale eps·|J| / h at 261).
# - The limit belongs to the step: the rounding term falls as 1/h, so a larger step
#   (h = 1e-4, 2 probes of W1 differ) or the complex step (no subtraction, 12 probes)
#   still catches the bug at reg = 100 and passes the correct net: lesson 10's remedies.
# - Check part="data" on its own (and part="reg"), or check with reg = 0; minnet's
#   total report tells you when regularization dominates a tensor.
