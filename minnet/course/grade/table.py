"""What the grader knows about each contract class, and the assignments that group them.

An entry names minnet's reference class, how to draw the constructor arguments and
inputs of its test cases from the grading seed, and how to place it inside a small
Net. Grading a new layer means adding an entry here, not code in the grader: what
the grader needs to know besides (whether its input holds integer token ids, where
its kinks are, which attributes are buffers) it reads from the reference class's
capabilities (minnet.contract.Layer).

Every test case draws its own values (parameters, x, dout, labels) from the seed, so
an instructor's secret `--seed` gives secret shapes and numbers; the cases listed
first in each entry (N = 1, a single output, a 3-D input, ties, ...) are always there.

An assignment (ASSIGNMENTS, at the end) is the set of classes a skeleton in
tutorials/assignments asks for; `minnet grade --assignment NAME` grades it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ... import layers, losses


@dataclass(frozen=True)
class LayerCase:
    """One test of a layer: the constructor's arguments and the shape of x.
    training: the layer's mode during the test; inputs: draws x for this case instead
    of the entry's inputs (exact ties, one repeated token); note: what is special
    about it, shown in the test's name."""
    args: tuple
    x_shape: tuple
    kwargs: dict = field(default_factory=dict)
    training: bool = True
    inputs: Callable | None = None
    note: str = ""


@dataclass(frozen=True)
class LossCase:
    """One test of a loss: the shape of the scores it gets, and the constructor's
    arguments (SVMLoss's delta)."""
    scores_shape: tuple
    args: tuple = ()


@dataclass(frozen=True)
class NetCase:
    """The class inside a small Net of minnet's classes, checked with check_net.

    layers: (class name, args, kwargs) in order; loss: the loss's class name; the
    graded class is built from the submission, every other class is minnet's.
    X_shape: the batch; labels: what y holds ("classes", "binary", "values", "steps"),
    shaped like the net's scores but for their last axis; vocab: when > 0, X holds
    token ids in 0..vocab-1 (the net starts with an Embedding), else normal values.
    """
    layers: tuple
    loss: str
    X_shape: tuple
    classes: int
    labels: str = "classes"
    vocab: int = 0


@dataclass(frozen=True)
class Entry:
    """What the grader knows about one contract class.

    name: the contract name a submission defines; reference: minnet's class;
    loss: whether it is a loss (forward(scores, y), backward()) or a layer;
    cases(rng): its LayerCase or LossCase tests, drawn from the grading seed;
    nets: NetCase tests; inputs(rng, shape, args): the x (or scores) of a case, args
        the constructor's (Embedding's vocabulary size bounds its token ids);
    targets(rng, shape): the labels for scores of that shape (losses only);
    buffers(rng, reference): the values a test gives the class's buffers (named by
        reference.buffers: BatchNorm's running statistics), set on the submission's
        object and on minnet's before the test;
    attributes: the student object's attributes the checker reads and sets, besides
        training and needs_dx (Dropout's seed and keep_prob);
    forward: "reference" when forward must match minnet's on the same input; for a
        random forward, a function (case, x, out) -> None when right, else what is
        wrong (Dropout's: every output is 0 or x / keep_prob);
    properties: extra tests, functions (make, rng) -> None when the property holds,
        else what is wrong in words; make(*args, **kwargs) builds the submission's
        object (see the Dropout tests below);
    samplewise: whether the checker may run the submission's class on many stacked
        copies of a batch at once. By default it follows the reference class: a
        class that mixes the samples of a batch (BatchNorm) is run copy by copy, and
        so is a random one (Dropout: the stacked check reuses a layer's own mask,
        which a proxy for a student's object does not hold).
    """
    name: str
    reference: type
    cases: Callable
    nets: tuple = ()
    loss: bool = False
    inputs: Callable | None = None
    targets: Callable | None = None
    attributes: tuple = ()
    forward: str | Callable = "reference"
    properties: tuple = ()
    samplewise: bool | None = None
    buffers: Callable | None = None

    def __post_init__(self):
        if self.samplewise is None:
            # `is True`: BatchNorm's samplewise is a property of the mode, not True
            stackable = getattr(self.reference, "samplewise", False) is True and \
                not getattr(self.reference, "random", False)
            object.__setattr__(self, "samplewise", stackable)


