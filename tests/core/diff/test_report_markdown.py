"""The pull-request report (report/markdown.py, report/html.py): the Markdown of a real
pair renders with a CommonMark parser (GitHub's tables on) into the verdict, the table of
areas and folded details; names from the model never turn into markup; the HTML page is
whole and fetches nothing."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from markdown_it import MarkdownIt

from smlens.cli.main import main
from smlens.core.diff.changes import Change, ModelDiff, ValueDelta
from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.outputs import (
    OutputsDiff,
    Tolerances,
    compare_signature,
    output_changes,
)
from smlens.core.diff.report.html import render_html
from smlens.core.diff.report.markdown import render_markdown
from smlens.core.diff.report.summary import SUMMARY_AREAS
from smlens.core.formats.reader import open_model


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


@pytest.fixture(scope="module")
def renamed_diff(models):
    root = models.path("pair_keras_renamed_layer")
    return diff_models(open_model(root / "a"), open_model(root / "b"))


def test_the_renamed_layer_report_renders_with_its_verdict_first(renamed_diff):
    tokens = _parser().parse(render_markdown(renamed_diff))

    inlines = [t for t in tokens if t.type == "inline"]
    # Same inputs and outputs, one more layer and one renamed (pairs.py): nothing breaks.
    verdict = next(t for t in inlines if t.children and t.children[0].content.startswith("🟢"))
    strong = [c.content for c in verdict.children if c.type == "text" and c.content.strip()]
    assert strong[-1].startswith("Compatible: nothing breaks clients of A (")
    headings = [t.content for t in inlines if "Compatible" in t.content]
    assert headings == [verdict.content]  # the verdict is said once, near the top


def test_the_table_of_areas_has_a_row_per_area(renamed_diff):
    html = _parser().render(render_markdown(renamed_diff))

    table = html.split("<table>")[1].split("</table>")[0]
    rows = [row.split("</td>")[0].removeprefix("<td>") for row in table.split("<tr>\n")[2:]]
    assert [area.replace("_", "-") for area in SUMMARY_AREAS] == [
        r for r in rows if r not in ("metadata", "tag-sets", "annotations")
    ]


def test_details_fold_each_area_and_name_the_renamed_layer(renamed_diff):
    text = render_markdown(renamed_diff)
    html = _parser().render(text)

    assert text.count("<details>") == text.count("</details>") >= 1
    variables = next(part for part in text.split("<details>") if "<summary>variables" in part)
    # pairs.py renames the output layer 'probs' to 'probabilities' and adds 'dense_extra'.
    assert "- **renamed** `probs/kernel`: variable 'probs/kernel' is 'probabilities/kernel'" in (
        variables
    )
    assert "- **added** `dense_extra/kernel`" in variables
    assert "<strong>renamed</strong> <code>probs/kernel</code>" in html


def test_each_side_s_release_is_listed(renamed_diff):
    html = _parser().render(render_markdown(renamed_diff))

    assert "<th>A needs</th>" in html and "<th>B needs</th>" in html
    assert "<td><code>serve</code></td>" in html


def _tiny_diff(name: str, reason: str) -> ModelDiff:
    diff = ModelDiff("a|b", "c")
    diff.groups["graph"].append(
        Change(("graph", "serve", name), "changed", [1], [2], "breaking", reason)
    )
    return diff


def test_names_from_the_model_stay_literal():
    diff = _tiny_diff("*x*|`y`", "node <b>*x*</b> | changed _here_ [link](http://e)")

    html = _parser().render(render_markdown(diff))

    item = html.split("<h4>Breaking changes (1)</h4>")[1].split("</li>")[0]
    assert "<code>graph/serve/*x*|`y`</code>" in item
    assert "node &lt;b&gt;*x*&lt;/b&gt; | changed _here_ [link](http://e)" in item
    assert "<em>" not in html and "<a " not in html and "<b>" not in html


class _Tags(HTMLParser):
    """The open-tag stack of a page, and every attribute that could fetch something."""

    VOID = frozenset({"meta", "br", "img", "link", "hr", "input"})

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.fetches: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)
        self.fetches += [v for k, v in attrs if k in ("src", "href")]

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_page_is_whole_and_self_contained(renamed_diff):
    tags = _Tags()
    tags.feed(render_html(renamed_diff))

    assert tags.stack == []
    assert tags.fetches == []
    assert any(t.startswith("Compatible: nothing breaks clients of A") for t in tags.text)


def test_the_html_page_escapes_names():
    tags = _Tags()
    tags.feed(render_html(_tiny_diff("<script>", "node <b>x</b>")))

    assert "script" not in tags.stack and tags.stack == []
    assert "graph/serve/<script>" in tags.text


@pytest.mark.parametrize("output", ["markdown", "html"])
def test_the_command_line_writes_the_report_and_keeps_its_exit_code(models, capsys, output):
    root = models.path("pair_widened_input")  # a narrower input: breaking, exit 1

    code = main(["diff", str(root / "a"), str(root / "b"), "--format", output])

    out = capsys.readouterr().out
    assert code == 1
    assert "BREAKING: clients of A will fail against B" in out


def _classifier_outputs_diff() -> ModelDiff:
    """Two runs of a two-class classifier: B flips the argmax of the second row only."""
    feed = {"x": np.zeros((2, 3), np.float32)}
    a = {"probs": np.array([[0.1, 0.9], [0.8, 0.2]], np.float32)}
    b = {"probs": np.array([[0.1, 0.9], [0.3, 0.7]], np.float32)}
    signature = compare_signature(
        "serve", "serving_default", "--fill normal, batch 2, seed 0", [(feed, a, b)], Tolerances()
    )
    diff = ModelDiff("a", "b")
    diff.outputs = OutputsDiff([signature])
    diff.groups["outputs"] = output_changes(diff.outputs)  # as cli/diff.py attaches them
    return diff


def _table_after(html: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading``, row by row."""
    table = html.split(heading)[1].split("<table>")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]


