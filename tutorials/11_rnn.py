# %% [markdown]
# # 11 · A recurrent net, and backpropagation through time
#
# A recurrent net reads a sequence one step at a time and carries a hidden state
# from step to step. This lesson builds a small character-level model, measures how
# far back in time its gradient reaches (and what decides whether it vanishes or
# explodes), checks its gradients, breaks backpropagation through time on purpose to
# see what the checker says (and when it cannot), shows why every evaluation of a check
# must see the same batch and the same starting state, trains the model, and lets it
# write. Run it as `python tutorials/11_rnn.py`.
#
# The three pieces minnet has for sequences:
#
# - `minnet.RNN(in_features, hidden)`: x of shape (N, T, D) -> h of shape (N, T, H),
#   every hidden state, with parameters Wx (D, H), Wh (H, H) and b (H,);
# - `minnet.TimeAffine(H, C)`: the same affine map at every step, (N, T, H) -> (N, T, C);
# - `minnet.TemporalSoftmaxLoss()`: softmax cross-entropy at every step, scores
#   (N, T, C) against labels (N, T), summed over the T steps and averaged over the N
#   sequences.

# %%
import copy
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot
from minnet.checker import (RELATIVE_STEPS, NondeterministicForwardError, gradient_check_n,
                            numerical_gradient, relative_error)

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## The recurrence
# With h_0 = 0, at every step t = 1 .. T
#
#     z_t = x_t Wx + h_{t-1} Wh + b
#     h_t = tanh(z_t)
#
# The same Wx, Wh and b serve every step. Unrolled over T steps the RNN is just a
# deep feed-forward net of T layers that share their weights, and backpropagation
# through that unrolled net is called backpropagation through time (BPTT).
#
# ## Backpropagation through time
# The loss reaches h_t along two roads: directly, through the scores at step t
# (call that gradient dout_t), and indirectly, through h_{t+1}, which was computed from
# h_t. So backward runs from the last step to the first, carrying a gradient dh_next:
#
#     dh_t   = dout_t + dh_next              (dh_next = 0 at the last step)
#     dz_t   = dh_t * (1 - h_t**2)           (tanh' = 1 - tanh²)
#     dWx   += x_t.T @ dz_t
#     dWh   += h_{t-1}.T @ dz_t
#     db    += dz_t summed over the batch
#     dx_t   = dz_t @ Wx.T
#     dh_next = dz_t @ Wh.T                  (handed to step t - 1)
#
# Because the weights are shared, their gradients are sums over the steps. Forget
# the `+ dh_next` and every step only learns from its own output: the mistake that
# the bug `rnn-no-bptt` makes, and that we will catch below.
#
# ## The data: a text of our own
# The task: read characters, and at every step predict the next one. The text is a
# short paragraph written for this lesson.

# %%
TEXT = (
    "a small net learns to read one letter at a time. it keeps a memory of what it has "
    "seen, and each new letter nudges that memory a little. when the memory is good, the "
    "next letter is easy to guess: after a q comes a u, after a dot comes a space. to "
    "learn, the net looks back through time and asks which old step is to blame for each "
    "mistake. that walk back through time is the heart of the whole idea, and a gradient "
    "check makes sure the walk back is right."
)
chars = sorted(set(TEXT))                     # the vocabulary
V = len(chars)
index_of = {c: i for i, c in enumerate(chars)}
codes = np.array([index_of[c] for c in TEXT])
print(f"{len(TEXT)} characters, vocabulary of {V}: {''.join(chars)!r}")

# %% [markdown]
# Each input character becomes a one-hot row of length V. A training example is a
# window of T characters, and its labels are the same window shifted by one: the
# label at step t is the character at step t + 1. Windows start every 3 characters,
# so they overlap.

# %%
T = 16
STRIDE = 3
starts = np.arange(0, len(codes) - T, STRIDE)
windows = np.stack([codes[s:s + T] for s in starts])          # (N, T) input characters
Y = np.stack([codes[s + 1:s + T + 1] for s in starts])        # (N, T) next characters
X = np.eye(V)[windows]                                         # (N, T, V) one-hot
print("X:", X.shape, "Y:", Y.shape)
print("first window:", repr("".join(chars[i] for i in windows[0])))
print("its labels:  ", repr("".join(chars[i] for i in Y[0])))
assert np.array_equal(windows[:, 1:], Y[:, :-1])   # labels are the inputs, shifted by one

