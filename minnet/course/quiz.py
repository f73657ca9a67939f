"""Spot the bug: a small net with one catalogued backprop bug hidden in it.

    quiz = make_quiz(seed=3)      # the same seed gives every student the same quiz
    print(quiz.report)            # what the gradient checker sees
    print(quiz.answer())          # which layer, which tensors, which mistake

`run_quiz` asks the questions at the terminal (the `minnet quiz` command).
"""
from dataclasses import dataclass

import numpy as np

from . import bugs
from ..checker import check_net
from ..checker.diagnosis import summary
from ..layers import RNN, Affine, Dropout, ReLU, Sigmoid, Tanh, TimeAffine
from ..losses import MSELoss, SigmoidCrossEntropy, SoftmaxLoss, TemporalSoftmaxLoss
from ..net import Net

LOSSES = {"SoftmaxLoss": SoftmaxLoss, "SigmoidCrossEntropy": SigmoidCrossEntropy,
          "MSELoss": MSELoss, "TemporalSoftmaxLoss": TemporalSoftmaxLoss}


@dataclass
class Quiz:
    """net, X, y: the net and batch; bug: the hidden Bug; layer: its index in
    net.layers (None for a loss or Net bug); report: the check of the broken net."""
    net: Net
    X: np.ndarray
    y: np.ndarray
    bug: bugs.Bug
    layer: object
    report: object
    choices: list

    @property
    def where(self):
        """Where the bug is, in words: 'net.layers[3] (Affine)', 'the loss' or 'the Net'."""
        if self.bug.target == "Net":
            return "the Net's regularization gradient"
        if self.layer is None:
            return f"the loss ({self.bug.target})"
        return f"net.layers[{self.layer}] ({self.bug.target})"

    @property
    def location(self):
        """The expected reply to "which layer?": the index in net.layers, 'loss' or 'net'."""
        if self.bug.target == "Net":
            return "net"
        return "loss" if self.layer is None else str(self.layer)

    def answer(self):
        """The answer, with what the checker's diagnosis said."""
        said = summary(row for row in self.report.rows if row.result == "FAIL")
        where = f" {self.report.suspect_sentence()}" if self.report.suspects else ""
        return (f"The bug is in {self.where}: {self.bug.description} ({self.bug.name}). "
                f"It corrupts the gradients of {', '.join(self.report.failed)}.\n"
                f"The checker's diagnosis: {said}.{where}")


def quiz_loss(bug):
    """The loss of the quiz net a bug is shown in."""
    if bug.target in LOSSES:
        return bug.target
    return "TemporalSoftmaxLoss" if bug.target in ("RNN", "TimeAffine") else "SoftmaxLoss"


def quiz_net(loss, rng):
    """A net the catalogued bugs fit, and a batch for it: (net, X, y).

    loss: "SoftmaxLoss", "SigmoidCrossEntropy" or "MSELoss" give every feed-forward
    layer type, one square Affine, nonzero biases and L2 regularization, X: (8, 4);
    "TemporalSoftmaxLoss" gives RNN, Dropout, TimeAffine, X: (4, 5, 3), y: (4, 5).
    rng: a Generator.
    """
    if loss == "TemporalSoftmaxLoss":
        return _recurrent_quiz_net(rng)
    C = 1 if loss == "SigmoidCrossEntropy" else 3
    layers = [Affine(4, 6, rng=rng), ReLU(),
              Dropout(0.8, seed=int(rng.integers(1000)), rng=int(rng.integers(1000))),
              Affine(6, 5, rng=rng), Tanh(), Affine(5, 5, init="xavier", rng=rng), Sigmoid(),
              Affine(5, C, rng=rng)]
    net = Net(layers, LOSSES[loss](), reg=0.05)
    _nonzero_biases(net, rng)
    N = 8
    X = rng.standard_normal((N, 4))
    y = {"SoftmaxLoss": rng.integers(0, C, N), "SigmoidCrossEntropy": rng.integers(0, 2, N),
         "MSELoss": rng.standard_normal((N, C))}[loss]
    return net, X, y


def _recurrent_quiz_net(rng):
    net = Net([RNN(3, 5, rng=rng), Dropout(0.8, seed=int(rng.integers(1000))),
               TimeAffine(5, 4, rng=rng)], TemporalSoftmaxLoss(), reg=0.05)
    _nonzero_biases(net, rng)
    return net, rng.standard_normal((4, 5, 3)), rng.integers(0, 4, (4, 5))


def _nonzero_biases(net, rng):
    # Zero biases would hide bugs that only touch db.
    for name, value in net.params.items():
        if name.startswith("b"):
            value[:] = 0.3 * rng.standard_normal(value.shape)


def make_quiz(seed=None):
    """Build a quiz: a random catalogued bug in a random layer it fits, and its check report.

    seed: int or Generator; the same seed always gives the same quiz.
    """
    rng = np.random.default_rng(seed)
    catalogue = bugs.catalogue()
    while True:
        bug = catalogue[rng.integers(len(catalogue))]
        net, X, y = quiz_net(quiz_loss(bug), rng)
        sites = bugs.applicable_layers(net, bug.name) or [None]
        layer = sites[rng.integers(len(sites))]
        with bugs.inject(net, bug.name, layer=layer):
            report = check_net(net, X, y)
        if not report.passed:  # a dx bug in the first layer hurts no parameter: draw again
            break
    same_target = [b for b in catalogue if b.target == bug.target and b is not bug]
    picks = [same_target[k] for k in rng.permutation(len(same_target))[:3]] + [bug]
    choices = [picks[k] for k in rng.permutation(len(picks))]
    return Quiz(net, X, y, bug, layer, report, choices)


def run_quiz(seed=None, ask=input, show=print):
    """Show a quiz's check report, ask where the bug is and what it is, then reveal it.

    ask: how to read an answer (input by default); None reveals without asking.
    returns the number of questions answered right (0 to 2)
    """
    quiz = make_quiz(seed)
    show("A bug is hidden in this net's backward pass:\n")
    show(quiz.net)
    show("\nThe gradient checker says:\n")
    show(quiz.report.format(diagnosis=False))
    score = 0
    if ask is not None:
        reply = ask("\nWhich layer computes the wrong gradient? Give its index in net.layers, "
                    "or 'loss' or 'net': ").strip().lower()
        expected = quiz.location
        score += reply == expected
        show("right!" if reply == expected else f"not quite: it is {quiz.where}")
        show("\nWhich mistake is it?")
        for letter, bug in zip("abcd", quiz.choices):
            show(f"  {letter}) {bug.description}")
        reply = ask("your answer (a-d): ").strip().lower()
        right = "abcd"[quiz.choices.index(quiz.bug)]
        score += reply == right
        show("right!" if reply == right else f"not quite: it is {right})")
    show("\n" + quiz.answer())
    return score
