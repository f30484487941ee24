"""Run a signature in the run worker: choose tag-set, signature and device, edit the inputs,
then read the outputs, their statistics, the timings and the difference from a baseline.

A thin view of core's RunState, which holds the engine, the choices, the runs and the
baselines. Every call to the engine goes through a TaskRunner, so the window never waits
on an import, a load or a run. Stop kills the worker (the only way to interrupt
TensorFlow); a crash is a message here, and the next run starts a fresh worker. Opening
another model keeps the worker warm: it only drops the old model. Where the worker cannot
import TensorFlow, the device row says so with the install command (and a button that
copies it) and Run stays disabled, before any click when TensorFlow is not on the path.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.warmup import has_warmup, preview_warmup, serving_meta_graph
from smlens.core.errors import SmlensError
from smlens.core.formats.warmup import WarmupFile
from smlens.core.model import Model
from smlens.core.model.text import counted
from smlens.core.run.availability import (
    NO_GPU_VISIBLE,
    NO_TENSORFLOW,
    TensorFlowStatus,
    find_tensorflow,
)
from smlens.core.run.client import RunCancelled, RunEngine
from smlens.core.run.graph_request import FEEDS_KEY
from smlens.core.run.inputs import InputsRefused
from smlens.core.run.messages import describe_failure, device_text, risky_text
from smlens.core.run.request import LoadRequest
from smlens.core.run.state import RunState, execute, list_devices, restart_worker, switch_model
from smlens.gui.base.panel import Panel
from smlens.gui.base.tasks import TaskRunner, tasks_running
from smlens.gui.base.widgets import problem_frame
from smlens.gui.run.compare_dialog import RunCompareDialog
from smlens.gui.run.fetches_list import RunFetchesList
from smlens.gui.run.inputs_editor import RunInputsEditor
from smlens.gui.run.outputs_pane import RunOutputsPane
from smlens.gui.run.tensorflow_notice import TensorFlowNotice
from smlens.gui.tensor.view import TensorView

DEVICE_DELAY_MS = 800
NO_GPU = "No GPU found by TensorFlow — running on CPU only"
RUN_TIP = "Run the signature (Ctrl+Enter)"
BY_NAMES = "Tensors by name"  # the signature combo's entry for FEEDS_KEY
NO_TAGS = "(no tags)"  # a GraphDef's or a .meta's one graph
MAX_REPEAT = 100_000
TOP_MINIMUM = 170  # pixels for the inputs and outputs: an output row below the table header


class RunPanel(Panel):
    """Runs one signature at a time in a warm TensorFlow worker."""

    title = "Run"
    part = "graph"

    def __init__(
        self,
        parent: QWidget | None = None,
        engine: RunEngine | None = None,
        state: RunState | None = None,
    ):
        super().__init__(parent)
        self.state = state or RunState(engine)
        # Asked before running a model with risky ops; tests replace it to answer.
        self.confirm_risky: Callable[[str], bool] = self._ask_risky
        self._stop = threading.Event()
        # Its own threads: a long run must not hold the global pool the viewers share.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._run_runner = TaskRunner(self, self._pool)
        self._run_runner.finished.connect(self._on_run_finished)
        self._run_runner.failed.connect(self._on_run_failed)
        self._restart_runner = TaskRunner(self, self._pool)
        self._restart_runner.finished.connect(self._on_restart_finished)
        self._restart_runner.failed.connect(self._on_run_failed)
        for runner in (self._run_runner, self._restart_runner):
            runner.progressed.connect(self._on_progressed)
            runner.busy_changed.connect(self._on_busy_changed)
        self._device_runner = TaskRunner(self, self._pool)
        # Devices are asked for only once the panel has stayed in view a moment: a Run tab
        # merely passed over at start-up must not start TensorFlow's three-second import.
        self._device_timer = QTimer(self, singleShot=True, interval=DEVICE_DELAY_MS)
        self._device_timer.timeout.connect(self._on_device_timer_timeout)
        self._device_runner.finished.connect(self._on_devices_listed)
        self._device_runner.failed.connect(self._on_devices_failed)
        self._warmup_runner = TaskRunner(self)  # the model's warmup file: inputs to choose
        self._warmup_runner.finished.connect(self._on_warmup_read)
        self._split_by_hand = False
        self._tensorflow_on_path: TensorFlowStatus | None = None  # looked for once
        self._build()
        self.state.observe("choice", self._on_choice_changed)
        self.state.observe("runs", self._update_enabled)
        self.state.observe("fetches", self._update_enabled)
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
            combo.setMinimumContentsLength(5)
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
        self.run_button.setToolTip(RUN_TIP)
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
        self.compare_dialog: RunCompareDialog | None = None
        self.compare_button = QToolButton()
        self.compare_button.setText("Compare with…")
        self.compare_button.setToolTip(
            "Compare with another export or a saved run: the same inputs through both"
        )
        self.compare_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        compare_menu = QMenu(self.compare_button)
        compare_menu.addAction("Another export (folder)…", self._on_compare_export_triggered)
        compare_menu.addAction("A saved run (.npz)…", self._on_compare_saved_triggered)
        self.compare_button.setMenu(compare_menu)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        for caption, widget, stretch in (
            ("Tag-set", self.tag_combo, 1),
            ("Signature", self.signature_combo, 2),
            ("Device", self.device_combo, 3),  # "CPU:0 · 23.5 GiB host memory"
        ):
            label = QLabel(caption)
            label.setProperty("role", "muted")
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget, stretch)
            bar.addSpacing(6)

        # Labels wrap at word boundaries rather than being cut or squeezed under each other.
        self.device_note = QLabel()
        self.device_note.setProperty("role", "muted")
        self.device_note.setWordWrap(True)
        self.device_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.worker_label = QLabel()
        self.worker_label.setProperty("role", "muted")
        self.worker_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 100)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        for label in (self.device_note, self.status_label):
            label.setMinimumWidth(60)
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        status = QHBoxLayout()
        status.setSpacing(6)
        status.addWidget(self.run_button)
        status.addWidget(self.stop_button)
        status.addWidget(self.repeat)
        status.addWidget(self.restart_button)
        status.addWidget(self.compare_button)
        status.addSpacing(8)
        status.addWidget(self.busy_bar)
        status.addWidget(self.status_label, 1)
        status.addWidget(self.worker_label)

        # Where the device row's note is: no TensorFlow, and how to get it.
        self.tensorflow_frame = TensorFlowNotice()
        self.tensorflow_label = self.tensorflow_frame.label
        self.copy_install_button = self.tensorflow_frame.copy_button
        self.tensorflow_frame.copied.connect(self._on_install_command_copied)
        notes = QHBoxLayout()
        notes.setSpacing(6)
        notes.addWidget(self.device_note, 1)
        notes.addWidget(self.tensorflow_frame, 1)
        self.loads_edit = QLineEdit()
        self.loads_edit.setPlaceholderText("tensorflow_text, /path/to/ops.so")
        self.loads_edit.setToolTip(
            "Python packages to import or op libraries (.so) to load in the worker before "
            "the model: a model with custom ops needs the library that defines them"
        )
        self.loads_edit.setClearButtonEnabled(True)
        self.loads_edit.editingFinished.connect(self._on_loads_edited)
        self.loads_edit.setMinimumWidth(90)
        loads_label = QLabel("Load")
        loads_label.setProperty("role", "muted")
        loads_label.setBuddy(self.loads_edit)
        bar.addWidget(loads_label)
        bar.addWidget(self.loads_edit, 1)

        self.error_label = QLabel()
        self.error_frame = problem_frame(self.error_label)

        self.inputs = RunInputsEditor()
        self.inputs.changed.connect(self._update_enabled)
        self.fetches = RunFetchesList()
        self.fetches.fetches_changed.connect(self.state.set_fetches)
        self.fetches.setMinimumSize(220, 80)
        self.fetches.hide()
        self.tensor_view = TensorView(with_stats=False)
        self.outputs = RunOutputsPane(
            self.state, self.tensor_view, self._show_error, self.status_label.setText
        )
        # A run by tensor names lists its fetches below the feeds: the outputs keep their width.
        feeds_and_fetches = QSplitter(Qt.Orientation.Vertical)
        feeds_and_fetches.addWidget(self.inputs)
        feeds_and_fetches.addWidget(self.fetches)
        feeds_and_fetches.setChildrenCollapsible(False)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(feeds_and_fetches)
        top.addWidget(self.outputs)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 1)
        top.setChildrenCollapsible(False)
        # Small minimums, so the panel fits a 1024x700 window without scrolling.
        self.inputs.setMinimumSize(220, 80)
        self.outputs.setMinimumSize(220, 90)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.tensor_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.splitterMoved.connect(self._on_splitter_moved)

        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addLayout(notes)
        layout.addLayout(status)
        layout.addWidget(self.splitter, 1)
        # Below everything: an error appearing never moves the controls above it.
        layout.addWidget(self.error_frame)

    # -- the model ------------------------------------------------------------------------

    def show_model(self, model: Model | None) -> None:
        """A new model (or none): every choice and every label starts over; the worker stays
        warm and drops the old model."""
        self._stop.set()
        self._run_runner.cancel()
        self._warmup_runner.cancel()
        self.inputs.set_warmup(None)
        self.state.set_model(model)
        if model is not None and has_warmup(model):
            self._warmup_runner.start(preview_warmup, model)
        if self.state.engine.running:  # the warm worker swaps models: no second TF import
            path, target = self.state.preload_target()
            threading.Thread(target=self._switch, args=(path, target), daemon=True).start()
        self.tensor_view.clear()
        self.tensor_view.set_protected_folder(model.path if model else None)
        self._show_error(self.state.not_runnable_reason())
        self.status_label.setText("")
        self.inputs.start_dir = str(model.path.parent if model else Path.home())
        self.outputs.start_dir = self.inputs.start_dir
        self._fill_devices()
        self._show_tensorflow()
        self._show_worker()
        if self.state.runnable:
            self._device_timer.start()

    def _on_warmup_read(self, report) -> None:
        self.inputs.set_warmup(report.file if report is not None else None)
        self._update_enabled()

    def use_warmup_record(self, warmup: WarmupFile, index: int) -> bool:
        """Run warmup record ``index`` of ``warmup`` (the open model's, as the Assets panel
        read it): the serving tag-set and the record's signature chosen, then the record.
        False when the record cannot be fed to any signature here."""
        if self.model is None or not 0 <= index < len(warmup.records):
            return False
        self._warmup_runner.cancel()
        self.inputs.set_warmup(warmup)
        mg = serving_meta_graph(self.model)
        if mg is not None and mg.tag_set in self.state.tag_sets():
            self.state.choose_tag_set(mg.tag_set)
        signature = warmup.records[index].signature
        if signature in self.state.signature_keys():
            self.state.choose_signature(signature)
        return self.inputs.choose_record(index)

    def _switch(self, path: Path | None, target: LoadRequest | None) -> None:
        # A failed load (a missing op library...) is reported by the run that needs it.
        with contextlib.suppress(SmlensError):
            switch_model(self.state.engine, path, target)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._device_timer.start()
        QTimer.singleShot(0, self._split_evenly)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._split_evenly()

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._split_by_hand = True

    def _split_evenly(self) -> None:
        """About half each, until the user moves the splitter: left to its size hints, the
        tensor view would take most of the height."""
        total = sum(self.splitter.sizes())
        if total > 0 and not self._split_by_hand:
            top = min(max(total // 2, TOP_MINIMUM), total)  # a short panel keeps an output row
            self.splitter.setSizes([top, total - top])

    def came_on_screen(self) -> None:
        self._device_timer.start()

    def _on_device_timer_timeout(self) -> None:
        """Ask for the devices (TensorFlow's import, seconds of a core) once the panel is
        in view, and only while no task runs: it would slow a model or graph opening."""
        if not (self.on_screen and self.isVisible()):
            return
        if self.state.meta_graph() is None or self.state.devices is not None:
            return
        if self.tensorflow_status().not_runnable_reason:  # nothing to ask
            return
        if tasks_running():
            self._device_timer.start()
        else:
            self.list_devices()

    def _on_choice_changed(self) -> None:
        """The tag-set or signature changed in the state: refill the combos and inputs."""
        state = self.state
        self.tag_combo.blockSignals(True)
        self.tag_combo.clear()
        for tag_set in state.tag_sets():
            self.tag_combo.addItem(tag_set or NO_TAGS, tag_set)
        self.tag_combo.setCurrentIndex(max(0, self.tag_combo.findData(state.tag_set)))
        self.tag_combo.blockSignals(False)
        mg = state.meta_graph()
        self.signature_combo.blockSignals(True)
        self.signature_combo.clear()
        for key in state.signature_keys():
            if key == FEEDS_KEY:
                self.signature_combo.addItem(BY_NAMES, key)
                tip = "Feed and fetch the graph's tensors by name, signature or not"
            else:
                sig = mg.signatures[key]
                method = sig.method_name.rsplit("/", 1)[-1]
                self.signature_combo.addItem(key, key)
                tip = f"{key}: {method}, {len(sig.inputs)} inputs, {len(sig.outputs)} outputs"
            self.signature_combo.setItemData(
                self.signature_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        index = self.signature_combo.findData(state.signature_key)
        self.signature_combo.setCurrentIndex(max(0, index))
        self.signature_combo.blockSignals(False)
        self.inputs.set_signature(state.signature(), mg)
        self.fetches.set_graph(mg if state.by_names else None, state.fetches)
        self.fetches.setVisible(state.by_names)
        self.repeat.setValue(state.default_repeat)
        self._show_error(state.not_runnable_reason())
        self._update_enabled()

    def _on_tag_changed(self, _index: int = 0) -> None:
        tag_set = self.tag_combo.currentData()
        if tag_set is not None:
            self.state.choose_tag_set(tag_set)

    def _on_signature_changed(self, _index: int = 0) -> None:
        self.state.choose_signature(self.signature_combo.currentData())

    def _on_loads_edited(self) -> None:
        self.state.set_loads(self.loads_edit.text().split(","))

    # -- devices --------------------------------------------------------------------------

    def list_devices(self) -> None:
        """Ask the worker for its devices; the first ask starts it (TensorFlow's import)."""
        if self._device_runner.busy:
            return
        self.device_note.setText("Asking TensorFlow for its devices…")
        self._device_runner.start(list_devices, self.state.engine)

    def _on_devices_listed(self, found) -> None:
        devices, tf_version, built_with_cuda, pid = found
        self.state.set_devices(devices)
        self._fill_devices()
        if not self.state.has_gpu:
            why = " (this TensorFlow build has no CUDA support)" if built_with_cuda is False else ""
            self.device_note.setText(NO_GPU + why)
        else:
            gpus = sum(d.device_type == "GPU" for d in devices)
            self.device_note.setText(f"{counted(gpus, 'GPU')} found by TensorFlow")
        self.device_note.setToolTip(self.device_note.text())
        self._show_tensorflow()
        self._show_worker(tf_version, pid)

    def _on_devices_failed(self, error: BaseException) -> None:
        if isinstance(error, RunCancelled):
            self.device_note.setText("Devices not listed: the worker was stopped")
        elif self.state.engine.tensorflow and not self.state.engine.tensorflow.found:
            self.device_note.setText("")  # the TensorFlow notice says it
        else:
            self.device_note.setText("Devices unknown: the worker did not answer")
            self._show_error(describe_failure(error))
        self._fill_devices()
        self._show_tensorflow()
        self._show_worker()

    def _fill_devices(self) -> None:
        """The devices TensorFlow sees; an absent GPU is a disabled entry that says so."""
        chosen = self.device_combo.currentData() or "cpu:0"
        combo = self.device_combo
        combo.blockSignals(True)
        combo.clear()
        devices = self.state.devices or []
        if self.tensorflow_status().not_runnable_reason:
            combo.addItem(NO_TENSORFLOW, None)
            combo.setItemData(
                0, self.tensorflow_status().not_runnable_reason, Qt.ItemDataRole.ToolTipRole
            )
        elif not devices:
            combo.addItem("CPU:0", "cpu:0")
        for device in devices:
            combo.addItem(device_text(device), device.spec)
            combo.setItemData(combo.count() - 1, device.name, Qt.ItemDataRole.ToolTipRole)
        if self.state.devices is not None and not self.state.has_gpu:
            combo.addItem(NO_GPU_VISIBLE, None)
            item = combo.model().item(combo.count() - 1)
            item.setEnabled(False)
            item.setToolTip(NO_GPU)
        index = combo.findData(chosen)
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.blockSignals(False)
        if self.state.devices is None and not self._device_runner.busy:
            self.device_note.setText("Devices not listed yet: TensorFlow has not been asked")

    def _show_worker(self, tf_version: str = "", pid: int | None = None) -> None:
        engine = self.state.engine
        pid = pid if pid is not None else engine.pid
        tf_version = tf_version or engine.tf_version
        if pid is None or not engine.running:
            self.worker_label.setText("worker not running")
        else:
            self.worker_label.setText(f"TF {tf_version} · worker pid {pid}")
            self.worker_label.setToolTip(f"TensorFlow {tf_version} in the worker, pid {pid}")

    # -- TensorFlow ------------------------------------------------------------------------

    def tensorflow_status(self) -> TensorFlowStatus:
        """What the worker said of TensorFlow when it last started; before any start, whether
        it is on the path. Help ▸ About shows the same."""
        if self.state.engine.tensorflow is not None:
            return self.state.engine.tensorflow
        if self._tensorflow_on_path is None:
            self._tensorflow_on_path = find_tensorflow()
        return self._tensorflow_on_path

    def _show_tensorflow(self) -> None:
        """The no-TensorFlow notice and the Run button's reason, or neither."""
        reason = self.tensorflow_status().not_runnable_reason
        self.tensorflow_frame.show_reason(reason)
        self.device_note.setVisible(not reason)
        self._update_enabled()

    def _on_install_command_copied(self) -> None:
        self.status_label.setText("Install command copied")

    # -- running --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A run or a restart is under way (the device listing is not: it never blocks Run)."""
        return self._run_runner.busy or self._restart_runner.busy

    @property
    def settling(self) -> bool:
        """A run, the device listing (due or under way) or the warmup file's reading will
        change what the panel shows: a screenshot waits for it."""
        timer = self._device_timer.isActive()
        return self.busy or timer or self._device_runner.busy or self._warmup_runner.busy

    def run(self) -> bool:
        """Check the inputs, ask about risky ops, then run; False when nothing started."""
        if self.busy or self.state.signature() is None:
            return False
        if self.tensorflow_status().not_runnable_reason or self.inputs.not_runnable_reason():
            return False
        request = self._checked_request(self.repeat.value())
        if request is None:
            return False
        self._stop = threading.Event()
        self.status_label.setText("Starting…")
        self._run_runner.start(execute, self.state.engine, request, self._stop)
        return True

    def _checked_request(self, repeat: int):
        """The run request of the inputs shown, once the inputs are accepted and risky ops
        consented to; None (and why, in the panel) otherwise."""
        self._show_error(None)
        try:
            values = self.inputs.values()
        except InputsRefused as e:
            self._refuse_inputs(e)
            return None
        if self.state.needs_consent():
            if not self.confirm_risky(risky_text(self.state.risky_scan(), self.state.tag_set)):
                self.status_label.setText("Not run: risky ops refused")
                return None
            self.state.allow_risky()
        self.state.choose_device(self.device_combo.currentData())
        self.state.set_loads(self.loads_edit.text().split(","))
        try:
            request = self.state.request(values, repeat)
        except InputsRefused as e:
            self._refuse_inputs(e)
            return None
        self.inputs.show_errors({})
        return request

    def compare_with(self, other: str | Path) -> RunCompareDialog | None:
        """Run the signature and inputs shown here through another export (a folder), or
        hold this export against a saved run (.npz), in a dialog; None when nothing ran."""
        if self.busy or self.state.signature() is None or self.state.by_names:
            return None
        request = self._checked_request(1)
        if request is None:
            return None
        source = f"the Run panel's inputs ({', '.join(request.inputs) or 'none'})"
        dialog = RunCompareDialog(
            self.state.engine,
            request.target,
            request.signature.key,
            dict(request.inputs),
            source,
            other,
            self,
        )
        dialog.run_finished.connect(self._on_compare_ended)
        dialog.run_failed.connect(self._on_compare_ended)
        dialog.show()
        self.compare_dialog = dialog
        return dialog

    def _on_compare_ended(self, _result: object) -> None:
        self._show_worker()  # the comparison started (or killed) the panel's worker

    def _on_compare_export_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Compare with another export", self.inputs.start_dir
        )
        if folder:
            self.compare_with(folder)

    def _on_compare_saved_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Compare with a saved run", self.inputs.start_dir, "Saved runs (*.npz)"
        )
        if path:
            self.compare_with(path)

    def _refuse_inputs(self, refused: InputsRefused) -> bool:
        """Mark each input at fault in its row and say which; nothing runs."""
        self.inputs.show_errors(refused.errors)
        keys = ", ".join(repr(k) for k in refused.errors)
        plural = "s" * (len(refused.errors) > 1)
        self._show_error(f"Not run: fix the input{plural} {keys} (in red).")
        self.status_label.setText("")
        return False

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
        """Stop the running call: the worker is killed and the run ends as stopped.

        The engine is stopped too: a run that waits for the device listing to start the
        worker (TensorFlow's import) ends at once, and so does that start."""
        if self.busy:
            self._stop.set()
            self.state.engine.stop()
            self.status_label.setText("Stopping…")

    def restart_worker(self) -> None:
        """Kill the worker and start a fresh one (a run in progress is stopped)."""
        self._stop.set()
        self._run_runner.cancel()
        self._show_error(None)
        self.status_label.setText("Restarting the worker…")
        self._restart_runner.start(restart_worker, self.state.engine)

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
        ready = self.state.signature() is not None and bool(
            self.state.fetches or not self.state.by_names
        )
        no_tensorflow = self.tensorflow_status().not_runnable_reason
        refused = self.inputs.not_runnable_reason()  # a warmup record that does not fit
        self.run_button.setEnabled(ready and not busy and not no_tensorflow and not refused)
        self.run_button.setToolTip(no_tensorflow or refused or RUN_TIP)
        self.stop_button.setEnabled(busy)
        self.restart_button.setEnabled(self.model is not None)
        self.compare_button.setEnabled(
            ready and not busy and not no_tensorflow and not self.state.by_names
        )
        choices = (self.tag_combo, self.signature_combo, self.device_combo, self.inputs)
        for widget in (*choices, self.fetches):
            widget.setEnabled(not busy and self.state.meta_graph() is not None)
        self.device_combo.setEnabled(self.device_combo.isEnabled() and not no_tensorflow)

    def _on_run_finished(self, found: tuple) -> None:
        record = self.state.add_run(*found)
        self.status_label.setText(f"Run #{record.number} done")
        self._show_worker()

    def _on_restart_finished(self, pid: int | None) -> None:
        self.status_label.setText("Fresh worker ready")
        self._fill_devices()
        self._show_tensorflow()
        self._show_worker(pid=pid)
        if self.state.devices is None and self.state.runnable:
            self.list_devices()  # TensorFlow may just have been installed

    def _on_run_failed(self, error: BaseException) -> None:
        """A run or a restart failed or was stopped."""
        self.status_label.setText("Failed" if not isinstance(error, RunCancelled) else "Stopped")
        status = self.state.engine.tensorflow
        if status is not None and not status.found:  # the notice says it, with the command
            self.status_label.setText("Not run")
            self._show_error(None)
            self._fill_devices()
        else:
            self._show_error(describe_failure(error))
        self._show_tensorflow()
        self._show_worker()

    def _show_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_frame.setVisible(bool(message))

    # -- shutting down --------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop any run and let the worker quit: the window is closing."""
        self._stop.set()
        runners = (self._run_runner, self._restart_runner, self._device_runner, self._warmup_runner)
        for runner in runners:
            runner.cancel()
        if self.compare_dialog is not None:
            self.compare_dialog.cancel()
        self.state.set_devices(None)
        self.state.engine.close()
        self._show_worker()


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(RunPanel)
