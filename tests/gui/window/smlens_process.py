"""Running ``smlens`` as a user would, in a child process: offscreen, with a settings folder
of the test's own, so the window never touches the user's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_smlens(
    args: list[str], tmp_path: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
