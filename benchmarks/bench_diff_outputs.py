"""``smlens diff A B --outputs`` against a plain TensorFlow script that loads both exports
and compares their outputs, on a Keras pair (``_pairs.keras_pair``: same graph, B's weights
nudged), 8 inputs.

Each variant runs as its own process, timed from outside, with its peak RSS (the largest
process of it: ru_maxrss of the children, read before and after): smlens with one worker
loading both (the default), smlens with two workers in parallel (``--parallel``), and the
plain script (one process, one TensorFlow import). The ratio to the plain script is printed
for each.

Run: python benchmarks/bench_diff_outputs.py [--megabytes 40]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

from _pairs import keras_pair

PLAIN = """
import sys, numpy as np, tensorflow as tf
a = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
b = tf.saved_model.load(sys.argv[2]).signatures["serving_default"]
spec = list(a.structured_input_signature[1].values())[0]
x = np.random.default_rng(0).standard_normal([8, *spec.shape[1:]]).astype(np.float32)
name = list(a.structured_input_signature[1])[0]
ya, yb = a(**{name: x}), b(**{name: x})
for key in ya:
    d = np.abs(ya[key].numpy() - yb[key].numpy())
    print(key, d.max(), d.mean())
"""


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MiB) of the biggest child process so far."""
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=40)
    args = parser.parse_args()
    a, b = keras_pair(args.megabytes)
    smlens = [sys.executable, "-m", "smlens.cli.main", "diff", str(a), str(b), "--outputs"]
    smlens += ["--signature_def", "serving_default", "--batch", "8", "--no-values"]
    variants = {
        "plain TensorFlow script": [sys.executable, "-c", PLAIN, str(a), str(b)],
        "smlens, one worker": smlens,
        "smlens, two workers (--parallel)": [*smlens, "--parallel"],
    }
    results = {}
    for name, command in variants.items():  # ru_maxrss only grows: plain first, smallest
        results[name] = _timed(command)
    base = results["plain TensorFlow script"][0]
    print(f"Keras pair, {args.megabytes} MB of weights each, 8 inputs")
    for name, (seconds, peak) in results.items():
        print(
            f"  {name:<34} {seconds:6.2f} s  ({seconds / base:4.2f}x)  "
            f"peak RSS so far {peak:7.0f} MiB"
        )


if __name__ == "__main__":
    main()
