# %% [markdown]
# # 04 · Checking one layer at a time
#
# Course assignments have students write layers one at a time: an affine layer, a
# ReLU, dropout, a softmax loss. Each one is checked on its own, before it goes into a
# network, so that a failure points at one `backward` and nothing else. This lesson
# does that twice: with minnet's checkers (`minnet.check_layer`,
# `minnet.checker.check_loss`), and with the assignment-style helpers
# (`eval_numerical_gradient_array`, `eval_numerical_gradient`, `relative_error`) that
# you call yourself. Run it as `python tutorials/04_checking_layers.py`.

# %%
import os

import numpy as np

import minnet
from minnet import bugs
from minnet.checker import (band, check_loss, eval_numerical_gradient,
                            eval_numerical_gradient_array, relative_error)

FAST = os.environ.get("MINNET_FAST") == "1"  # everything here is quick: same settings either way

rng = np.random.default_rng(0)

# %% [markdown]
# ## A layer's output is an array: check a scalar made from it
#
# A gradient check needs a scalar function. A layer maps x to an array `out`, and
# during backpropagation it receives dout = dL/dout from above. Whatever the loss L
# is, the chain rule only ever uses L through dout, so we may pretend the loss is
#
#     L(x) = Σ out(x) · dout        (summed over every entry, dout held fixed)
#
# whose gradient with respect to x is exactly what `backward(dout)` must return, and
# whose gradient with respect to W is what must land in `grads["W"]`. Any dout will
# do; a random one exercises every entry.
#
# ## minnet.check_layer
#
# `minnet.check_layer(layer, x, dout=None)` does all of it: one forward, one backward,
# then centered differences of Σ out · dout for x and for every parameter. It returns
# a report with a row for x and one per parameter. dout defaults to a random normal
# array drawn with `seed`.

# %%
x = rng.standard_normal((10, 6))
affine = minnet.Affine(6, 5, rng=1)
affine.params["b"][:] = rng.standard_normal(5)  # a nonzero bias, so db is not trivial
affine_report = minnet.check_layer(affine, x)
print("Affine(6, 5) checked by check_layer: backward's dx, dW and db against centered "
      "differences of sum(out * dout); PASS means within the numerical estimate's own error")
print(affine_report)
assert affine_report.passed and [row.name for row in affine_report.rows] == ["x", "W", "b"]

# %% [markdown]
# ReLU has no parameters, so its report has the row x only. Dropout must use the same
# mask in every evaluation, otherwise each J(x ± h) would drop different units and the
# difference quotient would measure the change of mask, not the slope. A `Dropout`
# built with `seed=` draws the same mask at every forward. (`check_layer` would fix
# the mask of an unseeded Dropout by itself; the hand-made check further down cannot.)

# %%
relu = minnet.ReLU()
dropout = minnet.Dropout(keep_prob=0.8, seed=0)
x_act = rng.standard_normal((10, 6))
relu_report = minnet.check_layer(relu, x_act)
dropout_report = minnet.check_layer(dropout, x_act)
print("\nReLU checked by check_layer (dx only: no parameters):")
print(relu_report)
print("\nDropout(keep_prob=0.8, seed=0) checked by check_layer (the same mask at every "
      "forward):")
print(dropout_report)
assert relu_report.passed and dropout_report.passed

# %% [markdown]
# ## minnet.checker.check_loss
#
# A loss takes scores and labels and returns one number, so it is checked directly:
# `check_loss(loss, scores, y)` compares `loss.backward()` (dL/dscores) with centered
# differences of `loss.forward(scores, y)`.

# %%
scores = rng.standard_normal((10, 4))
labels = rng.integers(0, 4, size=10)
softmax = minnet.SoftmaxLoss()
loss_report = check_loss(softmax, scores, labels)
print("SoftmaxLoss checked by check_loss: backward's dscores against centered "
      "differences of the loss")
print(loss_report)
assert loss_report.passed

# %% [markdown]
# ## The assignment-style helpers
#
# Many assignments give students two helpers and have them compare by hand:
#
# - `eval_numerical_gradient_array(f, x, df, h=1e-5)`: for an array-valued f, the
#   gradient of Σ f(x) · df with respect to x, by centered differences; exactly the
#   Σ out · dout trick above. x is perturbed in place and restored.
# - `eval_numerical_gradient(f, x, h=1e-5)`: for a scalar f (a loss), its gradient.
#
# The comparison uses the elementwise relative error,
#
#     relative_error(a, n) = |a - n| / max(|a|, |n|, 1e-8)
#
# whose largest entry is what one reports. The 1e-8 floor keeps two gradients that are
# both essentially zero from looking far apart.
#
# For a parameter, f must read the very array being perturbed: `layer.params["W"]`
# is that array, and the lambda ignores its argument and calls `layer.forward(x)`,
# which reads W from `layer.params`.

