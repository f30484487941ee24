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


@pytest.fixture(scope="session")
def tf():
    """TensorFlow itself, the oracle the readers are checked against."""
    import tensorflow

    return tensorflow


# Fixtures that need TensorFlow: exported models, the module itself, a running worker.
TF_FIXTURES = {"models", "tf", "engine"}


def _needs_tensorflow(item: pytest.Item) -> bool:
    """A test needs TensorFlow when it asks for a TF_FIXTURES fixture (directly or through
    another fixture), or when its module or function carries the ``tf`` mark."""
    return bool(TF_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        item.get_closest_marker("tf")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _needs_tensorflow(item):
            item.add_marker(pytest.mark.tf)
