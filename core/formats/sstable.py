"""A reader for the LevelDB table format TensorFlow uses for checkpoint index files.

Layout (leveldb doc/table_format.md, tensorflow/tsl/lib/io/format.h): data blocks, a
metaindex block, an index block, then a fixed-size footer pointing at the last two.
Every block is followed by a 5-byte trailer: compression type and masked crc32c of the
stored (compressed) bytes. TensorFlow's checkpoint writer stores blocks uncompressed, but
its table format allows snappy (kSnappyCompression), and its reader decompresses those.
"""

from __future__ import annotations

import struct
from itertools import pairwise
from pathlib import Path

import cramjam
import google_crc32c

from smlens.core.errors import SmlensError
from smlens.core.formats.files import read_regular

FOOTER_SIZE = 48  # kEncodedLength: two BlockHandles padded to 40 bytes, then the magic
TABLE_MAGIC = 0xDB4775248B80FB57  # kTableMagicNumber, stored little-endian
BLOCK_TRAILER_SIZE = 5  # kBlockTrailerSize: 1 type byte + fixed32 masked crc
NO_COMPRESSION = 0
SNAPPY_COMPRESSION = 1
_CRC_MASK_DELTA = 0xA282EAD8  # kMaskDelta in tsl/lib/hash/crc32c.h
# A snappy element expands at most 64 bytes from 2 (a copy); with room for a small block, an
# uncompressed length beyond this is a lie that would have us allocate it.
_SNAPPY_MAX_RATIO = 32
_SNAPPY_SLACK = 1 << 16


class FormatError(ValueError):
    """Malformed bytes; callers turn it into an SmlensError that names the file."""


def mask_crc(crc: int) -> int:
    """crc32c::Mask: rotate right by 15 bits and add a constant."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _CRC_MASK_DELTA) & 0xFFFFFFFF


def unmask_crc(masked: int) -> int:
    rot = (masked - _CRC_MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def read_varint(data, pos: int, limit: int | None = None, max_bytes: int = 10) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return (value, position after it)."""
    end = len(data) if limit is None else limit
    value = shift = 0
    for i in range(max_bytes):
        if pos + i >= end:
            raise FormatError("varint runs past the end of its data")
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos + i + 1
        shift += 7
    raise FormatError(f"varint longer than {max_bytes} bytes")


def read_table(path: str | Path) -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of the table at ``path``, in key order."""
    data = read_regular(path)
    try:
        return _read_entries(data)
    except FormatError as e:
        raise SmlensError(path, f"not a valid table index: {e}") from None


def _read_entries(data: bytes) -> list[tuple[bytes, bytes]]:
    index_offset, index_size = _read_footer(data)
    entries: list[tuple[bytes, bytes]] = []
    for _, handle in _block_entries(_read_block(data, index_offset, index_size)):
        offset, pos = read_varint(handle, 0)
        size, _ = read_varint(handle, pos)
        entries.extend(_block_entries(_read_block(data, offset, size)))
    for (a, _), (b, _) in pairwise(entries):
        if a >= b:
            raise FormatError(f"keys out of order: {b!r} after {a!r}")
    return entries


def _read_footer(data: bytes) -> tuple[int, int]:
    """The index block's handle; the metaindex handle is skipped (TF's metaindex is empty)."""
    if len(data) < FOOTER_SIZE:
        raise FormatError(f"file is {len(data)} bytes, shorter than the {FOOTER_SIZE}-byte footer")
    footer = data[-FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
    if magic != TABLE_MAGIC:
        raise FormatError(f"bad magic number 0x{magic:016x} (expected 0x{TABLE_MAGIC:016x})")
    _, pos = read_varint(footer, 0, FOOTER_SIZE - 8)
    _, pos = read_varint(footer, pos, FOOTER_SIZE - 8)
    index_offset, pos = read_varint(footer, pos, FOOTER_SIZE - 8)
    index_size, _ = read_varint(footer, pos, FOOTER_SIZE - 8)
    return index_offset, index_size


def _read_block(data: bytes, offset: int, size: int) -> bytes:
    """A block's contents, after checking its trailer's crc and compression type."""
    end = offset + size + BLOCK_TRAILER_SIZE
    if end > len(data) - FOOTER_SIZE:
        raise FormatError(f"block at {offset} (+{size} bytes) runs past the end of the file")
    block = data[offset:end]
    kind = block[size]
    (stored,) = struct.unpack_from("<I", block, size + 1)
    actual = google_crc32c.value(block[: size + 1])
    if unmask_crc(stored) != actual:
        raise FormatError(
            f"block at {offset}: checksum mismatch: stored 0x{unmask_crc(stored):08x}, "
            f"computed 0x{actual:08x}"
        )
    if kind == SNAPPY_COMPRESSION:
        return _snappy_block(block[:size], offset)
    if kind != NO_COMPRESSION:
        raise FormatError(f"block at {offset}: unknown compression type {kind}")
    return block[:size]


def _snappy_block(stored: bytes, offset: int) -> bytes:
    """A snappy block's contents (raw snappy: the uncompressed length as a varint, then
    literal and copy elements), its claimed length checked before anything is allocated."""
    length, _ = read_varint(stored, 0, max_bytes=5)
    if length > _SNAPPY_MAX_RATIO * len(stored) + _SNAPPY_SLACK:
        raise FormatError(
            f"block at {offset}: snappy block of {len(stored)} bytes claims {length} uncompressed"
        )
    try:
        contents = bytes(cramjam.snappy.decompress_raw(stored))
    except cramjam.DecompressionError as e:
        raise FormatError(f"block at {offset}: bad snappy data ({e})") from None
    if len(contents) != length:
        raise FormatError(
            f"block at {offset}: snappy block gave {len(contents)} bytes, not {length}"
        )
    return contents


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """Decode a block: prefix-compressed entries, then fixed32 restart offsets and their count."""
    if len(block) < 4:
        raise FormatError(f"block of {len(block)} bytes has no restart count")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    if num_restarts > (len(block) - 4) // 4:
        raise FormatError(f"block of {len(block)} bytes claims {num_restarts} restart points")
    limit = len(block) - 4 * (num_restarts + 1)
    restarts = set(struct.unpack_from(f"<{num_restarts}I", block, limit))
    entries = []
    key = b""
    pos = 0
    while pos < limit:
        start = pos
        shared, pos = read_varint(block, pos, limit, max_bytes=5)
        non_shared, pos = read_varint(block, pos, limit, max_bytes=5)
        value_size, pos = read_varint(block, pos, limit, max_bytes=5)
        if shared > len(key) or (start in restarts and shared):
            raise FormatError(f"entry at block offset {start} shares {shared} bytes it cannot")
        if pos + non_shared + value_size > limit:
            raise FormatError(f"entry at block offset {start} runs past its block")
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        entries.append((key, block[pos : pos + value_size]))
        pos += value_size
    return entries
