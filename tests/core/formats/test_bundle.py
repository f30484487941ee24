from __future__ import annotations

import builtins
import contextlib
import dataclasses
import io
import os
import shutil
from pathlib import Path

import google_crc32c
import numpy as np
import pytest

from smlens.core.errors import CorruptTensorError, SmlensError
from smlens.core.formats import proto
from smlens.core.formats.bundle import TensorBundle, _ordered_signed, _slice_key
from smlens.core.formats.sstable import read_table
from smlens.core.model.dtypes import dtype as lookup_dtype
from tests.fixtures.checkpoints import prefix_of, write_table

CHECKPOINTS = ["ckpt_dtypes", "ckpt_partitioned", "ckpt_sharded", "ckpt_many"]


def copy_of(models, name: str, tmp_path: Path) -> Path:
    """A private copy of a fixture checkpoint, safe to damage; returns its prefix."""
    src = models.path(name)
    shutil.copytree(src, tmp_path / name)
    return prefix_of(tmp_path / name)


def assert_same_tensor(ours: np.ndarray, theirs) -> None:
    theirs = np.asarray(theirs, dtype=object if isinstance(theirs, bytes) else None)
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    if ours.dtype == object:
        assert all(type(x) is bytes for x in ours.flat)
        assert list(ours.flat) == list(theirs.flat)
    else:
        assert np.array_equal(ours.reshape(-1).view(np.uint8), theirs.reshape(-1).view(np.uint8))


def flip_byte(path: str, offset: int) -> None:
    """Damage a copied shard on purpose: invert the bits of one byte."""
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0xFF]))


# -- agreement with TensorFlow -------------------------------------------------------------


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_every_value_matches_tensorflow(models, tf, name):
    prefix = prefix_of(models.path(name))
    reader = tf.train.load_checkpoint(str(prefix))
    tf_dtypes = reader.get_variable_to_dtype_map()
    with TensorBundle(prefix) as bundle:
        assert set(bundle.keys()) == set(reader.get_variable_to_shape_map())
        for key in bundle.entries:
            entry = bundle.entries[key]
            assert entry.dtype == lookup_dtype(tf_dtypes[key].as_datatype_enum).name
            assert list(entry.shape.dims) == reader.get_variable_to_shape_map()[key]
            if entry.dtype == "DT_VARIANT":
                with pytest.raises(SmlensError, match="DT_VARIANT"):
                    bundle.read(key)
                continue
            assert_same_tensor(bundle.read(key, verify=True), reader.get_tensor(key))
        assert bundle.verify_all() == []
        assert bundle.problems == []


def test_dtypes_fixture_covers_every_dtype(models):
    with TensorBundle(prefix_of(models.path("ckpt_dtypes"))) as bundle:
        dtypes = {e.dtype for e in bundle.entries.values()}
        shapes = {e.shape.dims for e in bundle.entries.values()}
    assert dtypes >= {
        "DT_HALF", "DT_FLOAT", "DT_DOUBLE", "DT_BFLOAT16", "DT_INT8", "DT_INT16", "DT_INT32",
        "DT_INT64", "DT_UINT8", "DT_UINT16", "DT_UINT32", "DT_UINT64", "DT_BOOL",
        "DT_COMPLEX64", "DT_COMPLEX128", "DT_STRING", "DT_VARIANT",
    }  # fmt: skip
    assert {(), (0, 3), (2, 3, 4), (2, 3, 4, 5)} <= shapes


def test_string_values(models):
    with TensorBundle(prefix_of(models.path("ckpt_dtypes"))) as bundle:
        vector = bundle.read("string_vector/.ATTRIBUTES/VARIABLE_VALUE")
        scalar = bundle.read("string_empty_scalar/.ATTRIBUTES/VARIABLE_VALUE")
    assert vector.dtype == object and vector.shape == (4,)
    assert vector[0] == b"" and vector[1].decode() == "h\u00e9llo w\u00f6rld \u2603"
    assert vector[3] == b"x" * 300  # a two-byte varint length
    assert scalar.shape == () and scalar.item() == b""


