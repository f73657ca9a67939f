"""The autograder: its tests, points, partial credit, reports and command line.

The attacks on its isolation are in test_grade_attacks.py. Here the catalogued bugs
are graded in this process (grade_classes: trusted classes), and real files through
the grading children.
"""
import ast
import csv
import json
import re
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from minnet import bugs, cli, layers, losses
from minnet.course import grade
from minnet.course.grade import wire

HERE = Path(__file__).parent
HONEST = HERE / "submissions" / "honest.py"
ASSIGNMENTS = HERE.parent / "tutorials" / "assignments"
SKELETON = ASSIGNMENTS / "layers_assignment.py"
REFERENCE = {**vars(layers), **vars(losses)}
FAST = grade.Limits(time_limit=5.0, import_time_limit=5.0, memory_mb=1024)
completed = runpy.run_path(str(HERE / "submissions" / "backward_solutions.py"))["completed"]


# The largest relative error a gradient check of minnet's own class may show.
REFERENCE_ERROR = 1e-5  # every class but two stays at or below 7e-6
# LayerNorm(2) measures 4.8e-5 on dx: two values normalize to +1 and -1 whatever they are
# (up to eps), so the output barely moves with x, dx is hundreds of times smaller than
# dgamma, and the rounding in a numerical derivative of so flat a function weighs more.
LAYERNORM_ERROR = 1e-4
# LSTM(3, 5) over 3 steps measures 1.02e-5 on Wh, which acts at every step through the gates.
LSTM_ERROR = 2e-5
ALLOWED_ERROR = {"LayerNorm": LAYERNORM_ERROR, "LSTM": LSTM_ERROR}


def test_minnets_own_classes_get_full_marks():
    result = grade.grade_classes(REFERENCE)  # defines every class: every one is graded
    assert sorted(c.name for c in result.classes) == sorted(grade.ENTRIES)
    assert [c.name for c in result.classes][:len(grade.CORE)] == list(grade.CORE)
    assert result.passed and result.score == result.max_score == len(grade.ENTRIES)
    for c in result.classes:
        assert len(c.tests) >= 6 and not c.hint
        assert c.max_rel_error < ALLOWED_ERROR.get(c.name, REFERENCE_ERROR), c.name


def test_every_class_is_tested_on_the_shapes_students_get_wrong():
    affine = [name for name, _ in grade.tests_of(grade.ENTRIES["Affine"], 0)]
    assert "Affine(3, 4) on x of shape (1, 3)" in affine          # N = 1
    assert "Affine(5, 1) on x of shape (4, 5)" in affine          # Affine(D, 1)
    assert "Affine(6, 3) on x of shape (2, 2, 3)" in affine       # a 3-D input
    for name, entry in grade.ENTRIES.items():
        tests = [test for test, _ in grade.tests_of(entry, 0)]
        assert any("shape (1," in test for test in tests), name   # every class sees N = 1
        assert any("inside a Net" in test for test in tests), name
    # the seed draws the remaining shapes: an instructor's secret seed gives other tests
    assert affine == [name for name, _ in grade.tests_of(grade.ENTRIES["Affine"], 0)]
    other = [name for name, _ in grade.tests_of(grade.ENTRIES["Affine"], 12345)]
    assert other[:4] == affine[:4] and other[4:6] != affine[4:6]


def _assignment_of(name):
    """The classes of every assignment that grades class `name`."""
    return list(dict.fromkeys(n for a in grade.ASSIGNMENTS.values()
                              if name in a.classes + a.optional for n in a.classes + a.optional))


LAYER_BUGS = [bug for bug in bugs.catalogue() if bug.target != "Net"]
# the first bug of each class is graded with every class; the rest with their assignment's
# (every class for every bug would add about 40 s)
EVERY_CLASS = {next(b.name for b in LAYER_BUGS if b.target == target)
               for target in {bug.target for bug in LAYER_BUGS}}


