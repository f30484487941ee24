"""The model at a glance: format and versions, the TensorFlow release it needs, its TFLite
readiness (on request), a training folder's steps and exports, counts, custom ops and file
or system ops, bytes on disk, the largest variables, the fingerprint and the model's
warnings."""

from __future__ import annotations

import sys
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.graph_io import graph_io
from smlens.core.analysis.ops import custom_ops, op_counts
from smlens.core.analysis.releases import MinRelease, required_releases
from smlens.core.analysis.scan import scan_meta_graph
from smlens.core.formats.convert import node_count
from smlens.core.formats.training import find_training_folder, step_of
from smlens.core.model import Model, Variable
from smlens.core.model.roles import METRIC, OPTIMIZER_SCALAR, OPTIMIZER_STATE, OTHER
from smlens.core.model.text import (
    format_name,
    grouped,
    human_bytes,
    relative_to,
    share,
    short_dtype,
    tag_set_text,
)
from smlens.gui.base import theme
from smlens.gui.base.panel import Panel
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.widgets import SizeBar, heading_label, mono_font
from smlens.gui.panels.tflite_readiness import TFLiteReadinessView

LARGEST = 10
# What training keeps beside the weights, one row each under the weights' counts.
TRAINING_ROWS = (
    ("Optimizer state", (OPTIMIZER_STATE,)),
    ("Optimizer scalars", (OPTIMIZER_SCALAR,)),
    ("Metrics", (METRIC,)),
    ("Other", (OTHER,)),
)
GRAPH_COLUMNS = 4  # meta graphs shown one per column; past it, the rest share one summed column
TAG_SETS_LISTED = 12
PART_NAMES = {"graph": "Graph", "variables": "Variables", "assets": "Assets", "other": "Other"}