# %% [markdown]
# ## The net
# RNN with H hidden units, then TimeAffine from H to V scores at every step, then the
# temporal softmax loss. `net.params` names them as usual: Wx1, Wh1, b1 for the
# RNN and W2, b2 for the TimeAffine.
#
# Since the loss is summed over the steps, a net that guesses uniformly scores
# T * log V per sequence, not log V.

# %%
H = 48
net = minnet.Net([minnet.RNN(V, H, rng=0), minnet.TimeAffine(H, V, rng=1)],
                 minnet.TemporalSoftmaxLoss())
print(net)
print({name: value.shape for name, value in net.params.items()})
start_loss = net.loss(X, Y)
print(f"loss at initialization: {start_loss:.2f}   (T * log V = {T * np.log(V):.2f})")
assert list(net.params) == ["Wx1", "Wh1", "b1", "W2", "b2"]
assert abs(start_loss - T * np.log(V)) < 0.1 * T * np.log(V)

# %% [markdown]
# ## How far back does the gradient reach?
# Before checking, a look at BPTT at work. Put a gradient of ones on the last step's
# hidden state only (dout is zero at every other step) and carry it back with the
# recurrence above. Two gradients show how far it gets: dh_t, the gradient reaching the
# hidden state h_t (the one that travels through time), and dx_t = dz_t @ Wx.T, what the
# input at step t receives from it.
#
# One step back (dout is zero there), dh_{t-1} = (dh_t * (1 - h_t**2)) @ Wh.T. For one
# sequence, written with column vectors, that is
#
#     dh_{t-1} = Wh · diag(1 - h_t**2) · dh_t
#
# and Wh · diag(1 - h_t**2) is the transpose of the step's Jacobian ∂h_t/∂h_{t-1}. Its
# largest singular value s_t is the most one step can stretch the gradient:
# ‖dh_{t-1}‖ ≤ s_t ‖dh_t‖. What the step really does to the norm, its gain
# ‖dh_{t-1}‖ / ‖dh_t‖, depends on the direction of dh_t and can be anything up to s_t.
# tanh' ≤ 1 only caps s_t at s_max(Wh); it does not push s_t below 1.


# %%
def reach_through_time(rnn, x):
    """Put a gradient of ones on the last hidden state and carry it back with BPTT.

    x: (N, T, D). Returns h (N, T, H), the hidden states; dh (N, T, H), the gradient
    reaching every h_t; and stretch (N, T), the largest singular value s_t of
    Wh · diag(1 - h_t**2) for every sequence and step: the most step t can multiply
    the norm of dh_t by on its way back to h_{t-1}.
    """
    h = rnn.forward(x)
    Wh = rnn.params["Wh"]
    dh = np.zeros_like(h)
    dh[:, -1] = 1.0
    for t in reversed(range(1, h.shape[1])):
        dh[:, t - 1] = (dh[:, t] * (1 - h[:, t]**2)) @ Wh.T
    # Wh * d scales column j of Wh by d_j: it is Wh · diag(d), one matrix per (n, t)
    stretch = np.linalg.svd(Wh * (1 - h**2)[:, :, None, :], compute_uv=False)[..., 0]
    return h, dh, stretch


rnn = net.layers[0]
h, dh, stretch = reach_through_time(rnn, X[:8])
dz = dh * (1 - h**2)
dx = dz @ rnn.params["Wx"].T
dout = np.zeros_like(h)
dout[:, -1] = 1.0
assert np.allclose(rnn.backward(dout), dx)        # the layer's own backward agrees
with minnet.bugs.inject(net, "rnn-no-bptt", layer=0) as broken:
    broken.forward(X[:8])
    reach_broken = np.linalg.norm(broken.backward(dout), axis=(0, 2))

