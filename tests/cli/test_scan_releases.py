"""``smlens scan``'s release line and ``--target-tf``: what a release lacks, as exit codes."""

from __future__ import annotations

import pytest

from smlens.cli.main import main
from tests.core.analysis.release_exports import (
    SHUFFLE_OP,
    SHUFFLE_SINCE,
    export_stateless_shuffle,
)


@pytest.fixture(scope="module")
def shuffle_export(tf, tmp_path_factory):
    return export_stateless_shuffle(tf, tmp_path_factory.mktemp("releases") / "shuffle")


def _scan(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["scan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_prints_the_release_each_meta_graph_needs(shuffle_export, capsys):
    code, out, _ = _scan(capsys, "--dir", str(shuffle_export))

    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("Tag set ['serve']")]
    assert f"needs TensorFlow >= {SHUFFLE_SINCE} (op {SHUFFLE_OP} since {SHUFFLE_SINCE})" in line
    assert "GraphDef producer" in line
    assert out.count("MetaGraph with tag set") == 1  # saved_model_cli's line is untouched


def test_an_older_target_lacks_the_op_and_exits_1(shuffle_export, capsys):
    code, out, _ = _scan(capsys, "--dir", str(shuffle_export), "--target-tf", "2.9")

    assert code == 1
    assert "TensorFlow 2.9 lacks, of tag set ['serve']:" in out
    (lack,) = [line for line in out.splitlines() if line.startswith("  op ")]
    assert lack.startswith(f"  op {SHUFFLE_OP} since {SHUFFLE_SINCE}: 1 node, first ")


@pytest.mark.parametrize("target", [SHUFFLE_SINCE, "2.21", "2.21.0"])
def test_a_target_that_has_everything_exits_0(shuffle_export, capsys, target):
    code, out, _ = _scan(capsys, "--dir", str(shuffle_export), "--target-tf", target)

    assert code == 0
    assert "lacks nothing tag set ['serve'] uses" in out


def test_a_custom_op_is_lacking_even_in_the_newest_release(models, capsys):
    path = str(models.path("custom_op_library"))

    code, out, _ = _scan(capsys, "--dir", path, "--target-tf", "2.21")

    assert code == 1
    assert "  op SmlensPlusOne: no TensorFlow release defines it" in out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("2.3", "the release table holds TensorFlow 2.4 to 2.21, not 2.3"),
        ("3.0", "the release table holds TensorFlow 2.4 to 2.21, not 3.0"),
        ("latest", "'latest' is not a TensorFlow release like 2.12"),
    ],
)
def test_a_target_the_table_cannot_answer_is_one_error_line(
    shuffle_export, capsys, target, message
):
    code, out, err = _scan(capsys, "--dir", str(shuffle_export), "--target-tf", target)

    assert code == 2
    assert out == ""
    assert err == f"smlens: error: --target-tf: {message}\n"
