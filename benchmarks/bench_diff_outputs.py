"""``smlens diff A B --outputs`` against a plain TensorFlow script that loads both exports
and compares their outputs, 8 inputs.

Two scenarios: a Keras pair (``_pairs.keras_pair``: same graph, B's weights nudged), and
with ``--bert`` two BERT-base-sized encoders (``_pairs.bert_pair``: 12 layers, hidden 768,
12 heads, vocabulary 30,522, sequences of 128; B's weights nudged), where two
``saved_model_cli run`` calls (which print both sides' outputs but compare nothing) are a
third reference.

Each variant runs as its own process, timed from outside, its peak memory measured alone:
a fresh wrapper process runs it and reports ru_maxrss of its children (the largest process
of the variant, TensorFlow's worker for smlens). Variants: smlens with one worker loading
both (the default), smlens with two workers in parallel (``--parallel``), the plain script
(one process, one TensorFlow import) and, for BERT, saved_model_cli twice. The ratio to the
plain script is printed for each, and to the two saved_model_cli calls for BERT.

Run: python benchmarks/bench_diff_outputs.py [--megabytes 40] [--bert]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from _pairs import BERT_SEQ, BERT_VOCAB, bert_pair, keras_pair

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

# The same 8 BERT inputs in every variant: one .npz next to the pair, read by smlens and
# saved_model_cli through the same ``--inputs`` flag, and by the plain script with numpy.
BERT_INPUTS = "input_ids={0}[input_ids];input_mask={0}[input_mask]"

PLAIN_BERT = """
import sys, numpy as np, tensorflow as tf
a = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
b = tf.saved_model.load(sys.argv[2]).signatures["serving_default"]
with np.load(sys.argv[3]) as data:
    feed = {k: tf.constant(data[k]) for k in ("input_ids", "input_mask")}
ya, yb = a(**feed), b(**feed)
for key in ya:
    va, vb = ya[key].numpy(), yb[key].numpy()
    d = np.abs(va - vb)
    beyond = ~np.isclose(vb, va, atol=1e-5, rtol=1e-5)
    print(key, d.max(), d.mean(), beyond.sum())
"""


def _bert_inputs(folder) -> str:
    """Write the 8 inputs (token ids drawn from the vocabulary, a full mask) once."""
    import numpy as np

    path = folder / "inputs_8.npz"
    if not path.exists():
        ids = np.random.default_rng(0).integers(0, BERT_VOCAB, (8, BERT_SEQ)).astype(np.int32)
        np.savez(path, input_ids=ids, input_mask=np.ones((8, BERT_SEQ), np.int32))
    return str(path)


MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps([seconds, peak, done.returncode, done.stderr.decode()[-400:]]))
"""


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of the largest process of ``command``, alone."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], check=True, capture_output=True, text=True
    ).stdout
    seconds, peak, code, stderr = json.loads(out)
    if code not in (0, 1):
        print(f"  (exit {code}: {stderr.strip().splitlines()[-1:]})", file=sys.stderr)
    return seconds, peak


def _saved_model_cli(path, inputs: str) -> list[str]:
    return [
        sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "run",
        "--dir", str(path), "--tag_set", "serve", "--signature_def", "serving_default",
        "--inputs", BERT_INPUTS.format(inputs),
    ]  # fmt: skip


def _print(title: str, results: dict, base: str, second: str | None = None) -> None:
    print(title)
    base_seconds = results[base][0]
    second_seconds = results[second][0] if second else None
    for name, (seconds, peak) in results.items():
        ratio = f"({seconds / base_seconds:4.2f}x plain"
        if second_seconds:
            ratio += f", {seconds / second_seconds:4.2f}x saved_model_cli"
        print(f"  {name:<36} {seconds:6.2f} s  {ratio})  peak RSS {peak:7.0f} MiB")


def keras_scenario(megabytes: int) -> None:
    a, b = keras_pair(megabytes)
    smlens = [sys.executable, "-m", "smlens.cli.main", "diff", str(a), str(b), "--outputs"]
    smlens += ["--signature_def", "serving_default", "--batch", "8", "--no-values"]
    variants = {
        "plain TensorFlow script": [sys.executable, "-c", PLAIN, str(a), str(b)],
        "smlens, one worker": smlens,
        "smlens, two workers (--parallel)": [*smlens, "--parallel"],
    }
    results = {name: _timed(command) for name, command in variants.items()}
    _print(
        f"Keras pair, {megabytes} MB of weights each, 8 inputs", results, "plain TensorFlow script"
    )


def bert_scenario() -> None:
    start = time.perf_counter()
    a, b = bert_pair()
    print(f"(BERT pair ready in {time.perf_counter() - start:.0f} s: {a.parent})")
    smlens = [sys.executable, "-m", "smlens.cli.main", "diff", str(a), str(b), "--outputs"]
    inputs = _bert_inputs(a.parent)
    smlens += ["--signature_def", "serving_default", "--no-values"]
    smlens += ["--inputs", BERT_INPUTS.format(inputs)]
    plain = [sys.executable, "-c", PLAIN_BERT, str(a), str(b), inputs]
    results = {
        "plain TensorFlow script": _timed(plain),
        "smlens, one worker": _timed(smlens),
        "smlens, two workers (--parallel)": _timed([*smlens, "--parallel"]),
    }
    cli_a, cli_b = _timed(_saved_model_cli(a, inputs)), _timed(_saved_model_cli(b, inputs))
    results["saved_model_cli run, twice"] = (cli_a[0] + cli_b[0], max(cli_a[1], cli_b[1]))
    _print(
        "BERT-base pair (12 layers, hidden 768, 12 heads, vocab 30522, seq 128), 8 inputs",
        results,
        "plain TensorFlow script",
        "saved_model_cli run, twice",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=40)
    parser.add_argument("--bert", action="store_true", help="two BERT-base-sized exports")
    args = parser.parse_args()
    if args.bert:
        bert_scenario()
    else:
        keras_scenario(args.megabytes)


if __name__ == "__main__":
    main()
