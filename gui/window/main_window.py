"""The main window: a dock per panel, the problem bar, the File, View and Help menus, and
the status bar that follows loading."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QWidget,
)

from smlens.core.analysis.scan import ops_notes
from smlens.core.analysis.variables_export import export_variables, exported_text
from smlens.core.model import Model
from smlens.core.model.text import counted, format_name, human_bytes
from smlens.gui.base import theme
from smlens.gui.base.loader import ModelLoader
from smlens.gui.base.problem_bar import ProblemBar
from smlens.gui.base.tasks import TaskRunner, tasks_held
from smlens.gui.base.theme import app_icon
from smlens.gui.run.conversion_dialog import ConversionDialog
from smlens.gui.run.freeze_dialog import FreezeDialog, freezable
from smlens.gui.run.wrap_dialog import WrapDialog, wrappable
from smlens.gui.window import help
from smlens.gui.window.docks import BELOW, BELOW_TABBED, PANELS, TABBED, DockScroll, load_panels
from smlens.resources import sample_path

if TYPE_CHECKING:
    from smlens.gui.compare.window import CompareWindow

log = logging.getLogger(__name__)

APP_TITLE = "SavedModel Lens"
STATE_VERSION = 2  # bump when the default dock arrangement changes shape
MAX_RECENT = 10
RECENT_KEY = "recent"
REOPEN_KEY = "start/reopen_last"
THEME_KEY = "view/theme"
THEME_NAMES = {"system": "Follow the &System", "light": "&Light", "dark": "&Dark"}
DEFAULT_SIZE = (1400, 900)
GRAPH_SHARE = 0.7  # of the window's width, when a graph is opened: the docks beside it
# keep room for the signature tree and its snippet
NARROW_WIDTH = 1200  # px: below this, opening a graph folds its inspector
# The signatures tab group's share of the height: it shows serving_default's inputs and
# outputs, and the variables below get room for 15 rows of a tensor.
UPPER_SHARE = 0.3
UPPER_MINIMUM = 280  # pixels: serving_default's rows and its snippet, on a small screen too
SAMPLE_NOTE = "Showing the bundled sample model: open your own with File ▸ Open Folder (Ctrl+O)"
MODEL_FILTER = "Models (*.pb *.pbtxt *.meta *.index checkpoint);;All files (*)"


def _exists(path: str) -> bool:
    """A model path still on disk: a file, a folder or a checkpoint prefix."""
    return Path(path).exists() or Path(path + ".index").is_file()


class MainWindow(QMainWindow):
    """Shows one model at a time; opening another replaces it in every panel."""

    model_loaded = Signal(object)  # Model, after every panel shows it
    load_failed = Signal(str)  # "file: what is wrong"

    def __init__(self, settings: QSettings | None = None, persist: bool = True):
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.persist = persist  # False for screenshots: no saved layout, no recent list
        self.model: Model | None = None
        self.compare_window: CompareWindow | None = None
        self.conversion_dialog: ConversionDialog | None = None  # freeze or wrap, the last one
        self._note = ""  # a status line to show once the current load ends
        self._sized = False
        self._graph_in_front = False  # show_view('graph'): keep it wide when sizes apply
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        # Every panel is a dock; Qt wants a central widget all the same, so give it an
        # empty one that takes no room.
        placeholder = QWidget(self)
        placeholder.setMaximumSize(0, 0)
        self.setCentralWidget(placeholder)

        self.problem_bar = ProblemBar(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.problem_bar)
        self.loader = ModelLoader(self)
        self.loader.model_loaded.connect(self._on_loader_model_loaded)
        self.loader.load_failed.connect(self._on_loader_load_failed)
        self.loader.progressed.connect(self._on_loader_progressed)
        self.loader.busy_changed.connect(self._on_loader_busy_changed)

        self.panels = load_panels()
        self.docks = {key: self._make_dock(key, panel) for key, panel in self.panels.items()}
        self._connect_panels()
        self._build_status_bar()
        self._build_menus()
        self._export_runner = TaskRunner(self)
        self._export_runner.finished.connect(self._on_export_finished)
        self._export_runner.failed.connect(self._on_export_failed)
        self.resize(*self._default_size())
        self._arrange_default()
        if self.persist:
            self._restore_layout()
        self._update_title()

    # -- building ---------------------------------------------------------------------

    def _make_dock(self, key: str, panel: QWidget) -> QDockWidget:
        dock = QDockWidget(panel.title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(DockScroll(panel))
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    def _connect_panels(self) -> None:
        """Every panel offers the same requests (``Panel`` declares them): wire them all."""
        for key, panel in self.panels.items():
            self.docks[key].visibilityChanged.connect(panel.set_on_screen)
            panel.variable_selected.connect(self._on_panel_variable_selected)
            panel.graph_requested.connect(self._on_panel_graph_requested)
        overview = self.panels.get("overview")
        if overview is not None:
            overview.path_requested.connect(self.open_path)
            overview.compare_requested.connect(self.compare)
        graph = self.panels.get("graph")
        if graph is not None:
            graph.wants_focus.connect(self._on_graph_wants_focus)
        assets = self.panels.get("assets")
        if assets is not None and "run" in self.panels:
            assets.run_inputs_requested.connect(self._on_run_inputs_requested)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self._progress = QProgressBar()
        self._progress.setRange(0, 100)
        self._progress.setMaximumWidth(180)
        self._progress.setMaximumHeight(14)
        self._progress.setTextVisible(False)
        self._progress.hide()
        self._summary = QLabel()
        bar.addPermanentWidget(self._progress)
        bar.addPermanentWidget(self._summary)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Open &Folder…", self.choose_folder, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &File…", self.choose_file, "Ctrl+Shift+O")
        self._action(file_menu, "&Compare With…", self.choose_compare, "Ctrl+D")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self.reopen_action = file_menu.addAction("Reopen the Last Model at Start")
        self.reopen_action.setCheckable(True)
        self.reopen_action.setChecked(self.reopens_last())
        self.reopen_action.toggled.connect(self._on_reopen_toggled)
        file_menu.addSeparator()
        self.export_action = self._action(
            file_menu, "&Export All Variables…", self.choose_export_variables
        )
        self.freeze_action = self._action(file_menu, "Freeze to &GraphDef…", self.choose_freeze)
        self.wrap_action = self._action(file_menu, "&Wrap as SavedModel…", self.choose_wrap)
        self.freeze_action.setEnabled(False)
        self.wrap_action.setEnabled(False)
        file_menu.addSeparator()
        self._action(file_menu, "&Close", self.close_model, QKeySequence.StandardKey.Close)
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        self.view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        theme_menu = self.view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        chosen = str(self.settings.value(THEME_KEY, theme.preference()))
        self.theme_actions = {}
        for choice, text in THEME_NAMES.items():
            action = theme_menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(choice == chosen)
            action.triggered.connect(lambda _checked=False, c=choice: self.set_theme(c))
            group.addAction(action)
            self.theme_actions[choice] = action
        self._action(self.view_menu, "&Reset Layout", self.reset_layout)

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard Shortcuts", lambda: help.show_shortcuts(self), "F1")
        self._action(help_menu, "&About SavedModel Lens", self._on_about_triggered)

    def _action(self, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def createPopupMenu(self) -> QMenu:
        """The right-click menu over docks: the View menu's panel toggles."""
        menu = QMenu(self)
        for dock in self.docks.values():
            menu.addAction(dock.toggleViewAction())
        return menu

    def _on_about_triggered(self) -> None:
        run = self.panels.get("run")
        tensorflow = run.tensorflow_status() if run is not None else None
        help.show_about(self, self.settings.fileName(), str(sample_path()), tensorflow)

    def set_theme(self, choice: str) -> None:
        """Light, dark or "system" (follow it), applied now and remembered."""
        theme.set_preference(choice)
        self.settings.setValue(THEME_KEY, theme.preference())
        self.theme_actions[theme.preference()].setChecked(True)
        app = QApplication.instance()
        theme.apply_theme(app)
        theme.restyle_plots(app)

    # -- layout -----------------------------------------------------------------------

    def _default_size(self) -> tuple[int, int]:
        """1400 by 900, or less on a smaller screen (a 1366 by 768 laptop)."""
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return DEFAULT_SIZE
        room = screen.availableGeometry()
        return min(DEFAULT_SIZE[0], room.width()), min(DEFAULT_SIZE[1], room.height() - 30)

    def _arrange_default(self) -> None:
        """Overview on the left; signatures tabbed with functions, ops, assets and objects
        at the top right; variables (with their values) below them.

        All docks share one area, since the central widget takes no room. Qt loses a dock
        split off a tab group, so the split comes before the tabs."""
        area = Qt.DockWidgetArea.LeftDockWidgetArea
        for dock in self.docks.values():
            dock.setFloating(False)
            self.removeDockWidget(dock)
        overview = self.docks.get("overview")
        tabbed = [self.docks[k] for k in TABBED if k in self.docks]
        below = [self.docks[k] for k in BELOW if k in self.docks]
        placed = []
        for dock in [overview, *tabbed[:1], *below]:
            if dock is None:
                continue
            if not placed:
                self.addDockWidget(area, dock)
            elif placed[-1] is overview:
                self.splitDockWidget(overview, dock, Qt.Orientation.Horizontal)
            else:
                self.splitDockWidget(placed[-1], dock, Qt.Orientation.Vertical)
            placed.append(dock)
        for dock in tabbed[1:]:
            self.tabifyDockWidget(tabbed[0], dock)
        for dock in [self.docks[k] for k in BELOW_TABBED if k in self.docks]:
            if below or tabbed:
                self.tabifyDockWidget((below or tabbed)[0], dock)
            else:
                self.addDockWidget(area, dock)
        self._graph_in_front = False
        if overview is not None and "graph" in self.docks:  # widened when shown: show_view
            self.tabifyDockWidget(overview, self.docks["graph"])
        for dock in self.docks.values():
            dock.show()
        if overview is not None:
            overview.raise_()
        if tabbed:
            tabbed[0].raise_()
        if below:
            below[0].raise_()

    def _apply_default_sizes(self) -> None:
        """Dock sizes only take once the window has its size, so this runs after show."""
        upper = next((self.docks[k] for k in TABBED if k in self.docks), None)
        lower = next((self.docks[k] for k in BELOW if k in self.docks), None)
        right = upper or lower
        if "overview" in self.docks and right is not None:
            width = int(self.width() * 0.34)
            self.resizeDocks(
                [self.docks["overview"], right],
                [width, self.width() - width],
                Qt.Orientation.Horizontal,
            )
        if upper is not None and lower is not None:
            height = self.height()
            upper_height = min(max(UPPER_MINIMUM, int(height * UPPER_SHARE)), height // 2)
            sizes = [upper_height, height - upper_height]
            self.resizeDocks([upper, lower], sizes, Qt.Orientation.Vertical)
        if self._graph_in_front:  # asked for (--view graph) before the window had its size
            self._widen(self.docks["graph"])

    def reset_layout(self) -> None:
        self._arrange_default()
        self._apply_default_sizes()

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None and self.restoreState(state, STATE_VERSION):
            self._sized = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            QTimer.singleShot(0, self._apply_default_sizes)

    def closeEvent(self, event) -> None:
        self.loader.cancel()
        for panel in self.panels.values():
            panel.shutdown()  # the run panel's TensorFlow worker
        if self.conversion_dialog is not None:
            self.conversion_dialog.shutdown()  # a freeze or wrap worker
        if self.persist:
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/state", self.saveState(STATE_VERSION))
        super().closeEvent(event)

    def view_names(self) -> list[str]:
        return list(self.docks)

    def view_key(self, name: str) -> str:
        """The panel key ``name`` means ("Object graph" -> "objects"); KeyError names the
        choices."""
        wanted = name.partition(":")[0].strip().lower().replace("-", "_").replace(" ", "_")
        for spec in PANELS:
            if spec.key in self.docks and wanted in (spec.key, *spec.aliases):
                return spec.key
        raise KeyError(f"unknown view {name!r}; choose one of: {', '.join(self.view_names())}")

    def show_view(self, name: str) -> None:
        """Show the dock of panel ``name`` and bring its tab to the front; "graph:NAME"
        opens NAME in the graph panel (KeyError when the model has no such graph)."""
        key = self.view_key(name)
        dock = self.docks[key]
        dock.show()
        dock.lower()  # raise_() only switches tabs when it changes the stacking order
        dock.raise_()
        if key == "graph":
            self._graph_in_front = True
            self._widen(dock)
            if ":" in name:
                self.panels["graph"].open_name(name.partition(":")[2])

    def _on_run_inputs_requested(self, warmup, index: int) -> None:
        """The Assets panel's "Use as Run inputs": the Run panel, that warmup record chosen."""
        self.show_view("run")
        if not self.panels["run"].use_warmup_record(warmup, index):
            self.statusBar().showMessage(f"Warmup record {index} names no signature to run")

    def _on_graph_wants_focus(self) -> None:
        """The user opened a graph: it gets the main area, and on a narrow window the
        inspector folds away until asked for."""
        self.show_view("graph")
        if self.width() < NARROW_WIDTH:
            self.panels["graph"].show_details(False)

    def _widen(self, dock: QDockWidget) -> None:
        """Give the graph most of the window's width."""
        right = next((self.docks[k] for k in (*TABBED, *BELOW) if k in self.docks), None)
        if right is not None:
            width = int(self.width() * GRAPH_SHARE)
            sizes = [width, self.width() - width]
            self.resizeDocks([dock, right], sizes, Qt.Orientation.Horizontal)

    # -- opening ----------------------------------------------------------------------

    def open_paths(self, paths: list[str | Path]) -> None:
        """Open one path; given two, compare A (the old export) with B, and show B here."""
        if not paths:
            return
        if len(paths) == 1:
            self.open_path(paths[0])
            return
        self.open_path(paths[1])
        self.compare(paths[0], paths[1])
        if len(paths) > 2:
            self._note = (
                f"Compared {Path(paths[0]).name} with {Path(paths[1]).name}; only two models "
                f"compare at once, so {', '.join(Path(p).name for p in paths[2:])} stayed closed."
            )
            self.statusBar().showMessage(self._note)

    def compare(self, a: str | Path | Model, b: str | Path | Model) -> None:
        """Show the compare window diffing ``a`` (the old export) against ``b``.

        The window's module is imported on first use: the diff and networkx it pulls in
        cost 0.2 s of every start."""
        if self.compare_window is None:
            from smlens.gui.compare.window import CompareWindow

            self.compare_window = CompareWindow(self)
        self.compare_window.show()
        self.compare_window.raise_()
        self.compare_window.activateWindow()
        self.compare_window.compare(a, b)

    def choose_compare(self) -> None:
        """File > Compare With: the open model is A (asked for when none is open), then B."""
        a = self.model
        if a is None:
            a = QFileDialog.getExistingDirectory(self, "Compare: Old Export (A)", self._start_dir())
        if not a:
            return
        name = a.path.name if isinstance(a, Model) else Path(a).name
        b = QFileDialog.getExistingDirectory(self, f"Compare {name} With…", self._start_dir())
        if b:
            self.compare(a, b)

    def start(self, paths: list[str | Path]) -> None:
        """What a start opens: the paths given; else the last model (unless that is turned
        off); else the bundled sample, saying it is one."""
        recent = self.recent_paths()
        if paths:
            self.open_paths(paths)
        elif recent and self.reopens_last():
            self.open_path(recent[0])
            self._note = f"Reopened the last model, {recent[0]}"
        else:
            self.open_path(sample_path())
            self._note = SAMPLE_NOTE
            self.statusBar().showMessage(SAMPLE_NOTE)

    def reopens_last(self) -> bool:
        return self.settings.value(REOPEN_KEY, True, type=bool)

    def _on_reopen_toggled(self, checked: bool) -> None:
        self.settings.setValue(REOPEN_KEY, checked)

    def open_path(self, path: str | Path) -> None:
        self._note = ""
        self.loader.open(path)
        self.statusBar().showMessage(f"Opening {path}…")

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open SavedModel Folder", self._start_dir())
        if folder:
            self.open_path(folder)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Model File", self._start_dir(), MODEL_FILTER
        )
        if path:
            self.open_path(path)

    def _start_dir(self) -> str:
        recent = self.recent_paths()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def close_model(self) -> None:
        self.loader.cancel()
        self._show_everywhere(None)
        self.problem_bar.clear()
        self.statusBar().clearMessage()

    # -- loader events ----------------------------------------------------------------

    def _on_loader_model_loaded(self, model: Model) -> None:
        with tasks_held():  # the panels' own tasks start once they are all shown
            self._show_model(model)

    def _show_model(self, model: Model) -> None:
        failures = self._show_everywhere(model)
        self.problem_bar.show_problems(model.problems, model.path)
        for line in failures:
            self.problem_bar.add_message(line, "error")
        for line in ops_notes(model):
            self.problem_bar.add_message(line, "warning")
        if Path(self.loader.path).resolve() != sample_path():
            self._remember(str(self.loader.path))
        n = len(model.problems)
        opened = f"Opened {model.path}" + (f" with {counted(n, 'problem')}" if n else "")
        self.statusBar().showMessage(self._note or opened)
        self.model_loaded.emit(model)

    def _on_loader_load_failed(self, path: str, message: str) -> None:
        self.problem_bar.show_error(message)
        self.statusBar().showMessage(f"Could not open {path}")
        self.load_failed.emit(message)

    def _on_loader_progressed(self, fraction: float, text: str) -> None:
        self._progress.setValue(int(fraction * 100))
        name = self.loader.path.name if self.loader.path else ""
        self.statusBar().showMessage(f"Opening {name}: {text}…" if text else f"Opening {name}…")

    def _on_loader_busy_changed(self, busy: bool) -> None:
        self._progress.setValue(0)
        self._progress.setVisible(busy)

    def _on_panel_graph_requested(self, tag_set: str, kind: str, name: str) -> None:
        """A signature or function asked to be drawn: open it in the graph panel."""
        panel = self.panels.get("graph")
        if panel is None:
            return
        self.show_view("graph")
        if kind == "signature":
            panel.open_signature(tag_set, name)
        elif kind == "graph":  # the main graph of a meta graph without signatures
            panel.open_main_graph(tag_set)
        else:
            panel.open_function(tag_set, name)

    def _on_panel_variable_selected(self, key: str) -> None:
        panel = self.panels.get("variables")
        if panel is None or not panel.select_variable(key):
            return
        self.docks["variables"].show()
        self.docks["variables"].raise_()

    # -- showing ----------------------------------------------------------------------

    def _show_everywhere(self, model: Model | None) -> list[str]:
        """Hand ``model`` to every panel; a panel that raises is dimmed, not fatal.
        Returns one line per failed panel."""
        self.model = model
        self.freeze_action.setEnabled(freezable(model))
        self.wrap_action.setEnabled(wrappable(model))
        failures = []
        for key, panel in self.panels.items():
            try:
                panel.set_model(model)
            except Exception as e:
                log.exception("the %s panel failed to show the model", key)
                failures.append(f"{panel.title} panel: {type(e).__name__}: {e}")
                panel.set_unavailable(f"This panel failed: {type(e).__name__}: {e}")
        self._update_title()
        return failures

    def _update_title(self) -> None:
        if self.model is None:
            self.setWindowTitle(APP_TITLE)
            self._summary.setText("")
            return
        sample = " (the bundled sample)" if self.model.path == sample_path() else ""
        self.setWindowTitle(f"{self.model.path}{sample} — {APP_TITLE}")
        size = human_bytes(sum(self.model.files.values()))
        self._summary.setText(f"{format_name(self.model.format)} · {size}")

    def report_error(self, text: str) -> None:
        """One line for an unexpected exception; the traceback goes to the log."""
        self.problem_bar.add_message(f"Internal error: {text} (details in the log)", "error")
        self.statusBar().showMessage(f"Internal error: {text}")

    # -- exporting --------------------------------------------------------------------

    def choose_export_variables(self) -> None:
        """File ▸ Export All Variables: one .npz keyed by resolved name, off the UI thread."""
        if self.model is None or not self.model.has_values():
            self.statusBar().showMessage("No variables to export: open a model with variables")
            return
        start = Path(self._start_dir()) / f"{self.model.path.name or 'model'}-variables.npz"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export All Variables", str(start), "NumPy (*.npz)"
        )
        if path:
            self.export_variables(path)

    def export_variables(self, path: str | Path) -> None:
        self.statusBar().showMessage(f"Exporting the variables to {path}…")
        self._export_path, self._export_model = str(path), self.model
        self._export_runner.start(export_variables, self.model, path)

    def _on_export_finished(self, written: dict) -> None:
        what = exported_text(self._export_model, written)
        self.statusBar().showMessage(f"Exported {what} to {self._export_path}")

    def _on_export_failed(self, error: BaseException) -> None:
        self.problem_bar.add_message(f"Not exported: {error}", "error")

    # -- freeze and wrap --------------------------------------------------------------

    def choose_freeze(self) -> None:
        """File ▸ Freeze to GraphDef: the dialog over the open .meta or SavedModel."""
        if freezable(self.model):
            self._show_conversion(FreezeDialog(self.model, self, tensorflow=self._tensorflow()))

    def choose_wrap(self) -> None:
        """File ▸ Wrap as SavedModel: the dialog over the open frozen GraphDef."""
        if wrappable(self.model):
            self._show_conversion(WrapDialog(self.model, self, tensorflow=self._tensorflow()))

    def _tensorflow(self):
        run = self.panels.get("run")
        return run.tensorflow_status() if run is not None else None

    def _show_conversion(self, dialog: ConversionDialog) -> None:
        """One conversion dialog at a time; "Open in window" opens what it wrote."""
        if self.conversion_dialog is not None:
            self.conversion_dialog.close()
            self.conversion_dialog.deleteLater()
        self.conversion_dialog = dialog
        dialog.open_requested.connect(self.open_path)
        dialog.open()

    # -- recent models ----------------------------------------------------------------

    def recent_paths(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if _exists(p)][:MAX_RECENT]

    def _remember(self, path: str) -> None:
        if not self.persist:
            return
        paths = [path] + [p for p in self.recent_paths() if p != path]
        self.settings.setValue(RECENT_KEY, paths[:MAX_RECENT])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.recent_paths()
        for path in paths:
            action = menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if not paths:
            menu.addAction("No recent models").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Clear Recent").triggered.connect(self._on_clear_recent_triggered)

    def _on_clear_recent_triggered(self) -> None:
        self.settings.setValue(RECENT_KEY, [])
        self._fill_recent_menu()

    # -- drag and drop ----------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and all(url.isLocalFile() for url in urls):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)
