# %% [markdown]
# # 08 · Checking during training, not only at initialization
#
# The usual habit is to run one gradient check on the freshly built net and then
# train. But a freshly built net is a special point: its biases are exactly 0 and its
# weights are small random numbers that have not yet been shaped by the data. A
# mistake in backward that is multiplied by something that is zero (or tiny) at that
# point leaves the gradient there unchanged, and the check at initialization passes.
# The classic advice is to check again after a short burn-in, once the net is in a
# characteristic mode of operation, and, better, every so often during training.
#
# `minnet.fit(..., check_at=[0, 50, 100])` does that: it runs `check_net` before the
# first step (0) and after the given numbers of steps, on the first `check_size`
# samples of the minibatch about to be used, and keeps the reports in
# `history.checks` as (step, report) pairs. A check changes nothing in the net, so
# training goes exactly as it would without it. By default these are fast directional
# checks (`check_net(..., fast=True)`: every tensor compared along a few random
# directions, a few percent of the training time); this lesson passes
# `check_options={"fast": False}` to compare coordinate by coordinate, as the classic
# material does.
#
# Run it as `python tutorials/08_checks_during_training.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot
from minnet.datasets import load_digits, standardize, train_test_split

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## Data, net and schedule
# The 8x8 handwritten digits, standardized; a net 64 -> 32 -> 10 with ReLU and L2
# regularization reg = 1e-3, trained with momentum SGD on minibatches of 64.

# %%
X, y = load_digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
X_train, X_test = standardize(X_train, X_test)

EPOCHS = 5 if FAST else 20
steps_per_epoch = int(np.ceil(len(X_train) / 64))
CHECK_AT = [0, 10, 25, 50, 100] if FAST else [0, 10, 25, 50, 100, 200, 300, 400]
FULL = {"fast": False}  # coordinate by coordinate, not the default directional checks
print(f"{len(X_train)} training images, {steps_per_epoch} steps per epoch, "
      f"{EPOCHS * steps_per_epoch} steps in all; checks at steps {CHECK_AT}")


def make_net():
    return minnet.Net.mlp([64, 32, 10], activation="relu", reg=1e-3, seed=0)


# %% [markdown]
# ## A correct net, checked during training
# First the reference: minnet's own, correct backward. Every check should pass.

# %%
net = make_net()
history = minnet.fit(net, X_train, y_train, minnet.Momentum(lr=0.1), epochs=EPOCHS,
                     batch_size=64, val=(X_test, y_test), check_at=CHECK_AT,
                     check_options=FULL, verbose=False)
for step, report in history.checks:
    worst = max(row.max_rel_error for row in report.rows)
    print(f"step {step:3d}: {'passed' if report.passed else 'FAILED'}, "
          f"largest relative error {worst:.1e}")
print(f"test accuracy: {net.accuracy(X_test, y_test):.3f}")
last = history.checks[-1][1]
worst_row = max(last.rows, key=lambda row: row.max_rel_error)
print(f"the last check's largest relative error is {worst_row.max_rel_error:.1e}, on "
      f"{worst_row.name} ({worst_row.band} band by the course table); minnet allowed up to "
      f"{worst_row.tolerance:.1e} there, the numerical estimate's own error")
assert [step for step, _ in history.checks] == CHECK_AT
assert all(report.passed for _, report in history.checks)

# %% [markdown]
# The largest relative errors move around from check to check. They are the
# difference quotients' own numerical error, larger where a gradient coordinate is
# tiny, as the report's note says; minnet judges every coordinate against the error
# of its own quotient, and every check passes.

# %% [markdown]
# ## A bug that the check at initialization cannot see
# The regularization term is 0.5 * reg * sum(W**2) over the weight matrices only, so
# the biases get no regularization gradient. A common slip adds reg * b to the bias
# gradients anyway (`reg-gradient-on-biases` in `minnet.bugs`).
#
# At initialization every bias is exactly 0, so the wrong term reg * b is exactly 0:
# the buggy gradient equals the right one, bit for bit, and no check at that point can
# tell them apart. As soon as training moves the biases away from 0, the term appears.
#
# We train with the bug injected (for the whole `with` block the net's regularization
# gradient is the buggy one), checking at the same steps. A callback, called by `fit`
# as callback(step, net, X_batch, y_batch) after every step, records how large the
# biases are.

# %%
bias_size = {0: 0.0}   # the biases start at exactly 0 (asserted below)


def record_biases(step, net, X_batch, y_batch):
    bias_size[step] = max(np.abs(net.params["b1"]).max(), np.abs(net.params["b2"]).max())


buggy_net = make_net()
print("biases at initialization all zero:",
      all(np.all(buggy_net.params[name] == 0) for name in ("b1", "b2")))
