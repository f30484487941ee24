"""The checkpoint's variables as a sortable, filterable table, with the selected one's values."""

from __future__ import annotations

import re
from functools import partial

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QSplitter,
    QVBoxLayout,
)

from smlens.core.model import Model, Shape, Variable
from smlens.core.model.roles import role_caption, role_text
from smlens.core.model.text import counted, grouped, human_bytes, short_dtype
from smlens.gui.base.panel import Panel
from smlens.gui.base.role_bar import ALL, RoleBar
from smlens.gui.base.theme import current
from smlens.gui.base.widgets import SORT_ROLE, filter_edit, muted_label, row_table
from smlens.gui.tensor.view import TensorView

COLUMNS = (
    "Name",
    "Slot of",
    "DType",
    "Shape",
    "Params",
    "Bytes",
    "Trainable",
    "Role",
    "Key",
    "Also stored as",
    "Constant, read by",
)
NAME, SLOT_OF, DTYPE, SHAPE, PARAMS, BYTES, TRAINABLE, ROLE, KEY, ALIASES, READ_BY = range(
    len(COLUMNS)
)
NUMERIC = {PARAMS, BYTES}
HEADER_TIPS = {
    NAME: "The variable's name, resolved through the object graph",
    KEY: "The checkpoint key its values are stored under",
    PARAMS: "Number of elements",
    BYTES: "Size of the values in memory",
    TRAINABLE: "Whether training updates it (from the object graph)",
    ROLE: "Weight, optimizer state or scalar, metric: what the variable is for",
    SLOT_OF: "The weight this optimizer state belongs to, and which moment it is",
    ALIASES: "Other checkpoint keys holding the same tensor (Keras exports store each twice)",
    READ_BY: "Frozen weights: the op that reads the Const node (its key is the tensor name)",
}


def _shape_key(shape: Shape) -> tuple:
    return (-1, ()) if shape.dims is None else (len(shape.dims), shape.dims)


def filter_pattern(text: str) -> re.Pattern:
    """The filter as a case-insensitive regex; text that is no valid regex is a substring."""
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(text), re.IGNORECASE)


def parameter_count(model: Model) -> int:
    """Elements of the weights, each tensor once (Model.distinct_variables): Keras exports
    store every variable under two keys, and optimizer state and metrics are no parameters;
    and of the frozen constants."""
    return sum(v.num_elements for v in model.tensors() if v.is_weight)