# -- inputs ------------------------------------------------------------------------------

def normal(rng, shape, args=()):
    return rng.standard_normal(shape)


def away_from_zero(rng, shape, args=()):
    """Normal values kept at least 0.1 from ReLU's kink at 0, where no derivative exists."""
    x = rng.standard_normal(shape)
    return np.sign(x) * (0.1 + np.abs(x))


def ties(rng, shape, args=()):
    """Values from -1, -0.5, 0, 0.5, 1 only: most pooling windows hold a tied maximum.
    At a tie the gradient goes to the first maximum in row-major window order."""
    return 0.5 * rng.integers(-2, 3, shape).astype(np.float64)


def token_ids(rng, shape, args):
    """Token ids for Embedding(vocab_size, dim): integers in 0..vocab_size-1, int64
    (what the grader's channel carries)."""
    return rng.integers(0, args[0], shape, dtype=np.int64)


def one_token(rng, shape, args):
    """Every entry the same token id: a gradient that keeps one of the repeated rows
    (dW[x] += dout) instead of adding them all (np.add.at) gets 1 of x.size."""
    return np.full(shape, rng.integers(0, args[0]), dtype=np.int64)


def running_statistics(rng, reference):
    """BatchNorm's running statistics for a test: a mean around 0 and a variance in
    [0.5, 2], so that eval mode does not look like a plain normalization."""
    return _statistics(rng, reference.features)


def _statistics(rng, D):
    return {"running_mean": rng.standard_normal(D), "running_var": rng.uniform(0.5, 2.0, D)}


def class_labels(rng, shape):
    """Labels for scores of shape (N, C) or (N, T, C): integers in 0..C-1."""
    return rng.integers(0, shape[-1], shape[:-1])


def binary_labels(rng, shape):
    return rng.integers(0, 2, shape[0]).astype(np.float64)


def regression_targets(rng, shape):
    return rng.standard_normal(shape)


def labels_for(kind, rng, shape):
    return {"classes": class_labels, "binary": binary_labels, "values": regression_targets,
            "steps": class_labels}[kind](rng, shape)


# -- cases, drawn from the grading seed ------------------------------------------------------

def _sizes(rng, count, low=2, high=7):
    return [int(n) for n in rng.integers(low, high, size=count)]


def affine_cases(rng):
    N, D, M = _sizes(rng, 3)
    N2, D2, M2 = _sizes(rng, 3)
    return [LayerCase((3, 4), (1, 3)),            # N = 1: a squeeze would drop the batch axis
            LayerCase((5, 1), (4, 5)),            # M = 1: Affine(D, 1)
            LayerCase((6, 3), (2, 2, 3)),         # x of shape (N, d1, d2), flattened per sample
            LayerCase((4, 4), (3, 4)),            # a square W: transposes fit, and must not
            LayerCase((D, M), (N, D)),
            LayerCase((D2 * 2, M2), (N2, D2, 2))]


def elementwise_cases(rng):
    N, D = _sizes(rng, 2)
    return [LayerCase((), (1, 4)), LayerCase((), (3, 1)), LayerCase((), (2, 3, 4)),
            LayerCase((), (N, D))]


def dropout_cases(rng):
    N, D = _sizes(rng, 2)
    seed = int(rng.integers(1000))
    return [LayerCase((0.7,), (3, 4), {"seed": seed}),
            LayerCase((0.5,), (1, 6), {"seed": seed + 1}),
            LayerCase((0.8,), (2, 3, 4), {"seed": seed + 2}),
            LayerCase((0.6,), (N, D), {"seed": seed + 3})]


