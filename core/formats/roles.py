"""Give every checkpoint variable its role: weight, optimizer state or scalar, metric, other.

TF2 exports say it through the object graph: what hangs only under the root's ``optimizer``
child is the optimizer's (``optimizer._variables.N``, ``optimizer._iterations``), what hangs
only under ``keras_api.metrics`` is a metric's, and everything else the model reaches is a
weight, even when the optimizer also lists it (``optimizer._trainable_variables``). The
weight an optimizer variable belongs to comes from, in turn: the old ``.OPTIMIZER_SLOT``
edges (already in ``Variable.slot_of``), the optimizer's per-weight lists aligned with its
``_trainable_variables`` (Keras 3: ``_momentums.i`` is the moment of
``_trainable_variables.i``), then the name (Keras 2 ``Adam/m/dense/kernel``, Keras 3
``adam/dense_kernel_momentum``). TF1 checkpoints have only names: ``dense/kernel/Adam``,
``dense/kernel/Adam_1``, ``beta1_power``, ``global_step``.
"""

from __future__ import annotations

import re
from collections import deque

from smlens.core.model import Variable
from smlens.core.model.roles import METRIC, OPTIMIZER_SCALAR, OPTIMIZER_STATE, OTHER, WEIGHT

VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
OPTIMIZER_CHILDREN = ("optimizer", "_optimizer")
# tf.train.Checkpoint's own counter: the checkpoint's, not the model's.
CHECKPOINT_COUNTERS = ("save_counter",)

# The slot names tf.compat.v1.train optimizers append to a weight's name (slot_creator):
# AdamOptimizer "Adam" (m) and "Adam_1" (v), MomentumOptimizer "Momentum", RMSProp "RMSProp"
# and "RMSProp_1", Adagrad, AdagradDA, Adadelta, Ftrl, ProximalAdagrad; each may carry a
# "_N" suffix when the optimizer was created under another name in the same graph.
TF1_SLOT = re.compile(
    r"(Adam|Momentum|RMSProp|Adagrad|AdagradDA|Adadelta|Ftrl|ProximalAdagrad"
    r"|ProximalGradientDescent|Nadam|AdaMax|LazyAdam)(_\d+)?"
)
# The scalars TF1 training keeps: AdamOptimizer's beta powers and the global step.
TF1_SCALAR = re.compile(r"(beta1_power|beta2_power|global_step)(_\d+)?")
# Keras optimizers' own scalars when no object graph says so: "adam/iteration", "Adam/iter".
OPTIMIZER_SCALAR_NAMES = frozenset(
    ("iter", "iteration", "iterations", "learning_rate", "lr", "decay", "beta_1", "beta_2",
     "epsilon", "rho", "momentum", "loss_scale", "current_loss_scale", "good_steps")
)  # fmt: skip

Children = list[list[tuple[str, int]]]


def assign_roles(variables: list[Variable], children: Children | None = None) -> None:
    """Set ``role`` on every variable (and ``slot_of`` / ``slot_name`` where the owner of an
    optimizer variable can be told). ``children`` is the object graph's adjacency (node id ->
    [(local name, child id)]), the checkpoint's or the SavedModel's: their ids agree."""
    if children:
        _roles_from_object_graph(variables, children)
    else:
        _roles_from_names(variables)
    _owners(variables, children or [])


def _roles_from_object_graph(variables: list[Variable], children: Children) -> None:
    roots = dict(children[0]) if children else {}
    optimizers = _named_below_root(children, OPTIMIZER_CHILDREN)
    metrics = {
        child
        for holder in _named_below_root(children, ("keras_api",))
        for name, child in children[holder]
        if name == "metrics"
    }
    counters = {roots[name] for name in CHECKPOINT_COUNTERS if name in roots}
    fenced = optimizers | metrics | counters
    model_reach = _reachable(children, [0], fenced)
    optimizer_reach = _reachable(children, optimizers, metrics | counters)
    metric_reach = _reachable(children, metrics, optimizers | counters)
    for v in variables:
        if v.object_id is None:
            v.role = _role_from_name(v, {})
        elif not v.key.endswith(VALUE_SUFFIX) or v.object_id in counters:
            v.role = OTHER
        elif v.slot_of is not None:
            v.role = OPTIMIZER_STATE
        elif v.object_id in model_reach:
            v.role = WEIGHT
        elif v.object_id in optimizer_reach:
            v.role = OPTIMIZER_STATE  # scalars are told apart once owners are known
        elif v.object_id in metric_reach:
            v.role = METRIC
        else:
            v.role = WEIGHT


def _named_below_root(children: Children, names: tuple[str, ...]) -> set[int]:
    """Nodes called one of ``names`` among the root's children and theirs: SavedModel roots
    hold ``optimizer`` themselves, ``tf.train.Checkpoint(model=...)`` one level down."""
    found = set()
    for name, child in children[0]:
        if name in names:
            found.add(child)
        elif 0 <= child < len(children):
            found.update(grand for local, grand in children[child] if local in names)
    return found


