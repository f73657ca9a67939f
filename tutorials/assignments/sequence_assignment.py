"""Assignment: the backward passes of an LSTM language model (LSTM, Embedding).

Each class below already has its forward pass. Your job is each `backward`, where it
says `raise NotImplementedError`: replace that line with your code. Read
layers_assignment.py first if you have not: the contract is the same.

- backward(dout) -> dx, where dout = dL/dout has the shape of out and dx = dL/dx has
  the shape of x; a layer with parameters also stores their gradients in self.grads,
  a dict with the keys of self.params.
- A batch of sequences has shape (N, T, D): N sequences of T steps, D features each.
  Embedding turns integer token ids, (N, T), into such vectors.

The grader also places your classes in a small language model, minnet's own
TimeAffine and TemporalSoftmaxLoss on top: Embedding -> LSTM -> TimeAffine -> loss.
Check yourself as you go:

    minnet grade tutorials/assignments/sequence_assignment.py --assignment sequence
    minnet grade my_lstm.py --classes Embedding       # one class at a time

prints one row per class: PASS, or FAIL with the tensor that is wrong and how.
"""
import numpy as np

from minnet.layers import Layer


def sigmoid(a):
    """1 / (1 + e^-a), without overflow for any a: log(1 + e^-a) = logaddexp(0, -a)."""
    return np.exp(-np.logaddexp(0, -a))


class LSTM(Layer):
    """A long short-term memory layer, with h_0 = c_0 = 0.

    x: (N, T, D) -> out: (N, T, H), the hidden state of every step
    Wx: (D, 4H), Wh: (H, 4H), b: (4H,); their four blocks of H columns belong to the
    input gate i, the forget gate f, the output gate o and the candidate g, in order:

        a = x_t @ Wx + h_{t-1} @ Wh + b,  split into a_i, a_f, a_o, a_g
        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
    """

    weights = ("Wx", "Wh")

    def __init__(self, in_features, hidden, *, rng=None):
        super().__init__()
        self.hidden = hidden
        rng = np.random.default_rng(rng)
        self.params = {"Wx": rng.standard_normal((in_features, 4 * hidden))
                       * np.sqrt(2 / (in_features + hidden)),
                       "Wh": rng.standard_normal((hidden, 4 * hidden)) * np.sqrt(1 / hidden),
                       "b": np.zeros(4 * hidden)}

    def forward(self, x):
        N, T, _ = x.shape
        H = self.hidden
        Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
        h, c = np.zeros((N, H)), np.zeros((N, H))
        out = np.zeros((N, T, H))
        self.steps = []  # what backward needs of every step
        for t in range(T):
            a = x[:, t] @ Wx + h @ Wh + b
            i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
            g = np.tanh(a[:, 3 * H:])
            h_prev, c_prev = h, c
            c = f * c_prev + i * g
            h = o * np.tanh(c)
            self.steps.append({"x": x[:, t], "h_prev": h_prev, "c_prev": c_prev,
                               "i": i, "f": f, "o": o, "g": g, "c": c})
            out[:, t] = h
        return out

    def backward(self, dout):
        """dout: (N, T, H). Store self.grads = {"Wx": dWx, "Wh": dWh, "b": db} (shaped
        like the params) and return dx: (N, T, D).

        Hint: go through the steps backwards, carrying two gradients from step t + 1:
        dh_next (reaching h_t through Wh) and dc_next (reaching c_t through
        c_{t+1} = f_{t+1} * c_t + ...). At step t, h_t gets dout[:, t] + dh_next, and
        c_t gets dc_next plus what comes through h_t = o * tanh(c_t). From dc and dh
        find da, the gradient of all four blocks of a, (N, 4H): sigmoid' = s (1 - s),
        tanh' = 1 - tanh^2. Then da gives dx_t, this step's share of dWx, dWh and db
        (the same weights serve every step: add the shares up), and the next dh_next
        and dc_next. Check the forget gate: it is the path through time of c.
        """
        raise NotImplementedError("LSTM.backward: write dWx, dWh, db and dx")


class Embedding(Layer):
    """A lookup table of vectors, one per token: out = W[x].

    x: integer token ids of shape (N, ...), each in 0..V-1 -> out: (N, ..., D)
    W: (V, D), row v is the vector of token v.
    """

    integer_input = True  # a Net hands it X's token ids as they are, not as floats

    def __init__(self, vocab_size, dim, *, rng=None):
        super().__init__()
        self.params = {"W": np.random.default_rng(rng).standard_normal((vocab_size, dim))}

    def forward(self, x):
        self.x = x
        return self.params["W"][x]

    def backward(self, dout):
        """dout: (N, ..., D). Store self.grads = {"W": dW}, dW: (V, D), and return None:
        token ids have no derivative.

        Hint: out[n, t] is row x[n, t] of W, so dout[n, t] belongs in row x[n, t] of
        dW. A token that appears k times in the batch collects k of them: dW[self.x] +=
        dout keeps only one per token (numpy's fancy-index assignment does not add up
        repeats); np.add.at does.
        """
        raise NotImplementedError("Embedding.backward: write dW")
