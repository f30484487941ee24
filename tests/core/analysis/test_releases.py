"""The TensorFlow release table against the installed TensorFlow's own op registry, and the
release an export made in the test run needs."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import pytest

from smlens.cli.main import main
from smlens.core.analysis.releases import (
    Version,
    lacking,
    parse_release,
    release_table,
    required_release,
)
from smlens.core.analysis.releases.table import TABLE_PATH, read_table
from smlens.core.analysis.releases.wrappers import folder_members, read_wrappers
from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.formats.reader import open_model
from tests.core.analysis.release_exports import (
    SHUFFLE_OP,
    SHUFFLE_SINCE,
    export_stateless_shuffle,
    export_tf1_matmul,
)


def _installed_site() -> Path:
    return Path(importlib.util.find_spec("tensorflow").origin).parent.parent


@pytest.fixture(scope="module")
def installed_ops(tf) -> dict:
    """Op name -> OpDef for every op the installed TensorFlow registers, from TensorFlow."""
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session

    buffer = pywrap_tf_session.TF_GetAllOpList()
    try:
        op_list = op_def_pb2.OpList.FromString(bytes(pywrap_tf_session.TF_GetBuffer(buffer)))
    finally:
        pywrap_tf_session.TF_DeleteBuffer(buffer)
    return {op.name: op for op in op_list.op}


@pytest.fixture(scope="module")
def installed_wrappers(tf) -> dict:
    ops, _ = read_wrappers(folder_members(_installed_site()))
    return ops


def test_the_table_is_built_for_the_installed_release(tf):
    table = release_table()

    assert table.pinned == tf.__version__
    assert table.newest == parse_release(tf.__version__)
    assert table.oldest == Version(2, 4)
    assert table.sources == "wrappers and registries"
    minors = [r.minor for r in table.releases]
    assert minors == sorted(set(minors))
    assert len(minors) + len(table.not_fetched) == table.newest.minor - table.oldest.minor + 1


def test_every_installed_op_and_attr_is_dated_no_later_than_the_installed_release(
    tf, installed_ops
):
    table = release_table()
    installed = parse_release(tf.__version__)
    dated = [op for op in installed_ops if table.op_since(op) is not None]

    assert len(dated) > 0.85 * len(installed_ops)
    for op in dated:
        assert table.op_since(op) <= installed, op
        for attr in installed_ops[op].attr:
            assert table.op_since(op) <= table.attr_since(op, attr.name) <= installed, (
                op,
                attr.name,
            )
    undated = set(installed_ops) - set(dated)
    loaded = set(installed_ops) - set(proto.op_registry())  # op libraries other tests load
    assert undated - loaded == table.undated


def test_the_table_holds_the_graph_def_version_of_the_installed_release(tf):
    from tensorflow.python.framework import versions

    release = release_table().release(parse_release(tf.__version__))

    assert release.graph_def_version == versions.GRAPH_DEF_VERSION
    assert release.min_consumer == versions.GRAPH_DEF_VERSION_MIN_CONSUMER
    assert release.min_producer == versions.GRAPH_DEF_VERSION_MIN_PRODUCER


def test_the_wrapper_reader_agrees_with_the_installed_registry(installed_ops, installed_wrappers):
    """Each wrapped op's attrs are the registry's, but for attrs inferred from an input
    (a ref-input op without outputs has no code that names them)."""
    wrapped = installed_wrappers.keys() & installed_ops.keys()
    assert len(wrapped) > 1500

    for op in wrapped:
        op_def = installed_ops[op]
        inputs = [a.name for a in op_def.input_arg]
        named = installed_wrappers[op].attr_names(inputs)
        attrs = {a.name for a in op_def.attr}
        inferred = {
            name
            for arg in op_def.input_arg
            for name in (arg.type_attr, arg.number_attr, arg.type_list_attr)
            if name
        }
        assert named <= attrs, op
        assert attrs - named <= inferred, op


def test_an_export_using_an_op_new_in_a_known_release_needs_that_release(tf, tmp_path):
    mg = open_model(export_stateless_shuffle(tf, tmp_path / "shuffle")).meta_graphs[0]

    found = required_release(mg)

    assert release_table().op_since(SHUFFLE_OP) == parse_release(SHUFFLE_SINCE)
    assert found.release == parse_release(SHUFFLE_SINCE)
    assert [(n.kind, n.op) for n in found.set_by] == [("op", SHUFFLE_OP)]
    assert found.set_by[0].nodes == 1
    assert f"op {SHUFFLE_OP} since {SHUFFLE_SINCE}" in found.text()
    older = lacking(mg, Version(2, 9))
    assert [n.op for n in older.ops] == [SHUFFLE_OP]
    assert older.anything
    assert not lacking(mg, parse_release(SHUFFLE_SINCE)).anything
    assert not lacking(mg, parse_release(tf.__version__)).anything


def _saved_matmul(tf, path: Path):
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    return next(n for n in saved.meta_graphs[0].graph_def.node if n.op == "MatMul")


def test_attrs_at_their_default_count_and_stripping_them_gives_the_release_foretold(tf, tmp_path):
    from tensorflow.python.framework import op_def_registry

    kept = export_tf1_matmul(tf, tmp_path / "kept", strip_default_attrs=False)
    stripped = export_tf1_matmul(tf, tmp_path / "stripped", strip_default_attrs=True)
    matmul_def = {a.name: a for a in op_def_registry.get("MatMul").attr}
    node = _saved_matmul(tf, kept)
    assert node.attr["grad_a"] == matmul_def["grad_a"].default_value
    assert "grad_a" not in _saved_matmul(tf, stripped).attr

    found = required_release(open_model(kept).meta_graphs[0])
    after = required_release(open_model(stripped).meta_graphs[0])

    since = release_table().attr_since("MatMul", "grad_a")
    assert since > release_table().op_since("MatMul")
    assert found.release == since
    assert {(n.op, n.attr, n.at_default) for n in found.set_by} >= {("MatMul", "grad_a", True)}
    assert found.stripped_release == after.release < found.release
    assert "strip_default_attrs=True" in found.text()
    assert not any(n.kind == "attr" and n.op == "MatMul" for n in after.needs)


def test_a_custom_op_is_lacking_in_every_release(models):
    mg = open_model(models.path("custom_op_library")).meta_graphs[0]

    found = required_release(mg)
    newest = lacking(mg, release_table().newest)

    assert found.custom == ("SmlensPlusOne",)
    assert "SmlensPlusOne" in found.text()
    assert newest.custom == ("SmlensPlusOne",) and newest.anything


def test_the_graph_def_versions_are_the_graph_defs(models, tf):
    from tensorflow.core.protobuf import saved_model_pb2

    path = models.path("keras_export")
    versions = (
        saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
        .meta_graphs[0]
        .graph_def.versions
    )

    found = required_release(open_model(path).meta_graphs[0])

    assert (found.producer, found.min_consumer) == (versions.producer, versions.min_consumer)
    assert found.written_by == parse_release(tf.__version__)
    assert f"GraphDef producer {versions.producer}" in found.graph_def_text()


def test_show_json_carries_the_release_and_what_sets_it(tf, tmp_path, capsys):
    path = export_stateless_shuffle(tf, tmp_path / "shuffle")

    assert main(["show", "--dir", str(path), "--json"]) == 0
    (mg,) = json.loads(capsys.readouterr().out)["meta_graphs"]

    found = mg["min_tensorflow"]
    assert found["release"] == SHUFFLE_SINCE
    assert [(n["kind"], n["op"], n["since"]) for n in found["set_by"]] == [
        ("op", SHUFFLE_OP, SHUFFLE_SINCE)
    ]
    assert found["graph_def"]["producer"] > 0
    assert found["table"]["pinned"] == tf.__version__


def test_show_without_json_does_not_read_the_table(models, capsys):
    path = str(models.path("keras_export"))
    release_table.cache_clear()

    assert main(["show", "--dir", path]) == 0
    assert main(["show", "--dir", path, "--all"]) == 0
    assert release_table.cache_info().currsize == 0
    assert main(["show", "--dir", path, "--json"]) == 0
    assert release_table.cache_info().currsize == 1


def test_an_unreadable_table_is_one_error(tmp_path):
    broken = tmp_path / "tf_releases.json.gz"
    broken.write_bytes(b"not gzip")

    with pytest.raises(SmlensError, match="release table is unreadable"):
        read_table(broken)


def test_the_shipped_table_is_small_and_rebuilt_from_the_same_wheels_alike():
    """The table's bytes depend only on the wheels: a rebuild changes nothing unless a
    release does (gzip's mtime is fixed)."""
    data = TABLE_PATH.read_bytes()

    assert len(data) < 100_000
    assert data[4:8] == b"\0\0\0\0"  # gzip MTIME (RFC 1952)


def test_a_wheel_reads_like_the_installed_folder(tmp_path, installed_wrappers):
    site = _installed_site()
    module = "tensorflow/python/ops/gen_array_ops.py"
    wheel = tmp_path / "tensorflow_cpu-9.9.0-cp311-cp311-manylinux_2_27_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(site / module, module)

    from smlens.core.analysis.releases.wrappers import wheel_members

    ops, modules = read_wrappers(wheel_members(wheel))

    assert modules == 1
    assert "ExpandDims" in ops
    for op, wrapped in ops.items():
        assert wrapped.attrs == installed_wrappers[op].attrs
