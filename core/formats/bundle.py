"""A pure-Python reader for TensorFlow checkpoints (the "tensor bundle" format).

``<prefix>.index`` is a LevelDB table from tensor key to BundleEntryProto, with the
BundleHeaderProto under the empty key; values live in ``<prefix>.data-NNNNN-of-MMMMM``
shards (tensorflow/core/util/tensor_bundle/tensor_bundle.cc). Opening reads only the
index; the shards are memory-mapped the first time a value is read.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, replace
from pathlib import Path

import google_crc32c
import numpy as np
from google.protobuf.message import DecodeError

from smlens.core.errors import CorruptTensorError, Problem, SmlensError
from smlens.core.formats import proto
from smlens.core.formats.files import stat_regular
from smlens.core.formats.sstable import FormatError, read_table, read_varint, unmask_crc
from smlens.core.model import Shape
from smlens.core.model.dtypes import dtype as lookup_dtype

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_BUNDLE_VERSION = 1  # kTensorBundleVersion: the consumer version this reader implements
_CRC_CHUNK = 8 << 20  # google_crc32c takes only bytes: checksum big tensors piecewise

# One (start, length) pair per dimension; length -1 means the whole extent.
SliceSpec = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class BundleHeader:
    num_shards: int
    endianness: str  # "LITTLE" or "BIG"
    version: int  # VersionDef.producer
    min_consumer: int = 0


@dataclass(frozen=True)
class Entry:
    """One index entry. ``crc32c`` is unmasked; a partitioned variable's data is in ``slices``."""

    key: str
    dtype: str  # enum name, "DT_FLOAT"
    shape: Shape
    shard_id: int
    offset: int
    size: int
    crc32c: int
    slices: tuple[SliceSpec, ...] = ()


@dataclass(frozen=True)
class CheckpointPrefix:
    """Where a checkpoint's files are: a folder and the name they start with.

    The name may be empty: ``saver.save(sess, "dir/")`` writes ``dir/.index``,
    ``dir/.data-00000-of-00001`` and ``dir/.meta``, and names the prefix "dir/" in its state
    file; a Path cannot end in an empty name (``Path("dir/")`` is ``dir``), so this keeps
    the two parts apart.
    """

    folder: Path
    name: str

    @classmethod
    def of(cls, text: str | Path) -> CheckpointPrefix:
        """The prefix a path names: "dir/model.ckpt-10", or "dir/" for the empty name."""
        text = os.fspath(text)
        if text.endswith(("/", os.sep)):
            return cls(Path(text), "")
        path = Path(text)
        return cls(path.parent, path.name)

    @classmethod
    def of_file(cls, path: Path, suffix: str) -> CheckpointPrefix:
        """The prefix of one of its files: "dir/.index" -> "dir/" ("dir/.index" has no
        suffix to pathlib: it is a hidden file's name)."""
        return cls(path.parent, path.name.removesuffix(suffix))

    def file(self, suffix: str) -> Path:
        return self.folder / (self.name + suffix)

    @property
    def index(self) -> Path:
        return self.file(".index")

    @property
    def path(self) -> Path:
        """The prefix as a Path to open: the folder itself for the empty name (whose state
        file or own .index leads back here)."""
        return self.folder / self.name if self.name else self.folder

    def files(self) -> list[Path]:
        """Every file of this checkpoint: the index, the data shards, the .meta."""
        return sorted(self.folder.glob(self.name + ".*"))

    def __str__(self) -> str:
        return str(self.folder / self.name) if self.name else os.path.join(self.folder, "")


