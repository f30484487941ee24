"""pyqtgraph, imported on first use and set to the current theme.

Importing it costs 0.2 s of every start, and the window shows no plot until a tensor is
picked; modules that draw plots take ``pg`` from here, so the options are always set.
"""

from __future__ import annotations

import pyqtgraph as pg

from smlens.gui.base.theme import current


def configure() -> None:
    theme = current()
    pg.setConfigOptions(background=theme.base, foreground=theme.text, antialias=True)


configure()

__all__ = ["configure", "pg"]
