"""Find a model's frozen weights: the Const nodes of its main graphs whose stored values
take at least ``CONSTANT_MIN_BYTES`` (``Model.constants`` runs this on first use)."""

from __future__ import annotations

from smlens.core.formats.convert import convert_node, node_defs, node_ops
from smlens.core.formats.tensor_proto import tensor_bytes_digest
from smlens.core.model import MetaGraph, Model, Node, TensorValue, Variable
from smlens.core.model.constants import CONSTANT_MIN_BYTES, ConstantEntry, ConstantSource

_CONSTANT_OPS = frozenset({"Const", "HostConst"})
# Constants that are saver plumbing (the tensor names SaveV2 writes), not weights.
_SAVER_READERS = frozenset({"SaveV2", "RestoreV2", "Save", "Restore", "SaveSlices", "RestoreSlice"})
_PLUMBING_SCOPES = ("report_uninitialized_variables", "report_uninitialized_resources")
_PASS_THROUGH = frozenset({"Identity", "Snapshot"})  # a frozen variable's "<name>/read"


def find_constants(model: Model) -> tuple[list[Variable], ConstantSource]:
    """The constants as Variables (keyed by tensor name, "hidden/kernel:0") in graph order,
    each once (a node of the same name in a later meta graph is the same tensor), and the
    source that reads them."""
    values: dict[str, tuple[TensorValue, ConstantEntry]] = {}
    found: list[Variable] = []
    for mg in model.meta_graphs:
        big = _big_constants(mg)
        if not big:
            continue
        consumers = _consumers(mg, {node.name for node, _ in big})
        saver = _saver_nodes(mg)
        for node, value in big:
            key = f"{node.name}:0"
            consumer = consumers.get(node.name, "")
            op, _, reader = consumer.partition(" ")
            if key in values or op in _SAVER_READERS or reader in saver:
                continue
            if node.name.startswith(_PLUMBING_SCOPES):
                continue
            entry = ConstantEntry(
                key=key,
                node=node.name,
                dtype=value.dtype,
                shape=value.shape,
                size=len(value.raw),
                consumer=consumer,
            )
            values[key] = (value, entry)
            found.append(
                Variable(
                    key=key,
                    name=node.name,
                    dtype=value.dtype,
                    shape=value.shape,
                    device=node.device,
                    constant=True,
                    consumer=entry.consumer,
                )
            )
    return found, ConstantSource(values, _digest)


def _saver_nodes(mg: MetaGraph) -> set[str]:
    """The nodes the saver_def names (a TF2 export's save function is handed the object
    graph as a string Const)."""
    if mg.saver is None:
        return set()
    tensors = (mg.saver.save_tensor_name, mg.saver.restore_op_name)
    return {t.partition(":")[0] for t in tensors if t}


def _digest(value: TensorValue) -> str:
    return tensor_bytes_digest(value.raw)


def _big_constants(mg: MetaGraph) -> list[tuple[Node, TensorValue]]:
    """(node, value) of each Const big enough, with a fully known shape and a dtype that
    holds values (not a resource or variant)."""
    ops = node_ops(mg.graph)
    protos = node_defs(mg.graph)
    found = []
    for i, op in enumerate(ops):
        if op not in _CONSTANT_OPS:
            continue
        if protos is not None:
            if protos[i].ByteSize() < CONSTANT_MIN_BYTES:  # cheaper than decoding attrs
                continue
            node = convert_node(protos[i])
        else:
            node = mg.graph.nodes[i]
        value = node.attrs.get("value")
        if not isinstance(value, TensorValue) or len(value.raw) < CONSTANT_MIN_BYTES:
            continue
        if not value.shape.fully_defined or not value.shape.dims:  # a scalar is no weight
            continue
        if value.dtype in ("DT_RESOURCE", "DT_VARIANT"):
            continue
        found.append((node, value))
    return found


def _consumers(mg: MetaGraph, names: set[str]) -> dict[str, str]:
    """Constant node -> "Op node" of the first node that reads it through data edges,
    looking past Identity (convert_variables_to_constants keeps each variable's read)."""
    first = _first_readers(mg, names)
    through = {name: reader for name, reader in first.items() if reader[0] in _PASS_THROUGH}
    beyond = _first_readers(mg, {reader[1] for reader in through.values()}) if through else {}
    out = {}
    for name, (op, reader) in first.items():
        if name in through and reader in beyond:
            op, reader = beyond[reader]
        out[name] = f"{op} {reader}"
    return out


def _first_readers(mg: MetaGraph, names: set[str]) -> dict[str, tuple[str, str]]:
    protos = node_defs(mg.graph)
    source = protos if protos is not None else mg.graph.nodes
    found: dict[str, tuple[str, str]] = {}
    for node in source:
        inputs = node.input if protos is not None else node.inputs
        for text in inputs:
            if text.startswith("^"):
                continue
            name = text.rpartition(":")[0] if ":" in text else text
            if name in names and name not in found:
                found[name] = (node.op, node.name)
    return found