def recurrent_cases(rng):
    N, T, D, H = _sizes(rng, 4)
    return [LayerCase((2, 4), (1, 1, 2)), LayerCase((3, 5), (2, 3, 3)),
            LayerCase((4, 1), (3, 2, 4)), LayerCase((D, H), (N, T, D))]


def softmax_cases(rng):
    N, C = _sizes(rng, 2)
    return [LossCase((1, 4)), LossCase((5, 2)), LossCase((4, 3)), LossCase((N, C))]


def sigmoid_cases(rng):
    N = _sizes(rng, 1)[0]
    return [LossCase((1,)), LossCase((5,)), LossCase((4, 1)), LossCase((N,))]


def mse_cases(rng):
    N, K = _sizes(rng, 2)
    return [LossCase((1, 3)), LossCase((5, 1)), LossCase((4, 2)), LossCase((N, K))]


def temporal_cases(rng):
    N, T, C = _sizes(rng, 3)
    return [LossCase((1, 1, 3)), LossCase((2, 4, 2)), LossCase((3, 2, 5)), LossCase((N, T, C))]


def _around(name, args=()):
    """Affine, the class, Affine: a net in which a layer class sits between two Affines."""
    return NetCase(layers=(("Affine", (4, 6), {}), (name, args, {}), ("Affine", (6, 3), {})),
                   loss="SoftmaxLoss", X_shape=(5, 4), classes=3)


def _under(loss, classes, labels):
    """A net that ends in the graded loss."""
    return NetCase(layers=(("Affine", (4, 6), {}), ("Tanh", (), {}), ("Affine", (6, classes), {})),
                   loss=loss, X_shape=(5, 4), classes=classes, labels=labels)


def svm_cases(rng):
    N, C = _sizes(rng, 2)
    delta = round(float(rng.uniform(0.5, 2.0)), 2)
    return [LossCase((1, 4)), LossCase((5, 2)), LossCase((4, 3), (0.5,)),  # delta is used
            LossCase((N, C), (delta,))]


def conv_cases(rng):
    N, C, F = _sizes(rng, 3, 1, 4)
    k, stride, pad = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    H, W = _sizes(rng, 2, 3, 7)
    return [LayerCase((1, 2, 3), (1, 1, 4, 4)),                       # N = 1, one channel
            LayerCase((2, 3, 3), (2, 2, 5, 5), {"stride": 2, "pad": 1}),  # stride > 1, padding
            LayerCase((2, 2, (2, 3)), (2, 2, 4, 5), {"pad": 1}),      # a rectangular kernel
            # one filter, and a stride that leaves the last row and column out
            LayerCase((1, 1, 2), (3, 1, 5, 5), {"stride": 2}),
            LayerCase((C, F, k), (N, C, H, W), {"stride": stride, "pad": pad})]


def pool_cases(rng):
    N, C = _sizes(rng, 2, 1, 4)
    size = int(rng.integers(2, 4))
    stride = int(rng.integers(1, size + 1))
    H, W = _sizes(rng, 2, size, 7)
    return [LayerCase((2,), (1, 1, 4, 4)),                            # N = 1
            LayerCase((3,), (2, 2, 5, 5), {"stride": 2}),             # overlapping windows
            LayerCase((2,), (2, 3, 4, 4), inputs=ties, note="with exact ties"),
            LayerCase((2,), (2, 2, 5, 5), {"stride": 1}, inputs=ties,
                      note="overlapping windows, with exact ties"),
            LayerCase((2,), (2, 2, 5, 6)),                # odd sizes: a row in no window
            LayerCase((size,), (N, C, H, W), {"stride": stride})]


def batchnorm_cases(rng):
    N, D = _sizes(rng, 2)
    C, H, W = _sizes(rng, 3, 1, 4)
    return [LayerCase((4,), (1, 4), training=False),  # N = 1 in eval mode: running statistics
            LayerCase((3,), (5, 3)),                  # training: the batch's statistics
            LayerCase((2,), (1, 2, 3, 3)),            # images: statistics over N, H and W
            LayerCase((3,), (2, 3, 2, 2), training=False),
            LayerCase((D,), (N, D)),
            LayerCase((C,), (N, C, H + 1, W + 1))]