def test_partitioned_variables_are_assembled_from_slices(models):
    with TensorBundle(prefix_of(models.path("ckpt_partitioned"))) as bundle:
        assert bundle.keys() == ["columns", "long", "matrix", "plain", "vector"]
        matrix = bundle.entries["matrix"]
        assert matrix.slices == (((0, 4), (0, 4)), ((4, 3), (0, 4)), ((7, 3), (0, 4)))
        assert bundle.entries["columns"].slices[1] == ((0, 4), (3, 3))
        assert bundle.read("matrix").shape == (10, 4)
        assert not bundle.entries["plain"].slices
        assert bundle.trackable_object_graph() is None
        with pytest.raises(SmlensError, match="partitioned"):
            bundle.read_raw("matrix")


def test_slice_keys_use_ordered_code():
    # Worked examples from the comments in tensorflow/core/lib/strings/ordered_code.cc.
    assert _ordered_signed(0x424242) == bytes.fromhex("f0424242")
    assert _ordered_signed(-0x800) == bytes.fromhex("3800")
    assert [_ordered_signed(v).hex() for v in (-1, 0, 63, 64, -64, -65)] == [
        "7f", "80", "bf", "c040", "40", "3fbf",
    ]  # fmt: skip
    near_powers = {sign * 2**k + d for k in range(63) for sign in (1, -1) for d in (-1, 0, 1)}
    values = sorted(near_powers | {2**63 - 1, -(2**63)})
    encoded = [_ordered_signed(v) for v in values]
    assert encoded == sorted(encoded)  # the encoding keeps numeric order
    assert max(len(e) for e in encoded) == 10
    assert _slice_key("a\x00b", ((0, -1),)) == b"\x00a\x00\xffb\x00\x01\x01\x01\x80\x7f"


def test_sharded_checkpoint_spreads_tensors_and_slices_over_shards(models):
    with TensorBundle(prefix_of(models.path("ckpt_sharded"))) as bundle:
        assert bundle.header.num_shards > 1
        shards = {key: {part.shard_id for _, part in bundle.parts(key)} for key in bundle.entries}
        assert len(set().union(*shards.values())) > 1
        assert any(len(ids) > 1 for ids in shards.values())  # a variable sliced across shards
        assert bundle.read("v3/.ATTRIBUTES/VARIABLE_VALUE")[-1] == 399.0


def test_header_and_entries(models):
    with TensorBundle(prefix_of(models.path("ckpt_dtypes"))) as bundle:
        assert (bundle.header.num_shards, bundle.header.endianness) == (1, "LITTLE")
        assert bundle.header.version == 1
        entry = bundle.entries["float_4d/.ATTRIBUTES/VARIABLE_VALUE"]
        assert (entry.dtype, entry.shape.dims, entry.shard_id) == ("DT_FLOAT", (2, 3, 4, 5), 0)
        assert entry.size == 2 * 3 * 4 * 5 * 4
        with pytest.raises(dataclasses.FrozenInstanceError):
            entry.size = 0
        raw = bundle.read_raw(entry.key)
        assert len(raw) == entry.size
        assert google_crc32c.value(raw) == entry.crc32c
        with pytest.raises(KeyError):
            bundle.read("no/such/key")


def test_trackable_object_graph(models):
    with TensorBundle(prefix_of(models.path("ckpt_dtypes"))) as bundle:
        graph = bundle.trackable_object_graph()
    assert isinstance(graph, proto.TrackableObjectGraph)
    root_children = {c.local_name for c in graph.nodes[0].children}
    assert {"float", "string_matrix", "iterator"} <= root_children


def test_keys_hide_encoded_slice_keys(models):
    prefix = prefix_of(models.path("ckpt_sharded"))
    stored = [key for key, _ in read_table(str(prefix) + ".index")]
    with TensorBundle(prefix) as bundle:
        hidden = {k for k in stored if k and k.decode(errors="replace") not in bundle.entries}
    assert hidden and all(k.startswith(b"\x00") for k in hidden)


