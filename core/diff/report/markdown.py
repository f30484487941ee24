"""A diff as GitHub-flavoured Markdown, for a pull-request comment:
``smlens diff A B --format markdown``.

The verdict in bold, a table of areas, the breaking and risky changes with their reasons,
each area's other changes folded in ``<details>``, the largest value changes, the outputs
both exports computed on the same inputs (``--outputs``), and the TensorFlow release each
side needs. Text from the models (names, reasons) is escaped, so a
node called ``*x*`` or ``a|b`` stays literal and never breaks the table.
"""

from __future__ import annotations

import re

from smlens.core.diff.changes import ModelDiff, ValueDelta
from smlens.core.diff.report.review import Review, ReviewEntry, relative_l2_text, review
from smlens.core.model.text import format_dims, short_dtype, tag_set_text

TITLE = "SavedModel diff"
# What inline Markdown could read as markup mid-line (every escaped text follows other text
# on its line, so the line-start marks #, +, -, 1. never apply).
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_ICONS = {"breaking": "🔴", "risky": "🟠", "ok": "🟢"}


def escape(text: str) -> str:
    """``text`` with every character Markdown could read as markup backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def code(text: str, in_table: bool = False) -> str:
    """``text`` as a code span, fenced with more backticks than it holds; in a table,
    ``|`` escaped so it never ends the cell (GitHub reads ``\\|`` there as ``|`` even in
    code, and only there)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(diff: ModelDiff) -> str:
    """The whole comment."""
    report = review(diff)
    out = [f"### {TITLE}", "", f"{code(report.a)} → {code(report.b)}", ""]
    out += [_verdict(report), ""]
    if report.outputs_line:
        out += [escape(report.outputs_line), ""]
    if report.summary.detail:
        out += [escape(report.summary.detail), ""]
    out += _areas_table(report)
    for severity, entries in report.flagged.items():
        if entries:
            out += ["", f"#### {severity.capitalize()} changes ({len(entries)})", ""]
            out += [_item(e) for e in entries]
    out += _outputs(report)
    out += _releases(report)
    out += _deltas(report)
    for area in report.areas:
        out += ["", "<details>", f"<summary>{_summary_text(area.area, area.line)}</summary>", ""]
        if area.note:
            out += [escape(area.note), ""]
        out += [_item(e) for e in area.entries]
        if area.more:
            out.append(f"- … {area.more} more (`smlens diff --json` lists every change)")
        out += ["", "</details>"]
    if report.problems:
        out += ["", "#### Warnings", ""]
        out += [f"- {escape(p)}" for p in report.problems]
    out += [
        "",
        "<sub>smlens diff · changes no client or serving binary sees are counted, "
        "not listed · `smlens diff --json` is the whole diff</sub>",
    ]
    return "\n".join(out) + "\n"


def _verdict(report: Review) -> str:
    summary = report.summary
    return f"{_ICONS[summary.style]} **{escape(summary.verdict)}**"


def _areas_table(report: Review) -> list[str]:
    rows = ["| area | changes |", "|---|---|"]
    for line in report.summary.areas:
        rows.append(f"| {line.area.replace('_', '-')} | {escape(line.text)} |")
    if report.summary.annotations:
        rows.append(f"| annotations | {escape(report.summary.annotations)} |")
    if report.identical or report.differing:
        same = ", ".join(report.identical) or "nothing"
        rows += ["", f"Byte-identical: {escape(same)}"]
        if report.differing:
            rows[-1] += f"; differ: {escape(', '.join(report.differing))}"
    return rows


def _item(entry: ReviewEntry) -> str:
    return f"- **{entry.kind}** {code(entry.path)}: {escape(entry.text)}"


def _summary_text(area: str, line: str) -> str:
    """A ``<summary>`` holds HTML, not Markdown: only <, > and & need escaping."""
    text = f"{area.replace('_', '-')}: {line}"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _outputs(report: Review) -> list[str]:
    if not report.outputs:
        return []
    out = ["", "#### Outputs on the same inputs", ""]
    if report.outputs_inputs:
        out += [f"Inputs: {escape(report.outputs_inputs)}", ""]
    out += [
        "| signature | output | verdict | max \\|Δ\\| | mean \\|Δ\\| | max rel | beyond "
        "| cosine | top-1 agrees |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report.outputs:
        verdict = escape(row.verdict) if row.within else f"**{escape(row.verdict)}**"
        icon = _ICONS["ok" if row.within else "risky"]
        cells = [row.max_abs, row.mean_abs, row.max_rel, row.beyond, row.cosine, row.top1]
        out.append(
            f"| {code(row.signature, True)} | {code(row.key, True) if row.key else ''} "
            f"| {icon} {verdict} | " + " | ".join(escape(c) for c in cells) + " |"
        )
    return out


def _releases(report: Review) -> list[str]:
    if not report.releases:
        return []
    out = ["", "#### TensorFlow release each side needs", ""]
    out += ["| tag-set | A needs | B needs |", "|---|---|---|"]
    for row in report.releases:
        a = escape(row.a_text) if row.a_text else "(not in A)"
        b = escape(row.b_text) if row.b_text else "(not in B)"
        if row.changed and row.b_text:
            b = f"**{b}**"
        out.append(f"| {code(tag_set_text(row.tag_set), True)} | {a} | {b} |")
    return out


def _deltas(report: Review) -> list[str]:
    if not report.deltas:
        return []
    shown = len(report.deltas)
    of = f" (the {shown} largest of {report.deltas_moved})" if report.deltas_moved > shown else ""
    noun = report.delta_noun
    out = ["", f"#### {noun.capitalize()}s with new values{of}", ""]
    out += [f"| {noun} | shape | changed | max abs | relative L2 |", "|---|---|---:|---:|---:|"]
    out += [_delta_row(d) for d in report.deltas]
    return out


def _delta_row(delta: ValueDelta) -> str:
    shape = format_dims(delta.shape)
    fraction = delta.changed_fraction
    changed = f"{fraction:.1%}" if fraction is not None else "?"
    return (
        f"| {code(delta.name, True)} | {shape} {short_dtype(delta.dtype)} | {changed} "
        f"| {_number(delta.max_abs)} | {escape(relative_l2_text(delta.relative_l2))} |"
    )


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"
