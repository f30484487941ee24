"""Models the benchmarks build with TensorFlow, cached under .bench-cache/ in the repo root."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("SMLENS_BENCH_CACHE", ROOT / ".bench-cache"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def fixture(name: str) -> Path:
    """A test fixture model (tests/fixtures), built once into the cache."""
    from tests.fixtures import registry

    dest = CACHE / name
    if not (dest / ".done").exists():
        dest.mkdir(parents=True, exist_ok=True)
        registry()[name][0](dest)
        (dest / ".done").touch()
    return dest


def square_width(megabytes: int, layers: int) -> int:
    """The side of ``layers`` square float32 kernels that hold ``megabytes`` MB in all."""
    return int((megabytes * 2**20 / 4 / layers) ** 0.5)


def save_square_layers(dest: str | Path, width: int, kernels: Iterable) -> None:
    """A tf.Module SavedModel whose ``__call__`` runs ``x`` through ``relu(x @ k)`` for each
    ``width`` x ``width`` float32 kernel in turn, so models of any size share one graph
    shape. ``kernels`` may be a generator: each array is dropped once its variable holds it."""
    import tensorflow as tf

    class SquareLayers(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernels = [tf.Variable(k, name=f"k{i}") for i, k in enumerate(kernels)]

        @tf.function(input_signature=[tf.TensorSpec([None, width], tf.float32)])
        def __call__(self, x):
            for k in self.kernels:
                x = tf.nn.relu(tf.matmul(x, k))
            return {"y": x}

    module = SquareLayers()
    tf.saved_model.save(module, str(dest), signatures=module.__call__)


WIDE_LAYERS = 8


def wide_model(megabytes: int) -> Path:
    """A SavedModel with about ``megabytes`` MB of float32 variables in WIDE_LAYERS square
    layers of standard normal values (seed 0)."""
    dest = CACHE / f"wide_{megabytes}mb"
    if (dest / ".done").exists():
        return dest
    import numpy as np

    width = square_width(megabytes, WIDE_LAYERS)
    rng = np.random.default_rng(0)
    kernels = (rng.standard_normal((width, width), dtype=np.float32) for _ in range(WIDE_LAYERS))
    save_square_layers(dest, width, kernels)
    (dest / ".done").touch()
    return dest
