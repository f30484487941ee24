"""Frozen weights: the big Const tensors of a graph, read like checkpoint variables.

A frozen GraphDef keeps its weights in Const nodes, so it has no checkpoint; its tensors
are listed with the variables (``Variable.constant``), read through a ``ConstantSource``
(a ``TensorSource`` over the nodes' TensorValues), and compared by the diff as variables
are. The reader finds them on first use (``Model.constants``): a million-node graph pays
for the scan only when something asks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from smlens.core.model.model import Shape, TensorValue

# Const tensors whose stored values take at least this many bytes are listed: weights, not
# the shape vectors, axes and scalars every graph is full of.
CONSTANT_MIN_BYTES = 256


@dataclass(frozen=True)
class ConstantEntry:
    """What the listing needs of one constant, without decoding it."""

    key: str  # the tensor name, "hidden/kernel:0": never a checkpoint key
    node: str  # the Const node
    dtype: str  # enum name
    shape: Shape
    size: int  # bytes its stored values take in the graph
    consumer: str = ""  # "MatMul hidden/MatMul": the op that reads it (through Identity)
    crc32c: Any = None  # the content digest once ``ConstantSource.parts`` computed it
    slices: tuple = ()
    constant: bool = True


class ConstantSource:
    """A TensorSource over Const nodes' values: ``read`` decodes with the reader's capped
    decoder; ``parts`` gives the diff a fingerprint of the values (equal values, equal
    fingerprint, however they are encoded) in place of a checkpoint's crc32c."""

    def __init__(self, values: dict[str, tuple[TensorValue, ConstantEntry]], digest):
        self._values = values
        self._digest = digest  # TensorValue -> str, from the reader (formats.tensor_proto)
        self.entries: dict[str, ConstantEntry] = {k: e for k, (_, e) in values.items()}

    def read(self, key: str, *, verify: bool = False) -> Any:
        return self._values[key][0].numpy()

    def parts(self, key: str) -> list[tuple[None, ConstantEntry]]:
        entry = self.entries[key]
        if entry.crc32c is None:
            entry = self.entries[key] = replace(entry, crc32c=self._digest(self._values[key][0]))
        return [(None, entry)]

    def verify(self, key: str) -> None:
        self.read(key)

    def close(self) -> None:
        """Nothing to close: the values live in the parsed graph."""
