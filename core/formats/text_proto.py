"""Protobuf text format turned into binary wire format, for protobuf's C parser to read.

``text_format.Parse`` is pure Python: an 8 MB ``saved_model.pbtxt`` takes it seconds, as
long as TensorFlow's own ``saved_model_cli`` (which calls the same function). Here one C
regex splits the whole text into tokens, one Python pass writes each field's wire bytes
from its descriptor (tag, varint, fixed width or length-delimited), and ``ParseFromString``
builds the message. What this pass does not take on (extensions, groups, a repeated
singular field, two members of a oneof, numbers out of range) raises ``Unsupported``, and
the caller falls back to ``text_format.Parse``, which then gives its own error or result:
the fast path only ever returns what that parser would.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from google.protobuf import text_encoding
from google.protobuf.descriptor import Descriptor, FieldDescriptor

ANY = "google.protobuf.Any"

# One token per match, after any white space and comments (possessive: a comment is never
# given back to be read as tokens): a quoted string, a number (as text format writes them:
# 1e-05, 1.5f, 0x1f), an identifier (also -inf and -nan), an Any type URL in brackets, or
# one other character; or "" at the end of the text, so that every position matches and
# findall skips nothing. Tokens are told apart by their first character.
_TOKEN = re.compile(
    r"""\s*+(?:\#[^\n]*+\s*+)*+(?:(
      "[^"\\\n]*(?:\\.[^"\\\n]*)*" | '[^'\\\n]*(?:\\.[^'\\\n]*)*'
    | -?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)(?![\w.])
    | -?[A-Za-z_]\w*
    | \[[\w.\-]+/[\w./\-]+\]
    | \S ) | \Z)""",
    re.VERBOSE,
)
_OPEN = {"{": "}", "<": ">"}
_QUOTES = ("'", '"')
_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_ENUM: (-(2**31), 2**31 - 1),
}
_FIXED_FORMATS = {
    FieldDescriptor.TYPE_FIXED32: "<I",
    FieldDescriptor.TYPE_SFIXED32: "<i",
    FieldDescriptor.TYPE_FLOAT: "<f",
    FieldDescriptor.TYPE_FIXED64: "<Q",
    FieldDescriptor.TYPE_SFIXED64: "<q",
    FieldDescriptor.TYPE_DOUBLE: "<d",
}
_LENGTH_DELIMITED = (
    FieldDescriptor.TYPE_MESSAGE,
    FieldDescriptor.TYPE_STRING,
    FieldDescriptor.TYPE_BYTES,
)
_BOOLS = {"true": b"\x01", "t": b"\x01", "True": b"\x01", "1": b"\x01"}
_BOOLS |= {"false": b"\x00", "f": b"\x00", "False": b"\x00", "0": b"\x00"}
_SPECIAL_FLOATS = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}


class Unsupported(Exception):
    """Text this pass does not turn into wire bytes; text_format.Parse decides."""


_ONE_BYTE = [bytes([i]) for i in range(128)]


def varint(value: int) -> bytes:
    """Base-128 varint; negative numbers as their 64-bit two's complement (10 bytes)."""
    if 0 <= value < 128:
        return _ONE_BYTE[value]
    value &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _Field:
    """What writing one field needs: its tag bytes, how one value's token becomes its
    payload (None for messages and strings), its sub-message, and its oneof."""

    tag: bytes  # key varint with the wire type of one value
    encode: Callable[[str], bytes] | None
    repeated: bool
    message: Descriptor | None
    string: bool
    oneof: str | None


_FIELDS: dict[str, dict[str, _Field]] = {}


def _fields(desc: Descriptor) -> dict[str, _Field]:
    found = _FIELDS.get(desc.full_name)
    if found is None:
        found = _FIELDS[desc.full_name] = {f.name: _field(f) for f in desc.fields}
    return found


def _field(f: FieldDescriptor) -> _Field:
    kind = f.type
    if kind in _LENGTH_DELIMITED:
        wire = 2
    elif kind in _FIXED_FORMATS:
        wire = 1 if struct.calcsize(_FIXED_FORMATS[kind]) == 8 else 5
    elif kind == FieldDescriptor.TYPE_GROUP:
        wire = 3
    else:
        wire = 0
    message = f.message_type if kind == FieldDescriptor.TYPE_MESSAGE else None
    string = kind in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)
    oneof = f.containing_oneof.name if f.containing_oneof else None
    tag = varint(f.number << 3 | wire)
    return _Field(tag, _encoder(f), f.is_repeated, message, string, oneof)


def _encoder(f: FieldDescriptor) -> Callable[[str], bytes] | None:
    """How one token of a scalar field becomes its payload bytes."""
    kind = f.type
    if kind in _LENGTH_DELIMITED:
        return None
    if kind == FieldDescriptor.TYPE_GROUP:
        return _refuse
    if kind == FieldDescriptor.TYPE_BOOL:
        return _bool
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return partial(_packed_float, _FIXED_FORMATS[kind])
    low, high = _INT_RANGES[kind]
    if kind == FieldDescriptor.TYPE_ENUM:
        names = {v.name: varint(v.number) for v in f.enum_type.values}
        return partial(_enum, names, low, high)
    if kind in _FIXED_FORMATS:
        return partial(_packed_int, _FIXED_FORMATS[kind], low, high)
    if kind in (FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64):
        bits = 32 if kind == FieldDescriptor.TYPE_SINT32 else 64
        return partial(_zigzag, bits, low, high)
    return partial(_varint, low, high)


