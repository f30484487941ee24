"""The run worker: the one process that imports TensorFlow. ``python -m smlens.core.run.worker``

It reads JSON requests from stdin, one a line, and answers each with progress lines and then
one result or error line on stdout (see protocol.py). Loaded models stay cached, keyed by
path, tags and the saved_model.pb stamp, so later runs pay neither the import nor the load;
"forget" drops the models of other paths when the window opens another model. A request's
"load" names packages or op libraries to load first (custom ops).
Anything TensorFlow or a model prints goes to stderr: fd 1 is pointed there at start-up and
the protocol keeps a private copy of the original stdout. During each request both fds go
to a temp file, so what tf.print and TensorFlow wrote returns with the reply ("output").
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from smlens.core.run import convert
from smlens.core.run.availability import NO_TENSORFLOW_STAGE, import_failure_text
from smlens.core.run.graph_session import (
    GraphSessionError,
    load_tf1_saved_model,
    open_graph_session,
    traced_run,
)
from smlens.core.run.protocol import encode, read_array, write_array

EXIT_NO_TENSORFLOW = 3
OUTPUT_LIMIT = 64 * 1024  # the tail of what one call printed that goes back with the reply


class RequestError(Exception):
    """A request that cannot be served; ``stage`` says which step refused it."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage


@dataclass
class Loaded:
    """A model ready to call: a TF2 object, or a TF1 session pinned to one device."""

    kind: str  # "tf2" | "tf1"
    signatures: dict[str, Any]  # key -> ConcreteFunction (tf2) or SignatureDef (tf1)
    root: Any = None  # keeps the TF2 object (and so its variables) alive
    session: Any = None

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


