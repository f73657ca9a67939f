"""Assignment: write the backward pass of every layer and loss.

Each class below already has its forward pass. Your job is each `backward`,
where it says `raise NotImplementedError`: replace that line with your code.

The contract (minnet.layers.Layer states it in full):
- forward(x) -> out, and it saves in `self` what backward will need;
- backward(dout) -> dx, where dout = dL/dout has the shape of out and dx = dL/dx
  has the shape of x. A layer with parameters also stores their gradients in
  self.grads, a dict with the keys of self.params ("W" -> dW, "b" -> db).
- a loss has forward(scores, y) -> a number (the mean over the batch) and
  backward() -> dscores = dL/dscores, shaped like scores.

Work with whole arrays (no loops over single numbers). Check yourself as you go:

    minnet grade tutorials/assignments/layers_assignment.py

prints one row per class: PASS, or FAIL with the tensor that is wrong and how.
Grade only what you have done so far with --classes, e.g. --classes Affine,ReLU.
"""
import numpy as np

from minnet.layers import Layer
from minnet.losses import Loss


class Affine(Layer):
    """out = x @ W + b.   x: (N, D) (or (N, d1, ..., dk), flattened to (N, D)),
    W: (D, M), b: (M,), out: (N, M)."""

    weights = ("W",)

    def __init__(self, in_features, out_features, *, rng=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        rng = np.random.default_rng(rng)
        self.params = {"W": np.sqrt(2 / in_features) * rng.standard_normal((in_features,
                                                                            out_features)),
                       "b": np.zeros(out_features)}

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        """dout: (N, M). Store self.grads = {"W": dW, "b": db} with dW: (D, M), db: (M,),
        and return dx with the shape x had when it came into forward (self.x_shape).

        Hint: write out[n, m] = sum_d x[n, d] W[d, m] + b[m] and ask which terms
        each W[d, m] and b[m] touch. Every sample in the batch uses the same b.
        """
        raise NotImplementedError("Affine.backward: write dW, db and dx")


class ReLU(Layer):
    """out = max(0, x), elementwise.   x, out: any shape (N, ...)."""

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        """dout: shaped like x. Return dx, shaped like x.

        Hint: where x > 0 the layer passes its input straight through; elsewhere its
        output is constantly 0. (At exactly 0 there is no derivative: use 0.)
        """
        raise NotImplementedError("ReLU.backward: write dx")

    def kink_state(self):
        return self.mask  # tells the gradient checker which side of 0 each x was on


class Sigmoid(Layer):
    """out = s(x) = 1 / (1 + exp(-x)), elementwise.   x, out: any shape (N, ...)."""

    def forward(self, x):
        e = np.exp(-np.abs(x))  # never overflows, for any x
        self.out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, dout):
        """dout: shaped like x. Return dx, shaped like x.

        Hint: differentiate 1 / (1 + exp(-x)) and write the result with s(x) alone,
        which forward saved as self.out.
        """
        raise NotImplementedError("Sigmoid.backward: write dx")


class Tanh(Layer):
    """out = tanh(x), elementwise.   x, out: any shape (N, ...)."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        """dout: shaped like x. Return dx, shaped like x.

        Hint: the derivative of tanh can be written with tanh(x) itself (self.out).
        """
        raise NotImplementedError("Tanh.backward: write dx")


class Dropout(Layer):
    """Inverted dropout: keep each unit with probability keep_prob and divide the kept
    units by keep_prob; the identity when self.training is False.
    x, out: any shape (N, ...). With a seed, every forward uses the same mask."""

    def __init__(self, keep_prob=0.5, seed=None):
        super().__init__()
        self.keep_prob, self.seed = keep_prob, seed
        self.rng = np.random.default_rng()

    def forward(self, x):
        if not self.training:
            self.mask = np.ones(x.shape)
            return x
        rng = self.rng if self.seed is None else np.random.default_rng(self.seed)
        self.mask = (rng.random(x.shape) < self.keep_prob) / self.keep_prob
        return x * self.mask

    def backward(self, dout):
        """dout: shaped like x. Return dx, shaped like x.

        Hint: forward multiplied x by self.mask (already divided by keep_prob).
        Use that same mask: a fresh one would describe a different function.
        """
        raise NotImplementedError("Dropout.backward: write dx")


class SoftmaxLoss(Loss):
    """L = mean over the batch of -log softmax(scores[n])[y[n]].
    scores: (N, C) logits; y: (N,) integer labels in 0..C-1."""

    def forward(self, scores, y):
        shifted = scores - scores.max(axis=1, keepdims=True)  # no overflow in exp
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probs, self.y = np.exp(log_probs), y
        return -log_probs[np.arange(len(y)), y].mean()

    def backward(self):
        """Return dscores: (N, C).

        Hint: for one sample, d(-log softmax(s)[y]) / ds is softmax(s) minus the
        one-hot vector of y. Then remember that L is a mean over N samples.
        """
        raise NotImplementedError("SoftmaxLoss.backward: write dscores")

    def predict(self, scores):
        return scores.argmax(axis=1)


class SigmoidCrossEntropy(Loss):
    """L = -mean( y log a + (1 - y) log(1 - a) ) with a = sigmoid(z).
    z: (N,) or (N, 1) logits; y: N labels, 0 or 1."""

    def forward(self, z, y):
        self.z, self.y = z, np.reshape(y, z.shape)
        softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + e^z), stably
        return (softplus - self.y * z).mean()

    def backward(self):
        """Return dz, shaped like z.

        Hint: the cost of one sample is log(1 + e^z) - y z. Its derivative is
        short and familiar. Then remember the mean over N samples.
        """
        raise NotImplementedError("SigmoidCrossEntropy.backward: write dz")

    def predict(self, z):
        return (z > 0).astype(int).reshape(len(z))


class MSELoss(Loss):
    """L = mean( (scores - y)**2 ) over every element.   scores, y: (N, K)."""

    def forward(self, scores, y):
        self.diff = scores - np.reshape(y, scores.shape)
        return (self.diff**2).mean()

    def backward(self):
        """Return dscores, shaped like scores.

        Hint: how many numbers does the mean divide by? (Not just N.)
        """
        raise NotImplementedError("MSELoss.backward: write dscores")

    def predict(self, scores):
        return scores
