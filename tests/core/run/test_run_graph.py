"""Runs by tensor names in the worker (GraphRunRequest, ``smlens run --fetch``): a frozen
GraphDef, a ``.meta`` restored from its checkpoint (the empty prefix too) and a SavedModel's
meta graph each equal a session TensorFlow runs in this process on the same inputs; the
detected outputs are fetched by default; misspelt names, risky graphs and missing feeds are
one-line errors with exit 2, before any worker starts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from google.protobuf import text_format

from smlens.cli.main import main
from smlens.cli.run import run_main
from smlens.core import open_model
from smlens.core.analysis.scan import RiskyOpsError
from smlens.core.errors import SmlensError
from smlens.core.run.client import RunEngine
from smlens.core.run.graph_request import GraphRunRequest, default_fetches, tensor_name

RNG = np.random.default_rng(19)
X4 = RNG.standard_normal((3, 4)).astype(np.float32)
X3 = RNG.standard_normal((5, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def engine():
    with RunEngine() as warm:
        yield warm


def direct_frozen(tf, path, feeds: dict, fetches: list[str]) -> list[np.ndarray]:
    """TensorFlow's own run of a frozen GraphDef file: parse, import, session.run."""
    v1 = tf.compat.v1
    graph_def = v1.GraphDef()
    data = path.read_bytes()
    if path.suffix == ".pbtxt":
        text_format.Parse(data.decode(), graph_def)
    else:
        graph_def.ParseFromString(data)
    with tf.Graph().as_default() as graph:
        v1.import_graph_def(graph_def, name="")
        with v1.Session(graph=graph) as session:
            return session.run(fetches, feeds)


def direct_meta(tf, meta, prefix: str, feeds: dict, fetches: list[str]) -> list[np.ndarray]:
    """TensorFlow's own run of a .meta restored from ``prefix``."""
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as session:
        saver = v1.train.import_meta_graph(str(meta))
        saver.restore(session, prefix)
        return session.run(fetches, feeds)


@pytest.mark.parametrize("name", ["frozen.pb", "frozen.pbtxt"])
def test_frozen_graph_run_equals_a_direct_session_run(tf, models, engine, name):
    path = models.path("frozen_graph") / name
    request = GraphRunRequest.of(open_model(path), {"x": X4}, ["y:0"], repeat=3)

    result = engine.run(request)

    (expected,) = direct_frozen(tf, path, {"x:0": X4}, ["y:0"])
    np.testing.assert_array_equal(result.outputs["y:0"], expected)
    assert result.kind == "graph" and len(result.warm_seconds) == 2
    assert result.output_devices["y:0"].endswith("device:CPU:0")


@pytest.mark.parametrize("opened", ["folder", "meta", "index"])
def test_meta_and_checkpoint_run_equals_a_direct_restore(tf, models, engine, opened):
    folder = models.path("tf1_ckpt_meta")
    path = {"folder": folder, "meta": folder / "model.ckpt.meta"}.get(
        opened, folder / "model.ckpt.index"
    )
    fetches = ["y:0", "global_step/Read/ReadVariableOp:0"]
    request = GraphRunRequest.of(open_model(path), {"x:0": X4}, fetches)

    result = engine.run(request)

    expected = direct_meta(
        tf, folder / "model.ckpt.meta", str(folder / "model.ckpt"), {"x:0": X4}, fetches
    )
    for key, value in zip(fetches, expected, strict=True):
        np.testing.assert_array_equal(result.outputs[key], value)
    assert int(result.outputs[fetches[1]]) == 7  # the saved step, not an initial value


def test_empty_prefix_checkpoint_run_equals_a_direct_restore(tf, models, engine):
    folder = models.path("ckpt_empty_prefix")
    request = GraphRunRequest.of(open_model(folder), {"x": X3})

    result = engine.run(request)

    (expected,) = direct_meta(tf, folder / ".meta", str(folder) + "/", {"x:0": X3}, ["y:0"])
    assert list(result.outputs) == ["y:0"]
    np.testing.assert_array_equal(result.outputs["y:0"], expected)


