"""CheckReport: what a gradient check found, one row per tensor, readable and plottable."""
from __future__ import annotations

import html
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from .compare import BANDS, difference


# The colors of the course table's bands and of a check's results: in the report's HTML
# table here, and in minnet.plot's figures and the grader's tables, which import them.
BAND_COLORS = {"excellent": "#2a9d8f", "acceptable": "#e9c46a",
               "suspicious": "#f4a261", "wrong": "#e76f51"}
RESULT_COLORS = {"PASS": "#2a9d8f", "FAIL": "#c0392b", "cannot resolve": "#999999"}


@dataclass
class CheckRow:
    """The check of one tensor (a parameter such as W2, or a layer's input x).

    checked: probes judged (coordinates, or directions in a fast check); kinks: left
    out because steps to both sides crossed a kink; one_sided: judged from one side of
    a kink a layer (or the loss) reports; detected_kinks: judged on a kink found from
    the numbers (nothing reports it); unresolved: not judged, their gradients too small
    (or f too noisy) for a difference quotient to tell right from wrong; along: "coordinates",
    or "directions" in a fast check (then indices are direction numbers).
    max_rel_error: the largest relative error over the judged probes; difference: the
    norm form of the plain difference quotients at the step asked for (the classic
    exercise's number), over the judged probes; band: the course table's name for
    max_rel_error alone ("excellent", "acceptable", "suspicious", "wrong"); result:
    "PASS", "FAIL" or "cannot resolve" (with reason: "tiny gradients", "noisy loss",
    "kinks", "copy", "empty"), from minnet's pass rule, which allows for the numerical
    error and nothing more;
    tolerance: the largest relative error that rule allowed here.
    worst: up to 3 (index, analytic, numerical) of the worst probes; indices,
    analytic, numerical: every judged probe, with the estimate it was judged by
    (extrapolated, or one-sided, where it took a closer look); quotients: the plain
    quotients at the step asked for; kinked: which of them sit at a kink; allowed:
    the error each was allowed; differs: which of them differ.
    pattern, factor, diagnosis: for a failing row, what kind of mistake its numbers
    show (see checker.diagnosis); None, None, "" otherwise.
    """
    name: str
    shape: tuple
    checked: int
    kinks: int
    one_sided: int
    max_rel_error: float
    difference: float
    band: str
    result: str
    worst: list
    detected_kinks: int = 0
    unresolved: int = 0
    along: str = "coordinates"
    reason: str = ""
    tolerance: float = 0.0
    pattern: str | None = None
    factor: float | None = None
    diagnosis: str = ""
    indices: list = field(default_factory=list, repr=False)
    analytic: np.ndarray | None = field(default=None, repr=False)
    numerical: np.ndarray | None = field(default=None, repr=False)
    quotients: np.ndarray | None = field(default=None, repr=False)
    kinked: list = field(default_factory=list, repr=False)
    allowed: np.ndarray | None = field(default=None, repr=False)
    differs: np.ndarray | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """True when the result is PASS."""
        return self.result == "PASS"


REASONS = {
    "tiny gradients": "its gradients are below what the check can resolve: float64 knows "
                      "the loss, and the analytic gradient itself, only to about eps * "
                      "max(|loss|, 1), and a change of the loss smaller than that over even "
                      "the largest sensible step is invisible to a difference quotient. "
                      "method='complex' resolves gradients the quotient cannot, down to "
                      "that limit; below it, check where the loss is not so small (before "
                      "training, or on samples the net still gets wrong)",
    "noisy loss": "the loss is too noisy (some computation in it runs in low precision) "
                  "for any step to resolve these gradients: check in float64 throughout, "
                  "or use method='complex'",
    "kinks": "every probe crosses a kink on both sides within a step (inputs of ReLU "
             "at exactly 0, say), where no difference quotient exists",
    "copy": "perturbing it changes nothing, yet its gradient is not zero: the layer "
            "seems to read its own copy of this parameter (self.W = params['W'] taken "
            "once) rather than the array in layer.params, which the check perturbs",
    "empty": "it has no entries to check",
}


