"""The autograder: full marks for correct classes, a failure on exactly the broken class."""
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from minnet import bugs, cli, grade, layers, losses

SKELETON = Path(__file__).parent.parent / "tutorials" / "assignments" / "layers_assignment.py"
REFERENCE = {**vars(layers), **vars(losses)}


def solved_skeleton(tmp_path):
    """The assignment skeleton with minnet's own backward passes filled in."""
    solution = textwrap.dedent("""
        import minnet.layers, minnet.losses
        for name in ("Affine", "ReLU", "Sigmoid", "Tanh", "Dropout"):
            globals()[name].backward = getattr(minnet.layers, name).backward
        for name in ("SoftmaxLoss", "SigmoidCrossEntropy", "MSELoss"):
            globals()[name].backward = getattr(minnet.losses, name).backward
        """)
    path = tmp_path / "solved.py"
    path.write_text(SKELETON.read_text() + solution)
    return path


def test_minnets_own_classes_get_full_marks():
    result = grade.grade_namespace(REFERENCE)  # defines the recurrent classes too
    assert [row.name for row in result.rows] == list(grade.CONTRACT)
    assert result.passed and result.score == len(grade.CONTRACT)
    for row in result.rows:
        assert row.tests >= 11 and row.max_rel_error < 1e-5 and not row.hint


@pytest.mark.parametrize("name", [bug.name for bug in bugs.catalogue() if bug.target != "Net"])
def test_each_catalogued_bug_fails_exactly_its_class(name):
    bug = bugs.get(name)
    result = grade.grade_namespace({**REFERENCE, bug.target: bugs.buggy_class(name)})
    failed = [row for row in result.rows if not row.passed]
    assert [row.name for row in failed] == [bug.target]
    assert failed[0].problem in ("wrong gradient", "raised")
    assert failed[0].hint


def test_hints_read_the_numbers():
    rows = {}
    for name in ("affine-dW-doubled", "affine-dx-sign-flip", "affine-dW-one-coordinate",
                 "dropout-no-scale"):
        target = bugs.get(name).target
        result = grade.grade_namespace({**REFERENCE, target: bugs.buggy_class(name)}, [target])
        rows[name] = result.rows[0]
    assert "dW is 2 times the right value everywhere" in rows["affine-dW-doubled"].hint
    assert "dx has the wrong sign everywhere" in rows["affine-dx-sign-flip"].hint
    assert "1 of the 20 entries of dW" in rows["affine-dW-one-coordinate"].hint
    assert "0.7 times" in rows["dropout-no-scale"].hint  # 1/keep_prob with keep_prob 0.7
    assert rows["affine-dW-doubled"].max_rel_error == pytest.approx(1 / 2, rel=1e-6)


def test_the_skeleton_is_reported_not_implemented(capsys):
    assert cli.main(["grade", str(SKELETON)]) == 1
    out = capsys.readouterr().out
    assert out.count("backward not written yet") == len(grade.CORE)
    assert "score: 0/8" in out
    assert "layers_assignment.py line" in out  # points at the student's line


def test_the_solved_skeleton_passes(tmp_path, capsys):
    assert cli.main(["grade", str(solved_skeleton(tmp_path))]) == 0
    assert "score: 8/8: all classes pass" in capsys.readouterr().out
    assert cli.main(["grade", str(solved_skeleton(tmp_path)), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] and result["score"] == result["total"] == 8
    assert {row["name"] for row in result["classes"]} == set(grade.CORE)


STUDENT = '''
import numpy as np
import minnet.layers

print("importing!")

class ReLU(minnet.layers.ReLU):
    def backward(self, dout):
        return dout * self.mask * (1 / len([]))

class Sigmoid(minnet.layers.Sigmoid):
    def backward(self, dout):
        while True:
            pass

class Tanh(minnet.layers.Tanh):
    def backward(self, dout):
        for _ in range(5000):
            print("debugging", dout.shape)
        return dout * (1 - self.out**2)

class Dropout(minnet.layers.Dropout):
    def backward(self, dout):
        return (dout * self.mask).tolist()

class Affine(minnet.layers.Affine):
    def backward(self, dout):
        self.grads = {"W": self.x.T @ dout}
        return dout @ self.params["W"].T

class SoftmaxLoss(minnet.losses.SoftmaxLoss):
    def backward(self):
        try:
            while True:
                pass
        except Exception:
            return 0
'''


def test_misbehaving_student_code_is_reported_per_class(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(STUDENT)
    before = (list(sys.path), set(sys.modules), np.random.get_state()[1].copy())
    result = grade.grade(path, time_limit=0.5)
    rows = {row.name: row for row in result.rows}
    assert rows["ReLU"].problem == "raised" and "ZeroDivisionError" in rows["ReLU"].hint
    assert "student.py line" in rows["ReLU"].hint
    assert rows["Sigmoid"].problem == "time limit"
    assert rows["SoftmaxLoss"].problem == "time limit"  # `except Exception` cannot hide it
    assert rows["Tanh"].passed and rows["Tanh"].printed > 5000 * 10
    assert rows["Dropout"].problem == "raised"
    assert "expected a numpy array of floats, got a list" in rows["Dropout"].hint
    assert rows["Affine"].problem == "raised" and "'b'" in rows["Affine"].hint
    assert rows["MSELoss"].problem == "missing"
    assert rows["SigmoidCrossEntropy"].problem == "missing"
    assert result.printed_on_import == len("importing!\n")  # counted, not shown
    assert "importing the file printed 11 characters" in result.format()
    after = (list(sys.path), set(sys.modules), np.random.get_state()[1])
    assert before[0] == after[0] and before[1] == after[1]
    assert np.array_equal(before[2], after[2])


def test_a_file_that_does_not_import_fails_every_class(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("class Affine(:\n    pass\n")
    result = grade.grade(path, classes=["Affine", "ReLU"])
    assert [row.problem for row in result.rows] == ["raised", "raised"]
    assert "SyntaxError" in result.rows[0].hint
    path.write_text("raise SystemExit(3)\n")
    assert "SystemExit" in grade.grade(path, classes=["ReLU"]).rows[0].hint


def test_grade_command_usage_errors(tmp_path, capsys):
    for argv in (["grade"], ["grade", str(tmp_path / "nothere.py")],
                 ["grade", "--reference", "--classes", "Conv2D"],
                 ["grade", "--reference", "--time-limit", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "nothere.py" in err and "Conv2D" in err
    assert cli.main(["grade", "--reference", "--classes", "Affine,Tanh"]) == 0
    assert "score: 2/2" in capsys.readouterr().out