class VariableTableModel(QAbstractTableModel):
    """One row per stored tensor. ``SORT_ROLE`` gives sortable values (numbers for numbers);
    ``aliases`` holds each row's other checkpoint keys."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.variables: list[Variable] = []
        self.aliases: dict[str, list[str]] = {}

    def set_variables(
        self, variables: list[Variable], aliases: dict[str, list[str]] | None = None
    ) -> None:
        self.beginResetModel()
        self.variables = list(variables)
        self.aliases = aliases or {}
        self.endResetModel()

    def row_of(self, key: str) -> int | None:
        """The row that stores checkpoint key ``key``, as its first key or as an alias."""
        for row, var in enumerate(self.variables):
            if var.key == key or key in self.aliases.get(var.key, ()):
                return row
        return None

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.variables)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            side = Qt.AlignmentFlag.AlignRight if section in NUMERIC else Qt.AlignmentFlag.AlignLeft
            return int(side | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        var = self.variables[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(var, col)
        if role == SORT_ROLE:
            return self._sort_value(var, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not var.is_weight:
            return QColor(current().muted)  # training state: shown, but secondary
        if role == Qt.ItemDataRole.FontRole and var.constant and col == NAME:
            font = QFont()
            font.setItalic(True)  # a frozen weight, not a checkpoint variable
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(var)
        return None

    def _text(self, var: Variable, col: int) -> str:
        if col == NAME:
            return var.name
        if col == KEY:
            return var.key
        if col == ALIASES:
            return ", ".join(self.aliases.get(var.key, ()))
        if col == DTYPE:
            return short_dtype(var.dtype)
        if col == SHAPE:
            return str(var.shape)
        if col == PARAMS:
            return grouped(var.num_elements)
        if col == BYTES:
            return "" if var.nbytes is None else human_bytes(var.nbytes)
        if col == TRAINABLE:
            return "frozen" if var.constant else {True: "yes", False: "no", None: ""}[var.trainable]
        if col == ROLE:
            return role_text(var.role)
        if col == READ_BY:
            return var.consumer if var.constant else ""
        if var.slot_of is None:  # SLOT_OF
            return ""
        return f"{var.slot_of} ({var.slot_name})" if var.slot_name else var.slot_of

    def _sort_value(self, var: Variable, col: int):
        if col == PARAMS:
            return var.num_elements
        if col == BYTES:
            return -1 if var.nbytes is None else var.nbytes
        if col == SHAPE:
            return str(_shape_key(var.shape))
        return self._text(var, col).lower()

    def _tooltip(self, var: Variable) -> str:
        lines = [var.name, f"key: {var.key}"]
        if var.constant:
            lines.append(f"a frozen weight: the Const node {var.name}, read by {var.consumer}")
        aliases = self.aliases.get(var.key, ())
        if aliases:
            lines.append("also stored as: " + ", ".join(aliases))
            lines.append("(the same tensor under another checkpoint key, as Keras exports do)")
        if var.object_path:
            lines.append(f"object path: {var.object_path}")
        if var.slot_of:
            slot = f" ({var.slot_name})" if var.slot_name else ""
            lines.append(f"optimizer state{slot} of the weight {var.slot_of}")
        if var.sliced:
            lines.append("partitioned: stored as slices")
        if var.device:
            lines.append(f"device: {var.device}")
        return "\n".join(lines)


class VariableFilterProxy(QSortFilterProxyModel):
    """Keeps rows of the chosen roles whose name or key matches the pattern; sorts by
    ``SORT_ROLE``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._pattern: re.Pattern | None = None
        self._accepts_role = None  # role -> bool; None keeps every role

    def set_role_test(self, accepts) -> None:
        self.beginFilterChange()
        self._accepts_role = accepts
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_filter_text(self, text: str) -> None:
        self.beginFilterChange()
        self._pattern = filter_pattern(text) if text else None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        source = self.sourceModel()
        var = source.variables[row]
        if self._accepts_role is not None and not self._accepts_role(var.role):
            return False
        if self._pattern is None:
            return True
        keys = [var.key, *source.aliases.get(var.key, ())]
        return bool(self._pattern.search(var.name) or any(map(self._pattern.search, keys)))

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a == b:  # ties keep the name order, so equal sizes stay readable
            return self.sourceModel().variables[left.row()].name < (
                self.sourceModel().variables[right.row()].name
            )
        return a < b


SIDE_BY_SIDE_WIDTH = 800  # px: from here the values sit beside the table, not under it