def layernorm_cases(rng):
    N, T, D = _sizes(rng, 3)
    return [LayerCase((4,), (1, 4)), LayerCase((3,), (5, 3)), LayerCase((4,), (2, 3, 4)),
            LayerCase((D,), (N, D)), LayerCase((D,), (N, T, D))]


def embedding_cases(rng):
    V, D, N, T = _sizes(rng, 4)
    return [LayerCase((5, 3), (1, 4)),                # N = 1
            LayerCase((3, 2), (4, 5)),                # 20 tokens of 3 ids: ids repeat
            LayerCase((4, 3), (6,)),                  # x of shape (N,): one token per sample
            LayerCase((5, 2), (3, 3), inputs=one_token, note="every token the same id"),
            LayerCase((V, D), (N, T))]


RECURRENT_NET = NetCase(layers=(("RNN", (3, 5), {}), ("TimeAffine", (5, 4), {})),
                        loss="TemporalSoftmaxLoss", X_shape=(3, 4, 3), classes=4, labels="steps")

# A small CNN. BatchNorm comes after the ReLU: right after the Conv2D it would remove
# the conv's bias, whose gradient would then be 0 and say nothing about a backward.
CNN_NET = NetCase(layers=(("Conv2D", (2, 3, 3), {"pad": 1}), ("ReLU", (), {}),
                          ("BatchNorm", (3,), {}), ("MaxPool2D", (2,), {}),
                          ("Affine", (12, 3), {})),
                  loss="SoftmaxLoss", X_shape=(4, 2, 4, 4), classes=3)

# A language model: token ids -> vectors -> LSTM -> scores for the next token.
SEQUENCE_NET = NetCase(layers=(("Embedding", (6, 4), {}), ("LSTM", (4, 5), {}),
                               ("TimeAffine", (5, 6), {})),
                       loss="TemporalSoftmaxLoss", X_shape=(3, 4), classes=6, labels="steps",
                       vocab=6)


# -- Dropout is random: its forward is judged by what defines it ------------------------------

def dropout_forward(case, x, out):
    """A Dropout case's forward: in training mode every output is 0 or x / keep_prob,
    in eval mode out is x itself. None when right, else what is wrong."""
    if not case.training:
        if not np.array_equal(out, x):
            return (f"Dropout in eval mode (training = False) must return x unchanged; it "
                    f"changed {int(np.sum(out != x))} of {x.size} values")
        return None
    keep_prob = case.args[0]
    ratio = out / x
    wrong = ~(np.isclose(ratio, 0, rtol=0, atol=1e-12) |
              np.isclose(ratio, 1 / keep_prob, rtol=1e-12))
    if np.any(wrong):
        i = tuple(int(k) for k in np.argwhere(wrong)[0])
        return (f"Dropout({keep_prob}).forward: out{list(i)} = {out[i]:.6g} for x = "
                f"{x[i]:.6g}; every output must be 0 (dropped) or x / keep_prob = "
                f"{x[i] / keep_prob:.6g} (kept and scaled)")
    return None


# Each property test gets make(*args, **kwargs), which builds the submission's Dropout,
# and the grading rng; it returns None when the property holds, else what is wrong.

