"""Grading: every test of every class, points and partial credit.

`grade_submission` grades a student's file (or notebook) in grading children (see
sandbox.py); `grade_classes` grades trusted classes in this process (minnet's own,
or the bug catalogue's), with the very same tests. Either way a class's tests all
run, and the class earns its points times the fraction it passed.
"""
from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable

import numpy as np

from . import cases
from .notebook import read_submission
from .result import ClassGrade, Grade, Judged, TestResult, text
from .sandbox import ChildLost, Limits, Session, StudentRaised
from .table import (ASSIGNMENTS, DEFAULT_ASSIGNMENT, ENTRIES, Entry, check_assignment,
                    classes_to_grade)
from .worker import fingerprint

DEFAULT_SEED = 0


def grade_submission(path: str | os.PathLike, classes: list[str] | None = None, *,
                     assignment: str | None = None, file: str | None = None,
                     points: dict[str, float] | None = None, seed: int = DEFAULT_SEED,
                     limits: Limits = Limits(), student: str | None = None) -> Grade:
    """Grade the contract classes a student's .py or .ipynb file defines; returns a Grade.

    path: a .py or .ipynb file (copied alone), or a folder (copied whole, with the
        student's helper modules) whose file to grade is `file` or its only .py/.ipynb
    classes: the contract names to grade; or
    assignment: the name of an assignment (table.ASSIGNMENTS: "mlp", "rnn", "cnn",
        "sequence"): its classes, and its optional ones the file defines;
        default, when neither is given: the classes of every assignment the file
        touches and any other graded class it defines (table.classes_to_grade)
    points: dict name -> points (default 1 per class)
    seed: draws the shapes and values of every test (an instructor may keep it secret)
    limits: what each grading child may use (sandbox.Limits)
    student: the id the grade carries (default: the file's stem or the folder's name)
    """
    start = time.perf_counter()
    _check_choice(classes, assignment)
    # the child reports which of these the file defines; the names to grade follow
    names = list(classes) if classes is not None else list(ENTRIES)
    _check_names(names)
    submission = read_submission(path, file)
    grade = Grade(student or submission.student, str(path), notes=list(submission.notes))
    session = Session(submission.folder, submission.file, submission.module, names, limits)
    try:
        try:
            session.start()
            origins = session.origins
        except ChildLost as lost:
            origins, session.import_error = {}, lost
        if classes is None:
            defined = {n for n in names if origins.get(n, {}).get("found")}
            names = session.names = classes_to_grade(defined, assignment)
        for name in names:
            grade.classes.append(_grade_in_session(session, name, origins, points, seed))
        grade.isolation = session.isolation
        if session.printed_on_import:
            grade.notes.append(f"importing the file printed {session.printed_on_import} "
                               "characters (not shown)")
        created = session.created_files()
        if created:
            grade.notes.append(f"the submission wrote files in its own folder: "
                               f"{', '.join(created[:5])}" + (" ..." if len(created) > 5 else ""))
        if session.refused:
            refused = list(dict.fromkeys(session.refused))
            grade.notes.append(f"refused {len(session.refused)} operation(s) the grader "
                               f"does not allow: {'; '.join(refused[:3])}")
    finally:
        session.close()
    for result in grade.classes:
        result.hint = submission.locate(result.hint)
        for test in result.tests:
            test.message = submission.locate(test.message)
    grade.seconds = time.perf_counter() - start
    return grade


def _grade_in_session(session, name, origins, points, seed):
    entry = ENTRIES[name]
    result = ClassGrade(name, _points(points, name),
                        planned_tests=len(tests_of(entry, seed)))
    origin = origins.get(name, {"found": False})
    if session.import_error is None and not origin.get("found"):
        result.problem, result.hint = "missing", f"the file defines no class {name}"
        return result
    if session.import_error is None and not origin.get("own"):
        result.problem = "not its own"
        result.hint = (f"{name} is not defined by the submission: its code comes from "
                       f"{text(origin.get('where'), 200)}")
        return result
    copied = _copied(entry, origin.get("fingerprints"))
    if session.import_error is None and copied:
        result.problem = "not its own"
        result.hint = (f"{name}.{copied} compiles to exactly the code of minnet's reference "
                       "implementation: it was copied, not written")
        return result
    printed = session.printed
    try:
        try:
            session.begin()  # a fresh child if the last one was lost: the file is imported again
        except ChildLost as lost:
            session.import_error = lost
        if session.import_error is not None:
            error = session.import_error
            result.problem = error.problem if isinstance(error, ChildLost) else "import failed"
            result.hint = f"importing the file failed: {_words(error)}"
            return result

        def make(*args, **kwargs):
            return session.new(name, args, kwargs, cases.Twin(entry, args, kwargs))

        _run_tests(entry, make, seed, result, session.limits)
    except ChildLost as lost:
        result.problem, result.hint = lost.problem, f"{_now(result)}{lost}"
        session.end_child()
    finally:
        result.printed = session.printed - printed
    return result


def ungradable(student: str, source: object, classes: list[str] | None,
               points: dict[str, float] | None, reason: str, assignment: str | None = None,
               seed: int = DEFAULT_SEED) -> Grade:
    """The Grade of a submission that could not be graded at all: zero, and why.
    Its classes: `classes`, else the assignment's (default: DEFAULT_ASSIGNMENT's), each
    with its tests (drawn from seed) counted and none passed."""
    names = classes or ASSIGNMENTS[assignment or DEFAULT_ASSIGNMENT].classes
    return Grade(student, str(source),
                 [ClassGrade(name, _points(points, name), problem="not graded", hint=reason,
                             planned_tests=len(tests_of(ENTRIES[name], seed)))
                  for name in names], notes=[f"not graded: {reason}"])


