"""Attacks on the autograder, each a real submission: none earns credit it should not,
the grader survives every one, and the honest file they start from earns full marks.

Every submission below is honest.py (a self-written correct solution) with something
appended: a class defined again later in a file replaces the honest one.
"""
import json
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from minnet import layers
from minnet.course.grade import Limits, grade_all, grade_submission

HONEST = (Path(__file__).parent / "submissions" / "honest.py").read_text()
FAST = Limits(time_limit=3.0, import_time_limit=5.0, memory_mb=1024)


def _jailed():
    """Whether grading children here get the kernel's walls (root on Linux)."""
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    probe = folder / "minnet_probe_submission.py"
    probe.write_text(HONEST)
    try:
        return grade_submission(probe, ["ReLU"], limits=FAST).isolation == "namespaces"
    finally:
        probe.unlink()


JAILED = _jailed()
# Some attacks could harm the machine running these tests (kill the test process,
# leave processes behind) where the child has no OS walls: they run only where it has.
needs_jail = pytest.mark.skipif(not JAILED, reason="grading children get the kernel's walls "
                                "only when the grader runs as root on Linux")


def submission(folder, name, attack="", *, honest=True):
    path = Path(folder) / name
    path.write_text((HONEST if honest else "") + textwrap.dedent(attack))
    return path


def classes(grade):
    return {c.name: c for c in grade.classes}


def test_the_honest_file_earns_full_marks(tmp_path):
    grade = grade_submission(submission(tmp_path, "honest.py"), limits=FAST)
    assert grade.passed and grade.score == grade.max_score == 8
    assert all(c.passed_tests == len(c.tests) >= 6 for c in grade.classes)
    assert grade.notes == []
    assert grade.isolation == ("namespaces" if JAILED else grade.isolation)


@pytest.mark.parametrize("target", ["minnet.checker.report", "minnet.course.grade",
                                    "minnet.checker"])
def test_patching_the_report_grader_or_checker_is_impossible(tmp_path, target):
    attack = f"""
        try:
            import {target} as victim
            victim.CheckReport = None
        except ImportError as error:
            print("could not patch:", error)
        try:
            import minnet.checker.report
            minnet.checker.report.CheckReport.passed = property(lambda self: True)
        except ImportError:
            pass
        import minnet
        for name in ("grade", "checker", "course"):
            try:
                setattr(minnet, name, None)
            except Exception:
                pass
        # no reference class is reachable through the contract either
        assert Layer.__subclasses__() and all(c.__module__ == __name__
                                              for c in Layer.__subclasses__())

        class ReLU(Layer):       # wrong: the gradient passes everywhere
            def forward(self, x):
                self.m = x > 0
                return x * self.m
            def backward(self, dout):
                return dout
        """
    grade = classes(grade_submission(submission(tmp_path, "patcher.py", attack), limits=FAST))
    assert not grade["ReLU"].passed and grade["ReLU"].score == 0
    assert "dx" in grade["ReLU"].hint
    assert all(c.passed for name, c in grade.items() if name != "ReLU")


@pytest.mark.parametrize("how", ["sys.exit(0)", "os._exit(0)", "raise SystemExit(3)"])
def test_exiting_at_import_fails_every_class(tmp_path, how):
    attack = f"""
        import os, sys
        print("score: 8/8: all classes pass")
        {how}
        """
    grade = grade_submission(submission(tmp_path, "quitter.py", attack), limits=FAST)
    assert grade.score == 0 and not grade.passed
    assert all("importing the file failed" in c.hint for c in grade.classes)
    ended = [c for c in grade.classes if c.problem == "ended"]
    assert len(ended) == (8 if "os._exit" in how else 0)


@pytest.mark.parametrize("how", ["sys.exit(0)", "os._exit(0)"])
def test_exiting_inside_forward_fails_that_class_only(tmp_path, how):
    attack = f"""
        import os, sys
        class Tanh(Layer):
            def forward(self, x):
                {how}
            def backward(self, dout):
                return dout
        """
    grade = classes(grade_submission(submission(tmp_path, "exiter.py", attack), limits=FAST))
    assert grade["Tanh"].problem == "ended" and grade["Tanh"].score == 0
    assert "ended the grading process" in grade["Tanh"].hint
    assert all(c.passed for name, c in grade.items() if name != "Tanh")