def _strided(test):
    """Whether a Conv2D test's name gives it a stride above 1."""
    stride = re.search(r"stride=(\d+)", test)
    return stride is not None and int(stride.group(1)) > 1


# Two bugs show only in some tests, and fail about half: exactly those tests.
ONLY_SOME_FAIL = {
    "conv-dW-ignores-stride": _strided,
    # ties: the tests with exact ties, and the nets, where ReLU's zeros reach the pool
    "maxpool-every-tie": lambda test: "with exact ties" in test or "inside a Net" in test,
}


@pytest.mark.parametrize("name", [bug.name for bug in LAYER_BUGS])
def test_each_catalogued_bug_fails_exactly_its_class(name):
    """Every bug of the catalogue, as it grows, fails its class and no other."""
    bug = bugs.get(name)
    names = list(grade.ENTRIES) if name in EVERY_CLASS else _assignment_of(bug.target)
    result = grade.grade_classes({**REFERENCE, bug.target: bugs.buggy_class(name)}, names)
    assert [c.name for c in result.classes] == names
    failed = [c for c in result.classes if not c.passed]
    assert [c.name for c in failed] == [bug.target]
    tests = failed[0].tests
    assert failed[0].hint
    if name in ONLY_SOME_FAIL:
        fails = ONLY_SOME_FAIL[name]
        assert [t.name for t in tests if not t.passed] == [t.name for t in tests
                                                           if fails(t.name)]
        assert 2 <= sum(not t.passed for t in tests) < len(tests)
    else:
        assert failed[0].score < 0.5 * failed[0].points
    assert failed[0].score == round(sum(t.passed for t in tests) / len(tests), 4)
    assert {t.problem for t in failed[0].tests if not t.passed} <= {
        "wrong gradient", "raised", "wrong behaviour"}


def test_hints_read_the_numbers():
    hints = {}
    for name in ("affine-dW-doubled", "affine-dx-sign-flip", "affine-dW-one-coordinate",
                 "dropout-no-scale"):
        target = bugs.get(name).target
        result = grade.grade_classes({**REFERENCE, target: bugs.buggy_class(name)}, [target])
        hints[name] = result.classes[0]
    assert "dW is 2 times the right value everywhere" in hints["affine-dW-doubled"].hint
    assert "dx has the wrong sign everywhere" in hints["affine-dx-sign-flip"].hint
    assert "dW is wrong at 1 of 12 entries ([0, 0])" in hints["affine-dW-one-coordinate"].hint
    assert "dx is 0.7 times" in hints["dropout-no-scale"].hint  # 1/keep_prob, keep_prob 0.7
    # |2g - g| / |2g| = 1/2: the relative error of a doubled gradient, in the test alone
    assert hints["affine-dW-doubled"].tests[0].max_rel_error == pytest.approx(1 / 2, rel=1e-6)


def test_an_honest_file_earns_full_marks_and_its_report_says_so(tmp_path):
    result = grade.grade_submission(HONEST, limits=FAST, points={"Affine": 3})
    assert result.passed and result.score == result.max_score == 10
    assert result.student == "honest"
    text = result.format()
    assert text.splitlines()[3].split()[:4] == ["Affine", "PASS", "8/8", "3/3"]
    assert text.endswith("score: 10/10: all classes pass")


def test_points_and_partial_credit(tmp_path):
    path = tmp_path / "partial.py"
    path.write_text(HONEST.read_text() + textwrap.dedent("""
        class SigmoidCrossEntropy(Loss):       # right, but only for one-column logits
            def forward(self, z, y):
                self.z, self.y = z.reshape(len(z), 1), np.reshape(y, (len(z), 1))
                return np.mean(np.logaddexp(0, self.z) - self.y * self.z)
            def backward(self):
                return (1 / (1 + np.exp(-self.z)) - self.y) / len(self.z)
        """))
    result = grade.grade_submission(path, ["SigmoidCrossEntropy", "ReLU"], limits=FAST,
                                    points={"SigmoidCrossEntropy": 4, "ReLU": 2})
    loss, relu = result.classes
    passed = [t.passed for t in loss.tests]
    assert 0 < sum(passed) < len(passed) and not loss.passed
    assert loss.score == pytest.approx(round(4 * sum(passed) / len(passed), 4))
    assert [t.name for t in loss.tests if not t.passed][0] == \
        "SigmoidCrossEntropy on scores of shape (1,)"
    assert relu.score == 2 and result.score == pytest.approx(loss.score + 2)
    assert result.max_score == 6


