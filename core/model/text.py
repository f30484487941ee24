"""How shapes and dtypes read everywhere: one source for the command line and every panel.

Shapes print as numpy prints them, "(?, 10)", "(10,)", "()", with ? for an unknown dim;
dtypes as tf.dtypes names them, "float32". The graph view's compact node labels
("f32[?,28,28,1]") are the one deliberate exception, drawn by ``compact_tensor_text``.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    """ "DT_FLOAT" -> "float32", as tf.dtypes names it; unknown names pass through."""
    try:
        return dtype(name).short
    except KeyError:
        return name


def tensor_type_text(dtype_name: str, dims: Iterable[int | None] | None) -> str:
    """ "float32 (?, 10)": a tensor's dtype and shape, as signatures and run outputs show."""
    return f"{short_dtype(dtype_name)} {format_dims(dims)}"
