"""Spot the bug: a small net with one catalogued backprop bug hidden in it.

    quiz = make_quiz(seed=3)      # the same seed gives every student the same quiz
    print(quiz.report)            # what the gradient checker sees
    print(quiz.answer())          # which layer, which tensors, which mistake

`run_quiz` asks the questions at the terminal (the `minnet quiz` command); `pose_quiz`
only shows them, and `grade_answer` grades an answer given as "LAYER:LETTER" ("2:b"),
for when nobody is at a terminal to type it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import bugs
from .. import registry
from ..checker import check_net
from ..checker.diagnosis import summary
from ..layers import (LSTM, RNN, Affine, BatchNorm, Conv2D, Dropout, Embedding, LayerNorm,
                      MaxPool2D, ReLU, Sigmoid, Tanh, TimeAffine)
from ..net import Net

if TYPE_CHECKING:  # only named in a type hint
    from ..checker import CheckReport

LETTERS = "abcd"  # one per choice of "which mistake is it?"
ANSWER_FORM = ("LAYER:LETTER, where LAYER is an index in net.layers, 'loss' or 'net' and "
               "LETTER the mistake's letter, as in 2:b or loss:a")


@dataclass
class Quiz:
    """net, X, y: the net and batch; bug: the hidden Bug; layer: its index in
    net.layers (None for a loss or Net bug); report: the check of the broken net;
    choices: four descriptions of mistakes for "which mistake is it?", one of them
    bug.description."""
    net: Net
    X: np.ndarray
    y: np.ndarray
    bug: bugs.Bug
    layer: int | None
    report: CheckReport
    choices: list[str]

    @property
    def where(self) -> str:
        """Where the bug is, in words: 'net.layers[3] (Affine)', 'the loss' or 'the Net'."""
        if self.bug.target == "Net":
            return "the Net's regularization gradient"
        if self.layer is None:
            return f"the loss ({self.bug.target})"
        return f"net.layers[{self.layer}] ({self.bug.target})"

    @property
    def location(self) -> str:
        """The expected reply to "which layer?": the index in net.layers, 'loss' or 'net'."""
        if self.bug.target == "Net":
            return "net"
        return "loss" if self.layer is None else str(self.layer)

    @property
    def letter(self) -> str:
        """The expected reply to "which mistake is it?": the right choice's letter."""
        return LETTERS[self.choices.index(self.bug.description)]

    def answer(self) -> str:
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


def quiz_nets_for(bug: bugs.Bug) -> list[str]:
    """The names of the quiz nets bug fits, in the order of QUIZ_NETS."""
    return [name for name, net in _specimens().items() if bugs.sites(net, bug.name)]


def quiz_net_for(bug: bugs.Bug) -> str:
    """The name of the first quiz net bug fits, the one tests show it in."""
    return quiz_nets_for(bug)[0]


def quiz_net(name: str, rng: np.random.Generator) -> tuple[Net, np.ndarray, np.ndarray]:
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


# -- The wrong choices of "which mistake is it?". A class's own catalogued bugs come first;
#    a class with fewer than three besides the hidden one then takes, in this order, the
#    mistakes written for it below (which no catalogued bug makes), then the bugs of
#    similar classes whose words fit it too (by name). A borrowed description must not
#    give itself away by naming what the class does not have. A class lists only as many
#    entries as it can ever show: with the catalogue's bugs, every entry below is offered
#    for some bug of its class.

