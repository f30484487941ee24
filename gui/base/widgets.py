"""The small widgets the panels, the tensor viewer and the compare window share.

Labels in the app's roles (muted text, a section heading, what an empty panel says), a
panel's content that gives way to such a placeholder, the fixed-width font, the sortable
row table with its read-only cells and the filter line above it, and the bar that splits a
size into its parts. ``resources/style.qss`` styles the roles, so every panel's captions
and headings look alike.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QPainterPath,
    QPalette,
    QStandardItem,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QWidget,
)

from smlens.core.model.text import human_bytes
from smlens.gui.base import theme

SORT_ROLE = Qt.ItemDataRole.UserRole  # what the proxy sorts by: numbers as numbers


def muted_label(text: str = "") -> QLabel:
    """A quiet label for counts, captions and summaries."""
    label = QLabel(text)
    label.setProperty("role", "muted")
    return label


def heading_label(text: str) -> QLabel:
    """A section's heading: bold, with a rule below it."""
    label = QLabel(text)
    label.setProperty("role", "heading")
    return label


def placeholder_label(text: str = "") -> QLabel:
    """What a panel says in place of its content when there is none: muted, centred and
    wrapped, so a narrow dock still shows all of it."""
    label = muted_label(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


class PlaceholderStack(QStackedWidget):
    """A panel's content, or in its place a placeholder saying why there is none."""

    def __init__(self, content: QWidget, text: str = "", max_width: int | None = None):
        """``max_width``: wrap the placeholder's text at this width, centred, rather than
        across the whole panel."""
        super().__init__()
        self.content = content
        self.placeholder = placeholder_label(text)
        self.addWidget(content)
        if max_width is None:
            self.addWidget(self.placeholder)
        else:
            self.placeholder.setMaximumWidth(max_width)
            page = QWidget()
            QHBoxLayout(page).addWidget(self.placeholder)
            self.addWidget(page)

    def show_content(self, shown: bool = True) -> None:
        """The content when ``shown``, else the placeholder."""
        self.setCurrentIndex(0 if shown else 1)

    def show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.show_content(False)

    @property
    def showing_placeholder(self) -> bool:
        return self.currentIndex() == 1


def problem_frame(label: QLabel, level: str = "error") -> QFrame:
    """A hidden strip in the problem bar's look (style.qss ``problemFrame``) around
    ``label``, which wraps and can be selected: where a view says what went wrong."""
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    frame = QFrame()
    frame.setObjectName("problemFrame")
    frame.setProperty("level", level)
    row = QHBoxLayout(frame)
    row.setContentsMargins(8, 6, 8, 6)
    row.addWidget(label, 1)
    frame.hide()
    return frame


def mono_font() -> QFont:
    """The system's fixed-width font, for values, code and tensor names."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def cell(text: str, sort=None, align=None) -> QStandardItem:
    """A read-only item showing ``text`` that sorts by ``sort`` (default: ``text``, any case)."""
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(text.lower() if sort is None else sort, SORT_ROLE)
    if align is not None:
        item.setTextAlignment(align)
    return item


def row_table(model, *, stretch_last: bool = True, word_wrap: bool = False) -> QTableView:
    """A sortable table over ``model`` that selects one whole row at a time, with compact
    rows and no row numbers: the panels' common list of things."""
    table = QTableView()
    table.setModel(model)
    table.setSortingEnabled(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(word_wrap)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(22)
    table.horizontalHeader().setStretchLastSection(stretch_last)
    table.horizontalHeader().setHighlightSections(False)
    return table


def filter_edit(placeholder: str, on_changed) -> QLineEdit:
    """The line above a table that filters it as the user types."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.textChanged.connect(on_changed)
    return edit


class SizeBar(QWidget):
    """A thin horizontal bar split by each part's share of the total, in the theme's part
    colours; its tooltip gives each part's size under its caption."""

    def __init__(self, captions: dict[str, str], parent: QWidget | None = None):
        super().__init__(parent)
        self.captions = captions
        self.parts: list[tuple[str, int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_parts(self, parts: list[tuple[str, int]]) -> None:
        """(part, bytes) in bar order; parts of no bytes are left out."""
        self.parts = [(name, n) for name, n in parts if n > 0]
        self.setToolTip(
            "\n".join(f"{self.captions[name]}: {human_bytes(n)}" for name, n in self.parts)
        )
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, 12)

    def paintEvent(self, event) -> None:
        total = sum(n for _, n in self.parts)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bounds = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        clip = QPainterPath()
        clip.addRoundedRect(bounds, 3, 3)
        painter.setClipPath(clip)
        painter.fillRect(bounds, self.palette().color(QPalette.ColorRole.Midlight))
        x = bounds.left()
        for name, n in self.parts:
            width = bounds.width() * n / total
            color = QColor(theme.current().part_color(name))
            painter.fillRect(QRectF(x, bounds.top(), width, bounds.height()), color)
            x += width
        painter.end()
