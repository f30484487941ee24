"""How fast damaged and non-model files are refused: the command line against
``saved_model_cli show`` on the same files, and the readers in process.

Each case of tests/core/formats/test_errors.py (a damaged copy of a Keras export, or a path
that is no model) is run as ``smlens show`` / ``smlens tensor`` in a fresh process (median
of 3) and as ``saved_model_cli show`` once; each damaged index and table of
test_bundle.py / test_sstable.py is read in process (median of 20).
Targets: every command answers in under 2 s; every reader refuses in under 0.5 s.

Run: python benchmarks/bench_errors.py
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _models import fixture

from smlens.core.errors import SmlensError
from smlens.core.formats.bundle import TensorBundle
from smlens.core.formats.sstable import read_table
from tests.core.formats.test_bundle import BAD_INDEXES
from tests.core.formats.test_errors import FATAL, NOT_A_MODEL, VALUES_ONLY, _not_a_model
from tests.core.formats.test_sstable import MALFORMED_TABLES
from tests.fixtures.checkpoints import prefix_of

COMMAND_TARGET, READER_TARGET = 2.0, 0.5


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, timeout=120)
    return time.perf_counter() - start


def _median(argv: list[str], runs: int = 3) -> float:
    return statistics.median(_seconds(argv) for _ in range(runs))


def _saved_model_cli(folder: Path) -> float:
    cli = shutil.which("saved_model_cli")
    prefix = [cli] if cli else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    return _seconds([*prefix, "show", "--dir", str(folder), "--all"])


def commands(root: Path) -> list[float]:
    smlens = [sys.executable, "-m", "smlens.cli.main"]
    keras = fixture("keras_export")
    key = "variables/0/.ATTRIBUTES/VARIABLE_VALUE"
    print(f"{'case':34} {'smlens':>9} {'saved_model_cli':>16} {'ratio':>7}")
    cases = [(case, damage, ["show", "--all"]) for case, damage, _ in FATAL]
    cases += [(case, damage, ["tensor", key]) for case, damage, _ in VALUES_ONLY]
    found = []
    for case, damage, argv in cases:
        folder = root / case.replace(" ", "_")
        shutil.copytree(keras, folder)
        damage(folder)
        ours = _median([*smlens, argv[0], "--dir", str(folder), *argv[1:]])
        theirs = _saved_model_cli(folder)
        found.append(ours)
        label = f"{case} ({argv[0]})"
        print(f"{label:34} {ours:8.2f}s {theirs:15.2f}s {ours / theirs:7.2f}")
    for case in NOT_A_MODEL:
        home = root / case.replace(" ", "_")
        home.mkdir()
        target = _not_a_model(case, home)
        ours = _median([*smlens, "show", "--dir", str(target)])
        found.append(ours)
        print(f"{case + ' (show)':34} {ours:8.2f}s")
    return found


def _reader_seconds(read, path: Path, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with contextlib.suppress(SmlensError):
            read(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def readers(root: Path) -> list[float]:
    found = []
    source = fixture("ckpt_dtypes")
    for label, damage, _ in BAD_INDEXES:
        folder = root / f"index_{label}"
        shutil.copytree(source, folder)
        prefix = prefix_of(folder)
        index = Path(str(prefix) + ".index")
        index.write_bytes(damage(index.read_bytes()))
        seconds = _reader_seconds(lambda path: TensorBundle(path.with_suffix("")), index)
        found.append(seconds)
        print(f"TensorBundle, {label + ' index':22} {seconds * 1000:8.2f} ms")
    for label, make, _ in MALFORMED_TABLES:
        path = root / f"table_{label}.index"
        make(path)
        seconds = _reader_seconds(read_table, path)
        found.append(seconds)
        print(f"read_table, {label + ' table':24} {seconds * 1000:8.2f} ms")
    return found


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="smlens-bench-errors-") as tmp:
        root = Path(tmp)
        slowest_command = max(commands(root))
        slowest_reader = max(readers(root))
    met = "met" if slowest_command < COMMAND_TARGET else "MISSED"
    print(f"slowest command {slowest_command:.2f} s (target < {COMMAND_TARGET} s): {met}")
    met = "met" if slowest_reader < READER_TARGET else "MISSED"
    print(f"slowest reader {slowest_reader * 1000:.1f} ms (target < {READER_TARGET} s): {met}")


if __name__ == "__main__":
    main()
