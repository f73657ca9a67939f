"""What the benchmarks share: timing side by side, tables, JSON, the reference data."""
import json
import os
import platform
import time

import numpy as np

import minnet
from minnet.datasets import load_digits, load_mnist_subset, standardize

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def best_time(run, repeats):
    """The shortest of `repeats` timings of run(): the least disturbed by other processes."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(runs, repeats):
    """Time every run in turn, `repeats` rounds, so that load on the machine hits all alike.

    runs: dict label -> () -> anything; returns dict label -> the shortest time.
    """
    best = {label: np.inf for label in runs}
    for _ in range(repeats):
        for label, run in runs.items():
            start = time.perf_counter()
            run()
            best[label] = min(best[label], time.perf_counter() - start)
    return best


def table(header, rows):
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save(name, figures):
    os.makedirs(RESULTS, exist_ok=True)
    figures = dict(figures, machine={"python": platform.python_version(),
                                     "numpy": np.__version__, "cpus": os.cpu_count(),
                                     "minnet": minnet.__version__})
    path = os.path.join(RESULTS, name)
    with open(path, "w") as file:
        json.dump(figures, file, indent=2)
    return path


def digits():
    X, y = load_digits()
    return standardize(X), y


def mnist():
    X, y = load_mnist_subset()
    return standardize(X), y