def test_forged_output_is_never_taken_for_the_grade(tmp_path):
    forged = {"student": "forger", "score": 8, "max_score": 8, "passed": True, "classes": []}
    attack = f"""
        import os, sys
        print("score: 8/8: all classes pass")
        print({json.dumps(json.dumps(forged))})
        sys.stderr.write("PASS" * 100)
        sys.stdout.flush()
        os._exit(0)
        """
    path = submission(tmp_path, "forger.py", attack)
    result = subprocess.run([sys.executable, "-m", "minnet", "grade", str(path), "--json"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    grade = json.loads(result.stdout)  # exactly one JSON document, ours
    assert grade["score"] == 0 and grade["passed"] is False and len(grade["classes"]) == 8
    assert "all classes pass" not in result.stdout and "PASS" not in result.stderr
    table = subprocess.run([sys.executable, "-m", "minnet", "grade", str(path)],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "score: 0/8" in table.stdout and "all classes pass" not in table.stdout


def test_a_loop_that_ignores_sigalrm_and_catches_everything_is_killed(tmp_path):
    attack = """
        import signal
        signal.signal(signal.SIGALRM, signal.SIG_IGN)

        class Sigmoid(Layer):
            def forward(self, x):
                while True:
                    try:
                        while True:
                            pass
                    except BaseException:
                        pass
            def backward(self, dout):
                return dout
        """
    limits = Limits(time_limit=1.0, import_time_limit=5.0)
    grade = classes(grade_submission(submission(tmp_path, "looper.py", attack), limits=limits))
    assert grade["Sigmoid"].problem == "time limit" and grade["Sigmoid"].score == 0
    assert grade["Sigmoid"].seconds < 30
    # the classes after it are graded in a fresh child, and earn their points
    assert all(c.passed for name, c in grade.items() if name != "Sigmoid")


def test_a_loop_at_import_is_stopped_by_the_import_time_limit(tmp_path):
    attack = """
        import signal
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            pass
        """
    limits = Limits(time_limit=1.0, import_time_limit=1.0)
    grade = grade_submission(submission(tmp_path, "stuck.py", attack), limits=limits)
    assert grade.score == 0
    assert all(c.problem == "time limit" for c in grade.classes)
    assert grade.seconds < 30  # not one import time limit per class


def test_a_memory_bomb_fails_its_class_and_nothing_else(tmp_path):
    attack = """
        class Tanh(Layer):
            def forward(self, x):
                hoard = []
                while True:
                    hoard.append(np.ones(10**7))
            def backward(self, dout):
                return dout
        """
    limits = Limits(memory_mb=700, time_limit=20.0, import_time_limit=10.0)
    grade = classes(grade_submission(submission(tmp_path, "bomb.py", attack), limits=limits))
    assert grade["Tanh"].problem == "memory limit" and grade["Tanh"].score == 0
    assert "memory limit (700 MB" in grade["Tanh"].hint and "bomb.py line" in grade["Tanh"].hint
    assert all(c.passed for name, c in grade.items() if name != "Tanh")


def test_a_memory_error_inside_numpy_is_told_at_the_students_line(tmp_path):
    attack = """
        class Tanh(Layer):
            def forward(self, x):
                self.t = np.tanh(x)
                table = np.ones((10**5, 10**4))  # 8 GB, over the memory limit
                return self.t
            def backward(self, dout):
                return dout * (1 - self.t**2)
        """
    path = submission(tmp_path, "greedy.py", attack)
    line = next(k for k, text in enumerate(path.read_text().splitlines(), 1)
                if "np.ones((10**5" in text)
    limits = Limits(memory_mb=700, time_limit=20.0, import_time_limit=10.0)
    grade = grade_submission(path, ["Tanh", "ReLU"], limits=limits)
    tanh = classes(grade)["Tanh"]
    assert tanh.problem == "memory limit" and tanh.score == 0
    assert tanh.hint.endswith(f"(in forward, greedy.py line {line})")
    assert "numeric.py" not in tanh.hint and "numpy" not in tanh.hint
    # stopped at its first test, the class still counts every test it has
    assert tanh.tally == f"0/{tanh.total_tests}" and tanh.total_tests >= 6
    assert json.loads(grade.to_json())["classes"][0]["tests_total"] == tanh.total_tests
    assert classes(grade)["ReLU"].passed


def test_writing_and_deleting_files_outside_its_folder_is_refused(tmp_path):
    mine = tmp_path / "grader"
    mine.mkdir()
    canary = mine / "canary.txt"
    canary.write_text("the grader's own file")
    attack = f"""
        import os, shutil
        for attempt in (lambda: open({str(mine / 'pwned.txt')!r}, "w").write("x"),
                        lambda: os.remove({str(canary)!r}),
                        lambda: os.rename({str(canary)!r}, {str(mine / 'moved.txt')!r}),
                        lambda: shutil.rmtree({str(mine)!r}),
                        lambda: open(os.path.join(os.readlink("/proc/%d/cwd" % os.getppid()),
                                                  "pwned.txt"), "w")):
            try:
                attempt()
            except OSError:   # refused by the audit hook, or by the kernel: read-only
                pass
        with open("scratch.txt", "w") as f:   # its own folder: allowed, and reported
            f.write("notes")
        try:                                  # but no file above the size limit (4 MB)
            with open("huge.bin", "wb") as f:
                f.write(bytes(5 << 20))
            raise AssertionError("wrote 5 MB")
        except OSError as error:
            assert "File too large" in str(error)
        """
    old = os.getcwd()
    os.chdir(mine)  # the grader's working directory
    try:
        grade = grade_submission(submission(tmp_path, "vandal.py", attack), limits=FAST)
    finally:
        os.chdir(old)
    assert sorted(p.name for p in mine.iterdir()) == ["canary.txt"]
    assert canary.read_text() == "the grader's own file"
    assert grade.passed  # its classes are honest; the attempts cost nothing but are reported
    notes = " ".join(grade.notes)
    assert "refused 4 operation(s)" in notes and "canary.txt" in notes
    assert "wrote files in its own folder: huge.bin, scratch.txt" in notes


def test_signals_processes_and_limits_cannot_be_touched(tmp_path):
    attack = """
        import os, signal, resource
        refused = 0
        for attempt in (lambda: os.kill(os.getppid(), signal.SIGKILL),
                        lambda: os.system("touch /tmp/minnet-pwned"),
                        lambda: os.fork(),
                        lambda: resource.setrlimit(resource.RLIMIT_AS, (-1, -1)),
                        lambda: __import__("subprocess"),
                        lambda: __import__("ctypes")):
            try:
                attempt()
            except (PermissionError, ImportError):
                refused += 1
        assert refused == 6, refused
        """
    grade = grade_submission(submission(tmp_path, "escaper.py", attack), limits=FAST)
    assert grade.passed  # the import went on: every attempt was refused, and this process lives
    assert "refused 4 operation(s)" in " ".join(grade.notes)
    assert not os.path.exists("/tmp/minnet-pwned")


def test_garbage_on_the_grader_channel_fails_the_class(tmp_path):
    attack = """
        import os, sys
        class ReLU(Layer):
            def forward(self, x):
                os.write(int(sys.argv[3]), b"\\xff" * 64)   # the channel's file descriptor
                return np.maximum(x, 0)
            def backward(self, dout):
                return dout
        """
    grade = classes(grade_submission(submission(tmp_path, "noisy.py", attack), limits=FAST))
    assert grade["ReLU"].problem == "garbage" and grade["ReLU"].score == 0
    assert all(c.passed for name, c in grade.items() if name != "ReLU")


def test_importing_the_reference_solution_fails(tmp_path):
    grade = grade_submission(submission(tmp_path, "copycat.py", """
        from minnet.layers import Affine, ReLU
        """, honest=False), limits=FAST)
    assert grade.score == 0
    hint = grade.classes[0].hint
    assert "ImportError: minnet.layers.Affine: minnet's reference implementation is not " \
           "available while grading" in hint and "copycat.py line 2" in hint
    for module in ("minnet.course.bugs", "minnet.losses.SoftmaxLoss", "minnet.net"):
        statement = (f"from {module.rsplit('.', 1)[0]} import {module.rsplit('.', 1)[1]}"
                     if module.endswith("Loss") else f"import {module}")
        grade = grade_submission(submission(tmp_path, "copycat.py", statement + "\n"),
                                 limits=FAST)
        assert grade.score == 0 and "not available while grading" in grade.classes[0].hint


def test_a_class_from_elsewhere_is_reported_as_not_its_own(tmp_path):
    attack = """
        from json import JSONDecoder as ReLU   # a class of the standard library
        """
    grade = classes(grade_submission(submission(tmp_path, "borrower.py", attack), limits=FAST))
    assert grade["ReLU"].problem == "not its own" and "json" in grade["ReLU"].hint
    assert grade["ReLU"].score == 0 and grade["Tanh"].passed


IDENTITY = """
    import numpy as np
    from minnet.layers import Layer
    from minnet.losses import Loss

    class Identity(Layer):
        def __init__(self, *args, **kwargs):
            super().__init__()
        def forward(self, x):
            return x
        def backward(self, dout):
            return dout

    class Affine(Identity):
        def __init__(self, D, M, **kwargs):
            super().__init__()
            self.params = {"W": np.zeros((D, M)), "b": np.zeros(M)}
        def backward(self, dout):
            self.grads = {"W": np.zeros_like(self.params["W"]), "b": np.zeros_like(self.params["b"])}
            return dout

    ReLU = Sigmoid = Tanh = Dropout = Identity

    class HalfSquare(Loss):
        def forward(self, scores, y):
            self.s = scores
            return 0.5 * np.sum(scores**2)
        def backward(self):
            return self.s.copy()

    SoftmaxLoss = SigmoidCrossEntropy = MSELoss = HalfSquare
    """


def test_identity_layers_and_a_half_square_loss_earn_nothing(tmp_path):
    grade = grade_submission(submission(tmp_path, "lazy.py", IDENTITY, honest=False),
                             limits=FAST)
    assert grade.score == 0
    assert all(c.tests and not c.passed for c in grade.classes)
    assert "wrong forward" in classes(grade)["ReLU"].meaning
    assert "minnet's reference gives" in classes(grade)["SoftmaxLoss"].hint


def test_a_loss_that_sums_instead_of_averaging_fails(tmp_path):
    attack = """
        class SoftmaxLoss(Loss):
            def forward(self, scores, y):
                z = scores - scores.max(axis=1, keepdims=True)
                log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
                self.p, self.y = np.exp(log_p), y
                return -np.sum(log_p[np.arange(len(y)), y])      # the sum, not the mean
            def backward(self):
                d = self.p.copy()
                d[np.arange(len(self.y)), self.y] -= 1
                return d                                       # matching it
        """
    grade = classes(grade_submission(submission(tmp_path, "summer.py", attack), limits=FAST,
                                     classes=["SoftmaxLoss"]))
    loss = grade["SoftmaxLoss"]
    assert not loss.passed and loss.score < 0.5
    assert "the sum over the batch instead of its mean" in loss.hint
    # only at N = 1, where the sum is the mean, is it right
    assert [t.passed for t in loss.tests[:1]] == [True]


def test_squeeze_bugs_fail_at_one_sample_and_one_output(tmp_path):
    attack = """
        class Affine(Layer):
            weights = ("W",)
            def __init__(self, D, M, **kwargs):
                super().__init__()
                self.params = {"W": np.zeros((D, M)), "b": np.zeros(M)}
            def forward(self, x):
                self.shape = x.shape
                self.x = x.reshape(len(x), -1)
                return np.squeeze(self.x @ self.params["W"] + self.params["b"])
            def backward(self, dout):
                dout = dout.reshape(len(self.x), -1)
                self.grads = {"W": self.x.T @ dout, "b": dout.sum(axis=0)}
                return (dout @ self.params["W"].T).reshape(self.shape)
        """
    grade = classes(grade_submission(submission(tmp_path, "squeezer.py", attack), limits=FAST,
                                     classes=["Affine"], points={"Affine": 4}))
    affine = grade["Affine"]
    failed = [t.name for t in affine.tests if not t.passed]
    assert failed == ["Affine(3, 4) on x of shape (1, 3)", "Affine(5, 1) on x of shape (4, 5)"]
    assert "returned shape (4,), expected (1, 4)" in affine.tests[0].message
    assert "returned shape (4,), expected (4, 1)" in affine.tests[1].message
    assert "np.squeeze" in affine.tests[1].message
    assert affine.score == pytest.approx(4 * (len(affine.tests) - 2) / len(affine.tests))


def test_a_forward_that_changes_its_input_in_place_fails(tmp_path):
    attack = """
        class ReLU(Layer):
            def forward(self, x):
                x[x < 0] = 0            # the caller's x, zeroed in place
                self.m = x > 0
                return x
            def backward(self, dout):
                return dout * self.m
        """
    grade = classes(grade_submission(submission(tmp_path, "inplace.py", attack), limits=FAST,
                                     classes=["ReLU"]))
    relu = grade["ReLU"]
    assert relu.score == 0 and {t.problem for t in relu.tests} == {"changed its input"}
    assert "ReLU.forward changed its input x in place" in relu.hint


def test_one_students_helper_never_leaks_into_anothers_grade(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for student, helper in (("alice", """
            import numpy as np
            np.tanh = lambda x: x          # a monkeypatch that would break everyone after her
            def relu_backward(mask, dout):
                return dout * mask
            """), ("bob", """
            def relu_backward(mask, dout):
                return dout                 # bob's bug lives in his helper
            """)):
        (folder / student).mkdir()
        (folder / student / "helper.py").write_text(textwrap.dedent(helper))
        submission(folder / student, "layers.py", """
            import helper
            class ReLU(Layer):
                def forward(self, x):
                    self.m = x > 0
                    return x * self.m
                def backward(self, dout):
                    return helper.relu_backward(self.m, dout)
            """)
    grades = {g.student: classes(g) for g in grade_all(folder, ["ReLU", "Tanh"], jobs=1,
                                                       file="layers.py", limits=FAST)}
    assert grades["alice"]["ReLU"].passed and not grades["alice"]["Tanh"].passed
    assert not grades["bob"]["ReLU"].passed and grades["bob"]["Tanh"].passed


def test_a_notebook_with_magics_is_graded_from_its_code_cells(tmp_path):
    cells = ["%matplotlib inline\nimport numpy as np", "!pip install nothing",
             "%%bash\necho not python", HONEST, "np.sum?",
             "class Tanh(Layer):\n    def forward(self, x):\n        self.t = np.tanh(x)\n"
             "        return self.t\n    def backward(self, dout):\n"
             "        return dout * (1 - self.t) / 0\n"]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [],
                           "execution_count": None} for c in cells]
                + [{"cell_type": "markdown", "source": "# not code", "metadata": {}}]}
    path = tmp_path / "my_notebook.ipynb"
    path.write_text(json.dumps(notebook))
    grade = grade_submission(path, limits=FAST)
    by_name = classes(grade)
    assert all(c.passed for name, c in by_name.items() if name != "Tanh")
    assert "FloatingPointError" in by_name["Tanh"].hint
    assert "my_notebook.ipynb cell 6 line 6" in by_name["Tanh"].hint  # the notebook's own place
    note = " ".join(grade.notes)
    assert "4 IPython magic or shell line(s) were left out" in note
    assert "cell 1 line 1: %matplotlib inline" in note and "cell 3: %%bash" in note


def test_printing_is_counted_never_shown(tmp_path, capsys):
    attack = """
        import os, sys
        print("=" * 1000)
        class Tanh(Layer):
            def forward(self, x):
                print("debugging", x.shape)
                os.write(1, b"straight to the file descriptor\\n")
                self.t = np.tanh(x)
                return self.t
            def backward(self, dout):
                sys.stderr.write("backward!\\n")
                return dout * (1 - self.t**2)
        """
    grade = grade_submission(submission(tmp_path, "chatty.py", attack), limits=FAST)
    tanh = classes(grade)["Tanh"]
    assert grade.passed and tanh.printed > 1000
    assert f"Tanh: printed {tanh.printed} characters while graded" in grade.format()
    assert "importing the file printed 1001 characters" in " ".join(grade.notes)
    out = capsys.readouterr()
    assert "debugging" not in out.out + out.err and "=====" not in out.out + out.err


def test_the_grading_process_is_left_as_it_was(tmp_path):
    folders = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("minnet-grade-*"))
    before = (list(sys.path), set(sys.modules), np.random.get_state()[1].copy(), os.getcwd())
    grade_submission(submission(tmp_path, "honest.py", """
        import sys
        sys.path.insert(0, "/nowhere")
        np.random.seed(42)
        """), classes=["ReLU"], limits=FAST)
    after = (list(sys.path), set(sys.modules), np.random.get_state()[1], os.getcwd())
    assert before[0] == after[0] and before[1] == after[1] and before[3] == after[3]
    assert np.array_equal(before[2], after[2])
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("minnet-grade-*")) == folders


