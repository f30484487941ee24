"""RunState without a window: choices, runs, baselines, risky defaults and the observers a
view hangs on it. The engine is never started here (no TensorFlow import)."""

from __future__ import annotations

import numpy as np
import pytest

from smlens.core import open_model
from smlens.core.analysis.scan import RiskyOpsError
from smlens.core.errors import SmlensError
from smlens.core.run.client import RunResult
from smlens.core.run.graph_request import FEEDS_KEY, GraphRunRequest
from smlens.core.run.state import DEFAULT_REPEAT, NOTHING, PREVIOUS, RunState, output_stats


def _result(value: float) -> RunResult:
    return RunResult({"output_0": np.full((1, 1), value, np.float32)}, {}, 0.1, 0.01, [])


def _run(state: RunState, value: float):
    request = state.request({"features": np.ones((1, 10), np.float32)}, repeat=3)
    result = _result(value)
    return state.add_run(request, result, output_stats(result))


@pytest.fixture
def state(models):
    found = RunState()
    found.set_model(open_model(models.path("keras_export")))
    yield found
    assert found.engine.pid is None  # nothing here started a worker
    found.engine.close()


def test_a_model_chooses_serve_and_serving_default_and_notifies(models):
    state = RunState()
    seen: list[str] = []
    for event in ("model", "choice", "runs", "baselines"):
        state.observe(event, lambda e=event: seen.append(e))
    state.set_model(open_model(models.path("keras_export")))

    assert seen == ["model", "choice", "runs", "baselines"]
    assert state.tag_set == "serve" and state.signature_key == "serving_default"
    assert state.signature().key == "serving_default" and state.not_runnable_reason() is None
    with pytest.raises(ValueError, match="no event 'nope'"):
        state.observe("nope", lambda: None)


def test_a_request_carries_the_model_in_hand_the_choices_and_the_libraries_to_load(state):
    state.choose_device("gpu:1")
    state.set_loads(["tensorflow_text", " ", " /opt/ops.so"])
    request = state.request({"features": np.ones((1, 10))}, repeat=4)

    assert request.target.model is state.model
    assert request.target.meta_graph is state.model.meta_graph("serve")
    assert request.signature is state.signature() and request.signature.key == "serving_default"
    assert request.target.device == "gpu:1" and request.repeat == 4
    assert request.target.loads == ("tensorflow_text", "/opt/ops.so")
    assert request.target.allow_risky_ops is False
    assert request.inputs["features"].dtype == np.float32  # checked: float64 fed as float32


def test_runs_compare_with_the_previous_one_a_file_or_nothing(state, tmp_path):
    first = _run(state, 1.0)
    assert state.shown is first and state.deltas() == {}
    assert state.compare_note() == ("no earlier run yet", "")
    assert first.inputs["features"].shape == (1, 10)  # what the run was fed is kept

    _run(state, 3.5)
    assert state.deltas()["output_0"].max_abs == 2.5
    assert state.compare_note()[0] == "run #1 on cpu:0"

    saved = state.save_outputs(tmp_path / "one.npz")
    state.load_baseline(saved)
    assert state.compare_with == str(saved) and state.deltas()["output_0"].max_abs == 0
    state.choose_baseline(NOTHING)
    assert state.baseline() is None and state.compare_note() == ("", "")
    with pytest.raises(SmlensError, match="will not write into the model folder"):
        state.save_outputs(state.model.path / "out.npz")


def test_a_new_model_or_none_resets_runs_baselines_and_labels(state, models):
    _run(state, 1.0)
    _run(state, 2.0)
    state.allow_risky()
    state.set_model(open_model(models.path("module_multi_sig")))

    assert state.runs == [] and state.shown is None and state.baselines == {}
    assert state.compare_with == PREVIOUS and state.compare_note() == ("", "")
    assert state.allowed_risky == set()
    state.set_model(None)
    assert state.tag_set is None and state.signature() is None
    assert state.not_runnable_reason() is None  # nothing open: nothing to explain


def test_a_risky_model_defaults_to_one_call_and_asks_once(models):
    state = RunState()
    state.set_model(open_model(models.path("risky_readfile")))
    assert state.default_repeat == 1 and state.needs_consent()
    assert "ReadFile" in {u.op for u in state.risky_scan().denylisted}
    with pytest.raises(RiskyOpsError, match="refusing to run"):
        state.request({"filename": np.array(b"x", dtype=object)}, 1)  # no consent, no request
    state.allow_risky()
    assert not state.needs_consent()
    assert state.request({"filename": np.array(b"x", dtype=object)}, 1).target.allow_risky_ops

    state.set_model(open_model(models.path("keras_export")))
    assert state.default_repeat == DEFAULT_REPEAT and not state.needs_consent()


def test_a_checkpoint_without_a_graph_says_why_it_cannot_run(models):
    state = RunState()
    state.set_model(open_model(models.path("ckpt_dtypes")))
    assert not state.runnable and state.tag_sets() == []
    assert "this is a checkpoint without a graph" in state.not_runnable_reason()
    with pytest.raises(SmlensError, match="nothing to run"):
        state.request({}, 1)


def test_a_meta_and_checkpoint_runs_by_tensor_names(models):
    """No signature: the only choice is the feeds and fetches, the fetch the fixture's y."""
    state = RunState()
    state.set_model(open_model(models.path("tf1_ckpt_meta")))

    assert state.runnable and state.not_runnable_reason() is None
    assert state.signature_keys() == [FEEDS_KEY] and state.by_names
    assert state.fetches == ["y:0"] and list(state.signature().inputs) == ["x:0"]
    request = state.request({"x:0": np.ones((2, 4), np.float32)}, 3)
    assert isinstance(request, GraphRunRequest) and request.fetches == ("y:0",)
    assert state.preload_target()[1] is None  # a graph session loads with its first run


def test_a_saved_model_offers_tensor_names_after_its_signatures(models):
    state = RunState()
    state.set_model(open_model(models.path("tf1_multi_tag")))
    seen = []
    state.observe("fetches", lambda: seen.append(list(state.fetches)))

    assert state.signature_keys()[-1] == FEEDS_KEY and not state.by_names
    state.choose_signature(FEEDS_KEY)
    assert state.fetches and seen == [state.fetches]
    state.set_fetches(["scores:0", " scores:0", ""])
    assert state.fetches == ["scores:0"]


def test_a_warm_worker_may_preload_only_a_model_that_runs_without_asking(models):
    state = RunState()
    state.set_model(open_model(models.path("keras_export")))
    path, target = state.preload_target()
    assert path == models.path("keras_export") and target.meta_graph.tags == ["serve"]
    assert target.model is state.model and target.device == "cpu:0"
    state.set_loads(["tensorflow_text"])
    assert state.preload_target()[1] is None  # its library first, at the run
    state.set_model(open_model(models.path("risky_readfile")))
    assert state.preload_target() == (models.path("risky_readfile"), None)
    state.set_model(None)
    assert state.preload_target() == (None, None)
