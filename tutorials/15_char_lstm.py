# %% [markdown]
# # 15 · A character-level LSTM language model, checked before and during training
#
# Lesson 11 trained a plain RNN on one paragraph. This lesson builds the classic
# character-level language model: an Embedding for the characters, an LSTM, and an
# affine map to the scores of the next character at every step. It
# trains on a short text bundled with minnet, gradient-checks the whole model at
# initialization and again after training steps (`fit`'s `check_at`), draws the loss
# curve, and lets the model write. Every random choice has a fixed seed, so every run
# prints the same numbers.
#
# Run it as `python tutorials/15_char_lstm.py`.

# %%
import os
import re

import numpy as np

import minnet
import minnet.plot
from minnet.datasets import char_windows, load_text

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## The text
# `minnet.datasets.load_text()` returns a few thousand characters of plain English
# about neural networks and backpropagation, written for these lessons (see
# `datasets/README.md`). It repeats its words and phrases a lot, which is what a small
# model needs to learn something quickly.

# %%
text = load_text()
print(f"{len(text)} characters, {len(text.split())} words, {text.count(chr(10))} lines")
print(text[:240])

# %% [markdown]
# `char_windows(text, length, stride)` cuts the text into windows of T characters,
# starting every `stride` characters, and turns each character into its id, its
# position in the vocabulary `chars` (every character of the text once, sorted). The
# labels are the same windows shifted by one: at every step the model must predict
# the character that comes next.

# %%
T = 32
STRIDE = 8 if FAST else 4
X, Y, chars = char_windows(text, T, stride=STRIDE)
V = len(chars)
index = {c: k for k, c in enumerate(chars)}
print(f"vocabulary of {V}: {chars!r}")
print(f"X: {X.shape} {X.dtype}, Y: {Y.shape} {Y.dtype}")
print("first window:", repr("".join(chars[k] for k in X[0])))
print("its labels:  ", repr("".join(chars[k] for k in Y[0])))
assert np.array_equal(X[:, 1:], Y[:, :-1]) and X.dtype == np.int64

# %% [markdown]
# Two yardsticks for the loss per character. A model that knows nothing spreads its
# probability evenly, and pays log V per character. A model that ignores the context
# predicts the same probabilities at every step; the best it can do is to predict how
# often each character occurs among the labels Y, and it then pays the entropy of
# those frequencies per character. Only a model that reads the context can do better
# than that.

# %%
counts = np.bincount(Y.ravel(), minlength=V)
freq = counts[counts > 0] / counts.sum()
uniform = np.log(V)
unigram = -np.sum(freq * np.log(freq))
print(f"loss per character: uniform guess {uniform:.3f}, character frequencies {unigram:.3f}")

# %% [markdown]
# ## The model
# - `Embedding(V, D)`: a table of V vectors of D numbers; character k becomes row k.
#   Its input is integers (N, T), its output (N, T, D). Its backward adds each step's
#   gradient into the row of that step's character, so a character that appears ten
#   times in the batch collects ten gradients; it returns no dx, since ids have no
#   derivative. A Net passes the ids to it unchanged.
# - `LSTM(D, H)`: at every step t, from x_t and the previous h and c (0 at the start),
#
#       a = x_t Wx + h_{t-1} Wh + b,   split into four blocks of H
#       i, f, o = sigmoid of the first three (input, forget, output gates)
#       g = tanh of the fourth (the candidate)
#       c_t = f * c_{t-1} + i * g,     h_t = o * tanh(c_t)
#
#   Its output is every h_t, (N, T, H). Along the cell, the gradient going back one
#   step is multiplied by the forget gate f (plus what arrives through h); where f
#   stays near 1, it passes through many steps undiminished.
# - `TimeAffine(H, V)`: the same affine map at every step, scores (N, T, V).
# - `TemporalSoftmaxLoss()`: softmax cross-entropy at every step, summed over the T
#   steps and averaged over the N windows; divided by T it is the loss per character.

# %%
D, H = 16, (32 if FAST else 64)
init = np.random.default_rng(0)
net = minnet.Net([minnet.Embedding(V, D, rng=init), minnet.LSTM(D, H, rng=init),
                  minnet.TimeAffine(H, V, rng=init)], minnet.TemporalSoftmaxLoss())