# -- what a reviewer found: wrong code that must earn nothing -----------------------------

def test_infinite_and_nan_gradients_earn_nothing(tmp_path):
    attack = """
        class Affine(Affine):
            def backward(self, dout):
                super().backward(dout)
                self.grads = {k: np.full(v.shape, np.inf) for k, v in self.params.items()}
                return np.full(self.shape, np.inf)
        class Tanh(Tanh):
            def backward(self, dout):
                return np.full(dout.shape, np.nan)
        class MSELoss(MSELoss):
            def backward(self):
                return np.full(self.d.shape, -np.inf)
        """
    grade = classes(grade_submission(submission(tmp_path, "infinite.py", attack), limits=FAST))
    for name in ("Affine", "Tanh", "MSELoss"):
        assert grade[name].score == 0 and "a gradient must be finite" in grade[name].hint
    assert "containing inf at [0, 0]" in grade["Affine"].hint


def test_a_kink_state_that_claims_kinks_everywhere_hides_nothing(tmp_path):
    attack = """
        class Liar(Layer):
            def kink_state(self):   # every perturbed call "crossed a kink": skip them all
                return np.unpackbits(np.ascontiguousarray(self.out).view(np.uint8))
        class Sigmoid(Liar):
            def forward(self, x):
                self.out = 1 / (1 + np.exp(-x))
                return self.out
            def backward(self, dout):
                return np.zeros_like(dout)
        class ReLU(Liar):
            def forward(self, x):
                self.out = np.maximum(x, 0)
                return self.out
            def backward(self, dout):
                return np.zeros_like(dout)
        """
    grade = classes(grade_submission(submission(tmp_path, "liar.py", attack), limits=FAST,
                                     classes=["Sigmoid", "ReLU"]))
    assert grade["Sigmoid"].score == grade["ReLU"].score == 0
    assert "dx is zero, but the loss does change with x" in grade["Sigmoid"].hint


