"""A run kept in one .npz: the inputs fed and the outputs of one side or both, per
signature and per call, so a later run of another export can be held against it.

Nothing is pickled. A string tensor is stored as two arrays, its bytes concatenated
(``uint8``) and each element's length shaped like the tensor (``int64``), so bytes that
end in NUL (a serialized tf.Example may) come back exactly; a ``meta`` entry (JSON as
``uint8``) says which signature and call each array belongs to.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smlens.core.errors import SmlensError

FORMAT = "smlens-run"
VERSION = 1
SIDES = ("a", "b")


@dataclass
class SavedCall:
    """One call of a signature: what it was fed, and each side's outputs."""

    inputs: dict[str, np.ndarray]
    outputs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # side -> key -> array


@dataclass
class SavedSignature:
    tag_set: str
    signature: str
    source: str  # where the inputs came from, as the diff names it
    calls: list[SavedCall] = field(default_factory=list)


@dataclass
class SavedRun:
    """Runs of one or two exports on the same inputs; ``models`` names them by side."""

    signatures: list[SavedSignature]
    models: dict[str, str] = field(default_factory=dict)

    def signature(self, tag_set: str, key: str) -> SavedSignature | None:
        for sig in self.signatures:
            if sig.signature == key and set(sig.tag_set.split(",")) == set(tag_set.split(",")):
                return sig
        return None


def _put(arrays: dict[str, np.ndarray], name: str, value: np.ndarray) -> dict:
    """Store ``value`` under ``name`` (two arrays for strings); its entry for the meta."""
    value = np.asarray(value)
    if value.dtype == object or value.dtype.kind in "SU":
        items = [v.encode() if isinstance(v, str) else bytes(v) for v in value.ravel()]
        arrays[f"{name}.bytes"] = np.frombuffer(b"".join(items), dtype=np.uint8)
        arrays[f"{name}.lengths"] = np.array([len(i) for i in items], np.int64).reshape(value.shape)
        return {"array": name, "strings": True}
    arrays[name] = value
    return {"array": name, "strings": False}


def _get(data, entry: dict) -> np.ndarray:
    name = entry["array"]
    if not entry["strings"]:
        return data[name]
    blob = data[f"{name}.bytes"].tobytes()
    lengths = data[f"{name}.lengths"]
    out = np.empty(lengths.shape, dtype=object)
    flat, offset = [], 0
    for n in lengths.ravel().tolist():
        flat.append(blob[offset : offset + n])
        offset += n
    out.ravel()[:] = flat
    return out


def save_run(path: str | Path, run: SavedRun) -> Path:
    """Write ``run`` to ``path`` (.npz)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    meta_signatures = []
    for s, sig in enumerate(run.signatures):
        calls = []
        for c, call in enumerate(sig.calls):
            prefix = f"s{s}/c{c}"
            entry = {
                "inputs": {
                    k: _put(arrays, f"{prefix}/in{i}", v)
                    for i, (k, v) in enumerate(call.inputs.items())
                },
                "outputs": {
                    side: {
                        k: _put(arrays, f"{prefix}/{side}{i}", v)
                        for i, (k, v) in enumerate(outputs.items())
                    }
                    for side, outputs in call.outputs.items()
                },
            }
            calls.append(entry)
        meta_signatures.append(
            {
                "tag_set": sig.tag_set,
                "signature": sig.signature,
                "source": sig.source,
                "calls": calls,
            }
        )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "models": run.models,
        "signatures": meta_signatures,
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    try:
        with open(path, "wb") as f:
            np.savez(f, allow_pickle=False, **arrays)
    except OSError as e:
        raise SmlensError(path, f"cannot write: {e.strerror or e}") from None
    return path


def load_run(path: str | Path) -> SavedRun:
    """A run written by ``save_run``; SmlensError naming the file for anything else."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise SmlensError(path, "no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise SmlensError(path, f"not a saved run (.npz): {e}") from None
    if not isinstance(data, np.lib.npyio.NpzFile) or "meta" not in data.files:
        raise SmlensError(path, "not a saved run: no 'meta' entry (write it with --save-run)")
    with data:
        try:
            meta = json.loads(data["meta"].tobytes())
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')!r}")
            signatures = []
            for sig in meta["signatures"]:
                calls = [
                    SavedCall(
                        {k: _get(data, e) for k, e in call["inputs"].items()},
                        {
                            side: {k: _get(data, e) for k, e in outputs.items()}
                            for side, outputs in call["outputs"].items()
                        },
                    )
                    for call in sig["calls"]
                ]
                signatures.append(
                    SavedSignature(sig["tag_set"], sig["signature"], sig["source"], calls)
                )
        except (KeyError, ValueError, TypeError) as e:
            raise SmlensError(path, f"not a saved run smlens can read: {e}") from None
    return SavedRun(signatures, dict(meta.get("models", {})))
