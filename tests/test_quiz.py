"""Quiz mode: a seeded hidden bug, the checker's report, and the answer."""
import subprocess
import sys

import pytest

from minnet import SVMLoss, bugs
from minnet.checker import check_net
from minnet.course.quiz import make_quiz, run_quiz


def test_the_same_seed_gives_the_same_quiz():
    first, again = make_quiz(7), make_quiz(7)
    assert first.bug is again.bug and first.layer == again.layer
    assert first.report.failed == again.report.failed
    assert [bug.name for bug in first.choices] == [bug.name for bug in again.choices]


def test_quizzes_vary_and_the_hidden_bug_is_really_there():
    quizzes = [make_quiz(seed) for seed in range(12)]
    assert len({quiz.bug.name for quiz in quizzes}) >= 6
    for quiz in quizzes:
        assert not quiz.report.passed
        assert quiz.bug in quiz.choices and len(quiz.choices) == len(set(quiz.choices))
        assert all(choice.target == quiz.bug.target for choice in quiz.choices)
        if quiz.layer is not None:
            assert type(quiz.net.layers[quiz.layer]).__name__ == quiz.bug.target
        # the net handed out is the correct one: the bug was only injected for the check
        assert quiz.net.layers[quiz.layer or 0].backward.__func__ is \
            type(quiz.net.layers[quiz.layer or 0]).backward


def test_run_quiz_scores_the_answers():
    quiz = make_quiz(5)
    right = iter([quiz.location, "abcd"[quiz.choices.index(quiz.bug)]])
    shown = []
    assert run_quiz(5, ask=lambda prompt: next(right), show=shown.append) == 2
    assert shown[-1] == "\n" + quiz.answer() and quiz.bug.description in shown[-1]
    wrong = iter(["99", "z"])
    assert run_quiz(5, ask=lambda prompt: next(wrong), show=lambda text: None) == 0


def test_quiz_command_reveals_the_answer_when_nobody_can_type():
    result = subprocess.run([sys.executable, "-m", "minnet", "quiz", "--seed", "3"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 0, result.stderr
    quiz = make_quiz(3)
    assert "The gradient checker says:" in result.stdout
    assert result.stdout.strip().endswith(quiz.answer())
    assert bugs.get(quiz.bug.name).description in result.stdout


NEW_TARGETS = ["Conv2D", "MaxPool2D", "BatchNorm", "LayerNorm", "LSTM", "Embedding", "SVMLoss"]


@pytest.mark.parametrize("target", NEW_TARGETS)
def test_a_quiz_on_each_new_class(target):
    quiz = make_quiz(1, target=target)
    assert quiz.bug.target == target and not quiz.report.passed
    assert quiz.bug in quiz.choices and {choice.target for choice in quiz.choices} == {target}
    assert len(quiz.choices) == min(4, sum(bug.target == target for bug in bugs.catalogue()))
    if target == "SVMLoss":
        assert quiz.layer is None and type(quiz.net.loss_fn) is SVMLoss
        assert (quiz.location, quiz.where) == ("loss", "the loss (SVMLoss)")
    else:
        assert type(quiz.net.layers[quiz.layer]).__name__ == target
        assert quiz.where == f"net.layers[{quiz.layer}] ({target})"
    # the report is the check of the net with this very bug in it; the net handed out is right
    with bugs.inject(quiz.net, quiz.bug.name, layer=quiz.layer):
        assert check_net(quiz.net, quiz.X, quiz.y).failed == quiz.report.failed
    assert check_net(quiz.net, quiz.X, quiz.y).passed
    answer = quiz.answer()
    assert quiz.bug.description in answer and ", ".join(quiz.report.failed) in answer
    again = make_quiz(1, target=target)
    assert (again.bug, again.layer, again.report.failed) == (quiz.bug, quiz.layer,
                                                             quiz.report.failed)
    right = iter([quiz.location, "abcd"[quiz.choices.index(quiz.bug)]])
    assert run_quiz(1, ask=lambda prompt: next(right), show=lambda text: None,
                    target=target) == 2


def test_a_bug_is_shown_in_every_kind_of_net_it_fits():
    kinds = set()
    for seed in range(15):
        quiz = make_quiz(seed, target="Affine")
        kinds.add((type(quiz.net.layers[0]).__name__, type(quiz.net.loss_fn).__name__))
    # the feed-forward nets with their four losses, and the CNN
    assert ("Conv2D", "SoftmaxLoss") in kinds and len(kinds) >= 4


def test_an_unknown_target_is_refused():
    with pytest.raises(ValueError, match="the catalogue has no bug in 'Conv3D'; it has bugs in "
                                         "Affine, ReLU"):
        make_quiz(0, target="Conv3D")