def test_the_skeleton_earns_nothing_and_points_at_each_unwritten_line(capsys):
    assert cli.main(["grade", str(SKELETON)]) == 1
    out = capsys.readouterr().out
    assert out.count("not written yet") == len(grade.CORE)
    assert "score: 0/8" in out
    assert "layers_assignment.py line" in out


def test_gradescope_results(tmp_path):
    results = tmp_path / "results.json"
    assert cli.main(["grade", str(HONEST), "--classes", "Affine,ReLU", "--gradescope",
                     str(results), "--points", "Affine=3,ReLU=2"]) == 0
    written = json.loads(results.read_text())
    assert set(written) == {"score", "execution_time", "output", "tests"}
    assert written["score"] == 5 and written["execution_time"] > 0
    assert [(t["name"], t["score"], t["max_score"], t["status"], t["visibility"])
            for t in written["tests"]] == [("Affine", 3, 3, "passed", "visible"),
                                           ("ReLU", 2, 2, "passed", "visible")]
    assert all(isinstance(t["output"], str) and t["output"] for t in written["tests"])


MIXED = """
class Tanh(Layer):                      # a wrong gradient: 1 - t where 1 - t**2 belongs
    def forward(self, x):
        self.t = np.tanh(x)
        return self.t
    def backward(self, dout):
        return dout * (1 - self.t)

class ReLU(Layer):                      # raises in every test
    def forward(self, x):
        raise ValueError("not today")
    def backward(self, dout):
        return dout
"""


def test_passed_over_total_tests_is_shown_the_same_everywhere(tmp_path):
    """A right class, a wrong gradient and a class that raises: every test of each runs,
    and the table, the JSON, Gradescope's results and the gradebook all say passed/total."""
    path = tmp_path / "mixed.py"
    path.write_text(HONEST.read_text() + MIXED)
    names = ["Sigmoid", "Tanh", "ReLU"]
    result = grade.grade_submission(path, names, limits=FAST)
    total = {name: len(grade.tests_of(grade.ENTRIES[name], grade.DEFAULT_SEED))
             for name in names}
    expected = {"Sigmoid": f"{total['Sigmoid']}/{total['Sigmoid']}",
                "Tanh": f"0/{total['Tanh']}", "ReLU": f"0/{total['ReLU']}"}
    for c in result.classes:
        assert len(c.tests) == total[c.name]  # every test ran, failing or not
    rows = {line.split()[0]: line.split() for line in result.format().splitlines()[3:6]}
    assert {name: rows[name][2] for name in names} == expected
    assert rows["Tanh"][5:] == ["wrong", "gradient", f"({total['Tanh']})"]
    assert rows["ReLU"][5:] == ["raised", f"({total['ReLU']})"]
    document = json.loads(result.to_json())
    assert {c["name"]: f"{c['tests_passed']}/{c['tests_total']}"
            for c in document["classes"]} == expected
    outputs = {t["name"]: t["output"] for t in result.gradescope()["tests"]}
    assert {name: outputs[name].split(". ")[0] for name in names} == \
        {name: f"tests passed: {tally}" for name, tally in expected.items()}
    assert "not today" in outputs["ReLU"] and "dx" in outputs["Tanh"]
    gradebook = tmp_path / "gradebook.csv"
    grade.write_gradebook([result], gradebook, names)
    with gradebook.open(newline="") as f:
        header, row = list(csv.reader(f))
    assert dict(zip(header, row)) == {
        "student": "mixed", "score": "1", "max_score": "3", "Sigmoid": "1", "Tanh": "0",
        "ReLU": "0", **{f"{name} tests": tally for name, tally in expected.items()},
        "notes": ""}