# -- checksums -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, key",
    [
        ("ckpt_dtypes", "float_4d/.ATTRIBUTES/VARIABLE_VALUE"),
        ("ckpt_dtypes", "string_matrix/.ATTRIBUTES/VARIABLE_VALUE"),
        ("ckpt_dtypes", "iterator/.ATTRIBUTES/ITERATOR_STATE"),
        ("ckpt_sharded", "v2/.ATTRIBUTES/VARIABLE_VALUE"),
    ],
)
def test_one_damaged_byte_fails_only_that_tensor(models, tmp_path, name, key):
    prefix = copy_of(models, name, tmp_path)
    with TensorBundle(prefix) as bundle:
        _, part = bundle.parts(key)[-1]
        target = bundle.shard_path(part.shard_id)
    flip_byte(target, part.offset + part.size - 1)
    with TensorBundle(prefix) as bundle:
        with pytest.raises(CorruptTensorError, match="checksum mismatch") as info:
            bundle.verify(key)
        assert info.value.key == key
        assert info.value.path == target
        others = [k for k in bundle.entries if k != key]
        for other in others:
            bundle.verify(other)
        assert [e.path for e in bundle.verify_all()] == [target]


def test_read_with_verify_detects_damage(models, tmp_path):
    prefix = copy_of(models, "ckpt_dtypes", tmp_path)
    key = "double/.ATTRIBUTES/VARIABLE_VALUE"
    with TensorBundle(prefix) as bundle:
        entry = bundle.entries[key]
        good = bundle.read(key)
    flip_byte(bundle.shard_path(0), entry.offset)
    with TensorBundle(prefix) as bundle:
        assert not np.array_equal(bundle.read(key), good)
        with pytest.raises(CorruptTensorError):
            bundle.read(key, verify=True)


# -- damaged and missing files -----------------------------------------------------------------


def test_missing_shard_is_a_problem_not_a_failure(models, tmp_path):
    prefix = copy_of(models, "ckpt_sharded", tmp_path)
    with TensorBundle(prefix) as bundle:
        missing = bundle.shard_path(1)
    os.remove(missing)
    with TensorBundle(prefix_of(models.path("ckpt_sharded"))) as intact:
        shapes = {key: e.shape for key, e in intact.entries.items()}
    with TensorBundle(prefix) as bundle:
        assert [(p.part, p.path) for p in bundle.problems] == [("variables", missing)]
        assert "unavailable" in bundle.problems[0].message
        assert {key: e.shape for key, e in bundle.entries.items()} == shapes
        by_shard = {key: {p.shard_id for _, p in bundle.parts(key)} for key in bundle.entries}
        broken = next(k for k, ids in by_shard.items() if 1 in ids)
        intact = next(k for k, ids in by_shard.items() if 1 not in ids)
        with pytest.raises(SmlensError) as info:
            bundle.read(broken)
        assert info.value.path == missing
        assert bundle.read(intact).size > 0
        assert bundle.verify_all() == []


def test_truncated_shard_is_a_problem(models, tmp_path):
    prefix = copy_of(models, "ckpt_dtypes", tmp_path)
    shard = Path(str(prefix) + ".data-00000-of-00001")
    shard.write_bytes(shard.read_bytes()[:100])
    with TensorBundle(prefix) as bundle:
        assert len(bundle.problems) == 1
        assert "truncated" in bundle.problems[0].message
        with pytest.raises(SmlensError, match="truncated"):
            bundle.read("float_4d/.ATTRIBUTES/VARIABLE_VALUE")


