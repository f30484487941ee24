"""SignaturePanel: the tree against the model, concrete functions, and snippets that run."""

from __future__ import annotations

import json
import shlex

import pytest
from PySide6.QtGui import QGuiApplication

from smlens.core import open_model
from smlens.core.analysis.snippets import example_expr, signature_snippet
from smlens.gui.panels.signatures import (
    DTYPE,
    METHOD,
    NAME,
    SHAPE,
    TENSOR,
    SignaturePanel,
)
from tests.gui.panels.tree_items import child, children

PANEL = SignaturePanel


def _texts(item) -> list[str]:
    return [item.text(c) for c in (NAME, DTYPE, SHAPE, TENSOR)]


@pytest.mark.parametrize("name", ["tf1_multi_tag", "keras_export", "module_multi_sig", "lookup"])
def test_signature_rows_equal_the_models_signatures(panel, models, name):
    model = open_model(models.path(name))
    panel.set_model(model)
    expected = {(mg.tag_set, key) for mg in model.meta_graphs for key in mg.signatures}
    assert set(panel.signature_items()) == expected
    assert panel.tree.topLevelItemCount() == len(model.meta_graphs)
    for (tag_set, key), item in panel.signature_items().items():
        sig = model.meta_graph(tag_set).signatures[key]
        assert item.text(METHOD) == sig.method_name
        groups = {g.text(NAME): g for g in children(item)}
        inputs = [c.text(NAME) for c in children(groups["inputs"])] if sig.inputs else []
        assert inputs == list(sig.inputs)


def test_tensor_rows_show_short_dtype_shape_and_tensor_name(panel, models):
    panel.set_model(open_model(models.path("module_multi_sig")))
    items = panel.signature_items()
    serving = items[("serve", "serving_default")]
    assert _texts(child(child(serving, "inputs"), "x")) == [
        "x",
        "float32",
        "(?, 10)",
        "serving_default_x:0",
    ]
    outputs = child(items[("serve", "other")], "outputs")
    assert _texts(child(outputs, "scaled"))[1:3] == ["float32", "<unknown rank>"]
    assert _texts(child(outputs, "steps"))[1:3] == ["int64", "()"]


def test_tag_sets_are_listed_with_their_own_signatures(panel, models):
    panel.set_model(open_model(models.path("tf1_multi_tag")))
    tops = [panel.tree.topLevelItem(i).text(NAME) for i in range(3)]
    assert tops == ["tag-set: serve", "tag-set: serve, gpu", "tag-set: train"]
    assert [c.text(NAME) for c in children(panel.tree.topLevelItem(1))] == ["predict"]
    classify = panel.signature_items()[("serve", "classify")]
    assert _texts(child(child(classify, "inputs"), "inputs"))[1:] == [
        "string",
        "(?,)",
        "tf_example:0",
    ]


def test_concrete_functions_list_their_argument_specs(panel, models):
    model = open_model(models.path("module_multi_sig"))
    panel.set_model(model)
    group = child(panel.tree.topLevelItem(0), "concrete functions (object graph)")
    graph = model.meta_graphs[0].object_graph
    kinds = ("function", "bare_concrete_function")
    expected = [name for name, node in graph.children_of(0) if node.kind in kinds]
    assert [c.text(NAME) for c in children(group)] == expected
    assert {"bare", "combine", "rescale", "total", "untraced"} <= set(expected)
    combine = child(group, "combine")
    assert combine.childCount() == 2
    args = [_texts(a) for a in children(combine.child(0))]
    assert args[:3] == [
        ["pair_0", "float32", "(?, 3)", "args[0][0]"],
        ["pair_1", "float32", "(?, 3)", "args[0][1]"],
        ["k", "float32", "(2,)", "args[1]['k']"],
    ]
    assert args[3][0] == "args[2]" and args[3][3] in ("= False", "= True")
    bare = child(group, "bare")
    assert bare.text(METHOD) == "concrete function" and _texts(bare.child(0))[:3] == [
        "x",
        "float32",
        "(?, 10)",
    ]
    assert "never traced" in child(group, "untraced").text(TENSOR)
    mixed = [_texts(a) for a in children(child(group, "mixed").child(0))]
    assert mixed[0] == ["args[0]", "float32", "(?, ?)", "args[0]: RaggedTensorSpec"]
    assert ["px", "float32", "(2,)", "args[2].x"] in mixed  # a namedtuple field
    assert ["args[2].y", "python int", "", "= 7"] in mixed
    total_trace = child(group, "total").child(0)
    assert [c.text(NAME) for c in children(total_trace)] == ["(no arguments)"]


