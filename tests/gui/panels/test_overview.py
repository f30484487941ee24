"""The overview shows the numbers core and TensorFlow give for the same model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from smlens.core import open_model
from smlens.core.model.constants import CONSTANT_MIN_BYTES
from smlens.core.model.text import format_dims, human_bytes, share, short_dtype
from smlens.gui.panels.overview import LARGEST, OverviewPanel
from smlens.resources import sample_path

GRAPH_COUNTS = ["signatures", "functions", "graph_nodes", "function_nodes", "op_types"]


PANEL = OverviewPanel


def _number(label) -> int:
    return int(label.text().replace(",", ""))


def _graph_value(panel: OverviewPanel, key: str, column: int, columns: int) -> int:
    return _number(panel.values[f"{key}:{column}" if columns > 1 else key])


def _tf_saved_model(path: Path):
    from tensorflow.python.tools import saved_model_utils

    return saved_model_utils.read_saved_model(str(path))


@pytest.mark.parametrize("name", ["keras_export", "tf1_multi_tag", "module_multi_sig"])
def test_graph_counts_equal_tensorflows_own_parse(panel, models, name):
    path = models.path(name)
    panel.set_model(open_model(path))
    saved = _tf_saved_model(path)
    n = len(saved.meta_graphs)
    for c, mg in enumerate(saved.meta_graphs):
        library = mg.graph_def.library.function
        callable_sigs = [k for k in mg.signature_def if k != "__saved_model_init_op"]
        assert _graph_value(panel, "signatures", c, n) == len(callable_sigs)
        assert _graph_value(panel, "functions", c, n) == len(library)
        assert _graph_value(panel, "graph_nodes", c, n) == len(mg.graph_def.node)
        assert _graph_value(panel, "function_nodes", c, n) == sum(len(f.node_def) for f in library)


def test_signature_count_matches_what_tensorflow_loads(panel, models):
    import tensorflow as tf

    path = models.path("module_multi_sig")
    panel.set_model(open_model(path))
    assert _number(panel.values["signatures"]) == len(tf.saved_model.load(str(path)).signatures)


def test_keras_parameters_count_each_variable_once(panel, models):
    import tensorflow as tf

    path = models.path("keras_export")
    model = open_model(path)
    panel.set_model(model)
    loaded = tf.saved_model.load(str(path))
    expected = sum(int(tf.size(v)) for v in loaded.variables)
    assert expected == 10 * 8 + 8 + 8 * 1 + 1
    assert _number(panel.values["parameters"]) == expected
    assert _number(panel.values["weights"]) == len(loaded.variables)
    # model.export() stores every variable under two keys; the overview says so.
    entries = _number(panel.values["checkpoint_entries"])
    assert entries == len(model.variables) == 2 * len(loaded.variables)


def test_parameters_of_a_tf1_checkpoint_match_tensorflows_reader(panel, models):
    import tensorflow as tf

    path = models.path("tf1_ckpt_meta")
    panel.set_model(open_model(path))
    reader = tf.train.load_checkpoint(str(path / "model.ckpt"))
    shapes = reader.get_variable_to_shape_map()
    # tf.compat.v1.train.get_or_create_global_step() names its counter so: no weight
    step = shapes.pop(tf.compat.v1.GraphKeys.GLOBAL_STEP)
    expected = sum(int(tf.reduce_prod(s)) if s else 1 for s in shapes.values())
    assert step == [] and _number(panel.values["optimizer_scalars"]) == 1
    assert _number(panel.values["parameters"]) == expected
    assert _number(panel.values["weights"]) == len(shapes)


def test_parameters_leave_out_optimizer_slots(panel, models):
    import tensorflow as tf

    path = models.path("ckpt_optimizer")
    model = open_model(path)
    panel.set_model(model)
    stored = [
        (k, s)
        for k, s in tf.train.list_variables(str(model.checkpoint.prefix))
        if k != "_CHECKPOINTABLE_OBJECT_GRAPH"
    ]
    # tf.train.Checkpoint(net=net, optimizer=optimizer): the net's weights, their slots,
    # and the optimizer's own beta powers
    slots = [(k, s) for k, s in stored if ".OPTIMIZER_SLOT" in k]
    weights = [(k, s) for k, s in stored if k.startswith("net/") and (k, s) not in slots]
    scalars = [(k, s) for k, s in stored if k.startswith("optimizer/")]
    assert slots and scalars and len(slots) + len(weights) + len(scalars) == len(stored)
    assert _number(panel.values["optimizer_state"]) == len(slots)
    assert _number(panel.values["optimizer_scalars"]) == len(scalars)
    assert _number(panel.values["weights"]) == len(weights)
    expected = sum(int(tf.reduce_prod(s)) if s else 1 for _, s in weights)
    assert _number(panel.values["parameters"]) == expected


def test_fingerprint_is_shown_in_hex_as_tensorflow_reads_it(panel, models):
    import tensorflow as tf

    path = models.path("keras_export")
    panel.set_model(open_model(path))
    fp = tf.saved_model.experimental.read_fingerprint(str(path))
    assert panel.values["fingerprint_saved_model.pb"].text() == f"{fp.saved_model_checksum:016x}"
    assert panel.values["fingerprint_checkpoint"].text() == f"{fp.checkpoint_hash:016x}"
    assert panel.values["fingerprint_signatures"].text() == f"{fp.signature_def_hash:016x}"


def test_versions_and_format(panel, models):
    import tensorflow as tf

    panel.set_model(open_model(models.path("keras_export")))
    assert panel.values["tensorflow"].text() == tf.__version__
    assert panel.values["format"].text().startswith("SavedModel")
    assert panel.values["tag_sets"].text() == "serve"


def test_bytes_on_disk_add_up_to_the_files_in_the_folder(panel):
    model = open_model(sample_path())
    panel.set_model(model)
    on_disk = sum(
        os.path.getsize(os.path.join(root, f)) for root, _, fs in os.walk(sample_path()) for f in fs
    )
    parts = model.bytes_by_part()
    assert sum(n for _, n in panel.size_bar.parts) == on_disk == sum(parts.values())
    assert panel.values["bytes_variables"].text() == human_bytes(parts["variables"])
    assert panel.values["bytes_graph"].text() == human_bytes(parts["graph"])
    assert [name for name, _ in panel.size_bar.parts] == ["graph", "variables"]


def test_largest_variables_are_sorted_by_size_and_capped(panel, models, tf):
    model = open_model(models.path("ckpt_many"))
    assert len(model.distinct_variables()) > LARGEST
    panel.set_model(model)
    assert panel.largest.topLevelItemCount() == LARGEST

    sample = open_model(sample_path())
    panel.set_model(sample)
    rows = [panel.largest.topLevelItem(i) for i in range(panel.largest.topLevelItemCount())]
    loaded = tf.saved_model.load(str(sample_path())).variables
    assert len(sample.variables) == 2 * len(loaded)  # Keras tracks each variable twice
    assert len(rows) == len(loaded)  # listed once each, as TensorFlow loads them
    biggest = max(loaded, key=lambda v: v.shape.num_elements())
    first = rows[0]
    assert [first.text(c) for c in range(4)] == [
        biggest.name.removesuffix(":0"),
        format_dims(biggest.shape.as_list()),
        biggest.dtype.name,
        human_bytes(biggest.shape.num_elements() * biggest.dtype.size),
    ]
    sizes = [sample.variable(r.data(0, Qt.ItemDataRole.UserRole)).nbytes for r in rows]
    assert sizes == sorted(sizes, reverse=True)


def test_activating_a_largest_variable_emits_its_key(panel, qtbot):
    panel.set_model(open_model(sample_path()))
    item = panel.largest.topLevelItem(0)
    with qtbot.waitSignal(panel.variable_selected) as signal:
        panel.largest.itemActivated.emit(item, 0)
    assert panel.model.variable(signal.args[0]).name == item.text(0)


def test_warnings_list_the_models_problems_relative_to_its_folder(panel, models, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(models.path("keras_export"), broken)
    for shard in (broken / "variables").glob("*.data-*"):
        shard.unlink()
    model = open_model(broken)
    assert model.problems
    panel.set_model(model)
    assert not panel._warnings_heading.isHidden()
    texts = [
        panel._warnings.itemAtPosition(r, 1).widget().text() for r in range(len(model.problems))
    ]
    assert all("variables/variables.data-00000-of-00001" in t for t in texts)
    assert str(tmp_path) not in " ".join(texts)


def test_no_model_clears_the_page(panel):
    panel.set_model(open_model(sample_path()))
    panel.set_model(None)
    assert panel._title.text() == "No model"
    assert panel.values == {}
    assert panel.largest.isHidden() and panel.largest.topLevelItemCount() == 0


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 * 1024**2, "5.0 MiB"), (None, "?")],
)
def test_human_bytes(n, text):
    assert human_bytes(n) == text


def test_short_dtype():
    assert short_dtype("DT_FLOAT") == "float32"
    assert short_dtype("DT_NOT_A_TYPE") == "DT_NOT_A_TYPE"


@pytest.mark.parametrize(
    ("n", "total", "text"),
    [(0, 100, "0 %"), (1, 1000, "<1 %"), (999, 1000, ">99 %"), (5, 5, "100 %"), (1, 3, "33 %")],
)
def test_share_never_rounds_a_part_away(n, total, text):
    assert share(n, total) == text


def test_largest_variables_leave_out_training_state_unless_asked(panel, models):
    model = open_model(models.path("ckpt_optimizer"))
    panel.set_model(model)
    names = [
        panel.largest.topLevelItem(i).text(0) for i in range(panel.largest.topLevelItemCount())
    ]
    slot_names = {v.name for v in model.distinct_variables() if v.slot_of is not None}
    assert names and not slot_names & set(names) and not panel.with_slots.isHidden()

    panel.with_slots.setChecked(True)
    count = panel.largest.topLevelItemCount()
    names = [panel.largest.topLevelItem(i).text(0) for i in range(count)]
    assert slot_names & set(names)


def test_custom_ops_are_listed_by_namespace_with_their_package(panel, models):
    panel.set_model(open_model(models.path("custom_op_renamed")))
    assert not panel._custom_heading.isHidden()
    text = panel.values["custom_tftext"].text()
    assert "WhitespaceTokenizeWithOffsetsV2" in text and "pip install tensorflow-text" in text

    panel.set_model(open_model(models.path("keras_export")))
    assert panel._custom_heading.isHidden() and "custom_tftext" not in panel.values


def test_file_and_system_ops_are_said_on_open_with_their_nodes(panel, models):
    panel.set_model(open_model(models.path("risky_nested")))
    assert not panel._risky_heading.isHidden()
    assert "MatchingFiles" in panel._risky_heading.text()
    assert "ReadFile" in panel._risky_heading.text() and "PrintV2" in panel._risky_heading.text()
    assert "/" in panel.values["risky_readfile"].text()  # function/node

    panel.set_model(None)
    assert panel._risky_heading.isHidden() and panel._custom_heading.isHidden()


def test_a_training_folder_lists_its_steps_and_export_which_open_and_compare(panel, models, qtbot):
    from tests.fixtures.training import EXPORT

    folder = models.path("training_folder")
    panel.set_model(open_model(folder))
    assert panel.values["step"].text().startswith("1,000")
    assert not panel._training_heading.isHidden()
    rows = [panel.values[f"training_{r}"].text() for r in range(4)]
    assert "shown" in rows[0] and "compare with step 999" in rows[0]
    assert "model.ckpt-999" in rows[1] and "model.ckpt-0'" in rows[2]
    assert EXPORT in rows[3]

    with qtbot.waitSignal(panel.path_requested) as opened:
        panel.values["training_1"].linkActivated.emit(str(folder / "model.ckpt-999"))
    assert opened.args == [str(folder / "model.ckpt-999")]
    with qtbot.waitSignal(panel.compare_requested) as compared:
        panel._on_training_link_activated(
            f"{folder / 'model.ckpt-999'}|{folder / 'model.ckpt-1000'}"
        )
    assert compared.args == [str(folder / "model.ckpt-999"), str(folder / "model.ckpt-1000")]

    panel.set_model(open_model(folder / "model.ckpt-999"))
    assert panel.values["step"].text().startswith("999")
    assert "shown" in panel.values["training_1"].text()
    panel.set_model(open_model(models.path("keras_export")))
    assert panel._training_heading.isHidden() and "step" not in panel.values


def test_many_meta_graphs_show_the_first_columns_and_sum_the_rest(panel, tmp_path):
    """2,000 meta graphs as 12,000 labels took Qt 45 s to lay out: past GRAPH_COLUMNS the
    rest share one column, whose counts are their sums (distinct op types)."""
    from smlens.core.formats import proto
    from smlens.gui.panels.overview import GRAPH_COLUMNS, TAG_SETS_LISTED

    saved = proto.SavedModel(saved_model_schema_version=1)
    count = max(GRAPH_COLUMNS, TAG_SETS_LISTED) + 3
    for i in range(count):
        mg = saved.meta_graphs.add()
        mg.meta_info_def.tags[:] = ["serve", f"v{i}"]
        for j in range(i + 1):  # i + 1 nodes, so the sums tell the columns apart
            mg.graph_def.node.add(name=f"n{j}", op="Identity" if j % 2 else "Const")
        mg.signature_def["serving_default"].method_name = "tensorflow/serving/predict"
    (tmp_path / "saved_model.pb").write_bytes(saved.SerializeToString())
    panel.set_model(open_model(tmp_path))
    shown = GRAPH_COLUMNS - 1
    for c in range(shown):
        assert _number(panel.values[f"graph_nodes:{c}"]) == c + 1
    assert _number(panel.values[f"graph_nodes:{shown}"]) == sum(range(shown + 1, count + 1))
    assert _number(panel.values[f"signatures:{shown}"]) == count - shown
    assert _number(panel.values[f"op_types:{shown}"]) == 2
    assert f"graph_nodes:{shown + 1}" not in panel.values
    tags = panel.values["tag_sets"].text()
    assert tags.startswith("serve,v0") and tags.endswith(f"{count - TAG_SETS_LISTED} more")


def test_a_graph_without_signatures_counts_the_feeds_and_fetches_found(panel, models, tf):
    from tests.fixtures.training_graph import MODEL_OUTPUTS

    path = models.path("frozen_training_graph") / "frozen.pb"
    graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    placeholders = [n for n in graph_def.node if n.op.startswith("Placeholder")]
    panel.set_model(open_model(path))
    assert _number(panel.values["feeds_found"]) == len(placeholders)
    assert _number(panel.values["fetches_found"]) == len(MODEL_OUTPUTS)
    panel.set_model(open_model(models.path("keras_export")))
    assert "feeds_found" not in panel.values


def test_frozen_constants_are_no_checkpoint_entries_stored_twice(panel, models, tf):
    from PySide6.QtWidgets import QLabel

    path = models.path("frozen_training_graph") / "frozen.pb"
    graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    big_consts = [
        n
        for n in graph_def.node
        if n.op == "Const" and n.attr["value"].tensor.ByteSize() >= CONSTANT_MIN_BYTES
    ]
    panel.set_model(open_model(path))
    assert _number(panel.values["frozen_constants"]) == len(big_consts) > 0
    # A frozen graph has no checkpoint: nothing is stored twice, nor a negative count.
    assert "checkpoint_entries" not in panel.values
    assert not [w for w in panel.findChildren(QLabel) if "stored twice" in w.text()]


@pytest.mark.tf
def test_keras_training_state_is_counted_apart_from_the_weights(panel, tmp_path):
    import tensorflow as tf

    from tests.fixtures.trained import keras_classifier

    keras_model = keras_classifier()
    tf.saved_model.save(keras_model, str(tmp_path))
    panel.set_model(open_model(tmp_path))
    assert _number(panel.values["weights"]) == len(keras_model.weights)
    params = sum(int(tf.size(w.value)) for w in keras_model.weights)
    assert _number(panel.values["parameters"]) == params
    optimizer = len(keras_model.optimizer.variables)
    state = _number(panel.values["optimizer_state"])
    assert state == 2 * len(keras_model.trainable_variables)  # Adam: two moments a weight
    assert state + _number(panel.values["optimizer_scalars"]) == optimizer
    assert _number(panel.values["metrics"]) == sum(len(m.variables) for m in keras_model.metrics)
    count = panel.largest.topLevelItemCount()
    names = {panel.largest.topLevelItem(i).text(0) for i in range(count)}
    weight_names = {w.value.name.split(":")[0] for w in keras_model.weights}
    assert names and names <= weight_names  # the 200-bucket AUC counters are no weights


@pytest.fixture(scope="module")
def shuffle_export(tf, tmp_path_factory):
    from tests.core.analysis.release_exports import export_stateless_shuffle

    return export_stateless_shuffle(tf, tmp_path_factory.mktemp("overview") / "shuffle")


def test_the_release_line_names_the_op_that_sets_it(panel, qtbot, shuffle_export):
    from tests.core.analysis.release_exports import SHUFFLE_OP, SHUFFLE_SINCE

    with qtbot.waitSignal(panel.releases_shown):
        panel.show_model(open_model(shuffle_export))

    needs = panel.values["release_needs"].text()
    assert needs.startswith(f"TensorFlow >= {SHUFFLE_SINCE} (op {SHUFFLE_OP} since ")
    assert panel.values["release_graphdef"].text().startswith("producer ")
