"""Run a signature in the run worker, a child process that keeps TensorFlow warm.

``RunEngine`` starts the worker on first use and keeps it for later runs. A crash in
TensorFlow (segfault, OOM kill) ends the call with ``WorkerCrashed`` and the next call
starts a fresh worker; ``stop()`` interrupts a running call by killing the worker, the only
way to interrupt TensorFlow. A stop or kill ends every call entered before it, wherever
that call is: waiting its turn, starting the worker, or running. A call takes a request
checked where it was built (request.py), so nothing here reads the model or checks it
again; the child process itself is process.py's. No TensorFlow import on this side.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smlens.core.analysis.ops import missing_op_text
from smlens.core.errors import SmlensError
from smlens.core.run.availability import NO_TENSORFLOW_STAGE, TensorFlowStatus
from smlens.core.run.graph_request import GraphRunRequest
from smlens.core.run.process import WorkerProcess
from smlens.core.run.protocol import read_array, write_array
from smlens.core.run.request import LoadRequest, RunRequest
from smlens.core.run.tflite import TFLiteReadiness
from smlens.core.run.tflite_request import TFLiteRequest
from smlens.core.tasks import CancelCheck, Cancelled, Progress, no_progress

WORKER_COMMAND = (sys.executable, "-m", "smlens.core.run.worker")


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
    spec: str  # what a LoadRequest's device takes: "cpu:0", "gpu:0"
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
    kind: str = ""  # "tf2" (tf.saved_model.load) | "tf1" (Session + loader.load) | "graph"
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


@dataclass
class _Resources:
    """What a RunEngine must release even if nobody calls close()."""

    worker: WorkerProcess | None = None
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


def _load_message(op: str, target: LoadRequest) -> dict:
    """What the worker is told of a model to load: its cache key (path, stamp, tags), the
    device and the libraries to load first."""
    return {
        "op": op,
        "path": str(target.path),
        "stamp": target.stamp,
        "tags": list(target.meta_graph.tags),
        "device": target.device,
        "load": list(target.loads),
    }


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
        # What the last worker start said of TensorFlow (None until one was tried).
        self.tensorflow: TensorFlowStatus | None = None
        self.built_with_cuda: bool | None = None  # known once devices() has asked the worker
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, self._res.release)
        self._lock = threading.RLock()
        # Each stop() or kill() counts one; a call remembers the count when it is entered and
        # ends as stopped once the count moved. A flag cleared when a call begins would lose
        # a stop pressed while the call waited for the lock or while no worker existed yet.
        self._stops = 0
        self._stops_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._devices: list[DeviceInfo] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        worker = self._res.worker
        return worker is not None and worker.alive

    @property
    def pid(self) -> int | None:
        worker = self._res.worker
        return worker.pid if worker is not None else None

    def stop(self) -> None:
        """Interrupt the calls under way, if any (running, starting the worker or waiting
        their turn): each raises RunCancelled and the worker is killed. A later call is not
        affected."""
        with self._stops_lock:
            self._stops += 1

    def kill(self) -> None:
        """Kill the worker now, busy or idle, and end the calls under way as stopped (one
        that is starting a worker kills it as soon as it exists); the next call starts a
        fresh one."""
        self.stop()
        worker = self._res.worker
        if worker is not None:
            worker.kill()

    def restart(self, progress: Progress | None = None, cancelled: CancelCheck | None = None):
        """Kill the worker and start a fresh one, ready for the next call."""
        self.kill()
        poll = self._poller(self._stops, None, cancelled)
        with self._lock:
            self._drop_worker()
            self._ensure_worker(poll, progress or no_progress, "")

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
        request: RunRequest | GraphRunRequest,
        *,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> RunResult:
        """Call ``request``'s signature (or fetch its graph's tensors) ``repeat`` times; the
        first call's outputs and the time of each call. Its model is loaded first unless
        the worker has it already. A graph run's outputs are keyed by tensor name."""
        entered = self._stops  # before the lock: a stop while this waits its turn counts
        if isinstance(request, GraphRunRequest):
            message = request.worker_message()
            doing = f"while running {', '.join(request.fetches)}"
        else:
            message = _load_message("run", request.target)
            message |= {"signature": request.signature.key, "repeat": request.repeat}
            doing = f"while running {request.signature.key!r}"
        with self._lock:
            tmp = self._tmpdir()
            seq = next(self._ids)
            paths = [tmp / f"in-{seq}-{i}.npy" for i in range(len(request.inputs))]
            message["inputs"] = {
                key: write_array(path, array)
                for path, (key, array) in zip(paths, request.inputs.items(), strict=True)
            }
            message["outdir"] = str(tmp)
            try:
                reply = self._call(message, doing, progress, cancelled, request.timeout, entered)
            finally:
                for path in paths:
                    path.unlink(missing_ok=True)
        return self._result(reply, request.target.device)

    def load(
        self,
        target: LoadRequest,
        *,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> float:
        """Load a model into the worker ahead of its first run (a GUI may warm up on open).

        Returns the seconds loading took, 0.0 when it was loaded already.
        """
        message = _load_message("load", target)
        return self._call(message, "while loading", progress, cancelled, None)["load_seconds"]

    def check_tflite(
        self,
        request: TFLiteRequest,
        *,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> TFLiteReadiness:
        """Convert the request's signatures with TensorFlow's TFLite converter, as a dry run
        (a file only where the request names one); what each op needs."""
        message = _load_message("tflite", request.target)
        message |= {
            "signatures": list(request.signature_keys),
            "output": str(request.output) if request.output is not None else "",
        }
        start = time.perf_counter()
        doing = "while converting to TFLite"
        reply = self._call(message, doing, progress, cancelled, request.timeout)
        return TFLiteReadiness.from_reply(
            str(request.path),
            request.target.meta_graph.tag_set,
            reply,
            time.perf_counter() - start,
        )

    def request(
        self,
        message: dict,
        doing: str,
        *,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
        timeout: float | None = None,
    ) -> dict:
        """Send one request of another kind (freeze, wrap: conversion.py builds them) and
        return the worker's reply; a stop, kill or crash ends it as it ends a run.
        ``doing`` completes a crash report: "the run worker died while freezing"."""
        return self._call(dict(message), doing, progress, cancelled, timeout)

    def forget_others(self, path: str | Path | None) -> None:
        """Let a running worker drop the models of other paths (the window opened another
        model); the worker stays, warm, and no worker is started for this."""
        if self.running:
            keep = str(Path(path).resolve()) if path else ""
            self._call({"op": "forget", "keep": keep}, "while dropping models", None, None, 60)

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

    def _poller(
        self, entered: int, deadline: float | None, cancelled: CancelCheck | None
    ) -> Callable[[], None]:
        """The check a waiting call makes: raise RunCancelled (killing the worker) once
        stop() or kill() was called since ``entered`` (the stop count when the call was
        entered) or ``cancelled()`` says so; RunTimedOut after ``deadline``."""

        def poll() -> None:
            if self._stopped(entered, cancelled):
                self._kill_worker()
                raise RunCancelled("run worker", "the run was stopped; the worker was killed")
            if deadline is not None and time.monotonic() > deadline:
                self._kill_worker()
                raise RunTimedOut("run worker", "the run timed out; the worker was killed")

        return poll

    def _stopped(self, entered: int, cancelled: CancelCheck | None) -> bool:
        return self._stops != entered or (cancelled is not None and cancelled())

    def _call(
        self,
        message: dict,
        doing: str,
        progress: Progress | None,
        cancelled: CancelCheck | None,
        timeout: float | None,
        entered: int | None = None,
    ) -> dict:
        """Send ``message`` (starting the worker first if need be) and wait for its reply.
        ``entered`` is the stop count when the caller was entered, if it took the lock
        first; a stop() or kill() since then ends the call as RunCancelled."""
        progress = progress or no_progress
        path = message.get("path", "run worker")
        entered = self._stops if entered is None else entered
        deadline = None if timeout is None else time.monotonic() + timeout
        poll = self._poller(entered, deadline, cancelled)
        with self._lock:
            if self._stopped(entered, cancelled):  # while it waited its turn: touch nothing
                raise RunCancelled(path, "the run was stopped before it started")
            start_seconds = self._ensure_worker(poll, progress, message.get("path", ""))
            message["id"] = next(self._ids)
            worker = self._res.worker
            reply = None
            if worker.send(message):
                reply = self._await(worker, message["id"], poll, progress)
            if reply is None:
                self._crashed(worker, path, doing, self._stops != entered)
            if reply["type"] == "error":
                missing = missing_op_text(reply["error"])
                stage = "missing-op" if missing else reply["stage"]
                raise RunError(path, missing or reply["error"], stage)
            progress(1.0, "done")
            return {**reply, "start_seconds": start_seconds}

    def _await(self, worker: WorkerProcess, request_id: int, poll, progress) -> dict | None:
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

    def _crashed(self, worker: WorkerProcess, path: str, doing: str, stopped: bool):
        stopped = stopped or worker.killed  # before _drop_worker kills it
        returncode, tail = worker.exit_status()
        self._drop_worker()
        if stopped:
            raise RunCancelled(path, "the run was stopped; the worker was killed")
        raise WorkerCrashed(path, doing, returncode, tail)

    def _kill_worker(self) -> None:
        worker = self._res.worker
        if worker is not None:
            worker.kill()

    def _drop_worker(self) -> None:
        worker, self._res.worker = self._res.worker, None
        if worker is not None:
            worker.discard()

    def _ensure_worker(self, poll, progress: Progress, path: str) -> float:
        """Start the worker if there is none (or it died); the seconds that took, else 0."""
        if self.running:
            return 0.0
        self._drop_worker()
        progress(0.0, "starting TensorFlow")
        start = time.perf_counter()
        poll()  # stopped from the progress hook or meanwhile: no worker at all
        try:
            worker = self._res.worker = WorkerProcess(self.worker_command, self.log)
        except OSError as e:
            raise RunError(self.worker_command[0], f"cannot start the run worker: {e}") from None
        try:
            poll()  # a kill() while the process was being created found no worker to kill
            message = worker.receive(poll)
        except RunCancelled:
            self._drop_worker()
            raise
        if message is None:
            self._crashed(worker, path or "run worker", "while starting", False)
        if message["type"] == "error":
            self._drop_worker()
            stage = message.get("stage", "start")
            if stage == NO_TENSORFLOW_STAGE:
                detail = message.get("detail", message["error"])
                self.tensorflow = TensorFlowStatus(False, detail, by_worker=True)
            raise RunError("run worker", message["error"], stage)
        self.tf_version = message.get("tf_version", "")
        self.tensorflow = TensorFlowStatus(True, self.tf_version, by_worker=True)
        return time.perf_counter() - start
