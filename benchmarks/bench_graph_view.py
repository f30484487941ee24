"""The graph panel on big functions, from click to pixels: first paint, expanding a scope,
and a 14,000-op function fully expanded.

"Paint" is honest: after the layout lands in the scene, the viewport is repainted at once
(``GraphCanvas.paint_now``) and pending events processed, so the time includes building the
scene and drawing what the user sees. Each scenario runs in its own process for its own
peak memory (VmHWM). Targets: first paint < 3 s, expanding a scope < 0.3 s, < 2 GB;
14,000 ops fully expanded, click to paint < 1.5 s.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_graph_view.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _graphs import scoped_model

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
    print(f"  {label:48} {elapsed * 1000:8.0f} ms   ({len(panel.scene.items):,} items shown)")
    return elapsed


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def big(path: Path, runs: int) -> None:
    """Click to first paint of the collapsed view, then expanding scopes."""
    _, panel = _panel(path)
    g = panel.view.loaded.graph
    print(f"  ({len(g.nodes):,} ops, {len(panel.view.loaded.hierarchy.scopes):,} scopes)")
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


SCENARIOS = {"big": (big, BIG), "medium": (medium, MEDIUM)}


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", choices=SCENARIOS)
    args = parser.parse_args()
    if args.scenario:
        fn, shape = SCENARIOS[args.scenario]
        fn(scoped_model(*shape), args.runs)
        sys.exit()
    for name, (fn, shape) in SCENARIOS.items():
        path = scoped_model(*shape)
        print(f"\n{name}: {fn.__doc__.splitlines()[0]}  [{path.name}]", flush=True)
        cmd = [sys.executable, __file__, "--scenario", name, "--runs", str(args.runs)]
        subprocess.run(cmd, check=True)
