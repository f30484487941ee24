"""Run a signature in the run worker, a child process that keeps TensorFlow warm.

``RunEngine`` starts the worker on first use and keeps it for later runs. A crash in
TensorFlow (segfault, OOM kill) ends the call with ``WorkerCrashed`` and the next call
starts a fresh worker; ``stop()`` interrupts a running call by killing the worker, the only
way to interrupt TensorFlow. Inputs are checked against the signature here, before the
worker is started or asked anything. No TensorFlow import on this side.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smlens.core.analysis.ops import missing_op_text
from smlens.core.analysis.scan import require_safe
from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.run.inputs import check_inputs
from smlens.core.run.protocol import decode, encode, read_array, write_array
from smlens.core.tasks import CancelCheck, Cancelled, Progress, no_progress

WORKER_COMMAND = (sys.executable, "-m", "smlens.core.run.worker")
_STDERR_TAIL = 30
_POLL_SECONDS = 0.05


class RunError(SmlensError):
    """The worker refused or failed a request; ``stage`` is device, load, run, tensorflow..."""

    def __init__(self, path: str, message: str, stage: str = ""):
        super().__init__(path, message)
        self.stage = stage


class WorkerCrashed(SmlensError):
    """The worker died during a call: its exit status and the last lines of its stderr."""

    def __init__(self, path: str, doing: str, returncode: int | None, stderr_tail: list[str]):
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        tail = "\n".join("  " + line for line in stderr_tail[-12:])
        said = f"; the last lines of its stderr:\n{tail}" if tail else "; it printed nothing"
        super().__init__(path, f"the run worker died {doing} ({_exit_text(returncode)}){said}")


class RunCancelled(SmlensError, Cancelled):
    """The call was stopped (stop(), kill() or the cancelled hook); the worker was killed."""


class RunTimedOut(RunCancelled):
    """The call took longer than its timeout; the worker was killed."""


def _exit_text(returncode: int | None) -> str:
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-returncode}, {name}"
    return f"exit status {returncode}"


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "/physical_device:GPU:0"
    device_type: str  # "CPU" | "GPU" | ...
    spec: str  # what run(device=...) takes: "cpu:0", "gpu:0"
    details: dict = field(default_factory=dict)  # tf.config.experimental.get_device_details
    memory: dict = field(default_factory=dict)  # GPU: current/peak bytes; CPU: host_total


@dataclass(frozen=True)
class RunResult:
    outputs: dict[str, np.ndarray]
    output_devices: dict[str, str]  # key -> "/job:localhost/replica:0/task:0/device:CPU:0"
    load_seconds: float  # 0.0 when the worker had the model loaded already
    first_call_seconds: float
    warm_seconds: list[float]  # the calls after the first, with repeat > 1
    device: str = "cpu:0"  # as asked
    kind: str = ""  # "tf2" (tf.saved_model.load) | "tf1" (Session + loader.load)
    cached: bool = False  # the model was already loaded in the worker
    start_seconds: float = 0.0  # starting the worker (TensorFlow import), when this call did
    output: str = ""  # what the worker printed during the call (tf.print, TF's warnings)

    @property
    def warm_min(self) -> float | None:
        return min(self.warm_seconds) if self.warm_seconds else None

    @property
    def warm_median(self) -> float | None:
        return statistics.median(self.warm_seconds) if self.warm_seconds else None

    @property
    def warm_p90(self) -> float | None:
        """The nearest-rank 90th percentile."""
        if not self.warm_seconds:
            return None
        ordered = sorted(self.warm_seconds)
        return ordered[math.ceil(0.9 * len(ordered)) - 1]


_DEVICE = re.compile(r"(cpu|gpu)(?::(\d+))?", re.IGNORECASE)


def parse_device(text: str) -> str:
    """ "cpu", "GPU", "gpu:1" or "/device:GPU:1" -> "cpu:0", "gpu:0", "gpu:1"."""
    match = _DEVICE.fullmatch(text.strip().removeprefix("/device:"))
    if not match:
        raise SmlensError("--device", f"{text!r} is not a device: use cpu, gpu or gpu:N")
    return f"{match[1].lower()}:{match[2] or 0}"


def find_signature(model: Model, tag_set: str | list[str], key: str) -> tuple[MetaGraph, Signature]:
    mg = model.meta_graph(tag_set)
    if key not in mg.signatures:
        have = ", ".join(mg.signatures) or "none"
        raise SmlensError(
            model.path, f"no signature {key!r} in tag set {mg.tag_set!r}; it has: {have}"
        )
    return mg, mg.signatures[key]


def _model_stamp(path: Path) -> tuple[int, ...]:
    """Changes when the model is re-exported: saved_model.pb's and variables.index's stats."""
    stamp: list[int] = []
    for name in ("saved_model.pb", "saved_model.pbtxt", "variables/variables.index"):
        with contextlib.suppress(OSError):
            st = (path / name).stat()
            stamp += [st.st_mtime_ns, st.st_size]
    return tuple(stamp)


class _WorkerProcess:
    """One worker: its pipes, a thread per pipe, and the tail of what it wrote to stderr."""

    def __init__(self, command: tuple[str, ...], log: Callable[[str], None] | None):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=os.name == "posix",  # the terminal's Ctrl-C is the client's
        )
        self.replies: queue.Queue[dict | None] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL)
        self.killed = False
        self.log = log
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for t in self._readers:
            t.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

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
                return self.replies.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                poll()

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(OSError):
            self.proc.kill()

    def quit(self, grace: float = 2.0) -> None:
        self.send({"op": "quit"})
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()

    def exit_status(self) -> tuple[int | None, list[str]]:
        """Wait for the process to end; its return code and the tail of its stderr."""
        try:
            code = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        self._readers[1].join(1.0)
        return code, list(self.stderr_tail)


@dataclass
class _Resources:
    """What a RunEngine must release even if nobody calls close()."""

    worker: _WorkerProcess | None = None
    tmpdir: Path | None = None

    def release(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.quit()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def _fast_tmp_root() -> str | None:
    """/dev/shm where there is one: the array files then never touch a disk."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class RunEngine:
    """Runs signatures in a warm worker process; one call at a time (a lock serializes them).

    ``run``, ``load``, ``devices`` and ``restart`` take ``progress(fraction, text)`` and
    ``cancelled()`` keyword hooks, so a GUI can hand them to its TaskRunner as they are.
    ``stop()`` and ``kill()`` may be called from any thread while a call runs.
    """

    def __init__(
        self,
        worker_command: tuple[str, ...] = WORKER_COMMAND,
        log: Callable[[str], None] | None = None,
    ):
        self.worker_command = tuple(worker_command)
        self.log = log  # called with each line the worker writes to stderr, on a reader thread
        self.tf_version = ""
        self.built_with_cuda: bool | None = None  # known once devices() has asked the worker
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        self._models: dict[str, tuple[tuple[int, ...], Model]] = {}
        self._safe: set[tuple] = set()  # (path, stamp, tags) already scanned clean
        self._devices: list[DeviceInfo] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        worker = self._res.worker
        return worker is not None and worker.proc.poll() is None

    @property
    def pid(self) -> int | None:
        worker = self._res.worker
        return worker.pid if worker is not None else None

    def stop(self) -> None:
        """Interrupt the running call, if any: it raises RunCancelled and the worker is killed."""
        self._stop.set()

    def kill(self) -> None:
        """Kill the worker now, busy or idle; the next call starts a fresh one."""
        worker = self._res.worker
        if worker is not None:
            worker.kill()

    def restart(self, progress: Progress | None = None, cancelled: CancelCheck | None = None):
        """Kill the worker and start a fresh one, ready for the next call."""
        self.kill()
        with self._lock:
            self._drop_worker()
            self._stop.clear()
            self._ensure_worker(self._poller(None, cancelled), progress or no_progress, "")

    def close(self) -> None:
        """Stop any running call, ask the worker to quit (killing it after a grace period) and
        remove the temp dir. The engine may be used again: the next call starts a worker."""
        self.stop()
        with self._lock:
            self._res.release()

    def __enter__(self) -> RunEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- models ---------------------------------------------------------------------------

    def model(self, path: str | Path) -> Model:
        """The model at ``path``, read once and again only when its files change."""
        return self._stamped_model(path)[1]

    def _stamped_model(self, path: str | Path) -> tuple[tuple[int, ...], Model]:
        from smlens.core.formats.reader import open_model

        resolved = Path(path).resolve()
        stamp = _model_stamp(resolved)
        cached = self._models.get(str(resolved))
        if cached is None or cached[0] != stamp:
            model = open_model(resolved)
            if model.format != "saved_model":
                raise SmlensError(path, f"a {model.format} cannot be run; it needs a SavedModel")
            self._models[str(resolved)] = cached = (stamp, model)
        return cached

    # -- requests -------------------------------------------------------------------------

    def devices(
        self, progress: Progress | None = None, cancelled: CancelCheck | None = None
    ) -> list[DeviceInfo]:
        """The devices TensorFlow sees in the worker (asked once per engine)."""
        if self._devices is None:
            reply = self._call({"op": "devices"}, "listing devices", progress, cancelled, None)
            self._devices = [DeviceInfo(**d) for d in reply["devices"]]
            self.built_with_cuda = reply.get("built_with_cuda")
        return self._devices

    def run(
        self,
        path: str | Path,
        tag_set: str | list[str],
        signature_key: str,
        inputs: dict[str, Any],
        device: str = "cpu",
        repeat: int = 1,
        timeout: float | None = None,
        *,
        allow_risky_ops: bool = False,
        load: list[str] | tuple[str, ...] = (),
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> RunResult:
        """Run one signature ``repeat`` times on ``device`` and return the first outputs.

        Raises SmlensError before the worker is involved for a bad signature, input or
        device string, and RiskyOpsError for a meta graph with file or system ops unless
        ``allow_risky_ops``. ``timeout`` (seconds) covers the whole call, worker start and
        load included. ``load`` names Python packages or op libraries (.so) the worker loads
        before the model, for models with custom ops.
        """
        request, model = self._model_request("run", path, tag_set, device, allow_risky_ops)
        request["load"] = [str(name) for name in load]
        _, signature = find_signature(model, request["tags"], signature_key)
        arrays = check_inputs(signature, inputs)
        if repeat < 1:
            raise SmlensError("repeat", f"must be at least 1, not {repeat}")
        request |= {"signature": signature.key, "repeat": repeat}
        doing = f"while running {signature.key!r}"
        with self._lock:
            tmp = self._tmpdir()
            seq = next(self._ids)
            paths = [tmp / f"in-{seq}-{i}.npy" for i in range(len(arrays))]
            request["inputs"] = {
                k: write_array(p, a) for p, (k, a) in zip(paths, arrays.items(), strict=True)
            }
            request["outdir"] = str(tmp)
            try:
                reply = self._call(request, doing, progress, cancelled, timeout)
            finally:
                for p in paths:
                    p.unlink(missing_ok=True)
        return self._result(reply, request["device"])

    def load(
        self,
        path: str | Path,
        tag_set: str | list[str],
        device: str = "cpu",
        *,
        allow_risky_ops: bool = False,
        load: list[str] | tuple[str, ...] = (),
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> float:
        """Load a model into the worker ahead of its first run (a GUI may warm up on open).

        Returns the seconds loading took, 0.0 when it was loaded already. Loading runs the
        model's restore and init ops, so risky ops are refused here as in ``run``.
        """
        request, _ = self._model_request("load", path, tag_set, device, allow_risky_ops)
        request["load"] = [str(name) for name in load]
        return self._call(request, "while loading", progress, cancelled, None)["load_seconds"]

    def forget_others(self, path: str | Path | None) -> None:
        """Let a running worker drop the models of other paths (the window opened another
        model); the worker stays, warm, and no worker is started for this."""
        if self.running:
            keep = str(Path(path).resolve()) if path else ""
            self._call({"op": "forget", "keep": keep}, "while dropping models", None, None, 60)

    def _model_request(
        self, op: str, path, tag_set, device: str, allow_risky_ops: bool
    ) -> tuple[dict, Model]:
        """The request naming a model, checked on this side: tag set, device, risky ops."""
        stamp, model = self._stamped_model(path)
        mg = model.meta_graph(tag_set)
        device = parse_device(device)
        if not allow_risky_ops and (model.path, stamp, mg.tag_set) not in self._safe:
            require_safe(model, mg)
            self._safe.add((model.path, stamp, mg.tag_set))
        request = {"op": op, "path": str(model.path), "stamp": stamp, "tags": mg.tags}
        return request | {"device": device}, model

    def _result(self, reply: dict, device: str) -> RunResult:
        outputs = {}
        for key, spec in reply["outputs"].items():
            outputs[key] = read_array(spec)
            Path(spec["path"]).unlink(missing_ok=True)
        return RunResult(
            outputs=outputs,
            output_devices=reply["output_devices"],
            load_seconds=reply["load_seconds"],
            first_call_seconds=reply["first_call_seconds"],
            warm_seconds=reply["warm_seconds"],
            device=device,
            kind=reply["kind"],
            cached=reply["cached"],
            start_seconds=reply.get("start_seconds", 0.0),
            output=reply.get("output", ""),
        )

    def _tmpdir(self) -> Path:
        if self._res.tmpdir is None:
            self._res.tmpdir = Path(tempfile.mkdtemp(prefix="smlens-run-", dir=_fast_tmp_root()))
        return self._res.tmpdir

    # -- the conversation -----------------------------------------------------------------

    def _poller(self, deadline: float | None, cancelled: CancelCheck | None) -> Callable[[], None]:
        def poll() -> None:
            if self._stop.is_set() or (cancelled is not None and cancelled()):
                self.kill()
                raise RunCancelled("run worker", "the run was stopped; the worker was killed")
            if deadline is not None and time.monotonic() > deadline:
                self.kill()
                raise RunTimedOut("run worker", "the run timed out; the worker was killed")

        return poll

    def _call(
        self,
        request: dict,
        doing: str,
        progress: Progress | None,
        cancelled: CancelCheck | None,
        timeout: float | None,
    ) -> dict:
        progress = progress or no_progress
        with self._lock:
            self._stop.clear()
            deadline = None if timeout is None else time.monotonic() + timeout
            poll = self._poller(deadline, cancelled)
            start_seconds = self._ensure_worker(poll, progress, request.get("path", ""))
            request["id"] = next(self._ids)
            worker = self._res.worker
            reply = None
            if worker.send(request):
                reply = self._await(worker, request["id"], poll, progress)
            if reply is None:
                self._crashed(worker, request.get("path", "run worker"), doing)
            if reply["type"] == "error":
                missing = missing_op_text(reply["error"])
                stage = "missing-op" if missing else reply["stage"]
                raise RunError(request.get("path", "run worker"), missing or reply["error"], stage)
            progress(1.0, "done")
            return {**reply, "start_seconds": start_seconds}

    def _await(self, worker: _WorkerProcess, request_id: int, poll, progress) -> dict | None:
        while True:
            try:
                message = worker.receive(poll)
            except RunCancelled:
                self._drop_worker()
                raise
            if message is None:
                return None
            if message.get("id") != request_id:
                continue
            if message["type"] == "progress":
                progress(message["fraction"], message["text"])
                continue
            return message

    def _crashed(self, worker: _WorkerProcess, path: str, doing: str):
        stopped = self._stop.is_set() or worker.killed  # before _drop_worker kills it
        returncode, tail = worker.exit_status()
        self._drop_worker()
        if stopped:
            raise RunCancelled(path, "the run was stopped; the worker was killed")
        raise WorkerCrashed(path, doing, returncode, tail)

    def _drop_worker(self) -> None:
        worker, self._res.worker = self._res.worker, None
        if worker is not None:
            worker.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.proc.wait(5)

    def _ensure_worker(self, poll, progress: Progress, path: str) -> float:
        """Start the worker if there is none (or it died); the seconds that took, else 0."""
        if self.running:
            return 0.0
        self._drop_worker()
        progress(0.0, "starting TensorFlow")
        start = time.perf_counter()
        try:
            worker = self._res.worker = _WorkerProcess(self.worker_command, self.log)
        except OSError as e:
            raise RunError(self.worker_command[0], f"cannot start the run worker: {e}") from None
        try:
            message = worker.receive(poll)
        except RunCancelled:
            self._drop_worker()
            raise
        if message is None:
            self._crashed(worker, path or "run worker", "while starting")
        if message["type"] == "error":
            self._drop_worker()
            raise RunError("run worker", message["error"], message.get("stage", "start"))
        self.tf_version = message.get("tf_version", "")
        return time.perf_counter() - start