def grade_classes(classes: dict[str, type], names: list[str] | None = None, *,
                  assignment: str | None = None, points: dict[str, float] | None = None,
                  seed: int = DEFAULT_SEED, source: str = "classes") -> Grade:
    """Grade trusted classes in this process (minnet's own, or buggy_class ones).

    classes: dict contract name -> class; names: which to grade, or assignment: an
    assignment's classes (default: chosen as grade_submission chooses them, from the
    classes the dict holds). Never pass a student's code: grade_submission runs that
    where it cannot reach the grade.
    """
    start = time.perf_counter()
    _check_choice(names, assignment)
    if names is None:
        names = classes_to_grade({n for n in ENTRIES if isinstance(classes.get(n), type)},
                                 assignment)
    _check_names(names)
    grade = Grade(source, source)
    for name in names:
        result = ClassGrade(name, _points(points, name),
                            planned_tests=len(tests_of(ENTRIES[name], seed)))
        cls = classes.get(name)
        if not isinstance(cls, type):
            result.problem, result.hint = "missing", f"no class {name}"
        else:
            _run_tests(ENTRIES[name], cls, seed, result)
        grade.classes.append(result)
    grade.seconds = time.perf_counter() - start
    return grade


def tests_of(entry: Entry, seed: int) -> list[tuple[str, Callable]]:
    """Every test of a class: (name, run(make)) with run returning a TestResult.

    The shapes and values come from the grading seed and the class's name, so adding
    a class to the table changes no other class's tests.
    """
    rng = np.random.default_rng([seed, zlib.crc32(entry.name.encode())])
    kind = cases.loss_case if entry.loss else cases.layer_case
    tests = []
    for k, case in enumerate(entry.cases(rng)):
        tests.append((cases.describe(entry, case),
                      lambda make, case=case, k=k: kind(entry, case, make, _rng(seed, entry, k),
                                                        seed + k)))
    for k, case in enumerate(entry.nets):
        for repeat in range(2):
            tests.append((cases.describe(entry, case) + f", seed {repeat}",
                          lambda make, case=case, r=repeat: cases.net_case(
                              entry, case, make, _rng(seed, entry, 100 + r), seed + r)))
    for k, test in enumerate(entry.properties):
        tests.append((test.__doc__.split("\n")[0].rstrip("."),
                      lambda make, test=test, k=k: cases.property_case(
                          test, make, _rng(seed, entry, 200 + k))))
    return tests


def _run_tests(entry, make, seed, result, limits=None):
    """Run every test of entry, appending TestResults to result.

    A class whose code is not written yet (NotImplementedError) earns nothing, whatever
    else passed (a skeleton's given forward, say). ChildLost ends the class: so do
    sys.exit and running out of memory in a grading child (limits: its Limits).
    """
    start = time.perf_counter()
    try:
        for name, run in tests_of(entry, seed):
            try:
                test = run(make)
            except ChildLost:
                raise
            except Judged as error:
                test = TestResult("", False, error.problem, str(error))
            except StudentRaised as error:
                kind = error.details.get("type")
                if kind == "SystemExit":
                    raise ChildLost("ended", f"the submission ended the grading process "
                                             f"({_words(error)})") from None
                if kind == "MemoryError":
                    raise ChildLost("memory limit", f"memory limit ({limits.memory_mb} MB, "
                                    f"--memory): {_words(error)}") from None
                test = _raised(error, kind)
            except Exception as error:  # the checker's complaints, or trusted code raising
                test = _raised(error, type(error).__name__)
            test.name = name
            result.tests.append(test)
    finally:
        result.seconds = time.perf_counter() - start
    failing = [t for t in result.tests if not t.passed]
    if any(t.problem == "not implemented" for t in failing):
        result.problem = "not implemented"
    if failing:
        more = f" ({len(failing) - 1} more failing test(s))" if len(failing) > 1 else ""
        result.hint = f"{failing[0].name}: {failing[0].message}{more}"


def _copied(entry, fingerprints):
    """The name of the method (backward, or forward) whose compiled code is minnet's
    reference's own, or None. fingerprints: the submission's, by method name."""
    if not isinstance(fingerprints, dict):
        return None
    for method in ("backward", "forward"):
        code = getattr(getattr(entry.reference, method, None), "__code__", None)
        if code is not None and fingerprints.get(method) == fingerprint(code):
            return method
    return None


def _raised(error, kind):
    problem = {"NotImplementedError": "not implemented",
               "MemoryError": "memory limit"}.get(kind, "raised")
    return TestResult("", False, problem, _words(error))


def _words(error):
    """An exception as one line, with the student's own line when known."""
    if isinstance(error, (StudentRaised, ChildLost)):
        return str(error)
    text = f"{type(error).__name__}: {error}"
    return text


def _now(result):
    done = len(result.tests)
    return f"after {done} test(s): " if done else ""


def _rng(seed, entry, k):
    return np.random.default_rng([seed, zlib.crc32(entry.name.encode()), k])


def _points(points, name):
    return float((points or {}).get(name, 1.0))


def _check_choice(classes, assignment):
    check_assignment(assignment)
    if classes is not None and assignment is not None:
        raise ValueError(f"grade: give the classes to grade or an assignment, not both (got "
                         f"{', '.join(classes)} and {assignment!r})")


def _check_names(names):
    unknown = [name for name in names if name not in ENTRIES]
    if unknown:
        raise ValueError(f"grade: no contract class named {', '.join(unknown)}; the names are "
                         f"{', '.join(ENTRIES)}")
