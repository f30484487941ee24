"""The notice a TensorFlow feature shows when TensorFlow is not installed: the reason in
words (core/run/availability.py writes it) and a button that copies the install command.
The Run panel and the freeze and wrap dialogs show the same one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton

from smlens.core.run.availability import INSTALL_COMMAND


class TensorFlowNotice(QFrame):
    """A warning strip, hidden while there is nothing to say (``show_reason(None)``)."""

    copied = Signal()  # the install command is on the clipboard

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("problemFrame")
        self.setProperty("level", "warning")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy install command")
        self.copy_button.setToolTip(f"Copy {INSTALL_COMMAND} to the clipboard")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.copy_button)
        self.hide()

    def show_reason(self, reason: str | None) -> None:
        """Say ``reason`` (why the feature needs TensorFlow, with the command), or hide."""
        self.label.setText(reason or "")
        self.setVisible(bool(reason))

    def _on_copy_clicked(self) -> None:
        QApplication.clipboard().setText(INSTALL_COMMAND)
        self.copied.emit()