print(net)
print({name: value.shape for name, value in net.params.items()},
      f"{sum(value.size for value in net.params.values())} parameters")
start = net.loss(X, Y) / T
print(f"loss per character at initialization: {start:.3f} (log V = {uniform:.3f})")
assert abs(start - uniform) < 0.1 * uniform


def gates_and_scores(net, ids):
    """(share of the LSTM's i, f, o gate values below 0.1 or above 0.9, largest |score|)."""
    embedded = net.layers[0].forward(ids)
    h = net.layers[1].forward(embedded)
    h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)   # h_0 = 0
    lstm = net.layers[1].params
    a = embedded @ lstm["Wx"] + h_prev @ lstm["Wh"] + lstm["b"]
    gates = minnet.layers.sigmoid(a[..., :3 * H])                            # i, f, o
    scores = net.layers[2].forward(h)
    return np.mean((gates < 0.1) | (gates > 0.9)), np.abs(scores).max()


saturated_before, largest_before = gates_and_scores(net, X[:64])
print(f"largest |score|: {largest_before:.2f}; gate values below 0.1 or above 0.9: "
      f"{saturated_before:.1%}")

# %% [markdown]
# At initialization the scores are small (the largest is printed above), so the model
# guesses nearly uniformly and pays nearly log V per character.
#
# ## A check before training, coordinate by coordinate
# `check_net` on four windows. The model has thousands of parameters, so
# `sample=SAMPLE` checks that many coordinates of each tensor, chosen with the seed:
# the same four windows and the same coordinates on every run.

# %%
SAMPLE = 8 if FAST else 40
before = minnet.check_net(net, X[:4], Y[:4], sample=SAMPLE, seed=0)
print(before)
assert before.passed
_, grads = net.loss_and_grads(X[:4], Y[:4])
used = np.unique(X[:4])
zero_rows = np.flatnonzero(~grads["W1"].any(axis=1))
print(f"the four windows use {len(used)} of the {V} characters; the rows of dW1 that are "
      f"exactly 0: {len(zero_rows)}, the rows of the other {V - len(used)} characters")
assert np.array_equal(np.setdiff1d(np.arange(V), used), zero_rows)

# %% [markdown]
# W1 is the Embedding's table. Only the rows of characters that occur in the checked
# windows get a gradient; the others are exactly 0, and their perturbations do not
# change the loss at all.
#
# ## Training, checked along the way
# `fit` trains with Adam on minibatches of 32 windows and, at every step listed in
# `check_at`, runs a fast gradient check first (a few random directions through every
# tensor, lesson 08) on the first 16 windows of the minibatch it is about to use. The
# reports land in `history.checks`. A check changes nothing in the net: training goes
# exactly as it would without it.

# %%
EPOCHS = 3 if FAST else 20
steps_per_epoch = int(np.ceil(len(X) / 32))
CHECK_AT = [0, 40] if FAST else [0, 200, 800]
history = minnet.fit(net, X, Y, minnet.Adam(0.01), epochs=EPOCHS, batch_size=32, seed=0,
                     check_at=CHECK_AT, verbose=True)
for step, report in history.checks:
    print(f"check at step {step}: {'passed' if report.passed else report.failed}, largest "
          f"relative error {max(row.max_rel_error for row in report.rows):.1e}")
end = net.loss(X, Y) / T
print(f"{history.steps} steps ({steps_per_epoch} per epoch) in {sum(history.seconds):.1f} s, "
      f"of which {sum(history.check_seconds):.2f} s checking")
print(f"loss per character: {start:.3f} at the start, {end:.3f} at the end "
      f"(uniform {uniform:.3f}, character frequencies {unigram:.3f})")
print(f"next-character accuracy on the training windows: {history.train_acc[-1]:.3f}")
assert [step for step, _ in history.checks] == CHECK_AT
assert all(report.passed for _, report in history.checks)
assert end < unigram

fig = minnet.plot.training_curves(
    history, loss_label=f"loss (sum over T = {T} steps)", accuracy_label="next-character accuracy",
    title="the LSTM learns from the context: its loss falls below the character-frequency "
          "yardstick")
