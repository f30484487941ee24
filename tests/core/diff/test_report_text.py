"""The diff as text (report/text.py) without the command line: a painter colours pieces by
style and never changes a word; the severity tally reads worst first."""

from __future__ import annotations

import re

from smlens.core.diff.changes import severity_tally
from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.report.summary import summarize
from smlens.core.diff.report.text import render_diff
from smlens.core.formats.reader import open_model

_OPEN, _CLOSE = "\x01", "\x03"


def _marking(style: str, text: str) -> str:
    return f"{_OPEN}{style}\x02{text}{_CLOSE}"


def test_painting_wraps_styled_pieces_and_changes_no_word(models):
    root = models.path("pair_widened_input")
    a, b = open_model(root / "a"), open_model(root / "b")
    diff = diff_models(a, b)

    plain = render_diff(diff, a, b)
    painted = render_diff(diff, a, b, paint=_marking)

    assert re.sub(f"{_OPEN}\\w+\x02|{_CLOSE}", "", painted) == plain
    summary = summarize(diff)
    assert summary.style == "breaking"
    assert _marking("breaking", summary.verdict) in painted
    for severity in ("breaking", "risky"):
        n = sum(c.severity == severity for c in diff.changes())
        assert n and _marking(severity, f"{severity.capitalize()} changes ({n})") in painted
    styles = set(re.findall(f"{_OPEN}(\\w+)\x02", painted))
    assert styles <= {"breaking", "risky", "ok", "area", "dim"}
    assert {"breaking", "risky", "area", "dim"} <= styles


def test_severity_tally_reads_worst_first_and_leaves_out_zeros():
    assert severity_tally({"info": 3, "risky": 0, "breaking": 1}) == "1 breaking, 3 info"
    assert severity_tally({}) == ""