def test_a_forward_that_remembers_its_answer_is_caught_at_the_perturbed_call(tmp_path):
    attack = """
        class Remember:
            base = None
            def forward(self, *args):
                first = args[0]
                if self.base is not None and first.shape == self.base[0].shape and \\
                        np.max(np.abs(first - self.base[0])) < 1e-3:
                    return self.base[1]        # a hair away: the answer from before
                value = self.true(*args)
                self.base = (first.copy(), value)
                return value
        class Tanh(Remember, Layer):
            def true(self, x):
                self.shape = x.shape
                return np.tanh(x)
            def backward(self, dout):
                return np.zeros(self.shape)
        class SoftmaxLoss(Remember, Loss):
            def true(self, scores, y):
                self.shape = scores.shape
                z = scores - scores.max(axis=1, keepdims=True)
                return -np.mean((z - np.log(np.exp(z).sum(axis=1, keepdims=True)))
                                [np.arange(len(y)), y])
            def backward(self):
                return np.zeros(self.shape)
        """
    grade = classes(grade_submission(submission(tmp_path, "cache.py", attack), limits=FAST,
                                     classes=["Tanh", "SoftmaxLoss"]))
    for name in ("Tanh", "SoftmaxLoss"):
        assert grade[name].score == 0
        assert {t.problem for t in grade[name].tests} == {"wrong forward"}
    assert "minnet's reference gives" in grade["Tanh"].hint


