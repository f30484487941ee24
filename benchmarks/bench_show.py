"""``smlens show --all`` against ``saved_model_cli show --all``, whole process; ``show`` of a
text SavedModel (``saved_model.pbtxt``, about 8 MB) against ``saved_model_cli show``; and the
time to open models whose variables differ 100-fold in size.

Target for the text SavedModel: a quarter of saved_model_cli's time or less.

Run: python benchmarks/bench_show.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from _models import CACHE, fixture, wide_model


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


def text_saved_model() -> str:
    """A Keras CNN of 60 conv blocks exported by TensorFlow, its saved_model.pb rewritten as
    text (about 8 MB), variables beside it."""
    dest = CACHE / "text_cnn"
    if (dest / ".done").exists():
        return str(dest)
    import keras
    from google.protobuf import text_format
    from tensorflow.core.protobuf import saved_model_pb2

    layers = [keras.Input((32, 32, 3))]
    for i in range(60):
        layers += [
            keras.layers.Conv2D(8 + i % 4, 3, padding="same", name=f"conv_{i}"),
            keras.layers.BatchNormalization(name=f"bn_{i}"),
            keras.layers.ReLU(name=f"relu_{i}"),
        ]
    layers += [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]
    model = keras.Sequential(layers)
    shutil.rmtree(dest, ignore_errors=True)
    model.export(str(dest), verbose=False)
    saved = saved_model_pb2.SavedModel.FromString((dest / "saved_model.pb").read_bytes())
    (dest / "saved_model.pbtxt").write_text(text_format.MessageToString(saved))
    (dest / "saved_model.pb").unlink()
    (dest / ".done").touch()
    return str(dest)


def compare_text_show(runs: int) -> None:
    smcli = shutil.which("saved_model_cli")
    path = text_saved_model()
    size = (CACHE / "text_cnn" / "saved_model.pbtxt").stat().st_size / 2**20
    ours = _time([sys.executable, "-m", "smlens.cli.main", "show", "--dir", path], runs)
    theirs = _time([smcli, "show", "--dir", path], runs)
    met = "met" if ours <= theirs / 4 else "MISSED"
    print(f"\nshow of a text SavedModel ({size:.1f} MB), whole process, median of {runs} runs")
    print(f"smlens {ours:.3f} s, saved_model_cli {theirs:.3f} s, ratio {ours / theirs:.3f}")
    print(f"target: a quarter of saved_model_cli's time or less: {met}")


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
    compare_text_show(args.runs)
    compare_open(args.runs)
