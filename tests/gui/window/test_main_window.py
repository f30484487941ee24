"""The main window: loading off the UI thread, errors in the problem bar, dimmed panels,
replacing models, recent models, saved layout, and ``--screenshot``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent, QImage, QPalette
from PySide6.QtWidgets import QTabBar

from smlens.core import Problem, open_model
from smlens.gui.base import theme
from smlens.gui.base.panel import Panel
from smlens.gui.base.problem_bar import SHOWN_LINES
from smlens.gui.window.app import install_excepthook
from smlens.gui.window.main_window import GRAPH_SHARE, MAX_RECENT, MainWindow
from smlens.resources import sample_path
from tests.gui.window.loading import LOAD_MS, fail_to_open, open_in
from tests.gui.window.smlens_process import run_smlens


def _panels(window: MainWindow) -> list[Panel]:
    return [p for p in window.panels.values() if isinstance(p, Panel)]


def test_every_present_panel_gets_a_dock_and_a_view_toggle(window):
    assert "overview" in window.docks
    toggles = {a.text() for a in window.view_menu.actions()}
    for key, dock in window.docks.items():
        assert dock.widget().widget() is window.panels[key]
        assert dock.toggleViewAction().text() in toggles


def test_opening_a_model_fills_the_panels_and_the_title(qtbot, window, models):
    path = models.path("keras_export")
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_path(path)
        assert not window._progress.isHidden()  # the read runs on the pool, not here
        assert "keras_export" in window.statusBar().currentMessage()
    assert window.model.path == path
    assert str(path) in window.windowTitle()
    assert all(p.model is window.model for p in _panels(window))
    assert window.panels["overview"]._title.text() == "keras_export"
    assert window.problem_bar.isHidden()
    assert not window.loader.busy and window._progress.isHidden()


def test_a_corrupt_model_shows_its_error_and_keeps_the_window(qtbot, window, models, tmp_path):
    truncated = tmp_path / "truncated"
    shutil.copytree(models.path("keras_export"), truncated)
    pb = truncated / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "saved_model.pb").write_bytes(b"not a SavedModel \x00\xff" * 16)

    open_in(qtbot, window, sample_path())
    for broken in (truncated, garbage):
        message = fail_to_open(qtbot, window, broken)
        assert message.startswith(str(broken / "saved_model.pb"))
        assert not window.problem_bar.isHidden()
        assert window.problem_bar.level == "error"
        assert window.problem_bar.lines[-1] == message
    # The model that was open stays open and usable.
    assert window.model.path == sample_path()
    assert str(sample_path()) in window.windowTitle()


def test_a_folder_that_is_no_model_says_what_is_missing(qtbot, window, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    message = fail_to_open(qtbot, window, tmp_path)
    assert "not a model folder" in message
    assert window.model is None


def test_a_missing_variables_shard_dims_only_the_variables_panels(qtbot, window, models, tmp_path):
    broken = tmp_path / "no_shard"
    shutil.copytree(models.path("keras_export"), broken)
    for shard in (broken / "variables").glob("*.data-*"):
        shard.unlink()
    open_in(qtbot, window, broken)
    panels = _panels(window)
    assert {p.part for p in window.model.problems} == {"variables"}
    assert any(p.part == "variables" for p in panels), "no panel shows variables"
    for panel in panels:
        assert panel.unavailable == (panel.part == "variables"), panel.title
    assert window.problem_bar.level == "warning"
    assert any(line.startswith("variables/variables.data-") for line in window.problem_bar.lines)


def test_opening_another_model_replaces_the_first_everywhere(qtbot, window, models):
    open_in(qtbot, window, models.path("keras_export"))
    second = models.path("tf1_multi_tag")
    open_in(qtbot, window, second)
    assert window.model.path == second
    assert all(p.model is window.model for p in _panels(window))
    overview = window.panels["overview"]
    assert overview._title.text() == "tf1_multi_tag"
    assert overview.values["signatures:0"].text() == "4"  # serve, as core reads it
    assert "keras_export" not in window.windowTitle()


def test_a_newer_open_wins_over_an_older_one(qtbot, qapp, window, models):
    loaded = []
    window.model_loaded.connect(loaded.append)
    window.open_path(models.path("tf1_multi_tag"))
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_path(sample_path())
    QThreadPool.globalInstance().waitForDone(LOAD_MS)
    qapp.processEvents()
    assert [m.path for m in loaded] == [sample_path()]


def test_close_clears_every_panel(qtbot, window):
    open_in(qtbot, window, sample_path())
    window.close_model()
    assert window.model is None
    assert all(p.model is None for p in _panels(window))
    assert window.windowTitle() == "SavedModel Lens"


def test_recent_menu_lists_opened_models_newest_first_and_drops_missing(
    qtbot, window, settings, models, tmp_path
):
    copy = tmp_path / "copy"
    shutil.copytree(sample_path(), copy)
    open_in(qtbot, window, copy)
    open_in(qtbot, window, models.path("keras_export"))
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert texts[:2] == [str(models.path("keras_export")), str(copy)]

    shutil.rmtree(copy)
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert again.recent_paths() == [str(models.path("keras_export"))]


def test_recent_list_keeps_at_most_ten(window, tmp_path):
    folders = []
    for i in range(MAX_RECENT + 3):
        (tmp_path / str(i)).mkdir()
        folders.append(str(tmp_path / str(i)))
    for folder in folders:
        window._remember(folder)
    assert window.recent_paths() == folders[::-1][:MAX_RECENT]


def test_layout_is_saved_and_restored(qtbot, settings):
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.show()
    first.docks["overview"].hide()
    first.close()
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    second.show()
    assert second.docks["overview"].isHidden()
    second.reset_layout()
    assert not second.docks["overview"].isHidden()


def _current_tabs(window: MainWindow) -> set[str]:
    return {bar.tabText(bar.currentIndex()) for bar in window.findChildren(QTabBar)}


def test_show_view_brings_a_tabbed_dock_to_the_front(window):
    window.show()
    tabbed = [k for k in window.docks if window.tabifiedDockWidgets(window.docks[k])]
    if not tabbed:
        pytest.skip("no tabbed panels in this build")
    last = window.docks[tabbed[-1]]
    assert last.windowTitle() not in _current_tabs(window)
    window.show_view(last.windowTitle())
    assert last.windowTitle() in _current_tabs(window)


def test_view_graph_at_start_keeps_the_graph_wide_once_dock_sizes_apply(qtbot, window):
    """As ``smlens PATH --view graph`` does: show_view right after show, before the
    deferred default dock sizes run; they must not squeeze the graph back to a third."""
    window.resize(1400, 900)
    window.show()
    window.show_view("graph")
    graph = window.docks["graph"]
    qtbot.waitUntil(lambda: window._sized and graph.width() > 0, timeout=LOAD_MS)
    qtbot.wait(0)  # the zero timer that applies the default sizes
    wide = (GRAPH_SHARE - 0.05) * window.width()  # the share, less the separator and margins
    qtbot.waitUntil(lambda: graph.width() >= wide, timeout=LOAD_MS)
    window.reset_layout()  # View > Reset Layout: the overview comes back in front
    qtbot.waitUntil(lambda: window.docks["overview"].width() < 0.5 * window.width())


def test_show_view_shows_a_closed_dock_and_rejects_unknown_names(window):
    window.show()
    window.docks["overview"].hide()
    window.show_view("Overview")
    assert window.docks["overview"].isVisible()
    with pytest.raises(KeyError, match="choose one of: overview"):
        window.show_view("no-such-panel")


def test_dropping_a_folder_opens_it(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_path()))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.dropEvent(event)
    assert window.model.path == sample_path()


def test_two_paths_show_b_and_compare_a_with_it(qtbot, window, models):
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_paths([sample_path(), models.path("keras_export")])
    assert window.model.path == models.path("keras_export")
    assert window.compare_window is not None and window.compare_window.isVisible()
    assert window.compare_window.wait(LOAD_MS)
    assert window.compare_window.comparison.a.path == sample_path()


def test_a_panel_that_raises_is_dimmed_and_the_rest_still_load(qtbot, window, monkeypatch):
    overview = window.panels["overview"]

    def broken(model):
        raise RuntimeError("boom")

    monkeypatch.setattr(overview, "show_model", broken)
    open_in(qtbot, window, sample_path())
    assert overview.unavailable
    assert "Overview panel: RuntimeError: boom" in window.problem_bar.lines
    others = [p for p in _panels(window) if p is not overview]
    assert all(p.model is window.model for p in others)


def test_excepthook_turns_an_exception_into_one_line(window):
    before = sys.excepthook
    restore = install_excepthook(window)
    try:
        sys.excepthook(ValueError, ValueError("bad value"), None)
    finally:
        restore()
    assert sys.excepthook is before
    assert any("ValueError: bad value" in line for line in window.problem_bar.lines)
    assert "ValueError: bad value" in window.statusBar().currentMessage()


def test_screenshot_renders_the_window_to_a_png(tmp_path):
    out = tmp_path / "window.png"
    run = run_smlens(["--screenshot", str(out), "--view", "overview", str(sample_path())], tmp_path)
    assert run.returncode == 0, run.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)


def test_screenshot_of_a_broken_model_still_renders_and_exits_2(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"")
    out = tmp_path / "broken.png"
    run = run_smlens(["--screenshot", str(out), str(broken)], tmp_path)
    assert run.returncode == 2
    assert out.stat().st_size > 0
    assert run.stderr.splitlines() == [
        f"smlens: error: {broken / 'saved_model.pb'}: the file is empty "
        f"(the screenshot {out} shows it)"
    ]


def test_unknown_view_is_a_one_line_error(tmp_path):
    run = run_smlens(["--screenshot", str(tmp_path / "x.png"), "--view", "nope"], tmp_path)
    assert run.returncode == 2
    assert "unknown view 'nope'" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "x.png").exists()


def test_sample_model_reads_without_problems():
    model = open_model(sample_path())
    assert model.problems == []
    assert [mg.tag_set for mg in model.meta_graphs] == ["serve"]


def test_problem_bar_folds_long_lists_and_closes(qtbot, window, tmp_path):
    shards = [tmp_path / "variables" / f"shard{i}" for i in range(8)]
    problems = [Problem("variables", str(shard), "missing") for shard in shards]
    bar = window.problem_bar
    bar.show_problems(problems, tmp_path)
    assert bar.lines[1] == "variables/shard0: missing"
    assert len(bar.lines) == 9
    assert bar._text.text().count("<br>") == SHOWN_LINES
    assert bar._more.text() == "Show 3 more"
    bar._more.click()
    assert bar._text.text().count("<br>") == 8
    with qtbot.waitSignal(bar.dismissed):
        bar._close.click()
    assert bar.isHidden() and bar.lines == []


def test_dark_theme_sets_palette_and_plot_colours(qapp, monkeypatch):
    import pyqtgraph as pg

    monkeypatch.setenv("SMLENS_THEME", "dark")
    try:
        assert theme.apply_theme(qapp) is theme.DARK
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == theme.DARK.window
        assert pg.getConfigOption("background") == theme.DARK.base
    finally:
        monkeypatch.setenv("SMLENS_THEME", "light")
        assert theme.apply_theme(qapp) is theme.LIGHT


def test_a_long_error_wraps_instead_of_widening_the_window(qtbot, window, qapp):
    window.resize(900, 800)
    window.show()
    qtbot.waitExposed(window)
    bar = window.problem_bar
    bar.show_error("/models/x/saved_model.pb: " + "cannot parse this part; " * 30)
    one_line = bar._text.fontMetrics().height()
    qtbot.waitUntil(lambda: bar.height() > 3 * one_line)
    assert window.width() == 900
    assert bar._text.height() >= 3 * one_line
    bar.show_error("short")
    qtbot.waitUntil(lambda: bar.height() < 3 * one_line + 40)


def test_the_window_starts_without_pyqtgraph_and_loads_it_for_the_first_plot(tmp_path):
    """pyqtgraph is 0.2 s of every start; no plot shows until a tensor is picked."""
    code = f"""
import sys
import numpy as np
from PySide6.QtCore import QEventLoop, QSettings
from smlens.gui.window.app import _application
from smlens.gui.window.main_window import MainWindow
app = _application()
settings = QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat)
window = MainWindow(settings, persist=False)
window.show()
app.processEvents()
assert "pyqtgraph" not in sys.modules, "imported at start"
view = window.panels["variables"].tensor_view
loop = QEventLoop()
view.loaded.connect(loop.quit)
view.show_array("x", np.arange(12.0).reshape(3, 4))
if view.data is None:
    loop.exec()
assert "pyqtgraph" in sys.modules and view.hist_plot.curve.getData()[1].sum() == 12
print("ok")
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
