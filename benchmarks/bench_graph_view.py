"""The graph panel on big functions, from click to pixels: first paint, expanding a scope,
a 14,000-op function fully expanded, and the issue's 140,000-op function in the whole window
from process start to first paint, with a heartbeat timer measuring UI-thread stalls.

"Paint" is honest: after the layout lands in the scene, the viewport is repainted at once
(``GraphCanvas.paint_now``) and pending events processed, so the time includes building the
scene and drawing what the user sees. Each scenario runs in its own process for its own
peak memory (VmHWM). Targets: first paint < 3 s, expanding a scope < 0.3 s, < 2 GB;
14,000 ops fully expanded, click to paint < 1.5 s.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_graph_view.py [--runs N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _graphs import huge_model, scoped_model

BIG = (200, 100)  # blocks x units: ~100,000 ops in ~20,000 name scopes
MEDIUM = (28, 100)  # ~14,000 ops


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _panel(path: Path):
    from PySide6.QtWidgets import QApplication

    from smlens.core import open_model
    from smlens.gui.base.theme import apply_theme
    from smlens.gui.graph.panel import GraphPanel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    t0 = time.perf_counter()
    model = open_model(path)
    print(f"  {'open_model (the app has done this already)':48} {_ms(t0):8.0f} ms")
    panel = GraphPanel()
    panel.resize(1400, 900)
    panel.show()
    app.processEvents()
    # A shown panel opens the serving signature's function as soon as it gets a model.
    _timed("set_model: serving function, click to first paint", panel, panel.set_model, model)
    return app, panel


def _wait(panel) -> None:
    """Run the event loop until the panel's layout is in the scene, then paint."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    panel.layout_applied.connect(loop.quit)
    QTimer.singleShot(120_000, loop.quit)
    if panel.busy:
        loop.exec()
    panel.layout_applied.disconnect(loop.quit)
    panel.canvas.paint_now()


def _timed(label: str, panel, action, *args) -> float:
    t0 = time.perf_counter()
    action(*args)
    _wait(panel)
    elapsed = time.perf_counter() - t0
    print(f"  {label:48} {elapsed * 1000:8.0f} ms   ({len(panel.scene.data.items):,} items shown)")
    return elapsed


