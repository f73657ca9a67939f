"""The autograder: grade students' layer classes, one submission or a whole class.

    minnet grade my_layers.py                  # a table; exit status 0 when all pass
    minnet grade my_cnn.py --assignment cnn    # the classes of one assignment
    minnet grade my_layers.py --json           # every detail, as one JSON document
    minnet grade --all submissions/ --csv gradebook.csv --jobs 2

A submission (a .py file, a notebook, or a folder) defines classes under the contract
names (Affine, ReLU, ..., Conv2D, ..., SoftmaxLoss, ...; see table.ENTRIES). An
assignment (table.ASSIGNMENTS: mlp, rnn, cnn, sequence) names the classes one skeleton
asks for; without --assignment the grader grades the classes of every assignment the
file touches, and any other contract class it defines. Each class is graded by
a list of tests drawn from a seed: its forward must match minnet's reference on the
grader's inputs, leave its inputs alone, and its backward must pass minnet's gradient
check, alone and inside a small Net of minnet's classes. A class earns its points
times the fraction of its tests passed.

Student code never runs in the grading process. It runs in a grading child (a fresh
interpreter in a private folder, with limits on memory, time and files, unable to
import minnet's reference code, and jailed by the kernel when the grader runs as
root on Linux), which only runs forward and backward on inputs the grader chooses and
sends back arrays; every number that decides the grade is computed here, and every
output the child sends is compared with minnet's own (sandbox.py, worker.py, jail.py).

The pieces: table (what is known about each class), cases (the tests), grader (a
submission's grade), sandbox and worker (the two sides of the isolation), jail (the
kernel's walls around a child, when the grader runs as root on Linux), wire (their
channel), notebook (what a submission is), classroom (a folder of submissions), result
(the grade as a table, JSON, Gradescope results and a gradebook).
"""
from .classroom import class_names, grade_all, submissions_in
from .grader import DEFAULT_SEED, grade_classes, grade_submission, tests_of, ungradable
from .result import ClassGrade, Grade, TestResult, write_gradebook
from .sandbox import Limits
from .table import ASSIGNMENTS, CORE, ENTRIES, classes_to_grade

__all__ = ["grade_submission", "grade_classes", "grade_all", "submissions_in", "class_names",
           "tests_of", "ungradable", "write_gradebook", "Grade", "ClassGrade", "TestResult",
           "Limits", "ENTRIES", "ASSIGNMENTS", "CORE", "classes_to_grade", "DEFAULT_SEED"]