reach = np.linalg.norm(dx, axis=(0, 2))           # ||dx_t|| over the 8 sequences
dh_norm = np.linalg.norm(dh, axis=(0, 2))         # ||dh_t||
gain = dh_norm[:-1] / dh_norm[1:]                 # the gain of every step back
s_t = stretch.max(axis=0)                         # the largest over the 8 sequences
print(" t   ||dx_t||   no BPTT   ||dh_t||   gain of step t       s_t")
for k in range(T):                                # row t = k + 1: t counts from 1
    back = f"{gain[k - 1]:14.3f}   {s_t[k]:7.3f}" if k > 0 else ""
    print(f"{k + 1:2d}  {reach[k]:9.3g}  {reach_broken[k]:8.3g}  {dh_norm[k]:9.3g}  {back}")
per_sequence = np.linalg.norm(dh, axis=2)         # (8, T): ||dh_t|| of each sequence
used = per_sequence[:, :-1] / per_sequence[:, 1:] / stretch[:, 1:]
print(f"s_t from {s_t[1:].min():.2f} to {s_t[1:].max():.2f}; "
      f"gain from {gain.min():.2f} to {gain.max():.2f}; "
      f"each sequence's gain uses at most {used.max():.2f} of its s_t")
shares = np.linalg.norm(dx, axis=(0, 2)) / np.linalg.norm(dz, axis=(0, 2))
print(f"||dx_t|| / ||dz_t||: {shares[-2]:.2f} at t = 15, {shares[-1]:.2f} at t = 16")

assert used.max() <= 1                            # no step ever beats its bound
assert np.all(gain <= s_t[1:])
assert 1.85 < s_t[1:].min() and s_t[1:].max() < 2.05
assert 0.70 < gain.min() and gain.max() < 0.99 and abs(used.max() - 0.60) < 0.02
assert abs(dh_norm[-1] - np.sqrt(8 * H)) < 1e-12 and abs(dh_norm[0] - 2.66) < 0.01
assert abs(reach[-2] - 13.9) < 0.05 and abs(reach[-1] - 12.6) < 0.05
assert abs(dh_norm[-2] - 15.5) < 0.05
assert abs(shares[-2] - 1.00) < 0.01 and abs(shares[-1] - 0.73) < 0.01
assert np.all(reach_broken[:-1] == 0) and reach_broken[-1] > 0

# %% [markdown]
# In this run s_t lies between 1.90 and 2.00 at every step: any step could nearly
# double the gradient. Yet the gain lies between 0.75 and 0.96, so ‖dh_t‖ shrinks at
# every step, from √(8·48) = 19.6 at t = 16 to 2.66 at t = 1. No sequence's gain uses
# more than 0.60 of its s_t: dh_t does not point where Wh · diag(1 - h_t**2) stretches
# most.
#
# The bump in the first column, ‖dx₁₅‖ = 13.9 > ‖dx₁₆‖ = 12.6, is not the gradient
# growing through time: ‖dh₁₅‖ = 15.5 < ‖dh₁₆‖ = 19.6. It comes from the last hop,
# dx_t = dz_t @ Wx.T, which maps the 48 numbers of dz_t onto 27 inputs and keeps 1.00
# of the norm of dz₁₅ but only 0.73 of dz₁₆. Without BPTT (second column) only the last
# input gets any gradient.
#
# ## Vanishing or exploding: the gain decides
# The same net with Wh scaled by 0.4 and by 2 shows both ends. With s_t < 1 at every
# step, the bound alone forces the gradient to shrink: ‖dh_1‖ ≤ s_2 ··· s_16 ‖dh_16‖.
# With gains above 1 it grows on its way back: it explodes.

# %%
scales = {0.4: "#2a9d8f", 1.0: "#264653", 2.0: "#e76f51"}
runs = {}
for scale in scales:
    scaled = copy.deepcopy(rnn)
    scaled.params["Wh"] = scale * rnn.params["Wh"]
    _, dh_scaled, stretch_scaled = reach_through_time(scaled, X[:8])
    norms = np.linalg.norm(dh_scaled, axis=(0, 2))
    runs[scale] = norms, norms[:-1] / norms[1:], stretch_scaled.max(axis=0)[1:]
    norms, gains, bounds = runs[scale]
    print(f"Wh x {scale}: s_t {bounds.min():.2f} to {bounds.max():.2f}, gain "
          f"{gains.min():.2f} to {gains.max():.2f}, ||dh_1|| / ||dh_16|| = "
          f"{norms[0] / norms[-1]:.2g} (bound: product of s_t = {np.prod(bounds):.2g})")
    assert np.all(gains <= bounds) and norms[0] / norms[-1] <= np.prod(bounds)