def test_the_report_opens_with_the_outputs_line_and_tables_each_output():
    text = render_markdown(_classifier_outputs_diff())
    html = _parser().render(text)

    paragraphs = [t.content for t in _parser().parse(text) if t.type == "inline"]
    assert paragraphs[2].startswith("🟠")  # the verdict, then the outputs line
    assert paragraphs[3] == "outputs: probs beyond tolerance on 1 of 2 inputs, top-1 agrees on 1"
    head, row = _table_after(html, "Outputs on the same inputs")
    assert head[:3] == ["signature", "output", "verdict"] and head[-1] == "top-1 agrees"
    # Row 2 moved by 0.5 in both classes: max and mean |Δ| 0.5 over the 4 elements / 2.
    assert row[0] == "<code>serve/serving_default</code>"
    assert row[2] == "🟠 <strong>beyond on 1 of 2 inputs</strong>"
    assert row[3:6] == ["0.5", "0.25", "2.5"]  # max rel: 0.5 / 0.2 at [1, 1]
    assert row[6] == "2 of 4"
    assert row[-1] == "1 of 2"


def test_the_html_page_tables_the_outputs_too():
    page = render_html(_classifier_outputs_diff())

    assert "<h2>Outputs on the same inputs</h2>" in page
    assert '<td class="risky">beyond on 1 of 2 inputs</td>' in page


def test_a_variable_that_was_all_zeros_says_so_instead_of_inf_percent():
    diff = ModelDiff("a", "b")
    diff.value_deltas["bias"] = ValueDelta(
        "bias", "bias", "bias", "float32", (8,), False, True, 8, 8, 0.03, 0.01, math.inf
    )
    text = render_markdown(diff)

    assert "inf%" not in text
    assert "| ∞ (A all zeros) |" in text
    assert "∞ (A all zeros)" in render_html(diff)