class TensorBundle:
    """A checkpoint opened at its prefix: entries at once, values on demand."""

    def __init__(self, prefix: str | Path | CheckpointPrefix):
        self.prefix = str(prefix)
        self.index_path = self.prefix + ".index"
        pairs = read_table(self.index_path)
        if not pairs or pairs[0][0] != b"":
            raise SmlensError(self.index_path, "the index has no header entry")
        self.header = self._parse_header(pairs[0][1])
        self._entry_errors: dict[str, str] = {}
        all_entries = {key: self._parse_entry(key, value) for key, value in pairs[1:]}
        self._slice_entries, self._slice_of = _split_slices(all_entries)
        self.entries: dict[str, Entry] = {e.key: e for e in all_entries.values()}
        self.problems: list[Problem] = [
            Problem("variables", self.index_path, f"tensor {k!r}: {m}")
            for k, m in self._entry_errors.items()
        ]
        self._shard_errors: dict[int, str] = {}
        self._maps: dict[int, mmap.mmap | bytes] = {}
        self._closed = False
        self._check_shards()
        self._check_slices()

    # -- opening ---------------------------------------------------------------------------

    def _parse_header(self, value: bytes) -> BundleHeader:
        try:
            msg = proto.BundleHeaderProto.FromString(value)
        except DecodeError as e:
            raise SmlensError(self.index_path, f"unparseable bundle header: {e}") from None
        endianness = proto.enum_names("tensorflow.BundleHeaderProto.Endianness").get(
            msg.endianness, str(msg.endianness)
        )
        if endianness != "LITTLE":
            raise SmlensError(self.index_path, f"{endianness}-endian checkpoints are not supported")
        versions = msg.version
        if versions.min_consumer > _BUNDLE_VERSION or _BUNDLE_VERSION in versions.bad_consumers:
            raise SmlensError(
                self.index_path,
                f"written for readers of version >= {versions.min_consumer}, "
                f"this reader implements version {_BUNDLE_VERSION}",
            )
        return BundleHeader(msg.num_shards, endianness, versions.producer, versions.min_consumer)

    def _parse_entry(self, key: bytes, value: bytes) -> Entry:
        name = key.decode("utf-8", "surrogateescape")
        try:
            msg = proto.BundleEntryProto.FromString(value)
        except DecodeError as e:
            raise SmlensError(self.index_path, f"entry {name!r} is unparseable: {e}") from None
        if msg.shard_id >= max(self.header.num_shards, 1) and not msg.slices:
            raise SmlensError(
                self.index_path,
                f"entry {name!r} is in shard {msg.shard_id} of {self.header.num_shards}",
            )
        shape = msg.shape
        dims = None if shape.unknown_rank else tuple(d.size for d in shape.dim)
        if msg.offset < 0 or msg.size < 0 or msg.shard_id < 0:
            self._entry_errors[name] = (
                f"negative shard, offset or size ({msg.shard_id}, {msg.offset}, {msg.size})"
            )
        return Entry(
            key=name,
            dtype=lookup_dtype(msg.dtype).name,
            shape=Shape(dims),
            shard_id=msg.shard_id,
            offset=msg.offset,
            size=msg.size,
            crc32c=unmask_crc(msg.crc32c),
            slices=tuple(_slice_spec(s) for s in msg.slices),
        )

    def shard_path(self, shard_id: int) -> str:
        """DataFilename() in tensor_bundle.cc."""
        return f"{self.prefix}.data-{shard_id:05d}-of-{self.header.num_shards:05d}"

    def _check_shards(self) -> None:
        """Stat (never read) every shard the entries use; a bad one becomes a Problem."""
        needed: dict[int, int] = {}
        for e in self._stored_entries():
            if e.offset >= 0 and e.size >= 0 and e.shard_id >= 0:
                needed[e.shard_id] = max(needed.get(e.shard_id, 0), e.offset + e.size)
        for shard_id, size in sorted(needed.items()):
            path = self.shard_path(shard_id)
            try:
                actual = stat_regular(path).st_size
            except SmlensError as e:
                self._shard_problem(shard_id, f"data shard is unavailable: {e.message}")
                continue
            if actual < size:
                self._shard_problem(
                    shard_id, f"data shard is truncated: {actual} bytes, the index needs {size}"
                )

    def _shard_problem(self, shard_id: int, message: str) -> None:
        self._shard_errors[shard_id] = message
        self.problems.append(Problem("variables", self.shard_path(shard_id), message))

    def _check_slices(self) -> None:
        for key in self.entries:
            try:
                self.parts(key)
            except SmlensError as e:
                self.problems.append(Problem("variables", e.path, e.message))

    def _stored_entries(self):
        yield from (e for e in self.entries.values() if not e.slices)
        yield from self._slice_entries.values()

    # -- listing ---------------------------------------------------------------------------

    def keys(self) -> list[str]:
        """User-visible keys in index order, as get_variable_to_shape_map() lists them."""
        return list(self.entries)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def _entry(self, key: str) -> Entry:
        if key not in self.entries:
            raise KeyError(f"{key!r} is not in checkpoint {self.prefix}")
        return self.entries[key]

    def parts(self, key: str) -> list[tuple[SliceSpec | None, Entry]]:
        """Where ``key``'s data is stored: [(None, its entry)], or one (spec, entry) per slice."""
        entry = self._entry(key)
        if not entry.slices:
            return [(None, entry)]
        parts = []
        for spec in entry.slices:
            part = self._slice_entries.get(_slice_key(entry.key, spec))
            if part is None:
                raise SmlensError(
                    self.index_path, f"tensor {entry.key!r}: slice {_spec_str(spec)} is missing"
                )
            parts.append((spec, part))
        return parts

    # -- values ----------------------------------------------------------------------------

    def read(self, key: str, *, verify: bool = False) -> np.ndarray:
        """The tensor's values, as tf.train.load_checkpoint(prefix).get_tensor(key) gives them.

        Strings come back as an object array of bytes. The bytes are not checksummed unless
        ``verify`` is set (or call verify()), so a damaged shard reads as wrong values.
        """
        entry = self._entry(key)
        if not entry.slices:
            return self._read_stored(entry, verify)
        return self._assemble(entry, verify)

    def read_raw(self, key: str) -> bytes:
        """The tensor's stored bytes, exactly as in the shard (strings include their lengths)."""
        entry = self._entry(key)
        if entry.slices:
            raise SmlensError(self.index_path, f"tensor {key!r} is partitioned: read() it")
        buf, start = self._locate(entry)
        return bytes(buf[start : start + entry.size])

    def _assemble(self, entry: Entry, verify: bool) -> np.ndarray:
        """Join a partitioned variable's slices into the full tensor.

        The slices are checked against the shape before anything is allocated: together
        they must hold exactly as many elements as the shape, each inside it.
        """
        dims = entry.shape.dims or ()
        parts = self.parts(entry.key)
        if not entry.shape.fully_defined:
            raise SmlensError(self.index_path, f"tensor {entry.key!r} has shape {entry.shape}")
        regions = []
        held = 0
        np_dtype = lookup_dtype(entry.dtype).numpy
        for spec, part in parts:
            region = _region(spec, dims)
            if region is None:
                raise SmlensError(
                    self.index_path,
                    f"tensor {entry.key!r}: slice {_spec_str(spec)} is out of range",
                )
            # Each element takes at least a byte of the slice's stored data (a string's
            # length varint): more elements than stored bytes cannot be real.
            need = _region_size(region) * (np_dtype.itemsize if np_dtype is not None else 1)
            self._locate(part)  # stored bytes inside the shard
            if need > part.size:
                raise SmlensError(
                    self.index_path,
                    f"tensor {entry.key!r}: slice {_spec_str(spec)} covers "
                    f"{_region_size(region)} elements, its {part.size} stored bytes cannot",
                )
            regions.append(region)
            held += _region_size(region)
        if held != entry.shape.num_elements():
            raise SmlensError(
                self.index_path,
                f"tensor {entry.key!r}: its slices hold {held} elements, "
                f"its shape {entry.shape} needs {entry.shape.num_elements()}",
            )
        out = np.empty(dims, dtype=object if np_dtype is None else np_dtype)
        covered = np.zeros(dims, dtype=bool)
        for (spec, part), region in zip(parts, regions, strict=True):
            values = self._read_stored(part, verify)
            if values.shape != out[region].shape:
                raise SmlensError(
                    self.index_path,
                    f"tensor {entry.key!r}: slice {_spec_str(spec)} holds shape {values.shape}",
                )
            out[region] = values
            covered[region] = True
        if not covered.all():
            raise SmlensError(self.index_path, f"tensor {entry.key!r}: slices leave gaps")
        return out

    def _read_stored(self, entry: Entry, verify: bool) -> np.ndarray:
        if verify:
            self._verify_stored(entry)
        dt = lookup_dtype(entry.dtype)
        count = entry.shape.num_elements()
        if count is None:
            raise SmlensError(self.index_path, f"tensor {entry.key!r} has shape {entry.shape}")
        buf, start = self._locate(entry)
        if dt.name == "DT_STRING":
            return self._decode_strings(entry, buf, start, count).reshape(entry.shape.dims)
        if dt.numpy is None:
            what = dt.name if dt.known else f"a tensor of {dt.text}"
            raise SmlensError(self.index_path, f"tensor {entry.key!r}: cannot read {what}")
        if entry.size != count * dt.numpy.itemsize:
            raise SmlensError(
                self.index_path,
                f"tensor {entry.key!r}: stored size {entry.size}, "
                f"its shape needs {count * dt.numpy.itemsize}",
            )
        if count == 0:
            return np.empty(entry.shape.dims, dtype=dt.numpy)
        # A copy, so the result does not hold the shard's map open.
        values = np.frombuffer(buf, dtype=dt.numpy, count=count, offset=start).copy()
        return values.reshape(entry.shape.dims)

    def _decode_strings(self, entry: Entry, buf, start: int, count: int) -> np.ndarray:
        """DT_STRING layout: varint64 lengths, masked crc32c of the lengths, then the bytes."""
        lengths, pos = self._string_lengths(entry, buf, start, count)
        out = np.empty(count, dtype=object)
        for i, n in enumerate(lengths):
            out[i] = buf[pos : pos + n]
            pos += n
        return out

    def _string_lengths(self, entry: Entry, buf, start: int, count: int) -> tuple[list[int], int]:
        """The element lengths and where the string bytes begin, checked against entry.size."""
        end = start + entry.size
        lengths = []
        pos = start
        try:
            for _ in range(count):
                n, pos = read_varint(buf, pos, end)
                lengths.append(n)
        except FormatError as e:
            raise self._corrupt(entry, f"string lengths unreadable: {e}") from None
        pos += 4  # the masked crc32c of the lengths
        if pos + sum(lengths) != end:
            raise self._corrupt(
                entry,
                f"string lengths add up to {pos + sum(lengths) - start} bytes, not {entry.size}",
            )
        return lengths, pos

    # -- shards ----------------------------------------------------------------------------

    def _locate(self, entry: Entry) -> tuple[mmap.mmap | bytes, int]:
        """The mapped shard holding ``entry`` and the entry's offset in it, bounds-checked."""
        if entry.offset < 0 or entry.size < 0 or entry.shard_id < 0:
            raise SmlensError(
                self.index_path, f"tensor {entry.key!r}: negative shard, offset or size"
            )
        buf = self._shard(entry.shard_id)
        if entry.offset + entry.size > len(buf):
            raise SmlensError(
                self.shard_path(entry.shard_id),
                f"tensor {entry.key!r} lies past the end of the shard ({len(buf)} bytes)",
            )
        return buf, entry.offset

    def _shard(self, shard_id: int) -> mmap.mmap | bytes:
        if self._closed:
            raise SmlensError(self.prefix, "the checkpoint is closed")
        path = self.shard_path(shard_id)
        if shard_id in self._shard_errors:
            raise SmlensError(path, self._shard_errors[shard_id])
        if shard_id not in self._maps:
            stat_regular(path)  # a FIFO would block the open
            try:
                with open(path, "rb") as f:
                    empty = os.fstat(f.fileno()).st_size == 0  # mmap refuses empty files
                    self._maps[shard_id] = (
                        b"" if empty else mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                    )
            except OSError as e:
                raise SmlensError(path, f"cannot read data shard: {e.strerror or e}") from None
        return self._maps[shard_id]

    def close(self) -> None:
        """Unmap every shard; later reads raise SmlensError."""
        for buf in self._maps.values():
            if isinstance(buf, mmap.mmap):
                buf.close()
        self._maps.clear()
        self._closed = True

    def __enter__(self) -> TensorBundle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- checksums -------------------------------------------------------------------------

    def verify(self, key: str) -> None:
        """Check the tensor's (or each of its slices') bytes against the index's crc32c."""
        for _, part in self.parts(key):
            self._verify_stored(part)

    def verify_all(self) -> list[CorruptTensorError]:
        """One error per tensor whose checksum fails.

        Tensors whose shard or slice is unavailable are skipped: ``problems`` reports those.
        """
        if self._closed:
            raise SmlensError(self.prefix, "the checkpoint is closed")
        errors = []
        for key in self.entries:
            try:
                self.verify(key)
            except CorruptTensorError as e:
                errors.append(e)
            except SmlensError:
                continue
        return errors

    def _verify_stored(self, entry: Entry) -> None:
        actual = self._checksum(entry)
        if actual != entry.crc32c:
            raise self._corrupt(
                entry, f"checksum mismatch: stored 0x{entry.crc32c:08x}, computed 0x{actual:08x}"
            )

    def _checksum(self, entry: Entry) -> int:
        """The crc32c BundleWriter::Add computes for ``entry``."""
        buf, start = self._locate(entry)
        if entry.size == 0:
            return 0
        if entry.dtype == "DT_STRING":
            return self._string_checksum(entry, buf, start)
        if entry.dtype == "DT_VARIANT":
            return self._variant_checksum(entry, buf, start)
        return _crc(buf, start, start + entry.size)

    def _string_checksum(self, entry: Entry, buf, start: int) -> int:
        """WriteStringTensor checksums each length as a fixed uint32 (uint64 if it needs to),
        not as its varint bytes, then the stored length checksum and the string bytes."""
        count = entry.shape.num_elements() or 0
        lengths, pos = self._string_lengths(entry, buf, start, count)
        crc = google_crc32c.value(b"".join(_fixed_length(n) for n in lengths))
        crc = google_crc32c.extend(crc, buf[pos - 4 : pos])
        return _crc(buf, pos, start + entry.size, crc)

    def _variant_checksum(self, entry: Entry, buf, start: int) -> int:
        """WriteVariantTensor: per element a varint64 length (checksummed as a uint64), the
        serialized VariantTensorDataProto, and the masked running checksum."""
        end = start + entry.size
        crc = 0
        pos = start
        try:
            while pos < end:
                n, pos = read_varint(buf, pos, end)
                if pos + n + 4 > end:
                    raise FormatError("an element runs past the tensor's end")
                crc = google_crc32c.extend(crc, struct.pack("<Q", n))
                crc = _crc(buf, pos, pos + n + 4, crc)
                pos += n + 4
        except FormatError as e:
            raise self._corrupt(entry, f"variant elements unreadable: {e}") from None
        return crc

    def _corrupt(self, entry: Entry, message: str) -> CorruptTensorError:
        """The error for damaged bytes, naming the user-visible key (and slice, if one)."""
        key, spec = self._slice_of.get(entry.key, (entry.key, None))
        if spec is not None:
            message = f"slice {_spec_str(spec)}: {message}"
        return CorruptTensorError(self.shard_path(entry.shard_id), key, message)

    # -- object graph ----------------------------------------------------------------------

    def trackable_object_graph(self):
        """The TF2 TrackableObjectGraph stored with the checkpoint, or None (TF1 checkpoints)."""
        if OBJECT_GRAPH_KEY not in self.entries:
            return None
        value = self.read(OBJECT_GRAPH_KEY)
        try:
            return proto.TrackableObjectGraph.FromString(value.reshape(-1)[0])
        except (DecodeError, IndexError) as e:
            raise SmlensError(
                self.shard_path(self.entries[OBJECT_GRAPH_KEY].shard_id),
                f"unparseable {OBJECT_GRAPH_KEY}: {e}",
            ) from None


