"""``smlens diff`` with value deltas on two ~400 MB exports (same architecture, new values):
wall time and peak resident memory of the whole command, in a child process, and the count
of changes outside variables (annotations apart).

Targets: under 5 s, under 1 GB, and 0 changes outside variables.
Run: python benchmarks/bench_diff.py [--megabytes N] [--kind keras|wide]

``--kind keras`` (the default) diffs two exports of a 12-block functional Keras model built
one after the other in one process, like two trainings of one BERT-like architecture: B's
scopes gain Keras's ``_1`` suffix and its saver lists variables in another order.
``--kind wide`` diffs a tf.Module of 8 square kernels and a copy with every value nudged.

No TensorFlow tool diffs two exports, so the baseline is what a user scripts instead:
``tf.train.load_checkpoint`` on both, and numpy's max |b - a| for each variable, in one
process, timed whole like ``smlens diff``.

The models are built in a child of their own: a child forked from a process that has
imported TensorFlow starts with that process's resident memory in its peak. Each diff's
peak comes from wait4() on that child alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _pairs import keras_pair, wide_pair

from smlens.core.model.text import human_bytes


def build(megabytes: int, kind: str) -> tuple[Path, Path]:
    """The pair's folders, built (or found in the cache) by a child running --build-only."""
    out = subprocess.run(
        [sys.executable, __file__, "--build-only", "--megabytes", str(megabytes), "--kind", kind],
        capture_output=True,
        text=True,
        check=True,
    )
    a, b = json.loads(out.stdout.splitlines()[-1])
    return Path(a), Path(b)


def run_diff(a: Path, b: Path, *extra: str) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS in bytes, and the --json output of one ``smlens diff``."""
    cmd = [sys.executable, "-m", "smlens.cli.main", "diff", str(a), str(b), "--json", *extra]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    if child.returncode not in (0, 1):
        raise SystemExit(f"smlens diff exited {child.returncode}")
    return elapsed, usage.ru_maxrss * 1024, json.loads(out)  # ru_maxrss is in KiB on Linux


TF_BASELINE = """
import sys, numpy as np, tensorflow as tf
a, b = (tf.train.load_checkpoint(p + "/variables/variables") for p in sys.argv[1:3])
for key in a.get_variable_to_shape_map():
    if b.has_tensor(key):
        x, y = np.asarray(a.get_tensor(key)), np.asarray(b.get_tensor(key))
        if x.shape == y.shape and x.dtype.kind == "f":
            float(np.max(np.abs(y - x), initial=0))
"""


def run_tf_baseline(a: Path, b: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS in bytes of the TensorFlow script above."""
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-c", TF_BASELINE, str(a), str(b)]
    child = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the TensorFlow baseline failed")
    return time.perf_counter() - start, usage.ru_maxrss * 1024


def _leaves(change: dict):
    if not change["children"]:
        yield change
    for child in change["children"]:
        yield from _leaves(child)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kind", choices=["keras", "wide"], default="keras")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        pair = (keras_pair if args.kind == "keras" else wide_pair)(args.megabytes)
        print(json.dumps([str(p) for p in pair]))
        return
    a, b = build(args.megabytes, args.kind)
    runs = [run_diff(a, b) for _ in range(args.runs)]
    diff = runs[-1][2]
    deltas = diff["value_deltas"]
    size = sum(p.stat().st_size for p in (a / "variables").iterdir())
    print(f"two exports with {human_bytes(size)} of variables each, {len(deltas)} variables")
    print(f"  worst severity {diff['worst_severity']}, counts {diff['counts']}")
    outside = [
        leaf
        for area, group in diff["groups"].items()
        if area != "variables"
        for change in group
        for leaf in _leaves(change)
        if not leaf["annotation"]
    ]
    print(f"  changes outside variables: {len(outside)} (target 0)")
    for leaf in outside[:10]:
        print(f"    {'/'.join(leaf['path'])}: {leaf['reason']}")
    print(f"  annotations, by kind: {diff['annotation_counts']}")
    print(f"  tensors read: {sum(d['read'] for d in deltas)} of {len(deltas)}")
    biggest = max(deltas, key=lambda d: d["count"])
    print(
        f"  {biggest['name']}: max |d| {biggest['max_abs']:.3g}, "
        f"relative L2 {biggest['relative_l2']:.3g}"
    )
    times = [t for t, _, _ in runs]
    print(f"  wall time, whole command: best {min(times):.2f} s, worst {max(times):.2f} s")
    print(f"  peak RSS: {human_bytes(max(m for _, m, _ in runs))}")
    elapsed, peak, _ = run_diff(a, b, "--no-values")
    print(f"  --no-values: {elapsed:.2f} s, peak RSS {human_bytes(peak)}")
    tf_runs = [run_tf_baseline(a, b) for _ in range(args.runs)]
    tf_best = min(t for t, _ in tf_runs)
    print(
        f"  TensorFlow baseline (load_checkpoint + numpy): best {tf_best:.2f} s, "
        f"peak RSS {human_bytes(max(m for _, m in tf_runs))}"
    )
    print(f"  ratio smlens diff / TensorFlow baseline: {min(times) / tf_best:.2f}")


if __name__ == "__main__":
    main()
