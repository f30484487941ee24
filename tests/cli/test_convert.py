"""smlens freeze and wrap, checked against TensorFlow's own sessions and loader."""

from __future__ import annotations

import numpy as np
import pytest

from smlens.cli.main import main

pytestmark = pytest.mark.tf

INPUT = np.arange(12, dtype=np.float32).reshape(3, 4) - 5.0


def _frozen_run(tf, path, feed: str, fetch: str, value):
    v1 = tf.compat.v1
    graph_def = v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with v1.Session(graph=graph) as session:
            return session.run(fetch, {feed: value})


def _meta_run(tf, folder, value):
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        saver = v1.train.import_meta_graph(str(folder / "model.ckpt.meta"))
        with v1.Session(graph=graph) as session:
            saver.restore(session, str(folder / "model.ckpt"))
            return session.run("y:0", {"x:0": value})


def test_freeze_of_a_meta_and_checkpoint_computes_what_the_source_does(models, tf, tmp_path):
    source = models.path("tf1_ckpt_meta")
    out = tmp_path / "frozen.pb"
    assert main(["freeze", "--dir", str(source), "--out", str(out)]) == 0
    frozen = _frozen_run(tf, out, "x:0", "y:0", INPUT)
    np.testing.assert_array_equal(frozen, _meta_run(tf, source, INPUT))
    ops = {n.op for n in tf.compat.v1.GraphDef.FromString(out.read_bytes()).node}
    assert not ops & {"VarHandleOp", "VariableV2", "RestoreV2"}


def test_freeze_of_a_tf2_signature_computes_what_the_signature_does(models, tf, tmp_path):
    source = models.path("module_multi_sig")
    out = tmp_path / "frozen.pb"
    assert main(["freeze", "--dir", str(source), "--out", str(out), "--json"]) == 0
    value = np.ones((2, 10), np.float32)
    expected = tf.saved_model.load(str(source)).signatures["serving_default"](x=value)
    got = _frozen_run(tf, out, "x:0", "Identity:0", value)
    np.testing.assert_array_equal(got, expected["logits"].numpy())


def test_wrap_loads_in_tensorflow_and_show_matches_saved_model_cli(models, tf, tmp_path):
    from tests.cli.test_show import normalise
    from tests.smcli import saved_model_cli_show

    frozen = models.path("frozen_graph") / "frozen.pb"
    out = tmp_path / "wrapped"
    assert main(["wrap", "--dir", str(frozen), "--out", str(out)]) == 0
    loaded = tf.saved_model.load(str(out), tags=["serve"])
    got = loaded.signatures["serving_default"](x=tf.constant(INPUT))["y"].numpy()
    np.testing.assert_array_equal(got, _frozen_run(tf, frozen, "x:0", "y:0", INPUT))
    from smlens.cli.show import render_show
    from smlens.core.formats.reader import open_model

    expected = normalise(saved_model_cli_show(["--dir", str(out), "--all"]))
    assert normalise(render_show(open_model(out), all=True)) == expected


def test_out_inside_the_model_folder_is_refused(models, tmp_path, capsys):
    source = models.path("tf1_ckpt_meta")
    before = sorted(p.name for p in source.iterdir())
    code = main(["freeze", "--dir", str(source), "--out", str(source / "frozen.pb")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "inside the model folder" in err[0]
    assert sorted(p.name for p in source.iterdir()) == before


def test_an_existing_out_is_kept_without_force(models, tmp_path, capsys):
    out = tmp_path / "frozen.pb"
    out.write_bytes(b"mine")
    code = main(["freeze", "--dir", str(models.path("tf1_ckpt_meta")), "--out", str(out)])
    assert code == 2
    assert out.read_bytes() == b"mine"