assert all(np.all(buggy_net.params[name] == 0) for name in ("b1", "b2"))
with minnet.bugs.inject(buggy_net, "reg-gradient-on-biases"):
    buggy_history = minnet.fit(buggy_net, X_train, y_train, minnet.Momentum(lr=0.1),
                               epochs=EPOCHS, batch_size=64, val=(X_test, y_test),
                               check_at=CHECK_AT, check_options=FULL,
                               callback=record_biases, verbose=False)

for step, report in buggy_history.checks:
    size = bias_size[step]
    verdict = "passed" if report.passed else f"FAILED {report.failed}"
    print(f"step {step:3d}: max |b| = {size:.3f}, b1 error {report['b1'].max_rel_error:.1e}, "
          f"b2 error {report['b2'].max_rel_error:.1e}: {verdict}")
print(f"test accuracy of the buggy net: {buggy_net.accuracy(X_test, y_test):.3f}")

first_step, first_report = buggy_history.checks[0]
assert first_step == 0 and first_report.passed               # invisible at initialization
for step, report in buggy_history.checks[1:]:
    assert not report.passed and set(report.failed) <= {"b1", "b2"}, (step, report.failed)
assert set(buggy_history.checks[-1][1].failed) == {"b1", "b2"}

# %% [markdown]
# The check at step 0 passes, and every later check fails, naming only the biases, the
# tensors the wrong term touches. The errors appear as soon as the biases move away
# from 0 (the `max |b|` column). Had we checked only at initialization, this bug would have shipped.
#
# Training itself gives no hint: the buggy net learns about as well as the correct one
# (weight decay on biases is a small, mostly harmless change of the objective; the
# bug is that backward does not compute the gradient of the loss it claims to).
# The training curves look entirely healthy:

# %%
fig = minnet.plot.training_curves(
    buggy_history, title="training with the bias-regularization bug: nothing looks wrong")
minnet.plot.save(fig, "08_training.png")
print(f"final epoch train accuracy: correct {history.train_acc[-1]:.3f}, "
      f"buggy {buggy_history.train_acc[-1]:.3f}")
assert buggy_history.train_acc[-1] > 0.9

# %% [markdown]
# ## The checks over training, in one picture
# `minnet.plot.checks_over_training(history.checks)` draws every tensor's largest
# relative error at every check, on a log scale, with the verdict band edges (1e-7,
# 1e-4, 1e-2) dotted. Left the correct run, right the buggy one: the bias curves start
# at the bottom at step 0 and jump up as soon as training starts.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
minnet.plot.checks_over_training(history.checks, ax=left)
left.set_title("correct backward")
minnet.plot.checks_over_training(buggy_history.checks, ax=right)
right.set_title("reg * b added to the bias gradients")
fig.suptitle("checks during training catch the bias bug the moment training starts",
             fontsize="x-large")
fig.tight_layout()
minnet.plot.save(fig, "08_checks_over_training.png")

# %% [markdown]
# ## Does a tiny initialization hide a regularization bug? Not this one.
# A tempting idea: with a tiny initialization (weights of size 0.001) the penalty's
# gradient reg * W is tiny, so a doubled penalty gradient (`reg-gradient-doubled`,
# 2 * reg * W instead of reg * W) should also hide at initialization. Try it before
# believing it: with tiny weights the *data* gradient is tiny too, because the
# gradient reaching W1 is multiplied by W2, and the gradient of W2 by the activations,
# which W1 made small. The two stay comparable, and the check at initialization
# catches the bug at once:

# %%
tiny = minnet.Net.mlp([64, 32, 10], activation="relu", reg=1e-3, init=0.001, seed=0)
with minnet.bugs.inject(tiny, "reg-gradient-doubled"):
    at_init = minnet.check_net(tiny, X_train[:16], y_train[:16])
print(f"reg-gradient-doubled, init 0.001, check at initialization: failed {at_init.failed}, "
      f"W1 error {at_init['W1'].max_rel_error:.1e}")
assert not at_init.passed and "W1" in at_init.failed

# %% [markdown]
# So the rule is not "small weights hide things". It is: whatever a bug multiplies
# by must be nonzero (and not negligible next to the rest of the gradient) at the
# point you check. Biases that start at exactly 0 are the classic case; in general,
# anything the bug touches that starts at 0, or a code path that initialization
# leaves unused, is out of a first check's sight.
#
# ## What to remember
# - A check at initialization tests the backward pass at one special point. Bugs
#   multiplied by something that vanishes there (like biases initialized to 0) pass.
# - Check again after a short burn-in, and now and then during training:
#   `fit(..., check_at=[0, 50, 100, ...])` keeps every report in `history.checks`,
#   and `minnet.plot.checks_over_training` draws them.
# - Training curves are no substitute: a net with a wrong gradient can still learn.
