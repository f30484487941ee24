"""Icons, the style sheet and the bundled sample model."""

from __future__ import annotations

from pathlib import Path


def sample_path() -> Path:
    """The bundled sample model (resources/sample, written by resources/make_sample.py)."""
    return Path(__file__).resolve().parent / "sample"