def test_the_grade_in_a_notebook_is_an_escaped_table_in_band_colors():
    from minnet.plot import BAND_COLORS, RESULT_COLORS
    evil = "<script>alert('x')</script>"
    result = grade.Grade("s", "f<script>.py", [
        grade.ClassGrade("Affine", tests=[grade.TestResult("Affine(3, 4)", True,
                                                           max_rel_error=3e-9)]),
        grade.ClassGrade(evil, hint=f"look at {evil}", tests=[
            grade.TestResult(f"{evil}(2)", False, "raised", f"ValueError: {evil}", 0.5),
            grade.TestResult("ok", True, max_rel_error=2e-5)])], notes=[evil])
    page = result._repr_html_()
    # the source, the class's name in its row and before its hint, the hint, the note
    assert "<script>" not in page and page.count("&lt;script&gt;") == 5
    assert page.count("<tr>") == 3 and "1/2" in page and "score: 1.5/2" in page
    cells = page.split("<tr>")
    assert f"background:{RESULT_COLORS['PASS']}" in cells[2]
    assert f"background:{BAND_COLORS['excellent']}" in cells[2] and "3.0e-09" in cells[2]
    assert f"background:{RESULT_COLORS['FAIL']}" in cells[3]
    assert f"background:{BAND_COLORS['wrong']}" in cells[3] and "5.0e-01" in cells[3]
    one = result.classes[1]._repr_html_()
    assert "<script>" not in one and "&lt;script&gt;alert(&#x27;x&#x27;)" in one
    rows = one.split("<tr>")[2:]
    assert len(rows) == 2 and f"background:{BAND_COLORS['wrong']}" in rows[0]
    assert f"background:{BAND_COLORS['acceptable']}" in rows[1]


def test_json_on_stdout_is_one_document_and_nothing_else(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minnet", "grade", str(HONEST), "--json",
                             "--classes", "ReLU,MSELoss"], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["score"] == 2 and [c["name"] for c in document["classes"]] == \
        ["ReLU", "MSELoss"]
    assert document["classes"][0]["tests"][0]["name"] == "ReLU() on x of shape (1, 4)"


