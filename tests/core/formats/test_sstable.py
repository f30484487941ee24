from __future__ import annotations

import shutil
import struct
from pathlib import Path

import google_crc32c
import pytest

from smlens.core.errors import SmlensError
from smlens.core.formats import proto, sstable
from smlens.core.formats.reader import open_model
from smlens.core.formats.sstable import FOOTER_SIZE, TABLE_MAGIC, mask_crc, read_table, unmask_crc
from tests.core.formats.test_bundle import assert_same_tensor
from tests.fixtures.checkpoints import prefix_of, write_table


def index_of(models, name: str) -> Path:
    return Path(str(prefix_of(models.path(name))) + ".index")


def test_many_keys_come_back_in_order(models):
    pairs = read_table(index_of(models, "ckpt_many"))
    keys = [key for key, _ in pairs]
    expected = {f"layer_{i:03d}_{'w' * 1000}/.ATTRIBUTES/VARIABLE_VALUE" for i in range(300)}
    assert keys == sorted(keys)
    assert keys[0] == b""
    assert {k.decode() for k in keys[1:]} == expected | {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    entries = [proto.BundleEntryProto.FromString(v) for k, v in pairs[1:] if k.startswith(b"l")]
    assert {e.dtype for e in entries} == {1}  # DT_FLOAT
    assert sorted(e.offset for e in entries) == [4 * i for i in range(300)]


def test_many_keys_span_several_blocks(models):
    data = index_of(models, "ckpt_many").read_bytes()
    offset, size = sstable._read_footer(data)
    index_block = sstable._block_entries(sstable._read_block(data, offset, size))
    assert len(index_block) > 1


def test_written_table_round_trips(tmp_path):
    pairs = [(b"", b"header"), (b"a", b""), (b"ab", b"x" * 300), (b"b\xff", b"\x00")]
    write_table(tmp_path / "t.index", pairs)
    assert read_table(tmp_path / "t.index") == pairs


def test_crc_mask_round_trips():
    for crc in (0, 1, 0xFFFFFFFF, google_crc32c.value(b"foo")):
        assert unmask_crc(mask_crc(crc)) == crc
    assert mask_crc(google_crc32c.value(b"foo")) != google_crc32c.value(b"foo")


def _footer(index_handle: bytes, magic: int = TABLE_MAGIC) -> bytes:
    body = (b"\x00\x00" + index_handle).ljust(FOOTER_SIZE - 8, b"\x00")
    return body + struct.pack("<Q", magic)


def _snappy_bomb(path: Path) -> None:
    """A snappy block whose header claims 4 GiB uncompressed from a few bytes."""
    _raw_block_table(path, b"\x80\x80\x80\x80\x10" + b"\x00" * 8, sstable.SNAPPY_COMPRESSION)


def _bad_snappy(path: Path) -> None:
    """A snappy block whose elements copy from before its start."""
    _raw_block_table(path, b"\x10" + b"\x01\x10" * 4, sstable.SNAPPY_COMPRESSION)


def _raw_block_table(path: Path, block: bytes, kind: int) -> None:
    """A table whose index block is ``block`` as stored, with a correct trailer crc."""
    trailer = bytes([kind])
    crc = mask_crc(google_crc32c.value(block + trailer))
    stored = block + trailer + struct.pack("<I", crc)
    handle = b"\x00\x00" + bytes([0, len(block)])  # metaindex at 0 (+0), index at 0
    footer = handle.ljust(FOOTER_SIZE - 8, b"\x00") + struct.pack("<Q", TABLE_MAGIC)
    path.write_bytes(stored + footer)


def _unknown_compression(path: Path) -> None:
    write_table(path, [(b"", b"h")], compression=7)


def _out_of_order(path: Path) -> None:
    write_table(path, [(b"b", b""), (b"a", b"")])


def _bytes(data: bytes):
    return lambda path: path.write_bytes(data)


# (label, how to write the damaged table, what the error says)
MALFORMED_TABLES = [
    ("empty", _bytes(b""), "0 bytes, shorter than the 48-byte footer"),
    ("short", _bytes(b"\x00" * 47), "shorter than"),
    ("magic", _bytes(_footer(b"\x00\x00", magic=1)), "bad magic number"),
    ("varint", _bytes(_footer(b"\xff" * 38)), "varint longer than 10 bytes"),
    ("handle", _bytes(_footer(b"\x80\x80\x80\x01\x10")), "runs past the end of the file"),
    ("snappy-bomb", _snappy_bomb, "snappy block of 13 bytes claims 4294967296 uncompressed"),
    ("bad-snappy", _bad_snappy, "bad snappy data"),
    ("compression", _unknown_compression, "unknown compression type 7"),
    ("order", _out_of_order, "keys out of order"),
]


@pytest.mark.parametrize(
    "make, words",
    [case[1:] for case in MALFORMED_TABLES],
    ids=[case[0] for case in MALFORMED_TABLES],
)
@pytest.mark.timeout(30)  # a reader that loops on a damaged table fails here
def test_malformed_tables_raise_smlens_error(tmp_path, make, words):
    path = tmp_path / "bad.index"
    make(path)
    with pytest.raises(SmlensError, match=words) as info:
        read_table(path)
    assert info.value.path == str(path)


def test_checksum_mismatch_names_both_values(models, tmp_path):
    data = bytearray(index_of(models, "ckpt_partitioned").read_bytes())
    data[3] ^= 0x01
    (tmp_path / "bad.index").write_bytes(bytes(data))
    with pytest.raises(SmlensError, match=r"checksum mismatch: stored 0x[0-9a-f]{8}, computed"):
        read_table(tmp_path / "bad.index")


def test_missing_file(tmp_path):
    with pytest.raises(SmlensError, match="cannot read: No such file"):
        read_table(tmp_path / "absent.index")


def test_every_truncation_and_flipped_byte_fails_cleanly(models, tmp_path):
    """No cut or single-byte change escapes as anything but SmlensError."""
    data = index_of(models, "ckpt_partitioned").read_bytes()
    path = tmp_path / "fuzz.index"
    damaged = [data[:n] for n in range(len(data))]
    damaged += [data[:i] + bytes([data[i] ^ 0xA5]) + data[i + 1 :] for i in range(len(data))]
    failures = 0
    for variant in damaged:
        path.write_bytes(variant)
        try:
            read_table(path)
        except SmlensError:
            failures += 1
    assert failures >= len(data)  # every truncation at least


def test_snappy_blocks_read_back(tmp_path):
    pairs = [(b"", b"header"), *((f"key/{i:04d}".encode(), b"v" * (i % 50)) for i in range(300))]
    write_table(tmp_path / "t.index", pairs, compression=sstable.SNAPPY_COMPRESSION)
    data = (tmp_path / "t.index").read_bytes()
    assert len(data) < sum(len(k) + len(v) for k, v in pairs)  # really compressed
    assert read_table(tmp_path / "t.index") == pairs


@pytest.mark.parametrize("name", ["ckpt_dtypes", "keras_export"])
def test_a_snappy_index_reads_as_tensorflow_reads_it(models, tf, tmp_path, name):
    """The same entries in snappy blocks: TensorFlow's own reader takes the rewritten index
    (so it follows the format), and ours gives TensorFlow's values from it."""
    copy = tmp_path / name
    shutil.copytree(models.path(name), copy)
    index = next(copy.rglob("*.index"))
    write_table(index, read_table(index), compression=sstable.SNAPPY_COMPRESSION)
    assert index.read_bytes()[-FOOTER_SIZE - 5] == sstable.SNAPPY_COMPRESSION
    prefix = str(index)[: -len(".index")]
    theirs = tf.train.load_checkpoint(prefix)
    model = open_model(copy)
    assert not model.problems
    keys = set(theirs.get_variable_to_shape_map()) - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    assert {v.key for v in model.variables} == keys
    readable = [v for v in model.variables if v.dtype != "DT_VARIANT"]  # TF's own format
    assert len(readable) >= 2
    for variable in readable:
        ours = model.checkpoint.read(variable.key)
        assert_same_tensor(ours, theirs.get_tensor(variable.key))
