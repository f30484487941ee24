"""``smlens show`` of a graph without signatures: saved_model_cli's text first, unchanged,
then the feeds and fetches found in the graph; ``show --json`` carries the same."""

from __future__ import annotations

import json

from smlens.cli.main import main
from smlens.cli.show import render_show
from smlens.core.formats.reader import open_model
from tests.fixtures.training_graph import LOSS, MODEL_OUTPUTS


def _stdout(capsys, argv: list[str]) -> str:
    assert main(["show", *argv]) == 0
    return capsys.readouterr().out


def test_the_section_follows_saved_model_cls_text(models, capsys):
    path = models.path("frozen_training_graph") / "frozen.pb"
    model = open_model(path)
    for flags, argv in (({}, []), ({"all": True}, ["--all"]), ({"tag_set": ""}, ["--tag_set", ""])):
        out = _stdout(capsys, ["--dir", str(path), *argv])
        expected = render_show(model, **flags)
        assert out.startswith(expected)
        section = out[len(expected) :]
        assert "has no SignatureDefs; feeds and fetches found in its graph" in section
        for name in MODEL_OUTPUTS:
            assert f"{name}  " in section
        assert "features:0  float32 (?, 4)  Placeholder" in section
        assert "dropout_keep:0  float32 ()  PlaceholderWithDefault" in section
        assert section.count("MetaGraphDef with tag-set") == 1


def test_models_with_signatures_print_only_saved_model_cls_text(models, capsys):
    path = models.path("module_multi_sig")
    out = _stdout(capsys, ["--dir", str(path), "--all"])
    assert out == render_show(open_model(path), all=True)


def test_a_training_meta_lists_the_plumbing_it_left_out(models, capsys):
    meta = models.path("tf1_training_meta") / "model.ckpt-3.meta"
    out = _stdout(capsys, ["--dir", str(meta)])
    fetches = out.split("fetches, likeliest first:")[1].split("output node names")[0]
    assert LOSS in fetches and "gradients" not in fetches and "Adam" not in fetches
    assert "    summary (1): Merge/MergeSummary" in out
    assert "save/restore plumbing (" in out


def test_json_carries_the_feeds_and_fetches(models, capsys):
    path = models.path("frozen_training_graph") / "frozen.pb"
    summary = json.loads(_stdout(capsys, ["--dir", str(path), "--json"]))
    found = summary["meta_graphs"][0]["graph_io"]
    assert {f["name"] for f in found["fetches"]} == set(MODEL_OUTPUTS)
    assert [f["tensor"] for f in found["feeds"]] == ["features:0", "dropout_keep:0"]
    assert set(found["output_nodes"]) == {n.partition(":")[0] for n in MODEL_OUTPUTS}
    with_signatures = json.loads(
        _stdout(capsys, ["--dir", str(models.path("keras_export")), "--json"])
    )
    assert with_signatures["meta_graphs"][0]["graph_io"] is None