vanishing, exploding = runs[0.4], runs[2.0]
assert 0.78 < vanishing[2].min() and vanishing[2].max() < 0.82
assert 0.3 < vanishing[1].min() and vanishing[1].max() < 0.5
assert abs(np.log10(vanishing[0][0] / vanishing[0][-1] / 6.1e-7)) < 0.01
assert abs(dh_norm[0] / dh_norm[-1] - 0.14) < 0.005
assert abs(exploding[1].min() - 1.07) < 0.01 and abs(exploding[1].max() - 1.97) < 0.01
assert abs(exploding[0][0] / exploding[0][-1] - 40) < 1
assert np.array_equal(runs[1.0][0], dh_norm)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
steps = np.arange(1, T + 1)                       # t = 1 .. T, as in the recurrence
for scale, color in scales.items():
    norms, gains, bounds = runs[scale]
    name = "the lesson's Wh" if scale == 1.0 else f"Wh x {scale}"
    left.semilogy(steps, norms, "o-", color=color, label=f"‖dL/dh_t‖, {name}")
    right.semilogy(steps[1:], gains, "o-", color=color, label=f"gain, {name}")
    right.semilogy(steps[1:], bounds, "--", color=color, label=f"s_t, {name}")
left.semilogy(steps, reach, "s:", color="#8d99ae", label="‖dL/dx_t‖, the lesson's Wh")
left.set(xlabel="step t (the gradient enters at t = 16)", ylabel="gradient norm (log scale)",
         title="how far back the gradient reaches")
right.axhline(1.0, color="black", lw=1, label="1: the norm neither grows nor shrinks")
ticks = [0.3, 0.5, 1, 2, 4]
right.set_yticks(ticks, [f"{tick:g}" for tick in ticks])
right.set_yticks([], minor=True)
right.set(xlabel="step t (from dh_t to dh_{t-1})", ylabel="factor per step (log scale)",
          ylim=(0.25, 30), title="gain ‖dh_{t-1}‖ / ‖dh_t‖ and its bound s_t")
left.legend(fontsize=8)
right.legend(fontsize=7, ncol=2, loc="upper center")
fig.suptitle("the gradient shrinks going back where each step's gain is below 1, "
             "grows where it is above;\ns_max(Wh · diag(tanh')) only bounds the gain")
fig.tight_layout()
minnet.plot.save(fig, "11_gradient_reach.png")

# %% [markdown]
# In the figure `figures/11_gradient_reach.png` (left) the gradient reaching h_t, on a
# log scale: a straight line is a constant gain per step. On the right the gain of every
# step (solid) and its bound s_t (dashed). With Wh x 0.4 every s_t is about 0.8, so the
# gradient must vanish, and does: ‖dh_1‖ / ‖dh_16‖ = 6.1e-7, well under the bound
# 0.8^15 ≈ 0.04, because the gains (0.33 to 0.46) stay far below s_t. With the lesson's
# Wh, s_t ≈ 2 allows growth but the gain stays below 1: the gradient fades slowly, to
# 0.14 of where it entered. With Wh x 2 every gain is above 1 (1.07 to 1.97) and the
# gradient is 40 times larger at t = 1 than where it entered: it explodes.
# Vanishing or exploding is decided by the gain along dh, which s_t bounds from above;
# tanh' ≤ 1 alone decides neither.
#
# ## Gradient check
# `check_net` perturbs every parameter of the RNN and the TimeAffine and compares
# with backward. The loss is a function of the whole sequence, so the numerical
# derivative automatically includes every road through time: it is exactly the
# reference BPTT must match.

