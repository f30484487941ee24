"""Bad input gives the project's error naming the file, never a traceback; readable parts
of a damaged model still open. Bytes are written by hand here only to corrupt on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smlens.core import SmlensError, open_model

HANG_SECONDS = 60  # a command on a damaged file that takes this long is hanging


def _copy(models, name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(models.path(name), dest)
    return dest


def _smlens(*args: str) -> subprocess.CompletedProcess:
    """The command in a fresh process; a hang fails the test (how fast it answers is
    benchmarks/bench_errors.py's figure)."""
    return subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _shard(folder: Path) -> Path:
    return next((folder / "variables").glob("variables.data-*"))


def _index(folder: Path) -> Path:
    return folder / "variables" / "variables.index"


# (case, how to damage a copy of keras_export, file the message must name, CLI args)
FATAL = [
    ("truncated saved_model.pb", lambda f: _truncate(f / "saved_model.pb"), "saved_model.pb"),
    ("garbled saved_model.pb", lambda f: _garble(f / "saved_model.pb"), "saved_model.pb"),
    ("random saved_model.pb", lambda f: _random(f / "saved_model.pb"), "saved_model.pb"),
    ("empty saved_model.pb", lambda f: (f / "saved_model.pb").write_bytes(b""), "saved_model.pb"),
]

VALUES_ONLY = [
    ("garbage index", lambda f: _random(_index(f)), "variables.index"),
    ("truncated index", lambda f: _truncate(_index(f), 0.7), "variables.index"),
    ("missing shard", lambda f: _shard(f).unlink(), "variables.data-"),
    ("truncated shard", lambda f: _truncate(_shard(f), 0.3), "variables.data-"),
]


@pytest.mark.parametrize(("case", "damage", "named"), FATAL, ids=[c[0] for c in FATAL])
def test_unreadable_graph_is_a_clear_error(models, tmp_path, case, damage, named):
    folder = _copy(models, "keras_export", tmp_path)
    damage(folder)
    with pytest.raises(SmlensError) as error:
        open_model(folder)
    assert named in error.value.path
    out = _smlens("show", "--dir", str(folder), "--all")
    assert out.returncode == 2
    assert named in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize(("case", "damage", "named"), VALUES_ONLY, ids=[c[0] for c in VALUES_ONLY])
def test_broken_variables_dim_only_the_values(models, tmp_path, case, damage, named):
    folder = _copy(models, "keras_export", tmp_path)
    damage(folder)
    model = open_model(folder)
    assert model.meta_graphs and model.meta_graphs[0].signatures  # the graph still reads
    assert any(p.part == "variables" and named in p.path for p in model.problems), model.problems
    show = _smlens("show", "--dir", str(folder), "--tag_set", "serve")
    assert show.returncode == 0 and "serving_default" in show.stdout
    key = open_model(models.path("keras_export")).variables[0].key
    out = _smlens("tensor", "--dir", str(folder), key)
    assert out.returncode == 2
    assert named in out.stderr and "Traceback" not in out.stderr


def test_missing_shard_keeps_the_shapes(models, tmp_path):
    folder = _copy(models, "keras_export", tmp_path)
    _shard(folder).unlink()
    model = open_model(folder)
    intact = open_model(models.path("keras_export"))
    # The checkpoint's object graph lives in the lost shard: names come from the SavedModel's.
    assert [(v.key, v.name, v.shape) for v in model.variables] == [
        (v.key, v.name, v.shape) for v in intact.variables
    ]
    with pytest.raises(SmlensError, match=r"variables\.data-"):
        model.checkpoint.read(model.variables[0].key)


def _not_a_model(case: str, root: Path) -> Path:
    target = root / "target"
    if case == "empty folder":
        target.mkdir()
    elif case == "unrelated folder":
        target.mkdir()
        (target / "notes.txt").write_text("hello")
    elif case == "random bytes file":
        _random(target)
    elif case == "empty file":
        target.write_bytes(b"")
    elif case == "text file":
        target.write_text("hello: [1, 2\n")
    return target


NOT_A_MODEL = [
    "no such path",
    "empty folder",
    "unrelated folder",
    "random bytes file",
    "empty file",
    "text file",
]


@pytest.mark.parametrize("case", NOT_A_MODEL)
def test_not_a_model_is_a_clear_error(tmp_path, case):
    target = _not_a_model(case, tmp_path)
    with pytest.raises(SmlensError) as error:
        open_model(target)
    assert str(target) in str(error.value)
    out = _smlens("show", "--dir", str(target))
    assert out.returncode == 2 and str(target) in out.stderr
    assert "Traceback" not in out.stderr


def test_nothing_is_written_into_the_model_folder(models, tmp_path):
    folder = _copy(models, "keras_export", tmp_path)
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
    model = open_model(folder)
    for var in model.variables:
        model.checkpoint.read(var.key)
    _smlens("show", "--dir", str(folder), "--all")
    out = _smlens("tensor", "--dir", str(folder), "dense_1/kernel", "--out", str(folder / "k.npy"))
    assert out.returncode == 2 and "model folder" in out.stderr
    after = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
    assert after == before