def test_example_expressions_fill_unknown_dims_with_one(models):
    sig = open_model(models.path("module_multi_sig")).meta_graph("serve").signatures
    assert example_expr(sig["serving_default"].inputs["x"]) == "np.zeros((1,10),dtype=np.float32)"
    assert example_expr(sig["other"].inputs["anything"]) == "np.zeros((1,),dtype=np.float32)"
    lookup = open_model(models.path("lookup")).meta_graph("serve").signatures
    assert example_expr(lookup["serving_default"].inputs["words"]) == (
        'np.full((1,),b"",dtype=object)'
    )


def test_cli_snippet_is_a_valid_saved_model_cli_line(models):
    path = models.path("keras_export")
    sig = open_model(path).meta_graph("serve").signatures["serving_default"]
    snippet = signature_snippet(path, ["serve"], "serving_default", sig)
    assert shlex.split(snippet.cli) == [
        "saved_model_cli",
        "run",
        "--dir",
        str(path),
        "--tag_set",
        "serve",
        "--signature_def",
        "serving_default",
        "--input_exprs",
        "features=np.zeros((1,10),dtype=np.float32)",
    ]


@pytest.mark.parametrize(
    ("name", "key", "output", "shape"),
    [
        ("keras_export", "serving_default", "output_0", (1, 1)),
        ("lookup", "serving_default", "ids", (1,)),
    ],
)
def test_python_snippet_runs_the_signature(models, name, key, output, shape):
    path = models.path(name)
    model = open_model(path)
    mg = model.meta_graphs[0]
    snippet = signature_snippet(path, mg.tags, key, mg.signatures[key])
    scope: dict = {}
    exec(snippet.python, scope)  # the text a user pastes, run as is
    assert tuple(scope["outputs"][output].shape) == shape


def test_selecting_a_signature_shows_and_copies_its_snippet(panel, models):
    path = models.path("keras_export")
    model = open_model(path)
    panel.set_model(model)
    assert (
        panel.snippet.text
        == signature_snippet(
            path, ["serve"], "serving_default", model.meta_graphs[0].signatures["serving_default"]
        ).text
    )  # serving_default is selected from the start
    assert "saved_model_cli run" in panel.snippet.cli and "serving_default" in panel.snippet.python
    item = panel.signature_items()[("serve", "serve")]
    panel.tree.setCurrentItem(child(child(item, "inputs"), "features"))  # a row below it
    expected = signature_snippet(path, ["serve"], "serve", model.meta_graphs[0].signatures["serve"])
    assert panel.snippet_edit.toPlainText() == expected.text
    assert panel.copy_button.isEnabled()
    panel.copy_snippet("cli")
    assert QGuiApplication.clipboard().text() == expected.cli
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == expected.text


def test_init_op_gets_no_snippet(panel, models):
    panel.set_model(open_model(models.path("keras_export")))
    panel.tree.setCurrentItem(panel.signature_items()[("serve", "__saved_model_init_op")])
    assert panel.snippet is None and not panel.copy_button.isEnabled()
    assert "initializers" in panel.snippet_edit.toPlainText()


def test_a_bare_checkpoint_shows_a_placeholder(panel, models):
    panel.set_model(open_model(models.path("ckpt_dtypes")))
    assert panel.stack.showing_placeholder
    assert panel.tree.topLevelItemCount() == 0


def test_a_meta_without_signatures_shows_what_was_found_instead(panel, models):
    panel.set_model(open_model(models.path("tf1_ckpt_meta")))
    assert not panel.stack.showing_placeholder
    assert list(panel.graph_io_items()) == [""]


def test_no_model_is_not_a_model_without_signatures(panel, models):
    panel.set_model(None)
    assert panel.stack.showing_placeholder
    assert panel.stack.placeholder.text().startswith("No model open")
    panel.set_model(open_model(models.path("ckpt_dtypes")))
    assert panel.stack.placeholder.text().startswith("This model has no signatures")
    panel.set_model(None)
    assert "no signatures" not in panel.stack.placeholder.text()


def test_serving_default_comes_first_with_its_inputs_and_outputs_open(panel, models):
    panel.set_model(open_model(models.path("module_multi_sig")))
    top = panel.tree.topLevelItem(0)
    first = top.child(0)
    assert first.text(NAME) == "serving_default" and first.isExpanded()
    assert panel.tree.currentItem() is first
    assert [first.child(i).text(NAME) for i in range(first.childCount())] == ["inputs", "outputs"]


