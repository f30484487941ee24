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
    WEIGHT: "weight",
    OPTIMIZER_STATE: "optimizer state",
    OPTIMIZER_SCALAR: "optimizer scalar",
    METRIC: "metric",
    OTHER: "other",
}


def role_text(role: str) -> str:
    """A role as a table cell reads it: "optimizer_state" -> "optimizer state"."""
    return ROLE_TEXT.get(role, role)


def is_training_state(role: str) -> bool:
    """True for what training keeps beside the weights: optimizer state and scalars,
    metrics. A diff and the Variables panel show these apart from the weights."""
    return role in (OPTIMIZER_STATE, OPTIMIZER_SCALAR, METRIC)


# The views' groups: what a person switches between. Optimizer state and scalars read as one.
WEIGHTS_GROUP, OPTIMIZER_GROUP, METRICS_GROUP, OTHER_GROUP = (
    "weights",
    "optimizer",
    "metrics",
    "other",
)
ROLE_GROUPS = {
    WEIGHTS_GROUP: (WEIGHT,),
    OPTIMIZER_GROUP: (OPTIMIZER_STATE, OPTIMIZER_SCALAR),
    METRICS_GROUP: (METRIC,),
    OTHER_GROUP: (OTHER,),
}


def role_group(role: str) -> str:
    """The group a role is shown under: "optimizer_scalar" -> "optimizer"."""
    return next((g for g, roles in ROLE_GROUPS.items() if role in roles), OTHER_GROUP)


def role_caption(role: str, slot_of: str | None = None, slot_name: str | None = None) -> str:
    """What a tensor viewer says a variable is for; "" for a weight. An optimizer moment
    names its weight: "optimizer state (velocity) of the weight dense/kernel"."""
    if role == WEIGHT:
        return ""
    if role == OPTIMIZER_STATE:
        slot = f" ({slot_name})" if slot_name else ""
        owner = f" of the weight {slot_of}" if slot_of else ", of no weight the checkpoint names"
        return f"optimizer state{slot}{owner}"
    if role == OPTIMIZER_SCALAR:
        return "optimizer scalar: training's own counter or setting"
    if role == METRIC:
        return "metric accumulator: what the compiled metrics counted, not used to predict"
    return "not part of the model: the checkpoint's own state"