def _idle(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def big(path: Path, runs: int) -> None:
    """Click to first paint of the collapsed view, then expanding scopes."""
    _, panel = _panel(path)
    g = panel.view.loaded.graph
    print(f"  ({len(g.nodes):,} ops, {len(panel.view.loaded.hierarchy.scopes):,} scopes)")
    for series in panel.view.loaded.hierarchy.series.values():  # the 200 blocks: one box
        if "/" not in series.path:
            _timed(f"expand the series {series.label}", panel, panel.expand, series.path)
    _timed("expand block_0 (100 units), first of its shape", panel, panel.expand, "block_0")
    _timed("expand block_0/unit_3 inside it", panel, panel.expand, "block_0/unit_3")
    times = [
        _timed(f"expand block_{17 * k % BIG[0]}", panel, panel.expand, f"block_{17 * k % BIG[0]}")
        for k in range(1, runs + 1)
    ]
    print(f"  {'expand another block, median':48} {statistics.median(times) * 1000:8.0f} ms")
    _timed("collapse block_0", panel, panel.collapse, "block_0")
    node = next(n.name for n in g.nodes if n.name.startswith("block_150/unit_42/"))
    _timed("jump to a node deep in block_150 (search hit)", panel, panel.jump_to, node)
    print(f"  peak memory (VmHWM) {_peak_mb():35.0f} MB")


def medium(path: Path, runs: int) -> None:
    """The 14,000-op function fully expanded, from click to paint."""
    _, panel = _panel(path)
    times = []
    for _ in range(runs):
        panel.view.loaded.cache.__init__()  # forget solved boxes: a first expansion each run
        _timed("collapse all", panel, panel.collapse_all)
        panel.view.loaded.cache.__init__()
        times.append(_timed("expand all: click to paint", panel, panel.expand_all))
    print(f"  {'expand all, median':48} {statistics.median(times) * 1000:8.0f} ms")
    for scale in (1.0, 0.3, 0.05):
        t0 = time.perf_counter()
        panel.canvas.set_scale(scale)
        panel.canvas.paint_now()
        print(f"  {f'repaint at {scale:.0%} zoom':48} {_ms(t0):8.0f} ms")
    print(f"  peak memory (VmHWM) {_peak_mb():35.0f} MB")


class Heartbeat:
    """A 5 ms timer on the UI thread: the longest gap between its ticks is the longest time
    the UI thread could not answer (a stall the user feels as a frozen window)."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.reset()
        self.timer.start()

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now


def _window(settings_dir: str):
    """The window as ``smlens PATH --view graph`` builds it (app.run_app), with throwaway
    settings: shown, the graph view raised, nothing opened yet."""
    from PySide6.QtCore import QSettings

    from smlens.gui.window.app import _application
    from smlens.gui.window.main_window import MainWindow

    app = _application()
    settings = QSettings(f"{settings_dir}/smlens.ini", QSettings.Format.IniFormat)
    window = MainWindow(settings, persist=False)
    window.resize(1400, 900)
    window.show()
    window.show_view("graph")
    app.processEvents()
    return app, window


def huge(path: Path, runs: int, started: float | None = None) -> None:
    """The issue's 140,000-op function in the whole window (``smlens PATH --view graph``):
    process start to the graph's first paint, the longest UI-thread stall from the window
    appearing to that paint, expanding, and peak memory."""
    import tempfile

    from smlens.gui.window.app import wait_for_load

    with tempfile.TemporaryDirectory() as settings_dir:
        _, window = _window(settings_dir)
        panel = window.panels["graph"]
        beat = Heartbeat()
        t0 = time.perf_counter()
        window.open_path(path)  # the loader reads it on the thread pool
        wait_for_load(window)
        opening_stall, loaded = beat.longest, time.perf_counter()
        _wait(panel)
        first = time.time() - started if started else float("nan")
        painted = time.perf_counter()
        _idle(1500)  # the stall counts the collector's passes after the paint too
        g, h = panel.view.loaded.graph, panel.view.loaded.hierarchy
        print(f"  ({panel.view.loaded.op_count:,} ops, {len(h.scopes) - 1:,} scopes)")
        print(f"  {'process start to first paint (target < 3 s)':48} {first * 1000:8.0f} ms")
        print(f"  {'  of it: open to model shown':48} {(loaded - t0) * 1000:8.0f} ms")
        print(f"  {'  then model shown to graph painted':48} {(painted - loaded) * 1000:8.0f} ms")
        print(f"  {'  items shown at first':48} {len(panel.scene.data.items):8,}")
        stall = beat.longest * 1000
        print(f"  {'longest UI-thread stall, to 1.5 s after (< 100 ms)':48} {stall:8.0f} ms")
        print(f"  {'  of it while the model was read':48} {opening_stall * 1000:8.0f} ms")
        series = next(iter(h.series.values()), None)
        beat.reset()
        if series is not None:
            _timed(f"expand {series.label}", panel, panel.expand, series.path)
        _timed("expand block_0", panel, panel.expand, "block_0")
        node = next(n.name for n in g.nodes if n.name.startswith("block_150/unit_42/"))
        _timed("jump to a node deep in block_150 (search hit)", panel, panel.jump_to, node)
        print(f"  {'longest UI-thread stall while expanding':48} {beat.longest * 1000:8.0f} ms")
        beat.reset()
        panel.expand_all()  # asks first on a graph this big
        print(f"  {'expand all asks first: ' + panel.status_bar.message.text()[:30]:48}")
        _timed("expand all (confirmed): click to paint", panel, panel.expand_all)
        _idle(1500)  # and the garbage collector's next passes, which run on the UI thread
        print(f"  {'longest UI-thread stall in expand all':48} {beat.longest * 1000:8.0f} ms")
        print(f"  peak memory (VmHWM) {_peak_mb():35.0f} MB")
        window.close()


SCENARIOS = {"big": (big, BIG), "medium": (medium, MEDIUM), "huge": (huge, None)}


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", choices=SCENARIOS)
    parser.add_argument("--started", type=float, help="time.time() the parent started it")
    args = parser.parse_args()
    if args.scenario:
        fn, shape = SCENARIOS[args.scenario]
        if shape is None:
            fn(huge_model(), args.runs, args.started)
        else:
            fn(scoped_model(*shape), args.runs)
        sys.exit()
    # Bytecode compiled, as pip leaves an installed app (this machine's environment turns
    # writing it off: every start would compile each module again, ~0.3 s).
    root = Path(__file__).resolve().parents[1]
    for package in ("core", "gui", "cli", "resources"):
        compileall.compile_dir(root / package, quiet=1)
    for name, (fn, shape) in SCENARIOS.items():
        path = huge_model() if shape is None else scoped_model(*shape)
        print(f"\n{name}: {fn.__doc__.splitlines()[0]}  [{path.name}]", flush=True)
        cmd = [sys.executable, __file__, "--scenario", name, "--runs", str(args.runs)]
        subprocess.run([*cmd, "--started", str(time.time())], check=True)