def test_a_frozen_graph_shows_its_found_feeds_and_fetches(panel, models):
    from smlens.core.analysis.graph_io import graph_io
    from smlens.gui.panels.signatures import GRAPH_IO_TITLE

    model = open_model(models.path("frozen_training_graph") / "frozen.pb")
    panel.set_model(model)
    io = graph_io(model.meta_graphs[0])
    assert not panel.stack.showing_placeholder
    found = panel.graph_io_items()[""]
    assert found.text(NAME) == GRAPH_IO_TITLE
    groups = children(found)
    feeds = [(c.text(NAME), c.text(DTYPE), c.text(SHAPE)) for c in children(groups[0])]
    assert feeds == [("features", "float32", "(?, 4)"), ("dropout_keep", "float32", "()")]
    fetches = [c.text(TENSOR) for c in children(groups[1])]
    assert fetches == [f.name for f in io.fetches]
    assert panel.tree.currentItem() is found  # chosen first, so its snippet shows
    assert panel.snippet is not None and panel.snippet.cli.startswith("smlens run --dir ")
    assert panel.graph_target() == ("", "graph", "")
    assert "session.run(" in panel.copy_snippet("python")


def test_a_training_meta_folds_what_it_left_out(panel, models):
    model = open_model(models.path("tf1_training_meta") / "model.ckpt-3.meta")
    panel.set_model(model)
    found = panel.graph_io_items()[""]
    left = children(found)[-1]
    assert left.text(NAME).startswith("left out: ")
    assert not left.isExpanded()
    reasons = [c.text(NAME) for c in children(left)]
    assert any(r.startswith("gradient computation (") for r in reasons)
    assert any(r.startswith("summary (") for r in reasons)


def test_the_snippet_menu_offers_the_tf_serving_request(panel, models, tmp_path):
    """Each request form shows in the pane and copies whole; the bodies it copies pass
    check_request, and the gRPC Python compiles."""
    from smlens.core.analysis.request_check import check_request

    model = open_model(models.path("serving_inputs"))
    panel.set_model(model)
    mg = model.meta_graph("serve")
    labels = [a.text() for a in panel.copy_button.menu().actions() if a.text()]
    for label in ("Copy REST body (row)", "Copy REST body (columnar)", "Copy curl command"):
        assert label in labels
    assert "Copy gRPC Python" in labels
    assert panel.snippet_kind() == "run"
    for kind in ("row", "columnar"):
        panel.set_snippet_kind(kind)
        shown = panel.snippet_edit.toPlainText()
        body = json.loads(shown)
        assert check_request(body, mg, expected="serving_default").problems == ()
        panel.copy_button.click()  # copies what the pane shows
        assert QGuiApplication.clipboard().text() == shown
    panel.set_snippet_kind("curl")
    assert "curl -d @body.json -X POST" in panel.snippet_edit.toPlainText()
    compile(panel.copy_snippet("grpc"), "<grpc>", "exec")
    assert "predict_pb2.PredictRequest()" in QGuiApplication.clipboard().text()


def test_a_scalar_signature_says_it_has_no_row_form(panel, models):
    panel.set_model(open_model(models.path("serving_inputs")))
    panel.tree.setCurrentItem(panel.signature_items()[("serve", "scalar")])
    panel.set_snippet_kind("row")
    assert "no row form" in panel.snippet_edit.toPlainText()
    panel.set_snippet_kind("columnar")
    assert json.loads(panel.snippet_edit.toPlainText())["inputs"] == {"scale": 0.0}


def test_a_long_body_shows_cut_and_copies_whole(panel, monkeypatch):
    from smlens.gui.panels import signatures
    from smlens.resources import sample_path

    monkeypatch.setattr(signatures, "PANE_CHARS", 500)
    panel.set_model(open_model(sample_path()))  # a (?, 28, 28, 1) image input
    panel.set_snippet_kind("columnar")
    shown = panel.snippet_edit.toPlainText()
    assert "shown cut at 500 of" in shown and len(shown) < 600
    whole = panel.copy_snippet("columnar")
    assert len(whole) > 500
    assert json.loads(whole)["inputs"]["image"][0][27][27] == [0.0]


def test_found_feeds_and_fetches_offer_no_serving_request(panel, models):
    panel.set_model(open_model(models.path("frozen_graph") / "frozen.pb"))
    assert panel.snippet is not None
    assert not panel.kind_combo.isEnabled()
    assert not any(a.isEnabled() for a in panel.request_actions)
