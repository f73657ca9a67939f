"""Grading a whole class: 50 submissions with `--jobs 2`, and what isolation costs.

The class is generated: half the submissions are a correct self-written solution
(tests/submissions/honest.py), half carry one of ten catalogued bugs, written into
the source as a student would write them. The run checks that every correct one
earns full marks and every buggy one fails exactly the class its bug is in, then:

- the wall-clock time of `minnet grade --all` over the 50, with --jobs 2;
- the isolation overhead: one submission graded in grading children (the default)
  against the same classes graded in this process (grade_classes, which must never
  see untrusted code), timed side by side by the same rule, interleaved.

    python benchmarks/grade_speed.py       # prints a table, writes results/grade_speed.json
"""
import importlib.util
import os
import tempfile
import time
from pathlib import Path

from common import interleaved, save, table

from minnet.course.grade import grade_all, grade_classes, grade_submission

HONEST = (Path(__file__).parent.parent / "tests" / "submissions" / "honest.py").read_text()
STUDENTS = 50
# (catalogued bug, its class, the honest line, the line as the bug writes it)
BUGS = [
    ("affine-dW-doubled", "Affine", '"W": self.flat.T @ dout', '"W": 2 * (self.flat.T @ dout)'),
    ("affine-db-one-sample", "Affine", '"b": np.sum(dout, axis=0)', '"b": dout[0].copy()'),
    ("relu-mask-inverted", "ReLU", "np.where(self.positive, dout, 0.0)",
     "np.where(self.positive, 0.0, dout)"),
    ("sigmoid-derivative-s", "Sigmoid", "dout * self.s * (1 - self.s)", "dout * self.s"),
    ("tanh-derivative-one-minus-t", "Tanh", "1 - self.t * self.t", "1 - self.t"),
    ("dropout-no-scale", "Dropout", "return dout * self.mask", "return dout * (self.mask > 0)"),
    ("softmax-missing-1/N", "SoftmaxLoss", "return d / len(self.y)", "return d"),
    ("sigmoid-ce-sign-flip", "SigmoidCrossEntropy", "return (a - self.y) / len(self.z)",
     "return (self.y - a) / len(self.z)"),
    ("mse-missing-factor-2", "MSELoss", "return 2 * self.d / self.d.size",
     "return self.d / self.d.size"),
    ("affine-dx-sign-flip", "Affine", "return (dout @ self.params[\"W\"].T)",
     "return -(dout @ self.params[\"W\"].T)"),
]


def make_class(folder):
    """STUDENTS submissions in folder; returns student id -> the class its bug is in (or None)."""
    expected = {}
    for k in range(STUDENTS):
        student = f"student{k:02d}"
        source, target = HONEST, None
        if k % 2:
            name, target, right, wrong = BUGS[(k // 2) % len(BUGS)]
            assert source.count(right) == 1, name
            source = source.replace(right, wrong)
        (folder / f"{student}.py").write_text(source)
        expected[student] = target
    return expected


def in_process(path):
    """The submission's classes imported into this process: only for code we wrote."""
    spec = importlib.util.spec_from_file_location("benchmark_submission", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        expected = make_class(folder)
        start = time.perf_counter()
        grades = grade_all(folder, jobs=2)
        whole = time.perf_counter() - start
        for grade in grades:
            failed = [c.name for c in grade.classes if not c.passed]
            target = expected[grade.student]
            assert failed == ([target] if target else []), (grade.student, failed)
        print(f"{len(grades)} submissions graded with --jobs 2 in {whole:.1f} s "
              f"({whole / len(grades):.2f} s each); every correct one earned full marks, "
              "every buggy one failed exactly its class")

        honest, buggy = folder / "student00.py", folder / "student01.py"
        namespaces = {path: in_process(path) for path in (honest, buggy)}
        runs = {"isolated, correct": lambda: grade_submission(honest),
                "in process, correct": lambda: grade_classes(namespaces[honest]),
                "isolated, buggy": lambda: grade_submission(buggy),
                "in process, buggy": lambda: grade_classes(namespaces[buggy])}
        seconds = interleaved(runs, repeats=3, burst=0.0)
    rows = [(label, f"{seconds[label]:.3f}") for label in runs]
    print(table(("one submission, 8 classes", "seconds"), rows))
    overhead = {kind: seconds[f"isolated, {kind}"] / seconds[f"in process, {kind}"]
                for kind in ("correct", "buggy")}
    print("isolation overhead (isolated / in process): " +
          ", ".join(f"{kind} {ratio:.1f}x" for kind, ratio in overhead.items()))
    path = save("grade_speed.json", {
        "submissions": len(grades), "jobs": 2, "seconds_whole_class": round(whole, 2),
        "seconds_one_submission": {label: round(value, 4) for label, value in seconds.items()},
        "isolation_overhead": {kind: round(ratio, 2) for kind, ratio in overhead.items()},
        "cpus": os.cpu_count()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
