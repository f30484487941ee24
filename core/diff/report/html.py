"""A diff as one self-contained HTML page, for a CI artifact:
``smlens diff A B --format html``.

The same content as the Markdown comment (review.py chooses it), with its style sheet
inline and nothing fetched: the page opens from a zip of build artifacts, offline.
"""

from __future__ import annotations

from html import escape

from smlens.core.diff.changes import ModelDiff, ValueDelta
from smlens.core.diff.report.markdown import TITLE
from smlens.core.diff.report.review import Review, ReviewEntry, relative_l2_text, review
from smlens.core.model.text import format_dims, short_dtype, tag_set_text

STYLE = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 2em auto; max-width: 980px; padding: 0 1em; color: #1f2328; }
code { font: 12px ui-monospace, "SF Mono", Menlo, Consolas, monospace;
       background: #f3f4f6; padding: 0 .3em; border-radius: 4px; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #d0d7de; padding: .25em .7em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.number { text-align: right; }
.verdict { font-size: 1.2em; font-weight: 600; padding: .5em .8em; border-radius: 6px; }
.breaking { background: #ffebe9; color: #a40e26; }
.risky { background: #fff8c5; color: #7d4e00; }
.ok { background: #dafbe1; color: #116329; }
.kind { font-weight: 600; }
details { margin: .4em 0; }
summary { cursor: pointer; font-weight: 600; }
.dim { color: #59636e; }
"""


def render_html(diff: ModelDiff) -> str:
    """The whole page."""
    report = review(diff)
    body = [
        f"<h1>{TITLE}</h1>",
        f"<p><code>{escape(report.a)}</code> → <code>{escape(report.b)}</code></p>",
        f'<p class="verdict {report.summary.style}">{escape(report.summary.verdict)}</p>',
    ]
    if report.outputs_line:
        body.append(f"<p>{escape(report.outputs_line)}</p>")
    if report.summary.detail:
        body.append(f"<p>{escape(report.summary.detail)}</p>")
    body += _areas_table(report)
    for severity, entries in report.flagged.items():
        if entries:
            body.append(f"<h2>{severity.capitalize()} changes ({len(entries)})</h2>")
            body.append(_items(entries))
    body += _outputs(report)
    body += _releases(report)
    body += _deltas(report)
    for area in report.areas:
        body.append(f"<details><summary>{escape(area.area.replace('_', '-'))}: ")
        body.append(f"{escape(area.line)}</summary>")
        if area.note:
            body.append(f"<p>{escape(area.note)}</p>")
        body.append(_items(area.entries))
        if area.more:
            body.append(
                f'<p class="dim">… {area.more} more (smlens diff --json lists every change)</p>'
            )
        body.append("</details>")
    if report.problems:
        body.append("<h2>Warnings</h2><ul>")
        body += [f"<li>{escape(p)}</li>" for p in report.problems]
        body.append("</ul>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{TITLE}: {escape(report.b)}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _areas_table(report: Review) -> list[str]:
    rows = ["<table><tr><th>area</th><th>changes</th></tr>"]
    for line in report.summary.areas:
        css = "" if line.changed else ' class="dim"'
        name = escape(line.area.replace("_", "-"))
        rows.append(f"<tr><td>{name}</td><td{css}>{escape(line.text)}</td></tr>")
    if report.summary.annotations:
        rows.append(
            f'<tr><td>annotations</td><td class="dim">{escape(report.summary.annotations)}'
            "</td></tr>"
        )
    rows.append("</table>")
    if report.identical or report.differing:
        text = "Byte-identical: " + (", ".join(report.identical) or "nothing")
        if report.differing:
            text += "; differ: " + ", ".join(report.differing)
        rows.append(f'<p class="dim">{escape(text)}</p>')
    return rows


def _items(entries: list[ReviewEntry]) -> str:
    items = [
        f'<li><span class="kind">{e.kind}</span> <code>{escape(e.path)}</code>: '
        f"{escape(e.text)}</li>"
        for e in entries
    ]
    return "<ul>" + "".join(items) + "</ul>"


def _outputs(report: Review) -> list[str]:
    if not report.outputs:
        return []
    rows = ["<h2>Outputs on the same inputs</h2>"]
    if report.outputs_inputs:
        rows.append(f'<p class="dim">Inputs: {escape(report.outputs_inputs)}</p>')
    heads = ["signature", "output", "verdict", "max |Δ|", "mean |Δ|", "max rel", "beyond"]
    heads += ["cosine", "top-1 agrees"]
    rows.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr>")
    for row in report.outputs:
        css = "ok" if row.within else "risky"
        figures = [row.max_abs, row.mean_abs, row.max_rel, row.beyond, row.cosine, row.top1]
        rows.append(
            f"<tr><td><code>{escape(row.signature)}</code></td>"
            f"<td><code>{escape(row.key)}</code></td>"
            f'<td class="{css}">{escape(row.verdict)}</td>'
            + "".join(f'<td class="number">{escape(f)}</td>' for f in figures)
            + "</tr>"
        )
    rows.append("</table>")
    return rows


def _releases(report: Review) -> list[str]:
    if not report.releases:
        return []
    rows = ["<h2>TensorFlow release each side needs</h2>"]
    rows.append("<table><tr><th>tag-set</th><th>A needs</th><th>B needs</th></tr>")
    for row in report.releases:
        a = escape(row.a_text) if row.a_text else "(not in A)"
        b = escape(row.b_text) if row.b_text else "(not in B)"
        if row.changed and row.b_text:
            b = f"<strong>{b}</strong>"
        tag_set = escape(tag_set_text(row.tag_set))
        rows.append(f"<tr><td><code>{tag_set}</code></td><td>{a}</td><td>{b}</td></tr>")
    rows.append("</table>")
    return rows


def _deltas(report: Review) -> list[str]:
    if not report.deltas:
        return []
    shown = len(report.deltas)
    of = f" (the {shown} largest of {report.deltas_moved})" if report.deltas_moved > shown else ""
    noun = report.delta_noun
    rows = [f"<h2>{noun.capitalize()}s with new values{of}</h2>", f"<table><tr><th>{noun}</th>"]
    rows[-1] += "<th>shape</th><th>changed</th><th>max abs</th><th>relative L2</th></tr>"
    rows += [_delta_row(d) for d in report.deltas]
    rows.append("</table>")
    return rows


def _delta_row(delta: ValueDelta) -> str:
    fraction = delta.changed_fraction
    cells = [
        f"<td><code>{escape(delta.name)}</code></td>",
        f"<td>{escape(format_dims(delta.shape))} {escape(short_dtype(delta.dtype))}</td>",
        f'<td class="number">{f"{fraction:.1%}" if fraction is not None else "?"}</td>',
        f'<td class="number">{"?" if delta.max_abs is None else f"{delta.max_abs:.4g}"}</td>',
        f'<td class="number">{escape(relative_l2_text(delta.relative_l2))}</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"
