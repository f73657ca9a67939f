"""What the grader knows about each contract class: one declarative entry per class.

An entry names minnet's reference class, how to draw the constructor arguments and
inputs of its test cases from the grading seed, and how to place it inside a small
Net. Grading a new layer means adding an entry here, not code in the grader.

Every test case draws its own values (parameters, x, dout, labels) from the seed, so
an instructor's secret `--seed` gives secret shapes and numbers; the cases listed
first in each entry (N = 1, a single output, a 3-D input, ...) are always there.
"""
from dataclasses import dataclass, field

import numpy as np

from ... import layers, losses


@dataclass(frozen=True)
class LayerCase:
    """One test of a layer: the constructor's arguments and the shape of x.
    training: the layer's mode during the test."""
    args: tuple
    x_shape: tuple
    kwargs: dict = field(default_factory=dict)
    training: bool = True


@dataclass(frozen=True)
class LossCase:
    """One test of a loss: the shape of the scores it gets."""
    scores_shape: tuple


@dataclass(frozen=True)
class NetCase:
    """The class inside a small Net of minnet's classes, checked with check_net.

    layers: (class name, args, kwargs) in order; loss: the loss's class name; the
    graded class is built from the submission, every other class is minnet's.
    X_shape: the batch; labels: what y holds ("classes", "binary", "values", "steps").
    """
    layers: tuple
    loss: str
    X_shape: tuple
    classes: int
    labels: str = "classes"


@dataclass(frozen=True)
class Entry:
    """What the grader knows about one contract class.

    name: the contract name a submission defines; reference: minnet's class;
    loss: whether it is a loss (forward(scores, y), backward()) or a layer;
    cases(rng): its LayerCase or LossCase tests, drawn from the grading seed;
    nets: NetCase tests; inputs(rng, shape): the x (or scores) of a case;
    targets(rng, shape): the labels for scores of that shape (losses only);
    attributes: the student object's attributes the checker reads and sets, besides
        training and needs_dx (Dropout's seed and keep_prob);
    forward: "reference" when forward must match minnet's on the same input; for a
        random forward, a function (case, x, out) -> None when right, else what is
        wrong (Dropout's: every output is 0 or x / keep_prob);
    properties: extra tests, functions (make, rng) -> None when the property holds,
        else what is wrong in words; make(*args, **kwargs) builds the submission's
        object (see the Dropout tests below);
    samplewise: whether the checker may run the class on many stacked copies of a
        batch at once (each sample on its own, nothing random); False for Dropout.
    """
    name: str
    reference: type
    cases: object
    nets: tuple = ()
    loss: bool = False
    inputs: object = None
    targets: object = None
    attributes: tuple = ()
    forward: str = "reference"
    properties: tuple = ()
    samplewise: bool = True


# -- inputs ------------------------------------------------------------------------------

def normal(rng, shape):
    return rng.standard_normal(shape)


def away_from_zero(rng, shape):
    """Normal values kept at least 0.1 from ReLU's kink at 0, where no derivative exists."""
    x = rng.standard_normal(shape)
    return np.sign(x) * (0.1 + np.abs(x))


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


RECURRENT_NET = NetCase(layers=(("RNN", (3, 5), {}), ("TimeAffine", (5, 4), {})),
                        loss="TemporalSoftmaxLoss", X_shape=(3, 4, 3), classes=4, labels="steps")


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
          properties=(dropout_keeps_keep_prob, dropout_seed_fixes_the_mask), samplewise=False,
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
]}

# The classes graded by default: the feed-forward assignment, and the recurrent
# classes whenever the submission defines them.
CORE = ("Affine", "ReLU", "Sigmoid", "Tanh", "Dropout",
        "SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss")
OPTIONAL = ("RNN", "TimeAffine", "TemporalSoftmaxLoss")