# %%
Xc, Yc = X[:4], Y[:4]
report = minnet.check_net(net, Xc, Yc, sample=40 if FAST else None)
print(report)
assert report.passed
assert [row.name for row in report.rows] == ["Wx1", "Wh1", "b1", "W2", "b2"]

# %% [markdown]
# Now the bug: the gradient is not carried back through time (`dh_next` is dropped).

# %%
bug = minnet.bugs.get("rnn-no-bptt")
print(f"{bug.name}: {bug.description}")
with minnet.bugs.inject(net, "rnn-no-bptt", layer=0):
    broken_report = minnet.check_net(net, Xc, Yc, sample=40 if FAST else None)
    _, broken_grads = net.loss_and_grads(Xc, Yc)
print(broken_report)
assert set(broken_report.failed) == {"Wx1", "Wh1", "b1"}
assert broken_report["W2"].passed and broken_report["b2"].passed

# %% [markdown]
# The checker names exactly the RNN's three tensors. W2 and b2 pass, and that
# fits the mistake: the TimeAffine's gradients need only the hidden states (from the
# forward pass, which is right) and the gradient of the scores, so nothing about
# time enters them. Wx1, Wh1 and b1 are sums over the steps of terms built from
# dz_t, and every dz_t before the last misses the part that came back from later
# steps. How much of each gradient went missing:

# %%
_, right_grads = net.loss_and_grads(Xc, Yc)   # the bug is gone: the correct backward again
for name in net.params:
    missing = np.linalg.norm(right_grads[name] - broken_grads[name])
    print(f"{name:4s}: ||right - no BPTT|| / ||right|| = "
          f"{missing / np.linalg.norm(right_grads[name]):.2f}")
assert np.array_equal(right_grads["W2"], broken_grads["W2"])

# %% [markdown]
# ## A check with T = 1 cannot see a forgotten BPTT
# With a single step there is no earlier step to send a gradient to: dh_next is zero at
# the last step anyway, so the backward without BPTT computes exactly what the right
# one does. A check on sequences of length 1 passes the bug; longer ones catch it.

# %%
short = {}
with minnet.bugs.inject(net, "rnn-no-bptt", layer=0):
    for steps in (1, 2, 3):
        short[steps] = minnet.check_net(net, Xc[:, :steps], Yc[:, :steps],
                                        sample=40 if FAST else None)
        verdict = "PASSED" if short[steps].passed else "FAILED: " + ", ".join(short[steps].failed)
        print(f"T = {steps}, rnn-no-bptt injected: {verdict}")
Wh_row = short[1]["Wh1"]
print(f"T = 1: largest |dWh1|, analytic {np.abs(Wh_row.analytic).max():g}, "
      f"numerical {np.abs(Wh_row.numerical).max():g}")
assert short[1].passed
assert set(short[2].failed) == {"Wx1", "b1"}
assert set(short[3].failed) == {"Wx1", "Wh1", "b1"}
assert np.all(Wh_row.analytic == 0) and np.all(Wh_row.numerical == 0)

# %% [markdown]
# At T = 1 even Wh1 passes for an empty reason: with h_0 = 0, Wh never touches the
# loss, its gradient is exactly 0, and the check compares 0 with 0. At T = 2, Wh1 still
# passes: its only nonzero term, h_1.T @ dz_2, belongs to the last step, which needs
# nothing from later steps. From T = 3 on, all three tensors of the RNN fail. So check a
# recurrent layer on sequences long enough for every parameter to have a term that
# passes through time (T ≥ 3 here; the lesson uses T = 16).
#
# ## Every evaluation: the same batch, the same h_0
# The difference quotient (J(θ + h) - J(θ - h)) / 2h is only a derivative of J if the
# two evaluations differ in θ alone (lesson 06 made the point for dropout masks). A
# recurrent net has two more inputs that could change between evaluations: the batch,
# and the starting state h_0. A *stateful* RNN, which starts each batch from the last
# hidden state of the batch before (a common way to read a long text in pieces), hands
# every evaluation a new h_0. To measure what that does, here is the net's loss written
# out with h_0 as an argument, and three ways to call it in a plain numerical gradient
# of Wh1: h_0 = 0 every time, h_0 carried over from the call before, and a fresh random
# h_0 of standard deviation only 1e-3.


