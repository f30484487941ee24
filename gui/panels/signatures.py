"""Signatures per tag-set with their inputs and outputs, the object graph's concrete
functions, and a ready-to-paste call of the selected signature: run locally
(saved_model_cli and Python), or the request a TF Serving client sends (REST bodies in row
and columnar form, curl, gRPC Python)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.graph_io import GraphIO, graph_io
from smlens.core.analysis.serving_request import ServingRequest, model_name, serving_request
from smlens.core.analysis.snippets import (
    Snippet,
    argument_rows,
    graph_snippet,
    signature_snippet,
    tensor_location,
)
from smlens.core.formats.convert import node_count
from smlens.core.model import INIT_OP_KEY, MetaGraph, Model, TensorInfo
from smlens.core.model.text import counted, short_dtype
from smlens.gui.base.panel import Panel
from smlens.gui.base.theme import current
from smlens.gui.base.widgets import PlaceholderStack, mono_font

COLUMNS = ("Name", "DType", "Shape", "Tensor", "Method")
NAME, DTYPE, SHAPE, TENSOR, METHOD = range(len(COLUMNS))
SIGNATURE_ROLE = Qt.ItemDataRole.UserRole  # (tag-set, signature key) on a signature's rows
FUNCTION_ROLE = Qt.ItemDataRole.UserRole + 1  # (tag-set, function) on a concrete function's row
GRAPH_IO_ROLE = Qt.ItemDataRole.UserRole + 2  # tag-set on the rows of found feeds and fetches
GRAPH_IO_TITLE = "feeds and fetches (no signature: found in the graph)"
LEFT_OUT_LISTED = 200  # names listed under one left-out reason
# What the snippet pane shows: (data, label). "run" is the Snippet, the rest ServingRequest forms.
SNIPPET_KINDS = (
    ("run", "Run locally"),
    ("row", "REST row"),
    ("columnar", "REST columnar"),
    ("curl", "curl"),
    ("grpc", "gRPC Python"),
)
REQUEST_COPIES = (
    ("row", "Copy REST body (row)"),
    ("columnar", "Copy REST body (columnar)"),
    ("curl", "Copy curl command"),
    ("grpc", "Copy gRPC Python"),
)
PANE_CHARS = 20_000  # a longer body (an image's pixels) shows cut; Copy takes all of it
NO_MODEL = "No model open: its signatures show here."
NO_SIGNATURES = (
    "This model has no signatures.\n\nA checkpoint without its .meta holds variables, no "
    "graph; a SavedModel's signatures are what TF Serving and saved_model_cli run, and a "
    "graph's feeds and fetches show here when it has none."
)

# --- the panel ------------------------------------------------------------------------------


class SignaturePanel(Panel):
    """Tag-sets, their signatures and concrete functions; the selected signature's snippet."""

    title = "Signatures"
    part = "graph"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        self.tree.currentItemChanged.connect(self._on_current_changed)

        self.details_title = QLabel()
        # Clipped rather than widening the panel: the dock must fit a small screen.
        self.details_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.snippet_edit = QPlainTextEdit()
        self.snippet_edit.setReadOnly(True)
        self.snippet_edit.setFont(mono_font())
        self.snippet_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy snippet")
        self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.copy_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # Bound methods, not lambdas: PySide6 6.12 corrupts memory when a widget whose
        # children hold lambda slots over ``self`` is garbage-collected.
        self.copy_button.clicked.connect(self._on_copy_clicked)
        menu = QMenu(self.copy_button)
        self.copy_cli_action = menu.addAction("Copy saved_model_cli command")
        self.copy_cli_action.setData("cli")
        menu.addAction("Copy Python call").setData("python")
        menu.addSeparator()
        self.request_actions = []
        for data, label in REQUEST_COPIES:
            action = menu.addAction(label)
            action.setData(data)
            self.request_actions.append(action)
        menu.triggered.connect(self._on_copy_action)
        self.copy_button.setMenu(menu)
        self.copy_button.setEnabled(False)
        self.graph_button = QToolButton()
        self.graph_button.setText("Open graph")
        self.graph_button.setToolTip("Draw the function the selected row runs in the Graph panel")
        self.graph_button.clicked.connect(self._on_graph_clicked)
        self.graph_button.setEnabled(False)

        self.kind_combo = QComboBox()
        for data, label in SNIPPET_KINDS:
            self.kind_combo.addItem(label, data)
        self.kind_combo.setToolTip(
            "What the pane shows: a local run (saved_model_cli and Python), or the request a "
            "TF Serving client sends (a REST body in row or columnar form, curl, gRPC Python)"
        )
        self.kind_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)

        details = QWidget()
        head = QHBoxLayout()
        head.addWidget(self.details_title, 1)
        head.addWidget(self.kind_combo)
        head.addWidget(self.graph_button)
        head.addWidget(self.copy_button)
        column = QVBoxLayout(details)
        column.setContentsMargins(0, 4, 0, 0)
        column.addLayout(head)
        column.addWidget(self.snippet_edit, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        lines = self.snippet_edit.fontMetrics().lineSpacing()
        self.snippet_edit.setMinimumHeight(3 * lines)

        self.stack = PlaceholderStack(splitter, NO_SIGNATURES)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)
        self.snippet: Snippet | None = None
        self._signature: tuple[str, str] | None = None  # (tag-set, key) the snippet is of
        self._request: ServingRequest | None = None  # built on first use (bodies can be big)

    # filling ------------------------------------------------------------------------------

    def show_model(self, model: Model | None) -> None:
        self.tree.clear()
        self._show_details(None)
        metas = model.meta_graphs if model else []
        if not any(mg.signatures or _root_functions(mg) or _found_io(mg) for mg in metas):
            self.stack.show_placeholder(NO_SIGNATURES if model is not None else NO_MODEL)
            return
        self.stack.show_content()
        for mg in metas:
            self._add_meta_graph(mg)
        self._fit_columns()
        self._select_default()

    def _select_default(self) -> None:
        """Start on serving_default (else the first signature, else the first found feeds
        and fetches), so its snippet shows."""
        items = self.signature_items()
        ref = next((r for r in items if r[1] == "serving_default"), None)
        ref = ref or next((r for r in items if r[1] != INIT_OP_KEY), None)
        if ref is None and self.graph_io_items():
            self.tree.setCurrentItem(next(iter(self.graph_io_items().values())))
            return
        if ref is not None:
            self.tree.setCurrentItem(items[ref])
            self._scroll_to_current()
            QTimer.singleShot(0, self._scroll_to_current)  # again once the dock has its size

    def _scroll_to_current(self) -> None:
        """The chosen signature at the top, its inputs and outputs below it in view."""
        item = self.tree.currentItem()
        if item is not None:
            self.tree.scrollToItem(item, QTreeWidget.ScrollHint.PositionAtTop)

    def signature_items(self) -> dict[tuple[str, str], QTreeWidgetItem]:
        """(tag-set, key) -> the signature's row."""
        found = {}
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                item = top.child(j)
                ref = item.data(NAME, SIGNATURE_ROLE)
                if ref is not None and item.parent() is top:
                    found[tuple(ref)] = item
        return found

    def graph_io_items(self) -> dict[str, QTreeWidgetItem]:
        """tag-set -> the row of the feeds and fetches found in that meta graph's graph."""
        found = {}
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                tag_set = top.child(j).data(NAME, GRAPH_IO_ROLE)
                if tag_set is not None:
                    found[tag_set] = top.child(j)
        return found

    def _add_graph_io(self, top: QTreeWidgetItem, mg: MetaGraph, io: GraphIO) -> None:
        """Feeds, ranked fetches (with why each was kept) and, folded, what was left out."""
        item = self._item(top, [GRAPH_IO_TITLE], bold=True)
        item.setData(NAME, GRAPH_IO_ROLE, mg.tag_set)
        feeds = self._item(item, [counted(len(io.feeds), "feed")], muted=True)
        for f in io.feeds:
            how = f.op if f.default is None else f"{f.op}, default {f.default}"
            row = self._item(feeds, [f.name, short_dtype(f.dtype), str(f.shape), f.tensor, how])
            row.setData(NAME, GRAPH_IO_ROLE, mg.tag_set)
        fetches = self._item(item, [counted(len(io.fetches), "fetch", "fetches")], muted=True)
        fetches.setToolTip(NAME, "likeliest first: the dataflow's sinks, without the plumbing")
        for f in io.fetches:
            texts = [f"{f.rank}. {f.node}", short_dtype(f.dtype), str(f.shape), f.name, f.reason]
            row = self._item(fetches, texts)
            row.setData(NAME, GRAPH_IO_ROLE, mg.tag_set)
            row.setToolTip(METHOD, f"{f.op}: {f.reason}")
        for group in (item, feeds, fetches):
            group.setExpanded(True)
        if io.left_out:
            self._add_left_out(item, io)

    def _add_left_out(self, parent: QTreeWidgetItem, io: GraphIO) -> None:
        by_reason: dict[str, list] = {}
        for left in io.left_out:
            by_reason.setdefault(left.reason, []).append(left)
        text = counted(len(io.left_out), "sink or placeholder", "sinks and placeholders")
        group = self._item(parent, [f"left out: {text}"], muted=True)
        for reason, lefts in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
            sub = self._item(group, [f"{reason} ({len(lefts)})"], muted=True)
            for left in lefts[:LEFT_OUT_LISTED]:
                self._item(sub, [left.name, "", "", "", left.op])
            if len(lefts) > LEFT_OUT_LISTED:
                self._item(sub, [f"… {len(lefts) - LEFT_OUT_LISTED:,} more"], muted=True)

    def _add_meta_graph(self, mg: MetaGraph) -> None:
        tags = ", ".join(mg.tags) if mg.tags else "(no tags)"
        top = self._item(None, [f"tag-set: {tags}"], bold=True)
        top.setToolTip(NAME, f"TensorFlow {mg.tf_version}" if mg.tf_version else "")
        for key, sig in sorted(mg.signatures.items(), key=_signature_order):
            item = self._item(top, [key, "", "", "", sig.method_name], bold=True)
            self._mark(item, (mg.tag_set, key))
            for label, tensors in (("inputs", sig.inputs), ("outputs", sig.outputs)):
                if not tensors:
                    continue
                group = self._item(item, [label], muted=True)
                self._mark(group, (mg.tag_set, key))
                for name, info in tensors.items():
                    row = self._item(group, self._tensor_texts(name, info))
                    self._mark(row, (mg.tag_set, key))
                group.setExpanded(True)
            item.setExpanded(key != INIT_OP_KEY)
        functions = _root_functions(mg)
        if functions:
            group = self._item(top, ["concrete functions (object graph)"], muted=True)
            for name, node in functions:
                self._add_function(group, name, node, mg)
        io = _found_io(mg)
        if io is not None:
            self._add_graph_io(top, mg, io)
        top.setExpanded(True)

    def _add_function(self, parent, name: str, node, mg: MetaGraph) -> None:
        graph = mg.object_graph
        if node.kind == "bare_concrete_function":
            fn = node.concrete_functions[0] if node.concrete_functions else ""
            item = self._item(parent, [name, "", "", fn, "concrete function"])
            item.setData(NAME, FUNCTION_ROLE, [mg.tag_set, fn])
            self._add_arguments(item, graph.concrete_functions.get(fn))
            return
        item = self._item(parent, [name, "", "", "", "function"])
        if not node.concrete_functions:
            item.setText(TENSOR, "never traced: no concrete function saved")
        for fn in node.concrete_functions:
            trace = self._item(item, [fn, "", "", "", "concrete function"])
            trace.setData(NAME, FUNCTION_ROLE, [mg.tag_set, fn])
            self._add_arguments(trace, graph.concrete_functions.get(fn))

    def _add_arguments(self, parent: QTreeWidgetItem, fn) -> None:
        rows = argument_rows(fn.input_signature) if fn is not None else []
        for name, dtype, shape, where in rows:
            self._item(parent, [name, dtype, shape, where])
        if fn is not None and not rows:
            self._item(parent, ["(no arguments)"], muted=True)

    def _tensor_texts(self, name: str, info: TensorInfo) -> list[str]:
        return [name, short_dtype(info.dtype), str(info.shape), tensor_location(info)]

    def _item(self, parent, texts: list[str], bold=False, muted=False) -> QTreeWidgetItem:
        item = QTreeWidgetItem(texts + [""] * (len(COLUMNS) - len(texts)))
        if bold:
            font = item.font(NAME)
            font.setBold(True)
            item.setFont(NAME, font)
        if muted:
            item.setForeground(NAME, QColor(current().muted))
        if parent is None:
            self.tree.addTopLevelItem(item)
        else:
            parent.addChild(item)
        return item

    def _mark(self, item: QTreeWidgetItem, ref: tuple[str, str]) -> None:
        item.setData(NAME, SIGNATURE_ROLE, list(ref))

    def _fit_columns(self) -> None:
        for col, (least, most) in enumerate(((220, 420), (70, 110), (80, 160), (200, 420))):
            self.tree.resizeColumnToContents(col)
            width = self.tree.columnWidth(col) + 16
            self.tree.setColumnWidth(col, max(least, min(width, most)))

    # details --------------------------------------------------------------------------

    def _on_current_changed(self, item: QTreeWidgetItem | None, _previous) -> None:
        ref = item.data(NAME, SIGNATURE_ROLE) if item is not None else None
        self._show_details(tuple(ref) if ref else None)
        found = item.data(NAME, GRAPH_IO_ROLE) if item is not None else None
        if found is not None and self.model is not None:
            self._show_graph_io_details(found)
        self.graph_button.setEnabled(self.graph_target() is not None)

    def graph_target(self) -> tuple[str, str, str] | None:
        """(tag-set, "signature" | "function" | "graph", name) the current row runs, if any."""
        item = self.tree.currentItem()
        while item is not None:
            ref = item.data(NAME, SIGNATURE_ROLE)
            if ref and ref[1] != INIT_OP_KEY:
                return ref[0], "signature", ref[1]
            fn = item.data(NAME, FUNCTION_ROLE)
            if fn:
                return fn[0], "function", fn[1]
            found = item.data(NAME, GRAPH_IO_ROLE)
            if found is not None:
                return found, "graph", ""
            item = item.parent()
        return None

    def _on_graph_clicked(self) -> None:
        target = self.graph_target()
        if target is not None:
            self.graph_requested.emit(*target)

    def _show_details(self, ref: tuple[str, str] | None) -> None:
        self.snippet = None
        self._signature = None
        self._request = None
        self._enable_requests(False)
        self.copy_button.setEnabled(False)
        self.snippet_edit.clear()
        if ref is None or self.model is None:
            self.details_title.setText(
                f"<span style='color:{current().muted}'>Select a signature to get a command "
                "that runs it.</span>"
            )
            return
        tag_set, key = ref
        mg = self.model.meta_graph(tag_set)
        sig = mg.signatures[key]
        self.details_title.setText(
            f"<b>{key}</b> &nbsp;·&nbsp; {sig.method_name or 'no method'} &nbsp;·&nbsp; "
            f"tag-set {tag_set or '(none)'} &nbsp;·&nbsp; {counted(len(sig.inputs), 'input')}, "
            f"{counted(len(sig.outputs), 'output')}"
        )
        if key == INIT_OP_KEY:
            self.snippet_edit.setPlainText(
                f"{INIT_OP_KEY} runs the model's initializers (tables, assets) when it is "
                "loaded; it is not called directly."
            )
            return
        self.snippet = signature_snippet(self.model.path, mg.tags, key, sig)
        self._signature = (tag_set, key)
        self._enable_requests(True)
        self._show_kind()
        self.copy_button.setEnabled(True)
        self.copy_cli_action.setText("Copy saved_model_cli command")

    def _enable_requests(self, enabled: bool) -> None:
        """TF Serving requests exist for signatures only, not for found feeds and fetches."""
        for action in self.request_actions:
            action.setEnabled(enabled)
        self.kind_combo.setEnabled(enabled)
        if not enabled:
            self.kind_combo.blockSignals(True)
            self.kind_combo.setCurrentIndex(0)
            self.kind_combo.blockSignals(False)

    def serving_request(self) -> ServingRequest | None:
        """The TF Serving request of the selected signature, built the first time it is
        asked for."""
        if self._request is None and self._signature is not None and self.model is not None:
            tag_set, key = self._signature
            mg = self.model.meta_graph(tag_set)
            self._request = serving_request(
                key, mg.signatures[key], model_name(self.model.path), mg
            )
        return self._request

    def snippet_kind(self) -> str:
        """What the pane shows: "run", "row", "columnar", "curl" or "grpc"."""
        return self.kind_combo.currentData()

    def set_snippet_kind(self, kind: str) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def _on_kind_changed(self, _index: int) -> None:
        self._show_kind()

    def _show_kind(self) -> None:
        """Put the chosen snippet in the pane; a body longer than PANE_CHARS is cut there."""
        if self.snippet is None:
            return
        text = self._text(self.snippet_kind())
        if len(text) > PANE_CHARS:
            cut = text[:PANE_CHARS].rsplit("\n", 1)[0]
            text = (
                f"{cut}\n… shown cut at {PANE_CHARS:,} of {len(text):,} characters; "
                "Copy snippet takes all of it"
            )
        self.snippet_edit.setPlainText(text)

    def _text(self, kind: str) -> str:
        """The whole text of a snippet kind, or of a copy menu entry."""
        if kind in ("row", "columnar", "curl", "grpc"):
            request = self.serving_request()
            if request is None:
                return ""
            notes = "".join(f"# {note}\n" for note in request.notes)
            return notes + request.text(kind) if kind in ("curl", "grpc") else request.text(kind)
        if kind == "cli":
            return self.snippet.cli
        if kind == "python":
            return self.snippet.python
        return self.snippet.text

    def _show_graph_io_details(self, tag_set: str) -> None:
        """The found feeds and fetches' snippet: a ``smlens run`` line and a session call."""
        mg = self.model.meta_graph(tag_set)
        io = graph_io(mg)
        self.details_title.setText(
            f"<b>feeds and fetches</b> &nbsp;·&nbsp; found in the graph &nbsp;·&nbsp; "
            f"tag-set {tag_set or '(none)'} &nbsp;·&nbsp; {counted(len(io.feeds), 'feed')}, "
            f"{counted(len(io.fetches), 'fetch', 'fetches')}"
        )
        self.snippet = graph_snippet(self.model.path, self.model.format, mg.tags, io)
        self._show_kind()
        self.copy_button.setEnabled(True)
        self.copy_cli_action.setText(f"Copy {self.snippet.tool} command")

    def _on_copy_clicked(self) -> None:
        self.copy_snippet(self.snippet_kind())

    def _on_copy_action(self, action: QAction) -> None:
        self.copy_snippet(action.data())

    def copy_snippet(self, part: str = "all") -> str:
        """Copy the selected signature's snippet: "all" (or "run"), "cli", "python", or a
        TF Serving request form ("row", "columnar", "curl", "grpc")."""
        if self.snippet is None:
            return ""
        text = self._text(part)
        QGuiApplication.clipboard().setText(text)
        return text


def _signature_order(item) -> tuple:
    """serving_default first, the init op last, the rest by name."""
    key = item[0]
    return (key == INIT_OP_KEY, key != "serving_default", key)


def _found_io(mg: MetaGraph) -> GraphIO | None:
    """The feeds and fetches found in a meta graph without callable signatures (computed
    off the UI thread when the model was read: ``analysis.prepare``); None otherwise."""
    if mg.callable_signatures or not node_count(mg.graph):
        return None
    io = graph_io(mg)
    return io if io.feeds or io.fetches else None


def _root_functions(mg: MetaGraph) -> list[tuple[str, Any]]:
    """The root object's children that are functions or bare concrete functions."""
    graph = mg.object_graph
    if graph is None or not graph.nodes:
        return []
    kinds = ("function", "bare_concrete_function")
    return [(name, node) for name, node in graph.children_of(0) if node.kind in kinds]


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(SignaturePanel)