# %%
def largest(a, n):
    return float(relative_error(a, n).max())


dout = rng.standard_normal((10, 5))
dx_num = eval_numerical_gradient_array(lambda v: affine.forward(v), x, dout)
dW_num = eval_numerical_gradient_array(lambda _: affine.forward(x), affine.params["W"], dout)
db_num = eval_numerical_gradient_array(lambda _: affine.forward(x), affine.params["b"], dout)
affine.forward(x)
dx = affine.backward(dout)

dact = rng.standard_normal((10, 6))
drelu_num = eval_numerical_gradient_array(lambda v: relu.forward(v), x_act, dact)
relu.forward(x_act)
drelu = relu.backward(dact)
ddrop_num = eval_numerical_gradient_array(lambda v: dropout.forward(v), x_act, dact)
dropout.forward(x_act)
ddrop = dropout.backward(dact)

dscores_num = eval_numerical_gradient(lambda s: softmax.forward(s, labels), scores)
softmax.forward(scores, labels)
dscores = softmax.backward()

pairs = {  # name: (analytic, numerical)
    "Affine dx": (dx, dx_num),
    "Affine dW": (affine.grads["W"], dW_num),
    "Affine db": (affine.grads["b"], db_num),
    "ReLU dx": (drelu, drelu_num),
    "Dropout dx": (ddrop, ddrop_num),
    "SoftmaxLoss dscores": (dscores, dscores_num),
}
errors = {name: largest(a, n) for name, (a, n) in pairs.items()}
print("The same layers checked by hand (eval_numerical_gradient[_array], h = 1e-5): the "
      "largest elementwise relative error |a - n| / max(|a|, |n|, 1e-8) of each gradient, "
      "and its band in the course table")
for name, error in errors.items():
    print(f"{name:>20}: largest relative error {error:.2e} ({band(error)})")
print(f"all between {min(errors.values()):.1e} and {max(errors.values()):.1e}: "
      "the difference quotient's own error, not a bug")

# %% [markdown]
# What to expect: for correct layers, with h = 1e-5 and float64, the printed values
# all lie below 1e-6, and all but the largest below 1e-7, the "excellent" band of the
# course notes (above 1e-2 wrong, 1e-4 to 1e-2 suspicious, 1e-7 to 1e-4 acceptable).
# They are not zero: the numerical side carries its own truncation (O(h²)) and
# rounding (about eps · |L| / h) errors, lesson 01's V-curve.
#
# Why is one of them larger? The rounding error of the numerical gradient is an
# *absolute* error of about the same size for every entry. Divided by a gradient
# entry that happens to be small, it becomes a large *relative* error. Look at the
# entry behind the largest value:

# %%
worst_name = max(errors, key=errors.get)
a, n = pairs[worst_name]
entry = tuple(int(i) for i in np.unravel_index(np.argmax(relative_error(a, n)), a.shape))
typical = float(np.median(np.abs(a)))
absolute = max(float(np.max(np.abs(a_ - n_))) for a_, n_ in pairs.values())
print(f"the entry behind the largest relative error: {worst_name}{list(entry)}, analytic "
      f"{a[entry]:.6e}, numerical {n[entry]:.6e}")
print(f"it is tiny: a typical |{worst_name}| entry (median) is {typical:.1e}, while the "
      f"largest absolute error over all six checks is only {absolute:.1e}")
assert all(error < 1e-6 for error in errors.values())
assert sorted(errors.values())[-2] < 1e-7  # all but the largest below 1e-7
assert abs(a[entry]) < 1e-3 * typical and absolute < 1e-8

# %% [markdown]
# That entry's gradient is thousands of times smaller than a typical one, while every
# absolute error stays tiny. So read a relative error together with the size of the
# gradient it belongs to. minnet's checkers do this for you: their pass rule allows
# for the measured rounding error of each difference quotient, so a small gradient
# does not make a correct layer fail. The largest relative errors in the minnet reports
# above, with minnet's own step:

# %%
minnet_worst = max(row.max_rel_error for report in (affine_report, relu_report, dropout_report,
                                                     loss_report) for row in report.rows)
print(f"largest relative error in minnet's reports above: {minnet_worst:.1e} "
      f"({band(minnet_worst)}, with minnet's own step and estimate)")
assert minnet_worst < 1e-7

