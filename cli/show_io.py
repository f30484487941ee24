"""The feeds-and-fetches section ``smlens show`` prints after saved_model_cli's text, for
every meta graph that has no signature to call (a frozen GraphDef, a ``.meta``, a TF1
SavedModel's training tag-set). saved_model_cli's text above it stays line for line."""

from __future__ import annotations

from collections import Counter

from smlens.core.analysis.graph_io import Feed, GraphIO, graph_io
from smlens.core.model import MetaGraph, Model
from smlens.core.model.text import counted, tensor_type_text

LEFT_OUT_NAMES = 3  # names shown per reason; ``show --json`` lists every one


def render_graph_io(
    model: Model,
    *,
    all: bool = False,
    tag_set: str | None = None,
    signature_def: str | None = None,
    list_ops: bool = False,
) -> str:
    """The section for the meta graphs the flags show ("" when each has signatures, or
    when one signature is asked for)."""
    if signature_def is not None or (list_ops and not all and tag_set is None):
        return ""
    if tag_set is not None and not all:
        wanted = {t.strip() for t in tag_set.split(",") if t.strip()}
        shown = [mg for mg in model.meta_graphs if set(mg.tags) == wanted]
    else:
        shown = model.meta_graphs
    parts = [_section(mg) for mg in shown if not mg.callable_signatures]
    return "".join(parts)


def _section(mg: MetaGraph) -> str:
    io = graph_io(mg)
    lines = [
        "",
        f"MetaGraphDef with tag-set: '{', '.join(mg.tags)}' has no SignatureDefs; "
        "feeds and fetches found in its graph:",
    ]
    lines.append(f"  {counted(len(io.feeds), 'feed')}:" if io.feeds else "  feeds: none")
    lines += [f"    {_feed_text(f)}" for f in io.feeds]
    if io.fetches:
        lines.append(f"  {counted(len(io.fetches), 'fetch', 'fetches')}, likeliest first:")
        width = max(len(f.name) for f in io.fetches)
        digits = len(str(len(io.fetches)))
        for f in io.fetches:
            kind = tensor_type_text(f.dtype, f.shape.dims) if f.dtype else "?"
            rank = f"{f.rank}.".rjust(digits + 1)
            lines.append(f"    {rank} {f.name:<{width}}  {kind}  {f.op}: {f.reason}")
        nodes = ",".join(io.output_nodes)
        lines.append(f"  output node names (to freeze): {nodes}")
    else:
        lines.append("  fetches: none found")
    lines += _left_out_lines(io)
    return "\n".join(lines) + "\n"


def _feed_text(feed: Feed) -> str:
    text = f"{feed.tensor}  {tensor_type_text(feed.dtype, feed.shape.dims)}  {feed.op}"
    if feed.default:
        text += f", default {feed.default}"
        value = _small_value(feed)
        if value is not None:
            text += f" = {value}"
    return text


def _small_value(feed: Feed) -> str | None:
    if feed.default_value is None or (feed.default_value.shape.num_elements() or 0) > 8:
        return None
    try:
        value = feed.default_value.numpy()
    except Exception:  # a value that does not decode is simply not shown
        return None
    return repr(value.tolist())


def _left_out_lines(io: GraphIO) -> list[str]:
    if not io.left_out:
        return []
    by_reason: dict[str, list[str]] = {}
    for left in io.left_out:
        by_reason.setdefault(left.reason, []).append(left.name)
    counts = Counter({reason: len(names) for reason, names in by_reason.items()})
    total = counted(len(io.left_out), "sink or placeholder", "sinks and placeholders")
    lines = [f"  left out ({total}, by reason):"]
    for reason, n in counts.most_common():
        names = by_reason[reason][:LEFT_OUT_NAMES]
        more = f", +{n - len(names)} more" if n > len(names) else ""
        lines.append(f"    {reason} ({n}): {', '.join(names)}{more}")
    return lines