def test_a_whole_class_gives_a_gradebook(tmp_path, capsys):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "ann.py").write_text(HONEST.read_text())
    (folder / "ben.py").write_text(HONEST.read_text().replace(
        "return dout * (1 - self.t * self.t)", "return dout * (1 - self.t)"))
    (folder / "cai").mkdir()
    (folder / "cai" / "work.py").write_text(HONEST.read_text())
    (folder / "dee").mkdir()  # nothing to grade in it: a row with the reason, and the run goes on
    (folder / "notes.txt").write_text("not a submission")
    gradebook, details = tmp_path / "gradebook.csv", tmp_path / "all.json"
    assert cli.main(["grade", "--all", str(folder), "--jobs", "2", "--csv", str(gradebook),
                     "--json", str(details), "--classes", "Tanh,ReLU",
                     "--points", "Tanh=2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len([line for line in out if line.startswith("[")]) == 5
    assert out[-1].startswith("graded 5 submission(s)")
    with gradebook.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "score", "max_score", "Tanh", "ReLU", "Tanh tests",
                       "ReLU tests", "notes"]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert table["ann"][:6] == table["cai"][:6] == ["3", "3", "2", "1", "6/6", "6/6"]
    assert table["ben"][0] == table["ben"][3] == "1" and table["ben"][2] == "0"
    assert table["ben"][4:6] == ["0/6", "6/6"]
    # not graded at all: no test passed, of all the tests the classes have
    assert table["dee"][:6] == ["0", "3", "0", "0", "0/6", "0/6"]
    assert "holds 0 .py or .ipynb files" in table["dee"][6]
    assert "not a .py file" in table["notes"][6]
    everything = json.loads(details.read_text())
    assert [g["student"] for g in everything] == ["ann", "ben", "cai", "dee", "notes"]


@pytest.mark.parametrize("argv, message", [
    (["grade"], "give one submission FILE"),
    (["grade", "nothere.py"], "no such file or folder"),
    (["grade", "--reference", "--classes", "Conv3D"], "--classes: unknown Conv3D"),
    (["grade", "--reference", "--time-limit", "0"], "--time-limit must be positive"),
    (["grade", "--reference", "--points", "Affine=x"], "must be NAME=NUMBER"),
    (["grade", "--reference", "--points", "Afine=2"], "unknown class 'Afine'"),
    (["grade", "--reference", "--csv", "out.csv"], "use it with --all DIR"),
    (["grade", "--all", "nowhere"], "--all: no such folder"),
    (["grade", "--reference", "--assignment", "gan"], "invalid choice: 'gan'"),
    (["grade", "--reference", "--assignment", "cnn", "--classes", "Conv2D"],
     "give --classes or --assignment, not both"),
])
def test_usage_errors_name_the_problem(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage: minnet grade" in err


def test_a_folder_of_submissions_is_not_mistaken_for_a_missing_file(tmp_path, capsys):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(HONEST.read_text())
    with pytest.raises(SystemExit):
        cli.main(["grade", str(tmp_path)])
    assert f"use --all {tmp_path}" in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path), "--file", "a.py", "--classes", "ReLU"]) == 0
    assert "score: 1/1" in capsys.readouterr().out


def test_the_reference_command():
    assert cli.main(["grade", "--reference", "--classes", "Affine,Tanh"]) == 0


def test_the_wire_refuses_anything_but_json_and_plain_arrays():
    message = {"a": np.arange(6.0).reshape(2, 3), "b": [1, "two", {"c": np.array([True])}]}
    back = wire.decode(wire.encode(message)[8:])
    assert np.array_equal(back["a"], message["a"]) and back["b"][1] == "two"
    assert back["b"][2]["c"].dtype == bool
    with pytest.raises(TypeError, match="dtype object"):
        wire.encode({"x": np.array([object()])})
    good = wire.encode({"x": np.zeros(3)})[8:]
    for bad in (b"\x00" * 4, good[:-1], good + b"\x00", b"\x00" * 7 + b"\x05{}}}}",
                good.replace(b"float64", b"object\x20")):
        with pytest.raises(wire.Garbage):
            wire.decode(bad)
    with pytest.raises(wire.Garbage, match="over the limit of 32 MB"):
        wire.frame_length((1 << 40).to_bytes(8, "big"))


def test_the_gradescope_script_in_the_assignments_readme(tmp_path):
    """run_autograder, as the README shows it, in a fake /autograder tree."""
    readme = (SKELETON.parent / "README.md").read_text()
    script = readme.split("and `run_autograder` grades")[1].split("```bash\n")[1].split("```")[0]
    root = tmp_path / "autograder"
    for folder in ("submission", "results", "venv/bin"):
        (root / folder).mkdir(parents=True)
    minnet_command = root / "venv" / "bin" / "minnet"
    minnet_command.write_text(f'#!/bin/sh\nexec {sys.executable} -m minnet "$@"\n')
    minnet_command.chmod(0o755)
    run = root / "run_autograder"
    run.write_text(script.replace("root=/autograder", f"root={root}"))
    results = root / "results" / "results.json"

    (root / "submission" / "my_layers.py").write_text(HONEST.read_text())
    subprocess.run(["bash", str(run)], check=True, timeout=300, capture_output=True)
    written = json.loads(results.read_text())
    assert written["score"] == 11 and len(written["tests"]) == 8  # Affine 3, SoftmaxLoss 2
    assert {t["status"] for t in written["tests"]} == {"passed"}

    (root / "submission" / "my_layers.py").unlink()  # a student who uploaded the wrong file
    (root / "submission" / "mylayers.py").write_text(HONEST.read_text())
    subprocess.run(["bash", str(run)], check=True, timeout=300, capture_output=True)
    written = json.loads(results.read_text())
    assert written["score"] == 0 and {t["status"] for t in written["tests"]} == {"failed"}
    assert "has no file my_layers.py" in written["output"]


