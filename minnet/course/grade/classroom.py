"""Grading a whole class: every submission in a folder, in parallel, into a gradebook.

    grades = grade_all("submissions/", jobs=2)
    write_gradebook(grades, "gradebook.csv", class_names(grades))

Each entry of the folder is one submission: a .py or .ipynb file (the student id is
its stem) or a folder (the student id is its name; the file graded is `file`, or its
only .py or .ipynb). A submission that cannot be graded gets a row with its reason,
and the run goes on.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

from .grader import DEFAULT_SEED, _check_choice, grade_submission, ungradable
from .result import Grade
from .sandbox import Limits


def submissions_in(folder: str | os.PathLike) -> list[tuple[str, str]]:
    """(student id, path) for every entry of folder, sorted by id; hidden entries skipped."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"no such folder: {folder}")
    found = []
    for name in sorted(os.listdir(folder)):
        if name.startswith(".") or name == "__pycache__":
            continue
        path = os.path.join(folder, name)
        student = name if os.path.isdir(path) else os.path.splitext(name)[0]
        found.append((student, path))
    return found


def grade_all(folder: str | os.PathLike, classes: list[str] | None = None, *,
              assignment: str | None = None, file: str | None = None, jobs: int | None = None,
              points: dict[str, float] | None = None, seed: int = DEFAULT_SEED,
              limits: Limits = Limits(),
              progress: Callable[[str], object] | None = None) -> list[Grade]:
    """Grade every submission in folder; returns their Grades, sorted by student id.

    jobs: submissions graded at once, each in its own grading process (default: the
    number of CPUs); progress(line): called once per submission as it finishes.
    The other arguments are grade_submission's.
    """
    _check_choice(classes, assignment)  # a wrong name is the caller's error, not each student's
    entries = submissions_in(folder)
    jobs = jobs or os.cpu_count() or 1
    options = dict(classes=classes, assignment=assignment, file=file, points=points, seed=seed,
                   limits=limits)
    grades = []

    def finished(grade):
        grades.append(grade)
        if progress is not None:
            progress(_progress_line(grade, len(grades), len(entries)))

    if jobs == 1 or len(entries) <= 1:
        for student, path in entries:
            finished(_grade_one(student, path, options))
    else:
        # Grading processes of our own: the checker's arithmetic runs in parallel too.
        # (They run no student code: each starts its own grading children.)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(_grade_one, student, path, options): (student, path)
                       for student, path in entries}
            for future in as_completed(futures):
                student, path = futures[future]
                try:
                    grade = future.result()
                except Exception as error:  # the grading process itself died: go on
                    grade = ungradable(student, path, options["classes"], options["points"],
                                       f"the grader failed: {type(error).__name__}: {error}",
                                       assignment, seed)
                finished(grade)
    return sorted(grades, key=lambda grade: grade.student)


def class_names(grades: list[Grade]) -> list[str]:
    """The graded class names, in the order they first appear."""
    return list(dict.fromkeys(c.name for grade in grades for c in grade.classes))


def _grade_one(student, path, options):
    names, assignment, points = options["classes"], options["assignment"], options["points"]
    try:
        return grade_submission(path, names, assignment=assignment, file=options["file"],
                                points=points, seed=options["seed"], limits=options["limits"],
                                student=student)
    except (FileNotFoundError, ValueError) as error:
        return ungradable(student, path, names, points, str(error), assignment,
                          options["seed"])
    except Exception as error:  # a fault of the grader itself: say so, and go on
        return ungradable(student, path, names, points,
                          f"the grader failed: {type(error).__name__}: {error}", assignment,
                          options["seed"])


def _progress_line(grade, done, total):
    failing = [c for c in grade.classes if not c.passed]
    detail = f"; {failing[0].name}: {failing[0].meaning}" if failing else ""
    if len(failing) > 1:
        detail += f" (+{len(failing) - 1} more)"
    return (f"[{done}/{total}] {grade.student}: {grade.score:g}/{grade.max_score:g} "
            f"({grade.seconds:.1f} s){detail}")