def test_changing_the_graders_arrays_in_place_later_is_caught(tmp_path):
    attack = """
        class MSELoss(Loss):
            calls = 0
            def forward(self, scores, y):
                self.calls += 1
                self.shape = scores.shape
                if self.calls > 1:            # the first call is watched; the next ones too
                    y[...] = np.reshape(scores, y.shape)
                return np.mean((scores - np.reshape(y, scores.shape)) ** 2)
            def backward(self):
                return np.zeros(self.shape)
        """
    grade = classes(grade_submission(submission(tmp_path, "rewriter.py", attack), limits=FAST,
                                     classes=["MSELoss"]))
    assert grade["MSELoss"].score == 0
    assert "changed its input y in place" in grade["MSELoss"].hint


def test_minnets_own_code_pasted_into_a_submission_is_flagged(tmp_path):
    import inspect
    from minnet.checker.checks import _checked_array  # noqa: F401  (just to be sure it loads)
    pasted = "\n".join(inspect.getsource(item) for item in (
        layers.common.batch, layers.common.check_dout, layers.Sigmoid))
    grade = classes(grade_submission(submission(tmp_path, "paster.py", pasted), limits=FAST,
                                     classes=["Sigmoid", "Tanh"]))
    assert grade["Sigmoid"].problem == "not its own" and grade["Sigmoid"].score == 0
    assert "Sigmoid.backward compiles to exactly the code of minnet's reference" in \
        grade["Sigmoid"].hint
    assert grade["Tanh"].passed


