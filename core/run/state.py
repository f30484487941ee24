"""The run panel's state, without Qt: the engine, the chosen tag-set, signature and device,
the runs of this session, the baselines to compare with and the op libraries to load.

Views observe it through plain callbacks (``state.observe("runs", fn)``), napari-style: the
state changes, then it says so; a view only shows it and writes back through its methods.
Callbacks run on the thread that changed the state; the Qt view only changes it on its
own thread, so the engine calls (``list_devices``, ``restart_worker``, ``execute``) are
plain functions that return values for the view to hand back. A run is asked for with a
RunRequest the state builds (``request``): the model in hand, checked once, there.

A graph without signatures (a frozen GraphDef, a ``.meta`` beside its checkpoint), and any
meta graph by choice, runs by tensor names: its "signature" is then ``FEEDS_KEY``, whose
inputs are the graph's feeds (``feeds_signature``), and ``fetches`` the tensors to fetch,
the detected outputs at first; the request is then a GraphRunRequest.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smlens.core.analysis.scan import MetaGraphScan, scan_meta_graph
from smlens.core.analysis.stats import TensorStats, tensor_stats
from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.run.client import DeviceInfo, RunEngine, RunResult
from smlens.core.run.deltas import OutputDelta, load_outputs, output_deltas, save_outputs
from smlens.core.run.graph_request import (
    FEEDS_KEY,
    GRAPH_SOURCES,
    GraphRunRequest,
    GraphTarget,
    default_fetches,
    feeds_signature,
)
from smlens.core.run.request import LoadRequest, RunRequest

PREVIOUS = "previous"  # compare with the run before the shown one
NOTHING = ""
DEFAULT_REPEAT = 10
# What state.observe() accepts: each event names the part of the state that changed.
EVENTS = ("model", "choice", "devices", "runs", "baselines", "loads", "fetches")


@dataclass
class RunRecord:
    """One finished run of this session: what ran, where, and what came out."""

    number: int
    signature: str
    device: str
    result: RunResult
    stats: dict[str, TensorStats] = field(default_factory=dict)
    inputs: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        return self.result.outputs

    @property
    def label(self) -> str:
        return f"run #{self.number} · {self.signature} on {self.device}"


def output_stats(result: RunResult) -> dict[str, TensorStats]:
    """Statistics of every output; run on the worker thread with the run."""
    return {key: tensor_stats(value) for key, value in result.outputs.items()}


# -- engine calls: plain functions a view runs off its UI thread -----------------------------


def list_devices(engine: RunEngine, *, progress, cancelled):
    devices = engine.devices(progress=progress, cancelled=cancelled)
    return devices, engine.tf_version, engine.built_with_cuda, engine.pid


def restart_worker(engine: RunEngine, *, progress, cancelled) -> int | None:
    engine.restart(progress=progress, cancelled=cancelled)
    return engine.pid


def execute(engine: RunEngine, request: RunRequest, stop: threading.Event, *, progress, cancelled):
    """Run ``request`` (from RunState.request): the request, its result and the result's
    output statistics, as RunState.add_run takes them."""
    result = engine.run(request, progress=progress, cancelled=lambda: cancelled() or stop.is_set())
    return request, result, output_stats(result)


def switch_model(engine: RunEngine, path: Path | None, target: LoadRequest | None) -> float | None:
    """Let a running worker drop the models of other paths and load ``target`` ahead of
    its first run; None when no worker runs (none is started for this) or there is nothing
    to load."""
    if not engine.running:
        return None
    engine.forget_others(path)
    return None if target is None else engine.load(target)


class RunState:
    """Everything the run panel knows, so a test can drive it without a window."""

    def __init__(self, engine: RunEngine | None = None):
        self.engine = engine or RunEngine()
        self.model: Model | None = None
        self.tag_set: str | None = None
        self.signature_key: str | None = None
        self.device = "cpu:0"
        self.devices: list[DeviceInfo] | None = None
        self.runs: list[RunRecord] = []
        self.shown: RunRecord | None = None
        self.baselines: dict[str, dict] = {}  # loaded .npz path -> outputs
        self.compare_with = PREVIOUS  # PREVIOUS, NOTHING or a baselines key
        self.allowed_risky: set[str] = set()  # tag-sets the user agreed to run
        self.loads: list[str] = []  # packages or op libraries the worker loads first
        self.fetches: list[str] = []  # tensors a run by names fetches (FEEDS_KEY chosen)
        self._observers: dict[str, list[Callable[[], None]]] = defaultdict(list)

    # -- observers ------------------------------------------------------------------------

    def observe(self, event: str, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each change of ``event`` (one of EVENTS)."""
        if event not in EVENTS:
            raise ValueError(f"no event {event!r}; there are {', '.join(EVENTS)}")
        self._observers[event].append(callback)

    def _notify(self, *events: str) -> None:
        for event in events:
            for callback in list(self._observers[event]):
                callback()

    # -- the model and the choices --------------------------------------------------------

    def set_model(self, model: Model | None) -> None:
        """A new model (or none): runs, baselines and agreements start over. The worker is
        kept: it loads the next model when that one first runs."""
        self.model = model
        self.runs, self.shown, self.baselines = [], None, {}
        self.compare_with = PREVIOUS
        self.allowed_risky = set()
        tags = self.tag_sets()
        self.tag_set = "serve" if "serve" in tags else (tags[0] if tags else None)
        self.signature_key = self._default_signature()
        self._reset_fetches()
        self._notify("model", "choice", "runs", "baselines", "fetches")

    @property
    def runnable(self) -> bool:
        m = self.model
        if m is None or not m.meta_graphs:
            return False
        return m.format == "saved_model" or m.format in GRAPH_SOURCES

    def not_runnable_reason(self) -> str | None:
        """Why the open model cannot be run; None when it can (or nothing is open)."""
        m = self.model
        if m is None:
            return None
        if not self.runnable:
            what = f"{m.format.replace('_', ' ')} without a graph"
            return (
                f"Only a graph can be run: this is a {what}. Open a SavedModel, a frozen "
                "GraphDef or a .meta beside its checkpoint."
            )
        return None

    @property
    def by_names(self) -> bool:
        """Whether the chosen run goes by tensor names (feeds and fetches)."""
        return self.signature_key == FEEDS_KEY

    def tag_sets(self) -> list[str]:
        return [mg.tag_set for mg in self.model.meta_graphs] if self.runnable else []

    def meta_graph(self) -> MetaGraph | None:
        if not self.runnable or self.tag_set is None:
            return None
        return self.model.meta_graph(self.tag_set)

    def signature_keys(self) -> list[str]:
        """The callable signatures, then FEEDS_KEY: any graph also runs by tensor names."""
        mg = self.meta_graph()
        return [*mg.callable_signatures, FEEDS_KEY] if mg else []

    def signature(self) -> Signature | None:
        mg = self.meta_graph()
        if mg is not None and self.by_names:
            return feeds_signature(mg)
        return mg.signatures.get(self.signature_key) if mg and self.signature_key else None

    def _default_signature(self) -> str | None:
        keys = self.signature_keys()
        return "serving_default" if "serving_default" in keys else (keys[0] if keys else None)

    def _reset_fetches(self) -> None:
        mg = self.meta_graph()
        self.fetches = default_fetches(mg) if mg is not None and self.by_names else []

    def set_fetches(self, fetches: list[str]) -> None:
        """The tensors a run by names fetches, in order, each once."""
        self.fetches = list(dict.fromkeys(name.strip() for name in fetches if name.strip()))
        self._notify("fetches")

    def choose_tag_set(self, tag_set: str) -> None:
        if tag_set != self.tag_set:
            self.tag_set = tag_set
            self.signature_key = self._default_signature()
            self._reset_fetches()
            self._notify("choice", "fetches")

    def choose_signature(self, key: str | None) -> None:
        if key != self.signature_key:
            self.signature_key = key
            self._reset_fetches()
            self._notify("choice", "fetches")

    def choose_device(self, spec: str | None) -> None:
        self.device = spec or "cpu:0"

    def set_devices(self, devices: list[DeviceInfo] | None) -> None:
        self.devices = devices
        self._notify("devices")

    @property
    def has_gpu(self) -> bool:
        return any(d.device_type == "GPU" for d in self.devices or [])

    # -- risky ops ------------------------------------------------------------------------

    def risky_scan(self) -> MetaGraphScan | None:
        """The file and system ops of the chosen tag-set; None when it has none."""
        mg = self.meta_graph()
        if mg is None:
            return None
        scan = scan_meta_graph(mg)  # made once per meta graph
        return scan if scan.risky else None

    def needs_consent(self) -> bool:
        mg = self.meta_graph()
        return mg is not None and mg.tag_set not in self.allowed_risky and bool(self.risky_scan())

    def allow_risky(self) -> None:
        if self.tag_set is not None:
            self.allowed_risky.add(self.tag_set)

    @property
    def default_repeat(self) -> int:
        """One call for a model with file or system ops (ten WriteFiles are ten writes)."""
        return 1 if self.risky_scan() else DEFAULT_REPEAT

    def preload_target(self) -> tuple[Path | None, LoadRequest | None]:
        """The open model's path, and what a warm worker may load as soon as it opens: nothing
        for a model that cannot run, needs the user's consent (risky ops) or op libraries
        first."""
        path = self.model.path if self.model is not None else None
        mg = self.meta_graph()
        if mg is None or self.risky_scan() is not None or self.loads or self.by_names:
            return path, None
        if self.model.format != "saved_model":
            return path, None
        return path, LoadRequest(model=self.model, meta_graph=mg, device=self.device)

    # -- op libraries ---------------------------------------------------------------------

    def set_loads(self, loads: list[str]) -> None:
        self.loads = [name.strip() for name in loads if name.strip()]
        self._notify("loads")

    # -- running --------------------------------------------------------------------------

    def request(self, inputs: dict[str, np.ndarray], repeat: int) -> RunRequest | GraphRunRequest:
        """The run of the chosen signature (or of the fetches, by names) on the chosen
        device, checked: a model with risky ops is refused (RiskyOpsError) unless the user
        agreed, inputs that do not fit raise InputsRefused."""
        mg, signature = self.meta_graph(), self.signature()
        if mg is None or signature is None:
            raise SmlensError(self.model.path if self.model else "run", "nothing to run")
        if self.by_names:
            graph = GraphTarget(
                model=self.model,
                meta_graph=mg,
                device=self.device,
                allow_risky_ops=mg.tag_set in self.allowed_risky,
                loads=tuple(self.loads),
            )
            fetches = tuple(self.fetches)
            return GraphRunRequest(target=graph, fetches=fetches, inputs=inputs, repeat=repeat)
        target = LoadRequest(
            model=self.model,
            meta_graph=mg,
            device=self.device,
            allow_risky_ops=mg.tag_set in self.allowed_risky,
            loads=tuple(self.loads),
        )
        return RunRequest(target=target, signature=signature, inputs=inputs, repeat=repeat)

    def add_run(
        self, request: RunRequest, result: RunResult, stats: dict[str, TensorStats]
    ) -> RunRecord:
        """Keep a finished run and show it."""
        number = len(self.runs) + 1
        key, device = request.signature.key, request.target.device
        record = RunRecord(number, key, device, result, stats, dict(request.inputs))
        self.runs.append(record)
        self.shown = record
        self._notify("runs")
        return record

    def output_order(self) -> list[str]:
        """The shown run's outputs in signature order."""
        if self.shown is None or self.meta_graph() is None:
            return []
        if self.shown.signature == FEEDS_KEY:  # fetched by names, in the order asked
            return list(self.shown.outputs)
        signature = self.meta_graph().signatures.get(self.shown.signature)
        return list(signature.outputs) if signature else []

    # -- comparing and saving -------------------------------------------------------------

    def choose_baseline(self, which: str) -> None:
        self.compare_with = which if which in (PREVIOUS, NOTHING, *self.baselines) else NOTHING
        self._notify("baselines")

    def baseline(self) -> tuple[str, dict] | None:
        """(what it is, its outputs) for the Δ column, or None."""
        if self.compare_with == PREVIOUS:
            if self.shown is None or self.shown.number < 2:
                return None
            earlier = self.runs[self.shown.number - 2]
            return earlier.label, earlier.outputs
        if self.compare_with in self.baselines:
            return Path(self.compare_with).name, self.baselines[self.compare_with]
        return None

    def deltas(self) -> dict[str, OutputDelta]:
        baseline = self.baseline()
        if self.shown is None or baseline is None:
            return {}
        return output_deltas(self.shown.outputs, baseline[1])

    def compare_note(self) -> tuple[str, str]:
        """(short note, full note) on what the Δ column compares with."""
        baseline = self.baseline()
        if self.shown is None or baseline is None:
            wanted = self.compare_with == PREVIOUS and self.shown is not None
            return ("no earlier run yet" if wanted else ""), ""
        label = baseline[0]
        gone = [k for k, d in self.deltas().items() if d.status == "gone"]
        note = f"Δ vs {label}" + (f"; only there: {', '.join(gone)}" if gone else "")
        short = label.replace(f" · {self.shown.signature}", "")
        return (short if label != short else note), note

    def save_outputs(self, path: str | Path) -> Path:
        """Save the shown run's outputs as one .npz (never inside the model folder)."""
        if self.shown is None:
            raise SmlensError(path, "no run to save")
        target = Path(path).resolve()
        folder = self.model.path if self.model.path.is_dir() else self.model.path.parent
        if target.is_relative_to(folder.resolve()):
            raise SmlensError(path, "will not write into the model folder")
        return save_outputs(target, self.shown.outputs)

    def load_baseline(self, path: str | Path) -> None:
        """Compare with the outputs saved in ``path`` from now on."""
        self.baselines[str(path)] = load_outputs(path)
        self.compare_with = str(path)
        self._notify("baselines")
