"""Ops TensorFlow does not define, in ``show --json`` and ``scan``: grouped by namespace, with
the package that usually provides them, checked against TensorFlow's own op registry."""

from __future__ import annotations

import json
from pathlib import Path

from smlens.cli.main import main
from smlens.cli.scan import render_custom_ops
from smlens.core.analysis.ops import op_counts
from smlens.core.formats.reader import open_model
from smlens.core.model import Function, Graph, MetaGraph, Node
from tests.fixtures.custom_ops import RENAMED_OP


def _tensorflow_lacks(ops) -> set[str]:
    """The ops of ``ops`` that TensorFlow's own registry does not define."""
    import tensorflow as tf  # noqa: F401  (registers the ops)
    from tensorflow.python.framework import op_def_registry

    return {op for op in ops if op_def_registry.get(op) is None}


def test_show_json_lists_the_renamed_op_by_namespace_with_its_package(models, capsys):
    path = models.path("custom_op_renamed")

    assert main(["show", "--dir", str(path), "--json"]) == 0
    (mg,) = json.loads(capsys.readouterr().out)["meta_graphs"]

    assert mg["custom_ops"] == [
        {
            "namespace": "TFText",
            "ops": {RENAMED_OP: 1},
            "package": "tensorflow-text",
            "load": "tensorflow_text",
        }
    ]
    assert _tensorflow_lacks(mg["ops"]) == {RENAMED_OP}
    assert "Square" not in mg["ops"]


def test_show_json_lists_no_custom_ops_for_a_plain_export(models, capsys):
    path = models.path("tf1_multi_tag")

    assert main(["show", "--dir", str(path), "--json"]) == 0
    meta_graphs = json.loads(capsys.readouterr().out)["meta_graphs"]

    assert len(meta_graphs) == 3
    assert all(mg["custom_ops"] == [] for mg in meta_graphs)
    assert all(_tensorflow_lacks(mg["ops"]) == set() for mg in meta_graphs)


def test_show_text_is_unchanged_by_custom_ops(models, capsys):
    path = models.path("custom_op_renamed")

    assert main(["show", "--dir", str(path), "--tag_set", "serve", "--list_ops"]) == 0
    out = capsys.readouterr().out

    assert RENAMED_OP in out
    assert "TensorFlow does not define" not in out and "tensorflow-text" not in out


def test_scan_lists_the_renamed_op_after_the_denylist_lines(models, capsys):
    path = models.path("custom_op_renamed")

    assert main(["scan", "--dir", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()

    *found, release = lines
    assert found == [
        "MetaGraph with tag set ['serve'] does not contain the default denylisted ops: "
        "{'PrintV2', 'ReadFile', 'WriteFile'}",
        "Ops TensorFlow does not define, in tag set ['serve']:",
        f"  TFText: {RENAMED_OP} (1 node)",
        "    usually from tensorflow-text: smlens run --load tensorflow_text",
    ]
    assert release.startswith("Tag set ['serve'] needs TensorFlow ")
    assert f"ops no TensorFlow release defines: {RENAMED_OP}" in release
    model = open_model(path)
    (counts,) = [op_counts(mg) for mg in model.meta_graphs]
    assert _tensorflow_lacks(counts) == {RENAMED_OP}


def test_scan_of_one_tag_set_says_none_when_tensorflow_defines_every_op(models, capsys):
    path = models.path("tf1_multi_tag")

    assert main(["scan", "--dir", str(path), "--tag_set", "serve,gpu"]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].startswith("MetaGraph with tag set ['serve', 'gpu'] does not contain")
    assert lines[1] == "Ops TensorFlow does not define: none"
    assert lines[2].startswith("Tag set ['serve', 'gpu'] needs TensorFlow ")
    assert len(lines) == 3


def test_ops_without_a_namespace_or_a_known_package_say_what_to_load():
    fn = Function("f", [], [], [Node("p", "MyPlusOne", []), Node("q", "MyPlusOne", [])], {})
    graph = Graph(
        [Node("a", "Addons>Gelu", []), Node("c", "f", []), Node("m", "MatMul", [])], {"f": fn}
    )
    plain = MetaGraph(["train"], {}, Graph([Node("m", "MatMul", [])], {}))
    text = render_custom_ops([MetaGraph(["serve"], {}, graph), plain])

    assert text.splitlines() == [
        "Ops TensorFlow does not define, in tag set ['serve']:",
        "  Addons: Addons>Gelu (1 node)",
        "    usually from tensorflow-addons: smlens run --load tensorflow_addons",
        "  No namespace: MyPlusOne (2 nodes)",
        "    no known package: smlens run --load the op library (.so) that defines them",
    ]
    assert render_custom_ops([plain]) == "Ops TensorFlow does not define: none\n"


def test_scan_of_a_folder_without_a_model_stays_one_error_line(tmp_path: Path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")

    assert main(["scan", "--dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()

    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and str(tmp_path) in captured.err
