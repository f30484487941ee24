"""The run worker as a child process: its pipes, a reader thread per pipe, and the tail of
what it wrote to stderr (what a crash report quotes).

The client speaks through ``send`` and ``receive``; everything else here is the process's
life: started in its own session (the terminal's Ctrl-C is the client's), in a private
home, asked to quit, killed, and waited for.

The private home: Keras writes ``~/.keras/keras.json`` on import and TensorFlow's autograph
leaves ``__autograph_generated_file*.py`` in the temp folder when the worker is killed, so
the worker gets its own HOME, KERAS_HOME, XDG folders and TMPDIR, in one temp folder that
is removed once the process has ended. Nothing it writes reaches the user's folders.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import site
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from smlens.core.run.protocol import decode, encode

STDERR_TAIL = 30  # lines kept for a crash report
POLL_SECONDS = 0.05  # how often a wait for the worker asks whether to stop


def _user_keras_config() -> Path:
    """Where Keras reads the user's keras.json: $KERAS_HOME, else ~/.keras (Keras's own
    rule, keras/src/backend/config.py)."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "keras.json"


def private_home_env(home: Path) -> dict[str, str]:
    """The worker's environment: the user's, with every folder TensorFlow or Keras writes
    to moved into ``home``. The user's keras.json is copied in (Keras then reads the same
    settings and writes none); pip's --user packages stay importable (PYTHONUSERBASE
    follows HOME otherwise)."""
    keras_home = home / ".keras"
    keras_home.mkdir()
    user_config = _user_keras_config()
    if user_config.is_file():
        with contextlib.suppress(OSError):
            shutil.copyfile(user_config, keras_home / "keras.json")
    tmp = home / "tmp"
    tmp.mkdir()
    return {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        "PYTHONUSERBASE": os.environ.get("PYTHONUSERBASE") or site.getuserbase(),
        "HOME": str(home),
        "KERAS_HOME": str(keras_home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TMPDIR": str(tmp),
    }


class WorkerProcess:
    """One worker: started at construction, ended by ``quit``, ``kill`` or its own death."""

    def __init__(self, command: tuple[str, ...], log: Callable[[str], None] | None):
        self.home = Path(tempfile.mkdtemp(prefix="smlens-worker-home-"))
        try:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=private_home_env(self.home),
                start_new_session=os.name == "posix",
            )
        except BaseException:
            self._remove_home()
            raise
        self.replies: queue.Queue[dict | None] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self.killed = False
        self.log = log  # called with each line of stderr, on the reader thread
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for t in self._readers:
            t.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            try:
                self.replies.put(decode(line))
            except ValueError:  # not a protocol line: keep it with the logs
                self._note(line.decode(errors="replace").rstrip())
        self.replies.put(None)

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self._note(line.decode(errors="replace").rstrip())

    def _note(self, text: str) -> None:
        self.stderr_tail.append(text)
        if self.log:
            self.log(text)

    def send(self, message: dict) -> bool:
        try:
            self.proc.stdin.write(encode(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def receive(self, poll: Callable[[], None]) -> dict | None:
        """The next message, or None when the worker has gone; ``poll`` may raise to stop."""
        while True:
            try:
                return self.replies.get(timeout=POLL_SECONDS)
            except queue.Empty:
                poll()

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(OSError):
            self.proc.kill()

    def quit(self, grace: float = 2.0) -> None:
        """Ask the worker to quit; kill it if it has not after ``grace`` seconds."""
        self.send({"op": "quit"})
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
        self._remove_home()

    def discard(self) -> None:
        """Kill the worker and wait (a little) until it is gone, then remove its home."""
        self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        if not self.alive:
            self._remove_home()

    def _remove_home(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def exit_status(self) -> tuple[int | None, list[str]]:
        """Wait for the process to end; its return code and the tail of its stderr."""
        try:
            code = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        self._readers[1].join(1.0)
        return code, list(self.stderr_tail)
