"""``RunEngine.run`` against a direct TensorFlow call in one process, on a small Keras export.

Prints the first run (worker start with the TensorFlow import, load, first call) and the warm
per-call overhead of going through the worker: the whole ``run`` (of one request built once,
and with a request built for each call, as the Run panel does) against the call time the
worker measured, and against calling the signature directly in this process.
Target: warm overhead under 5 ms per call.

Run: python benchmarks/bench_run.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _models import fixture

from smlens.core import open_model
from smlens.core.run.client import RunEngine
from smlens.core.run.request import RunRequest

TAG_SET, KEY = "serve", "serving_default"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def request(path, inputs) -> RunRequest:
    return RunRequest.of(open_model(path), TAG_SET, KEY, inputs)


def first_run(path, inputs) -> RunEngine:
    engine = RunEngine()
    start = time.perf_counter()
    result = engine.run(request(path, inputs))
    total = time.perf_counter() - start
    print("first run, fresh engine")
    print(f"  worker start + TF import {result.start_seconds:8.3f} s")
    print(f"  load                     {result.load_seconds:8.3f} s")
    print(f"  first call               {_ms(result.first_call_seconds)}")
    print(f"  total                    {total:8.3f} s")
    return engine


def warm_runs(engine: RunEngine, path, inputs, calls: int) -> tuple[float, float, float]:
    """Medians: the engine's run of one request, a request built and run, the call inside."""
    model = open_model(path)
    built = RunRequest.of(model, TAG_SET, KEY, inputs)
    walls, rebuilt, inside = [], [], []
    for _ in range(calls):
        start = time.perf_counter()
        result = engine.run(built)
        walls.append(time.perf_counter() - start)
        inside.append(result.first_call_seconds)
        start = time.perf_counter()
        engine.run(RunRequest.of(model, TAG_SET, KEY, inputs))
        rebuilt.append(time.perf_counter() - start)
    return statistics.median(walls), statistics.median(rebuilt), statistics.median(inside)


def direct_calls(path, inputs, calls: int) -> float:
    import tensorflow as tf

    fn = tf.saved_model.load(str(path), tags=[TAG_SET]).signatures[KEY]
    for _ in range(5):
        fn(**{k: tf.constant(v) for k, v in inputs.items()})
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        outputs = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        {k: v.numpy() for k, v in outputs.items()}
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    path = fixture("keras_export")
    inputs = {"features": np.random.default_rng(0).standard_normal((args.batch, 10), np.float32)}

    engine = first_run(path, inputs)
    for _ in range(20):  # warm up both sides of the pipe
        engine.run(request(path, inputs))
    wall, rebuilt, inside = warm_runs(engine, path, inputs, args.calls)
    engine.close()
    direct = direct_calls(path, inputs, args.calls)

    print(f"\nwarm calls, median of {args.calls}, batch {args.batch}")
    print(f"  RunEngine.run, whole call          {_ms(wall)}")
    print(f"  a request built, then run          {_ms(rebuilt)}")
    print(f"  the call, as the worker timed it   {_ms(inside)}")
    print(f"  direct call in this process        {_ms(direct)}")
    print(f"  overhead vs the worker's own time  {_ms(wall - inside)}")
    print(f"  overhead vs a direct call          {_ms(wall - direct)}  ({wall / direct:.2f}x)")
    verdict = "met" if wall - direct < 0.005 else "MISSED"
    print(f"  target: under 5 ms per call: {verdict}")


if __name__ == "__main__":
    main()
