"""Large-graph models for bench_graph.py, built with TensorFlow and cached under .bench-cache/."""

from __future__ import annotations

from pathlib import Path

from _models import CACHE

OPS_PER_UNIT = 5  # Const, Mul, Const, AddV2, Tanh
CHAIN = 10  # units per parallel chain inside a block


def scoped_model(blocks: int, units: int, *, scaled: bool = False, name: str = "scoped") -> Path:
    """A tf.Module whose serving function has ``blocks`` name scopes of ``units`` scopes each.

    Each unit is ``tanh(x * c + d)`` (5 ops), or ``tanh(x * c + d) * e`` (7 ops) when
    ``scaled``; inside a block the units form parallel chains of ten that meet in one AddN,
    so layers are wide as well as deep, as in real models. About ``blocks * units * 5`` ops
    and ``blocks * (units + 1)`` name scopes.
    """
    dest = CACHE / f"{name}_{blocks}x{units}"
    if (dest / ".done").exists():
        return dest
    import tensorflow as tf

    def block(x, b):
        ends = []
        with tf.name_scope(f"block_{b}"):
            y = x
            for u in range(units):
                if u % CHAIN == 0:
                    y = x
                with tf.name_scope(f"unit_{u}"):
                    y = tf.tanh(y * (1.0 + u / 1000) + 0.5)
                    if scaled:
                        y = y * 0.9
                if u % CHAIN == CHAIN - 1 or u == units - 1:
                    ends.append(y)
            return tf.add_n(ends) if len(ends) > 1 else ends[0]

    class Scoped(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="x")])
        def __call__(self, x):
            for b in range(blocks):
                x = block(x, b)
            return {"y": x}

    module = Scoped()
    tf.saved_model.save(module, str(dest), signatures={"serving_default": module.__call__})
    (dest / ".done").touch()
    return dest


def huge_model(blocks: int = 200, units: int = 100) -> Path:
    """``scoped_model`` with 7 ops per unit: 200 x 100 gives the issue's 140,000 ops in
    20,000 name scopes."""
    return scoped_model(blocks, units, scaled=True, name="huge")