@needs_jail
def test_reading_minnets_installed_source_is_refused(tmp_path):
    attack = """
        import os, sys
        try:
            source = open(os.path.join(sys.argv[1], "layers.py")).read()
        except OSError as error:
            source = None
            print(error)
        assert source is None, "read minnet's reference layers"
        """
    grade = grade_submission(submission(tmp_path, "reader.py", attack), limits=FAST,
                             classes=["ReLU"])
    assert grade.passed  # the read failed, the assert held, the import went on


# -- what a reviewer found: escaping the child ----------------------------------------------

@needs_jail
def test_switching_the_audit_hook_off_gains_nothing(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    attack = f"""
        import os, sys, threading, time
        server = None
        frame = sys._getframe()
        while frame is not None:          # find the worker's Server and disarm what we can
            server = frame.f_locals.get("self", server)
            frame = frame.f_back
        for name in list(vars(server)):
            if name.startswith(("student", "_audit")):
                setattr(server, name, False)
        server.folder = "/"               # pretend every path is inside the folder
        written = []
        def scribble():
            for _ in range(50):
                try:
                    with open({str(outside / 'from_thread.txt')!r}, "w") as f:
                        f.write("x")
                    written.append(1)
                except OSError:
                    time.sleep(0.002)
        thread = threading.Thread(target=scribble)
        thread.start()
        thread.join()
        try:
            with open({str(outside / 'direct.txt')!r}, "w") as f:
                f.write("x")
        except OSError:
            pass
        """
    grade = grade_submission(submission(tmp_path, "unhook.py", attack), limits=FAST,
                             classes=["ReLU"])
    assert grade.passed and list(outside.iterdir()) == []


@needs_jail
def test_no_process_the_submission_starts_outlives_its_grading(tmp_path):
    marker = tmp_path / "alive"
    results = tmp_path / "results.json"
    attack = f"""
        import os, sys, time
        sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_RefuseMinnet"]
        import _posixsubprocess
        script = b"while true; do date > {str(marker).encode().decode()}; " \\
                 b"echo forged > {str(results).encode().decode()}; sleep 0.1; done"
        args = [b"/bin/sh", b"-c", script]
        try:
            _posixsubprocess.fork_exec(args, [args[0]], True, (), None, None, -1, -1, -1, -1,
                                       -1, -1, *os.pipe(), True, True, -1, None, None, None,
                                       -1, None, False)
        except Exception as error:
            print(error)
        time.sleep(0.5)
        """
    path = submission(tmp_path, "spawner.py", attack)
    result = subprocess.run([sys.executable, "-m", "minnet", "grade", str(path), "--classes",
                             "ReLU", "--gradescope", str(results)], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import time
    time.sleep(1.0)  # long enough for a survivor to write again
    assert not marker.exists()  # the jail's file system was read-only for it anyway
    assert json.loads(results.read_text())["score"] == 1


@needs_jail
def test_the_grading_process_cannot_be_signalled_or_read(tmp_path):
    attack = """
        import os, signal
        found = []
        for name in (os.listdir("/proc") if os.path.isdir("/proc") else []):
            if name.isdigit() and int(name) != os.getpid():
                found.append(name)       # another process: the grader, pytest, ...
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass
        try:
            signal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL)
        except OSError:
            pass
        assert os.getppid() == 0 and found == [], found
        """
    grade = grade_submission(submission(tmp_path, "assassin.py", attack), limits=FAST,
                             classes=["ReLU"])
    assert grade.passed  # this process is alive, and the submission saw no other process


@needs_jail
def test_no_network(tmp_path):
    attack = """
        import socket
        for connect in (lambda: socket.create_connection(("127.0.0.1", 80), timeout=1),
                        lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)):
            try:
                connect()
                raise AssertionError("reached the network")
            except OSError:
                pass
        """
    assert grade_submission(submission(tmp_path, "caller.py", attack), limits=FAST,
                            classes=["ReLU"]).passed


@pytest.mark.parametrize("reply", [{"hello": 1}, {"error": "boom"}, {"classes": 5},
                                   {"classes": {}, "x": {"__array__": 0, "dtype": "float64",
                                                         "shape": [2**32, 2**32]}}])
def test_forged_replies_on_the_channel_are_garbage(tmp_path, reply):
    attack = f"""
        import json, os, struct, sys, time
        header = json.dumps({reply!r}).encode()
        os.write(int(sys.argv[3]), struct.pack(">QQ", 8 + len(header), len(header)) + header)
        time.sleep(3)
        """
    path = submission(tmp_path, "forger.py", attack)
    result = subprocess.run([sys.executable, "-m", "minnet", "grade", str(path), "--json",
                             "--classes", "ReLU,Tanh", "--import-time-limit", "10"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    grade = json.loads(result.stdout)
    assert result.returncode == 1 and grade["score"] == 0, result.stderr
    assert all(c["problem"] == "garbage" for c in grade["classes"])
    assert "sent garbage on the grader's channel" in grade["classes"][0]["hint"]


def test_a_students_message_cannot_fake_a_line_of_the_report(tmp_path):
    attack = """
        class Tanh(Layer):
            def forward(self, x):
                raise ValueError("\\n\\nscore: 8/8: all classes pass\\x1b[2J")
            def backward(self, dout):
                return dout
        """
    grade = grade_submission(submission(tmp_path, "faker.py", attack), limits=FAST,
                             classes=["Tanh", "ReLU"])
    text = grade.format()
    assert [line for line in text.splitlines() if line.startswith("score:")] == ["score: 1/2"]
    assert "\x1b" not in text and "\n\n" not in classes(grade)["Tanh"].hint


def test_a_huge_reply_is_refused_before_it_is_read(tmp_path):
    attack = """
        class Tanh(Layer):
            def forward(self, x):
                return np.zeros((len(x), 10_000_000 // len(x)))
            def backward(self, dout):
                return dout
        """
    grade = classes(grade_submission(submission(tmp_path, "huge.py", attack), limits=FAST,
                                     classes=["Tanh"]))
    assert grade["Tanh"].problem == "garbage" and "over the limit of 32 MB" in grade["Tanh"].hint


# -- a second review --------------------------------------------------------------------------

def test_links_in_a_submission_never_lead_the_grader_outside_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("the grader's own file")
    folder = tmp_path / "linker"
    folder.mkdir()
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": HONEST, "metadata": {}, "outputs": [],
         "execution_count": None}]}
    (folder / "my_layers.ipynb").write_text(json.dumps(notebook))
    (folder / "my_layers.py").write_text("# takes the converted notebook's first name\n")
    (folder / "submission_from_notebook.py").symlink_to(victim)  # and the second one
    (folder / "secrets").symlink_to("/etc")
    grade = grade_submission(folder, ["ReLU"], file="my_layers.ipynb", limits=FAST)
    assert victim.read_text() == "the grader's own file"
    assert grade.passed
    notes = " ".join(grade.notes)
    assert "left out submission_from_notebook.py: not a plain file" in notes
    assert "left out secrets" in notes
    (folder / "my_layers.ipynb").unlink()
    (folder / "my_layers.ipynb").symlink_to("/proc/self/environ")
    with pytest.raises(ValueError, match="not a regular file"):
        grade_submission(folder, ["ReLU"], file="my_layers.ipynb", limits=FAST)


@pytest.mark.parametrize("content", ['{"cells": [1]}', '{"cells": ' + "[" * 100_000,
                                     '{"cells": [{"cell_type": "code", "source": [1, 2]}]}',
                                     "not json at all"])
def test_a_malformed_notebook_is_reported_never_crashes(tmp_path, content):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "bad.ipynb").write_text(content)
    (folder / "good.py").write_text(HONEST)
    grades = {g.student: g for g in grade_all(folder, ["ReLU"], jobs=1, limits=FAST)}
    assert grades["good"].passed and grades["bad"].score == 0
    assert "is not a readable Jupyter notebook" in grades["bad"].notes[0]
    results = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "minnet", "grade", str(folder / "bad.ipynb"),
                          "--gradescope", str(results)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert json.loads(results.read_text())["score"] == 0


