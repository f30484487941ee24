"""The project's error type and the warnings a partly readable model carries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SmlensError(Exception):
    """Bad input: the message names the file and what is wrong with it."""

    def __init__(self, path: str | Path, message: str):
        super().__init__(f"{path}: {message}")
        self.path = str(path)
        self.message = message


class CorruptTensorError(SmlensError):
    """A tensor's bytes do not match the checksum its index entry records."""

    def __init__(self, path: str | Path, key: str, message: str):
        super().__init__(path, f"tensor {key!r}: {message}")
        self.key = key


@dataclass(frozen=True)
class Problem:
    """A recoverable problem found while reading: one part of the model is unavailable.

    ``part`` says which panel it dims: "graph", "variables", "assets", "fingerprint",
    "object_graph" or "model".
    """

    part: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"
