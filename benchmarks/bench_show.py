"""``smlens show --all`` against ``saved_model_cli show --all``, whole process, and the time to
open models whose variables differ 100-fold in size.

Run: python benchmarks/bench_show.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from _models import fixture, wide_model


def _time(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare_show(runs: int) -> None:
    smcli = shutil.which("saved_model_cli")
    print(f"show --all, whole process, median of {runs} runs")
    print(f"{'model':20} {'smlens':>9} {'saved_model_cli':>16} {'ratio':>7}")
    for name in ("keras_export", "tf1_multi_tag", "module_multi_sig", "control_flow"):
        path = str(fixture(name))
        ours = _time(
            [sys.executable, "-m", "smlens.cli.main", "show", "--all", "--dir", path], runs
        )
        theirs = _time([smcli, "show", "--all", "--dir", path], runs)
        print(f"{name:20} {ours:8.3f}s {theirs:15.3f}s {ours / theirs:7.3f}")


def compare_open(runs: int) -> None:
    from smlens.core import open_model

    print(f"\nopen_model, in process, median of {runs * 3} runs")
    for mb in (4, 400):
        path = wide_model(mb)
        times = []
        for _ in range(runs * 3):
            start = time.perf_counter()
            model = open_model(path)
            times.append(time.perf_counter() - start)
        size = model.bytes_by_part()["variables"] / 2**20
        print(f"wide model, {size:7.1f} MB of variables: {statistics.median(times) * 1000:7.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    compare_show(args.runs)
    compare_open(args.runs)
