"""CheckReport: what a gradient check found, one row per tensor, readable and plottable."""
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from .compare import BANDS, MEANINGS, difference


@dataclass
class CheckRow:
    """The check of one tensor (a parameter such as W2, or a layer's input x).

    name, shape: the tensor; checked: coordinates compared; kinks: coordinates left
    out because steps to both sides crossed a kink; one_sided: compared coordinates
    next to a kink, judged with a one-sided difference; max_rel_error: the largest relative error
    among the compared coordinates; difference: the norm form over them; verdict:
    "excellent", "acceptable", "suspicious" or "wrong"; passed: whether every
    compared coordinate agrees within the numerical error of its difference
    quotient; worst: up to 3 (index, analytic, numerical) of the worst coordinates;
    note: what the numbers mean here. indices, analytic, numerical: the compared
    coordinates and both values at each.
    """
    name: str
    shape: tuple
    checked: int
    kinks: int
    one_sided: int
    max_rel_error: float
    difference: float
    verdict: str
    passed: bool
    worst: list
    note: str = ""
    indices: list = field(default_factory=list, repr=False)
    analytic: np.ndarray = field(default=None, repr=False)
    numerical: np.ndarray = field(default=None, repr=False)


@dataclass
class CheckReport:
    """The result of a gradient check.

    rows: one CheckRow per tensor; passed: every row passed; failed: names of the
    failing tensors; difference: the norm form over every compared coordinate;
    notes: what else the check noticed (sampling, dtype, regularization, ...).
    str(report) is a table; report.plot() draws the errors against the verdict bands.
    """
    rows: list
    method: str = "central"
    step: str = ""
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return all(row.passed for row in self.rows)

    @property
    def failed(self):
        return [row.name for row in self.rows if not row.passed]

    @property
    def difference(self):
        compared = [row for row in self.rows if row.checked]
        if not compared:
            return 0.0
        return difference(np.concatenate([row.analytic for row in compared]),
                          np.concatenate([row.numerical for row in compared]))

    def __getitem__(self, name):
        """report["W2"] is the row of W2."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row named {name!r}; the rows are {[row.name for row in self.rows]}")

    def __str__(self):
        return self.format(color=_terminal())

    def format(self, color=False):
        """The report as text; color=True adds ANSI colors to the verdicts."""
        paint = _painter(color)
        checked = sum(row.checked for row in self.rows)
        lines = [f"gradient check: {self.method} differences, {self.step}, "
                 f"{checked} coordinates compared"]
        header = ("tensor", "shape", "checked", "kinks", "max rel error", "verdict")
        table = [header] + [(row.name, str(row.shape), str(row.checked), str(row.kinks),
                             f"{row.max_rel_error:.2e}", row.verdict) for row in self.rows]
        widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
        for k, cells in enumerate(table):
            text = "  ".join(c.ljust(w) if i < 2 or i == 5 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))
            lines.append(paint(text, self.rows[k - 1].verdict) if k else text)
        for row in self.rows:
            if not row.passed:
                lines.append(f"{row.name}: {MEANINGS[row.verdict]}. Worst coordinates:")
                lines += [f"  {row.name}{list(index)}: analytic {a:.6g}, numerical {n:.6g}"
                          for index, a, n in row.worst]
            if row.note:
                lines.append(f"{row.name}: {row.note}")
        lines.append(f"difference (norm form over all compared coordinates): "
                     f"{self.difference:.3e}")
        lines += [f"note: {note}" for note in self.notes]
        if self.passed:
            lines.append(paint("PASSED: every gradient agrees with its numerical estimate",
                               "excellent"))
        else:
            lines.append(paint(f"FAILED: {', '.join(self.failed)}", "wrong"))
            lines.append("These gradients differ from their numerical estimates by more than "
                         "the numerical error can explain. Look at the backward code that "
                         "computes them, starting nearest the loss: a wrong gradient there "
                         "spoils every tensor before it.")
        return "\n".join(lines)

    def plot(self, ax=None):
        """A bar per tensor: its largest relative error, on a log scale, over the verdict bands.

        ax: a matplotlib Axes to draw on (default: a new figure). Returns the Axes.
        """
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(max(4, 0.6 * len(self.rows) + 2), 3.5))
        errors = [max(row.max_rel_error, 1e-17) for row in self.rows]
        colors = {"excellent": "#2a9d8f", "acceptable": "#e9c46a",
                  "suspicious": "#f4a261", "wrong": "#e76f51"}
        top = 1.0
        for threshold, name in BANDS:
            bottom = max(threshold, 1e-17)
            ax.axhspan(bottom, top, color=colors[name], alpha=0.15, zorder=0)
            ax.text(1.01, np.sqrt(bottom * top), name, transform=ax.get_yaxis_transform(),
                    va="center", fontsize=8)
            top = bottom
        ax.bar([row.name for row in self.rows], errors, zorder=2,
               color=[colors[row.verdict] if row.passed else "#c0392b" for row in self.rows])
        ax.set_yscale("log")
        ax.set_ylim(1e-17, 10)
        ax.set_ylabel("max relative error")
        ax.set_title("gradient check: " + ("passed" if self.passed else
                                            "failed: " + ", ".join(self.failed)))
        return ax


def _terminal():
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _painter(color):
    codes = {"excellent": "32", "acceptable": "33", "suspicious": "33", "wrong": "31"}
    if not color:
        return lambda text, verdict: text
    return lambda text, verdict: f"\033[{codes[verdict]}m{text}\033[0m"
