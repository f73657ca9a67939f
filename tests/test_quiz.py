"""Quiz mode: a seeded hidden bug, the checker's report, and the answer."""
import subprocess
import sys

import numpy as np
import pytest

from minnet import SVMLoss, bugs
from minnet.checker import check_net
from minnet.checker import CheckReport
from minnet.course.quiz import (ANSWER_FORM, LETTERS, OTHER_MISTAKES, SIMILAR_BUGS, choices_for,
                                grade_answer, make_quiz, parse_answer, play, run_quiz)


def test_the_same_seed_gives_the_same_quiz():
    first, again = make_quiz(7), make_quiz(7)
    assert isinstance(first.report, CheckReport)
    assert first.bug is again.bug and first.layer == again.layer
    assert first.report.failed == again.report.failed
    assert first.choices == again.choices


def test_quizzes_vary_and_the_hidden_bug_is_really_there():
    quizzes = [make_quiz(seed) for seed in range(12)]
    assert len({quiz.bug.name for quiz in quizzes}) >= 6
    for quiz in quizzes:
        assert not quiz.report.passed
        if quiz.layer is not None:
            assert type(quiz.net.layers[quiz.layer]).__name__ == quiz.bug.target
        # the net handed out is the correct one: the bug was only injected for the check
        assert quiz.net.layers[quiz.layer or 0].backward.__func__ is \
            type(quiz.net.layers[quiz.layer or 0]).backward


def _four_distinct_choices(choices, bug):
    assert len(choices) == 4 and bug.description in choices
    for k, one in enumerate(choices):
        for other in choices[k + 1:]:  # neither the same words nor the same with more
            assert not one.startswith(other) and not other.startswith(one), (one, other)


def test_every_quiz_offers_four_distinct_choices_with_the_right_one():
    for seed in range(200):
        quiz = make_quiz(seed)
        _four_distinct_choices(quiz.choices, quiz.bug)
        assert quiz.choices[LETTERS.index(quiz.letter)] == quiz.bug.description
        if seed % 20 == 0:
            assert make_quiz(seed).choices == quiz.choices


@pytest.mark.parametrize("bug", bugs.catalogue(), ids=lambda bug: bug.name)
def test_every_catalogued_bug_gets_four_choices_own_class_first(bug):
    own = {other.description for other in bugs.catalogue()
           if other.target == bug.target and other is not bug}
    for seed in range(5):
        choices = choices_for(bug, np.random.default_rng(seed))
        _four_distinct_choices(choices, bug)
        # the class's own bugs are offered before anything borrowed
        assert len(own & set(choices)) == min(3, len(own))
        assert choices == choices_for(bug, np.random.default_rng(seed))
    # a bug of a class with few bugs borrows the same plausible mistakes, in a drawn order
    orders = {tuple(choices_for(bug, np.random.default_rng(seed))) for seed in range(20)}
    assert len(orders) > 1


def test_every_written_mistake_and_similar_bug_is_offered_for_its_own_class():
    offered = {}  # class -> every description offered for one of its bugs, over 20 seeds
    for bug in bugs.catalogue():
        for seed in range(20):
            offered.setdefault(bug.target, set()).update(
                choices_for(bug, np.random.default_rng(seed)))
    for target, mistakes in OTHER_MISTAKES.items():
        for mistake in mistakes:
            assert mistake in offered[target], (target, mistake)
    for target, names in SIMILAR_BUGS.items():
        for name in names:
            assert bugs.get(name).description in offered[target], (target, name)


def test_a_class_the_tables_do_not_know_gets_mistakes_any_backward_can_make():
    bug = bugs.Bug("conv3d-sign", "the gradient has the wrong sign", "Conv3D", None)
    choices = choices_for(bug, np.random.default_rng(0))
    _four_distinct_choices(choices, bug)  # the same words as a generic mistake come once
    assert choices.count("the gradient has the wrong sign") == 1