def dropout_keeps_keep_prob(make, rng):
    """Dropout keeps each unit with probability keep_prob, scaled by 1 / keep_prob.

    Over 22,500 to 62,500 units (the shape comes from the grading seed) the fraction
    kept must be within 0.02 of keep_prob: over 6 standard deviations of a correct
    layer's fraction.
    """
    for keep_prob in (0.25, 0.7):
        x = away_from_zero(rng, tuple(int(n) for n in rng.integers(150, 250, size=2)))
        case = LayerCase((keep_prob,), x.shape)
        out = _forward(make(keep_prob, seed=int(rng.integers(1000))), x)
        if isinstance(out, str) or dropout_forward(case, x, out):
            return out if isinstance(out, str) else dropout_forward(case, x, out)
        kept = float(np.mean(out != 0))
        if abs(kept - keep_prob) > 0.02:
            return (f"Dropout({keep_prob}).forward kept {kept:.1%} of {x.size} units; keep_prob "
                    f"= {keep_prob} means each unit is kept with probability {keep_prob:.0%}")
    return None


def dropout_seed_fixes_the_mask(make, rng):
    """Dropout's seed fixes its mask, and eval mode is the identity.

    Two forwards with the same seed (the same object, or a new one) drop the same
    units, which gradient checks need; some units are dropped; then, with training
    = False, forward returns x and backward returns dout unchanged.
    """
    seed = int(rng.integers(1000))
    x = away_from_zero(rng, tuple(int(n) for n in rng.integers(15, 35, size=2)))
    first, second = make(0.5, seed=seed), make(0.5, seed=seed)
    outs = [_forward(first, x), _forward(first, x), _forward(second, x)]
    for out in outs:
        if isinstance(out, str):
            return out
    if np.all(outs[0] != 0):
        return f"Dropout(0.5).forward in training mode dropped none of {x.size} units"
    if not np.array_equal(outs[0], outs[1]):
        return (f"Dropout(0.5, seed={seed}): two forwards on the same x dropped different "
                "units; with a seed, every forward must draw the same mask (gradient checks "
                "need it): make a new generator from the seed in forward")
    if not np.array_equal(outs[0], outs[2]):
        return (f"two Dropout(0.5, seed={seed}) layers dropped different units: the same "
                "seed must give the same mask")
    first.training = False
    out = _forward(first, x)
    wrong = out if isinstance(out, str) else \
        dropout_forward(LayerCase((0.5,), x.shape, training=False), x, out)
    if wrong:
        return wrong
    dout = rng.standard_normal(x.shape)
    dx = first.backward(dout.copy())
    if not isinstance(dx, np.ndarray) or not np.array_equal(dx, dout):
        return "Dropout.backward in eval mode (training = False) must return dout unchanged"
    return None


# -- BatchNorm's running statistics -------------------------------------------------------

def batchnorm_running_statistics(make, rng):
    """BatchNorm's running statistics move by the momentum rule, and only in training.

    From running statistics the test sets, one training forward must leave
    running = momentum * running + (1 - momentum) * batch statistic, with the batch's
    biased variance (divided by the count, as forward normalizes with), for (N, D)
    rows and (N, C, H, W) images; a forward in eval mode must leave them alone.
    """
    N, D = _sizes(rng, 2, 3, 7)
    for shape, axes in (((N, D), (0,)), ((N - 1, D - 1, 3, 2), (0, 2, 3))):
        momentum = round(float(rng.uniform(0.5, 0.95)), 2)
        layer = make(shape[1], momentum=momentum)
        start = _statistics(rng, shape[1])
        for name, value in start.items():
            setattr(layer, name, value.copy())
        x = 1.5 + 2 * rng.standard_normal(shape)  # statistics far from the starting ones
        layer.forward(x.copy())
        expected = {"running_mean": momentum * start["running_mean"]
                    + (1 - momentum) * x.mean(axis=axes),
                    "running_var": momentum * start["running_var"]
                    + (1 - momentum) * x.var(axis=axes)}  # numpy's var: biased (ddof 0)
        what = f"BatchNorm({shape[1]}, momentum={momentum}) after a training forward on x of " \
               f"shape {shape}"
        for name, want in expected.items():
            wrong = _statistic_problem(what, name, getattr(layer, name, None), want, start[name],
                                       momentum, x, axes)
            if wrong:
                return wrong
        layer.training = False
        before = {name: np.array(getattr(layer, name)) for name in expected}
        layer.forward(x.copy() - 1)
        for name, value in before.items():
            if not np.array_equal(np.asarray(getattr(layer, name, None)), value):
                return (f"BatchNorm.forward in eval mode (training = False) changed {name}; "
                        "only a forward in training mode updates the running statistics")
    return None