def _reachable(children: Children, starts, fenced: set[int]) -> set[int]:
    """Node ids reachable from ``starts`` without entering a node of ``fenced`` (a start in
    ``fenced`` is still walked from)."""
    seen = set(starts)
    queue = deque(seen)
    while queue:
        node = queue.popleft()
        if not 0 <= node < len(children):
            continue
        for _, child in children[node]:
            if child not in seen and child not in fenced:
                seen.add(child)
                queue.append(child)
    return seen


def _roles_from_names(variables: list[Variable]) -> None:
    by_name = {v.name: v for v in variables}
    for v in variables:
        v.role = _role_from_name(v, by_name)


def _role_from_name(v: Variable, by_name: dict[str, Variable]) -> str:
    """A TF1 name's role: ``<weight>/Adam_1`` of an existing weight of the same shape is its
    slot, ``beta1_power`` and ``global_step`` are training scalars."""
    head, _, last = v.name.rpartition("/")
    if TF1_SCALAR.fullmatch(last):
        return OPTIMIZER_SCALAR
    owner = by_name.get(head)
    if owner is not None and TF1_SLOT.fullmatch(last) and owner.shape == v.shape:
        v.slot_of, v.slot_name = owner.name, last
        return OPTIMIZER_STATE
    return v.role


def _owners(variables: list[Variable], children: Children) -> None:
    """Name the weight of each optimizer variable that has none yet; the rest are the
    optimizer's scalars when they hold one element, state of no known weight otherwise."""
    weights = [v for v in variables if v.role == WEIGHT]
    loose = [v for v in variables if v.role == OPTIMIZER_STATE and v.slot_of is None]
    if not loose:
        return
    by_node = {v.object_id: v for v in variables if v.object_id is not None}
    aligned = _aligned_slots(children, by_node, {v.object_id for v in loose})
    by_name = {w.name: w for w in weights}
    for v in loose:
        owner, slot = aligned.get(v.object_id, (None, None))
        named, named_slot = _owner_by_name(v, by_name)
        if owner is None or named is owner:  # the name's slot reads better: "momentum"
            owner, slot = named or owner, named_slot or slot
        if owner is not None:
            v.slot_of, v.slot_name = owner.name, slot
        elif v.shape.dims == () or _last(v.name) in OPTIMIZER_SCALAR_NAMES:
            v.role = OPTIMIZER_SCALAR


def _aligned_slots(children: Children, by_node: dict, loose: set) -> dict:
    """Keras 3 optimizers keep ``_trainable_variables`` and, for each slot, a list in the same
    order (``_momentums``, ``_velocities``): slot node id -> (weight Variable, slot name)."""
    found = {}
    for node in range(len(children)):
        lists = dict(children[node])
        if "_trainable_variables" not in lists:
            continue
        trained = _list_items(children, lists["_trainable_variables"])
        for name, list_id in children[node]:
            if name in ("_trainable_variables", "_variables"):
                continue
            items = _list_items(children, list_id)
            if len(items) != len(trained) or not set(items) <= loose:
                continue
            for weight_id, slot_id in zip(trained, items, strict=True):
                weight = by_node.get(weight_id)
                if weight is not None and weight.shape == by_node[slot_id].shape:
                    found[slot_id] = (weight, name.strip("_"))
    return found


def _list_items(children: Children, list_id: int) -> list[int]:
    """The node ids of a trackable list's items "0", "1", ... in order; [] for anything else."""
    if not 0 <= list_id < len(children):
        return []
    items = children[list_id]
    if not items or any(name != str(i) for i, (name, _) in enumerate(items)):
        return []
    return [child for _, child in items]


def _owner_by_name(v: Variable, weights: dict[str, Variable]):
    """Keras 2 ``Adam/m/dense/kernel`` -> ``dense/kernel`` (slot "m"); Keras 3
    ``adam/dense_kernel_momentum`` -> ``dense/kernel`` (slot "momentum"); the weight must
    hold the same shape."""
    parts = v.name.split("/")
    if len(parts) >= 3:
        owner = weights.get("/".join(parts[2:]))
        if owner is not None and owner.shape == v.shape:
            return owner, parts[1]
    if len(parts) == 2:
        stem = parts[1]
        best = None
        for name, weight in weights.items():
            flat = name.replace("/", "_") + "_"
            longer = best is None or len(flat) > len(best[0])
            if longer and stem.startswith(flat) and weight.shape == v.shape:
                best = (flat, weight)
        if best is not None:
            return best[1], stem[len(best[0]) :]
    return None, None


def _last(name: str) -> str:
    return name.rsplit("/", 1)[-1]
