"""Issue 13's hostile models: every command exits 0 with warnings or 2 with one line naming
the file, nothing is written into the model, and paths outside the folder are named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from smlens.cli.main import main
from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.model.text import short_dtype
from tests.fuzz.hostile import HOSTILE, copy_model, snapshot


@pytest.fixture
def hostile(models, tmp_path):
    def make(name: str) -> Path:
        fixture, build, _ = HOSTILE[name]
        return build(copy_model(models.path(fixture), tmp_path / name))

    return make


def smlens(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code: int, err: str, folder: Path) -> None:
    """0 with warnings only, or 2 with exactly one error line naming a path."""
    lines = err.splitlines()
    assert code in (0, 2), err
    if code == 2:
        assert len(lines) - sum(x.startswith("smlens: warning:") for x in lines) == 1, err
        assert lines[-1].startswith(f"smlens: error: {folder}"), err
        assert "Traceback" not in err, err
        assert "(a bug)" not in err, err
    else:
        assert all(x.startswith("smlens: warning: ") for x in lines), err


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_command_exits_cleanly_and_writes_nothing(hostile, capsys, name):
    folder = hostile(name)
    before = snapshot(folder.parent)
    for argv in (
        ["show", "--dir", str(folder), "--all"],
        ["show", "--dir", str(folder), "--json"],
        ["scan", "--dir", str(folder)],
        ["diff", str(folder), str(folder), "--fail-on", "any"],
    ):
        code, _, err = smlens(capsys, *argv)
        assert_clean(code, err, folder)
        if argv[0] == "diff":
            assert code != 1, f"{name}: diff of a model with itself found a change"
    assert snapshot(folder.parent) == before


def _json(capsys, folder: Path) -> tuple[dict, str]:
    code, out, err = smlens(capsys, "show", "--dir", str(folder), "--json")
    assert code == 0, err
    return json.loads(out), err


def test_ref_and_unknown_dtypes_open_and_their_values_read_or_fail_cleanly(hostile, capsys):
    for name, dtype in (("ref_dtype", "DT_FLOAT_REF"), ("unknown_dtype", "DT_UNKNOWN_77")):
        folder = hostile(name)
        summary, _ = _json(capsys, folder)
        (var,) = [v for v in summary["variables"] if v["dtype"] == dtype]
        code, _, err = smlens(capsys, "tensor", "--dir", str(folder), var["key"])
        assert_clean(code, err, folder)
        model = open_model(folder)
        if dtype == "DT_FLOAT_REF":
            assert model.checkpoint.read(var["key"]).dtype.name == "float32"
        else:
            with pytest.raises(SmlensError, match="cannot read a tensor of unknown dtype 77"):
                model.checkpoint.read(var["key"])


@pytest.mark.parametrize("name", ["negative_dtype", "negative_dtype_sliced"])
def test_a_negative_dtype_opens_lists_and_reads_with_clean_messages(
    hostile, capsys, tmp_path, name
):
    folder = hostile(name)
    summary, _ = _json(capsys, folder)
    listed = [v for v in summary["variables"] if v["dtype"] == "DT_UNKNOWN_-5"]
    assert listed and len(listed) == len(summary["variables"])
    model = open_model(folder)
    for variable in model.variables:
        assert short_dtype(variable.dtype) == "unknown dtype -5"
        assert variable.nbytes is None
        with pytest.raises(SmlensError, match="cannot read a tensor of unknown dtype -5"):
            model.checkpoint.read(variable.key)
        code, _, err = smlens(capsys, "tensor", "--dir", str(folder), variable.key)
        assert_clean(code, err, folder)
    out = tmp_path / "all.npz"
    code, _, err = smlens(capsys, "tensor", "--dir", str(folder), "--all", "--out", str(out))
    assert code == 2 and "unknown dtype -5" in err
    assert_clean(code, err, folder)


def test_negative_offsets_are_problems_and_reads_fail_cleanly(hostile, capsys):
    folder = hostile("negative_offset")
    summary, err = _json(capsys, folder)
    problems = [p for p in summary["problems"] if "negative" in p["message"]]
    assert len(problems) == summary["num_checkpoint_entries"]
    assert all(p["path"].endswith("variables.index") for p in problems)
    key = summary["variables"][0]["key"]
    code, _, err = smlens(capsys, "tensor", "--dir", str(folder), key)
    assert code == 2 and err.count("\n") == 1 and "negative shard, offset or size" in err


def test_object_graph_at_offset_minus_2_63_falls_back_to_the_saved_object_graph(hostile, capsys):
    summary, _ = _json(capsys, hostile("object_graph_offset"))
    assert any("_CHECKPOINTABLE_OBJECT_GRAPH" in p["message"] for p in summary["problems"])
    names = {v["name"] for v in summary["variables"]}
    assert any(name.endswith("kernel") for name in names), names


@pytest.mark.parametrize(
    "name, key, words",
    [
        ("slices_too_big", "matrix", "its slices hold 40 elements"),
        ("slices_negative", "vector", "has shape"),
    ],
)
def test_partitioned_shape_is_checked_before_allocating(hostile, capsys, name, key, words):
    folder = hostile(name)
    tracemalloc.start()
    try:
        code, _, err = smlens(capsys, "tensor", "--dir", str(folder), key)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert peak < 50 << 20


def test_a_too_long_state_path_is_one_bounded_line(hostile, capsys):
    folder = hostile("long_state_path")
    code, _, err = smlens(capsys, "show", "--dir", str(folder))
    assert code == 2 and err.count("\n") == 1
    assert "(5000 characters)" in err and len(err) < 600 and str(folder / "checkpoint") in err


def test_state_file_pointing_away_prefers_the_folders_own_checkpoint(hostile, capsys):
    folder = hostile("state_outside")
    summary, err = _json(capsys, folder)
    (problem,) = summary["problems"]
    assert problem["path"] == str(folder / "checkpoint")
    assert "outside the model folder" in problem["message"]
    assert f"{folder.name}_elsewhere" in problem["message"]
    assert "opened the folder's own model.ckpt-10 instead" in problem["message"]
    assert f"smlens: warning: {folder / 'checkpoint'}: " in err  # show's stderr says it too
    assert Path(open_model(folder).checkpoint.prefix).parent == folder


def test_state_file_pointing_away_with_no_own_checkpoint_is_read_with_a_warning(hostile, capsys):
    folder = hostile("state_outside_only")
    summary, _ = _json(capsys, folder)
    (problem,) = summary["problems"]
    assert (
        f"'../{folder.name}_elsewhere/model.ckpt-10', outside the model folder"
        in (problem["message"])
    )
    assert summary["variables"]


def test_symlinked_asset_is_listed_and_named_as_outside(hostile, capsys):
    folder = hostile("asset_symlink")
    summary, err = _json(capsys, folder)
    assert "assets/passwd.txt" in {a["path"] for a in summary["assets"]}
    (problem,) = [p for p in summary["problems"] if p["path"].endswith("passwd.txt")]
    assert problem["message"] == (
        "is a symlink to /etc/passwd, outside the model folder: not previewed"
    )
    assert "/etc/passwd, outside the model folder" in err


def test_symlinked_assets_folder_is_not_walked(hostile, capsys):
    folder = hostile("assets_folder_symlink")
    summary, _ = _json(capsys, folder)
    assert summary["assets"] == []
    assert any(
        p["path"] == str(folder / "assets") and "symlink to /etc" in p["message"]
        for p in summary["problems"]
    )


def test_symlinked_variables_are_read_with_a_warning(hostile, capsys):
    folder = hostile("variables_symlink")
    summary, _ = _json(capsys, folder)
    assert summary["variables"]
    (problem,) = [p for p in summary["problems"] if "outside the model folder" in p["message"]]
    assert problem["path"] == str(folder / "variables")
    real = folder.parent / f"{folder.name}_variables"
    assert problem["message"] == (
        f"is a symlink to {real}, outside the model folder: read from there"
    )


@pytest.mark.parametrize("name", ["fifo_saved_model", "fifo_index", "fifo_shard", "fifo_asset"])
def test_fifos_are_refused_without_blocking(hostile, name):
    """In a child process, so a regression hangs one command (killed), not the suite."""
    folder = hostile(name)
    result = subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", "show", "--dir", str(folder), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert "FIFO (named pipe)" in result.stderr
    if name == "fifo_saved_model":
        assert result.returncode == 2 and result.stderr.count("\n") == 1
    else:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr


def test_bad_meta_keeps_the_checkpoint_readable(hostile, capsys):
    folder = hostile("bad_meta")
    summary, _ = _json(capsys, folder)
    assert summary["variables"] and summary["meta_graphs"] == []
    (problem,) = [p for p in summary["problems"] if p["part"] == "graph"]
    assert problem["path"].endswith(".meta") and "graph unavailable" in problem["message"]


@pytest.mark.tf
def test_text_saved_model_with_any_fields_opens_as_tensorflow_reads_it(models, tmp_path):
    from google.protobuf import text_format
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.saved_model import loader_impl

    folder = copy_model(models.path("tf1_multi_tag"), tmp_path / "text")
    saved = saved_model_pb2.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    (folder / "saved_model.pb").unlink()
    text = text_format.MessageToString(saved)
    assert "[type.googleapis.com/tensorflow.AssetFileDef]" in text
    (folder / "saved_model.pbtxt").write_text(text)
    theirs = loader_impl.parse_saved_model(str(folder))
    ours = open_model(folder)
    assert [mg.tags for mg in ours.meta_graphs] == [
        list(mg.meta_info_def.tags) for mg in theirs.meta_graphs
    ]
    any_list = theirs.meta_graphs[0].collection_def["saved_model_assets"].any_list.value
    assert len(any_list) == 2
    assert ours.meta_graphs[0].collections["saved_model_assets"].values == tuple(
        a.type_url for a in any_list
    )


def test_unexpected_error_is_one_line_and_exit_2_not_a_traceback(tmp_path, monkeypatch, capsys):
    import smlens.core.formats.reader as reader

    def broken(*args, **kwargs):
        raise KeyError("DT_FLOAT_REF")

    monkeypatch.setattr(reader, "open_model", broken)
    code, _, err = smlens(capsys, "show", "--dir", str(tmp_path))
    assert code == 2
    assert err == f"smlens: error: {tmp_path}: unexpected KeyError: 'DT_FLOAT_REF' (a bug)\n"


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--fill", "zeros", "--batch", "-5"], "--batch: must be 1 or more, not -5"),
        (["--fill", "normal", "--batch", "100000000"], "over the 2.0 GiB limit"),
        (["--fill", "zeros", "--max-input-bytes", "lots"], "is not a size like 2G"),
    ],
)
def test_run_input_errors_exit_2_before_any_worker_starts(
    models, capsys, monkeypatch, flags, words
):
    import smlens.core.run.client as client

    def no_worker(*args, **kwargs):
        raise AssertionError("a worker was started")

    monkeypatch.setattr(client.RunEngine, "run", no_worker)
    folder = models.path("keras_export")
    argv = ["run", "--dir", str(folder), "--tag_set", "serve"]
    code, _, err = smlens(capsys, *argv, "--signature_def", "serving_default", *flags)
    assert code == 2 and err.count("\n") == 1 and words in err, err


def test_dangling_object_graph_child_is_a_problem_not_a_crash(hostile, capsys):
    folder = hostile("dangling_child")
    summary, _ = _json(capsys, folder)
    assert {
        "part": "object_graph",
        "path": str(folder / "saved_model.pb"),
        "message": ("object graph node 0 names child 1000000, which does not exist"),
    } in summary["problems"]
    code, out, _err = smlens(capsys, "show", "--dir", str(folder), "--all")
    assert code == 0 and "Concrete Functions:" in out


def test_one_full_extent_slice_of_a_huge_shape_is_refused_before_allocating(models, tmp_path):
    """A partitioned variable of shape [2**20, 2**20] whose one slice covers it all, while
    the slice stores 16 bytes: the slice sizes must not be trusted to allocate 4 TiB."""
    from smlens.core.formats import proto
    from smlens.core.formats.bundle import TensorBundle, _slice_key
    from smlens.core.formats.sstable import read_table
    from tests.fixtures.checkpoints import prefix_of, write_table

    folder = copy_model(models.path("ckpt_partitioned"), tmp_path / "huge")
    index = Path(f"{prefix_of(folder)}.index")
    pairs = dict(read_table(index))
    full = proto.BundleEntryProto.FromString(pairs[b"matrix"])
    full.ClearField("slices")
    full.shape.ClearField("dim")
    full.shape.dim.add().size = 2**20
    full.shape.dim.add().size = 2**20
    extents = full.slices.add().extent
    extents.add()  # no length: the whole dimension
    extents.add()
    pairs[b"matrix"] = full.SerializeToString()
    part = proto.BundleEntryProto(dtype=1, shard_id=0, offset=0, size=16)
    part.shape.dim.add().size = 2
    pairs[_slice_key("matrix", ((0, -1), (0, -1)))] = part.SerializeToString()
    write_table(index, sorted(pairs.items()))

    bundle = TensorBundle(prefix_of(folder))
    tracemalloc.start()
    try:
        with pytest.raises(SmlensError, match="covers 1099511627776 elements, its 16 stored"):
            bundle.read("matrix")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20