def _statistic_problem(what, name, got, want, start, momentum, x, axes):
    """What is wrong with a running statistic after a training forward, or None."""
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        kind = f"shape {got.shape}" if isinstance(got, np.ndarray) else type(got).__name__
        return f"{what}: {name} is {kind}; it must be an array of shape {want.shape}"
    if np.allclose(got, want, rtol=1e-10, atol=1e-12):
        return None
    i = int(np.argmax(np.abs(got - want)))
    message = f"{what}: {name}[{i}] is {got[i]:.6g}, expected {want[i]:.6g}"
    m = np.prod([x.shape[a] for a in axes])
    unbiased = momentum * start + (1 - momentum) * x.var(axis=axes) * m / (m - 1)
    swapped = (1 - momentum) * start + momentum * (want - momentum * start) / (1 - momentum)
    if name == "running_var" and np.allclose(got, unbiased, rtol=1e-10):
        message += (f" (that is the unbiased variance, divided by {m - 1}; use the biased one, "
                    f"divided by the {m} values, as forward does)")
    elif np.allclose(got, swapped, rtol=1e-10):
        message += (" (momentum and 1 - momentum are swapped: momentum weighs the old "
                    "running value)")
    else:
        message += f" = {momentum} * running + {1 - momentum:.2g} * the batch's {name[8:]}"
    return message


def _forward(layer, x):
    """layer.forward on a copy of x: the output, or what is wrong with it, in words."""
    out = layer.forward(x.copy())
    if not isinstance(out, np.ndarray) or out.shape != x.shape:
        got = f"shape {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        return f"Dropout.forward returned {got}; it must return an array shaped like x, {x.shape}"
    return out


ENTRIES = {entry.name: entry for entry in [
    Entry("Affine", layers.Affine, affine_cases, inputs=normal,
          nets=(NetCase(layers=(("Affine", (4, 6), {}), ("Tanh", (), {}), ("Affine", (6, 3), {})),
                        loss="SoftmaxLoss", X_shape=(5, 4), classes=3),)),
    Entry("ReLU", layers.ReLU, elementwise_cases, inputs=away_from_zero, nets=(_around("ReLU"),)),
    Entry("Sigmoid", layers.Sigmoid, elementwise_cases, inputs=normal,
          nets=(_around("Sigmoid"),)),
    Entry("Tanh", layers.Tanh, elementwise_cases, inputs=normal, nets=(_around("Tanh"),)),
    Entry("Dropout", layers.Dropout, dropout_cases, inputs=normal,
          attributes=("seed", "keep_prob"), forward=dropout_forward,
          properties=(dropout_keeps_keep_prob, dropout_seed_fixes_the_mask),
          nets=(NetCase(layers=(("Affine", (4, 6), {}), ("Tanh", (), {}),
                                ("Dropout", (0.7,), {"seed": 3}), ("Affine", (6, 3), {})),
                        loss="SoftmaxLoss", X_shape=(5, 4), classes=3),)),
    Entry("SoftmaxLoss", losses.SoftmaxLoss, softmax_cases, loss=True, inputs=normal,
          targets=class_labels, nets=(_under("SoftmaxLoss", 3, "classes"),)),
    Entry("SigmoidCrossEntropy", losses.SigmoidCrossEntropy, sigmoid_cases, loss=True,
          inputs=normal, targets=binary_labels,
          nets=(_under("SigmoidCrossEntropy", 1, "binary"),)),
    Entry("MSELoss", losses.MSELoss, mse_cases, loss=True, inputs=normal,
          targets=regression_targets, nets=(_under("MSELoss", 2, "values"),)),
    Entry("RNN", layers.RNN, recurrent_cases, inputs=normal, nets=(RECURRENT_NET,)),
    Entry("TimeAffine", layers.TimeAffine, recurrent_cases, inputs=normal,
          nets=(RECURRENT_NET,)),
    Entry("TemporalSoftmaxLoss", losses.TemporalSoftmaxLoss, temporal_cases, loss=True,
          inputs=normal, targets=class_labels, nets=(RECURRENT_NET,)),
    Entry("SVMLoss", losses.SVMLoss, svm_cases, loss=True, inputs=normal, targets=class_labels,
          nets=(_under("SVMLoss", 3, "classes"),)),
    Entry("Conv2D", layers.Conv2D, conv_cases, inputs=normal, nets=(CNN_NET,)),
    Entry("MaxPool2D", layers.MaxPool2D, pool_cases, inputs=normal, nets=(CNN_NET,)),
    Entry("BatchNorm", layers.BatchNorm, batchnorm_cases, inputs=normal,
          buffers=running_statistics, properties=(batchnorm_running_statistics,),
          nets=(CNN_NET,)),
    Entry("LayerNorm", layers.LayerNorm, layernorm_cases, inputs=normal,
          nets=(_around("LayerNorm", (6,)),)),
    Entry("LSTM", layers.LSTM, recurrent_cases, inputs=normal, nets=(SEQUENCE_NET,)),
    Entry("Embedding", layers.Embedding, embedding_cases, inputs=token_ids,
          nets=(SEQUENCE_NET,)),
]}