# %% [markdown]
# ## What a bug looks like
#
# `minnet.bugs.buggy_class(name)` builds a layer class with a catalogued mistake, the
# way a student's file might. Here is an Affine whose db is taken from the first
# sample instead of summed over the batch: a classic slip. Both checks catch it, and
# the relative error lands in the "wrong" band, far from the 1e-7 of a correct layer.

# %%
BuggyAffine = bugs.buggy_class("affine-db-one-sample")
buggy = BuggyAffine(6, 5, rng=1)
buggy.params["b"][:] = affine.params["b"]
buggy_report = minnet.check_layer(buggy, x)
print("Affine with the bug affine-db-one-sample (db from the first sample only), "
      "checked by check_layer:")
print(buggy_report)
buggy.forward(x)
buggy.backward(dout)
db_error = largest(buggy.grads["b"], eval_numerical_gradient_array(
    lambda _: buggy.forward(x), buggy.params["b"], dout))
print(f"the same buggy db checked by hand (h = 1e-5): largest relative error {db_error:.2e} "
      f"({band(db_error)}): the hand-made check catches it too")
assert buggy_report.failed == ["b"] and db_error > 1e-2

# %% [markdown]
# ## Two traps of the hand-made check
#
# **Randomness.** An unseeded Dropout draws a new mask at every forward, so the
# numerical gradient compares different functions and means nothing. Seed it, as
# above, or let `check_layer` fix the mask.

# %%
unseeded = minnet.Dropout(keep_prob=0.8, rng=1)
noisy_num = eval_numerical_gradient_array(lambda v: unseeded.forward(v), x_act, dact)
unseeded.forward(x_act)
noisy_error = largest(unseeded.backward(dact), noisy_num)
unseeded_report = minnet.check_layer(unseeded, x_act)
print(f"unseeded Dropout checked by hand (a new mask at every forward): largest relative "
      f"error {noisy_error:.1e}, meaningless: the quotients measure the change of mask")
print("the same unseeded Dropout checked by check_layer, which fixes the mask during the "
      "check: " + ("PASS, dx agrees with its numerical estimate" if unseeded_report.passed
                   else f"FAIL {unseeded_report.failed}"))
assert noisy_error > 1e-2 and unseeded_report.passed

# %% [markdown]
# **Kinks.** ReLU has a kink at 0. If an input lies closer to 0 than the step h, the
# points x - h and x + h sit on different sides of the kink, and the centered
# difference averages the two slopes (0 and 1): a correct ReLU then looks wrong.
# `check_layer` notices when a step crosses a kink (layers report their kink
# pattern) and compares that coordinate with a one-sided difference from the correct
# side instead.

# %%
x_kink = x_act.copy()
x_kink[0, 0] = 3e-6  # closer to 0 than the assignment step h = 1e-5
kink_num = eval_numerical_gradient_array(lambda v: relu.forward(v), x_kink, dact)
relu.forward(x_kink)
kink_error = largest(relu.backward(dact), kink_num)
kink_report = minnet.check_layer(relu, x_kink, dout=dact)
print(f"ReLU with an input at 3e-6, closer to its kink than h, checked by hand (h = 1e-5): "
      f"largest relative error {kink_error:.1e}, a false alarm: the centered step crosses the kink")
print("the same ReLU checked by check_layer, which judges a coordinate next to a kink from "
      "one side (see the kinks column):")
print(kink_report)
assert kink_error > 1e-2 and kink_report.passed

# %% [markdown]
# ## Writing your own layers
#
# `tutorials/assignments/layers_assignment.py` is a skeleton with every layer's
# forward pass written and each backward left for you, with hints. Copy it, fill in
# the backward passes, and grade yourself:
#
#     minnet grade my_layers.py                       # every class, PASS or FAIL
#     minnet grade my_layers.py --classes Affine,ReLU  # only what is done so far
#     minnet grade --reference                        # what full marks look like
#
# The grader runs `check_layer` / `check_loss` on each class over several shapes and
# seeds, then `check_net` with your class inside a small net of minnet's own layers,
# and prints the worst relative error and a hint. tutorials/assignments/README.md
# shows passing and failing grades.
#
# ## What to take away
#
# - A layer is checked through the scalar Σ out · dout: its gradients are exactly
#   what backward(dout) returns.
# - `check_layer` and `check_loss` do the whole check and name the wrong tensor;
#   `eval_numerical_gradient_array` / `eval_numerical_gradient` with `relative_error`
#   are the same idea done by hand.
# - For correct layers expect relative errors like the printed ones: below 1e-6 here,
#   most below 1e-7, the larger ones where a gradient entry is itself tiny. A real bug
#   shows up above 1e-2.
# - By hand, fix all randomness and keep inputs away from kinks; `check_layer` does
#   both for you.
