"""The diff's new-op findings name the releases that lack the op and what each side
needs ("B needs X, A needed Y"); the releases of both sides travel with the diff."""

from __future__ import annotations

import pytest

from smlens.core.diff.model_diff import diff_models
from smlens.core.formats.reader import open_model
from tests.core.analysis.release_exports import (
    SHUFFLE_OP,
    SHUFFLE_SINCE,
    export_identity,
    export_stateless_shuffle,
)


@pytest.fixture(scope="module")
def shuffle_pair(tf, tmp_path_factory):
    """A: the signature passes its input on; B: it shuffles it (an op new in 2.10)."""
    root = tmp_path_factory.mktemp("new_op_pair")
    return export_identity(tf, root / "a"), export_stateless_shuffle(tf, root / "b")


def test_a_newly_used_op_says_which_releases_lack_it(shuffle_pair):
    diff = diff_models(*map(open_model, shuffle_pair), values=False)

    added = {c.path[1]: c for c in diff.groups["ops"] if c.kind == "added"}
    reason = added[SHUFFLE_OP].reason
    assert added[SHUFFLE_OP].severity == "risky"
    assert f"TensorFlow releases before {SHUFFLE_SINCE} lack it" in reason
    assert f"B needs TensorFlow >= {SHUFFLE_SINCE}, A needed 2.4 or older" in reason


def test_the_diff_carries_the_release_each_side_needs(shuffle_pair):
    diff = diff_models(*map(open_model, shuffle_pair), values=False)

    releases = {(r.side, r.tag_set): r.release for r in diff.releases}
    assert releases == {("a", "serve"): "2.4", ("b", "serve"): SHUFFLE_SINCE}
    assert diff.to_json()["releases"][1]["text"].startswith(
        f"needs TensorFlow >= {SHUFFLE_SINCE} (op {SHUFFLE_OP} since {SHUFFLE_SINCE})"
    )