def _crc(buf, start: int, end: int, crc: int = 0) -> int:
    for pos in range(start, end, _CRC_CHUNK):
        crc = google_crc32c.extend(crc, buf[pos : min(pos + _CRC_CHUNK, end)])
    return crc


def _fixed_length(n: int) -> bytes:
    return struct.pack("<I", n) if n <= 0xFFFFFFFF else struct.pack("<Q", n)


# -- partitioned variables ------------------------------------------------------------------


def _slice_spec(msg) -> SliceSpec:
    """TensorSlice(TensorSliceProto): an extent without a length is the full dimension."""
    return tuple((e.start, e.length if e.HasField("length") else -1) for e in msg.extent)


def _spec_str(spec: SliceSpec) -> str:
    """TensorSlice::DebugString style: "0,4:-"."""
    return ":".join("-" if length < 0 else f"{start},{length}" for start, length in spec)


def _region(spec: SliceSpec, dims: tuple[int, ...]) -> tuple[slice, ...] | None:
    if len(spec) != len(dims):
        return None
    region = []
    for (start, length), dim in zip(spec, dims, strict=True):
        if length < 0:
            region.append(slice(0, dim))
        elif start < 0 or start + length > dim:
            return None
        else:
            region.append(slice(start, start + length))
    return tuple(region)


