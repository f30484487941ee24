"""How the model's facts read everywhere: one source for the command line and every panel.

Shapes print as numpy prints them, "(?, 10)", "(10,)", "()", with ? for an unknown dim;
dtypes as tf.dtypes names them, "float32". The graph view's compact node labels
("f32[?,28,28,1]") are the one deliberate exception, drawn by ``compact_tensor_text``.
Counts agree with their noun and group their thousands ("1,510 ops"), byte sizes are
binary ("1.5 KiB"), shares never round a part away ("<1 %"), and paths read relative to
the model folder they lie in.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from smlens.core.model.dtypes import dtype

UNKNOWN_RANK = "<unknown rank>"


def format_dims(dims: Iterable[int | None] | None) -> str:
    """A shape as numpy prints it, unknown dims as ?: "(?, 10)", "(10,)", "()"."""
    if dims is None:
        return UNKNOWN_RANK
    dims = tuple(dims)
    text = ", ".join("?" if d is None or d < 0 else str(d) for d in dims)
    return f"({text},)" if len(dims) == 1 else f"({text})"


def short_dtype(name: str) -> str:
    """ "DT_FLOAT" -> "float32", as tf.dtypes names it; "DT_UNKNOWN_-5" -> "unknown dtype -5";
    names that are no dtype pass through."""
    try:
        return dtype(name).text
    except KeyError:
        return name


def tensor_type_text(dtype_name: str, dims: Iterable[int | None] | None) -> str:
    """ "float32 (?, 10)": a tensor's dtype and shape, as signatures and run outputs show."""
    return f"{short_dtype(dtype_name)} {format_dims(dims)}"


FORMAT_NAMES = {
    "saved_model": "SavedModel",
    "checkpoint": "Checkpoint",
    "meta_graph": "MetaGraph (.meta)",
    "graph_def": "GraphDef",
}


def format_name(fmt: str) -> str:
    """Model.format as people write it: "saved_model" -> "SavedModel"."""
    return FORMAT_NAMES.get(fmt, fmt)


def tag_set_text(tag_set: str) -> str:
    """A meta graph's tag-set as text: "serve", "serve,gpu", or "(no tags)" for a graph that
    has none (a frozen GraphDef, a ``.meta`` written without tags)."""
    return tag_set or "(no tags)"


def grouped(n: int) -> str:
    """1510 -> "1,510"."""
    return f"{n:,}"


def counted(n: int, noun: str, plural: str = "") -> str:
    """ "1 op", "2 ops", "1,510 ops": ``n`` grouped, with the noun in its number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def human_bytes(n: int | None) -> str:
    """1536 -> "1.5 KiB": binary units up to TiB; sizes under 1 KiB stay exact ("512 B")."""
    if n is None:
        return "?"
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def share(n: int, total: int) -> str:
    """n as a whole percentage of total that never rounds a part away: "<1 %", ">99 %"."""
    if not total or not n:
        return "0 %"
    pct = 100 * n / total
    if pct < 0.5:
        return "<1 %"
    if pct > 99.5 and n < total:
        return ">99 %"
    return f"{pct:.0f} %"


def relative_to(path: str, base: Path | None) -> str:
    """``path`` relative to the model folder (``base``, or the folder of the file it names)
    when it lies inside it; else as given."""
    if base is None:
        return path
    folder = base if base.is_dir() else base.parent
    try:
        return Path(path).relative_to(folder).as_posix() or Path(path).name
    except ValueError:
        return path
