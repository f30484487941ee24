"""``smlens scan`` against TensorFlow's ``saved_model_cli scan``, and what it finds beyond it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from smlens.cli.main import main
from smlens.core.analysis.scan import (
    RiskyOpsError,
    parse_op_denylist,
    render_scan,
    require_safe,
    scan_model,
)
from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.model import Function, Graph, MetaGraph, Model, Node

_SET = re.compile(r"(\{.*\}|set\(\))$")


def saved_model_cli_scan(argv: list[str]) -> str:
    """stdout of ``saved_model_cli scan <argv>``, run in this process."""
    from absl import flags
    from tensorflow.python.tools import saved_model_cli

    flags.FLAGS.unparse_flags()
    flags.FLAGS(["saved_model_cli", *argv])
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            saved_model_cli.scan()
    finally:
        flags.FLAGS.unparse_flags()
    return buffer.getvalue()


def _cli_lines(text: str) -> list[str]:
    """saved_model_cli's lines, with each printed set sorted (it prints them in hash order)."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("MetaGraph with tag set"):
            continue
        match = _SET.search(line)
        items = sorted(re.findall(r"'([^']*)'", match[1]))
        lines.append(line[: match.start()] + repr(items))
    return lines


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("risky_readfile", []),
        ("tf1_multi_tag", []),
        ("tf1_multi_tag", ["--tag_set", "serve,gpu"]),
        ("keras_export", []),
        ("keras_export", ["--op_denylist", "SaveV2, MatMul,Nope"]),
        ("control_flow", ["--tag_set", "serve", "--op_denylist", "While"]),
    ],
)
def test_denylist_lines_match_saved_model_cli(models, capsys, name, argv):
    path = str(models.path(name))

    assert main(["scan", "--dir", path, *argv]) == 0
    ours = capsys.readouterr().out

    expected = _cli_lines(saved_model_cli_scan(["--dir", path, *argv]))
    assert expected, "saved_model_cli printed no scan line"
    assert _cli_lines(ours) == expected


def test_the_denylisted_op_is_located(models):
    report = scan_model(open_model(models.path("risky_readfile")))

    (mg,) = report.meta_graphs
    assert report.risky
    assert mg.denylisted_ops == {"ReadFile"}
    (use,) = mg.denylisted
    assert use.function.startswith("__inference___call__") and use.node == "ReadFile"
    assert f"    ReadFile at {use.function}/ReadFile" in render_scan(report).splitlines()


def test_ops_inside_while_bodies_are_found_where_saved_model_cli_looks_past_them(models):
    path = models.path("risky_nested")
    theirs = _cli_lines(saved_model_cli_scan(["--dir", str(path)]))

    report = scan_model(open_model(path))
    text = render_scan(report)

    assert theirs == [
        "MetaGraph with tag set ['serve'] contains the following denylisted ops: ['PrintV2']"
    ]
    assert "contains the following denylisted ops: {'PrintV2', 'ReadFile'}" in text
    (mg,) = report.meta_graphs
    assert mg.other_ops == {"MatchingFiles"}
    assert all(u.function.startswith("while_body") for u in mg.other)
    assert "  Other file and system ops: {'MatchingFiles'}" in text.splitlines()


def _hand_built() -> Model:
    helper = Function("helper", [], [], [Node("w", "WriteFile", [])], {})
    graph = Graph(
        [Node("r", "ReadFile", []), Node("call", "helper", []), Node("g", "MatchingFiles", [])],
        {"helper": helper},
    )
    return Model(Path("/m"), "saved_model", [MetaGraph(["serve"], {}, graph)])


def test_main_graph_and_function_nodes_are_both_scanned_and_calls_are_not_ops():
    (mg,) = scan_model(_hand_built()).meta_graphs

    assert sorted(u.where for u in mg.denylisted) == ["helper/w", "r"]
    assert [u.where for u in mg.other] == ["g"]
    assert "helper" not in mg.denylisted_ops | mg.other_ops


def test_a_user_denylist_replaces_the_default_and_risky_ops_stay_reported():
    (mg,) = scan_model(_hand_built(), op_denylist={"MatchingFiles"}).meta_graphs

    assert mg.denylisted_ops == {"MatchingFiles"}
    assert mg.other_ops == {"ReadFile", "WriteFile"}


def test_op_denylist_parsing():
    assert parse_op_denylist(None) == {"ReadFile", "WriteFile", "PrintV2"}
    assert parse_op_denylist(" A, B,,") == {"A", "B"}
    assert parse_op_denylist("") == frozenset()


def test_require_safe_lists_the_ops_and_the_hint():
    model = _hand_built()

    with pytest.raises(RiskyOpsError) as raised:
        require_safe(model, model.meta_graphs[0], "add --allow-risky-ops to run it anyway")

    message = str(raised.value)
    assert "ReadFile (r)" in message and "WriteFile (helper/w)" in message
    assert "MatchingFiles (g)" in message
    assert message.endswith("add --allow-risky-ops to run it anyway")


def test_unknown_tag_set_names_the_ones_there(models):
    wanted = "no MetaGraphDef with tag-set 'nope'; the tag-sets are: 'serve', 'serve,gpu', 'train'"

    with pytest.raises(SmlensError, match=wanted):
        scan_model(open_model(models.path("tf1_multi_tag")), "nope")
