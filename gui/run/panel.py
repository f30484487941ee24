"""Run a signature in the run worker: choose tag-set, signature and device, edit the inputs,
then read the outputs, their statistics, the timings and the difference from a baseline.

TensorFlow lives in core's worker process; every call to it goes through a TaskRunner, so
the window never waits on an import, a load or a run. Stop kills the worker (the only way
to interrupt TensorFlow); a crash is a message here, and the next run starts a fresh worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelection, Qt, QThreadPool, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.scan import MetaGraphScan, scan_meta_graph
from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.run.client import (
    DeviceInfo,
    RunCancelled,
    RunEngine,
    RunError,
    RunResult,
    WorkerCrashed,
)
from smlens.core.run.compare import compare_outputs, load_outputs, save_outputs
from smlens.gui.base.formatting import human_bytes
from smlens.gui.base.panel import Panel
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.run.inputs_editor import InputsInvalid, RunInputsEditor
from smlens.gui.run.outputs import OutputTableModel, RunRecord, output_stats
from smlens.gui.tensor.view import TensorView

INIT_OP = "__saved_model_init_op"
DEVICE_DELAY_MS = 800
NO_GPU = "No GPU found by TensorFlow — running on CPU only"
MAX_REPEAT = 100_000
PREVIOUS = "previous"

# -- tasks: plain functions the TaskRunners run off the UI thread ---------------------------


def _list_devices(engine: RunEngine, *, progress, cancelled):
    devices = engine.devices(progress=progress, cancelled=cancelled)
    return devices, engine.tf_version, engine.built_with_cuda, engine.pid


def _restart(engine: RunEngine, *, progress, cancelled):
    engine.restart(progress=progress, cancelled=cancelled)
    return engine.pid


def _run(engine: RunEngine, request: dict, stop: threading.Event, *, progress, cancelled):
    result = engine.run(
        **request, progress=progress, cancelled=lambda: cancelled() or stop.is_set()
    )
    return result, output_stats(result)


# -- text, testable without widgets ---------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def timings_text(result: RunResult) -> str:
    """ "Load 0.41 s · first call 1.23 ms · warm (9) min/median/p90 0.30/0.38/0.58 ms"."""
    parts = []
    if result.start_seconds:
        parts.append(f"Worker start {result.start_seconds:.2f} s")
    parts.append("Load cached" if result.cached else f"Load {_ms(result.load_seconds)}")
    parts.append(f"first call {_ms(result.first_call_seconds)}")
    if result.warm_seconds:
        ms = [f"{s * 1000:.2f}" for s in (result.warm_min, result.warm_median, result.warm_p90)]
        parts.append(f"warm ({len(result.warm_seconds)}) min/median/p90 {'/'.join(ms)} ms")
    return "  ·  ".join(parts)


def device_text(device: DeviceInfo) -> str:
    """ "GPU:0 · NVIDIA A100 · 40.0 GiB" or "CPU:0 · 15.5 GiB host memory"."""
    label = device.spec.upper()
    name = device.details.get("device_name")
    if name:
        label += f" · {name}"
    total = device.memory.get("host_total")
    if total:
        label += f" · {human_bytes(total)} host memory"
    return label


def risky_text(mg: MetaGraphScan, tag_set: str) -> str:
    uses = [*mg.denylisted, *mg.other]
    ops = ", ".join(sorted({u.op for u in uses}))
    places = "\n".join(f"  {u.op} at {u.where}" for u in uses[:6])
    more = f"\n  … and {len(uses) - 6} more" if len(uses) > 6 else ""
    return (
        f"The tag-set {tag_set!r} uses file or system ops: {ops}.\n\n{places}{more}\n\n"
        "Running it can read or write files on this machine. Run it anyway?"
    )


def short_tf_error(error: RunError) -> str:
    """TensorFlow's message without the Python stack it appends: the lines up to
    "Original stack trace" with the "Detected at node" traceback header dropped."""
    lines = []
    for line in error.message.split("\n"):
        if line.startswith("Original stack trace"):
            break
        if line.startswith("Detected at node") or not line.strip():
            continue
        lines.append(line.strip())
    return "\n".join(lines)


def describe_failure(error: BaseException) -> str:
    if isinstance(error, WorkerCrashed):
        return f"{error.message}\n\nThe next run starts a fresh worker."
    if isinstance(error, RunCancelled):
        return f"Stopped: {error.message}. The next run starts a fresh worker."
    if isinstance(error, RunError):
        return f"TensorFlow refused the run ({error.stage or 'run'}): {short_tf_error(error)}"
    if isinstance(error, SmlensError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class RunPanel(Panel):
    """Runs one signature at a time in a warm TensorFlow worker."""

    title = "Run"
    part = "graph"

    def __init__(self, parent: QWidget | None = None, engine: RunEngine | None = None):
        super().__init__(parent)
        self.engine = engine or RunEngine()
        self.devices: list[DeviceInfo] | None = None
        self.runs: list[RunRecord] = []
        self.shown: RunRecord | None = None
        self.baselines: dict[str, dict] = {}  # loaded .npz path -> outputs
        self.allowed_risky: set[str] = set()  # tag-sets the user agreed to run
        # Asked before running a model with risky ops; tests replace it to answer.
        self.confirm_risky: Callable[[str], bool] = self._ask_risky
        self._stop = threading.Event()
        # Its own threads: a long run must not hold the global pool the viewers share.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._run_runner = TaskRunner(self, self._pool)
        self._run_runner.finished.connect(self._on_run_finished)
        self._run_runner.failed.connect(self._on_run_failed)
        self._run_runner.progressed.connect(self._on_progressed)
        self._run_runner.busy_changed.connect(self._on_busy_changed)
        self._device_runner = TaskRunner(self, self._pool)
        # Devices are asked for only once the panel has stayed in view a moment: a Run tab
        # merely passed over at start-up must not start TensorFlow's three-second import.
        self._device_timer = QTimer(self, singleShot=True, interval=DEVICE_DELAY_MS)
        self._device_timer.timeout.connect(self._on_device_timer_timeout)
        self._device_runner.finished.connect(self._on_devices_listed)
        self._device_runner.failed.connect(self._on_devices_failed)
        self._restarting = False
        self._build()
        self.show_model(None)

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        self.tag_combo = QComboBox()
        self.tag_combo.currentIndexChanged.connect(self._on_tag_changed)
        self.signature_combo = QComboBox()
        self.signature_combo.currentIndexChanged.connect(self._on_signature_changed)
        self.device_combo = QComboBox()
        for combo in (self.tag_combo, self.signature_combo, self.device_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            combo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.repeat = QSpinBox()
        self.repeat.setRange(1, MAX_REPEAT)
        self.repeat.setPrefix("repeat ")
        self.repeat.setValue(10)
        self.repeat.setMaximumWidth(120)
        self.repeat.setToolTip("Calls per run: the first is timed alone, the rest as warm calls")
        style = self.style()
        self.run_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Run")
        self.run_button.setDefault(True)
        self.run_button.setShortcut("Ctrl+Return")
        self.run_button.setToolTip("Run the signature (Ctrl+Enter)")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop"
        )
        self.stop_button.setToolTip("Stop the run: kills the worker")
        self.stop_button.clicked.connect(self.stop)
        self.restart_button = QToolButton()
        self.restart_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.restart_button.setText("Restart worker")
        self.restart_button.setToolTip("Kill the TensorFlow worker and start a fresh one")
        self.restart_button.clicked.connect(self.restart_worker)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        for caption, widget, stretch in (
            ("Tag-set", self.tag_combo, 1),
            ("Signature", self.signature_combo, 2),
            ("Device", self.device_combo, 2),
        ):
            label = QLabel(caption)
            label.setProperty("role", "muted")
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget, stretch)
            bar.addSpacing(6)

        self.device_note = QLabel()
        self.device_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.worker_label = QLabel()
        self.worker_label.setProperty("role", "muted")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 100)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.hide()
        self.status_label = QLabel()
        for label in (self.device_note, self.worker_label, self.status_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.worker_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        status = QHBoxLayout()
        status.setSpacing(6)
        status.addWidget(self.run_button)
        status.addWidget(self.stop_button)
        status.addWidget(self.repeat)
        status.addWidget(self.restart_button)
        status.addSpacing(8)
        status.addWidget(self.busy_bar)
        status.addWidget(self.status_label, 2)
        status.addWidget(self.worker_label, 3)
        notes = QHBoxLayout()
        notes.addWidget(self.device_note)

        self.error_frame = QFrame()
        self.error_frame.setObjectName("problemFrame")
        self.error_frame.setProperty("level", "error")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner = QHBoxLayout(self.error_frame)
        inner.setContentsMargins(8, 6, 8, 6)
        inner.addWidget(self.error_label, 1)
        self.error_frame.hide()

        self.inputs = RunInputsEditor()
        self.outputs = self._build_outputs()
        self.tensor_view = TensorView()
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.inputs)
        top.addWidget(self.outputs)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 1)
        top.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.tensor_view)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addLayout(status)
        layout.addLayout(notes)
        layout.addWidget(self.error_frame)
        layout.addWidget(self.splitter, 1)

    def _build_outputs(self) -> QWidget:
        self.output_caption = QLabel("Outputs")
        self.output_caption.setProperty("role", "heading")
        self.timings_label = QLabel()
        self.timings_label.setWordWrap(True)
        self.timings_label.setToolTip(
            "Load: reading the model into the worker. First call: includes tracing. "
            "Warm: the calls after the first (set repeat)."
        )
        self.timings_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table_model = OutputTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        self.table.selectionModel().selectionChanged.connect(self._on_output_selected)

        self.save_button = QPushButton("Save .npz…")
        self.save_button.setToolTip("Save every output of the shown run to one .npz file")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.compare_combo = QComboBox()
        self.compare_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.compare_combo.setMinimumContentsLength(10)
        self.compare_combo.setToolTip("The Δ column compares each output with this")
        self.compare_combo.currentIndexChanged.connect(self._on_compare_changed)
        self.load_button = QPushButton("Load .npz…")
        self.load_button.setToolTip("Compare with outputs saved earlier")
        self.load_button.clicked.connect(self._on_load_clicked)
        compare_label = QLabel("Δ vs")
        compare_label.setProperty("role", "muted")
        self.compare_note = QLabel()
        self.compare_note.setProperty("role", "muted")
        self.compare_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        tools = QHBoxLayout()
        tools.addWidget(compare_label)
        tools.addWidget(self.compare_combo)
        tools.addWidget(self.load_button)
        tools.addWidget(self.compare_note, 1)
        tools.addWidget(self.save_button)

        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.output_caption)
        layout.addWidget(self.timings_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(tools)
        return pane

    # -- the model ------------------------------------------------------------------------

    def show_model(self, model: Model | None) -> None:
        """A new model: the old one's worker is shut down (off the UI thread) and every
        choice starts over."""
        self._shutdown_worker(wait=False)
        self.runs, self.shown, self.baselines = [], None, {}
        self.allowed_risky = set()
        self.table_model.set_record(None)
        self.tensor_view.clear()
        self.tensor_view.set_protected_folder(model.path if model else None)
        self.timings_label.setText("")
        self.output_caption.setText("Outputs")
        self._show_error(None)
        self.status_label.setText("")
        self._fill_compare_combo()
        runnable = model is not None and model.format == "saved_model" and model.meta_graphs
        self.tag_combo.blockSignals(True)
        self.tag_combo.clear()
        for mg in model.meta_graphs if runnable else []:
            self.tag_combo.addItem(mg.tag_set, mg.tag_set)
        serve = self.tag_combo.findData("serve")
        self.tag_combo.setCurrentIndex(serve if serve >= 0 else 0)
        self.tag_combo.blockSignals(False)
        self._on_tag_changed()
        if model is not None and not runnable:
            self._show_error(
                "Only a SavedModel can be run: this is a "
                + ("SavedModel without graphs" if model.format == "saved_model" else model.format)
                + ". Open a SavedModel folder to run its signatures."
            )
        self.inputs.start_dir = str(model.path.parent if model else Path.home())
        self._fill_devices()
        self._update_enabled()
        if runnable:
            self._device_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._device_timer.start()

    def _on_device_timer_timeout(self) -> None:
        if self.isVisible() and self.meta_graph() is not None and self.devices is None:
            self.list_devices()

    def meta_graph(self) -> MetaGraph | None:
        tag_set = self.tag_combo.currentData()
        if self.model is None or tag_set is None:
            return None
        return self.model.meta_graph(tag_set)

    def signature(self) -> Signature | None:
        mg = self.meta_graph()
        key = self.signature_combo.currentData()
        return mg.signatures.get(key) if mg is not None and key else None

    def _on_tag_changed(self, _index: int = 0) -> None:
        mg = self.meta_graph()
        keys = [k for k in (mg.signatures if mg else {}) if k != INIT_OP]
        self.signature_combo.blockSignals(True)
        self.signature_combo.clear()
        for key in keys:
            sig = mg.signatures[key]
            self.signature_combo.addItem(key, key)
            method = sig.method_name.rsplit("/", 1)[-1]
            self.signature_combo.setItemData(
                self.signature_combo.count() - 1,
                f"{key}: {method}, {len(sig.inputs)} inputs, {len(sig.outputs)} outputs",
                Qt.ItemDataRole.ToolTipRole,
            )
        default = self.signature_combo.findData("serving_default")
        self.signature_combo.setCurrentIndex(default if default >= 0 else 0)
        self.signature_combo.blockSignals(False)
        if mg is not None and not keys:
            self._show_error(f"The tag-set {mg.tag_set!r} has no signatures to run.")
        self._on_signature_changed()

    def _on_signature_changed(self, _index: int = 0) -> None:
        self.inputs.set_signature(self.signature(), self.meta_graph())
        self._update_enabled()

    # -- devices --------------------------------------------------------------------------

    def list_devices(self) -> None:
        """Ask the worker for its devices; the first ask starts it (TensorFlow's import)."""
        if self._device_runner.busy:
            return
        self.device_note.setText("Asking TensorFlow for its devices…")
        self._device_runner.start(_list_devices, self.engine)

    def _on_devices_listed(self, found) -> None:
        devices, tf_version, built_with_cuda, pid = found
        self.devices = devices
        self._fill_devices()
        if not any(d.device_type == "GPU" for d in devices):
            why = " (this TensorFlow build has no CUDA support)" if built_with_cuda is False else ""
            self.device_note.setText(NO_GPU + why)
        else:
            gpus = sum(d.device_type == "GPU" for d in devices)
            self.device_note.setText(f"{gpus} GPU{'s' * (gpus != 1)} found by TensorFlow")
        self._show_worker(tf_version, pid)

    def _on_devices_failed(self, error: BaseException) -> None:
        self.device_note.setText("Devices unknown: the worker did not answer")
        if not isinstance(error, RunCancelled):
            self._show_error(describe_failure(error))
        self._show_worker()

    def _fill_devices(self) -> None:
        """The devices TensorFlow sees; an absent GPU is a disabled entry that says so."""
        chosen = self.device_combo.currentData() or "cpu:0"
        combo = self.device_combo
        combo.clear()
        devices = self.devices or []
        if not devices:
            combo.addItem("CPU:0", "cpu:0")
        for device in devices:
            combo.addItem(device_text(device), device.spec)
            combo.setItemData(combo.count() - 1, device.name, Qt.ItemDataRole.ToolTipRole)
        if self.devices is not None and not any(d.device_type == "GPU" for d in devices):
            combo.addItem("GPU — none found", None)
            item = combo.model().item(combo.count() - 1)
            item.setEnabled(False)
            item.setToolTip(NO_GPU)
        index = combo.findData(chosen)
        combo.setCurrentIndex(index if index >= 0 else 0)

    def _show_worker(self, tf_version: str = "", pid: int | None = None) -> None:
        pid = pid if pid is not None else self.engine.pid
        tf_version = tf_version or self.engine.tf_version
        if pid is None or not self.engine.running:
            self.worker_label.setText("worker not running")
        else:
            self.worker_label.setText(f"TensorFlow {tf_version} · worker pid {pid}")

    # -- running --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._run_runner.busy

    def run(self) -> bool:
        """Check the inputs, ask about risky ops, then run; False when nothing started."""
        mg, signature = self.meta_graph(), self.signature()
        if self.busy or mg is None or signature is None:
            return False
        self._show_error(None)
        try:
            values = self.inputs.values()
        except InputsInvalid as e:
            self._show_error("Not run: " + "\n".join(e.errors.values()))
            self.status_label.setText("")
            return False
        if not self._risky_ok(mg):
            self.status_label.setText("Not run: risky ops refused")
            return False
        device = self.device_combo.currentData() or "cpu:0"
        request = {
            "path": self.model.path,
            "tag_set": mg.tags,
            "signature_key": signature.key,
            "inputs": values,
            "device": device,
            "repeat": self.repeat.value(),
            "allow_risky_ops": mg.tag_set in self.allowed_risky,
        }
        self._stop = threading.Event()
        self._pending = (signature.key, device)
        self.status_label.setText("Starting…")
        self._run_runner.start(_run, self.engine, request, self._stop)
        return True

    def _risky_ok(self, mg: MetaGraph) -> bool:
        if mg.tag_set in self.allowed_risky:
            return True
        scan = scan_meta_graph(mg)
        if not scan.risky:
            return True
        if not self.confirm_risky(risky_text(scan, mg.tag_set)):
            return False
        self.allowed_risky.add(mg.tag_set)
        return True

    def _ask_risky(self, text: str) -> bool:
        answer = QMessageBox.warning(
            self,
            "Run a model with file or system ops?",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def stop(self) -> None:
        """Stop the running call: the worker is killed and the run ends as stopped."""
        if self.busy:
            self._stop.set()
            self.status_label.setText("Stopping…")

    def restart_worker(self) -> None:
        """Kill the worker and start a fresh one (a run in progress is stopped)."""
        self._stop.set()
        self._restarting = True
        self._show_error(None)
        self.status_label.setText("Restarting the worker…")
        self._run_runner.start(_restart, self.engine)

    def _on_progressed(self, fraction: float, text: str) -> None:
        self.busy_bar.setValue(int(fraction * 100))
        if text and text != "done":
            self.status_label.setText(text[:1].upper() + text[1:] + "…")

    def _on_busy_changed(self, busy: bool) -> None:
        self.busy_bar.setValue(0)
        self.busy_bar.setVisible(busy)
        self._update_enabled()

    def _update_enabled(self) -> None:
        busy = self.busy
        ready = self.signature() is not None
        self.run_button.setEnabled(ready and not busy)
        self.stop_button.setEnabled(busy)
        self.restart_button.setEnabled(self.model is not None)
        for widget in (self.tag_combo, self.signature_combo, self.device_combo, self.inputs):
            widget.setEnabled(not busy and self.meta_graph() is not None)
        self.save_button.setEnabled(self.shown is not None)

    def _on_run_finished(self, found) -> None:
        if self._restarting:
            self._restarting = False
            self.status_label.setText("Fresh worker ready")
            self._show_worker(pid=found)
            return
        result, stats = found
        key, device = self._pending
        record = RunRecord(len(self.runs) + 1, key, device, result, stats)
        self.runs.append(record)
        self.status_label.setText(f"Run #{record.number} done")
        self._show_record(record)
        self._show_worker()

    def _on_run_failed(self, error: BaseException) -> None:
        self._restarting = False
        self.status_label.setText("Failed" if not isinstance(error, RunCancelled) else "Stopped")
        self._show_error(describe_failure(error))
        self._show_worker()

    def _show_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_frame.setVisible(bool(message))

    # -- outputs --------------------------------------------------------------------------

    def _show_record(self, record: RunRecord) -> None:
        previous = self._selected_key()
        self.shown = record
        signature = self.meta_graph().signatures.get(record.signature) if self.model else None
        order = list(signature.outputs) if signature else []
        self.table_model.set_record(record, order)
        self.output_caption.setText(f"Outputs · {record.label}")
        self.timings_label.setText(timings_text(record.result))
        self._fill_compare_combo()
        self._update_deltas()
        keys = self.table_model.keys
        if keys:
            self.select_output(previous if previous in keys else keys[0])
        self._update_enabled()

    def select_output(self, key: str) -> None:
        row = self.table_model.keys.index(key)
        self.table.selectRow(row)

    def _selected_key(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table_model.keys[rows[0].row()] if rows else None

    def _on_output_selected(self, _selected: QItemSelection, _deselected: QItemSelection):
        key = self._selected_key()
        if key is not None and self.shown is not None:
            self.tensor_view.show_array(key, self.shown.outputs[key])

    # -- comparing and saving -------------------------------------------------------------

    def _fill_compare_combo(self) -> None:
        combo = self.compare_combo
        chosen = combo.currentData() if combo.count() else PREVIOUS
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("previous run", PREVIOUS)
        combo.addItem("nothing", "")
        for path in self.baselines:
            combo.addItem(Path(path).name, path)
            combo.setItemData(combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        index = combo.findData(chosen)
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.blockSignals(False)

    def baseline(self) -> tuple[str, dict] | None:
        """(what it is, its outputs) for the Δ column, or None."""
        chosen = self.compare_combo.currentData()
        if chosen == PREVIOUS:
            if self.shown is None or self.shown.number < 2:
                return None
            earlier = self.runs[self.shown.number - 2]
            return earlier.label, earlier.outputs
        if chosen in self.baselines:
            return Path(chosen).name, self.baselines[chosen]
        return None

    def _on_compare_changed(self, _index: int) -> None:
        self._update_deltas()

    def _update_deltas(self) -> None:
        baseline = self.baseline()
        if self.shown is None or baseline is None:
            self.table_model.set_deltas({})
            wanted = self.compare_combo.currentData() == PREVIOUS and self.shown is not None
            self.compare_note.setText("no earlier run yet" if wanted else "")
            return
        label, outputs = baseline
        deltas = compare_outputs(self.shown.outputs, outputs)
        self.table_model.set_deltas(deltas)
        gone = [k for k, d in deltas.items() if d.status == "gone"]
        note = f"Δ vs {label}" + (f"; only there: {', '.join(gone)}" if gone else "")
        short = label.replace(f" · {self.shown.signature}", "")
        self.compare_note.setText(short if label != short else note)
        self.compare_note.setToolTip(note)

    def save_outputs(self, path: str | Path) -> Path:
        """Save the shown run's outputs as one .npz (never inside the model folder)."""
        if self.shown is None:
            raise SmlensError(path, "no run to save")
        target = Path(path).resolve()
        folder = self.model.path if self.model.path.is_dir() else self.model.path.parent
        if target.is_relative_to(folder.resolve()):
            raise SmlensError(path, "will not write into the model folder")
        return save_outputs(target, self.shown.outputs)

    def load_baseline(self, path: str | Path) -> None:
        """Compare with the outputs saved in ``path`` from now on."""
        self.baselines[str(path)] = load_outputs(path)
        self._fill_compare_combo()
        self.compare_combo.setCurrentIndex(self.compare_combo.findData(str(path)))

    def _on_save_clicked(self) -> None:
        record = self.shown
        start = Path(self.inputs.start_dir) / f"{record.signature}-run{record.number}.npz"
        path, _ = QFileDialog.getSaveFileName(self, "Save outputs", str(start), "NumPy (*.npz)")
        if not path:
            return
        try:
            saved = self.save_outputs(path)
        except (SmlensError, OSError) as e:
            self._show_error(f"Not saved: {e}")
        else:
            self.status_label.setText(f"Saved {saved.name}")

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Compare with outputs", self.inputs.start_dir, "NumPy (*.npz *.npy)"
        )
        if not path:
            return
        try:
            self.load_baseline(path)
        except SmlensError as e:
            self._show_error(str(e))

    # -- shutting down --------------------------------------------------------------------

    def _shutdown_worker(self, wait: bool) -> None:
        self._stop.set()
        self._run_runner.cancel()
        self._device_runner.cancel()
        self.devices = None
        if wait:
            self.engine.close()
        elif self.engine.pid is not None:
            threading.Thread(target=self.engine.close, daemon=True).start()
        self._show_worker()

    def shutdown(self) -> None:
        """Stop any run and let the worker quit: the window is closing."""
        self._shutdown_worker(wait=True)


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(RunPanel)
