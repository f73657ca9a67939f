"""A CheckReport in a notebook: an HTML table of tensors, errors, bands and verdicts."""
import re

import numpy as np

from helpers import data, with_bug
from minnet import Net, check_net
from minnet.checker.compare import BANDS
from minnet.checker.report import BAND_COLORS, RESULT_COLORS, CheckReport, CheckRow


def rows_of(table):
    """The cells of every body row of an HTML table, as (attributes, text) pairs."""
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    return [re.findall(r"<td([^>]*)>(.*?)</td>", row) for row in body.split("</tr>") if row]


def test_every_band_has_a_color_and_every_result_too():
    assert set(BAND_COLORS) == {name for _, name in BANDS}
    assert set(RESULT_COLORS) == {"PASS", "FAIL", "cannot resolve"}


def test_the_table_has_a_row_per_tensor_with_its_error_band_color_and_verdict():
    X, y = data()
    report = check_net(with_bug(Net.mlp([5, 4, 3], seed=0), lambda g: {**g, "W2": 2 * g["W2"]}),
                       X, y)
    table = report._repr_html_()
    rows = rows_of(table)
    assert [cells[0][1] for cells in rows] == [row.name for row in report.rows]
    for cells, row in zip(rows, report.rows):
        (_, name), (_, error), (band_style, band), (verdict_style, verdict) = cells
        assert error == f"{row.max_rel_error:.2e}"
        assert band == row.band and f"background-color: {BAND_COLORS[row.band]}" in band_style
        assert verdict == row.result and f"color: {RESULT_COLORS[row.result]}" in verdict_style
    assert report["W2"].result == "FAIL" and report["W1"].result == "PASS"
    assert "<p>FAILED: W2</p>" in table
    assert "<th>relative error</th>" in table


def test_a_passing_report_says_so():
    table = check_net(Net.mlp([5, 4, 3], seed=0), *data())._repr_html_()
    assert all(cells[3][1] == "PASS" for cells in rows_of(table))
    assert "<p>PASSED: every gradient agrees with its numerical estimate</p>" in table


def test_names_are_escaped():
    row = CheckRow(name="<W&1>", shape=(2,), checked=2, kinks=0, one_sided=0,
                   max_rel_error=0.5, difference=0.5, band="wrong", result="FAIL", worst=[],
                   analytic=np.ones(2), quotients=np.ones(2))
    empty = CheckRow(name="b", shape=(0,), checked=0, kinks=0, one_sided=0, max_rel_error=0.0,
                     difference=0.0, band="", result="cannot resolve", worst=[], reason="empty")
    table = CheckReport([row, empty], step="h = <1e-5>")._repr_html_()
    assert "<W&1>" not in table and "&lt;W&amp;1&gt;" in table
    assert "h = &lt;1e-5&gt;" in table
    assert rows_of(table)[1] == [("", "b"), ("", "-"), ("", "-"),
                                 (f' style="color: {RESULT_COLORS["cannot resolve"]}; '
                                  'font-weight: bold"', "cannot resolve")]
    assert "<p>FAILED: &lt;W&amp;1&gt;</p>" in table