def _region_size(region: tuple[slice, ...]) -> int:
    n = 1
    for r in region:
        n *= r.stop - r.start
    return n


def _split_slices(entries: dict[bytes, Entry]) -> tuple[dict[bytes, Entry], dict[str, tuple]]:
    """Move the stored slices of partitioned variables out of ``entries``.

    Returns encoded key -> slice entry (keyed "name[0,4:-]" for messages), and that label ->
    (variable key, slice spec).
    """
    slices, owners = {}, {}
    for entry in list(entries.values()):
        for spec in entry.slices:
            code = _slice_key(entry.key, spec)
            if code in entries:
                label = f"{entry.key}[{_spec_str(spec)}]"
                slices[code] = replace(entries.pop(code), key=label)
                owners[label] = (entry.key, spec)
    return slices, owners


def _slice_key(name: str, spec: SliceSpec) -> bytes:
    """checkpoint::EncodeTensorNameSlice (saved_tensor_slice_util.cc), in OrderedCode."""
    out = bytearray(_ordered_uint(0))
    out += _ordered_string(name.encode("utf-8", "surrogateescape"))
    out += _ordered_uint(len(spec))
    for start, length in spec:
        out += _ordered_signed(start) + _ordered_signed(length)
    return bytes(out)


def _ordered_uint(value: int) -> bytes:
    """OrderedCode::WriteNumIncreasing: a length byte, then big-endian without leading zeros."""
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(body)]) + body


_ESCAPES = {0x00: b"\x00\xff", 0xFF: b"\xff\x00"}


def _ordered_string(value: bytes) -> bytes:
    """OrderedCode::WriteString: escape 0x00 as 00 ff and 0xff as ff 00, end with 00 01."""
    return b"".join(_ESCAPES.get(byte, bytes([byte])) for byte in value) + b"\x00\x01"


def _ordered_signed(value: int) -> bytes:
    """OrderedCode::WriteSignedNumIncreasing.

    n bytes hold [-2^(7n-1), 2^(7n-1)): the two's-complement value, sign-extended to n bytes,
    with its top n bits (the length, 10 bytes at most) flipped.
    """
    magnitude = ~value if value < 0 else value
    length = magnitude.bit_length() // 7 + 1
    header = (0xFFFF << (16 - length)) & 0xFFFF  # kLengthToHeaderBits, as 16 bits
    encoded = bytearray((value & ((1 << (8 * length)) - 1)).to_bytes(length, "big"))
    encoded[0] ^= header >> 8
    if length > 1:
        encoded[1] ^= header & 0xFF
    return bytes(encoded)
