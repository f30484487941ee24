"""What a checkpoint variable is for: the model's weights, or what training left beside them.

A Keras export saved mid-training holds the optimizer's moments (often twice the weights'
size), its step counter and learning rate, and the compiled metrics' accumulators next to the
weights. The readers give every Variable one of these roles (``core.formats.roles``), and
every view filters, counts and orders by it.
"""

from __future__ import annotations

WEIGHT = "weight"  # a layer's kernel, bias, moving mean...: trainable or not
OPTIMIZER_STATE = "optimizer_state"  # a moment or accumulator kept per weight (slot_of names it)
OPTIMIZER_SCALAR = "optimizer_scalar"  # iterations, learning rate, beta1_power, global_step
METRIC = "metric"  # a compiled metric's accumulator: count, total, true_positives...
OTHER = "other"  # the checkpoint's save counter, an iterator's state

ROLES = (WEIGHT, OPTIMIZER_STATE, OPTIMIZER_SCALAR, METRIC, OTHER)

ROLE_TEXT = {
    WEIGHT: "weights",
    OPTIMIZER_STATE: "optimizer state",
    OPTIMIZER_SCALAR: "optimizer scalars",
    METRIC: "metrics",
    OTHER: "other",
}


def role_text(role: str) -> str:
    """A role as a heading reads it: "optimizer_state" -> "optimizer state"."""
    return ROLE_TEXT.get(role, role)


def is_training_state(role: str) -> bool:
    """True for what training keeps beside the weights: optimizer state and scalars,
    metrics. A diff and the Variables panel show these apart from the weights."""
    return role in (OPTIMIZER_STATE, OPTIMIZER_SCALAR, METRIC)