def test_saved_model_meta_graph_runs_by_tensor_names(tf, models, engine):
    """The TF1 export's serve graph fetched by the names its predict signature points at,
    without naming the signature, equals TF's loader run."""
    path = models.path("tf1_multi_tag")
    model = open_model(path)
    predict = model.meta_graph("serve").signatures["predict"]
    feed = predict.inputs["x"].name
    fetches = [info.name for info in predict.outputs.values()]
    x = RNG.standard_normal((2, *predict.inputs["x"].shape.dims[1:])).astype(np.float32)
    request = GraphRunRequest.of(model, {feed: x}, fetches, tag_set="serve")

    result = engine.run(request)

    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as session:
        v1.saved_model.loader.load(session, ["serve"], str(path))
        expected = session.run(fetches, {feed: x})
    for key, value in zip(fetches, expected, strict=True):
        np.testing.assert_array_equal(result.outputs[key], value)


def test_fetch_defaults_to_the_outputs_the_fixture_froze(models, engine, capsys):
    """build_frozen_graph froze ["y"]: no --fetch fetches y:0."""
    path = models.path("frozen_graph") / "frozen.pb"
    assert default_fetches(open_model(path).meta_graphs[0]) == ["y:0"]

    argv = ["--dir", str(path), "--input_exprs", "x=np.ones((2,4))", "--json"]
    assert run_main(argv, engine) == 0

    printed = json.loads(capsys.readouterr().out)
    assert list(printed["outputs"]) == ["y:0"]
    assert printed["outputs"]["y:0"]["values"] == [[0.5, 0.5], [0.5, 0.5]]  # softmax of equals


def test_cli_fill_repeat_and_outdir_by_tensor_names(models, engine, capsys, tmp_path):
    path = models.path("tf1_ckpt_meta")
    argv = ["--dir", str(path), "--fill", "ones", "--batch", "3", "--repeat", "4"]
    argv += ["--fetch", "y", "--outdir", str(tmp_path)]

    assert run_main(argv, engine) == 0

    out = capsys.readouterr().out
    assert "Result for output key y:0:" in out and "Warm calls (3):" in out
    saved = np.load(tmp_path / "y_0.npy")
    np.testing.assert_array_equal(saved, np.full((3, 2), 4.0, np.float32))  # ones @ ones(4,2)


def test_nothing_is_written_beside_a_graph_file(models, engine):
    folder = models.path("frozen_graph")
    argv = ["--dir", str(folder / "frozen.pb"), "--fill", "ones"]

    with pytest.raises(SmlensError, match="will not write into the model folder"):
        run_main([*argv, "--outdir", str(folder / "out")], engine)
    with pytest.raises(SmlensError, match="will not write into the model folder"):
        run_main([*argv, "--save-run", str(folder / "run.npz")], engine)
    assert sorted(p.name for p in folder.iterdir()) == ["frozen.pb", "frozen.pbtxt"]