# %%
def loss_from(params, h0):
    """The net's loss on (Xc, Yc) with the recurrence started from h0: (N, H) instead of 0.

    params: named like net.params. Returns the loss and the last hidden state (N, H),
    which a stateful RNN would use as the next h0.
    """
    h, states = h0, []
    for t in range(T):
        h = np.tanh(Xc[:, t] @ params["Wx1"] + h @ params["Wh1"] + params["b1"])
        states.append(h)
    scores = np.stack(states, axis=1) @ params["W2"] + params["b2"]
    return minnet.TemporalSoftmaxLoss().forward(scores, Yc), h


zeros = np.zeros((len(Xc), H))
carried = {"h0": zeros}


def stateful_loss(params):
    """loss_from, started where the previous call ended: a stateful RNN."""
    J, carried["h0"] = loss_from(params, carried["h0"])
    return J


noise_rng = np.random.default_rng(0)
h0_losses = {
    "h0 = 0 every time": lambda params: loss_from(params, zeros)[0],
    "h0 carried over": stateful_loss,
    "fresh random h0, std 1e-3": lambda params: loss_from(
        params, 1e-3 * noise_rng.standard_normal(zeros.shape))[0],
}
assert abs(h0_losses["h0 = 0 every time"](net.params) - net.loss(Xc, Yc)) < 1e-12  # minnet's RNN
right_dWh = right_grads["Wh1"]
start_errors = {}
for what, loss in h0_losses.items():
    numerical = numerical_gradient(lambda Wh: loss({**net.params, "Wh1": Wh}),
                                   net.params["Wh1"].copy())
    start_errors[what] = np.median(relative_error(right_dWh, numerical))
    print(f"{what:26s}: median relative error {start_errors[what]:.2g}, "
          f"largest |numerical dWh1| {np.abs(numerical).max():.3g} "
          f"(backprop: {np.abs(right_dWh).max():.3g})")
h_step = RELATIVE_STEPS["central"]                # the step h, as every |Wh1| entry is below 1
jump = abs(net.loss(X[4:8], Y[4:8]) - net.loss(Xc, Yc))
print(f"a new batch instead: J on the next 4 windows differs by {jump:.2f}, "
      f"{jump / (2 * h_step):.1e} after dividing by 2h = {2 * h_step:.1e}")
assert np.abs(net.params["Wh1"]).max() < 1 and abs(2 * h_step - 1.2e-5) < 0.05e-5
assert 1.5e-9 < start_errors["h0 = 0 every time"] < 1.9e-9
assert abs(start_errors["h0 carried over"] - 0.77) < 0.01
assert start_errors["fresh random h0, std 1e-3"] > 0.99
assert abs(jump - 1.81) < 0.01 and abs(np.abs(right_dWh).max() - 1.15) < 0.005
assert 1.45e5 < jump / (2 * h_step) < 1.55e5

# %% [markdown]
# With the same h_0 every time, the plain loop agrees with backprop to a median
# relative error of 1.7e-9. With a changing h_0 it is garbage (median relative errors of
# 0.77 and 1.0): the difference of two losses is mostly the change of h_0, divided by
# 2h = 1.2e-5, and a random h_0 of size 1e-3 is already enough. A new batch per
# evaluation is the same mistake, larger still: J moves by 1.81 between two batches of 4
# windows, 1.5e5 once divided by 2h, next to gradient entries no larger than 1.15.
#
# `check_net` keeps both fixed for you. It takes X and y once and evaluates
# `net.loss(X, y)` on those same arrays every time, and minnet's RNN starts every
# forward from h_0 = 0 and keeps no state between calls. And before it compares
# anything, it evaluates J twice at the same θ and refuses to go on if the two differ.
# `gradient_check_n`, minnet's check of any forward(params) -> cost, shows it on the
# stateful loss:

# %%
carried["h0"] = zeros
try:
    gradient_check_n(stateful_loss, net.params, right_grads, sample=20)
    refused = None
except NondeterministicForwardError as err:
    refused = err
    print("NondeterministicForwardError:", err)
