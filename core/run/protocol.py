"""What the run client and the run worker say to each other: JSON lines and array files.

Each message is one JSON object on one line. Arrays travel as files in a temp dir the client
owns; a message carries a spec (``{"path": ..., "format": ...}``) for each. Nothing here is
pickled: numeric arrays are plain .npy files, string arrays are two arrays in one file
(lengths, then the concatenated bytes), and ml_dtypes arrays (bfloat16, float8, int4...) go
as unsigned integers of the same width with the dtype's name in the spec.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes | str) -> dict:
    return json.loads(line)


def write_array(path: str | Path, array: np.ndarray) -> dict:
    """Save ``array`` to ``path`` and return the spec that reads it back."""
    path = str(path)
    if array.dtype == object or array.dtype.kind in "SU":
        return _write_strings(path, array)
    if array.dtype.type.__module__.startswith("ml_dtypes"):
        np.save(path, array.view(_UINT[array.dtype.itemsize]), allow_pickle=False)
        return {"path": path, "format": "npy", "view": array.dtype.name}
    np.save(path, array, allow_pickle=False)
    return {"path": path, "format": "npy"}


def read_array(spec: dict) -> np.ndarray:
    if spec["format"] == "strings":
        return _read_strings(spec["path"])
    array = np.load(spec["path"], allow_pickle=False)
    if "view" in spec:
        import ml_dtypes

        array = array.view(getattr(ml_dtypes, spec["view"]))
    return array


def _as_bytes(value) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def _write_strings(path: str, array: np.ndarray) -> dict:
    items = [_as_bytes(v) for v in array.ravel()]
    lengths = np.array([len(b) for b in items], dtype=np.int64).reshape(array.shape)
    with open(path, "wb") as f:
        np.save(f, lengths, allow_pickle=False)
        np.save(f, np.frombuffer(b"".join(items), dtype=np.uint8), allow_pickle=False)
    return {"path": path, "format": "strings"}


def _read_strings(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        lengths = np.load(f, allow_pickle=False)
        data = np.load(f, allow_pickle=False).tobytes()
    ends = np.cumsum(lengths.ravel())
    starts = ends - lengths.ravel()
    out = np.empty(lengths.size, dtype=object)
    out[:] = [data[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    return out.reshape(lengths.shape)
