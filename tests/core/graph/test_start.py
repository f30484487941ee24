"""Where a graph's dataflow starts (signature inputs, feeds, sources) and the first screen
placed on a layout: checked against TensorFlow's own graphs and hand-made layouts."""

from __future__ import annotations

import pytest

from smlens.core import open_model
from smlens.core.graph.layout import Layout, Rect
from smlens.core.graph.nav import DRAWN_ROWS, default_place, load_graph
from smlens.core.graph.scopes import VisibleItem
from smlens.core.graph.start import (
    READABLE,
    feed_nodes,
    source_nodes,
    start_nodes,
    start_view,
)
from tests.core.graph.synthetic import main_graph
from tests.fixtures.wide_tf1 import INPUT


def _tf_graph_def(tf, path):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    return graph_def


def _load(path):
    model = open_model(path)
    place = default_place(model)
    mg = model.meta_graph(place.ref.tag_set)
    return mg, load_graph(model, mg, place.ref)


def _names(graph, ids):
    return [graph.nodes[i].name for i in ids]


def test_the_feeds_of_a_frozen_graph_are_its_placeholders_as_tensorflow_lists_them(tf, models):
    path = models.path("wide_frozen") / "frozen.pb"
    expected = [n.name for n in _tf_graph_def(tf, path).node if n.op.startswith("Placeholder")]
    assert expected == [INPUT]
    _, loaded = _load(path)
    assert _names(loaded.graph, feed_nodes(loaded.graph)) == expected
    assert loaded.starts.how == "feeds"
    assert _names(loaded.graph, loaded.starts.nodes) == expected


def test_a_meta_graph_feeds_leave_the_savers_filename_out(tf, models):
    path = models.path("wide_meta") / "model.ckpt-100.meta"
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(path.read_bytes())
    placeholders = [n.name for n in meta.graph_def.node if n.op.startswith("Placeholder")]
    saver_scope = meta.saver_def.filename_tensor_name.split("/")[0] + "/"
    savers = [name for name in placeholders if name.startswith(saver_scope)]
    assert savers and INPUT in placeholders  # TF's graph feeds the Saver a file name
    mg, loaded = _load(path)
    assert _names(loaded.graph, feed_nodes(loaded.graph, mg)) == [INPUT]


def test_a_tf1_signature_starts_at_its_input_tensor(tf, models):
    path = models.path("wide_estimator")
    _, loaded = _load(path)
    assert loaded.ref.label == "serving_default" and not loaded.ref.function
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(path))
    tensor = meta.signature_def["serving_default"].inputs["inputs"].name
    assert loaded.starts.how == "inputs"
    assert _names(loaded.graph, loaded.starts.nodes) == [tensor.split(":")[0]]


def test_a_tf2_function_starts_at_its_arguments_not_its_captured_variables(models):
    _, loaded = _load(models.path("keras_export"))
    graph = loaded.graph
    assert loaded.starts.how == "inputs"
    starts = [graph.nodes[i] for i in loaded.starts.nodes]
    assert [n.kind for n in starts] == ["arg"] and not starts[0].variable_key
    captured = [n for n in graph.nodes if n.kind == "arg" and n.variable_key]
    assert captured  # the Dense kernels and biases, left out


def test_a_graph_without_feeds_starts_at_its_sources():
    graph = main_graph(
        [("shape", []), ("noise", ["shape"]), ("scaled", ["noise", "factor"]), ("factor", [])],
        ops={"shape": "Const", "factor": "Const", "noise": "RandomStandardNormal"},
    )
    assert feed_nodes(graph) == []
    assert _names(graph, source_nodes(graph)) == ["noise"]  # Consts feed, they do not start
    starts = start_nodes(graph)
    assert starts.how == "sources" and _names(graph, starts.nodes) == ["noise"]


def test_the_savers_plumbing_is_no_source_nor_feed():
    graph = main_graph(
        [("save/filename", []), ("save/SaveV2", ["save/filename"]), ("x", []), ("y", ["x"])],
        ops={"save/filename": "PlaceholderWithDefault", "save/SaveV2": "Identity"},
    )
    assert _names(graph, feed_nodes(graph)) == ["x"]


