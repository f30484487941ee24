"""Give checkpoint keys real names through the object graph.

A TF2 checkpoint key such as ``variables/0/.ATTRIBUTES/VARIABLE_VALUE`` only says where the
tensor hangs in the object graph. The checkpoint's own TrackableObjectGraph maps each key to
its node (and so to an object path), and the SavedModel's object graph, whose node ids are
the same, gives the variable's name, trainability and device. TF1 keys are names already.
"""

from __future__ import annotations

from smlens.core.formats.bundle import OBJECT_GRAPH_KEY
from smlens.core.formats.convert import object_paths
from smlens.core.formats.roles import assign_roles
from smlens.core.model import ObjectGraph, Variable

VALUE_ATTR = "VARIABLE_VALUE"


def _key_index(trackable) -> tuple[dict[str, tuple[int, str, str]], list[str], dict, list]:
    """checkpoint key -> (node id, attribute name, full name); node paths; slot map;
    children."""
    children = [[(c.local_name, c.node_id) for c in n.children] for n in trackable.nodes]
    paths = object_paths(children)
    keys = {}
    slots = {}
    for node_id, node in enumerate(trackable.nodes):
        for attr in node.attributes:
            keys[attr.checkpoint_key] = (node_id, attr.name, attr.full_name)
        for slot in node.slot_variables:
            slots[slot.slot_variable_node_id] = (slot.original_variable_node_id, slot.slot_name)
    return keys, paths, slots, children


def _escape(local_name: str) -> str:
    """trackable_utils.escape_local_name: how object names appear in checkpoint keys."""
    return local_name.replace(".", "..").replace("/", ".S")


def _saved_key_index(saved: ObjectGraph) -> tuple[dict, list[str], dict, list]:
    """The key index rebuilt from the SavedModel's object graph alone, for when the
    checkpoint's own object graph is unreadable (it lives in a data shard): keys are the
    escaped first breadth-first path to each variable, as TensorFlow builds them."""
    children = [node.children for node in saved.nodes]
    paths = object_paths(children)
    key_paths = object_paths([[(_escape(n), i) for n, i in c] for c in children], sep="/")
    keys = {
        f"{key_paths[node.id]}/.ATTRIBUTES/{VALUE_ATTR}": (node.id, VALUE_ATTR, "")
        for node in saved.nodes
        if node.variable is not None
    }
    return keys, paths, {}, children


def resolve_variables(entries: dict, trackable=None, saved: ObjectGraph | None = None) -> list:
    """One Variable per user-visible checkpoint entry (``entries``: key -> bundle Entry),
    each with its role (``core.formats.roles``)."""
    if trackable is not None:
        keys, paths, slots, children = _key_index(trackable)
    elif saved is not None:
        keys, paths, slots, children = _saved_key_index(saved)
    else:
        keys, paths, slots, children = {}, [], {}, []

    def name_of(node_id: int, attr: str, full_name: str) -> str:
        saved_var = _saved_variable(saved, node_id)
        if saved_var is not None and saved_var.name and attr == VALUE_ATTR:
            return saved_var.name
        if full_name:
            return full_name
        path = paths[node_id] if node_id < len(paths) else ""
        return path if attr == VALUE_ATTR else f"{path}/{attr}"

    value_names = {
        node_id: name_of(node_id, attr, full)
        for node_id, attr, full in keys.values()
        if attr == VALUE_ATTR
    }
    variables = []
    for key, entry in entries.items():
        if key == OBJECT_GRAPH_KEY:
            continue
        var = Variable(key=key, name=key, dtype=entry.dtype, shape=entry.shape)
        var.sliced = bool(entry.slices)
        if key in keys:
            node_id, attr, full_name = keys[key]
            var.name = name_of(node_id, attr, full_name)
            var.object_id = node_id
            var.object_path = paths[node_id] if node_id < len(paths) else ""
            saved_var = _saved_variable(saved, node_id)
            if saved_var is not None:
                var.trainable = saved_var.trainable
                var.device = saved_var.device
            if node_id in slots:
                original, var.slot_name = slots[node_id]
                var.slot_of = value_names.get(original)
        variables.append(var)
    assign_roles(variables, children)
    return variables


def _saved_variable(saved: ObjectGraph | None, node_id: int):
    if saved is None or not 0 <= node_id < len(saved.nodes):
        return None
    return saved.nodes[node_id].variable
