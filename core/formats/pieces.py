"""Parse a big protobuf message in pieces, so that no single C call holds the GIL for long.

protobuf's parser holds the GIL for the whole call: 16 MB of SavedModel (a 140,000-op
function) is one ~110 ms call, during which the window's UI thread cannot run. Serialized
fields concatenate: parsing ``a + b`` equals parsing ``a`` and then merging ``b`` (repeated
fields append, singular messages merge, the last scalar wins). So the top-level fields are
walked by their wire headers and merged a piece of about ``PIECE`` bytes at a time; a field
that is itself a bigger message is parsed the same way into its place (``add()`` for a
repeated one), keeping field order. The result equals a whole parse; truncated or malformed
data raises protobuf's own ``DecodeError`` from the piece that holds it.
"""

from __future__ import annotations

import threading

from google.protobuf.message import Message

PIECE = 1 << 20  # ~5 ms of parsing

_FIXED = {1: 8, 5: 4}  # wire type -> size


def parse_in_pieces(message: Message, data: bytes, piece: int = PIECE) -> Message:
    """Merge the serialized ``data`` into ``message`` piece by piece; returns ``message``."""
    _merge(message, memoryview(data), piece)
    return message


def parse(message: Message, data: bytes) -> Message:
    """Parse ``data`` into ``message``: in pieces off the main thread, where a UI thread
    may be waiting for the GIL; in one call on the main thread, where nothing waits and
    walking the fields costs time (+0.5 s on a million nodes)."""
    if threading.current_thread() is threading.main_thread():
        message.MergeFromString(data)
        return message
    return parse_in_pieces(message, data, PIECE)


def _merge(message: Message, data: memoryview, piece: int) -> None:
    end = len(data)
    if end <= piece:
        _merge_piece(message, data)
        return
    fields = message.DESCRIPTOR.fields_by_number
    start = pos = 0  # start: first byte not merged yet
    while pos < end:
        field_start = pos
        tag = data[pos]  # one byte for fields 1-15, the common case, inlined for speed
        tag, pos = (tag, pos + 1) if tag < 0x80 else _varint(data, pos)
        wire = tag & 7
        if wire == 2:
            length = data[pos] if pos < end else 0
            length, body = (length, pos + 1) if length < 0x80 else _varint(data, pos)
            pos = body + length
            child = length > piece and _big_message_field(message, fields.get(tag >> 3))
            if child and pos <= end:
                if field_start > start:
                    _merge_piece(message, data[start:field_start])
                _merge(child(), data[body:pos], piece)
                start = pos
                continue
        elif wire == 0:
            _, pos = _varint(data, pos)
        elif wire in _FIXED:
            pos += _FIXED[wire]
        else:  # groups (deprecated) or garbage: protobuf takes the rest in one call
            break
        if pos - start >= piece:
            _merge_piece(message, data[start : min(pos, end)])
            start = pos
    if start < end:
        _merge_piece(message, data[start:])


def _merge_piece(message: Message, piece: memoryview) -> None:
    message.MergeFromString(piece)


def _big_message_field(message: Message, field):
    """For a long length-delimited field worth parsing in pieces (a message field, not a
    map entry): a function giving the message to merge it into; else None."""
    if field is None or field.message_type is None:
        return None
    if field.message_type.GetOptions().map_entry:
        return None
    if field.is_repeated:
        return getattr(message, field.name).add
    return lambda: getattr(message, field.name)


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it. Past the end it returns what it
    has; the merge of that piece then raises protobuf's DecodeError."""
    result = shift = 0
    end = len(data)
    while pos < end:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    return result, end + 1
