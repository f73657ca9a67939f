"""Spot the bug: a small net with one catalogued backprop bug hidden in it.

    quiz = make_quiz(seed=3)      # the same seed gives every student the same quiz
    print(quiz.report)            # what the gradient checker sees
    print(quiz.answer())          # which layer, which tensors, which mistake

`run_quiz` asks the questions at the terminal (the `minnet quiz` command).
"""
from dataclasses import dataclass

import numpy as np

from . import bugs
from .. import registry
from ..checker import check_net
from ..checker.diagnosis import summary
from ..layers import (LSTM, RNN, Affine, BatchNorm, Conv2D, Dropout, Embedding, LayerNorm,
                      MaxPool2D, ReLU, Sigmoid, Tanh, TimeAffine)
from ..net import Net


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


# -- The quiz nets. Each builder takes a Generator and returns (net, X, y); the nets are
#    small, so that a quiz is checked in a fraction of a second, and every one has L2
#    regularization and nonzero biases (zero biases would hide bugs that only touch db).


def _mlp(loss, rng):
    """Every feed-forward layer type, one square Affine; X: (8, 4)."""
    C = 1 if loss == "SigmoidCrossEntropy" else 3
    layers = [Affine(4, 6, rng=rng), ReLU(),
              Dropout(0.8, seed=int(rng.integers(1000)), rng=int(rng.integers(1000))),
              Affine(6, 5, rng=rng), Tanh(), Affine(5, 5, init="xavier", rng=rng), Sigmoid(),
              Affine(5, C, rng=rng)]
    net = Net(layers, registry.lookup(loss)(), reg=0.05)
    _nonzero_biases(net, rng)
    N = 8
    X = rng.standard_normal((N, 4))
    if loss == "SigmoidCrossEntropy":
        y = rng.integers(0, 2, N)
    elif loss == "MSELoss":
        y = rng.standard_normal((N, C))
    else:  # class labels, for SoftmaxLoss and SVMLoss
        y = rng.integers(0, C, N)
    return net, X, y


def _rnn(rng):
    """RNN, Dropout, TimeAffine; X: (4, 5, 3), y: (4, 5)."""
    net = Net([RNN(3, 5, rng=rng), Dropout(0.8, seed=int(rng.integers(1000))),
               TimeAffine(5, 4, rng=rng)], registry.lookup("TemporalSoftmaxLoss")(), reg=0.05)
    _nonzero_biases(net, rng)
    return net, rng.standard_normal((4, 5, 3)), rng.integers(0, 4, (4, 5))


def _cnn(rng):
    """Conv2D, ReLU, BatchNorm in training mode, Tanh, MaxPool2D, a 2 x 2 Conv2D of
    stride 2, Affine; X: 5 images of 8 x 8 pixels, blank (0) but for the top left 3 x 3.

    Where its window is blank, the first Conv2D outputs exactly its bias, so MaxPool2D
    sees exact ties there, and BatchNorm carries a mistake at a tie back to every
    parameter before it. Around BatchNorm: a ReLU before it, or it would cancel the
    Conv2D's bias exactly (db = 0, which no check can judge; the ink takes both signs,
    so that the ReLU is off at some pixels of every channel and on at others); a Tanh
    after it, whose slope is never 0 (a ReLU's would drop the ties below 0) and differs
    from pixel to pixel (else dbeta would be blind to where in its window MaxPool2D
    sends dout). The second Conv2D has a stride and parameters before it, so that
    mistakes in its dx and in its stride show; no ReLU after it, where a net this small
    would often have every unit dead.
    """
    layers = [Conv2D(1, 2, 3, pad=1, rng=rng), ReLU(), BatchNorm(2), Tanh(), MaxPool2D(2),
              Conv2D(2, 2, 2, stride=2, rng=rng), Affine(8, 3, rng=rng)]
    net = Net(layers, registry.lookup("SoftmaxLoss")(), reg=0.05)
    _nonzero_biases(net, rng)
    N = 5
    X = np.zeros((N, 1, 8, 8))
    X[:, :, :3, :3] = rng.standard_normal((N, 1, 3, 3))
    return net, X, rng.integers(0, 3, N)


def _lstm(rng):
    """Embedding, LayerNorm (of each token's vector), LSTM, TimeAffine; X: (3, 3) token
    ids of 5, so some repeat."""
    net = Net([Embedding(5, 3, rng=rng), LayerNorm(3), LSTM(3, 2, rng=rng),
               TimeAffine(2, 5, rng=rng)], registry.lookup("TemporalSoftmaxLoss")(), reg=0.05)
    _nonzero_biases(net, rng)
    return net, rng.integers(0, 5, (3, 3)), rng.integers(0, 5, (3, 3))


