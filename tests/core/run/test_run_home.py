"""The worker writes nothing into the user's folders: Keras's keras.json, autograph's
generated files and TensorFlow's caches go into a private home that is removed with the
worker. Checked by running a real model with a fresh HOME and TMPDIR and walking both."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from smlens.core import open_model
from smlens.core.run.client import RunEngine
from smlens.core.run.request import RunRequest

USER_KERAS_JSON = b'{"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow"}\n'


def tree(root: Path) -> dict[str, str]:
    """Every folder and file below ``root``: its path, and for a file its bytes' digest."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = "folder"
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return found


@pytest.mark.parametrize("home_holds", ["nothing", "a keras.json"])
def test_a_run_leaves_a_fresh_home_and_temp_folder_as_they_were(
    models, tmp_path, monkeypatch, home_holds
):
    path = models.path("keras_export")  # built before HOME moves: the build is not ours
    request = RunRequest.of(
        open_model(path), "serve", "serve", {"features": np.ones((1, 10), np.float32)}
    )
    home = tmp_path / "home"
    home.mkdir()
    if home_holds == "a keras.json":
        (home / ".keras").mkdir()
        (home / ".keras" / "keras.json").write_bytes(USER_KERAS_JSON)
    temp = tmp_path / "tmp"
    temp.mkdir()
    for name in ("KERAS_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    home_before, temp_before = tree(home), tree(temp)

    with RunEngine() as engine:
        result = engine.run(request)
        engine.restart()  # a killed worker leaves nothing either
        assert engine.running

    assert result.outputs["output_0"].shape == (1, 1)
    assert tree(home) == home_before
    assert tree(temp) == temp_before == {}
    if home_holds == "nothing":
        assert home_before == {}
    else:
        assert (home / ".keras" / "keras.json").read_bytes() == USER_KERAS_JSON