OTHER_MISTAKES = {
    "ReLU": ["dx is the mask alone: dout is not multiplied in"],
    "Sigmoid": ["sigmoid's derivative is taken at the input: x * (1 - x) instead of "
                "s * (1 - s)"],
    "Tanh": ["tanh's derivative is taken at the input: 1 - x**2 instead of 1 - t**2"],
    "Dropout": ["the mask is inverted: dout flows to the dropped units only"],
    "RNN": ["dWx and dWh are averaged over the time steps instead of summed, though every "
            "step uses the same weights",
            "tanh's derivative is taken before the activation: 1 - z**2 instead of "
            "1 - h_t**2"],
    "TemporalSoftmaxLoss": ["the gradient has the wrong sign: (onehot(y) - probs) / N"],
    "Conv2D": ["db is taken from the first output position instead of summed over them"],
    "MaxPool2D": ["dout goes to the minimum of its window instead of the maximum",
                  "where windows overlap, a pixel keeps the last window's dout instead of "
                  "their sum"],
    "BatchNorm": ["dbeta is averaged over the batch instead of summed",
                  "dx divides by the variance instead of the standard deviation"],
    "LayerNorm": ["dbeta is averaged over the batch instead of summed",
                  "dx divides by the variance instead of the standard deviation"],
    "LSTM": ["the output gate's gradient uses tanh(c_{t-1}) where tanh(c_t) belongs"],
    "SoftmaxLoss": ["the gradient has the wrong sign: (onehot(y) - probs) / N"],
    "SigmoidCrossEntropy": ["the gradient is (z - y) / N, from the scores before the "
                            "sigmoid instead of a = sigmoid(z)",
                            "sigmoid's slope is multiplied in again: a * (1 - a) * (a - y) / N"],
    "MSELoss": ["the square is not differentiated: the gradient is (scores - y)**2 / size",
                "the gradient has the wrong sign: 2 * (y - scores) / size"],
    "SVMLoss": ["every sign is flipped: the classes with a positive margin get -1 / N and "
                "the correct class +(their number) / N"],
    "Net": ["the regularization gradient has the wrong sign: -reg * W"],
}

SIMILAR_BUGS = {
    "Sigmoid": ["tanh-no-derivative", "affine-dx-sign-flip"],
    "Tanh": ["affine-dx-sign-flip"],
    "TimeAffine": ["affine-dW-doubled", "affine-db-one-sample", "affine-dW-divided-by-N"],
    "TemporalSoftmaxLoss": ["softmax-wrong-class", "softmax-missing-1/N"],
    "Embedding": ["affine-dW-doubled"],
}

# For a class added to the catalogue without entries above: mistakes any backward can make.
ANY_CLASS_MISTAKES = ["the gradient has the wrong sign",
                      "dout is not multiplied in: the chain rule stops at this class",
                      "the gradient is twice what it should be",
                      "the gradient is divided by the batch size N once too often"]


def choices_for(bug: bugs.Bug, rng: np.random.Generator) -> list[str]:
    """The four choices of "which mistake is it?", in an order drawn from rng: bug's
    description and three other mistakes as plausible for its class as the catalogue
    allows (its class's own bugs, then the mistakes written for it, then similar
    classes' bugs, then ANY_CLASS_MISTAKES), all different."""
    own = [other.description for other in bugs.catalogue()
           if other.target == bug.target and other is not bug]
    similar = [bugs.get(name).description for name in SIMILAR_BUGS.get(bug.target, [])
               if name in bugs.BUGS]
    picked = [bug.description]
    for pool in (own, OTHER_MISTAKES.get(bug.target, []), similar, ANY_CLASS_MISTAKES):
        for k in rng.permutation(len(pool)):
            if len(picked) < len(LETTERS) and pool[k] not in picked:
                picked.append(pool[k])
    return [picked[k] for k in rng.permutation(len(picked))]