class VariablePanel(Panel):
    """Variables: name, key, dtype, shape, size, trainable, slot; values of the selected one."""

    title = "Variables"
    part = "variables"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tensor_shown = False  # a tensor was chosen: the values pane gets its share
        self.table_model = VariableTableModel(self)
        self.proxy = VariableFilterProxy(self)
        self.proxy.setSourceModel(self.table_model)

        self.filter_edit = filter_edit("Filter by name or key (regex)", self._on_filter_changed)
        self.count_label = muted_label()
        self.role_bar = RoleBar()
        self.role_bar.group_changed.connect(self._on_role_group_changed)
        self.proxy.set_role_test(self.role_bar.accepts)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)

        self.table = row_table(self.proxy, stretch_last=False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keys differ mid-way
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)

        self.tensor_view = TensorView()
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.tensor_view)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.role_bar)
        layout.addWidget(splitter, 1)

    def show_model(self, model: Model | None) -> None:
        groups = model.variable_groups() if model else []
        constants = model.constants() if model else []
        self.table_model.set_variables(
            [g[0] for g in groups] + constants,
            {g[0].key: [v.key for v in g[1:]] for g in groups if g[1:]},
        )
        variables = self.table_model.variables
        self.role_bar.set_roles([v.role for v in variables])
        self.proxy.set_role_test(self.role_bar.accepts)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self._show_role_columns()
        self.table.setColumnHidden(TRAINABLE, all(v.trainable is None for v in variables))
        self.table.setColumnHidden(ALIASES, not self.table_model.aliases)
        self.table.setColumnHidden(READ_BY, not any(v.constant for v in variables))
        self._fit_columns()
        self._tensor_shown = False
        self._fit_split()
        self.tensor_view.set_protected_folder(model.path if model else None)
        self.tensor_view.clear()
        self._update_count()

    def select_variable(self, key: str) -> bool:
        """Select the variable with checkpoint key ``key`` and scroll to it (clearing a
        filter that hides it); a key the row stores as an alias finds it too. False when the
        model has no such variable."""
        row = self.table_model.row_of(key)
        if row is None:
            return False
        source = self.table_model.index(row, NAME)
        if not self.role_bar.accepts(self.table_model.variables[row].role):
            self.role_bar.choose(ALL)
        if not self.proxy.mapFromSource(source).isValid():
            self.filter_edit.clear()
        index = self.proxy.mapFromSource(source)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def selected_variable(self) -> Variable | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        return self.table_model.variables[self.proxy.mapToSource(index).row()]

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        for col, cap in ((NAME, 360), (KEY, 380), (SLOT_OF, 260)):
            header.resizeSection(col, min(header.sectionSize(col) + 12, cap))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        side_by_side = event.size().width() >= SIDE_BY_SIDE_WIDTH
        wanted = Qt.Orientation.Horizontal if side_by_side else Qt.Orientation.Vertical
        if self.splitter.orientation() != wanted:
            self.splitter.setOrientation(wanted)
            self._fit_split()

    def _fit_split(self) -> None:
        """Wide: the table beside the values, each the full height, so a tensor shows 15 rows
        and more. Narrow: a few variables get a short table above the values; many get 35 %."""
        if self.splitter.orientation() == Qt.Orientation.Horizontal:
            total = sum(self.splitter.sizes()) or self.width() or 900
            table = int(total * 0.45)
            if not self._tensor_shown:  # the empty values pane gives its room to the columns
                header = self.table.horizontalHeader()
                columns = header.length() + self.table.verticalScrollBar().sizeHint().width() + 4
                table = max(table, min(columns, int(total * 0.75)))
            self.splitter.setSizes([table, total - table])
            return
        total = sum(self.splitter.sizes()) or 600
        header = self.table.horizontalHeader().sizeHint().height()
        rows = self.table.verticalHeader().defaultSectionSize() * len(self.table_model.variables)
        wanted = header + rows + self.table.horizontalScrollBar().sizeHint().height() + 4
        table = max(90, min(wanted, int(total * 0.35)))
        self.splitter.setSizes([table, total - table])

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.set_filter_text(text)
        self._update_count()

    def _show_role_columns(self) -> None:
        """ "Slot of" where optimizer state is shown, "Role" where several roles are."""
        variables = self.table_model.variables
        group = self.role_bar.group
        slots = any(v.slot_of for v in variables) and group in ("optimizer", ALL)
        self.table.setColumnHidden(SLOT_OF, not slots)
        mixed = group == ALL and any(not v.is_weight for v in variables)
        self.table.setColumnHidden(ROLE, not mixed)

    def _on_role_group_changed(self, _group: str) -> None:
        self.proxy.set_role_test(self.role_bar.accepts)
        self._show_role_columns()
        self._fit_columns()  # optimizer names run longer than the weights'
        self._update_count()

    def _update_count(self) -> None:
        variables = self.table_model.variables
        params = parameter_count(self.model) if self.model else 0
        shown = self.proxy.rowCount()
        count = f"{len(variables)}" if shown == len(variables) else f"{shown} of {len(variables)}"
        constants = sum(v.constant for v in variables)
        if constants:
            held = f"{count} tensors ({counted(constants, 'frozen constant')})"
        else:
            held = f"{count} variables"
        self.count_label.setText(f"{held} · {grouped(params)} parameters")
        twice = sum(len(keys) for keys in self.table_model.aliases.values())
        self.count_label.setToolTip(
            f"{twice} more checkpoint entries store the same tensors under other keys"
            if twice
            else ""
        )

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        var = self.selected_variable() if current.isValid() else None
        if var is None:
            return
        if not self._tensor_shown:
            self._tensor_shown = True
            self._fit_split()
        same_name = sum(v.name == var.name for v in self.table_model.variables)
        title = var.name if same_name == 1 else f"{var.name}  [{var.key}]"
        source = self.model.source_of(var.key) if self.model else None
        if source is None:
            self.tensor_view.show_tensor(title, partial(_no_values, self.model))
        else:
            caption = role_caption(var.role, var.slot_of, var.slot_name)
            self.tensor_view.show_tensor(title, partial(source.read, var.key), caption)


def _no_values(model: Model | None):
    problems = [p.message for p in (model.problems if model else []) if p.part == "variables"]
    raise ValueError(problems[0] if problems else "this model holds no variable values")


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(VariablePanel)