@dataclass
class CheckReport:
    """The result of a gradient check.

    rows: one CheckRow per tensor; passed: every row PASS; failed: the FAIL rows'
    names; unresolved: the rows that cannot resolve; difference: the norm form over
    every judged probe; notes: what else the check noticed; suspects: for a Net, the
    indices in net.layers of the layers whose backward may hold the bug, nearest the
    loss first ("loss" for the loss's backward, "reg" for the regularization
    gradient). str(report) is a table; minnet.plot.check_report(report) draws it.
    """
    rows: list
    method: str = "central"
    step: str = ""
    notes: list = field(default_factory=list)
    suspects: list = field(default_factory=list)
    layer_names: dict = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        """True when there are rows and every one passed."""
        return bool(self.rows) and all(row.passed for row in self.rows)

    @property
    def failed(self) -> list[str]:
        """The names of the rows that FAIL."""
        return [row.name for row in self.rows if row.result == "FAIL"]

    @property
    def unresolved(self) -> list[str]:
        """The names of the rows that cannot resolve."""
        return [row.name for row in self.rows if row.result == "cannot resolve"]

    @property
    def difference(self) -> float:
        """The norm form over every judged probe, of the plain difference quotients at the
        step asked for: ||grad - approx|| / (||grad|| + ||approx||), as the classic
        exercise computes it."""
        compared = [row for row in self.rows if row.checked]
        if not compared:
            return 0.0
        return difference(np.concatenate([row.analytic for row in compared]),
                          np.concatenate([row.quotients for row in compared]))

    def __getitem__(self, name: str) -> CheckRow:
        """report["W2"] is the row of W2."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row named {name!r}; the rows are {[row.name for row in self.rows]}")

    def __str__(self) -> str:
        """The report as text (format), in color on a terminal unless NO_COLOR is set."""
        return self.format(color=_terminal())

    def format(self, color: bool = False, diagnosis: bool = True) -> str:
        """The report as text; color=True adds ANSI colors to the results; diagnosis=False
        leaves out what the numbers say about the mistake and where to look (a quiz
        asks that)."""
        paint = _painter(color)
        checked = sum(row.checked for row in self.rows)
        lines = [f"gradient check: {self.method} differences, {self.step}, "
                 f"{checked} probes judged"]
        header = ("tensor", "shape", "checked", "kinks", "max rel error", "band", "result")
        table = [header] + [(row.name, str(row.shape), str(row.checked), str(row.kinks),
                             f"{row.max_rel_error:.2e}" if row.checked else "-", row.band or "-",
                             row.result) for row in self.rows]
        widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
        for k, cells in enumerate(table):
            text = "  ".join(c.ljust(w) if i < 2 or i >= 5 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))
            lines.append(paint(text.rstrip(), self.rows[k - 1].result) if k else text.rstrip())
        for row in self.rows:
            if row.result == "FAIL":
                what = row.diagnosis if diagnosis and row.diagnosis else \
                    "differs from its numerical estimate"
                probes = "directions" if row.along == "directions" else "coordinates"
                lines.append(f"{row.name}: {what}. Worst {probes}:")
                lines += [f"  {row.name}{list(index)}: analytic {a:.6g}, numerical {n:.6g}"
                          for index, a, n in row.worst]
        lines += [f"note: {note}" for note in self._notes()]
        lines.append(f"difference (norm form over all judged probes): {self.difference:.3e}")
        if self.suspects and diagnosis:
            lines.append(self.suspect_sentence())
        if self.failed:
            lines.append(paint(f"FAILED: {', '.join(self.failed)}", "FAIL"))
        elif self.unresolved:
            lines.append(paint(f"NOT RESOLVED: {', '.join(self.unresolved)} could not be "
                               "judged (see the notes); the rest agree", "cannot resolve"))
        else:
            lines.append(paint("PASSED: every gradient agrees with its numerical estimate",
                               "PASS"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The report as an HTML table for notebooks: tensor, largest relative error, band
        (on its color) and verdict (in its color), then the summary line. Every text is
        escaped, so a tensor named "<W>" shows as such."""
        cells = []
        for row in self.rows:
            error = f"{row.max_rel_error:.2e}" if row.checked else "-"
            band = (f'<td style="background-color: {BAND_COLORS[row.band]}">'
                    f"{html.escape(row.band)}</td>" if row.band in BAND_COLORS
                    else f"<td>{html.escape(row.band or '-')}</td>")
            verdict = (f'<td style="color: {RESULT_COLORS.get(row.result, "inherit")}; '
                       f'font-weight: bold">{html.escape(row.result)}</td>')
            cells.append(f"<tr><td>{html.escape(row.name)}</td><td>{error}</td>{band}"
                         f"{verdict}</tr>")
        summary = (f"FAILED: {', '.join(self.failed)}" if self.failed else
                   f"NOT RESOLVED: {', '.join(self.unresolved)}" if self.unresolved else
                   "PASSED: every gradient agrees with its numerical estimate")
        caption = f"gradient check: {self.method} differences, {self.step}"
        return (f"<table><caption>{html.escape(caption)}</caption><thead><tr><th>tensor</th>"
                "<th>relative error</th><th>band</th><th>verdict</th></tr></thead>"
                f"<tbody>{''.join(cells)}</tbody></table><p>{html.escape(summary)}</p>")

    def suspect_sentence(self) -> str:
        """Where to look first, in words."""
        places = []
        for suspect in self.suspects:
            if suspect == "loss":
                places.append(f"the loss's backward ({self.layer_names.get('loss', 'the loss')})")
            elif suspect == "reg":
                places.append("the regularization gradient (Net.reg_gradient)")
            else:
                places.append(f"net.layers[{suspect}] ({self.layer_names.get(suspect, '?')})")
        return ("Look first at " + (places[0] if len(places) == 1 else
                                    ", then ".join(places)) + ", nearest the loss first.")

    def _notes(self):
        """The check's notes and its rows' notes, each sentence once with every tensor
        it is about."""
        grouped = {}
        for row in self.rows:
            for text in _row_notes(row):
                grouped.setdefault(text, []).append(row.name)
        notes = [f"{', '.join(names)}: {text}" for text, names in grouped.items()]
        suspicious = [row.name for row in self.rows
                      if row.passed and row.band in ("suspicious", "wrong")]
        if suspicious:
            worst = max((row for row in self.rows if row.name in suspicious),
                        key=lambda row: row.tolerance)
            verb = "passes" if len(suspicious) == 1 else "pass"
            notes.append(f"{', '.join(suspicious)} {verb} from the {worst.band} band: the course "
                         "table reads the relative error alone, but here the difference "
                         "quotient's own error (rounding and truncation, measured) is that "
                         f"large: up to {worst.tolerance:.1e} of the gradient for {worst.name}. "
                         "PASS means every probe agrees within that error")
        return notes + list(self.notes)


