"""Progress and cancellation: one definition for every slow step in core.

A slow step is a plain function ``f(..., progress, cancelled)``: it reports
``progress(fraction, text)`` and polls ``cancelled()``; when that turns true it raises
``Cancelled`` and returns nothing (Orange3's ``concurrent.py`` contract). The window's task
runner supplies both hooks; tests pass plain callables.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]
CancelCheck = Callable[[], bool]


class Cancelled(Exception):
    """The step stopped because ``cancelled()`` turned true; there is no result."""


def check_cancelled(cancelled: CancelCheck | None, what: str = "") -> None:
    """Raise ``Cancelled`` when the hook says so."""
    if cancelled is not None and cancelled():
        raise Cancelled(what)


def no_progress(fraction: float, text: str = "") -> None:
    """The progress hook for callers that do not show progress."""
