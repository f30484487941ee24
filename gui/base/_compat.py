"""Work-arounds for the pinned Qt binding, applied once when ``smlens.gui`` is imported."""

from __future__ import annotations

import ctypes
import sys


def pin_singletons() -> None:
    """PySide6 6.12.0 on CPython < 3.12 drops a reference to None (and at times True or
    False) on each call of a void C++ method; after some thousand calls the interpreter
    aborts with "none_dealloc". Give the singletons the immortality 3.12 gives them.
    Idempotent in effect: the added count only needs to be large."""
    if sys.version_info < (3, 12) and not getattr(sys, "_smlens_pinned", False):
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 30  # ob_refcnt, 1st field
        sys._smlens_pinned = True
