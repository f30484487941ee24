"""Numbers as engineers read them: grouped digits, binary sizes, short dtype names."""

from __future__ import annotations

from pathlib import Path

from smlens.core.model.text import short_dtype

__all__ = ["format_name", "grouped", "human_bytes", "relative_to", "share", "short_dtype"]

FORMATS = {
    "saved_model": "SavedModel",
    "checkpoint": "Checkpoint",
    "meta_graph": "MetaGraph (.meta)",
    "graph_def": "GraphDef",
}


def format_name(fmt: str) -> str:
    """Model.format as people write it: "saved_model" -> "SavedModel"."""
    return FORMATS.get(fmt, fmt)


def human_bytes(n: int | None) -> str:
    """1536 -> "1.5 KiB"; sizes under 1 KiB stay exact."""
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


def counted(n: int, noun: str, plural: str = "") -> str:
    """ "1 op", "2 ops", "1,510 ops": ``n`` grouped, with the noun in its number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def grouped(n: int) -> str:
    return f"{n:,}"


def relative_to(path: str, base: Path | None) -> str:
    """``path`` relative to the model folder when it lies inside it."""
    if base is None:
        return path
    folder = base if base.is_dir() else base.parent
    try:
        return Path(path).relative_to(folder).as_posix() or Path(path).name
    except ValueError:
        return path
