"""The run worker as a child process: its pipes, a reader thread per pipe, and the tail of
what it wrote to stderr (what a crash report quotes).

The client speaks through ``send`` and ``receive``; everything else here is the process's
life: started in its own session (the terminal's Ctrl-C is the client's), asked to quit,
killed, and waited for.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import threading
from collections import deque
from collections.abc import Callable

from smlens.core.run.protocol import decode, encode

STDERR_TAIL = 30  # lines kept for a crash report
POLL_SECONDS = 0.05  # how often a wait for the worker asks whether to stop


class WorkerProcess:
    """One worker: started at construction, ended by ``quit``, ``kill`` or its own death."""

    def __init__(self, command: tuple[str, ...], log: Callable[[str], None] | None):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=os.name == "posix",
        )
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

    def discard(self) -> None:
        """Kill the worker and wait (a little) until it is gone."""
        self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)

    def exit_status(self) -> tuple[int | None, list[str]]:
        """Wait for the process to end; its return code and the tail of its stderr."""
        try:
            code = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        self._readers[1].join(1.0)
        return code, list(self.stderr_tail)