def _nonzero_biases(net, rng):
    for name, value in net.params.items():
        if name.startswith("b"):  # b and BatchNorm's or LayerNorm's beta
            value[:] = 0.3 * rng.standard_normal(value.shape)


QUIZ_NETS = {  # name -> build(rng) -> (net, X, y); a bug's first net is the one it is tested in
    "mlp-softmax": lambda rng: _mlp("SoftmaxLoss", rng),
    "mlp-sigmoid": lambda rng: _mlp("SigmoidCrossEntropy", rng),
    "mlp-mse": lambda rng: _mlp("MSELoss", rng),
    "mlp-svm": lambda rng: _mlp("SVMLoss", rng),
    "rnn": _rnn,
    "cnn": _cnn,
    "lstm": _lstm,
}


def _specimens():
    """One net of each kind (a millisecond's work): which bugs fit a net, and which loss it
    ends in, depend on its layers, loss and reg, never on the seed."""
    return {name: build(np.random.default_rng(0))[0] for name, build in QUIZ_NETS.items()}


def quiz_nets_for(bug):
    """The names of the quiz nets bug fits, in the order of QUIZ_NETS."""
    return [name for name, net in _specimens().items() if bugs.sites(net, bug.name)]


def quiz_net_for(bug):
    """The name of the first quiz net bug fits, the one tests show it in."""
    return quiz_nets_for(bug)[0]


def quiz_net(name, rng):
    """A quiz net and a batch for it: (net, X, y).

    name: a name in QUIZ_NETS, or a loss's name for the first of them that ends in it
    ("SoftmaxLoss" is "mlp-softmax", "TemporalSoftmaxLoss" is "rnn").
    rng: a Generator.
    """
    if name not in QUIZ_NETS:
        ending = [net_name for net_name, net in _specimens().items()
                  if type(net.loss_fn).__name__ == name]
        if not ending:
            raise ValueError(f"no quiz net is called {name!r} or ends in it; the quiz nets: "
                             f"{', '.join(QUIZ_NETS)}")
        name = ending[0]
    return QUIZ_NETS[name](rng)


def make_quiz(seed=None, target=None):
    """Build a quiz: a random catalogued bug in a random net and place it fits, and its
    check report.

    seed: int or Generator; the same seed always gives the same quiz.
    target: None, or the class to practise on: the bug is drawn from the bugs of that
        class ("LSTM", "SVMLoss", ..., or "Net" for the regularization gradient).
    """
    rng = np.random.default_rng(seed)
    catalogue = bugs.catalogue()
    pool = [bug for bug in catalogue if target is None or bug.target == target]
    if not pool:
        raise ValueError(f"the catalogue has no bug in {target!r}; it has bugs in "
                         f"{', '.join(dict.fromkeys(bug.target for bug in catalogue))}")
    while True:
        bug = pool[rng.integers(len(pool))]
        names = quiz_nets_for(bug)
        net, X, y = quiz_net(names[rng.integers(len(names))], rng)
        places = bugs.sites(net, bug.name)
        layer = places[rng.integers(len(places))]
        with bugs.inject(net, bug.name, layer=layer):
            report = check_net(net, X, y)
        if not report.passed:  # a dx bug in the first layer hurts no parameter: draw again
            break
    same_target = [b for b in catalogue if b.target == bug.target and b is not bug]
    picks = [same_target[k] for k in rng.permutation(len(same_target))[:3]] + [bug]
    choices = [picks[k] for k in rng.permutation(len(picks))]
    return Quiz(net, X, y, bug, layer, report, choices)


def run_quiz(seed=None, ask=input, show=print, target=None):
    """Show a quiz's check report, ask where the bug is and what it is, then reveal it.

    ask: how to read an answer (input by default); None reveals without asking.
    target: as for make_quiz, the class to practise on (default: any).
    returns the number of questions answered right (0 to 2)
    """
    quiz = make_quiz(seed, target=target)
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
        letters = "abcd"[:len(quiz.choices)]
        for letter, bug in zip(letters, quiz.choices):
            show(f"  {letter}) {bug.description}")
        reply = ask(f"your answer (a-{letters[-1]}): ").strip().lower()
        right = letters[quiz.choices.index(quiz.bug)]
        score += reply == right
        show("right!" if reply == right else f"not quite: it is {right})")
    show("\n" + quiz.answer())
    return score
