"""A day of use in one window: open models one after another, each shown in the graph view,
and print the resident memory every 10 opens.

Target: flat after the first 20 opens, within 50 MB (what one open leaves behind must be
freed when the next model replaces it).

Run: python benchmarks/bench_memory.py [--opens N] [--trace]
(--trace prints the Python allocations that grew most between open 20 and the last)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tracemalloc

from _models import fixture

HERE = os.path.dirname(os.path.abspath(__file__))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MODELS = [
    "keras_export",
    "module_multi_sig",
    "tf1_multi_tag",
    "control_flow",
    "lookup",
    "tf1_ckpt_meta",
    "pair_retrained",
    "ckpt_partitioned",
]
TARGET_MB = 50


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _paths() -> list[str]:
    """The models, built by TensorFlow in a child process: this one must not hold it."""
    code = f"from _models import fixture\nfor name in {MODELS!r}: fixture(name)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=HERE)
    paths = []
    for name in MODELS:
        path = fixture(name)
        paths.append(str(path / "a" if (path / "a").is_dir() else path))
    return paths


def _settle(app, window, timeout: float = 60.0) -> None:
    """Run the event loop until the model is shown and every panel's task has ended."""
    from smlens.gui.base.tasks import tasks_running

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        graph = window.panels.get("graph")
        if not window.loader.busy and not tasks_running() and not getattr(graph, "busy", False):
            for _ in range(5):
                app.processEvents()
            return
        time.sleep(0.01)
    raise TimeoutError("the window did not settle")


def _look_at_a_variable(app, window) -> None:
    """Select the biggest variable, as a person checking the weights would: its stats,
    histogram and table fill in the tensor viewer."""
    model = window.model
    if model is None or not model.variables:
        return
    biggest = max(model.distinct_variables(), key=lambda v: v.num_elements)
    window.panels["variables"].select_variable(biggest.key)
    _settle(app, window)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opens", type=int, default=100)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--also", nargs="*", default=[], help="more models to open in turn")
    args = parser.parse_args()
    paths = _paths() + args.also

    from smlens.gui.window.app import _application
    from smlens.gui.window.main_window import MainWindow

    app = _application()
    window = MainWindow(persist=False)
    window.resize(1400, 900)
    window.show()
    window.show_view("graph")
    figures: dict[int, float] = {}
    snapshot = None
    print(f"{'opens':>5} {'RSS MB':>8}")
    for n in range(1, args.opens + 1):
        window.open_path(paths[(n - 1) % len(paths)])
        _settle(app, window)
        _look_at_a_variable(app, window)
        if args.trace and n == 20:
            tracemalloc.start(25)
            snapshot = tracemalloc.take_snapshot()
        if n == 1 or n % 10 == 0:
            figures[n] = rss_mb()
            print(f"{n:5} {figures[n]:8.1f}", flush=True)
    window.close()
    later = [mb for n, mb in figures.items() if n >= 20]
    growth = max(later) - min(later) if later else 0.0
    met = "met" if growth <= TARGET_MB else "MISSED"
    print(f"after the first 20 opens RSS moves within {growth:.1f} MB: target {TARGET_MB} MB {met}")
    if snapshot is not None:
        for stat in tracemalloc.take_snapshot().compare_to(snapshot, "traceback")[:10]:
            print(stat)
            for line in stat.traceback.format()[-8:]:
                print("   ", line)
    sys.exit(0)


if __name__ == "__main__":
    main()
