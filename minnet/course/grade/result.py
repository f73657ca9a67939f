"""A grade, as a table, as HTML, as JSON, as a Gradescope results file and as a gradebook
row. Each shows a class's tests as passed/total: total counts every test the class has,
also those a class stopped as a whole (a memory limit, say) never reached."""
from __future__ import annotations

import csv
import html
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ...checker.compare import band
from ...checker.report import BAND_COLORS, RESULT_COLORS


class Judged(Exception):
    """A call the grader caught doing something wrong (returning a wrong output,
    changing its input in place): the test fails there, with this problem and message."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def text(value: object, limit: int) -> str:
    """Words that came from a submission, safe to show: one line, printable, at most
    `limit` characters (a message cannot fake a score line or clear the screen)."""
    words = "".join(c if c.isprintable() else " " for c in str(value))
    return words if len(words) <= limit else words[:limit - 3] + "..."


def changed(what: str, name: str, before: np.ndarray, after: np.ndarray) -> str:
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
    max_rel_error: float | None = None


@dataclass
class ClassGrade:
    """The grade of one contract class.

    name; points: what the class is worth; tests: every TestResult, of the tests
    that ran; planned_tests: how many tests the class has (all of them run, unless the
    class is stopped as a whole: then tests holds those that ran before); problem: why
    the class failed as a whole ("missing", "not its own", "not implemented", "time
    limit", "memory limit", "ended", "crashed", "garbage", "import failed"), ""
    otherwise; hint: what to look at first; printed: bytes the class printed while
    graded (not shown); seconds: wall-clock time of its tests.
    """
    name: str
    points: float = 1.0
    tests: list[TestResult] = field(default_factory=list)
    problem: str = ""
    hint: str = ""
    printed: int = 0
    seconds: float = 0.0
    planned_tests: int = 0

    @property
    def passed_tests(self) -> int:
        """How many tests the class passed."""
        return sum(test.passed for test in self.tests)

    @property
    def total_tests(self) -> int:
        """How many tests the class has, whether they ran or not: the `total` of the
        passed/total every report shows."""
        return max(self.planned_tests, len(self.tests))

    @property
    def tally(self) -> str:
        """passed/total, as every report shows it: "5/8"."""
        return f"{self.passed_tests}/{self.total_tests}"

    @property
    def passed(self) -> bool:
        """Whether the class passed every one of its tests (and was not stopped)."""
        return (not self.problem and self.total_tests > 0
                and self.passed_tests == self.total_tests)

    @property
    def score(self) -> float:
        """points times the fraction of tests passed; 0 when the class failed as a whole."""
        if self.problem or not self.total_tests:
            return 0.0
        return round(self.points * self.passed_tests / self.total_tests, 4)

    @property
    def max_rel_error(self) -> float | None:
        """The worst relative error of the gradient checks that ran (None if none ran)."""
        errors = [t.max_rel_error for t in self.tests if t.max_rel_error is not None]
        return max(errors) if errors else None

    @property
    def meaning(self) -> str:
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

    def _repr_html_(self) -> str:
        """The class's tests as an HTML table (Jupyter shows it): each test's result, its
        worst relative error colored by the course table's band, and its message."""
        rows = "".join(
            f"<tr><td>{_escape(t.name)}</td>{_result_cell('PASS' if t.passed else 'FAIL')}"
            f"<td>{_escape(t.problem)}</td>{_error_cell(t.max_rel_error)}"
            f"<td style='text-align:left'>{_escape(t.message)}</td></tr>"
            for t in self.tests)
        return (f"<div><p><b>{_escape(self.name)}</b>: {_escape(self.tally)} tests passed, "
                f"{_number(self.score)}/{_number(self.points)} points: "
                f"{_escape(self.meaning)}</p>"
                + (f"<p>{_escape(self.hint)}</p>" if self.hint else "")
                + "<table><tr><th>test</th><th>grade</th><th>problem</th>"
                "<th>worst rel error</th><th>message</th></tr>" + rows + "</table></div>")


HEADER = ("class", "grade", "tests", "points", "worst rel error", "result")


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
    classes: list[ClassGrade] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    isolation: str = ""

    @property
    def score(self) -> float:
        """The points earned, summed over the classes."""
        return round(sum(c.score for c in self.classes), 4)

    @property
    def max_score(self) -> float:
        """The points there were to earn, summed over the classes."""
        return round(sum(c.points for c in self.classes), 4)

    @property
    def passed(self) -> bool:
        """Whether every graded class passed every test (and some class was graded)."""
        return bool(self.classes) and all(c.passed for c in self.classes)

    def __str__(self) -> str:
        """The grade as format() shows it."""
        return self.format()

    def format(self) -> str:
        """The grade as a table, the hints of the failing classes, and the notes."""
        table = [HEADER] + [
            (c.name, "PASS" if c.passed else "FAIL", c.tally,
             f"{_number(c.score)}/{_number(c.points)}",
             "-" if c.max_rel_error is None else f"{c.max_rel_error:.1e}", c.meaning)
            for c in self.classes]
        widths = [max(len(cells[i]) for cells in table) for i in range(len(HEADER))]
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

    def _repr_html_(self) -> str:
        """The grade as an HTML table (Jupyter shows it): the columns of format(), each
        class's grade colored by its result and its worst relative error by the course
        table's band, then the hints and notes. Every word is escaped: class names,
        hints and messages can come from the submission."""
        head = "".join(f"<th>{name}</th>" for name in HEADER)
        rows = "".join(
            f"<tr><td>{_escape(c.name)}</td>{_result_cell('PASS' if c.passed else 'FAIL')}"
            f"<td>{_escape(c.tally)}</td>"
            f"<td>{_escape(_number(c.score))}/{_escape(_number(c.points))}</td>"
            f"{_error_cell(c.max_rel_error)}<td style='text-align:left'>"
            f"{_escape(c.meaning)}</td></tr>" for c in self.classes)
        notes = [f"{c.name}: {c.hint}" for c in self.classes if c.hint]
        notes += [f"note: {note}" for note in self.notes]
        items = "".join(f"<li>{_escape(note)}</li>" for note in notes)
        return (f"<div><p>grading {_escape(self.source)}</p><table><tr>{head}</tr>{rows}"
                "</table>" + (f"<ul>{items}</ul>" if items else "")
                + f"<p><b>score: {_number(self.score)}/{_number(self.max_score)}</b>"
                + (": all classes pass" if self.passed else "") + "</p></div>")

    def to_dict(self) -> dict:
        """Every detail, as JSON-ready values."""
        return {"student": self.student, "source": self.source, "score": self.score,
                "max_score": self.max_score, "passed": self.passed,
                "seconds": round(self.seconds, 3), "isolation": self.isolation,
                "notes": list(self.notes),
                "classes": [{"name": c.name, "passed": c.passed, "score": c.score,
                             "points": c.points, "problem": c.problem, "hint": c.hint,
                             "result": c.meaning, "tests_passed": c.passed_tests,
                             "tests_total": c.total_tests, "max_rel_error": c.max_rel_error,
                             "printed": c.printed, "seconds": round(c.seconds, 3),
                             "tests": [asdict(t) for t in c.tests]}
                            for c in self.classes]}

    def to_json(self) -> str:
        """Every detail (to_dict) as one strict JSON document."""
        return dumps(self.to_dict())

    def gradescope(self) -> dict:
        """Gradescope's autograder results (results.json): one test per class, its output
        starting with passed/total."""
        return {"score": self.score, "execution_time": round(self.seconds, 3),
                "output": "\n".join([f"minnet graded {self.source}"] + self.notes),
                "tests": [{"name": c.name, "score": c.score, "max_score": c.points,
                           "status": "passed" if c.passed else "failed",
                           "output": f"tests passed: {c.tally}. {c.hint or c.meaning}",
                           "visibility": "visible"}
                          for c in self.classes]}


def dumps(value: object) -> str:
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


def write_gradebook(grades: list[Grade], path: str, classes: list[str]) -> None:
    """A CSV file: student,score,max_score, the points of each class, the tests each
    class passed as passed/total (columns "NAME tests"; empty where the class was not
    graded), notes."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", *classes,
                         *[f"{name} tests" for name in classes], "notes"])
        for grade in grades:
            by_name = {c.name: c for c in grade.classes}
            writer.writerow([grade.student, _number(grade.score), _number(grade.max_score),
                             *[_number(by_name[name].score if name in by_name else 0.0)
                               for name in classes],
                             *[by_name[name].tally if name in by_name else ""
                               for name in classes],
                             "; ".join(grade.notes)])


def _escape(words):
    return html.escape(str(words), quote=True)


def _result_cell(result):
    return f"<td style='background:{RESULT_COLORS[result]};color:white'>{result}</td>"


def _error_cell(error):
    """A worst relative error, on the color of its band (none when no check ran)."""
    if error is None:
        return "<td>-</td>"
    if not math.isfinite(error):
        return f"<td style='background:{BAND_COLORS['wrong']}' title='wrong'>{error}</td>"
    name = band(error)
    return f"<td style='background:{BAND_COLORS[name]}' title='{name}'>{error:.1e}</td>"


def _number(value):
    """4 -> "4", 2.5 -> "2.5", 0.3333 -> "0.3333"."""
    return f"{value:.4f}".rstrip("0").rstrip(".")
