"""What one run may allocate for its inputs, checked before anything is allocated.

A signature whose dims are 2**40, ``--batch 100000000`` or a ``.npy`` whose header claims
10**12 elements would otherwise take the machine's memory before the worker even starts:
each is sized from its shape and dtype first, and refused above the budget.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from typing import IO

import numpy as np

from smlens.core.errors import SmlensError
from smlens.core.model.text import human_bytes

DEFAULT_INPUT_BYTES = 2 << 30  # 2 GiB: --max-input-bytes overrides it
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)


def parse_bytes(text: str) -> int:
    """ "2G", "512M", "1.5GiB" or a plain number of bytes."""
    match = _SIZE.match(text)
    if not match:
        raise SmlensError("--max-input-bytes", f"{text!r} is not a size like 2G, 512M or 1000")
    return int(float(match[1]) * _UNITS[match[2].upper()])


@dataclass
class InputBudget:
    """The bytes one run's inputs may still allocate; ``take`` refuses before allocating."""

    limit: int = DEFAULT_INPUT_BYTES
    used: int = 0

    def take(self, where: str, nbytes: int, what: str) -> None:
        if self.used + nbytes > self.limit:
            raise SmlensError(
                where,
                f"{what} needs {human_bytes(nbytes)}, over the {human_bytes(self.limit)} limit "
                "on one run's inputs (raise it with --max-input-bytes)",
            )
        self.used += nbytes


def check_batch(batch_size: int) -> None:
    if batch_size < 1:
        raise SmlensError("--batch", f"must be 1 or more, not {batch_size}")


def check_shape(where: str, shape: tuple[int, ...]) -> int:
    """The element count of ``shape`` (Python ints, so never overflowing); a negative dim
    is an SmlensError."""
    for d in shape:
        if d < 0:
            raise SmlensError(where, f"shape {list(shape)} has a negative dimension")
    return math.prod(shape)


# -- numpy files ----------------------------------------------------------------------------


def npy_size(where: str, f: IO[bytes], available: int | None) -> tuple[tuple[int, ...], int]:
    """The shape and byte size a .npy stream's header claims, read without loading it.

    ``available`` is how many bytes the stream holds; a header claiming more is refused.
    """
    try:
        version = np.lib.format.read_magic(f)
        start = f.tell() if available is not None else 0
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        header = f.tell() - start
    except (ValueError, OSError, SyntaxError, TypeError) as e:
        raise SmlensError(where, f"not a .npy file: {e}") from None
    if dtype.hasobject:
        raise SmlensError(where, "holds Python objects, which cannot load without unpickling")
    nbytes = check_shape(where, shape) * dtype.itemsize
    if available is not None and nbytes > available - header:
        raise SmlensError(
            where, f"its header claims {nbytes} bytes of data, the file holds {available - header}"
        )
    return shape, nbytes


def check_npz_member(where: str, path, member: str) -> int:
    """The byte size of one array of a .npz, from its header (zip members are streams)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member + ".npy")
            with archive.open(info) as f:
                return npy_size(where, f, None)[1]
    except (KeyError, zipfile.BadZipFile, OSError) as e:
        raise SmlensError(where, f"not a readable .npz: {e}") from None


# -- numpy constructors ---------------------------------------------------------------------


def requested_elements(name: str, args: list, kwargs: dict) -> int | None:
    """How many elements the numpy constructor ``name`` (``zeros``, ``random.rand``, ...)
    would allocate when called with ``args``, or None when it is bounded by its arguments
    (``array`` of a literal)."""
    if name in ("zeros", "ones", "full"):
        return _elements(args[0] if args else kwargs.get("shape", ()))
    if name in ("random.rand", "random.randn"):
        return _elements(tuple(args))
    if name in ("random.randint", "random.uniform", "random.normal"):
        size = args[2] if len(args) > 2 else kwargs.get("size")
        return 1 if size is None else _elements(size)
    if name == "eye":
        n = args[0] if args else kwargs.get("N", 0)
        m = args[1] if len(args) > 1 and args[1] is not None else kwargs.get("M") or n
        return _elements((n, m))
    if name == "linspace":
        return _elements(args[2] if len(args) > 2 else kwargs.get("num", 50))
    if name == "arange":
        return _arange_count(args, kwargs)
    return None


def _elements(shape) -> int:
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    n = 1
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            return 0  # numpy itself refuses it, with its own message
        n *= max(int(d), 0)
    return n


def _arange_count(args: list, kwargs: dict) -> int:
    values = list(args) + [kwargs[k] for k in ("start", "stop", "step") if k in kwargs]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) != len(values) or not numbers:
        return 0
    start, stop, step = (0, numbers[0], 1) if len(numbers) == 1 else (*numbers[:2], 1)
    if len(numbers) > 2:
        step = numbers[2]
    if step == 0 or not all(map(math.isfinite, (start, stop, step))):
        return 0
    return max(math.ceil((stop - start) / step), 0)
