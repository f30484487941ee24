"""Model.meta_graph finds a tag-set in any order and names the tag-sets when it cannot;
callable_signatures leaves out the init op, as tf.saved_model.load does."""

from __future__ import annotations

from pathlib import Path

import pytest

from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.model import INIT_OP_KEY, Graph, MetaGraph, Model, Signature


def _model() -> Model:
    sig = Signature("serving_default", "tensorflow/serving/predict", {}, {})
    init = Signature(INIT_OP_KEY, "", {}, {})
    mg = MetaGraph(["serve", "gpu"], {"serving_default": sig, INIT_OP_KEY: init}, Graph([], {}))
    return Model(Path("/models/m"), "saved_model", [mg])


def test_tags_match_in_any_order():
    model = _model()
    assert model.meta_graph("gpu,serve") is model.meta_graphs[0]
    assert model.meta_graph(["serve", "gpu"]) is model.meta_graphs[0]


def test_a_missing_tag_set_names_the_file_and_the_tag_sets_there_are():
    with pytest.raises(SmlensError) as raised:
        _model().meta_graph("train")
    assert str(raised.value) == (
        "/models/m: no MetaGraphDef with tag-set 'train'; the tag-sets are: 'serve,gpu'"
    )


def test_callable_signatures_leave_out_the_init_op():
    assert list(_model().meta_graphs[0].callable_signatures) == ["serving_default"]


def test_callable_signatures_are_what_tensorflow_loads(models, tf):
    path = models.path("lookup")  # a table to initialise: save() writes an init op
    loaded = tf.saved_model.load(str(path))
    mg = open_model(path).meta_graph("serve")
    assert INIT_OP_KEY in mg.signatures
    assert set(mg.callable_signatures) == set(loaded.signatures.keys())
