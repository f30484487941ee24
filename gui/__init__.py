"""The PySide6 window over ``smlens.core``. Importing any part of it pins Python's
singletons against a reference leak in PySide6 6.12 (see ``_compat``)."""

from smlens.gui.base._compat import pin_singletons

pin_singletons()
