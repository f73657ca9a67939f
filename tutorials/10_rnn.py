# %% [markdown]
# # 10 · A recurrent net, and backpropagation through time
#
# A recurrent net reads a sequence one step at a time and carries a hidden state
# from step to step. This lesson builds a small character-level model, checks its
# gradients, breaks backpropagation through time on purpose to see what the checker
# says, trains it, and lets it write. Run it as `python tutorials/10_rnn.py`.
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
import os

import numpy as np

import minnet
import minnet.plot

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
# Before checking, a look at BPTT at work. Put a gradient on the last step's hidden
# state only (dout is zero at every other step) and run the RNN layer's backward. The
# norm of dx_t says how much the input at step t matters to that last hidden state.
# With the bug `rnn-no-bptt` injected, the gradient stops where it landed.

# %%
rnn = net.layers[0]
h = rnn.forward(X[:8])
dout = np.zeros_like(h)
dout[:, -1] = 1.0
reach = np.linalg.norm(rnn.backward(dout), axis=(0, 2))          # ||dx_t|| for every t
with minnet.bugs.inject(net, "rnn-no-bptt", layer=0) as broken:
    broken.forward(X[:8])
    reach_broken = np.linalg.norm(broken.backward(dout), axis=(0, 2))
print(" t   ||dx_t||, BPTT   ||dx_t||, no BPTT")
for t in range(T):
    print(f"{t:2d}   {reach[t]:12.2e}   {reach_broken[t]:12.2e}")
assert np.all(reach > 0) and reach[0] < reach[-1]
assert np.all(reach_broken[:-1] == 0) and reach_broken[-1] > 0

# %% [markdown]
# With BPTT the gradient reaches back to the first step, shrinking on the way (each
# step multiplies it by Wh.T and by tanh' <= 1: the vanishing-gradient problem of
# plain RNNs). Without it, only the last input gets any gradient.
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
minnet.plot.save(fig, "10_rnn_loss.png")

# %% [markdown]
# The figure `figures/10_rnn_loss.png` shows the loss of every minibatch falling
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
# ## What to take away
# - An RNN is a deep net unrolled over time with shared weights; backward runs from
#   the last step to the first, and the gradient of h_t is dout_t plus what comes
#   back from h_{t+1}.
# - The gradients of shared weights are sums over the steps.
# - A gradient check needs no special treatment for time: the numerical derivative of
#   the whole loss includes every road, so a missing road (no BPTT) shows up at once,
#   in exactly the tensors of the recurrent layer.
