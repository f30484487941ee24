"""A row of buttons choosing which variables a table shows by role: the model's weights, the
optimizer's state, the metrics, or all of them, each with its count.

Exports saved mid-training hold twice the weights' size in optimizer moments and a page of
metric accumulators; the weights are what a reader looks for, the rest is one click away.
The Variables panel and the compare window's variables share this bar.
"""

from __future__ import annotations

from collections import Counter
from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget

from smlens.core.model.roles import ROLE_GROUPS, WEIGHTS_GROUP, role_group
from smlens.core.model.text import grouped

ALL = "all"
GROUP_TEXT = {
    "weights": "Weights",
    "optimizer": "Optimizer",
    "metrics": "Metrics",
    "other": "Other",
}
GROUP_TIPS = {
    "weights": "The model's own variables: kernels, biases, moving statistics",
    "optimizer": "What the optimizer keeps: moments per weight, iterations, learning rate",
    "metrics": "The compiled metrics' accumulators: count, total, true_positives...",
    "other": "The checkpoint's own counters and iterator states",
    ALL: "Every variable the checkpoint stores",
}


class RoleBar(QWidget):
    """Exclusive buttons, one per role group present plus "All"; hidden when every variable is
    a weight. ``group`` is the chosen group ("weights", "optimizer", ..., or "all")."""

    group_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.buttons: dict[str, QToolButton] = {}
        self._choices = QButtonGroup(self)
        self._choices.setExclusive(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for group in (*ROLE_GROUPS, ALL):
            button = QToolButton()
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(GROUP_TIPS[group])
            button.toggled.connect(partial(self._on_button_toggled, group))
            self._choices.addButton(button)
            layout.addWidget(button)
            self.buttons[group] = button
        layout.addStretch(1)
        self.group = ALL

    def set_roles(self, roles: list[str]) -> None:
        """Show the groups of ``roles`` (one entry per variable) with their counts, and choose
        the weights when there are any besides other roles, else all."""
        counts = Counter(role_group(r) for r in roles)
        for group, button in self.buttons.items():
            n = len(roles) if group == ALL else counts.get(group, 0)
            label = "All" if group == ALL else GROUP_TEXT[group]
            button.setText(f"{label} {grouped(n)}")
            button.setVisible(n > 0)
        mixed = len(counts) > 1
        self.setVisible(mixed)
        self.choose(WEIGHTS_GROUP if mixed and counts.get(WEIGHTS_GROUP) else ALL)

    def choose(self, group: str) -> None:
        """Check ``group``'s button; ``group_changed`` follows when the group changes."""
        self.buttons[group].setChecked(True)
        self._on_button_toggled(group, True)

    def _on_button_toggled(self, group: str, on: bool) -> None:
        if on and group != self.group:
            self.group = group
            self.group_changed.emit(group)

    def accepts(self, role: str) -> bool:
        """Whether a variable of ``role`` is shown under the chosen group."""
        return self.group == ALL or role in ROLE_GROUPS[self.group]