def test_json_is_strict_even_for_nan():
    result = grade.Grade("s", "s.py", [grade.ClassGrade("Tanh", tests=[
        grade.TestResult("t", False, "wrong gradient", "m", float("nan"))])])
    document = json.loads(result.to_json())  # json.loads accepts NaN; strict parsers do not
    assert document["classes"][0]["max_rel_error"] is None
    assert "NaN" not in result.to_json()


# -- assignments, and the classes added with them -----------------------------------------------

def test_every_graded_class_belongs_to_an_assignment_whose_skeleton_asks_for_it():
    placed = [n for a in grade.ASSIGNMENTS.values() for n in a.classes + a.optional]
    assert set(placed) == set(grade.ENTRIES)
    assert grade.ASSIGNMENTS["mlp"].classes == grade.CORE
    for assignment in grade.ASSIGNMENTS.values():
        if assignment.skeleton:
            tree = ast.parse((ASSIGNMENTS / assignment.skeleton).read_text())
            defined = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
            assert defined == list(assignment.classes), assignment.name


@pytest.mark.parametrize("defined, assignment, expected", [
    (set(), None, grade.CORE),                                      # an empty file: mlp
    (set(grade.CORE), None, grade.CORE),                            # the MLP assignment
    ({"Affine", "RNN"}, None, grade.CORE + ("RNN", "TimeAffine", "TemporalSoftmaxLoss")),
    ({"Conv2D", "LayerNorm"}, None, ("Conv2D", "MaxPool2D", "BatchNorm", "LayerNorm")),
    ({"LSTM", "TimeAffine"}, None,          # TimeAffine touches rnn: its classes are asked for
     ("RNN", "TimeAffine", "TemporalSoftmaxLoss", "LSTM", "Embedding")),
    ({"SVMLoss"}, None, grade.CORE + ("SVMLoss",)),   # a class outside every assignment's core
    ({"Affine", "LSTM", "Conv2D"}, "cnn", ("Conv2D", "MaxPool2D", "BatchNorm")),
    ({"LSTM", "TimeAffine"}, "sequence", ("LSTM", "Embedding", "TimeAffine")),
])
def test_the_classes_graded_follow_the_assignments_the_file_touches(defined, assignment,
                                                                    expected):
    assert grade.classes_to_grade(defined, assignment) == list(expected)