def test_a_dropout_whose_mask_follows_x_earns_nothing(tmp_path):
    attack = """
        import zlib
        class Dropout(Dropout):
            def forward(self, x):    # every output 0 or x / keep_prob, but the mask follows x
                if self.training:
                    seed = zlib.crc32(np.ascontiguousarray(x).tobytes()) + (self.seed or 0)
                    keep = np.random.default_rng(seed).random(x.shape) < self.keep_prob
                    self.mask = keep / self.keep_prob
                else:
                    self.mask = np.ones(x.shape)
                return x * self.mask
            def backward(self, dout):
                return np.zeros_like(dout) if self.training else dout
        """
    grade = classes(grade_submission(submission(tmp_path, "hasher.py", attack), limits=FAST,
                                     classes=["Dropout"]))
    assert grade["Dropout"].score < 0.5
    assert "the mask must not depend on x" in grade["Dropout"].hint


def test_a_dropout_that_drops_only_when_it_thinks_it_is_watched_fails(tmp_path):
    attack = """
        class Dropout(Dropout):
            def forward(self, x):    # keeps everything, except at the usual test sizes
                out = super().forward(x)
                if x.size in (600, 40000):
                    return out
                self.mask = np.ones(x.shape)
                return x.copy()
        """
    for seed in (0, 81723):
        grade = classes(grade_submission(submission(tmp_path, "lazy_dropout.py", attack),
                                         limits=FAST, classes=["Dropout"], seed=seed))
        assert grade["Dropout"].score < 0.5


def test_complex_outputs_are_not_real_answers(tmp_path):
    attack = """
        class ReLU(ReLU):
            def forward(self, x):
                return super().forward(x) + 1e-11j
        """
    grade = classes(grade_submission(submission(tmp_path, "complex.py", attack), limits=FAST,
                                     classes=["ReLU"]))
    assert grade["ReLU"].score == 0 and "not of real floats" in grade["ReLU"].hint


