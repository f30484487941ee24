"""TFRecord framing, read without TensorFlow: each record is a little-endian uint64 length,
the masked crc32c of those 8 bytes, the data, and the masked crc32c of the data
(tsl/lib/io/record_reader.cc). No compression: TF Serving reads its warmup file plain.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import google_crc32c

from smlens.core.formats.sstable import unmask_crc

HEADER_SIZE = 12  # kHeaderSize: uint64 length + uint32 masked crc of the length
FOOTER_SIZE = 4  # kFooterSize: uint32 masked crc of the data


class RecordError(Exception):
    """A record whose framing is broken: ``index`` and ``offset`` say where."""

    def __init__(self, index: int, offset: int, message: str):
        super().__init__(f"record {index} (byte {offset:,}): {message}")
        self.index = index
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class Record:
    index: int
    offset: int  # where its header starts
    data: bytes


def iter_records(data: bytes, verify: bool = True) -> Iterator[Record]:
    """Every record of a TFRecord file's bytes, in order; RecordError at the first one whose
    length or checksum is wrong (TensorFlow's reader stops there too: "corrupted record")."""
    view = memoryview(data)
    offset = index = 0
    while offset < len(view):
        header = view[offset : offset + HEADER_SIZE]
        if len(header) < HEADER_SIZE:
            raise RecordError(index, offset, f"truncated header ({len(header)} of 12 bytes)")
        length, length_crc = struct.unpack("<QI", header)
        if verify and google_crc32c.value(bytes(header[:8])) != unmask_crc(length_crc):
            raise RecordError(index, offset, "the length's checksum does not match")
        start = offset + HEADER_SIZE
        end = start + length
        if end + FOOTER_SIZE > len(view):
            raise RecordError(
                index, offset, f"truncated: claims {length:,} bytes, the file ends before"
            )
        body = bytes(view[start:end])
        (data_crc,) = struct.unpack("<I", view[end : end + FOOTER_SIZE])
        if verify and google_crc32c.value(body) != unmask_crc(data_crc):
            raise RecordError(index, offset, "the data's checksum does not match")
        yield Record(index, offset, body)
        offset = end + FOOTER_SIZE
        index += 1