def _one_error_line(argv: list[str], capsys) -> str:
    assert main(["run", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and captured.out == ""
    return lines[0]


def test_a_misspelt_fetch_names_the_nearest_tensor(models, capsys):
    path = models.path("frozen_graph") / "frozen.pb"
    argv = ["--dir", str(path), "--input_exprs", "x=np.ones((1,4))", "--fetch", "yy:0"]

    line = _one_error_line(argv, capsys)

    assert line == f"smlens: error: {path}: no tensor 'yy:0' in the graph; nearest: y:0"


def test_a_misspelt_feed_names_the_nearest_feed(models, capsys):
    path = models.path("frozen_graph") / "frozen.pb"
    line = _one_error_line(["--dir", str(path), "--input_exprs", "xx:0=np.ones((1,4))"], capsys)

    assert line.startswith("smlens: error: ") and "'xx:0' is neither a feed nor a tensor" in line
    assert "nearest: x:0" in line


def test_any_tensor_is_fed_by_name_and_its_placeholder_is_then_not_needed(tf, models, engine):
    """Feeding add:0 (the logits) skips x, as a TF1 session allows; the dtype is add's."""
    path = models.path("frozen_graph") / "frozen.pb"
    logits = RNG.standard_normal((3, 2)).astype(np.float32)
    request = GraphRunRequest.of(open_model(path), {"add": logits.tolist()}, ["y"])

    result = engine.run(request)

    assert request.inputs["add:0"].dtype == np.float32 and "x:0" not in request.inputs
    (expected,) = direct_frozen(tf, path, {"add:0": logits}, ["y:0"])
    np.testing.assert_array_equal(result.outputs["y:0"], expected)


def test_missing_feeds_and_wrong_shapes_are_refused_before_the_worker(models, capsys):
    fresh = RunEngine()
    path = models.path("frozen_graph") / "frozen.pb"

    line = _one_error_line(["--dir", str(path)], capsys)
    assert "the feeds are: x:0" in line
    with pytest.raises(SmlensError, match=r"has shape \(1, 5\)"):
        GraphRunRequest.of(open_model(path), {"x": np.ones((1, 5), np.float32)})

    assert fresh.pid is None


def test_a_signature_model_asks_for_signature_or_fetch(models, capsys):
    line = _one_error_line(
        ["--dir", str(models.path("tf1_multi_tag")), "--tag_set", "serve"], capsys
    )

    assert "--signature_def" in line and "--fetch" in line


def test_risky_graphs_are_refused_unless_allowed(models, engine, tmp_path, capsys):
    path = models.path("risky_frozen_graph") / "read_file.pb"
    (tmp_path / "hello.txt").write_bytes(b"hello")
    feed = f"filename='{tmp_path / 'hello.txt'}'"
    with pytest.raises(RiskyOpsError, match="ReadFile"):
        GraphRunRequest.of(open_model(path), {"filename": b"x"})
    result = subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", "run", "--dir", str(path), "--input_exprs", feed],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "add --allow-risky-ops to run it anyway" in result.stderr

    argv = ["--dir", str(path), "--input_exprs", feed, "--allow-risky-ops", "--json"]
    assert run_main(argv, engine) == 0
    assert json.loads(capsys.readouterr().out)["outputs"]["length:0"]["values"] == 5


def test_a_second_run_uses_the_cached_session(models, engine):
    path = models.path("frozen_graph") / "frozen.pb"
    request = GraphRunRequest.of(open_model(path), {"x": X4})
    engine.run(request)

    assert engine.run(request).cached


@pytest.mark.parametrize(
    "text, name", [("x", "x:0"), ("x:0", "x:0"), ("a/b:2", "a/b:2"), (" y ", "y:0")]
)
def test_tensor_names_take_output_zero_when_omitted(text, name):
    assert tensor_name(text) == name


@pytest.mark.parametrize(
    ("fixture", "file"),
    [("frozen_training_graph", "frozen.pb"), ("tf1_training_meta", "model.ckpt-3.meta")],
)
def test_the_signatures_panels_run_line_runs_and_equals_its_session_snippet(
    models, engine, capsys, fixture, file
):
    """The snippet beside a graph's feeds and fetches: its smlens run line, run as typed,
    fetches what its TF1 session code fetches."""
    import shlex

    from smlens.core.analysis.graph_io import graph_io
    from smlens.core.analysis.snippets import graph_snippet

    model = open_model(models.path(fixture) / file)
    mg = model.meta_graphs[0]
    io = graph_io(mg)
    snippet = graph_snippet(model.path, model.format, mg.tags, io)
    scope: dict = {}
    exec(snippet.python, scope)

    argv = shlex.split(snippet.cli)[2:]
    assert argv[:2] == ["--dir", str(model.path)]
    assert run_main([*argv, "--json"], engine) == 0

    printed = json.loads(capsys.readouterr().out)["outputs"]
    fetched = [f.name for f in io.fetches[:3]]
    assert sorted(printed) == sorted(fetched)
    for name, value in zip(fetched, scope["outputs"], strict=True):
        np.testing.assert_array_equal(np.asarray(printed[name]["values"]), value)
