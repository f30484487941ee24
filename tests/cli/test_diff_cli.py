"""``smlens diff``: exit codes per ``--fail-on`` level (as a real command), the JSON, the text
summary, colour and progress."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smlens.cli import diff as diff_cli
from smlens.cli.main import main
from smlens.core.formats import proto

LEVELS = ("breaking", "risky", "any", "never")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", "diff", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _text_and_all(root, capsys) -> tuple[str, str]:
    """What ``smlens diff`` prints for the pair in ``root``, without and with ``--all``."""
    texts = []
    for extra in ([], ["--all"]):
        main(["diff", str(root / "a"), str(root / "b"), "--color", "never", *extra])
        texts.append(capsys.readouterr().out)
    return texts[0], texts[1]


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("pair_widened_input", {"breaking": 1, "risky": 1, "any": 1, "never": 0}),
        ("pair_read_file", {"breaking": 0, "risky": 1, "any": 1, "never": 0}),
        ("pair_retrained", {"breaking": 0, "risky": 0, "any": 1, "never": 0}),
    ],
    ids=["worst breaking", "worst risky", "worst info"],
)
def test_fail_on_sets_the_exit_code(models, pair, expected):
    root = models.path(pair)
    codes = {level: _run(root / "a", root / "b", "--fail-on", level).returncode for level in LEVELS}

    assert codes == expected
    assert _run(root / "a", root / "b").returncode == expected["breaking"]  # the default


def test_a_model_against_itself_passes_even_with_fail_on_any(models):
    path = models.path("pair_retrained") / "a"

    result = _run(path, path, "--fail-on", "any")

    assert result.returncode == 0, result.stderr
    assert "No differences" in result.stdout.splitlines()[3]


def test_bad_input_exits_2(models, tmp_path):
    result = _run(models.path("pair_retrained") / "a", tmp_path / "missing")

    assert result.returncode == 2
    assert result.stderr.startswith("smlens: error:")
    assert "missing" in result.stderr
    assert _run("a", "b", "--fail-on", "sometimes").returncode == 2  # a usage error


def test_json_holds_the_whole_diff_model(models, capsys):
    root = models.path("pair_signatures")

    code = main(["diff", str(root / "a"), str(root / "b"), "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["worst_severity"] == "breaking"
    assert data["counts"]["breaking"] == 1
    (signatures,) = data["groups"]["signatures"]
    leaves = {tuple(c["path"][2:]): c for c in _leaves(signatures)}
    removed = leaves[("serving_default", "outputs", "scores")]
    assert (removed["kind"], removed["severity"]) == ("removed", "breaking")
    assert leaves[("embed",)]["kind"] == "added"
    assert {d["name"] for d in data["value_deltas"]} == {"w"}


def _leaves(change: dict):
    if not change["children"]:
        yield change
    for child in change["children"]:
        yield from _leaves(child)


def test_summary_puts_breaking_changes_first_with_reasons(models, capsys):
    root = models.path("pair_widened_input")

    main(["diff", str(root / "a"), str(root / "b"), "--color", "never"])

    out = capsys.readouterr().out
    assert "BREAKING" in out.splitlines()[3]
    areas = out.index("  signatures  2 breaking")
    breaking = out.index("Breaking changes (2)")
    assert areas < breaking < out.index("Risky changes (1)") < out.index("\ngraph\n")
    assert "input 'features' of serving_default: dim 1 changed from 10 to 12" in out
    assert "\033[" not in out


def test_summary_of_a_retrained_model_lists_value_deltas(models, capsys):
    root = models.path("pair_retrained")

    code = main(["diff", str(root / "a"), str(root / "b"), "--color", "always"])

    out = capsys.readouterr().out
    assert code == 0
    assert "\033[32mCompatible" in out
    assert "4 variables in both: 0 identical (0 by checksum, unread), 4 with new values" in out
    assert "~ mlp/hidden0/kernel: variable 'mlp/hidden0/kernel': values changed: max |Δ|" in out


def test_no_values_reads_no_tensor(models, capsys):
    root = models.path("pair_retrained")

    main(["diff", str(root / "a"), str(root / "b"), "--json", "--no-values"])

    data = json.loads(capsys.readouterr().out)
    assert data["values_compared"] is False
    assert not any(d["read"] for d in data["value_deltas"])
    assert len(data["groups"]["variables"]) == 4  # checksums still tell they differ


def test_progress_goes_to_stderr_on_request(models, capsys):
    root = models.path("pair_retrained")

    main(["diff", str(root / "a"), str(root / "b"), "--json", "--progress"])

    captured = capsys.readouterr()
    assert "100% done" in captured.err
    assert captured.err.splitlines()[0].startswith("  0% ")
    json.loads(captured.out)  # stdout stays clean


def test_auto_colour_needs_a_terminal_and_no_NO_COLOR(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", _Terminal())
    assert diff_cli._use_color("auto")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not diff_cli._use_color("auto")
    assert diff_cli._use_color("always")
    monkeypatch.setattr(sys, "stdout", _Terminal(tty=False))
    monkeypatch.delenv("NO_COLOR")
    assert not diff_cli._use_color("auto")


class _Terminal:
    def __init__(self, tty: bool = True):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_a_reexport_says_no_semantic_change_and_passes_fail_on_any(models):
    root = models.path("pair_keras_reexport")

    result = _run(root / "a", root / "b", "--fail-on", "any")

    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[3] == "No semantic change: only fingerprints and file bytes differ"
    assert "  functions   no change" in lines
    assert any(line.startswith("  annotations (no client") for line in lines)


def _unnumbered(name: str) -> str:
    """A node or function name without the numbers TensorFlow appends to make names unique
    (``functional_7_1/dense_1_1/MatMul`` -> ``functional/dense/MatMul``)."""
    return "/".join(re.sub(r"(_\d+)+$", "", part) for part in name.split("/"))


def _tf_functions(folder: Path) -> dict[str, list]:
    """TensorFlow's own parse of the export: each function's NodeDefs, and the main graph's
    under "", keyed by unnumbered names."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    graph = saved.meta_graphs[0].graph_def
    found = {_unnumbered(f.signature.name): list(f.node_def) for f in graph.library.function}
    return found | {"": list(graph.node)}


