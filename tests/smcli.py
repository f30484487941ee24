"""Run TensorFlow's ``saved_model_cli show`` in this process, or as the real command.

In-process saves the ~4 s TensorFlow import per call. saved_model_cli.py defines its absl
flags when imported; ``show()`` reads them from absl's global FLAGS, so each call resets
them and parses a fresh argv before capturing what ``show()`` prints.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys


def _show_args(argv: list[str]) -> list[str]:
    return argv[1:] if argv[:1] == ["show"] else list(argv)


def saved_model_cli_show(argv: list[str]) -> str:
    """stdout of ``saved_model_cli show <argv>`` (``argv`` may start with "show")."""
    from absl import flags
    from tensorflow.python.tools import saved_model_cli

    flags.FLAGS.unparse_flags()
    flags.FLAGS(["saved_model_cli", *_show_args(argv)])
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            saved_model_cli.show()
    finally:
        flags.FLAGS.unparse_flags()
    return buffer.getvalue()


def saved_model_cli_subprocess(argv: list[str]) -> str:
    """stdout of the real ``saved_model_cli show <argv>`` command."""
    command = shutil.which("saved_model_cli")
    prefix = (
        [command] if command else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [*prefix, "show", *_show_args(argv)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout
