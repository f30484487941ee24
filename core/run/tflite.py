"""TFLite readiness: what TensorFlow's own converter said of each signature, read by the
command line and the Overview panel alike (no TensorFlow here; the worker converts).

Each op is ``builtin`` (a TFLite builtin kernel), ``flex`` (runs only with Select TF ops,
which adds TensorFlow's kernels to the app) or ``unsupported`` (neither: the converter can
keep it only as a custom op someone must implement). Flex and unsupported ops carry the
nodes the converter named, with the function each is in; builtin ops are counted in the
converted model, where the converter has fused and renamed the nodes they came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from smlens.core.model.text import counted, grouped

BUILTIN = "builtin"
FLEX = "flex"
UNSUPPORTED = "unsupported"
KINDS = (BUILTIN, FLEX, UNSUPPORTED)
KIND_NAMES = {BUILTIN: "builtin", FLEX: "Flex (Select TF ops)", UNSUPPORTED: "unsupported"}
SHORT_NAMES = {BUILTIN: "builtin", FLEX: "Flex", UNSUPPORTED: "unsupported"}


@dataclass(frozen=True)
class TFLiteNode:
    """A node the converter named: its name and the function it is in ("" for the graph)."""

    node: str
    function: str = ""

    @property
    def where(self) -> str:
        return f"{self.node} in {self.function}" if self.function else self.node


@dataclass(frozen=True)
class TFLiteOp:
    """One op of the converted signature: the TFLite builtin (CONV_2D) or the TensorFlow op
    (MatrixInverse) for Flex and unsupported ones; how many uses, and their nodes."""

    op: str
    kind: str
    count: int
    nodes: tuple[TFLiteNode, ...] = ()


@dataclass(frozen=True)
class TFLiteSignature:
    """One signature's dry run. ``converted`` is "builtins" (builtin ops were enough),
    "select" (it needs Select TF ops) or "" (it cannot be converted); ``builtins_error`` and
    ``select_error`` hold the converter's own summary of each failed conversion."""

    key: str
    converted: str
    ops: tuple[TFLiteOp, ...]
    builtins_error: str = ""
    select_error: str = ""
    written: str = ""  # the .tflite file written, when one was asked for

    def of_kind(self, kind: str) -> list[TFLiteOp]:
        return [op for op in self.ops if op.kind == kind]

    def count(self, kind: str) -> int:
        """Uses of ops of ``kind`` (operators in the converted model, or nodes named)."""
        return sum(op.count for op in self.of_kind(kind))

    @property
    def uses_text(self) -> str:
        """ "6 builtin (3 ops), 2 Flex (1 op), 0 unsupported": the op uses by kind."""
        parts = []
        for kind in KINDS:
            ops = self.of_kind(kind)
            kinds = f" ({counted(len(ops), 'op')})" if ops else ""
            parts.append(f"{grouped(self.count(kind))} {SHORT_NAMES[kind]}{kinds}")
        return ", ".join(parts)

    @property
    def verdict(self) -> str:
        if self.converted == "builtins":
            return "converts with builtin ops only"
        if self.converted == "select":
            return "converts with Select TF ops (Flex)"
        return "does not convert: some ops are unsupported"


@dataclass(frozen=True)
class TFLiteReadiness:
    """The dry run of the signatures of one meta graph."""

    path: str
    tag_set: str
    signatures: tuple[TFLiteSignature, ...]
    tf_version: str = ""
    seconds: float = field(default=0.0, compare=False)

    @property
    def unsupported(self) -> bool:
        """Whether any signature has an op TFLite cannot run even with Select TF ops."""
        return any(s.of_kind(UNSUPPORTED) or not s.converted for s in self.signatures)

    def to_json(self) -> dict:
        data = asdict(self)
        for signature, entry in zip(self.signatures, data["signatures"], strict=True):
            entry["verdict"] = signature.verdict
            entry["counts"] = {kind: signature.count(kind) for kind in KINDS}
        data["unsupported"] = self.unsupported
        return data

    @classmethod
    def from_reply(cls, path: str, tag_set: str, reply: dict, seconds: float = 0.0):
        """The worker's answer (tflite_check.py) as typed objects."""
        signatures = []
        for entry in reply["signatures"]:
            ops = tuple(
                TFLiteOp(
                    op["op"],
                    op["kind"],
                    op["count"],
                    tuple(TFLiteNode(n["node"], n["function"]) for n in op["nodes"]),
                )
                for op in entry["ops"]
            )
            signatures.append(
                TFLiteSignature(
                    key=entry["key"],
                    converted=entry["converted"],
                    ops=ops,
                    builtins_error=entry["builtins_error"],
                    select_error=entry["select_error"],
                    written=entry["written"],
                )
            )
        return cls(path, tag_set, tuple(signatures), reply.get("tf_version", ""), seconds)