def test_drawn_weight_rows_stop_at_the_limit_and_count_the_rest(tf, models):
    path = models.path("wide_frozen") / "frozen.pb"
    graph_def = _tf_graph_def(tf, path)
    nodes = {n.name: n for n in graph_def.node}
    parse = next(n for n in graph_def.node if n.op == "ParseExampleV2")
    # The constants it is computed from (keys, and defaults reshaped from Consts), folded in.
    constants, stack = set(), [i.split(":")[0] for i in parse.input]
    while stack:
        node = nodes[stack.pop()]
        if node.op == "Const":
            constants.add(node.name)
        elif node.op != "Placeholder":
            stack.extend(i.split(":")[0] for i in node.input)
    assert len(constants) > DRAWN_ROWS
    _, loaded = _load(path)
    assert len(loaded.rows(parse.name)) == len(constants)  # the inspector lists them all
    drawn = loaded.drawn_rows(parse.name)
    assert len(drawn) == DRAWN_ROWS
    assert drawn[-1].label == f"+{len(constants) - DRAWN_ROWS + 1} more"
    assert drawn[-1].node == parse.name  # a click on it selects the node


# --- The first screen on hand-made layouts --------------------------------------------------


def _layout(rects: dict[str, Rect], width: float, height: float) -> Layout:
    items = {k: VisibleItem(k, "op", k, k, "Identity") for k in rects}
    return Layout(rects, [], width, height, items)


def _visible(view, width, height) -> tuple[float, float, float, float]:
    cx, cy = view.center
    w, h = width / view.scale, height / view.scale
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _inside(rect: Rect, box) -> bool:
    return box[0] <= rect.x and rect.x + rect.w <= box[2] and box[1] <= rect.y <= box[3]


def test_a_wide_graph_opens_on_its_input_in_the_middle_with_the_layers_below():
    # An input in the middle of a 20,000 px wide top level, a chain of six ops below it,
    # and items at the far left and right (plumbing) that the old top-left view showed.
    rects = {"input": Rect(9950, 0, 100, 26)}
    rects.update({f"op{k}": Rect(9950, 60 + 60 * k, 100, 26) for k in range(6)})
    rects.update({f"left{k}": Rect(40 * k, 4000, 30, 26) for k in range(50)})
    rects.update({f"right{k}": Rect(19000 + 20 * k, 0, 15, 26) for k in range(40)})
    layout = _layout(rects, 20000, 4100)
    view = start_view(layout, ["input"], 900, 700)
    box = _visible(view, 900, 700)
    assert view.scale >= READABLE
    assert _inside(rects["input"], box)
    assert sum(_inside(rects[f"op{k}"], box) for k in range(6)) >= 5


def test_the_window_slides_sideways_to_the_most_items_keeping_the_input():
    # The input at the right end of a row of consumers: the view holds it and the row.
    rects = {"input": Rect(5000, 0, 100, 26)}
    rects.update({f"op{k}": Rect(4250 + 70 * k, 80, 60, 26) for k in range(12)})
    layout = _layout(rects, 10000, 3000)
    view = start_view(layout, ["input"], 900, 700)
    box = _visible(view, 900, 700)
    assert _inside(rects["input"], box)
    assert sum(_inside(rects[f"op{k}"], box) for k in range(12)) == 12
    assert view.scale == 1.0  # enough at full size: no need to zoom out


def test_a_graph_that_fits_readably_is_shown_whole():
    rects = {"a": Rect(0, 0, 100, 26), "b": Rect(500, 400, 100, 26)}
    view = start_view(_layout(rects, 600, 426), [], 900, 700)
    assert view.center == (300, 213) and view.scale == 1.0


def test_with_no_start_shown_the_view_opens_on_the_topmost_item():
    rects = {"deep": Rect(100, 3000, 100, 26), "top": Rect(8000, 10, 100, 26)}
    view = start_view(_layout(rects, 10000, 3100), ["not-shown"], 900, 700)
    assert _inside(rects["top"], _visible(view, 900, 700))


@pytest.mark.parametrize("scales", [(1.0,), (1.0, 0.85, READABLE)])
def test_the_view_never_goes_below_the_readable_zoom(scales):
    rects = {f"op{k}": Rect(200 * k, 0, 100, 26) for k in range(100)}
    view = start_view(_layout(rects, 20000, 5000), ["op50"], 900, 700, scales)
    assert min(scales) <= view.scale <= max(scales)
