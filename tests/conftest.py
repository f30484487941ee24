from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.fixtures import registry


class FixtureModels:
    """Builds fixture models on first use and keeps them for the whole session."""

    def __init__(self, root: Path):
        self.root = root
        self.builders = registry()
        self._built: dict[str, Path] = {}

    def names(self) -> list[str]:
        return sorted(self.builders)

    def path(self, name: str) -> Path:
        if name not in self._built:
            build, _ = self.builders[name]
            dest = self.root / name
            shutil.rmtree(dest, ignore_errors=True)  # left by a build that failed
            dest.mkdir(parents=True)
            build(dest)
            self._built[name] = dest
        return self._built[name]


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> FixtureModels:
    return FixtureModels(tmp_path_factory.mktemp("models"))