def test_the_new_classes_are_tested_on_their_edge_cases():
    def names(name):
        return [test for test, _ in grade.tests_of(grade.ENTRIES[name], 0)]
    conv, pool, norm = names("Conv2D"), names("MaxPool2D"), names("BatchNorm")
    assert "Conv2D(1, 2, 3) on x of shape (1, 1, 4, 4)" in conv                   # N = 1
    assert "Conv2D(2, 3, 3, stride=2, pad=1) on x of shape (2, 2, 5, 5)" in conv
    assert "Conv2D(2, 2, (2, 3), pad=1) on x of shape (2, 2, 4, 5)" in conv       # rectangular
    assert "MaxPool2D(3, stride=2) on x of shape (2, 2, 5, 5)" in pool            # overlapping
    assert "MaxPool2D(2) on x of shape (2, 3, 4, 4), with exact ties" in pool
    assert "MaxPool2D(2, stride=1) on x of shape (2, 2, 5, 5), overlapping windows, with " \
           "exact ties" in pool
    assert "BatchNorm(4) in eval mode on x of shape (1, 4)" in norm
    assert "BatchNorm(2) on x of shape (1, 2, 3, 3)" in norm                      # images
    assert any(test.startswith("BatchNorm's running statistics move") for test in norm)
    assert "Embedding(3, 2) on x of shape (4, 5)" in names("Embedding")         # ids repeat
    assert "Embedding(5, 2) on x of shape (3, 3), every token the same id" in names("Embedding")
    assert "SVMLoss(0.5) on scores of shape (4, 3)" in names("SVMLoss")
    assert any("Conv2D -> ReLU -> BatchNorm -> MaxPool2D -> Affine -> SoftmaxLoss" in test
               for test in pool)
    assert any("Embedding -> LSTM -> TimeAffine -> TemporalSoftmaxLoss" in test
               for test in names("LSTM"))
    # a class that mixes the samples of a batch, or draws random numbers, is never stacked
    assert [name for name, entry in grade.ENTRIES.items()
            if not entry.loss and not entry.samplewise] == ["Dropout", "BatchNorm"]


def test_the_cnn_and_sequence_skeletons_earn_nothing_until_their_backward_is_written(
        capsys, monkeypatch):
    monkeypatch.chdir(HERE.parent)  # the path as the README shows it
    outputs = []
    for skeleton, count in (("cnn_assignment.py", 3), ("sequence_assignment.py", 2)):
        path = f"tutorials/assignments/{skeleton}"
        assert cli.main(["grade", path]) == 1  # by default, the assignment it touches
        outputs.append(capsys.readouterr().out)
        assert outputs[-1].count("not written yet") == count
        assert outputs[-1].count(f"(in backward, {skeleton} line ") == count
        assert outputs[-1].endswith(f"score: 0/{count}\n")
    assert "NotImplementedError: Embedding.backward: write dW" in outputs[1]
    readme = (ASSIGNMENTS / "README.md").read_text()
    assert "```text\n" + outputs[0] + "```" in readme  # the README shows it as it is


@pytest.mark.parametrize("skeleton, assignment", [("cnn_assignment.py", "cnn"),
                                                  ("sequence_assignment.py", "sequence")])
def test_the_skeletons_completed_pass_every_test(skeleton, assignment, tmp_path):
    path = tmp_path / f"my_{assignment}.py"
    path.write_text(completed(ASSIGNMENTS / skeleton))
    result = grade.grade_submission(path, assignment=assignment, limits=FAST)
    assert [c.name for c in result.classes] == list(grade.ASSIGNMENTS[assignment].classes)
    assert result.passed, result.format()
    assert all(t.passed for c in result.classes for t in c.tests)
    assert result.format().endswith(f"score: {len(result.classes)}/{len(result.classes)}: all "
                                    "classes pass")


def test_classic_mistakes_in_the_completed_cnn_skeleton_fail_where_they_should(tmp_path):
    path = tmp_path / "my_cnn.py"
    path.write_text(completed(ASSIGNMENTS / "cnn_assignment.py", ties=(
        # the last maximum of a tied window gets the gradient, not the first
        "self.argmax = windows.argmax(axis=-1)",
        "self.argmax = windows.shape[-1] - 1 - windows[..., ::-1].argmax(axis=-1)"), var=(
        # the running variance from the unbiased batch variance
        "self.running_var = m * self.running_var + (1 - m) * var",
        "self.running_var = m * self.running_var + (1 - m) * x.var(axis=self.axes, ddof=1)")))
    result = {c.name: c for c in grade.grade_submission(path, limits=FAST).classes}
    assert result["Conv2D"].passed
    pool = [t.name for t in result["MaxPool2D"].tests if not t.passed]
    assert pool and all("with exact ties" in t or "inside a Net" in t for t in pool)
    assert len(pool) < len(result["MaxPool2D"].tests) - 2  # the cases without ties pass
    norm = [t for t in result["BatchNorm"].tests if not t.passed]
    assert [t.name.split(" move")[0] for t in norm] == ["BatchNorm's running statistics"]
    assert "that is the unbiased variance" in norm[0].message


