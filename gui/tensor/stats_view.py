"""A tensor's summary statistics as a compact grid of captions and values."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from smlens.core.analysis.stats import TensorStats
from smlens.gui.base.theme import current
from smlens.gui.base.widgets import muted_label

STAT_NAMES = ("min", "max", "mean", "std", "zeros", "NaN", "Inf", "count")
NUMERIC_STATS = STAT_NAMES[:7]
TIPS = {
    "min": "smallest finite value",
    "max": "largest finite value",
    "mean": "mean of the finite values",
    "std": "population standard deviation of the finite values",
    "zeros": "share of the values that are exactly zero",
    "NaN": "values that are NaN",
    "Inf": "values that are +Inf or -Inf",
    "count": "number of values",
}


def error_style() -> str:
    return "color: #ef9a9a;" if current().dark else "color: #c62828;"


def stat_texts(stats: TensorStats) -> dict[str, str]:
    """The text shown for each statistic: 6 significant digits, "—" when undefined."""

    def number(value) -> str:
        return "—" if value is None else f"{value:.6g}"

    zeros = stats.zero_fraction
    return {
        "min": number(stats.min),
        "max": number(stats.max),
        "mean": number(stats.mean),
        "std": number(stats.std),
        "zeros": "—" if zeros is None else f"{zeros:.2%}",
        "NaN": f"{stats.nan_count:,}",
        "Inf": f"{stats.inf_count:,}",
        "count": f"{stats.count:,}",
    }


class TensorStatsView(QWidget):
    """Two rows of four statistics; NaN and Inf counts turn red when not zero."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.labels: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        for i, name in enumerate(STAT_NAMES):
            caption = muted_label(name)
            caption.setToolTip(TIPS[name])
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setMinimumWidth(90)
            value.setToolTip(TIPS[name])
            row, col = divmod(i, 4)
            grid.addWidget(caption, row, 2 * col, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(value, row, 2 * col + 1)
            self.labels[name] = value
            self.captions[name] = caption
        grid.setColumnStretch(8, 1)

    def clear(self) -> None:
        for name, label in self.labels.items():
            label.setText("")
            label.setStyleSheet("")
            label.show()
            self.captions[name].show()

    def set_stats(self, stats: TensorStats, text: bool) -> None:
        """Show ``stats``; for strings only the count means anything."""
        for name in NUMERIC_STATS:
            self.captions[name].setVisible(not text)
            self.labels[name].setVisible(not text)
        for name, value in stat_texts(stats).items():
            self.labels[name].setText(value)
        for name in ("NaN", "Inf"):
            bad = getattr(stats, name.lower() + "_count") > 0
            self.labels[name].setStyleSheet(error_style() + " font-weight: bold;" if bad else "")