fixed_start = gradient_check_n(h0_losses["h0 = 0 every time"], net.params, right_grads,
                               sample=20)
print(fixed_start)
assert refused is not None and fixed_start.passed

# %% [markdown]
# ## Training
# `minnet.fit` takes sequence data as it is: X of shape (N, T, D) and y of shape
# (N, T). The accuracy it records is per character: the fraction of all N * T
# next-character guesses that are right.

# %%
history = minnet.fit(net, X, Y, minnet.Adam(0.01), epochs=15 if FAST else 60,
                     batch_size=32, verbose=False)
end_loss = net.loss(X, Y)
print(f"loss: {start_loss:.2f} at the start, {end_loss:.2f} after {history.steps} steps")
print(f"per-character accuracy on the training text: {history.train_acc[-1]:.3f} "
      f"(guessing the most common character: {np.bincount(codes).max() / len(codes):.3f})")
assert end_loss < 0.5 * start_loss
assert history.train_acc[-1] > np.bincount(codes).max() / len(codes)

fig = minnet.plot.training_curves(
    history, accuracy_label="per-character accuracy",
    title="with backpropagation through time the RNN learns the text: the loss keeps falling")
minnet.plot.save(fig, "11_rnn_loss.png")

# %% [markdown]
# The figure `figures/11_rnn_loss.png` shows the loss of every minibatch falling
# (left) and the per-character accuracy on the training text after every epoch
# (right).
#
# ## Letting it write
# To generate, start from a few characters, run the net over the last T of them
# (the length it was trained on, always starting from h_0 = 0) and read the scores
# at the last step. Greedy decoding takes the most likely next character every time;
# sampling draws it from the softmax, here with a seeded Generator so the output is
# the same on every run.


# %%
def next_scores(context):
    """Scores for the character after `context` (a string), from its last T characters."""
    x = np.eye(V)[[index_of[c] for c in context[-T:]]][None]    # (1, t, V)
    return net.forward(x)[0, -1]                                 # (V,)


def generate(prime, length, rng=None):
    """Extend `prime` by `length` characters: greedy if rng is None, else sampled."""
    text = prime
    for _ in range(length):
        scores = next_scores(text)
        if rng is None:
            k = int(np.argmax(scores))
        else:
            p = np.exp(scores - scores.max())
            k = int(rng.choice(V, p=p / p.sum()))
        text += chars[k]
    return text


net.eval()
greedy = generate("the net ", 120)
sampled = generate("the net ", 120, rng=np.random.default_rng(0))
print("greedy: ", repr(greedy))
print("sampled:", repr(sampled))
assert set(greedy) <= set(chars) and len(greedy) == len("the net ") + 120

# %% [markdown]
# With only a few hundred characters to learn from, the net mostly recites pieces of
# its text, and sampling lets it wander between them. A bigger text, a bigger hidden
# state and longer training make the same code write more freely.
#
# ## What to remember
# - An RNN is a deep net unrolled over time with shared weights; backward runs from
#   the last step to the first, and the gradient of h_t is dout_t plus what comes
#   back from h_{t+1}.
# - The gradients of shared weights are sums over the steps.
# - Each step back multiplies dh_t by Wh · diag(1 - h_t²), whose largest singular value
#   s_t bounds the step's gain. s_t < 1 at every step forces the gradient to vanish
#   (Wh x 0.4: 6.1e-7 after 15 steps); s_t > 1 only allows growth, and the gain along
#   dh decides: s_t ≈ 2 with gains 0.75 to 0.96 here (a slow fade), gains above 1 with
#   Wh x 2 (40 times larger after 15 steps). tanh' ≤ 1 alone decides neither.
# - A gradient check needs no special treatment for time: the numerical derivative of
#   the whole loss includes every road, so a missing road (no BPTT) shows up at once,
#   in exactly the tensors of the recurrent layer, provided the sequences are long
#   enough: with T = 1 a forgotten BPTT passes, and here Wh1 is only caught from T = 3.
# - Every evaluation of the check must see the same batch and the same h_0: a carried
#   or fresh h_0 turns the numerical gradient into noise. `check_net` keeps both fixed,
#   and refuses a forward that gives two values at the same θ.