minnet.plot.save(fig, "15_char_lstm_loss.png")

# %% [markdown]
# The loss per character, over all the training windows, ends below the
# character-frequency yardstick printed above: the model uses the context. `figures/15_char_lstm_loss.png` shows the loss of every
# step (summed over the 32 steps of a window) and the accuracy after every epoch.
#
# A trained model is a different point to check at than a new one. On the same 64
# windows as before training:

# %%
saturated_after, largest_after = gates_and_scores(net, X[:64])
print(f"largest |score|: {largest_before:.2f} before training, {largest_after:.2f} after")
print(f"gate values below 0.1 or above 0.9: {saturated_before:.1%} before, "
      f"{saturated_after:.1%} after")
assert largest_after > 2 * largest_before and saturated_after > saturated_before

# %% [markdown]
# The scores have grown, and more of the gates sit near 0 or 1, where the sigmoid is
# flat and its derivative small. A check here tests the backward pass at a point
# unlike the first one, which is what lesson 08 asks for. The same coordinate check
# as before training, on the same four windows:

# %%
after = minnet.check_net(net, X[:4], Y[:4], sample=SAMPLE, seed=0)
print(after)
assert after.passed

# %% [markdown]
# ## Letting it write
# To generate, give the model a few characters, read the scores of the next character
# at the last step, pick one, append it, and repeat. The model was trained on windows
# of T characters that start from a zero state, so it reads the last T characters each
# time. Greedy decoding picks the most likely character; sampling draws it from the
# softmax with a seeded Generator, so the sample is the same on every run.


# %%
def generate(prime, length, rng=None):
    """Extend `prime` by `length` characters: greedy if rng is None, else sampled."""
    out = prime
    for _ in range(length):
        ids = np.array([[index[c] for c in out[-T:]]])
        scores = net.forward(ids)[0, -1]
        if rng is None:
            k = int(np.argmax(scores))
        else:
            p = np.exp(scores - scores.max())
            k = int(rng.choice(V, p=p / p.sum()))
        out += chars[k]
    return out


net.eval()
LENGTH = 120 if FAST else 300
greedy = generate("The gradient ", LENGTH)
sampled = generate("The gradient ", LENGTH, rng=np.random.default_rng(0))
print("greedy: ", repr(greedy))
print("sampled:", repr(sampled))

# %% [markdown]
# How much of that is English? Count the words of each sample (runs of letters) that
# occur somewhere in the text it learned from:

# %%
known = set(re.findall(r"[A-Za-z]+", text))
for name, sample in (("greedy", greedy), ("sampled", sampled)):
    words = re.findall(r"[A-Za-z]+", sample)
    share = sum(word in known for word in words) / len(words)
    print(f"{name}: {len(words)} words, {share:.0%} of them words of the text")
assert set(sampled) <= set(chars)

# %% [markdown]
# Greedy decoding is deterministic, and the model reads only the last T characters:
# so once the greedy text contains the same T characters twice, everything after
# them repeats, forever. Whether and where that happened here:

# %%
seen, loop = {}, None
for i in range(len(greedy) - T + 1):
    window = greedy[i:i + T]
    if window in seen:
        loop = (seen[window], i)
        break
    seen[window] = i
if loop is None:
    print(f"no {T} characters occur twice in the {len(greedy)} greedy characters")
else:
    first, again = loop
    print(f"the {T} characters at position {first} come back at position {again}: from "
          f"there on the greedy text repeats with a period of {again - first} characters, "
          f"{greedy[first:again]!r}")

# %% [markdown]
# Sampling does not get stuck that way: it draws every character anew, and where the
# model is unsure it may draw a character that leads to a non-word. The printed
# numbers depend on how long the model trained: the full run of this lesson (without
# MINNET_FAST) trains a larger model for longer.
#
# ## What to take away
# - An Embedding turns character ids into vectors; its gradient lands in the rows of
#   the characters that occur, the others are exactly 0.
# - The LSTM's gates and cell make a longer memory than a plain RNN; a gradient check
#   needs nothing special for it, since the numerical derivative of the whole loss
#   includes every road through time.
# - Check at initialization and again after training steps (`check_at`): a trained
#   model is a different point, with more saturated gates and larger scores.