class Worker:
    def __init__(self, tf, out):
        self.tf = tf
        self.out = out
        self.models: dict[tuple, Loaded] = {}
        self.request_id = None
        self.libraries: dict[str, str] = {}  # what --load named -> what it loaded
        self.handlers = {
            "devices": self.devices,
            "load": self.load,
            "run": self.run,
            "forget": self.forget,
            "run_graph": self.run_graph,
            "tflite": self.tflite,
            "freeze": self.convert,
            "wrap": self.convert,
        }

    def send(self, message: dict) -> None:
        self.out.write(encode(message))
        self.out.flush()

    def progress(self, fraction: float, text: str) -> None:
        self.send({"type": "progress", "id": self.request_id, "fraction": fraction, "text": text})

    def serve(self, request: dict) -> None:
        self.request_id = request.get("id")
        handler = self.handlers.get(request.get("op"))
        printed: list[str] = []
        try:
            if handler is None:
                raise RequestError("request", f"unknown request {request.get('op')!r}")
            with _captured_output(printed):
                self.load_libraries(request.get("load", ()))
                answer = handler(request)
            reply = {"type": "result", "id": self.request_id, **answer, "output": printed[0]}
        except RequestError as e:
            reply = {"type": "error", "id": self.request_id, "stage": e.stage, "error": str(e)}
        except Exception as e:
            traceback.print_exc()
            message = f"{type(e).__name__}: {e}"
            reply = {
                "type": "error",
                "id": self.request_id,
                "stage": "tensorflow",
                "error": message,
            }
        if printed and reply["type"] == "error":
            reply["output"] = printed[0]
        self.send(reply)

    # -- op libraries ---------------------------------------------------------------------

    def load_libraries(self, names) -> None:
        """Import each package or load each op library (.so) once, before the model loads:
        custom ops register themselves with TensorFlow as their library is loaded."""
        for name in names:
            if name in self.libraries:
                continue
            self.progress(0.05, f"loading {name}")
            try:
                if name.endswith((".so", ".dylib", ".dll")) or os.sep in name:
                    if not os.path.exists(name):
                        raise FileNotFoundError(f"no such file: {name}")
                    self.tf.load_op_library(os.path.abspath(name))
                    self.libraries[name] = "op library"
                else:
                    module = importlib.import_module(name)
                    self.libraries[name] = getattr(module, "__version__", "") or "package"
            except Exception as e:  # ImportError, NotFoundError from a bad .so ...
                raise RequestError("load-library", f"cannot load {name!r}: {e}") from None

    def forget(self, request: dict) -> dict:
        """Drop the loaded models of other paths: the window opened another model."""
        keep = request.get("keep")
        for key in [k for k in self.models if k[0] != keep]:
            self.models.pop(key).close()
        return {"models": len(self.models)}

    def convert(self, request: dict) -> dict:
        """Freeze a graph or wrap a frozen one as a SavedModel (convert.py does the work)."""
        work = convert.freeze if request["op"] == "freeze" else convert.wrap
        try:
            return work(self.tf, request, self.progress)
        except convert.ConversionError as e:
            raise RequestError("convert", str(e)) from None

    # -- devices ------------------------------------------------------------------------

    def devices(self, request: dict) -> dict:
        tf = self.tf
        found = []
        for dev in tf.config.list_physical_devices():
            index = dev.name.rsplit(":", 1)[-1]
            entry = {
                "name": dev.name,
                "device_type": dev.device_type,
                "spec": f"{dev.device_type.lower()}:{index}",
                "details": _jsonable(tf.config.experimental.get_device_details(dev)),
                "memory": self._memory(dev.device_type, index),
            }
            found.append(entry)
        return {
            "devices": found,
            "tf_version": tf.__version__,
            "built_with_cuda": tf.test.is_built_with_cuda(),
        }

    def _memory(self, device_type: str, index: str) -> dict:
        if device_type == "CPU":
            try:
                return {"host_total": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")}
            except (ValueError, OSError, AttributeError):  # no sysconf (Windows)
                return {}
        try:
            return _jsonable(self.tf.config.experimental.get_memory_info(f"{device_type}:{index}"))
        except (ValueError, RuntimeError):
            return {}

    def _device_scope(self, spec: str) -> str:
        """'cpu:0' / 'gpu:1' -> '/device:GPU:1', refusing devices TensorFlow does not see."""
        kind, _, index = spec.partition(":")
        kind = kind.upper()
        seen = [d.name.removeprefix("/device:") for d in self.tf.config.list_logical_devices()]
        wanted = f"{kind}:{index or 0}"
        if wanted in seen:
            return f"/device:{wanted}"
        same_kind = [d for d in seen if d.startswith(kind + ":")]
        if kind == "GPU" and not same_kind:
            message = f"no GPU: this machine's TensorFlow sees only {', '.join(seen)}"
            if not self.tf.test.is_built_with_cuda():
                message += " (this TensorFlow build has no CUDA support)"
            raise RequestError("device", message)
        raise RequestError(
            "device", f"no {wanted}: this machine's TensorFlow sees {', '.join(seen)}"
        )

    # -- loading --------------------------------------------------------------------------

    def load(self, request: dict) -> dict:
        device = self._device_scope(request.get("device", "cpu:0"))
        loaded, seconds, cached = self._loaded(request, device)
        return {"kind": loaded.kind, "load_seconds": seconds, "cached": cached}

    def _loaded(self, request: dict, device: str) -> tuple[Loaded, float, bool]:
        """The cached model for this path, tags, file stamp and device, loading it if new.

        The device is part of the key: TF1 places ops when the graph is imported, and TF2
        creates the restored variables on the device in scope.
        """
        path, tags = request["path"], tuple(request["tags"])
        key = (path, tags, tuple(request.get("stamp", ())), device)
        if key in self.models:
            return self.models[key], 0.0, True
        for old in [k for k in self.models if k[0] == path and k[2] != key[2]]:
            self.models.pop(old).close()  # an earlier export of this folder
        self.progress(0.1, "loading the model")
        start = time.perf_counter()
        load = self._load_tf2 if self._has_object_graph(path, tags) else self._load_tf1
        self.models[key] = load(path, tags, device)
        return self.models[key], time.perf_counter() - start, False

    def _has_object_graph(self, path: str, tags: tuple) -> bool:
        from tensorflow.python.saved_model import loader_impl

        for mg in loader_impl.parse_saved_model(path).meta_graphs:
            if set(mg.meta_info_def.tags) == set(tags):
                return mg.HasField("object_graph_def")
        raise RequestError("load", f"{path}: no MetaGraph with tag set {list(tags)}")

    def _load_tf2(self, path: str, tags: tuple, device: str) -> Loaded:
        with self.tf.device(device):
            root = self.tf.saved_model.load(path, tags=list(tags))
        return Loaded("tf2", dict(root.signatures), root=root)

    def _load_tf1(self, path: str, tags: tuple, device: str) -> Loaded:
        """A session whose graph is imported under ``device``: TF1 places ops at import."""
        v1 = self.tf.compat.v1
        graph = self.tf.Graph()
        config = v1.ConfigProto(allow_soft_placement=True)
        session = v1.Session(graph=graph, config=config)
        with graph.as_default(), graph.device(device):
            meta = load_tf1_saved_model(self.tf, session, tags, path)
        return Loaded("tf1", dict(meta.signature_def), session=session)

    # -- TFLite readiness ----------------------------------------------------------------

    def tflite(self, request: dict) -> dict:
        """A dry-run conversion of each named signature (tflite_check.py)."""
        from smlens.core.run.tflite_check import check_signatures

        self.progress(0.05, "importing the TFLite converter")
        return check_signatures(self.tf, request, self.progress)

    # -- running --------------------------------------------------------------------------

    def run(self, request: dict) -> dict:
        device = self._device_scope(request["device"])
        loaded, load_seconds, cached = self._loaded(request, device)
        key = request["signature"]
        if key not in loaded.signatures:
            keys = ", ".join(sorted(loaded.signatures)) or "none"
            raise RequestError("load", f"no signature {key!r}; the loaded model has: {keys}")
        inputs = {k: read_array(spec) for k, spec in request["inputs"].items()}
        call = self._tf2_call if loaded.kind == "tf2" else self._tf1_call
        outputs, devices, times = call(loaded, key, inputs, device, int(request.get("repeat", 1)))
        outdir = request["outdir"]
        specs = {
            k: write_array(os.path.join(outdir, f"out-{self.request_id}-{i}.npy"), v)
            for i, (k, v) in enumerate(outputs.items())
        }
        return {
            "kind": loaded.kind,
            "outputs": specs,
            "output_devices": devices,
            "load_seconds": load_seconds,
            "cached": cached,
            "first_call_seconds": times[0],
            "warm_seconds": times[1:],
        }

    def _timed_calls(self, call, repeat: int) -> tuple[Any, list[float]]:
        """``call(first)`` ``repeat`` times (at least once): the first result and each time."""
        times, result, last_report = [], None, time.monotonic()
        for i in range(max(1, repeat)):
            if i == 0:
                self.progress(0.5, "first call")
            elif time.monotonic() - last_report > 0.2:
                self.progress(0.5 + 0.5 * i / repeat, f"call {i + 1} of {repeat}")
                last_report = time.monotonic()
            start = time.perf_counter()
            value = call(i == 0)
            times.append(time.perf_counter() - start)
            result = value if i == 0 else result
        return result, times

    def _tf2_call(self, loaded: Loaded, key: str, inputs: dict, device: str, repeat: int):
        tf = self.tf
        fn = loaded.signatures[key]
        with tf.device(device):
            tensors = {k: tf.constant(v) for k, v in inputs.items()}

            def call(first: bool):
                return {k: (_array(t.numpy()), t.device) for k, t in fn(**tensors).items()}

            result, times = self._timed_calls(call, repeat)
        outputs = {k: value for k, (value, _) in result.items()}
        return outputs, {k: dev for k, (_, dev) in result.items()}, times

    def _tf1_call(self, loaded: Loaded, key: str, inputs: dict, device: str, repeat: int):
        v1 = self.tf.compat.v1
        signature = loaded.signatures[key]
        for k, info in {**signature.inputs, **signature.outputs}.items():
            if not info.name:
                raise RequestError("run", f"{k!r} is a sparse or composite tensor: not supported")
        feed = {signature.inputs[k].name: v for k, v in inputs.items()}
        fetches = {k: info.name for k, info in signature.outputs.items()}
        # The first call is traced, so the step stats tell where each output was computed.
        options = v1.RunOptions(trace_level=v1.RunOptions.SOFTWARE_TRACE)
        metadata = v1.RunMetadata()

        def call(first: bool):
            if first:
                return loaded.session.run(fetches, feed, options, metadata)
            return loaded.session.run(fetches, feed)

        outputs, times = self._timed_calls(call, repeat)
        outputs = {k: _array(v) for k, v in outputs.items()}
        placed = {
            node.node_name: stats.device
            for stats in metadata.step_stats.dev_stats
            for node in stats.node_stats
        }
        devices = {k: placed.get(name.split(":")[0], device) for k, name in fetches.items()}
        return outputs, devices, times

    # -- graphs by tensor name ------------------------------------------------------------

    def run_graph(self, request: dict) -> dict:
        """Fetch tensors of a graph by name: a frozen GraphDef, a .meta restored from its
        checkpoint, or a SavedModel's meta graph (graph_session.py loads each)."""
        device = self._device_scope(request["device"])
        session, load_seconds, cached = self._loaded_graph(request, device)
        fetches = list(request["fetches"])
        feeds = {k: read_array(spec) for k, spec in request["inputs"].items()}
        placed: dict[str, str] = {}

        def call(first: bool):
            values, where = traced_run(session, fetches, feeds, first)
            placed.update(where)
            return values

        try:
            values, times = self._timed_calls(call, int(request.get("repeat", 1)))
        except GraphSessionError as e:
            raise RequestError("fetch", str(e)) from None
        outdir = request["outdir"]
        specs = {
            name: write_array(os.path.join(outdir, f"out-{self.request_id}-{i}.npy"), _array(v))
            for i, (name, v) in enumerate(zip(fetches, values, strict=True))
        }
        return {
            "kind": "graph",
            "outputs": specs,
            "output_devices": {name: placed.get(name) or device for name in fetches},
            "load_seconds": load_seconds,
            "cached": cached,
            "first_call_seconds": times[0],
            "warm_seconds": times[1:],
        }

    def _loaded_graph(self, request: dict, device: str):
        """The cached session for this graph, file stamp and device, made if new (cached
        beside the signature models, keyed by path first, so "forget" drops it too)."""
        path, source = request["path"], request["source"]
        key = (path, ("graph", source, *request["tags"]), tuple(request["stamp"]), device)
        if key in self.models:
            return self.models[key], 0.0, True
        for old in [k for k in self.models if k[0] == path and k[2] != key[2]]:
            self.models.pop(old).close()  # an earlier version of this file
        self.progress(0.1, "loading the graph")
        start = time.perf_counter()
        try:
            self.models[key] = open_graph_session(
                self.tf, source, path, request.get("checkpoint"), request["tags"], device
            )
        except GraphSessionError as e:
            raise RequestError("load", str(e)) from None
        return self.models[key], time.perf_counter() - start, False


def _array(value: Any) -> np.ndarray:
    """TensorFlow hands a scalar string back as ``bytes``; make it a 0-d object array."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, bytes):
        out = np.empty((), dtype=object)
        out[()] = value
        return out
    return np.asarray(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


@contextlib.contextmanager
def _captured_output(box: list[str]):
    """Collect what fds 1 and 2 get during the block (tf.print writes from C++, so Python's
    sys.stderr alone would miss it); the text goes into ``box`` and on to the real stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 1)
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            data = tmp.read()
            if data:
                sys.stderr.buffer.write(data)
                sys.stderr.flush()
            box.append(data[-OUTPUT_LIMIT:].decode(errors="replace"))


def _claim_stdout():
    """A private binary stream on the original stdout; fd 1 then goes to stderr."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return out


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out = _claim_stdout()
    try:
        import tensorflow as tf
    except ImportError as e:
        message = {"type": "error", "stage": NO_TENSORFLOW_STAGE, "detail": str(e)}
        out.write(encode({**message, "error": import_failure_text(e)}))
        out.flush()
        return EXIT_NO_TENSORFLOW
    worker = Worker(tf, out)
    worker.send({"type": "ready", "pid": os.getpid(), "tf_version": tf.__version__})
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
        except ValueError as e:
            worker.send({"type": "error", "id": None, "stage": "request", "error": str(e)})
            continue
        if request.get("op") == "quit":
            break
        worker.serve(request)
    return 0


if __name__ == "__main__":
    sys.exit(main())
