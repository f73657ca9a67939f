"""What the benchmarks share: timing side by side, tables, JSON, the reference data."""
import json
import os
import platform
import time

import numpy as np

import minnet
from minnet.datasets import load_digits, load_mnist_subset, standardize

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def interleaved(runs, repeats, pause=0.3, burst=0.1):
    """Time every run in turn, `repeats` rounds, so that load on the machine hits all alike.

    runs: dict label -> () -> anything; returns dict label -> its best round's time per call.
    Each round starts with a different run, and every run starts after a pause: the
    worker threads of a BLAS or of PyTorch keep spinning for a while after they are
    done, and would otherwise take CPU time from whichever run comes next. In a round,
    a run is called back to back until `burst` seconds have passed (once, if it takes
    longer), and its time is the mean over those calls: the same rule for every run.
    """
    labels = list(runs)
    best = dict.fromkeys(labels, np.inf)
    for round_ in range(repeats):
        for label in labels[round_ % len(labels):] + labels[:round_ % len(labels)]:
            time.sleep(pause)
            calls, start = 0, time.perf_counter()
            while calls == 0 or time.perf_counter() - start < burst:
                runs[label]()
                calls += 1
            best[label] = min(best[label], (time.perf_counter() - start) / calls)
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


def interleaved_rounds(runs, repeats, pause=0.3, burst=0.1):
    """Like `interleaved`, but every round is kept: dict label -> list of its time per call.

    repeats: the number of rounds, or a dict label -> rounds, for a run too slow to
    repeat as often as the rest (it sits out the last rounds, and its rounds are timed by
    the same rule as everyone's). The other rules are interleaved's: every round starts
    with a different run, each run starts after a pause, and a run is called back to
    back until `burst` seconds have passed (once, if it takes longer).
    """
    labels = list(runs)
    rounds = repeats if isinstance(repeats, dict) else dict.fromkeys(labels, repeats)
    times = {label: [] for label in labels}
    for round_ in range(max(rounds.values())):
        for label in labels[round_ % len(labels):] + labels[:round_ % len(labels)]:
            if round_ >= rounds[label]:
                continue
            time.sleep(pause)
            calls, start = 0, time.perf_counter()
            while calls == 0 or time.perf_counter() - start < burst:
                runs[label]()
                calls += 1
            times[label].append((time.perf_counter() - start) / calls)
    return times


def median(values):
    return float(np.median(values))


def load_package(path, name="minnet_before"):
    """The minnet package in folder `path` (an older version, say), imported as `name`."""
    import importlib.util
    import sys
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(path, "__init__.py"), submodule_search_locations=[path])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