def make_quiz(seed: int | np.random.Generator | None = None,
              target: str | None = None) -> Quiz:
    """Build a quiz: a random catalogued bug in a random net and place it fits, its check
    report, and four choices for "which mistake is it?".

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
    return Quiz(net, X, y, bug, layer, report, choices_for(bug, rng))


def new_seed() -> int:
    """A fresh quiz seed, from the operating system's entropy (numpy's global random state
    is left alone); show it, so that the same quiz can be asked for again."""
    return int(np.random.default_rng().integers(100_000))


def pose_quiz(quiz: Quiz, show: Callable[[str], object] = print) -> None:
    """Show the quiz's net, the checker's report and the choices of mistakes, not the
    answer."""
    show("A bug is hidden in this net's backward pass:\n")
    show(str(quiz.net))
    show("\nThe gradient checker says:\n")
    show(quiz.report.format(diagnosis=False))
    show("\nQuestion 1: which layer computes the wrong gradient? Its index in net.layers, "
         "or 'loss' or 'net'.")
    show("Question 2: which mistake is it?")
    for letter, description in zip(LETTERS, quiz.choices):
        show(f"  {letter}) {description}")


def run_quiz(seed: int | np.random.Generator | None = None,
             ask: Callable[[str], str] = input, show: Callable[[str], object] = print,
             target: str | None = None) -> int:
    """Show a quiz's check report, ask where the bug is and what it is, then reveal it.

    ask: how to read an answer (input by default).
    target: as for make_quiz, the class to practise on (default: any).
    returns the number of questions answered right (0 to 2)
    """
    quiz = make_quiz(seed, target=target)
    pose_quiz(quiz, show)
    score = _judge_location(quiz, ask("\nquestion 1, which layer: "), show)
    letter = ask(f"question 2, which mistake: your answer (a-{LETTERS[len(quiz.choices) - 1]}): ")
    score += _judge_letter(quiz, letter, show)
    show("\n" + quiz.answer())
    return score


def parse_answer(answer: str) -> tuple[str, str]:
    """Split an answer "LAYER:LETTER" ("2:b", "loss:a", "net:d") into (layer, letter),
    lowercased; raise ValueError naming the accepted form for anything else."""
    match = re.fullmatch(rf"\s*(\d+|loss|net)\s*:\s*([{LETTERS}])\s*", answer.lower())
    if match is None:
        raise ValueError(f"the answer must be {ANSWER_FORM}; got {answer!r}")
    return match.group(1), match.group(2)


def grade_answer(seed: int | np.random.Generator, answer: str,
                 show: Callable[[str], object] = print, target: str | None = None) -> int:
    """Grade an answer to quiz `seed` given at once, "LAYER:LETTER" (see parse_answer),
    then reveal the solution; returns the number of right parts (0 to 2)."""
    location, letter = parse_answer(answer)
    quiz = make_quiz(seed, target=target)
    show(f"which layer: {location}")
    score = _judge_location(quiz, location, show)
    show(f"which mistake: {letter}) {quiz.choices[LETTERS.index(letter)]}")
    score += _judge_letter(quiz, letter, show)
    show("\n" + quiz.answer())
    return score


def play(seed: int | None = None, answer: str | None = None, interactive: bool = True,
         ask: Callable[[str], str] = input, show: Callable[[str], object] = print) -> int:
    """The `minnet quiz` command: quiz `seed` (default: a new seed, shown), graded from
    `answer` ("LAYER:LETTER") when given, else asked at the terminal when interactive,
    else only shown with how to answer it (piped input cannot type an answer, and the
    solution must not be shown before one). Returns the number of right parts (0 to 2;
    0 when only shown)."""
    seed = new_seed() if seed is None else seed
    if answer is not None:
        return grade_answer(seed, answer, show)
    show(f"quiz --seed {seed}\n")
    if interactive:
        return run_quiz(seed, ask, show)
    pose_quiz(make_quiz(seed), show)
    show(f"\nTo answer: minnet quiz --seed {seed} --answer {ANSWER_FORM}.")
    return 0


def _judge_location(quiz, reply, show):
    right = reply.strip().lower() == quiz.location
    show("right!" if right else f"not quite: it is {quiz.where}")
    return int(right)


def _judge_letter(quiz, reply, show):
    right = reply.strip().lower() == quiz.letter
    show("right!" if right else
         f"not quite: it is {quiz.letter}) {quiz.bug.description}")
    return int(right)
