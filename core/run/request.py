"""What a run asks of the worker, checked once, where it is built: the model in hand, the
meta graph and signature to call, the inputs as the arrays the signature takes, the device,
how many calls and for how long.

A ``LoadRequest`` names a model to load into the worker (a window warms it up with one); a
``RunRequest`` adds one signature's call to it. Each refuses, as it is built, a model that
is not a SavedModel, a meta graph or a signature that is not the model's, a device that is
not one and inputs that do not fit; and a meta graph with file or system ops unless
``allow_risky_ops``, so no request that runs a risky model without consent can exist. The
engine takes a request as it is: it neither reads the model again nor checks it again.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smlens.core.analysis.scan import require_safe
from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.run.inputs import check_inputs

_DEVICE = re.compile(r"(cpu|gpu)(?::(\d+))?", re.IGNORECASE)


def parse_device(text: str) -> str:
    """ "cpu", "GPU", "gpu:1" or "/device:GPU:1" -> "cpu:0", "gpu:0", "gpu:1"."""
    match = _DEVICE.fullmatch(text.strip().removeprefix("/device:"))
    if not match:
        raise SmlensError("--device", f"{text!r} is not a device: use cpu, gpu or gpu:N")
    return f"{match[1].lower()}:{match[2] or 0}"


def require_runnable(model: Model, opened_as: str | Path | None = None) -> None:
    """Only a SavedModel runs: a checkpoint or a bare GraphDef has no signature to call.
    The error names ``opened_as`` (the folder a user named) when given, else the model."""
    if model.format != "saved_model":
        where = opened_as if opened_as is not None else model.path
        raise SmlensError(where, f"a {model.format} cannot be run; it needs a SavedModel")


def find_signature(model: Model, tag_set: str | list[str], key: str) -> tuple[MetaGraph, Signature]:
    """The meta graph of ``tag_set`` and its signature ``key``, as the command line names them."""
    mg = model.meta_graph(tag_set)
    if key not in mg.signatures:
        have = ", ".join(mg.signatures) or "none"
        raise SmlensError(
            model.path, f"no signature {key!r} in tag set {mg.tag_set!r}; it has: {have}"
        )
    return mg, mg.signatures[key]


def model_stamp(path: Path) -> tuple[int, ...]:
    """Changes when the model is re-exported: saved_model.pb's and variables.index's stats."""
    stamp: list[int] = []
    for name in ("saved_model.pb", "saved_model.pbtxt", "variables/variables.index"):
        with contextlib.suppress(OSError):
            st = (path / name).stat()
            stamp += [st.st_mtime_ns, st.st_size]
    return tuple(stamp)


@dataclass(frozen=True, kw_only=True)
class LoadRequest:
    """One meta graph of a model, to load into the worker on ``device``.

    ``loads`` names the Python packages or op libraries (.so) the worker loads before the
    model, for models with custom ops. ``path`` and ``stamp`` are taken as it is built:
    with the tags they key the worker's cache, so a re-exported folder is loaded again.
    """

    model: Model
    meta_graph: MetaGraph
    device: str = "cpu:0"
    allow_risky_ops: bool = False
    loads: tuple[str, ...] = ()
    path: Path = field(init=False)
    stamp: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        model, mg = self.model, self.meta_graph
        require_runnable(model)
        if not any(mine is mg for mine in model.meta_graphs):
            raise SmlensError(model.path, f"the meta graph {mg.tag_set!r} is not this model's")
        # Frozen once built: the checked values settle here.
        object.__setattr__(self, "device", parse_device(self.device))
        if not self.allow_risky_ops:
            require_safe(model, mg)  # loading runs the model's restore and init ops
        object.__setattr__(self, "loads", tuple(str(name) for name in self.loads))
        object.__setattr__(self, "path", Path(model.path).resolve())
        object.__setattr__(self, "stamp", model_stamp(self.path))


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """One signature of ``target``'s meta graph, called ``repeat`` times with ``inputs``.

    ``inputs`` are checked against the signature as the request is built (converted where
    nothing is lost, as ``check_inputs`` says); ``timeout`` (seconds) covers the whole run,
    the worker's start and the load included.
    """

    target: LoadRequest
    signature: Signature
    inputs: Mapping[str, np.ndarray]
    repeat: int = 1
    timeout: float | None = None

    def __post_init__(self) -> None:
        mg = self.target.meta_graph
        if mg.signatures.get(self.signature.key) != self.signature:
            raise SmlensError(
                self.target.model.path,
                f"no signature {self.signature.key!r} in tag set {mg.tag_set!r}",
            )
        object.__setattr__(self, "inputs", check_inputs(self.signature, self.inputs))
        if self.repeat < 1:
            raise SmlensError("repeat", f"must be at least 1, not {self.repeat}")

    @classmethod
    def of(
        cls,
        model: Model,
        tag_set: str | list[str],
        signature_key: str,
        inputs: Mapping[str, Any],
        *,
        repeat: int = 1,
        timeout: float | None = None,
        device: str = "cpu:0",
        allow_risky_ops: bool = False,
        loads: tuple[str, ...] | list[str] = (),
    ) -> RunRequest:
        """The request for a signature named by its tag set and key."""
        require_runnable(model)
        mg, signature = find_signature(model, tag_set, signature_key)
        target = LoadRequest(
            model=model,
            meta_graph=mg,
            device=device,
            allow_risky_ops=allow_risky_ops,
            loads=tuple(loads),
        )
        return cls(
            target=target, signature=signature, inputs=inputs, repeat=repeat, timeout=timeout
        )
