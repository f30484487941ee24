"""The window: time from ``smlens PATH`` to the model being shown, for models with about
4 MB and 400 MB of variables (the time must not grow with variable size), against
TensorFlow's own tools; then the time from selecting a 100 MB variable until its stats and
histogram are filled, with a timer on the UI thread proving it stays responsive.

Run: python benchmarks/bench_open_gui.py [--runs N]
Targets: open under 1.5 s; a 100 MB variable's stats and histogram under 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _models import CACHE, ROOT, save_square_layers, square_width

LAYERS = 4  # the 400 MB model's variables are 100 MB each


def layered_model(megabytes: int) -> Path:
    """A tf.Module SavedModel with ``megabytes`` MB of float32 in LAYERS square kernels,
    built by TensorFlow in a child process (this one never imports it) and cached."""
    dest = CACHE / f"gui_{megabytes}mb"
    if not (dest / ".done").exists():
        subprocess.run([sys.executable, __file__, "--build", str(dest), str(megabytes)], check=True)
    return dest


def _build(dest: str, megabytes: int) -> None:
    import numpy as np

    width = square_width(megabytes, LAYERS)
    rng = np.random.default_rng(0)
    kernels = (rng.standard_normal((width, width), dtype=np.float32) for _ in range(LAYERS))
    save_square_layers(dest, width, kernels)
    (Path(dest) / ".done").touch()


def _median_of(cmd: list[str], runs: int, env: dict | None = None) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def _until_shown(cmd: list[str], out: Path, runs: int, env: dict) -> tuple[float, float]:
    """Median seconds from launch until the PNG of the shown model is written, and until
    the process ends (which may also wait for helpers such as the run panel's worker)."""
    shown, ended = [], []
    for _ in range(runs):
        out.unlink(missing_ok=True)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not out.exists() and proc.poll() is None:
            time.sleep(0.005)
        shown.append(time.perf_counter() - start)
        proc.wait()
        ended.append(time.perf_counter() - start)
    return statistics.median(shown), statistics.median(ended)


def whole_process(paths: dict[str, Path], runs: int) -> None:
    """``smlens --screenshot OUT PATH``: start, read, fill every panel, paint, write a PNG."""
    smlens = shutil.which("smlens") or "smlens"
    smcli = shutil.which("saved_model_cli")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="3")
    out = Path(tempfile.mkdtemp()) / "shot.png"
    load = "import sys, tensorflow as tf; tf.saved_model.load(sys.argv[1])"
    print(f"Whole process, median of {runs} runs; target: model shown under 1.5 s")
    print(
        f"{'model':8} {'smlens: shown':>14} {'(exits)':>8} {'saved_model_cli show':>21}"
        f" {'ratio':>6} {'tf.saved_model.load':>20} {'ratio':>6}"
    )
    for label, path in paths.items():
        shown, ended = _until_shown([smlens, "--screenshot", str(out), str(path)], out, runs, env)
        cli, _ = _median_of([smcli, "show", "--all", "--dir", str(path)], runs, env)
        tfl, _ = _median_of([sys.executable, "-c", load, str(path)], max(1, runs // 2), env)
        print(
            f"{label:8} {shown:13.2f}s {ended:7.2f}s {cli:20.2f}s {shown / cli:6.2f}"
            f" {tfl:19.2f}s {shown / tfl:6.2f}"
        )


def in_process(paths: dict[str, Path], runs: int):
    """MainWindow.open_paths -> model_loaded (every panel filled), then one paint."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from smlens.gui.window.app import _application
    from smlens.gui.window.main_window import MainWindow

    app = _application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, persist=False)
    window.show()
    print(f"\nIn process: open_paths until every panel shows the model, median of {runs} runs")
    for label, path in paths.items():
        times = []
        for _ in range(runs):
            window.close_model()
            app.processEvents()
            loop = QEventLoop()
            window.model_loaded.connect(loop.quit)
            QTimer.singleShot(30_000, loop.quit)
            start = time.perf_counter()
            window.open_paths([path])
            loop.exec()
            window.repaint()
            times.append(time.perf_counter() - start)
            window.model_loaded.disconnect(loop.quit)
        size = window.model.bytes_by_part()["variables"] / 2**20
        print(f"{label:16} {size:7.1f} MB of variables: {statistics.median(times) * 1000:7.1f} ms")
    return window


def select_variable(window, path: Path, runs: int) -> None:
    """Select a 100 MB variable; time until stats and histogram show, and count ticks of a
    10 ms timer on the UI thread meanwhile (a frozen UI would miss them)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    window.open_paths([path])
    loop = QEventLoop()
    window.model_loaded.connect(loop.quit)
    loop.exec()
    panel = window.panels["variables"]
    view = panel.tensor_view
    variables = sorted(panel.table_model.variables, key=lambda v: -(v.nbytes or 0))
    print("\nSelecting a variable until its stats and histogram show (target under 1 s)")
    print(f"{'variable':10} {'MB':>7} {'time':>9} {'UI ticks':>9} {'longest UI gap':>15}")
    clock = QElapsedTimer()
    gaps: list[int] = []
    last = [0]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    for i in range(runs):
        var = variables[i % len(variables)]
        panel.table.clearSelection()
        view.clear()
        app.processEvents()
        gaps.clear()
        clock.start()
        last[0] = 0
        timer.start()
        done = QEventLoop()
        view.loaded.connect(done.quit)
        start = time.perf_counter()
        panel.select_variable(var.key)
        done.exec()
        elapsed = time.perf_counter() - start
        timer.stop()
        view.loaded.disconnect(done.quit)
        assert view.stats_view.labels["mean"].text() and view.data.counts is not None
        mb = var.nbytes / 2**20
        gap = max(gaps or [0])
        print(f"{var.name:10} {mb:7.1f} {elapsed * 1000:7.0f}ms {len(gaps):9} {gap:12} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build", nargs=2, metavar=("DEST", "MB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        _build(args.build[0], int(args.build[1]))
        sys.exit(0)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    models = {"4 MB": layered_model(4), "400 MB": layered_model(400)}
    whole_process(models, args.runs)
    window = in_process(models, args.runs)
    select_variable(window, models["400 MB"], args.runs)
