"""A frozen GraphDef run by tensor names through ``RunEngine`` against a direct
``session.run`` of the same graph in this process.

Prints the first run (worker start with the TensorFlow import, the graph's import, the
first call) against TensorFlow's own first run in a fresh Python (its import,
``import_graph_def``, a Session, the first ``session.run``), then the warm per-call
overhead: the whole engine call (one request built once, and one built per call, as the
Run panel does) against the call as the worker timed it and against a direct
``session.run``, as a ratio.
Target: warm overhead under 5 ms per call, as for signature runs (bench_run.py).

Run: python benchmarks/bench_run_graph.py [--calls N] [--batch N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
from _models import fixture

from smlens.core import open_model
from smlens.core.run.client import RunEngine
from smlens.core.run.graph_request import GraphRunRequest

FETCHES = ["y:0"]  # what build_frozen_graph froze


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def first_run(path, inputs) -> tuple[RunEngine, float]:
    engine = RunEngine()
    start = time.perf_counter()
    result = engine.run(GraphRunRequest.of(open_model(path), inputs, FETCHES))
    total = time.perf_counter() - start
    print("first run, fresh engine (smlens)")
    print(f"  worker start + TF import {result.start_seconds:8.3f} s")
    print(f"  graph import + session   {result.load_seconds:8.3f} s")
    print(f"  first call               {_ms(result.first_call_seconds)}")
    print(f"  total                    {total:8.3f} s")
    return engine, total


def warm_runs(engine: RunEngine, path, inputs, calls: int) -> tuple[float, float, float]:
    """Medians: the engine's run of one request, a request built and run, the call inside."""
    model = open_model(path)
    built = GraphRunRequest.of(model, inputs, FETCHES)
    walls, rebuilt, inside = [], [], []
    for _ in range(calls):
        start = time.perf_counter()
        result = engine.run(built)
        walls.append(time.perf_counter() - start)
        inside.append(result.first_call_seconds)
        start = time.perf_counter()
        engine.run(GraphRunRequest.of(model, inputs, FETCHES))
        rebuilt.append(time.perf_counter() - start)
    return statistics.median(walls), statistics.median(rebuilt), statistics.median(inside)


_FIRST_RUN = """
import sys, numpy as np, tensorflow as tf
v1 = tf.compat.v1
graph_def = v1.GraphDef()
graph_def.ParseFromString(open(sys.argv[1], "rb").read())
graph = tf.Graph()
with graph.as_default():
    v1.import_graph_def(graph_def, name="")
v1.Session(graph=graph).run(["y:0"], {"x:0": np.ones((8, 4), np.float32)})
"""


def direct_first_run(path) -> float:
    """A fresh Python process that imports TensorFlow, imports the graph and runs it once,
    as the worker's first run does: its wall time."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _FIRST_RUN, str(path)], check=True)
    return time.perf_counter() - start


def direct(path, inputs, calls: int) -> float:
    """The median warm ``session.run`` in this process."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph_def = v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        v1.import_graph_def(graph_def, name="")
    session = v1.Session(graph=graph)
    feed = {f"{k}:0" if ":" not in k else k: v for k, v in inputs.items()}
    for _ in range(20):
        session.run(FETCHES, feed)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        session.run(FETCHES, feed)
        times.append(time.perf_counter() - start)
    session.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    path = fixture("frozen_graph") / "frozen.pb"
    inputs = {"x": np.random.default_rng(0).standard_normal((args.batch, 4), np.float32)}

    engine, first = first_run(path, inputs)
    for _ in range(20):  # warm up both sides of the pipe
        engine.run(GraphRunRequest.of(open_model(path), inputs, FETCHES))
    wall, rebuilt, inside = warm_runs(engine, path, inputs, args.calls)
    engine.close()
    direct_call = direct(path, inputs, args.calls)
    direct_first = direct_first_run(path)

    print("first run, TensorFlow in a fresh python")
    print(f"  TF import + import_graph_def + Session + first run {direct_first:8.3f} s")
    print(f"  ratio smlens / direct                              {first / direct_first:8.2f}x")
    print(f"\nwarm calls, median of {args.calls}, batch {args.batch}")
    print(f"  RunEngine.run, whole call          {_ms(wall)}")
    print(f"  a request built, then run          {_ms(rebuilt)}")
    print(f"  the call, as the worker timed it   {_ms(inside)}")
    print(f"  direct session.run in this process {_ms(direct_call)}")
    print(f"  overhead vs the worker's own time  {_ms(wall - inside)}")
    print(
        f"  overhead vs a direct session.run   {_ms(wall - direct_call)}  "
        f"({wall / direct_call:.2f}x)"
    )
    verdict = "met" if wall - direct_call < 0.005 else "MISSED"
    print(f"  target: under 5 ms per call: {verdict}")


if __name__ == "__main__":
    main()