def test_text_opens_with_the_summary_and_hides_annotations_without_all(models, capsys):
    root = models.path("pair_widened_input")

    out, everything = _text_and_all(root, capsys)

    lines = out.splitlines()
    areas = [line.split()[0] for line in lines[6:13]]
    assert areas == ["metadata", "signatures", "ops", "functions", "graph", "variables", "assets"]
    # Counted on one line, not listed: as many as --all lists, one by one. (TensorFlow's own
    # parse cannot say the number by itself: it pairs functions only by their generated
    # names, which differ with the order the session exported the pair in.)
    listed = everything.count("[annotation: attr _output_shapes]")
    assert listed >= 1 and f"{listed} attr _output_shapes" in out
    assert "[annotation:" not in out
    assert lines[-1].endswith("more with --all (or --json)")
    assert "[annotation: attr _output_shapes]" in everything
    assert "more with --all" not in everything


def test_json_marks_annotations(models, capsys):
    root = models.path("pair_widened_input")

    main(["diff", str(root / "a"), str(root / "b"), "--json"])

    data = json.loads(capsys.readouterr().out)
    leaves = [c for group in data["groups"].values() for g in group for c in _leaves(g)]
    notes = [c for c in leaves if c["annotation"]]
    assert notes and all(c["severity"] == "info" and c["annotation_kind"] for c in notes)
    assert all(c["annotation_kind"] is None for c in leaves if not c["annotation"])
    assert sum(data["annotation_counts"].values()) == len(notes)
    assert data["counts"]["info"] == sum(
        1 for c in leaves if not c["annotation"] and c["severity"] == "info"
    )


def test_a_call_to_a_missing_function_exits_1_with_a_warning_not_a_traceback(models, tf, tmp_path):
    root = models.path("pair_exported_twice")
    pb = tmp_path / "b" / "saved_model.pb"
    shutil.copytree(root / "b", tmp_path / "b")
    saved = proto.SavedModel.FromString(pb.read_bytes())
    library = saved.meta_graphs[0].graph_def.library
    called = next(f for f in library.function if f.signature.name.startswith("__inference___call_"))
    library.function.remove(called)  # the model's body, which the signatures' wrappers call
    pb.write_bytes(saved.SerializeToString())

    result = _run(root / "a", tmp_path / "b")

    assert "Traceback" not in result.stderr + result.stdout
    with pytest.raises(Exception):  # noqa: B017 - what TensorFlow raises varies by release
        tf.saved_model.load(str(tmp_path / "b"))
    assert result.returncode == 1  # B no longer loads: that breaks every client
    assert "which the library does not define" in result.stdout


def test_functions_are_one_line_each_unless_all(models, capsys):
    root = models.path("pair_keras_renamed_layer")

    out, everything = _text_and_all(root, capsys)

    section = out.split("\nfunctions\n")[1].split("\n\n")[0].splitlines()
    call = next(line for line in section if "/__inference___call__:" in line)
    added = [
        n for n in _tf_functions(root / "b")["__inference___call__"] if "dense_extra" in n.name
    ]
    assert not [
        n for n in _tf_functions(root / "a")["__inference___call__"] if "dense_extra" in n.name
    ]
    assert f"{len(added)} nodes added" in call and "now captures dense_extra/bias" in call
    assert not any("dense_extra_1/MatMul" in line for line in section)
    assert "dense_extra_1/MatMul" in everything
    assert "> probs/kernel" in out  # the rename, with its evidence
