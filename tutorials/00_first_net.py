# %% [markdown]
# # 00 · A first net, layer by layer
#
# This lesson builds a two-layer network by hand, runs one forward and one backward
# pass, and trains it on the classic spiral: three arms of points in the plane that no
# straight line can separate. Run it as `python tutorials/00_first_net.py`.
#
# The layer contract of minnet (see `minnet.layers.Layer`) is all you need:
# `forward(x) -> out` and `backward(dout) -> dx`, with parameter gradients left in
# `layer.grads`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minnet
import minnet.plot  # not imported by `import minnet`, which stays light
from minnet.datasets import make_spiral

FAST = os.environ.get("MINNET_FAST") == "1"  # the test suite runs every lesson quickly

# %% [markdown]
# ## The data
# 100 points per class, 3 classes. `X` has one sample per row: shape (300, 2).

# %%
X, y = make_spiral(n_per_class=100, n_classes=3, seed=0)
print("X:", X.shape, "y:", y.shape, "classes:", np.bincount(y))

# %% [markdown]
# ## One forward and one backward pass, by hand
# `Affine` computes `x @ W + b`; `ReLU` keeps the positive part. Chaining their
# backward passes in reverse order is backpropagation: each layer turns dL/dout into
# dL/dx, and on the way stores dL/dW and dL/db.

# %%
first, relu, second = minnet.Affine(2, 100, rng=0), minnet.ReLU(), minnet.Affine(100, 3, rng=1)
loss_fn = minnet.SoftmaxLoss()

hidden = relu.forward(first.forward(X))         # (300, 100)
scores = second.forward(hidden)                 # (300, 3)
loss = loss_fn.forward(scores, y)
print(f"loss before training: {loss:.4f} (log 3 = {np.log(3):.4f} for a net that guesses)")

dscores = loss_fn.backward()                    # (300, 3)
dhidden = second.backward(dscores)              # (300, 100)
dx = first.backward(relu.backward(dhidden))     # (300, 2)
print("gradient shapes:", {name: g.shape for name, g in first.grads.items()}, dx.shape)

# %% [markdown]
# ## The same thing as a Net, trained
# A `Net` runs exactly those calls for us, adds L2 regularization
# (0.5 * reg * sum(W**2)) and names the parameters W1, b1, W2, b2.

# %%
net = minnet.Net([first, relu, second], loss_fn, reg=1e-3)
print(list(net.params))
history = minnet.fit(net, X, y, minnet.Adam(0.01), epochs=100 if FAST else 1500,
                     batch_size=300, verbose=False)
print(f"training accuracy of the 2-layer ReLU net: {net.accuracy(X, y):.3f}")

# %% [markdown]
# A linear classifier (a single Affine layer) can only draw straight boundaries, so on
# the spiral it stays near chance for three classes plus whatever one line can cut off.

# %%
linear = minnet.Net([minnet.Affine(2, 3, rng=0)], minnet.SoftmaxLoss(), reg=1e-3)
minnet.fit(linear, X, y, minnet.Adam(0.01), epochs=100 if FAST else 1500, batch_size=300,
           verbose=False)
print(f"training accuracy of the linear classifier: {linear.accuracy(X, y):.3f}")

# %% [markdown]
# ## What each net learned
# `minnet.plot.decision_regions` colors the plane by the class the net predicts there.
# The ReLU net bends its boundaries around the arms; the linear one can only cut the
# plane into three wedges with straight lines.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 5.8))
minnet.plot.decision_regions(net, X, y, ax=axes[0], title="2-layer ReLU net")
minnet.plot.decision_regions(linear, X, y, ax=axes[1], title="linear classifier")
fig.suptitle("a hidden layer bends the boundaries around the spiral; straight lines cannot",
             fontsize="x-large")
print("saved", minnet.plot.save(fig, "00_spiral_regions.png"))
