"""Models with ops TensorFlow does not define: named with their namespace and provider,
opened everywhere, and run once the worker loads their library (a real op library compiled
by the fixture, and a package import). What tf.print prints reaches the run's result."""

from __future__ import annotations

import json

import numpy as np
import pytest

from smlens.cli.main import main
from smlens.cli.run import run_main
from smlens.core import open_model
from smlens.core.analysis.ops import custom_ops, missing_op_text, op_counts
from smlens.core.graph.build import build_graph, find_function_for_signature
from smlens.core.run.client import RunEngine, RunError
from smlens.core.run.messages import describe_failure
from smlens.core.run.state import switch_model
from tests.core.run.test_run import load_target, run_in
from tests.fixtures.custom_ops import LIBRARY_OP, RENAMED_OP, op_library_path


@pytest.fixture(scope="module")
def engine():
    with RunEngine() as warm:
        yield warm


def test_an_op_tensorflow_does_not_define_is_named_with_its_namespace_and_package(models):
    model = open_model(models.path("custom_op_renamed"))
    mg = model.meta_graph("serve")

    assert op_counts(mg)[RENAMED_OP].registered is False
    [group] = custom_ops(model.meta_graphs)
    assert group.namespace == "TFText" and group.ops == {RENAMED_OP: 1}
    assert group.package == "tensorflow-text" and group.module == "tensorflow_text"
    assert "pip install tensorflow-text" in group.load_hint
    library = custom_ops(open_model(models.path("custom_op_library")).meta_graphs)
    assert [(g.namespace, list(g.ops), g.module) for g in library] == [("", [LIBRARY_OP], None)]
    assert custom_ops(open_model(models.path("keras_export")).meta_graphs) == []


def test_the_renamed_op_model_opens_everywhere(models, capsys):
    path = models.path("custom_op_renamed")
    model = open_model(path)
    mg = model.meta_graph("serve")
    [name] = [n for n, f in mg.functions.items() if any(x.op == RENAMED_OP for x in f.nodes)]
    assert RENAMED_OP in {node.op for node in build_graph(model, mg, name).nodes}
    assert build_graph(model, mg, find_function_for_signature(mg, "serving_default")).nodes

    assert main(["show", "--dir", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
    assert main(["show", "--dir", str(path), "--all"]) == 0
    assert "serving_default" in capsys.readouterr().out
    assert main(["scan", "--dir", str(path)]) == 0


def test_a_missing_op_says_which_op_and_what_to_load(models, engine):
    with pytest.raises(RunError) as refused:
        run_in(
            engine,
            models.path("custom_op_renamed"),
            "serve",
            "serving_default",
            {"x": np.ones((1, 3))},
        )
    assert refused.value.stage == "missing-op"
    assert RENAMED_OP in refused.value.message and "--load tensorflow_text" in refused.value.message
    assert describe_failure(refused.value) == refused.value.message
    assert missing_op_text("Op type not registered 'Foo' in binary running on vm") is not None
    assert missing_op_text("some other error") is None


def test_the_op_library_loads_in_the_worker_before_the_model(models, engine):
    path = models.path("custom_op_library")
    library = op_library_path(path.parent)
    x = np.array([1.0, 2.5], np.float32)
    with pytest.raises(RunError, match=f"uses the op {LIBRARY_OP}") as refused:
        run_in(engine, path, "serve", "serving_default", {"x": x})
    assert "op library (.so)" in refused.value.message

    result = run_in(engine, path, "serve", "serving_default", {"x": x}, loads=[str(library)])
    np.testing.assert_array_equal(result.outputs["y"], x + 1)


def test_cli_load_runs_the_custom_op_model(models, engine, capsys):
    path = models.path("custom_op_library")
    library = op_library_path(path.parent)
    argv = ["--dir", str(path), "--tag_set", "serve", "--signature_def", "serving_default"]
    argv += ["--input_exprs", "x=[1.0, 2.0]", "--load", str(library), "--json"]

    assert run_main(argv, engine) == 0
    assert json.loads(capsys.readouterr().out)["outputs"]["y"]["values"] == [2.0, 3.0]


def test_a_package_loads_and_a_bad_name_is_a_load_error(models, engine):
    path = models.path("keras_export")
    features = {"features": np.ones((1, 10), np.float32)}
    run_in(engine, path, "serve", "serving_default", features, loads=["json"])  # a plain package
    with pytest.raises(RunError) as bad:
        run_in(engine, path, "serve", "serving_default", features, loads=["no_such_package_x"])
    assert bad.value.stage == "load-library" and "no_such_package_x" in bad.value.message
    with pytest.raises(RunError, match="no such file"):
        run_in(engine, path, "serve", "serving_default", features, loads=["/nonexistent/ops.so"])


def test_what_tf_print_prints_comes_back_with_the_run(models, engine, tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("hello")
    result = run_in(
        engine,
        models.path("risky_nested"),
        "serve",
        "serving_default",
        {"pattern": np.array(str(tmp_path / "*.txt").encode(), dtype=object)},
        allow_risky_ops=True,
    )
    assert result.outputs["count"].item() == 1 + len("hello")
    assert "matched 6" in result.output


def test_a_warm_worker_switches_models_without_a_new_import(models, engine):
    first = models.path("keras_export")
    run_in(engine, first, "serve", "serving_default", {"features": np.ones((1, 10), np.float32)})
    pid = engine.pid
    other = models.path("module_multi_sig")

    seconds = switch_model(engine, other, load_target(other, "serve"))

    assert seconds is not None and seconds > 0 and engine.pid == pid
    result = run_in(engine, other, "serve", "serving_default", {"x": np.ones((2, 10), np.float32)})
    assert result.cached and result.start_seconds == 0.0 and engine.pid == pid
    with RunEngine() as cold:
        assert switch_model(cold, other, load_target(other, "serve")) is None and cold.pid is None
