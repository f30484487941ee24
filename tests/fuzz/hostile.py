"""Hand-made hostile models: each one a case issue 13 found crashing, hanging or reading
outside the folder, built by damaging a copy of a fixture model exported by TensorFlow.

``HOSTILE = {name: (fixture, build, what_it_covers)}``; ``build(folder)`` damages the copy
in ``folder`` and returns the path to open.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from smlens.core.formats import proto
from smlens.core.formats.sstable import read_table
from tests.fixtures.checkpoints import write_table


def copy_model(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def index_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.index"))


def rewrite_entry(index: Path, key: str, **fields) -> None:
    """Set fields of one BundleEntryProto (``shape=[...]`` replaces the dims)."""
    pairs = read_table(index)
    out = []
    for k, v in pairs:
        if k == key.encode():
            entry = proto.BundleEntryProto.FromString(v)
            for name, value in fields.items():
                if name == "shape":
                    del entry.shape.dim[:]
                    for d in value:
                        entry.shape.dim.add().size = d
                else:
                    setattr(entry, name, value)
            v = entry.SerializeToString()
        out.append((k, v))
    write_table(index, out)


def first_key(index: Path, skip=("", "_CHECKPOINTABLE_OBJECT_GRAPH")) -> str:
    return next(k.decode() for k, _ in read_table(index) if k.decode() not in skip)


def snapshot(folder: Path) -> dict[str, tuple]:
    """What is in a folder, symlinks not followed: to prove nothing was written."""
    found = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(root) / name
            st = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(folder))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return found


# -- the cases --------------------------------------------------------------------------------


def ref_dtype(folder: Path) -> Path:
    index = folder / "variables" / "variables.index"
    rewrite_entry(index, first_key(index), dtype=101)  # DT_FLOAT_REF
    return folder


def unknown_dtype(folder: Path) -> Path:
    index = folder / "variables" / "variables.index"
    rewrite_entry(index, first_key(index), dtype=77)
    return folder


def negative_dtype(folder: Path) -> Path:
    """Every tensor entry of every index at dtype -5 (protobuf keeps an open enum's number)."""
    for index in index_files(folder):
        pairs = []
        for key, value in read_table(index):
            if key and key != b"_CHECKPOINTABLE_OBJECT_GRAPH":
                entry = proto.BundleEntryProto.FromString(value)
                entry.dtype = -5
                value = entry.SerializeToString()
            pairs.append((key, value))
        write_table(index, pairs)
    return folder


def negative_offset(folder: Path) -> Path:
    index = folder / "variables" / "variables.index"
    for key, _ in read_table(index)[1:]:
        if key != b"_CHECKPOINTABLE_OBJECT_GRAPH":
            rewrite_entry(index, key.decode(), offset=-8)
    return folder


def object_graph_offset(folder: Path) -> Path:
    index = folder / "variables" / "variables.index"
    rewrite_entry(index, "_CHECKPOINTABLE_OBJECT_GRAPH", offset=-(2**63))
    return folder


def slices_too_big(folder: Path) -> Path:
    (index,) = index_files(folder)
    rewrite_entry(index, "matrix", shape=[2**20, 2**20])  # 4 TiB if allocated
    return folder


def slices_negative(folder: Path) -> Path:
    (index,) = index_files(folder)
    rewrite_entry(index, "vector", shape=[-5])
    return folder


def long_state_path(folder: Path) -> Path:
    for p in folder.glob("model.ckpt*"):
        p.unlink()
    (folder / "checkpoint").write_text(f'model_checkpoint_path: "{"a" * 5000}"\n')
    return folder


def state_outside(folder: Path) -> Path:
    """A state file naming another folder's checkpoint, beside the folder's own files."""
    other = folder.parent / f"{folder.name}_elsewhere"
    other.mkdir()
    for p in folder.glob("model.ckpt-10.*"):
        shutil.copy(p, other / p.name.replace("-10.", "-99."))
    (folder / "checkpoint").write_text(
        f'model_checkpoint_path: "{other / "model.ckpt-99"}"\n'
        f'all_model_checkpoint_paths: "../{other.name}/model.ckpt-99"\n'
    )
    return folder


def state_outside_only(folder: Path) -> Path:
    """A state file naming ``../elsewhere/model.ckpt-10``; the folder has no checkpoint."""
    other = folder.parent / f"{folder.name}_elsewhere"
    other.mkdir()
    for p in folder.glob("model.ckpt*"):
        shutil.move(p, other / p.name)
    (folder / "checkpoint").write_text(f'model_checkpoint_path: "../{other.name}/model.ckpt-10"\n')
    return folder


def asset_symlink(folder: Path) -> Path:
    (folder / "assets").mkdir(exist_ok=True)
    (folder / "assets" / "passwd.txt").symlink_to("/etc/passwd")
    return folder


def assets_folder_symlink(folder: Path) -> Path:
    shutil.rmtree(folder / "assets", ignore_errors=True)
    (folder / "assets").symlink_to("/etc")
    return folder


def variables_symlink(folder: Path) -> Path:
    moved = folder.parent / f"{folder.name}_variables"
    shutil.move(folder / "variables", moved)
    (folder / "variables").symlink_to(moved)
    return folder


def fifo_saved_model(folder: Path) -> Path:
    (folder / "saved_model.pb").unlink()
    os.mkfifo(folder / "saved_model.pb")
    return folder


def fifo_asset(folder: Path) -> Path:
    (folder / "assets").mkdir(exist_ok=True)
    os.mkfifo(folder / "assets" / "pipe.txt")
    return folder


def fifo_index(folder: Path) -> Path:
    index = folder / "variables" / "variables.index"
    index.unlink()
    os.mkfifo(index)
    return folder


def fifo_shard(folder: Path) -> Path:
    (shard,) = (folder / "variables").glob("*.data-*")
    shard.unlink()
    os.mkfifo(shard)
    return folder


def fifo_fingerprint(folder: Path) -> Path:
    (folder / "fingerprint.pb").unlink()
    os.mkfifo(folder / "fingerprint.pb")
    return folder


def bad_meta(folder: Path) -> Path:
    (meta,) = folder.glob("*.meta")
    meta.write_bytes(meta.read_bytes()[:100] + b"\xff" * 40)
    return folder


def missing_function(folder: Path) -> Path:
    """Every call node names ``missing_fn``, which the function library does not hold."""
    saved = proto.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    for node in saved.meta_graphs[0].graph_def.node:
        if "f" in node.attr and node.attr["f"].HasField("func"):
            node.attr["f"].func.name = "missing_fn"
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    return folder


def dangling_child(folder: Path) -> Path:
    """The object graph's root names child 1,000,000 (found by the fuzzer: seed 5, case 57)."""
    saved = proto.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    saved.meta_graphs[0].object_graph_def.nodes[0].children[0].node_id = 1_000_000
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    return folder


def zero_sizes(folder: Path) -> Path:
    """Every variable's entry says it stores 0 bytes (found by the fuzzer)."""
    index = folder / "variables" / "variables.index"
    for key, _ in read_table(index)[1:]:
        rewrite_entry(index, key.decode(), size=0)
    return folder


Build = Callable[[Path], Path]
HOSTILE: dict[str, tuple[str, Build, str]] = {
    "ref_dtype": ("keras_export", ref_dtype, "an index entry of dtype DT_FLOAT_REF (101)"),
    "unknown_dtype": ("keras_export", unknown_dtype, "an index entry of dtype 77"),
    "negative_dtype": ("keras_export", negative_dtype, "every index entry of dtype -5"),
    "negative_dtype_sliced": (
        "ckpt_partitioned",
        negative_dtype,
        "a partitioned checkpoint whose whole and sliced entries are of dtype -5",
    ),
    "negative_offset": ("keras_export", negative_offset, "every variable at offset -8"),
    "object_graph_offset": (
        "keras_export",
        object_graph_offset,
        "the object-graph entry at offset -2**63",
    ),
    "slices_too_big": (
        "ckpt_partitioned",
        slices_too_big,
        "a partitioned variable whose shape claims [2**20, 2**20] (4 TiB)",
    ),
    "slices_negative": (
        "ckpt_partitioned",
        slices_negative,
        "a partitioned variable of shape [-5]",
    ),
    "long_state_path": (
        "ckpt_partitioned",
        long_state_path,
        "a checkpoint state file naming a 5,000-character path",
    ),
    "state_outside": (
        "ckpt_partitioned",
        state_outside,
        "a state file naming another folder's checkpoint (absolute and ../), own files beside",
    ),
    "state_outside_only": (
        "ckpt_partitioned",
        state_outside_only,
        "a state file naming ../elsewhere/model.ckpt-10 and no checkpoint of its own",
    ),
    "asset_symlink": ("lookup", asset_symlink, "an asset that is a symlink to /etc/passwd"),
    "assets_folder_symlink": ("lookup", assets_folder_symlink, "assets/ a symlink to /etc"),
    "variables_symlink": ("keras_export", variables_symlink, "variables/ a symlink elsewhere"),
    "fifo_saved_model": ("keras_export", fifo_saved_model, "a FIFO named saved_model.pb"),
    "fifo_asset": ("lookup", fifo_asset, "a FIFO in assets/"),
    "fifo_index": ("keras_export", fifo_index, "a FIFO named variables.index"),
    "fifo_shard": ("keras_export", fifo_shard, "a FIFO as the data shard"),
    "fifo_fingerprint": ("keras_export", fifo_fingerprint, "a FIFO named fingerprint.pb"),
    "missing_function": (
        "keras_export",
        missing_function,
        "call nodes naming a function absent from the library",
    ),
    "dangling_child": ("module_multi_sig", dangling_child, "an object-graph child past the end"),
    "zero_sizes": ("keras_export", zero_sizes, "every index entry claiming 0 bytes"),
    "bad_meta": ("tf1_ckpt_meta", bad_meta, "a damaged .meta beside an intact checkpoint"),
}


def make_hostile(models, tmp_path: Path, name: str) -> Path:
    """A fresh damaged copy of the case ``name``, built from the session's fixture models."""
    fixture, build, _ = HOSTILE[name]
    return build(copy_model(models.path(fixture), tmp_path / name))
