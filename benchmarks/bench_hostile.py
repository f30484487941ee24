"""The cost of size (issue 13): a SavedModel of 1,000,000 tiny nodes, and one of 2,000 meta
graphs, through ``show``, ``open_model``, ``diff`` with itself and the window. Each command
runs in its own process; time is wall clock, memory the process's peak RSS.

Run: python benchmarks/bench_hostile.py [--nodes 1000000] [--meta-graphs 2000] [--skip-slow]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smlens.core.formats import proto
from smlens.core.model.text import human_bytes

_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(seconds, peak, code)
"""


def million_node_model(folder: Path, nodes: int) -> Path:
    """One meta graph whose graph is ``nodes`` tiny nodes: Consts feeding a chain of
    Identity and AddV2 ops, with a serving signature on the last one."""
    saved = proto.SavedModel(saved_model_schema_version=1)
    mg = saved.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    mg.meta_info_def.tensorflow_version = "2.21.0"
    graph = mg.graph_def
    graph.versions.producer = 1000
    x = graph.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = 1
    previous = "x"
    for i in range(1, nodes):
        node = graph.node.add(name=f"block_{i // 1000}/n_{i}")
        if i % 3 == 0:
            node.op = "Const"
            node.attr["dtype"].type = 1
            node.attr["value"].tensor.dtype = 1
            node.attr["value"].tensor.float_val.append(float(i))
        elif i % 3 == 1:
            node.op, node.input[:] = "Identity", [previous]
            node.attr["T"].type = 1
            previous = node.name
        else:
            node.op, node.input[:] = "AddV2", [previous, f"block_{(i - 2) // 1000}/n_{i - 2}"]
            node.attr["T"].type = 1
            previous = node.name
    sig = mg.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["x"].name, sig.inputs["x"].dtype = "x:0", 1
    sig.outputs["y"].name, sig.outputs["y"].dtype = f"{previous}:0", 1
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    return folder


def many_meta_graphs_model(folder: Path, count: int) -> Path:
    """``count`` meta graphs of a few nodes each, tag-sets "serve,v<i>", one signature each."""
    saved = proto.SavedModel(saved_model_schema_version=1)
    for i in range(count):
        mg = saved.meta_graphs.add()
        mg.meta_info_def.tags[:] = ["serve", f"v{i}"]
        for name, op in (("x", "Placeholder"), ("y", "Identity")):
            node = mg.graph_def.node.add(name=name, op=op)
            node.attr["T" if op == "Identity" else "dtype"].type = 1
        mg.graph_def.node[1].input.append("x")
        sig = mg.signature_def["serving_default"]
        sig.method_name = "tensorflow/serving/predict"
        sig.inputs["x"].name, sig.inputs["x"].dtype = "x:0", 1
        sig.outputs["y"].name, sig.outputs["y"].dtype = "y:0", 1
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    return folder


def measure(label: str, argv: list[str], timeout: float) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        ).stdout.split()
        seconds, peak, code = float(out[0]), int(out[1]), int(out[2])
    except (subprocess.TimeoutExpired, IndexError, ValueError):
        seconds, peak, code = float("nan"), -1, -1
    row = {"what": label, "seconds": round(seconds, 2), "peak_mib": peak, "exit": code}
    print(f"{label:44} {seconds:8.2f} s {peak:7d} MiB  exit {code}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--meta-graphs", type=int, default=2000)
    parser.add_argument("--skip-slow", action="store_true", help="no diff and no window")
    parser.add_argument("--timeout", type=float, default=170)
    args = parser.parse_args()
    smlens = [sys.executable, "-m", "smlens.cli.main"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="smlens-bench-") as tmp:
        start = time.perf_counter()
        big = million_node_model(Path(tmp) / "million", args.nodes)
        size = (big / "saved_model.pb").stat().st_size
        built = time.perf_counter() - start
        print(f"{args.nodes:,} nodes: {human_bytes(size)}, built in {built:.1f} s")
        many = many_meta_graphs_model(Path(tmp) / "many", args.meta_graphs)
        opener = "from smlens.core import open_model; import sys; open_model(sys.argv[1])"
        runs = [
            ("million: open_model", [sys.executable, "-c", opener, str(big)]),
            ("million: show", [*smlens, "show", "--dir", str(big)]),
            ("million: show --all", [*smlens, "show", "--dir", str(big), "--all"]),
            ("million: show --json", [*smlens, "show", "--dir", str(big), "--json"]),
            (f"{args.meta_graphs} meta graphs: show", [*smlens, "show", "--dir", str(many)]),
            (
                f"{args.meta_graphs} meta graphs: show --all",
                [*smlens, "show", "--dir", str(many), "--all"],
            ),
        ]
        if not args.skip_slow:
            shot = str(Path(tmp) / "window.png")
            runs += [
                ("million: diff with itself", [*smlens, "diff", str(big), str(big)]),
                ("million: window (--screenshot)", [*smlens, "--screenshot", shot, str(big)]),
                (
                    "million: window, graph view",
                    [*smlens, "--screenshot", shot, "--view", "graph:", str(big)],
                ),
                (
                    f"{args.meta_graphs} meta graphs: window",
                    [*smlens, "--screenshot", shot, str(many)],
                ),
            ]
        for label, argv in runs:
            rows.append(measure(label, argv, args.timeout))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
