# %% [markdown]
# # 07 · Regularization can hide a bug in the data gradient
#
# A Net's loss has two parts, the data loss and the L2 penalty:
#
#     J(θ) = data_loss(θ) + 0.5 * reg * sum(W**2)
#
# so every weight's gradient is a sum, dJ/dW = d + reg * W, where d is the gradient of
# the data loss. A gradient check of the total J compares that sum with its numerical
# estimate. Now suppose backward gets d slightly wrong, d' = d + e. The check sees
#
#     relative error ≈ |e| / |d + reg * W|
#
# and when reg * W is much larger than d, the denominator is large and the bug looks
# tiny: it is hidden under the regularization term, which is perfectly right. This
# lesson builds such a case, measures how far the bug sinks, and shows the remedy:
# check the data part on its own, `check_net(..., part="data")`.
#
# Run it as `python tutorials/07_regularization.py`.

# %%
import os

import numpy as np

import minnet
from minnet.datasets import load_digits, standardize

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## A net where the data gradient of W1 is small
# A deep net of sigmoids is the textbook case of vanishing gradients: sigmoid's slope
# is at most 1/4, so the data gradient shrinks on its way back through every layer and
# reaches W1 small. The L2 term does not care about depth: its gradient is reg * W1,
# as large as W1 itself. Four hidden layers of 32 sigmoid units on the 8x8 digits,
# a batch of 16 images.
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

# %% [markdown]
# Already at reg = 1 the penalty's gradient on W1 is far larger than the data's (look
# at the printed ratio), and the ratio grows linearly with reg.
#
# ## The same bug, more and more regularization
# For several values of reg we check the total loss of the buggy net, every
# coordinate (`sample=None`), and print three things from the report:
#
# - `difference`: the classic norm form over all compared coordinates,
#   ||analytic - numerical|| / (||analytic|| + ||numerical||); the classic exercise
#   calls anything below 1e-7 correct;
# - W1's own row: its norm-form difference and its largest relative error;
# - minnet's verdict, which judges each coordinate against the numerical error of its
#   own difference quotient (relative agreement to 1e-6, plus the rounding error it
#   measures).
#
# The data part does not depend on reg at all, so it needs one check only.

# %%
regs = [5.0, 100.0] if FAST else [0.0, 0.1, 1.0, 5.0, 10.0, 100.0]
totals = {}
print(f"{'reg':>5}  {'difference':>10}  {'W1 difference':>13}  {'W1 max rel':>10}  total check")
for reg in regs:
    net = make_net(reg)
    with minnet.bugs.inject(net, BUG, layer=0):
        report = minnet.check_net(net, Xb, yb, sample=None, part="total")
    totals[reg] = report
    verdict = "passed" if report.passed else f"FAILED {report.failed}"
    print(f"{reg:5g}  {report.difference:10.2e}  {report['W1'].difference:13.2e}  "
          f"{report['W1'].max_rel_error:10.2e}  {verdict}")

net = make_net(5.0)
with minnet.bugs.inject(net, BUG, layer=0):
    data_report = minnet.check_net(net, Xb, yb, sample=None, part="data")
print(f"data part (any reg): difference {data_report.difference:.2e}, W1 difference "
      f"{data_report['W1'].difference:.2e}, W1 max rel error "
      f"{data_report['W1'].max_rel_error:.2e}, FAILED {data_report.failed}")

# %% [markdown]
# Read the table from the top. Without regularization (normal mode prints reg = 0)
# the bug shows at its true size: W1's difference is 0.001 / 2.001 = 5.0e-4, the norm
# form of an error of 0.1% in every coordinate. As
# reg grows, W1's difference in the total check falls like 1/reg, and the difference
# over the whole net falls below the classic 1e-7 line: by the textbook rule, this
# buggy net "works perfectly". The data check does not move: it shows W1 off by 0.1%
# whatever reg is. (Its difference over the whole net is smaller than W1's own, since
# W1's correct-size gradient is a small part of the whole gradient vector: even
# without regularization a norm over everything dilutes a bug in one tensor. The
# per-tensor rows are what point at W1.)

# %%
assert not data_report.passed and data_report.failed == ["W1"]
assert abs(data_report["W1"].difference - 1e-3 / 2.001) < 1e-5  # the bug, at its real size
for reg in (5.0, 100.0):
    assert totals[reg].difference < 1e-7                      # the classic rule is fooled
assert totals[5.0].failed == ["W1"]                           # minnet still sees it at reg 5
assert totals[100.0].passed                                   # at reg 100 even minnet does not
if not FAST:
    assert totals[0.0].failed == ["W1"] and totals[0.0]["W1"].difference > 1e-4

# %% [markdown]
# Be clear about what minnet's total check does here. At reg = 5 it still fails W1,
# although the norm form is below 1e-7: it looks at every coordinate on its own, and
# where the data and penalty gradients nearly cancel, the bug is a large part of what
# is left. At reg = 100 it passes too. That is not carelessness: there the bug changes
# the total gradient by less than the difference quotient can resolve. The quotient's
# own rounding error grows with |J| (roughly eps * |J| / h, with eps = 2.2e-16 in
# float64, times a small factor), and the penalty makes J large. Compare the bug's
# largest absolute error in W1's gradient with that scale, and its median share of
# each coordinate's total gradient with minnet's relative tolerance of 1e-6:

# %%
eps, h = np.finfo(np.float64).eps, minnet.checker.default_step("central", 0.0)
scales = {}
for reg in (5.0, 100.0):
    net = make_net(reg)
    net.reg = 0.0
    _, data = net.loss_and_grads(Xb, yb)
    net.reg = reg
    J, total = net.loss_and_grads(Xb, yb)
    bug_error = 1e-3 * np.abs(data["W1"])               # what 1.001 * dW adds
    share = np.median(bug_error / np.abs(total["W1"]))
    scales[reg] = (bug_error.max(), eps * J / h, share)
    print(f"reg {reg:4g}: J = {J:7.1f}, eps * J / h = {eps * J / h:.1e}; the bug's error in W1: "
          f"at most {bug_error.max():.1e} absolute, median {share:.1e} of the total gradient")
assert scales[5.0][0] > 5 * scales[5.0][1]        # well above the rounding scale: caught
assert scales[100.0][0] < 10 * scales[100.0][1]   # within a small factor of it: lost in noise
assert scales[100.0][2] < 1e-7                    # far below the 1e-6 relative tolerance

# %% [markdown]
# At reg = 5 the bug's largest error stands well above the rounding scale, and minnet
# finds those coordinates. At reg = 100 the largest error is within a small factor of
# that scale, and in the typical coordinate the bug is a fraction of the gradient far
# below 1e-6: a check of the total loss with this step cannot tell the bug from the
# numerical error of its own quotients. A check of the data part can, because the data
# loss has no penalty term to hide under.
#
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
#   bug in d shrinks by the same factor in any error measured on the total.
# - A norm form over the whole gradient below 1e-7 proves nothing then; with enough
#   regularization even a coordinate-by-coordinate check of the total cannot see it.
# - Check part="data" on its own (and part="reg"), or check with reg = 0; minnet's
#   total report tells you when regularization dominates a tensor.
