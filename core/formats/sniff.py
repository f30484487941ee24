"""Tell a file's kind from its content: SavedModel, MetaGraphDef, GraphDef, checkpoint index
or checkpoint state, in binary or text form."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import message as pb_message
from google.protobuf import text_format

from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.formats.files import read_regular
from smlens.core.formats.pieces import parse

# LevelDB table magic, the last 8 bytes of every .index file (leveldb table/format.h).
TABLE_MAGIC = (0xDB4775248B80FB57).to_bytes(8, "little")

_CLASSES = {"saved_model": "SavedModel", "meta_graph": "MetaGraphDef", "graph_def": "GraphDef"}
_META_ONLY = {(3, 2), (5, 2), (6, 2), (7, 2)}  # saver_def, signature_def, asset_file_def, objects
_GRAPH_OR_META = {(1, 2), (2, 2), (3, 0), (4, 2)}


class _WireError(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _WireError("bad varint")
        b = data[pos]
        result |= (b & 0x7F) << shift
        pos += 1
        if not b & 0x80:
            return result, pos
        shift += 7


def top_fields(data: bytes, limit: int = 64) -> list[tuple[int, int, int, int]]:
    """The first top-level fields of a serialized message: (number, wire type, start, end)."""
    fields = []
    pos = 0
    while pos < len(data) and len(fields) < limit:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        start = pos
        if number == 0:
            raise _WireError("field number 0")
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, start = _varint(data, pos)
            pos = start + length
        elif wire == 5:
            pos += 4
        else:
            raise _WireError(f"wire type {wire}")
        if pos > len(data):
            raise _WireError("field runs past the end")
        fields.append((number, wire, start, pos))
    return fields


def _binary_kind(path: Path, data: bytes) -> str:
    try:
        fields = top_fields(data)
    except _WireError as e:
        raise SmlensError(
            path, f"not a SavedModel, MetaGraphDef, GraphDef or checkpoint: not a protobuf ({e})"
        ) from None
    kinds = {(n, w) for n, w, _, _ in fields}
    if fields and fields[0][:2] == (1, 0) and kinds <= {(1, 0), (2, 2)}:
        return "saved_model"
    if path.name == "saved_model.pb" and kinds <= {(2, 2)}:
        return "saved_model"
    if kinds & _META_ONLY:
        return "meta_graph"
    if kinds <= _GRAPH_OR_META:
        if path.suffix == ".meta":
            return "meta_graph"
        first = next(((s, e) for n, w, s, e in fields if (n, w) == (1, 2)), None)
        if first is None:
            return "graph_def"
        try:
            node = proto.NodeDef.FromString(data[first[0] : first[1]])
        except pb_message.DecodeError:
            return "meta_graph"
        return "graph_def" if node.op and node.name else "meta_graph"
    raise SmlensError(
        path, "not a SavedModel, MetaGraphDef or GraphDef: unexpected protobuf fields"
    )


def _parse_binary(path: Path, data: bytes, kind: str):
    try:
        return parse(getattr(proto, _CLASSES[kind])(), data)
    except pb_message.DecodeError as e:
        raise SmlensError(
            path, f"cannot parse as a {_CLASSES[kind]}: truncated or corrupt ({e})"
        ) from None


def _text_kind(path: Path, text: str):
    head = text.lstrip()[:4096]
    if head.startswith(("model_checkpoint_path", "all_model_checkpoint_paths")):
        return "checkpoint_state", None
    order = ["saved_model", "meta_graph", "graph_def"]
    if "meta_graphs" not in head and "saved_model_schema_version" not in head:
        order.remove("saved_model")
    errors = []
    for kind in order:
        msg = getattr(proto, _CLASSES[kind])()
        try:
            proto.parse_text(text, msg)
        except text_format.ParseError as e:
            errors.append(f"{_CLASSES[kind]}: {e}")
            continue
        return kind, msg
    raise SmlensError(
        path, "text that is not a SavedModel, MetaGraphDef or GraphDef: " + errors[-1]
    )


def sniff_file(path: Path):
    """(kind, parsed message or None) for a file; kind is one of saved_model, meta_graph,
    graph_def, checkpoint_index, checkpoint_state."""
    data = read_regular(path)
    if not data:
        raise SmlensError(path, "the file is empty")
    if data[-8:] == TABLE_MAGIC or path.suffix == ".index":
        return "checkpoint_index", None
    if b"\0" not in data[:4096]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and text.lstrip()[:1].isalpha():
            try:
                return _text_kind(path, text)
            except SmlensError as text_error:
                # A small binary GraphDef can look like text; try it as binary before failing.
                try:
                    kind = _binary_kind(path, data)
                    return kind, _parse_binary(path, data, kind)
                except SmlensError:
                    raise text_error from None
    kind = _binary_kind(path, data)
    return kind, _parse_binary(path, data, kind)