class OverviewPanel(Panel):
    """Everything a release check looks at first, on one scrollable page."""

    title = "Overview"
    part = "model"
    path_requested = Signal(str)  # a model to open: another step, an export below
    compare_requested = Signal(str, str)  # two checkpoint steps: older, newer
    releases_shown = Signal()  # the release each meta graph needs is on the page

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.values: dict[str, QLabel] = {}  # "signatures:0", "parameters", ... -> value
        self._mono = mono_font()
        scroll = QScrollArea(self.body)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._page = QWidget()
        self._page.setBackgroundRole(QPalette.ColorRole.Base)
        self._page.setAutoFillBackground(True)
        scroll.setWidget(self._page)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self._content = QVBoxLayout(self._page)
        self._content.setContentsMargins(18, 14, 18, 18)
        self._content.setSpacing(4)
        self._title = self._label("", name="overviewTitle")
        self._path = self._label("", name="overviewPath", selectable=True)
        self._shrinkable(self._title)
        self._shrinkable(self._path)
        self._path.setWordWrap(True)  # wraps the hint shown with no model
        self._content.addWidget(self._title)
        self._content.addWidget(self._path)

        self._warnings_heading, self._warnings = self._section("Warnings", with_heading=True)
        self._about = self._section("Model")
        self._release_heading, self._release = self._section("TensorFlow release", True)
        self._release_runner = TaskRunner(self)
        self._release_runner.finished.connect(self._on_releases_found)
        self._release_runner.failed.connect(self._on_releases_failed)
        self._release_model: Model | None = None
        self._tflite_heading = self._heading("TFLite readiness")
        self.tflite = TFLiteReadinessView()
        self._content.addWidget(self.tflite)
        self._training_heading, self._training = self._section("Training folder", True)
        self._graphs = self._section("Graphs")
        self._custom_heading, self._custom = self._section("Custom ops", with_heading=True)
        self._risky_heading, self._risky = self._section("File and system ops", with_heading=True)
        self._variables = self._section("Variables")
        self._disk_heading, self._disk = self._section("Size on disk", with_heading=True)
        self.size_bar = SizeBar(PART_NAMES)
        self._content.addWidget(self.size_bar)
        self._content.addSpacing(4)
        self._legend = self._grid()
        self._largest_heading = self._heading("Largest variables")
        self.with_slots = QCheckBox("with optimizer state and metrics")
        self.with_slots.setToolTip(
            "What training keeps beside the weights (Adam's moments, iterations, metric\n"
            "accumulators) is left out unless asked"
        )
        self.with_slots.toggled.connect(self._on_with_slots_toggled)
        self._content.addWidget(self.with_slots)
        self.largest = self._largest_tree()
        self._content.addWidget(self.largest)
        self._fingerprint = self._section("Fingerprint")
        self._content.addStretch(1)
        self.show_model(None)

    # -- building blocks -------------------------------------------------------------

    def _label(self, text: str, *, name: str = "", role: str = "", selectable: bool = False):
        label = QLabel(text)
        if name:
            label.setObjectName(name)
        if role:
            label.setProperty("role", role)
        if selectable:
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _shrinkable(self, label: QLabel) -> None:
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        label.setToolTip(label.text())

    def _heading(self, text: str) -> QLabel:
        heading = heading_label(text)
        heading.setIndent(0)
        self._content.addWidget(heading)
        return heading

    def _aside(self, text: str) -> str:
        """Rich text for a heading's trailing figure: normal weight, muted."""
        muted = theme.current().muted
        return f"&nbsp;&nbsp;<span style='font-weight:400; color:{muted}'>{escape(text)}</span>"

    def _grid(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(3)
        grid.setContentsMargins(0, 4, 0, 0)
        grid.setColumnMinimumWidth(0, self.fontMetrics().horizontalAdvance("M" * 11))
        self._content.addLayout(grid)
        return grid

    def _section(self, title: str, with_heading: bool = False):
        heading = self._heading(title)
        grid = self._grid()
        return (heading, grid) if with_heading else grid

    def _largest_tree(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setObjectName("largestVariables")
        tree.setHeaderLabels(["Name", "Shape", "DType", "Size"])
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        tree.setUniformRowHeights(True)
        tree.setFrameShape(QFrame.Shape.NoFrame)
        tree.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        tree.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        tree.headerItem().setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
        tree.itemActivated.connect(self._on_largest_activated)
        return tree

    def _clear(self, grid: QGridLayout) -> None:
        while grid.count():
            item = grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()

    def _rows(
        self,
        grid: QGridLayout,
        rows: list[tuple[str, list[str]]],
        key_prefix: str = "",
        first_row: int = 0,
        numbers: bool = False,
    ) -> None:
        """Caption in muted text, then one value per column; ``numbers`` align right.

        Each value is kept in ``self.values`` under its caption ("graph_nodes"), with
        ":column" added when there are several columns (one per meta graph)."""
        align = Qt.AlignmentFlag.AlignRight if numbers else Qt.AlignmentFlag.AlignLeft
        if numbers:  # one width for every number column, so sections line up
            width = self.fontMetrics().horizontalAdvance("999,999,999")
            for c in range(max((len(cells) for _, cells in rows), default=0)):
                grid.setColumnMinimumWidth(c + 1, width)
        for r, (caption, cells) in enumerate(rows, start=first_row):
            grid.addWidget(self._label(caption, role="muted"), r, 0)
            key = key_prefix + caption.lower().replace(" ", "_")
            for c, text in enumerate(cells):
                value = self._label(text, selectable=True)
                value.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                if not numbers:
                    # Long text is clipped (the tooltip holds all of it), so a narrow dock
                    # never scrolls sideways.
                    self._shrinkable(value)
                grid.addWidget(value, r, c + 1)
                self.values[f"{key}:{c}" if len(cells) > 1 else key] = value
        if numbers:
            grid.setColumnStretch(grid.columnCount(), 1)
        else:
            grid.setColumnStretch(1, 1)

    # -- filling ---------------------------------------------------------------------

    def show_model(self, model: Model | None) -> None:
        self.values.clear()
        for grid in (
            self._about,
            self._graphs,
            self._variables,
            self._disk,
            self._legend,
            self._fingerprint,
            self._warnings,
            self._custom,
            self._risky,
            self._training,
            self._release,
        ):
            self._clear(grid)
        self._release_runner.cancel()
        self._release_model = model
        self.largest.clear()
        self.tflite.show_model(model)
        if model is None:
            self._title.setText("No model")
            self._path.setText(
                "Open a SavedModel folder (Ctrl+O) or a model file (Ctrl+Shift+O), "
                "or drop one on the window."
            )
            self.size_bar.set_parts([])
            for widget in self._hideable():
                widget.hide()
            return
        for widget in self._hideable():
            widget.show()
        self._title.setText(model.path.name or str(model.path))
        self._path.setText(str(model.path))
        self._path.setToolTip(str(model.path))
        self._show_about(model)
        self._show_release(model)
        self._show_tflite(model)
        self._show_training(model)
        self._show_graphs(model)
        self._show_custom_ops(model)
        self._show_risky_ops(model)
        self._show_variables(model)
        self._show_disk(model)
        self._show_fingerprint(model)
        self._show_warnings(model)

    def _hideable(self) -> list[QWidget]:
        return [
            w
            for w in self._page.findChildren(QLabel)
            if w.property("role") == "heading" and w.parent() is self._page
        ] + [self.size_bar, self.largest, self.with_slots, self.tflite]

    def _show_about(self, model: Model) -> None:
        fmt = format_name(model.format)
        if model.schema_version is not None:
            fmt += f"  (schema {model.schema_version})"
        versions = {(mg.tf_version, mg.tf_git_version) for mg in model.meta_graphs}
        tf_version = ", ".join(sorted({v for v, _ in versions if v})) or "not recorded"
        git = ", ".join(sorted({g for _, g in versions if g})) or "not recorded"
        rows = [("Format", [fmt]), ("TensorFlow", [tf_version]), ("Git version", [git])]
        if model.meta_graphs and any(mg.tags for mg in model.meta_graphs):
            tags = [tag_set_text(mg.tag_set) for mg in model.meta_graphs]
            if len(tags) > TAG_SETS_LISTED:  # a long line costs Qt's layout dearly
                more = len(tags) - TAG_SETS_LISTED
                tags = [*tags[:TAG_SETS_LISTED], f"… {grouped(more)} more"]
            rows.append(("Tag sets", ["  ·  ".join(tags)]))
        if model.keras_metadata:
            rows.append(("Keras metadata", ["keras_metadata.pb"]))
        step = step_of(model.checkpoint.prefix) if model.checkpoint is not None else None
        if model.format == "checkpoint" and step is not None:
            rows.append(("Step", [f"{step:,}  ({Path(model.checkpoint.prefix).name})"]))
        self._rows(self._about, rows)

    def _show_release(self, model: Model) -> None:
        """The oldest TensorFlow release that loads each meta graph: one pass over every
        node, so it is found off the UI thread and shown when it arrives."""
        if not model.meta_graphs:
            self._release_heading.hide()
            return
        self._rows(self._release, [("Needs", ["checking the ops and attrs…"])])
        self._release_runner.start(required_releases, model.meta_graphs)

    def _on_releases_found(self, found: list[tuple[str, MinRelease]]) -> None:
        self._clear(self._release)
        several = len(found) > 1
        rows = []
        for tag_set, needs in found[:TAG_SETS_LISTED]:
            caption = f"Needs {tag_set_text(tag_set)}" if several else "Needs"
            rows.append((caption, [_capitalized(needs.text().removeprefix("needs "))]))
            rows.append(
                (
                    "GraphDef" + (f" ({tag_set or 'no tags'})" if several else ""),
                    [needs.graph_def_text().removeprefix("GraphDef ")],
                )
            )
        if len(found) > TAG_SETS_LISTED:
            rows.append(("…", [f"and {grouped(len(found) - TAG_SETS_LISTED)} more meta graphs"]))
        self._rows(self._release, rows, key_prefix="release_")
        for key, label in self.values.items():
            if key.startswith("release_"):  # the ops and attrs that set it: wrapped
                label.setWordWrap(True)
        self.releases_shown.emit()

    def _on_releases_failed(self, error: object) -> None:
        self._clear(self._release)
        self._rows(self._release, [("Needs", [f"not known: {error}"])], key_prefix="release_")
        self.releases_shown.emit()

    def shutdown(self) -> None:
        """The TFLite check's worker quits with the window."""
        self.tflite.shutdown()

    def _show_tflite(self, model: Model) -> None:
        """The TFLite dry run's button (a SavedModel's only): it converts on request."""
        shown = model.format == "saved_model"
        self._tflite_heading.setVisible(shown)
        self.tflite.setVisible(shown)

    def _show_graphs(self, model: Model) -> None:
        mgs = model.meta_graphs
        if not mgs:
            self._rows(self._graphs, [("Graph", ["none (a bare checkpoint)"])])
            return
        # Thousands of meta graphs would be thousands of labels, which Qt lays out in
        # quadratic time: the first columns are shown one by one, the rest summed in one.
        shown, rest = mgs, []
        if len(mgs) > GRAPH_COLUMNS:
            shown, rest = mgs[: GRAPH_COLUMNS - 1], mgs[GRAPH_COLUMNS - 1 :]
        heads = [mg.tag_set or "(no tags)" for mg in shown]
        if rest:
            heads.append(f"{grouped(len(rest))} more")
        if len(mgs) > 1:
            for c, text in enumerate(heads):
                head = self._label(text)
                head.setAlignment(Qt.AlignmentFlag.AlignRight)
                font = head.font()
                font.setBold(True)
                head.setFont(font)
                self._graphs.addWidget(head, 0, c + 1)
        counts = [
            ("Signatures", lambda mg: len(mg.callable_signatures)),
            ("Functions", lambda mg: len(mg.functions)),
            ("Graph nodes", lambda mg: node_count(mg.graph)),
            ("Function nodes", lambda mg: sum(len(f.nodes) for f in mg.functions.values())),
            ("Op types", lambda mg: len(op_counts(mg))),
        ]
        if any(not mg.callable_signatures for mg in mgs):  # feeds and fetches found instead
            counts[1:1] = [
                ("Feeds found", lambda mg: _found(mg, "feeds")),
                ("Fetches found", lambda mg: _found(mg, "fetches")),
            ]
        rows = []
        for caption, count in counts:
            ns = [count(mg) for mg in shown]
            if rest and caption == "Op types":
                # Op types of several graphs do not add up: the summed column counts the
                # distinct ones.
                ns.append(len(set().union(*(op_counts(mg) for mg in rest))))
            elif rest:
                ns.append(sum(count(mg) for mg in rest))
            rows.append((caption, ns))
        self._rows(
            self._graphs,
            [(caption, [grouped(n) for n in ns]) for caption, ns in rows],
            first_row=1 if len(mgs) > 1 else 0,
            numbers=True,
        )

    def _show_variables(self, model: Model) -> None:
        constants = model.constants()
        if model.checkpoint is None and not model.variables and not constants:
            self._rows(self._variables, [("Variables", ["none"])])
            for widget in (self._largest_heading, self.largest, self.with_slots):
                widget.hide()
            return
        variables = model.distinct_variables()
        weights = [v for v in variables if v.is_weight]
        slots = [v for v in variables if not v.is_weight]
        rows = [
            ("Weights", [grouped(len(weights))]),
            ("Parameters", [grouped(sum(v.num_elements for v in weights + constants))]),
        ]
        if constants:  # frozen weights: Const nodes, listed and read like variables
            rows.insert(1, ("Frozen constants", [grouped(len(constants))]))
        copies = len(model.variables) - len(variables)
        variables = variables + constants
        frozen = [v for v in weights if v.trainable is False]
        if frozen:
            rows.append(("Non-trainable", [grouped(len(frozen))]))
        for caption, roles in TRAINING_ROWS:
            kept = [v for v in slots if v.role in roles]
            if kept:
                rows.append((caption, [grouped(len(kept))]))
        if copies:
            rows.append(("Checkpoint entries", [grouped(len(model.variables))]))
        self._rows(self._variables, rows, numbers=True)
        if copies:
            note = self._label(f"{grouped(copies)} stored twice", role="muted")
            note.setToolTip(
                "Keras exports track each variable under two checkpoint keys\n"
                "(variables/N and _all_variables/N): the same tensor, counted once."
            )
            self._variables.addWidget(note, len(rows) - 1, 2)
        self.with_slots.setVisible(bool(slots))
        self._largest_heading.setVisible(bool(variables))
        self.largest.setVisible(bool(variables))
        self._fill_largest(variables)

    def _fill_largest(self, variables: list[Variable]) -> None:
        """The largest variables: weights, unless the box is ticked."""
        self.largest.clear()
        if not self.with_slots.isChecked():
            variables = [v for v in variables if v.is_weight]
        largest = sorted(variables, key=lambda v: (-(v.nbytes or 0), v.name))[:LARGEST]
        for v in largest:
            item = QTreeWidgetItem(
                [v.name, str(v.shape), short_dtype(v.dtype), human_bytes(v.nbytes)]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, v.key)
            item.setToolTip(0, f"{v.name}\n{v.key}")
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setFont(1, self._mono)
            self.largest.addTopLevelItem(item)
        self._fit_tree()

    def _on_with_slots_toggled(self, _checked: bool) -> None:
        if self.model is not None:
            self._fill_largest(self.model.distinct_variables())

    def _show_training(self, model: Model) -> None:
        """Every checkpoint step of a training folder, each opening (or comparing with the
        step before) on a click, and the SavedModels exported below it."""
        found = find_training_folder(model.path) if model.format != "saved_model" else None
        self._training_heading.setVisible(found is not None)
        if found is None:
            return
        shown = Path(model.checkpoint.prefix) if model.checkpoint is not None else None
        self._training_heading.setText(
            f"Training folder{self._aside(f'{len(found.checkpoints)} checkpoints')}"
        )
        links = theme.current().accent
        rows: list[tuple[str, str]] = []
        steps = found.checkpoints
        for older, c in reversed(list(zip([None, *steps[:-1]], steps, strict=True))):
            parts = ["shown" if c.prefix == shown else self._link("open", c.prefix, links)]
            if older is not None:
                target = f"{older.prefix}|{c.prefix}"
                parts.append(self._link(f"compare with {older.label}", target, links))
            rows.append((c.label, "  ·  ".join(parts)))
        for export in found.exports:
            name = escape(str(export.relative_to(found.folder)))
            rows.append(("SavedModel", f"{name}  ·  {self._link('open', export, links)}"))
        for r, (caption, html) in enumerate(rows):
            self._training.addWidget(self._label(caption, role="muted"), r, 0)
            value = self._label(html)
            value.setTextFormat(Qt.TextFormat.RichText)
            value.linkActivated.connect(self._on_training_link_activated)
            self._training.addWidget(value, r, 1)
            self.values[f"training_{r}"] = value
        self._training.setColumnStretch(1, 1)

    def _link(self, text: str, target, color: str) -> str:
        return f"<a href='{escape(str(target))}' style='color:{color}'>{escape(text)}</a>"

    def _on_training_link_activated(self, target: str) -> None:
        older, bar, newer = target.partition("|")
        if bar:
            self.compare_requested.emit(older, newer)
        else:
            self.path_requested.emit(target)

    def _show_custom_ops(self, model: Model) -> None:
        """Ops TensorFlow does not define, by namespace, with the package that provides them."""
        groups = custom_ops(model.meta_graphs)
        self._custom_heading.setVisible(bool(groups))
        count = sum(len(g.ops) for g in groups)
        self._custom_heading.setText(f"Custom ops{self._aside(str(count))}")
        rows = []
        for g in groups:
            ops = ", ".join(op.partition(">")[2] or op for op in g.ops)
            rows.append((g.namespace or "No namespace", [f"{ops}  ·  {g.load_hint}"]))
        self._rows(self._custom, rows, key_prefix="custom_")

    def _show_risky_ops(self, model: Model) -> None:
        """File and system ops, with the nodes that use them: running such a model can read
        or write files on this machine."""
        uses = []
        for mg in model.meta_graphs:
            scan = scan_meta_graph(mg)
            uses += [(mg.tag_set, use) for use in (*scan.denylisted, *scan.other)]
        self._risky_heading.setVisible(bool(uses))
        ops = sorted({use.op for _, use in uses})
        self._risky_heading.setText(f"File and system ops{self._aside(', '.join(ops))}")
        rows = [(use.op, [use.where]) for _, use in uses[:8]]
        if len(uses) > 8:
            rows.append(("…", [f"and {len(uses) - 8} more"]))
        self._rows(self._risky, rows, key_prefix="risky_")

    def _fit_tree(self) -> None:
        rows = self.largest.topLevelItemCount()
        row_height = self.largest.sizeHintForRow(0) if rows else 0
        header = self.largest.header().sizeHint().height()
        self.largest.setFixedHeight(header + rows * row_height + 4)

    def _show_disk(self, model: Model) -> None:
        parts = model.bytes_by_part()
        total = sum(parts.values())
        self._disk_heading.setText(f"Size on disk{self._aside(human_bytes(total))}")
        shown = [(k, n) for k, n in parts.items() if n or k != "other"]
        self.size_bar.set_parts(shown)
        for r, (part, n) in enumerate(shown):
            swatch = QLabel()
            swatch.setFixedSize(9, 9)
            swatch.setStyleSheet(f"background: {theme.current().part_color(part)};")
            caption = QWidget()
            row = QHBoxLayout(caption)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(6)
            row.addWidget(swatch)
            row.addWidget(self._label(PART_NAMES[part], role="muted"), 1)
            self._legend.addWidget(caption, r, 0)
            for c, text in enumerate((human_bytes(n), share(n, total))):
                cell = self._label(text, selectable=True)
                cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self._legend.addWidget(cell, r, c + 1)
                if c == 0:
                    self.values[f"bytes_{part}"] = cell
        self._legend.setColumnMinimumWidth(1, self.fontMetrics().horizontalAdvance("999,999,999"))
        self._legend.setColumnStretch(3, 1)

    def _show_fingerprint(self, model: Model) -> None:
        fp = model.fingerprint
        if fp is None:
            missing = "not present (TensorFlow writes it since 2.12)"
            self._rows(self._fingerprint, [("fingerprint.pb", [missing])])
            return
        rows = [
            ("saved_model.pb", [f"{fp.saved_model_checksum:016x}"]),
            ("Graph program", [f"{fp.graph_def_program_hash:016x}"]),
            ("Signatures", [f"{fp.signature_def_hash:016x}"]),
            ("Object graph", [f"{fp.saved_object_graph_hash:016x}"]),
            ("Checkpoint", [f"{fp.checkpoint_hash:016x}"]),
            ("UUID", [fp.uuid or "none"]),
            ("Producer", [str(fp.version)]),
        ]
        self._rows(self._fingerprint, rows, key_prefix="fingerprint_")
        for r in range(len(rows) - 1):
            self._fingerprint.itemAtPosition(r, 1).widget().setFont(self._mono)

    def _show_warnings(self, model: Model) -> None:
        problems = model.problems
        self._warnings_heading.setVisible(bool(problems))
        self._warnings_heading.setText(f"Warnings{self._aside(str(len(problems)))}")
        for r, p in enumerate(problems):
            self._warnings.addWidget(
                self._label(p.part, role="muted"), r, 0, Qt.AlignmentFlag.AlignTop
            )
            line = self._label(
                f"<b>{escape(relative_to(p.path, model.path))}</b>: {escape(p.message)}",
                selectable=True,
            )
            line.setWordWrap(True)
            self._warnings.addWidget(line, r, 1)
        self._warnings.setColumnStretch(1, 1)

    def _on_largest_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        self.variable_selected.emit(item.data(0, Qt.ItemDataRole.UserRole))


def _found(mg, part: str) -> int:
    """How many feeds or fetches ``graph_io`` found in a meta graph without signatures
    (computed when the model was read); 0 where signatures are the interface."""
    if mg.callable_signatures:
        return 0
    return len(getattr(graph_io(mg), part))


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


if __name__ == "__main__":
    from smlens.gui.base.preview import preview
    from smlens.resources import sample_path

    preview(OverviewPanel, sys.argv[1] if len(sys.argv) > 1 else sample_path())
