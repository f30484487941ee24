"""The release table's generator on generated code and wheels made here (no TensorFlow):
how it reads wrappers, picks wheels and dates ops."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from smlens.core.analysis.releases.build import (
    ReleaseOps,
    build_table,
    find_wheels,
    read_release,
    write_table,
)
from smlens.core.analysis.releases.table import Version, read_table
from smlens.core.analysis.releases.wrappers import (
    WrapperFormatError,
    read_wrapper_source,
    read_wrappers,
)
from smlens.core.formats import proto

# As python_op_gen.cc writes them: an op with attrs in both paths, one whose OpDef input is
# a Python keyword, one without attrs, and a ref-input op without outputs or eager path.
GENERATED = '''
def concat(values, axis, name=None):
  r"""Concatenates tensors along one dimension.

  Args:
    values: A list of `Tensor` objects (the op is not named in the docstring's code).
  """
  _, _, _op, _outputs = _op_def_library._apply_op_helper(
        "ConcatV2", values=values, axis=axis, name=name)
  _result = _outputs[:]
  if _execute.must_record_gradient():
    _attrs = ("N", _op._get_attr_int("N"), "T", _op._get_attr_type("T"),
              "Tidx", _op._get_attr_type("Tidx"))
    _inputs_flat = _op.inputs
  return _result

def concat_eager_fallback(values, axis, name, ctx):
  _attrs = ("N", _attr_N, "T", _attr_T, "Tidx", _attr_Tidx)
  _result = _execute.execute(b"ConcatV2", 1, inputs=_inputs_flat,
                             attrs=_attrs, ctx=ctx, name=name)
  return _result

def in_polymorphic(in_, name=None):
  _, _, _op, _outputs = _op_def_library._apply_op_helper(
        "InPolymorphic", in_=in_, name=name)
  return _op

def no_op(name=None):
  _, _, _op, _outputs = _op_def_library._apply_op_helper(
        "NoOp", name=name)
  return _op

def no_op_eager_fallback(name, ctx):
  _attrs = None
  _result = _execute.execute(b"NoOp", 0, inputs=[], attrs=_attrs, ctx=ctx, name=name)
  return _result

def queue_enqueue(handle, components, timeout_ms=-1, name=None):
  timeout_ms = _execute.make_int(timeout_ms, "timeout_ms")
  _, _, _op, _outputs = _op_def_library._apply_op_helper(
        "QueueEnqueue", handle=handle, components=components, timeout_ms=timeout_ms,
                        name=name)
  return _op
'''


def test_ops_and_attrs_are_read_from_both_paths_and_the_helper_keywords():
    ops = {}
    read_wrapper_source(GENERATED, ops)

    assert sorted(ops) == ["ConcatV2", "InPolymorphic", "NoOp", "QueueEnqueue"]
    assert ops["ConcatV2"].attr_names(["values", "axis"]) == {"N", "T", "Tidx"}
    assert ops["InPolymorphic"].attr_names(["in"]) == set()
    assert ops["NoOp"].attr_names() == set()
    assert ops["QueueEnqueue"].attr_names(["handle", "components"]) == {"timeout_ms"}


@pytest.mark.parametrize(
    "source",
    [
        "def f(name=None):\n  return _op_def_library._apply_op_helper(OP, x=x, name=name)\n",
        'def f(x, name=None):\n  _apply_op_helper("A", x=x)\n  _execute.execute(b"B", 1)\n',
        'def f(x, name=None):\n  _apply_op_helper("A", x=x)\n  _attrs = make_attrs(x)\n',
        'def f(x, name=None):\n  _apply_op_helper("A", x=x)\n  _attrs = (T, 1)\n',
        'def f(name=None):\n  _op_def_library._apply_op_helper("A", **kwargs)\n',
    ],
    ids=["op-by-variable", "two-ops", "attrs-not-a-tuple", "attr-by-variable", "kwargs"],
)
def test_generated_code_it_does_not_understand_stops_the_generator(source):
    with pytest.raises(WrapperFormatError):
        read_wrapper_source(source, {})


def _wheel(folder: Path, name: str, sources: dict[str, str]) -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in sources.items():
            archive.writestr(member, text)
    return path


def test_the_highest_patch_of_each_minor_is_read(tmp_path):
    for name in (
        "tensorflow_cpu-2.12.0-cp39-cp39-manylinux_2_17_x86_64.whl",
        "tensorflow_cpu-2.12.1-cp39-cp39-manylinux_2_17_x86_64.whl",
        "tensorflow-2.13.0-cp39-cp39-manylinux_2_17_x86_64.whl",
        "tensorflow_text-2.13.0-cp39-cp39-manylinux_2_17_x86_64.whl",
        "tensorflow_cpu-2.15.0.post1-cp311-cp311-manylinux_2_17_x86_64.whl",
    ):
        (tmp_path / name).write_bytes(b"")

    wheels = find_wheels(tmp_path)

    assert {minor: path.name.split("-")[1] for minor, path in wheels.items()} == {
        (2, 12): "2.12.1",
        (2, 13): "2.13.0",
        (2, 15): "2.15.0.post1",
    }


def test_a_release_wheel_gives_its_ops_and_graph_def_versions(tmp_path):
    version_h = (
        "#define TF_GRAPH_DEF_VERSION_MIN_PRODUCER 0\n"
        "#define TF_GRAPH_DEF_VERSION_MIN_CONSUMER 0\n"
        "#define TF_GRAPH_DEF_VERSION 1395 // Updated: 2023/3/1\n"
    )
    wheel = _wheel(
        tmp_path,
        "tensorflow_cpu-2.12.1-cp39-cp39-manylinux_2_17_x86_64.whl",
        {
            "tensorflow/python/ops/gen_array_ops.py": GENERATED,
            "tensorflow/python/ops/array_ops.py": "def concat(values, axis): pass\n",
            "tensorflow/python/framework/op_def_library.py": "def _apply_op_helper(op): pass\n",
            "tensorflow/include/tensorflow/core/public/version.h": version_h,
        },
    )

    release = read_release(wheel, proto.op_registry())

    assert (release.version, release.minor, release.modules) == ("2.12.1", "2.12", 1)
    assert release.ops["ConcatV2"] == {"N", "T", "Tidx"}
    assert release.ops["QueueEnqueue"] == {"timeout_ms"}
    assert release.graph_def == {
        "graph_def_version_min_producer": 0,
        "graph_def_version_min_consumer": 0,
        "graph_def_version": 1395,
    }
    assert read_wrappers([("tensorflow/python/ops/array_ops.py", b"x = 1\n")]) == ({}, 0)


def test_a_wheel_without_its_graph_def_versions_stops_the_generator(tmp_path):
    wheel = _wheel(
        tmp_path,
        "tensorflow_cpu-2.12.1-cp39-cp39-manylinux_2_17_x86_64.whl",
        {"tensorflow/python/ops/gen_array_ops.py": GENERATED},
    )

    with pytest.raises(ValueError, match=r"version\.h"):
        read_release(wheel, proto.op_registry())


def _release(version: str, ops: dict[str, set[str]]) -> ReleaseOps:
    versions = {
        "graph_def_version_min_producer": 0,
        "graph_def_version_min_consumer": 0,
        "graph_def_version": int(version.split(".")[1]) * 100,
    }
    return ReleaseOps(version, f"tensorflow-{version}.whl", 1, ops, versions)


def test_ops_and_attrs_are_dated_to_the_first_release_naming_them(tmp_path):
    registry = {
        name: op
        for name, op in proto.op_registry().items()
        if name in ("ConcatV2", "QueueEnqueue", "MatMul", "_Arg")
    }
    releases = [
        _release("2.4.4", {"ConcatV2": {"N", "T", "Tidx"}, "OldOp": set()}),
        _release("2.5.3", {"ConcatV2": {"N", "T", "Tidx"}, "QueueEnqueue": {"timeout_ms"}}),
        _release("2.16.2", {"MatMul": {"transpose_a", "transpose_b", "T", "grad_a"}}),
        _release("2.21.0", {"MatMul": {"transpose_a", "transpose_b", "T", "grad_a", "grad_b"}}),
    ]

    table = build_table(releases, registry, {"2.6": "no wheel"})
    write_table(table, tmp_path / "t.json.gz")
    read = read_table(tmp_path / "t.json.gz")

    assert read.op_since("ConcatV2") == Version(2, 4)
    assert read.attr_since("ConcatV2", "Tidx") == Version(2, 4)
    assert read.op_since("QueueEnqueue") == Version(2, 5)
    # Never named by a wrapper: as old as its op.
    assert read.attr_since("QueueEnqueue", "Tcomponents") == Version(2, 5)
    assert table["unnamed_attrs"] == {"QueueEnqueue": ["Tcomponents"]}
    assert table["sources"] == "wrappers"
    assert read.op_since("MatMul") == Version(2, 16)
    assert read.attr_since("MatMul", "grad_b") == Version(2, 21)
    assert read.undated == {"_Arg"}
    assert read.removed == {"OldOp": (Version(2, 4), Version(2, 4))}
    assert read.not_fetched == {"2.6": "no wheel"}
    assert read.reads_since(450) == Version(2, 5)
    assert read.writer_of(1600) == Version(2, 16)
    assert read.writer_of(1601) is None
    assert read.written_after(1601) == Version(2, 16)
    assert read.written_after(400) is None
    assert (read.oldest, read.newest, read.pinned) == (Version(2, 4), Version(2, 21), "2.21.0")


def test_registries_date_the_ops_wrappers_miss(tmp_path):
    registry = {n: op for n, op in proto.op_registry().items() if n in ("MatMul", "_Arg")}
    releases = [
        _release("2.4.4", {"MatMul": {"transpose_a", "transpose_b", "T"}}),
        _release("2.16.2", {"MatMul": {"transpose_a", "transpose_b", "T", "grad_a", "grad_b"}}),
    ]
    releases[0].add_registry(
        {"MatMul": {"transpose_a", "transpose_b", "T"}, "_Arg": {"T", "index"}}
    )
    releases[1].add_registry({n: {a.name for a in op.attr} for n, op in registry.items()})

    table = build_table(releases, registry, {})

    assert table["sources"] == "wrappers and registries"
    assert table["ops"]["_Arg"] == "2.4"
    assert table["ops"]["MatMul"] == ["2.4", {"grad_a": "2.16", "grad_b": "2.16"}]
    assert table["undated"] == []
    assert [r["hidden_ops"] for r in table["releases"]] == [1, 1]