def _row_notes(row):
    """The sentences a row adds to its report (the report merges repeats)."""
    notes = []
    if row.result == "cannot resolve":
        notes.append(REASONS[row.reason])
    if row.one_sided:
        notes.append("coordinates within a step of a kink a layer or the loss reports (ReLU "
                     "at 0, a change of max-pool winner, an SVM margin at 0) were judged from "
                     "the side the analytic gradient belongs to")
    if row.detected_kinks:
        notes.append("coordinates sit on a kink nothing reports (the two one-sided slopes "
                     "differ and the analytic value is one of them, as at a LeakyReLU's 0 or "
                     "a hinge's tie): judged like the kinks layers report")
    if row.kinks and row.result != "cannot resolve":
        notes.append("coordinates with kinks on both sides within a step, where no "
                     "difference quotient exists, were left out (counted as kinks)")
    if row.unresolved and row.result != "cannot resolve":
        notes.append("some gradients were too small for the difference quotient to resolve "
                     "(its own error a tenth of the gradient or more) and were not judged; "
                     "the rest were")
    return notes


def _terminal():
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _painter(color):
    codes = {"PASS": "32", "cannot resolve": "33", "FAIL": "31"}
    if not color:
        return lambda text, result: text
    return lambda text, result: f"\033[{codes[result]}m{text}\033[0m"
