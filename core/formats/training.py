"""Training folders (an Estimator's model_dir, a CheckpointManager's directory): the
checkpoints kept there with their steps, and the SavedModels exported below.

Such a folder opens as its newest checkpoint; this lists what else is in it, so a trainer
can open another step, compare two, or open an export.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import text_format

from smlens.core.formats import proto
from smlens.core.formats.bundle import CheckpointPrefix

_STEP = re.compile(r"-(\d+)$")
EXPORT_DEPTH = 4  # export/<name>/<timestamp>/saved_model.pb is three below
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


@dataclass(frozen=True)
class CheckpointStep:
    prefix: Path  # model.ckpt-1000
    step: int | None  # from the name's -N suffix; None when it has none
    has_meta: bool = False  # a MetaGraph (.meta) beside it: its graph opens too

    @property
    def label(self) -> str:
        return f"step {self.step:,}" if self.step is not None else self.prefix.name


@dataclass
class TrainingFolder:
    folder: Path
    checkpoints: list[CheckpointStep] = field(default_factory=list)  # by step, oldest first
    exports: list[Path] = field(default_factory=list)  # SavedModel folders below, newest first
    events: list[Path] = field(default_factory=list)  # TensorBoard events files
    graphs: list[Path] = field(default_factory=list)  # graph.pbtxt written beside

    @property
    def newest(self) -> CheckpointStep | None:
        return self.checkpoints[-1] if self.checkpoints else None

    def step_of(self, prefix: Path) -> CheckpointStep | None:
        return next((c for c in self.checkpoints if c.prefix == prefix), None)


def step_of(prefix: str | Path) -> int | None:
    """1000 for ``model.ckpt-1000``; None for a prefix without a step."""
    match = _STEP.search(Path(prefix).name)
    return int(match[1]) if match else None


def _state_prefixes(folder: Path) -> list[CheckpointPrefix]:
    """The prefixes the ``checkpoint`` state file lists, as files of ``folder``."""
    state = folder / "checkpoint"
    if not state.is_file():
        return []
    msg = proto.CheckpointState()
    try:
        text_format.Parse(state.read_text(encoding="utf-8"), msg)
    except (text_format.ParseError, UnicodeDecodeError):
        return []
    names = [*msg.all_model_checkpoint_paths, msg.model_checkpoint_path]
    # A state file often names the folder where training ran: the steps are this folder's.
    named = [CheckpointPrefix.of(os.path.join(folder, name)) for name in filter(None, names)]
    return [CheckpointPrefix(folder, p.name) for p in named]


def _exports(folder: Path) -> list[Path]:
    """SavedModel folders up to EXPORT_DEPTH below ``folder``, the newest first."""
    found: set[Path] = set()
    for depth in range(1, EXPORT_DEPTH + 1):
        for name in SAVED_MODEL_FILES:
            found |= {pb.parent for pb in folder.glob("/".join(["*"] * depth + [name]))}
    return sorted(found, key=lambda p: (p.stat().st_mtime, str(p)), reverse=True)


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False also for a name the file system refuses (a state
    file can name a prefix longer than NAME_MAX), where ``Path.is_file`` raises."""
    try:
        return path.is_file()
    except OSError:
        return False


def find_training_folder(path: str | Path) -> TrainingFolder | None:
    """What training left in ``path`` (a folder, or a checkpoint prefix inside one): None
    unless it holds several checkpoints, or a checkpoint and a SavedModel below it."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if (folder / "saved_model.pb").is_file() or (folder / "saved_model.pbtxt").is_file():
        return None  # a SavedModel's own variables/ are not a training run
    prefixes = {p for p in _state_prefixes(folder) if _is_file(p.index)}
    prefixes |= {CheckpointPrefix.of_file(index, ".index") for index in folder.glob("*.index")}
    steps = [
        CheckpointStep(p.path, step_of(p.name) if p.name else None, p.file(".meta").is_file())
        for p in prefixes
    ]
    steps.sort(key=lambda c: (c.step is None, c.step or 0, c.prefix.name))
    exports = _exports(folder)
    if len(steps) < 2 and not (steps and exports):
        return None
    return TrainingFolder(
        folder,
        steps,
        exports,
        sorted(folder.glob("events.out.tfevents.*")),
        sorted(p for p in folder.glob("graph.pbtxt") if p.is_file()),
    )