def text_to_wire(text: str, desc: Descriptor, pool) -> bytes:
    """The wire bytes of the message ``desc`` that ``text`` holds; Unsupported when this
    pass cannot say (``pool`` resolves Any type URLs)."""
    tokens = _TOKEN.findall(text)
    if tokens and not tokens[-1]:
        tokens.pop()  # the end of the text
    try:
        data, pos = _message(tokens, 0, desc, "", pool)
    except IndexError:
        raise Unsupported("the text ends inside a message") from None
    if pos != len(tokens):
        raise Unsupported(f"unexpected {tokens[pos]!r}")
    return data


def _message(tokens: list[str], pos: int, desc: Descriptor, close: str, pool):
    """(wire bytes, position after) of one message's fields, up to ``close`` ("" for the
    end of the text)."""
    fields = _fields(desc)
    out: list[bytes] = []
    seen: set[str] | None = None
    count = len(tokens)
    while pos < count:
        token = tokens[pos]
        pos += 1
        field = fields.get(token)
        if field is None:
            if token == close:
                return b"".join(out), pos
            if token in (",", ";") and out:
                continue
            if token[0] == "[" and len(token) > 1 and desc.full_name == ANY:
                body, pos = _any(tokens, pos, token[1:-1], pool)
                out.append(body)
                continue
            raise Unsupported(f"no field {token!r} in {desc.full_name}")
        if not field.repeated:
            seen = seen or set()
            if token in seen or (field.oneof and field.oneof in seen):
                raise Unsupported(f"{token!r} given twice")
            seen.add(token)
            if field.oneof:
                seen.add(field.oneof)
        token = tokens[pos]
        pos += 1
        if token == ":":
            token = tokens[pos]
            pos += 1
        if token == "[":
            if not field.repeated:
                raise Unsupported("a list for a singular field")
            token = tokens[pos]
            pos += 1
            while token != "]":
                pos = _value(tokens, pos, token, field, out, pool)
                token = tokens[pos]
                pos += 1
                if token == ",":
                    token = tokens[pos]
                    pos += 1
            continue
        if field.encode is not None:  # a scalar, the common case, without a call
            out += (field.tag, field.encode(token))
            continue
        pos = _value(tokens, pos, token, field, out, pool)
    if close:
        raise Unsupported("the text ends inside a message")
    return b"".join(out), pos


def _value(tokens: list[str], pos: int, token: str, field: _Field, out: list[bytes], pool) -> int:
    """Append one value of ``field``, whose first token is ``token``; the position after."""
    if field.encode is not None:
        out += (field.tag, field.encode(token))
        return pos
    if field.string:
        if token[0] not in _QUOTES:
            raise Unsupported("not a string")
        parts = [token[1:-1]]
        while pos < len(tokens) and tokens[pos][0] in _QUOTES:  # adjacent pieces concatenate
            parts.append(tokens[pos][1:-1])
            pos += 1
        text = parts[0] if len(parts) == 1 else "".join(parts)
        body = text.encode("utf-8") if "\\" not in text else text_encoding.CUnescape(text)
    else:
        close = _OPEN.get(token)
        if close is None:
            raise Unsupported("a message field without { or <")
        body, pos = _message(tokens, pos, field.message, close, pool)
    out += (field.tag, varint(len(body)), body)
    return pos


def _any(tokens: list[str], pos: int, url: str, pool):
    """An Any written expanded, ``[type.googleapis.com/tensorflow.X] { ... }``: its
    type_url and value fields."""
    try:
        desc = pool.FindMessageTypeByName(url.rsplit("/", 1)[1])
    except KeyError:
        raise Unsupported(f"unknown type {url}") from None
    token = tokens[pos]
    pos += 1
    if token == ":":
        token = tokens[pos]
        pos += 1
    close = _OPEN.get(token)
    if close is None:
        raise Unsupported("an Any without { or <")
    body, pos = _message(tokens, pos, desc, close, pool)
    name = url.encode()
    return b"".join((b"\x0a", varint(len(name)), name, b"\x12", varint(len(body)), body)), pos


def _integer(token: str, low: int, high: int) -> int:
    if token[-1:] in ("f", "F") and "x" not in token.lower():
        raise Unsupported("not an integer")
    try:
        value = int(token, 0)
    except ValueError:
        raise Unsupported(f"not an integer: {token!r}") from None
    if not low <= value <= high:
        raise Unsupported(f"{value} is out of range")
    return value


def _varint(low: int, high: int, token: str) -> bytes:
    return varint(_integer(token, low, high))


def _zigzag(bits: int, low: int, high: int, token: str) -> bytes:
    value = _integer(token, low, high)
    return varint((value << 1) ^ (value >> (bits - 1)))


def _enum(names: dict[str, bytes], low: int, high: int, token: str) -> bytes:
    found = names.get(token)
    return found if found is not None else varint(_integer(token, low, high))


def _bool(token: str) -> bytes:
    found = _BOOLS.get(token)
    if found is None:
        raise Unsupported(f"not a bool: {token!r}")
    return found


def _packed_int(fmt: str, low: int, high: int, token: str) -> bytes:
    return struct.pack(fmt, _integer(token, low, high))


def _packed_float(fmt: str, token: str) -> bytes:
    lowered = token.lower()
    special = _SPECIAL_FLOATS.get(lowered.removeprefix("-"))
    if special is not None:
        value = -special if lowered.startswith("-") else special
    else:
        try:
            value = float(token.rstrip("fF"))
        except ValueError:
            raise Unsupported(f"not a number: {token!r}") from None
    try:
        return struct.pack(fmt, value)
    except OverflowError:
        raise Unsupported(f"{token} is out of range") from None


def _refuse(token: str) -> bytes:
    raise Unsupported("groups")