@needs_jail
def test_nothing_of_the_machine_is_in_sight_and_nothing_outlives_the_child(tmp_path):
    attack = f"""
        import os
        for path in ("/etc/passwd", "/proc/sys/kernel/hostname", "/proc/self/status",
                     "/sys", "/home", {str(Path(__file__).parent)!r}, {str(tmp_path)!r}):
            assert not os.path.exists(path), path
        import sys, numpy
        worker = sys.modules["__main__"]                 # disarm the audit hook: the
        worker.REFUSED.clear()                           # kernel's walls must hold alone
        worker.Server._outside = lambda self, path: False
        libc = numpy._core._internal.ctypes.CDLL(None)   # ctypes, through numpy
        key = 0x6D6E6575
        queue = libc.msgget(key, 0o1666)              # IPC_CREAT | 0666
        assert queue >= 0, "msgget failed"
        """.replace("{{", "{").replace("}}", "}")
    before = subprocess.run(["ipcs", "-q"], capture_output=True, text=True).stdout
    grade = grade_submission(submission(tmp_path, "explorer.py", attack), limits=FAST,
                             classes=["ReLU"])
    assert grade.passed, grade.classes[0].hint
    after = subprocess.run(["ipcs", "-q"], capture_output=True, text=True).stdout
    assert "0x6d6e6575" not in after.lower() and before == after


# -- the classes added with the assignments ---------------------------------------------------

SKELETONS = Path(__file__).parent.parent / "tutorials" / "assignments"
completed = runpy.run_path(str(Path(__file__).parent / "submissions" /
                               "backward_solutions.py"))["completed"]
CLAIMS = """

# Capabilities the grader must not take from the submission:
Embedding.integer_input = False      # would make a Net turn token ids into floats
BatchNorm.samplewise = True          # would stack copies of a batch into one batch
BatchNorm.buffers = ()               # would leave the running statistics behind


class MaxPool2D(MaxPool2D):          # a zero gradient, and a kink at every call to hide it
    has_kinks = False
    def backward(self, dout):
        return np.zeros(self.x_shape)
    def kink_state(self):
        self.calls = getattr(self, "calls", 0) + 1
        return np.array([self.calls])


class SVMLoss(Loss):                 # the same, for a loss
    def __init__(self, delta=1.0):
        self.delta = delta
    def forward(self, scores, y):
        rows = np.arange(len(y))
        margins = np.maximum(0, scores - scores[rows, y][:, None] + self.delta)
        margins[rows, y] = 0
        self.shape, self.calls = scores.shape, getattr(self, "calls", 0) + 1
        return margins.sum() / len(y)
    def backward(self):
        return np.zeros(self.shape)
    def kink_state(self):
        return np.array([self.calls])
"""


def _claimer(folder):
    """The completed cnn and sequence skeletons in one file, then CLAIMS."""
    path = Path(folder) / "claimer.py"
    path.write_text(completed(SKELETONS / "cnn_assignment.py")
                    + completed(SKELETONS / "sequence_assignment.py")
                    + "\nfrom minnet.losses import Loss\n" + CLAIMS)
    return path


def test_proxies_take_their_capabilities_from_minnet_never_from_the_submission(tmp_path):
    from minnet import losses
    from minnet.course.grade import cases
    from minnet.course.grade.notebook import read_submission
    from minnet.course.grade.sandbox import Session
    from minnet.course.grade.table import ENTRIES

    submission = read_submission(_claimer(tmp_path))
    made = {"Embedding": (5, 3), "BatchNorm": (3,), "MaxPool2D": (2,), "SVMLoss": ()}
    session = Session(submission.folder, submission.file, submission.module, list(made), FAST)
    try:
        session.start()
        session.begin()
        for name, args in made.items():
            made[name] = session.new(name, args, {}, cases.Twin(ENTRIES[name], args, {}))
        tokens = np.array([[1, 4, 4], [0, 1, 4]])  # int64 ids cross the channel as they are
        out = made["Embedding"].forward(tokens)
        assert np.array_equal(out, made["Embedding"].params["W"][tokens])
        rng = np.random.default_rng(0)
        scores, y = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
        made["SVMLoss"].forward(scores, y)
        reference = losses.SVMLoss()
        reference.forward(scores, y)
        kinks = made["SVMLoss"].kink_state()
    finally:
        session.close()
    assert made["Embedding"].integer_input is True and not made["Embedding"].has_kinks
    assert made["BatchNorm"].samplewise is False
    assert made["BatchNorm"].buffers == ("running_mean", "running_var")
    assert np.array_equal(made["BatchNorm"].running_var, np.ones(3))
    assert made["MaxPool2D"].has_kinks is True and made["MaxPool2D"].samplewise is True
    assert made["SVMLoss"].has_kinks is True
    assert np.array_equal(kinks, reference.kink_state())  # minnet's margins, not the claim


def test_claimed_capabilities_and_kinks_change_no_grade(tmp_path):
    grade = classes(grade_submission(_claimer(tmp_path), limits=FAST, classes=[
        "Embedding", "BatchNorm", "MaxPool2D", "SVMLoss"]))
    assert grade["Embedding"].passed and grade["BatchNorm"].passed
    for name in ("MaxPool2D", "SVMLoss"):
        assert grade[name].score == 0 and "wrong gradient" in grade[name].meaning


def test_a_batchnorm_without_running_statistics_is_told_where_they_belong(tmp_path):
    path = tmp_path / "stateless.py"
    path.write_text(completed(SKELETONS / "cnn_assignment.py").replace(
        "self.running_mean, self.running_var = np.zeros(features), np.ones(features)",
        "pass  # no running statistics"))
    grade = classes(grade_submission(path, limits=FAST, classes=["BatchNorm"]))
    assert grade["BatchNorm"].score == 0
    assert "BatchNorm.running_mean must be a numpy array of floats" in grade["BatchNorm"].hint
