"""Checkpoint keys resolved to names through the object graph, optimizer slots included."""

from __future__ import annotations

import numpy as np
import pytest

from smlens.core import open_model
from smlens.core.analysis.summary import model_summary
from smlens.core.formats.names import resolve_variables


def _trackable_graph(prefix: str):
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    raw = tf.train.load_checkpoint(prefix).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")
    return trackable_object_graph_pb2.TrackableObjectGraph.FromString(raw)


def test_slot_variables_name_their_variable_and_slot(models):
    model = open_model(models.path("ckpt_optimizer"))
    graph = _trackable_graph(str(model.checkpoint.prefix))
    key_of = {i: a.checkpoint_key for i, n in enumerate(graph.nodes) for a in n.attributes}
    expected = {
        key_of[s.slot_variable_node_id]: (key_of[s.original_variable_node_id], s.slot_name)
        for n in graph.nodes
        for s in n.slot_variables
    }
    assert {slot[1] for slot in expected.values()} == {"m", "v"}
    by_key = {v.key: v for v in model.variables}
    slots = {v.key: v for v in model.variables if v.slot_of is not None}
    assert set(slots) == set(expected)
    for key, (original_key, slot_name) in expected.items():
        assert slots[key].slot_name == slot_name
        assert slots[key].slot_of == by_key[original_key].name
    assert {v.name for v in model.variables if v.slot_of is None} >= {"kernel", "bias"}


def test_object_paths_follow_the_object_graph(models):
    model = open_model(models.path("ckpt_optimizer"))
    kernel = model.variable("net.kernel")
    assert kernel.name == "kernel" and kernel.key == "net/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    assert model.variable("kernel") is kernel


@pytest.mark.parametrize("name", ["keras_export", "module_multi_sig", "control_flow"])
def test_keys_rebuilt_from_the_saved_object_graph_equal_the_checkpoints(models, name):
    model = open_model(models.path(name))
    trackable = model.checkpoint.trackable_object_graph()
    entries = {v.key: model.checkpoint.entries[v.key] for v in model.variables}
    from_checkpoint = resolve_variables(entries, trackable, model.meta_graphs[0].object_graph)
    from_saved = resolve_variables(entries, None, model.meta_graphs[0].object_graph)
    assert [(v.key, v.name, v.object_path) for v in from_saved] == [
        (v.key, v.name, v.object_path) for v in from_checkpoint
    ]
    assert all(v.object_path for v in from_saved)


def test_keras_variables_stored_twice_count_once_as_tensorflow_loads_them(models):
    import tensorflow as tf

    path = models.path("keras_export")
    model = open_model(path)
    loaded = tf.saved_model.load(str(path))
    distinct = model.distinct_variables()
    assert len(distinct) == len(loaded.variables) == 4 < len(model.variables)
    assert {v.name for v in distinct} == {v.name.split(":")[0] for v in loaded.variables}
    assert all(v.key.startswith("variables/") for v in distinct)  # not the _all_variables copy
    for v in distinct:
        (alias,) = model.aliases(v)
        assert alias.startswith("_all_variables/")
        np.testing.assert_array_equal(model.checkpoint.read(v.key), model.checkpoint.read(alias))
        assert model.variable(alias).key == v.key  # any key finds the tensor's first key
    summary_keys = [v["key"] for v in model_summary(model)["variables"]]
    assert summary_keys == [v.key for v in distinct]


@pytest.mark.parametrize("name", ["tf1_multi_tag", "ckpt_optimizer", "module_multi_sig"])
def test_variables_stored_once_are_all_distinct(models, name):
    model = open_model(models.path(name))
    assert len(model.distinct_variables()) == len(model.variables)
    assert all(model.aliases(v) == [] for v in model.variables)