def test_classic_mistakes_in_the_new_classes_fail_them():
    class ForgetsDelta(losses.SVMLoss):  # a margin of 1, whatever delta it was given
        def __init__(self, delta=1.0):
            super().__init__()

    class EvalUsesTheBatch(layers.BatchNorm):  # the batch's statistics in eval mode too
        def forward(self, x):
            if self.training:
                return super().forward(x)
            saved, self.training = (self.running_mean, self.running_var), True
            try:
                return super().forward(x)
            finally:
                self.training, (self.running_mean, self.running_var) = False, saved

    class SwappedMomentum(layers.BatchNorm):  # running = (1 - m) running + m batch
        def forward(self, x):
            before, out = (self.running_mean, self.running_var), super().forward(x)
            if self.training:
                axes, m = (0,) if x.ndim == 2 else (0, 2, 3), self.momentum
                self.running_mean = (1 - m) * before[0] + m * x.mean(axis=axes)
                self.running_var = (1 - m) * before[1] + m * x.var(axis=axes)
            return out

    graded = {}
    for name, cls in (("SVMLoss", ForgetsDelta), ("BatchNorm", EvalUsesTheBatch),
                      ("BatchNorm", SwappedMomentum)):
        graded[cls.__name__], = grade.grade_classes({name: cls}, [name]).classes
    tests = graded["ForgetsDelta"].tests  # those given a delta fail, the others pass
    assert [t.name for t in tests if not t.passed] == \
        [t.name for t in tests if t.name.startswith("SVMLoss(")] != []
    eval_failed = [t.name for t in graded["EvalUsesTheBatch"].tests if not t.passed]
    assert eval_failed and all("in eval mode" in t or "running statistics" in t
                               for t in eval_failed)
    swapped = [t for t in graded["SwappedMomentum"].tests if not t.passed]
    assert len(swapped) == 1 and "momentum and 1 - momentum are swapped" in swapped[0].message


def test_an_assignment_is_chosen_by_name(tmp_path, capsys):
    result = grade.grade_submission(HONEST, assignment="cnn", limits=FAST)
    assert [(c.name, c.problem) for c in result.classes] == [
        ("Conv2D", "missing"), ("MaxPool2D", "missing"), ("BatchNorm", "missing")]
    with pytest.raises(ValueError, match="no assignment named 'gan'; the assignments are mlp"):
        grade.grade_submission(HONEST, assignment="gan")
    with pytest.raises(ValueError, match="not both"):
        grade.grade_classes(REFERENCE, ["Affine"], assignment="mlp")
    assert [c.name for c in grade.grade_classes(REFERENCE, assignment="rnn").classes] == \
        ["RNN", "TimeAffine", "TemporalSoftmaxLoss"]
    # Gradescope gets its results, one test per class of the assignment, even for no file
    results = tmp_path / "results.json"
    assert cli.main(["grade", str(tmp_path / "my_cnn.py"), "--assignment", "cnn",
                     "--gradescope", str(results)]) == 1
    written = json.loads(results.read_text())
    assert [(t["name"], t["status"]) for t in written["tests"]] == [
        ("Conv2D", "failed"), ("MaxPool2D", "failed"), ("BatchNorm", "failed")]
    assert written["score"] == 0 and "no such file or folder" in written["output"]
    # a whole class: the same columns for everyone, whatever each file holds
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "empty.py").write_text("")
    (folder / "notes.txt").write_text("not a submission")
    grades = grade.grade_all(folder, assignment="cnn", jobs=1, limits=FAST)
    assert [[c.name for c in g.classes] for g in grades] == [["Conv2D", "MaxPool2D",
                                                              "BatchNorm"]] * 2
