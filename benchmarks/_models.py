"""Models the benchmarks build with TensorFlow, cached under .bench-cache/ in the repo root."""

from __future__ import annotations

import os
import sys
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


def wide_model(megabytes: int) -> Path:
    """A tf.Module SavedModel with about ``megabytes`` MB of float32 variables in 8 layers,
    so that models of different sizes share one graph shape."""
    dest = CACHE / f"wide_{megabytes}mb"
    if (dest / ".done").exists():
        return dest
    import numpy as np
    import tensorflow as tf

    layers = 8
    width = int((megabytes * 2**20 / 4 / layers) ** 0.5)

    class Wide(tf.Module):
        def __init__(self):
            super().__init__()
            rng = np.random.default_rng(0)
            self.kernels = [
                tf.Variable(rng.standard_normal((width, width), dtype=np.float32), name=f"k{i}")
                for i in range(layers)
            ]

        @tf.function(input_signature=[tf.TensorSpec([None, width], tf.float32)])
        def __call__(self, x):
            for k in self.kernels:
                x = tf.nn.relu(tf.matmul(x, k))
            return {"y": x}

    module = Wide()
    tf.saved_model.save(module, str(dest), signatures=module.__call__)
    (dest / ".done").touch()
    return dest