# -- assignments ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assignment:
    """A set of classes graded together: what one skeleton asks students to write.

    name: what --assignment takes; title: in words; classes: the required ones (graded
    whether the file defines them or not); optional: graded when the file defines
    them; skeleton: the student's starting file in tutorials/assignments ("" if none).
    """
    name: str
    title: str
    classes: tuple
    optional: tuple = ()
    skeleton: str = ""


CORE = ("Affine", "ReLU", "Sigmoid", "Tanh", "Dropout",
        "SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss")

ASSIGNMENTS = {assignment.name: assignment for assignment in [
    Assignment("mlp", "feed-forward layers and losses", CORE, ("SVMLoss",),
               "layers_assignment.py"),
    Assignment("rnn", "a recurrent net", ("RNN", "TimeAffine", "TemporalSoftmaxLoss")),
    Assignment("cnn", "a convolutional net", ("Conv2D", "MaxPool2D", "BatchNorm"),
               ("LayerNorm",), "cnn_assignment.py"),
    Assignment("sequence", "an LSTM language model", ("LSTM", "Embedding"),
               ("TimeAffine", "TemporalSoftmaxLoss"), "sequence_assignment.py"),
]}
DEFAULT_ASSIGNMENT = "mlp"


def classes_to_grade(defined: Iterable[str], assignment: str | None = None) -> list[str]:
    """The contract names to grade for a file that defines the classes in `defined`.

    With an assignment: its required classes, then its optional ones that are
    defined. Without: the required classes of every assignment the file touches
    (defines one of its required classes), then every other graded class it defines;
    a file that touches none is graded as DEFAULT_ASSIGNMENT.
    """
    if assignment is not None:
        chosen = ASSIGNMENTS[assignment]
        return list(chosen.classes) + [n for n in chosen.optional if n in defined]
    touched = [a for a in ASSIGNMENTS.values() if any(n in defined for n in a.classes)]
    names = [n for a in touched or [ASSIGNMENTS[DEFAULT_ASSIGNMENT]] for n in a.classes]
    return list(dict.fromkeys(names + [n for n in ENTRIES if n in defined]))


def check_assignment(assignment):
    """An error naming the known assignments, unless `assignment` is one (or None)."""
    if assignment is not None and assignment not in ASSIGNMENTS:
        raise ValueError(f"grade: no assignment named {assignment!r}; the assignments are "
                         f"{', '.join(ASSIGNMENTS)}")
