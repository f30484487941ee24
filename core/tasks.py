"""Progress and cancellation: one definition for every slow step in core.

A slow step is a plain function ``f(..., progress, cancelled)``: it reports
``progress(fraction, text)`` and polls ``cancelled()``; when that turns true it raises
``Cancelled`` and returns nothing (Orange3's ``concurrent.py`` contract). The window's task
runner supplies both hooks; tests pass plain callables.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector while many small acyclic objects are built: its
    passes over the growing heap cost three times the conversion of a million nodes.

    ``freeze``: then move everything alive out of its reach (``gc.freeze``), so later full
    passes do not rescan the model. A pass holds the GIL, and one falling on the UI thread
    after a 140,000-op model was read froze the window for 0.4-0.65 s. The price: reference
    cycles among frozen objects are not freed when the model is dropped (its acyclic parts
    are, by reference counting).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:  # also when collection was off: the window collects on a UI-thread timer
            gc.freeze()
        if was_enabled:
            gc.enable()
