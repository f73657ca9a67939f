"""A grade, as a table, as JSON, as a Gradescope results file and as a gradebook row."""
import csv
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np


class Judged(Exception):
    """A call the grader caught doing something wrong (returning a wrong output,
    changing its input in place): the test fails there, with this problem and message."""

    def __init__(self, problem, message):
        super().__init__(message)
        self.problem = problem


def text(value, limit):
    """Words that came from a submission, safe to show: one line, printable, at most
    `limit` characters (a message cannot fake a score line or clear the screen)."""
    words = "".join(c if c.isprintable() else " " for c in str(value))
    return words if len(words) <= limit else words[:limit - 3] + "..."


def changed(what, name, before, after):
    """The message for a call that changed its argument `name` in place."""
    where = ""
    if after.shape == np.shape(before):
        differs = np.argwhere(~((after == before) | (np.isnan(after) & np.isnan(before))))
        if len(differs):
            i = tuple(int(k) for k in differs[0])
            where = f": {name}{list(i)} went from {before[i]:.6g} to {after[i]:.6g}"
    return (f"{what} changed its input {name} in place{where}; the caller still needs it: "
            "compute a new array (x = x * m, not x *= m)")


@dataclass
class TestResult:
    """One test of one class.

    name: what was tested ("Affine(3, 4) on x of shape (1, 3)"); passed; problem: ""
    when passed, else a short name ("wrong forward", "wrong gradient", "changed its
    input", "raised", "not implemented", "memory limit", ...); message: what went
    wrong, in words and numbers; max_rel_error: the gradient check's worst relative
    error (None when no check ran).
    """
    name: str
    passed: bool
    problem: str = ""
    message: str = ""
    max_rel_error: float = None


@dataclass
class ClassGrade:
    """The grade of one contract class.

    name; points: what the class is worth; tests: every TestResult; problem: why
    the class failed as a whole ("missing", "not its own", "not implemented", "time
    limit", "memory limit", "ended", "crashed", "garbage", "import failed"), ""
    otherwise; hint:
    what to look at first; printed: bytes the class printed while graded (not shown);
    seconds: wall-clock time of its tests.
    """
    name: str
    points: float = 1.0
    tests: list = field(default_factory=list)
    problem: str = ""
    hint: str = ""
    printed: int = 0
    seconds: float = 0.0

    @property
    def passed_tests(self):
        return sum(test.passed for test in self.tests)

    @property
    def passed(self):
        return not self.problem and bool(self.tests) and self.passed_tests == len(self.tests)

    @property
    def score(self):
        """points times the fraction of tests passed; 0 when the class failed as a whole."""
        if self.problem or not self.tests:
            return 0.0
        return round(self.points * self.passed_tests / len(self.tests), 4)

    @property
    def max_rel_error(self):
        errors = [t.max_rel_error for t in self.tests if t.max_rel_error is not None]
        return max(errors) if errors else None

    @property
    def meaning(self):
        """The class's result in a few words."""
        if self.problem:
            return {"missing": "not graded: the file does not define it",
                    "not its own": "not graded: not defined by the submission",
                    "not implemented": "not written yet",
                    "import failed": "not graded: the file did not import",
                    "time limit": "stopped: time limit", "memory limit": "stopped: memory limit",
                    "ended": "stopped: the submission ended the grader's process",
                    "crashed": "stopped: the grading process crashed",
                    "garbage": "stopped: garbage on the grader's channel"}.get(
                        self.problem, self.problem)
        if self.passed:
            return "right"
        failing = [t.problem for t in self.tests if not t.passed]
        counts = {problem: failing.count(problem) for problem in dict.fromkeys(failing)}
        return ", ".join(f"{problem} ({count})" for problem, count in counts.items())


@dataclass
class Grade:
    """The grade of one submission.

    student: its id (a file's stem or a folder's name); source: the graded file;
    classes: one ClassGrade per graded class; notes: what else the grader noticed
    (lines dropped from a notebook, files written, operations refused, output);
    seconds: wall-clock time of the whole grading; isolation: how the submission's
    code was kept apart ("namespaces": the kernel's walls, see jail.py; "process":
    a separate, limited process only; "" when trusted classes ran in this process).
    """
    student: str
    source: str
    classes: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    isolation: str = ""

    @property
    def score(self):
        return round(sum(c.score for c in self.classes), 4)

    @property
    def max_score(self):
        return round(sum(c.points for c in self.classes), 4)

    @property
    def passed(self):
        return bool(self.classes) and all(c.passed for c in self.classes)

    def __str__(self):
        return self.format()

    def format(self):
        """The grade as a table, the hints of the failing classes, and the notes."""
        header = ("class", "grade", "tests", "points", "worst rel error", "result")
        table = [header] + [
            (c.name, "PASS" if c.passed else "FAIL", f"{c.passed_tests}/{len(c.tests)}",
             f"{_number(c.score)}/{_number(c.points)}",
             "-" if c.max_rel_error is None else f"{c.max_rel_error:.1e}", c.meaning)
            for c in self.classes]
        widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
        lines = [f"grading {self.source}", ""]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()
                  for cells in table]
        lines.append("")
        for c in self.classes:
            if c.hint:
                lines.append(f"{c.name}: {c.hint}")
            if c.printed:
                lines.append(f"{c.name}: printed {c.printed} characters while graded (not "
                             "shown; remove debugging prints)")
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"score: {_number(self.score)}/{_number(self.max_score)}"
                     + (": all classes pass" if self.passed else ""))
        return "\n".join(lines)

    def to_dict(self):
        """Every detail, as JSON-ready values."""
        return {"student": self.student, "source": self.source, "score": self.score,
                "max_score": self.max_score, "passed": self.passed,
                "seconds": round(self.seconds, 3), "isolation": self.isolation,
                "notes": list(self.notes),
                "classes": [{"name": c.name, "passed": c.passed, "score": c.score,
                             "points": c.points, "problem": c.problem, "hint": c.hint,
                             "result": c.meaning, "tests_passed": c.passed_tests,
                             "tests_total": len(c.tests), "max_rel_error": c.max_rel_error,
                             "printed": c.printed, "seconds": round(c.seconds, 3),
                             "tests": [asdict(t) for t in c.tests]}
                            for c in self.classes]}

    def to_json(self):
        return dumps(self.to_dict())

    def gradescope(self):
        """Gradescope's autograder results (results.json): one test per class."""
        return {"score": self.score, "execution_time": round(self.seconds, 3),
                "output": "\n".join([f"minnet graded {self.source}"] + self.notes),
                "tests": [{"name": c.name, "score": c.score, "max_score": c.points,
                           "status": "passed" if c.passed else "failed",
                           "output": c.hint or c.meaning, "visibility": "visible"}
                          for c in self.classes]}


def dumps(value):
    """Strict JSON: NaN and infinities (a gradient check of NaN gradients) become null."""
    def clean(item):
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {key: clean(v) for key, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [clean(v) for v in item]
        return item
    return json.dumps(clean(value), indent=2, allow_nan=False)


def write_gradebook(grades, path, classes):
    """A CSV file: student,score,max_score, the points of each class, notes."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", *classes, "notes"])
        for grade in grades:
            earned = {c.name: c.score for c in grade.classes}
            writer.writerow([grade.student, _number(grade.score), _number(grade.max_score),
                             *[_number(earned.get(name, 0.0)) for name in classes],
                             "; ".join(grade.notes)])


def _number(value):
    """4 -> "4", 2.5 -> "2.5", 0.3333 -> "0.3333"."""
    return f"{value:.4f}".rstrip("0").rstrip(".")