# (label, how to damage the index bytes, what the error says)
BAD_INDEXES = [
    ("empty", lambda data: b"", "shorter than"),
    ("truncated", lambda data: data[: len(data) // 2], "bad magic"),
    ("garbage", lambda data: bytes(range(256)) * 16, "bad magic"),
    ("flipped", lambda data: data[:20] + bytes([data[20] ^ 0x55]) + data[21:], "checksum mismatch"),
]


@pytest.mark.parametrize(
    "damage, words", [case[1:] for case in BAD_INDEXES], ids=[case[0] for case in BAD_INDEXES]
)
@pytest.mark.timeout(30)  # a reader that loops on a damaged index fails here, not in CI's hour
def test_bad_index_raises(models, tmp_path, damage, words):
    prefix = copy_of(models, "ckpt_dtypes", tmp_path)
    index = Path(str(prefix) + ".index")
    index.write_bytes(damage(index.read_bytes()))
    with pytest.raises(SmlensError, match=words) as info:
        TensorBundle(prefix)
    assert info.value.path == str(index)


def test_nonexistent_prefix(tmp_path):
    with pytest.raises(SmlensError, match="No such file") as info:
        TensorBundle(tmp_path / "nothing")
    assert info.value.path == str(tmp_path / "nothing.index")


def _rewrite_header(prefix: Path, **fields) -> None:
    index = Path(str(prefix) + ".index")
    pairs = read_table(index)
    header = proto.BundleHeaderProto.FromString(pairs[0][1])
    for name, value in fields.items():
        setattr(header, name, value)
    write_table(index, [(b"", header.SerializeToString()), *pairs[1:]])


def test_big_endian_checkpoint_is_refused(models, tmp_path):
    prefix = copy_of(models, "ckpt_dtypes", tmp_path)
    _rewrite_header(prefix)
    with TensorBundle(prefix) as bundle:  # the rewritten index still reads
        assert len(bundle.keys()) > 10
    _rewrite_header(prefix, endianness=proto.BundleHeaderProto.BIG)
    with pytest.raises(SmlensError, match="BIG-endian"):
        TensorBundle(prefix)


def test_unparseable_entry_and_missing_header(tmp_path):
    index = tmp_path / "x.index"
    write_table(index, [(b"a", b"\x0a\xff")])
    with pytest.raises(SmlensError, match="no header"):
        TensorBundle(tmp_path / "x")
    write_table(index, [(b"", b""), (b"a", b"\x0a\xff")])
    with pytest.raises(SmlensError, match="'a' is unparseable"):
        TensorBundle(tmp_path / "x")


# -- laziness and resources ------------------------------------------------------------------


def test_open_reads_only_the_index(models, monkeypatch):
    prefix = prefix_of(models.path("ckpt_dtypes"))
    opened = []
    real_open = io.open

    real_os_open = os.open

    def spy(file, *args, **kwargs):
        if not isinstance(file, int):  # os.fdopen of a descriptor os_spy saw
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def os_spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_os_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    monkeypatch.setattr(os, "open", os_spy)
    with TensorBundle(prefix) as bundle:
        assert opened == [bundle.index_path]
        bundle.read("float/.ATTRIBUTES/VARIABLE_VALUE")
        bundle.read("double/.ATTRIBUTES/VARIABLE_VALUE")
        assert opened == [bundle.index_path, bundle.shard_path(0)]


def test_values_are_read_from_the_shard_as_it_is_at_first_read(models, tmp_path):
    prefix = copy_of(models, "ckpt_dtypes", tmp_path)
    key = "float_3d/.ATTRIBUTES/VARIABLE_VALUE"
    with TensorBundle(prefix) as bundle:
        good = bundle.read(key)
    with TensorBundle(prefix) as bundle:
        flip_byte(bundle.shard_path(0), bundle.entries[key].offset)  # after opening
        assert bundle.read(key).reshape(-1)[0] != good.reshape(-1)[0]
        assert (bundle.read(key) != good).sum() == 1


def _open_paths() -> set[str]:
    fd_dir = Path("/proc/self/fd")
    paths = set()
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):  # the fd of the listing itself is gone by now
            paths.add(os.readlink(fd))
    maps = Path("/proc/self/maps").read_text().split("\n")
    return paths | {line.split(maxsplit=5)[-1] for line in maps if "/" in line}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_close_releases_the_shards(models, tmp_path):
    # A private copy: a bundle other tests left open on the shared fixture maps it too.
    copy = tmp_path / "ckpt"
    shutil.copytree(models.path("ckpt_dtypes"), copy)
    prefix = prefix_of(copy)
    bundle = TensorBundle(prefix)
    value = bundle.read("float/.ATTRIBUTES/VARIABLE_VALUE")
    shard = os.path.realpath(bundle.shard_path(0))
    assert shard in _open_paths()
    bundle.close()
    assert shard not in _open_paths()
    assert value.sum() != 0  # values were copied out of the map
    with pytest.raises(SmlensError, match="closed"):
        bundle.read("float/.ATTRIBUTES/VARIABLE_VALUE")