def test_run_quiz_scores_the_answers():
    quiz = make_quiz(5)
    right = iter([quiz.location, quiz.letter])
    shown, prompts = [], []

    def ask(prompt):
        prompts.append(prompt)
        return next(right)

    assert run_quiz(5, ask=ask, show=shown.append) == 2
    assert shown[-1] == "\n" + quiz.answer() and quiz.bug.description in shown[-1]
    assert prompts[1].endswith("your answer (a-d): ")
    assert [f"  {letter}) {text}" for letter, text in zip("abcd", quiz.choices)] == \
        [line for line in shown if line[:4] in ("  a)", "  b)", "  c)", "  d)")]
    wrong = iter(["99", "z"])
    assert run_quiz(5, ask=lambda prompt: next(wrong), show=lambda text: None) == 0


def _quiz_command(*args):
    return subprocess.run([sys.executable, "-m", "minnet", "quiz", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)


def test_piped_quiz_command_shows_the_quiz_and_how_to_answer_never_the_solution():
    result = _quiz_command("--seed", "3")
    assert result.returncode == 0, result.stderr
    quiz = make_quiz(3)
    assert "The gradient checker says:" in result.stdout
    assert all(f"{letter}) {text}" in result.stdout for letter, text in zip("abcd", quiz.choices))
    assert "minnet quiz --seed 3 --answer LAYER:LETTER" in result.stdout
    assert quiz.answer() not in result.stdout and quiz.bug.name not in result.stdout
    assert "The bug is in" not in result.stdout and "right!" not in result.stdout


def test_piped_quiz_command_without_a_seed_draws_one_and_shows_it():
    result = _quiz_command()
    assert result.returncode == 0, result.stderr
    seed = int(result.stdout.split("quiz --seed ")[1].split()[0])
    quiz = make_quiz(seed)  # the seed shown gives this very quiz back
    assert all(f"{letter}) {text}" in result.stdout for letter, text in zip("abcd", quiz.choices))
    assert f"minnet quiz --seed {seed} --answer" in result.stdout
    assert quiz.answer() not in result.stdout


def test_answer_option_grades_then_reveals():
    quiz = make_quiz(3)
    wrong_layer = "net" if quiz.location != "net" else "0"
    wrong_letter = next(letter for letter in "abcd" if letter != quiz.letter)
    right = _quiz_command("--seed", "3", "--answer", f"{quiz.location}:{quiz.letter}")
    assert right.returncode == 0, right.stderr
    assert right.stdout.count("right!") == 2 and "not quite" not in right.stdout
    assert right.stdout.strip().endswith(quiz.answer())
    half = _quiz_command("--seed", "3", "--answer", f"{wrong_layer}:{wrong_letter}".upper())
    assert half.returncode == 0, half.stderr
    assert "right!" not in half.stdout
    assert f"not quite: it is {quiz.where}" in half.stdout
    assert f"not quite: it is {quiz.letter}) {quiz.bug.description}" in half.stdout
    assert half.stdout.strip().endswith(quiz.answer())
    shown = []
    assert grade_answer(3, f" {quiz.location} : {wrong_letter} ", show=shown.append) == 1
    assert play(3, f"{quiz.location}:{quiz.letter}", show=lambda text: None) == 2


@pytest.mark.parametrize("answer", ["2b", "b", "2:e", "layer:a", "2:b:c", ""])
def test_a_malformed_answer_is_a_usage_error_naming_the_form(answer):
    result = _quiz_command("--seed", "3", "--answer", answer)
    assert result.returncode == 2 and result.stdout == ""
    assert "usage: minnet quiz" in result.stderr
    assert f"--answer: the answer must be {ANSWER_FORM}; got {answer!r}" in result.stderr
    with pytest.raises(ValueError, match="the answer must be LAYER:LETTER"):
        parse_answer(answer)


def test_an_answer_without_a_seed_is_a_usage_error():
    result = _quiz_command("--answer", "2:b")
    assert result.returncode == 2 and "give both, as in minnet quiz --seed 3" in result.stderr


NEW_TARGETS = ["Conv2D", "MaxPool2D", "BatchNorm", "LayerNorm", "LSTM", "Embedding", "SVMLoss"]


@pytest.mark.parametrize("target", NEW_TARGETS)
def test_a_quiz_on_each_new_class(target):
    quiz = make_quiz(1, target=target)
    assert quiz.bug.target == target and not quiz.report.passed
    assert quiz.bug.description in quiz.choices and len(set(quiz.choices)) == 4
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
    right = iter([quiz.location, quiz.letter])
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
