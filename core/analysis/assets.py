"""Asset files without Qt: a text or hex preview of one, and which graph tensors use it.

Only regular files are read (a FIFO in assets/ would block), and an asset that leads
outside the model folder is previewed only when the caller says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from smlens.core.errors import SmlensError
from smlens.core.formats.files import open_regular, outside, outside_message
from smlens.core.model import Model

PREVIEW_LINES = 500
HEAD_BYTES = 64 * 1024
HEX_BYTES = 1024
CHUNK = 1 << 20


@dataclass(frozen=True)
class FilePreview:
    size: int
    binary: bool
    text: str  # numbered first lines, or a hex dump of the first bytes
    line_count: int | None  # lines in the whole file (text files)
    shown_lines: int


def hex_dump(data: bytes, width: int = 16) -> str:
    """Offset, hex bytes and printable ASCII per row, as ``hexdump -C`` prints them."""
    rows = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        rows.append(f"{offset:08x}  {hexes}  |{text}|")
    return "\n".join(rows)


def is_binary(head: bytes) -> bool:
    """NUL bytes or invalid UTF-8 (a character cut at the end of ``head`` is fine)."""
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(head) - 3
    return False


def count_lines(path: Path, cancelled=lambda: False) -> int | None:
    """Lines in the file (a last line without newline counts); None when cancelled."""
    count, last = 0, b"\n"
    with open_regular(path) as f:
        while chunk := f.read(CHUNK):
            if cancelled():
                return None
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def outside_asset(model: Model, rel: str) -> str | None:
    """Why the asset ``rel`` (relative to the model folder) leads outside the model folder
    ("is a symlink to /etc/passwd, outside the model folder"), or None if it does not."""
    root = asset_root(model)
    real = outside(root / rel, root)
    return None if real is None else outside_message(root / rel, real)


def asset_root(model: Model) -> Path:
    return Path(model.path) if Path(model.path).is_dir() else Path(model.path).parent


def preview_file(
    path: str | Path,
    max_lines: int = PREVIEW_LINES,
    *,
    progress,
    cancelled,
    root: str | Path | None = None,
):
    """The first lines of a text file (numbered from 0, as a vocabulary's ids are), or a
    hex dump of a binary one.

    Only regular files are read; with ``root``, a path leading outside it is refused (the
    caller asks the user first, then calls again without ``root``).
    """
    path = Path(path)
    if root is not None and (real := outside(path, root)) is not None:
        raise SmlensError(path, outside_message(path, real) + ": not previewed")
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(HEAD_BYTES)
    if is_binary(head):
        return FilePreview(size, True, hex_dump(head[:HEX_BYTES]), None, 0)
    progress(0.2, "counting lines")
    total = count_lines(path, cancelled)
    lines = head.decode("utf-8", "replace").splitlines()
    if size > len(head) and lines:
        lines.pop()  # the last line read may be cut off
    lines = lines[:max_lines]
    width = len(str(max(len(lines) - 1, 0)))
    text = "\n".join(f"{i:>{width}}  {line}" for i, line in enumerate(lines))
    return FilePreview(size, False, text, total, len(lines))


def asset_users(model: Model) -> dict[str, list[str]]:
    """Asset file name -> the graph tensors (asset_file_def) and object paths fed with it."""
    users: dict[str, list[str]] = {}
    for mg in model.meta_graphs:
        for asset in mg.asset_files:
            users.setdefault(asset.filename, []).append(asset.tensor_name)
        if not mg.asset_files:
            for tensor, filename in _collection_assets(mg):
                users.setdefault(filename, []).append(tensor)
        graph = mg.object_graph
        for node in graph.nodes if graph else []:
            if node.asset_index is not None and 0 <= node.asset_index < len(mg.asset_files):
                users[mg.asset_files[node.asset_index].filename].append(node.path)
    return {name: list(dict.fromkeys(found)) for name, found in users.items()}


def _collection_assets(mg) -> list[tuple[str, str]]:
    """(tensor, file name) from the TF1 ``asset_filepaths`` collection, whose tensors are
    Consts holding the path the asset had at export time (builder_impl.py)."""
    collection = mg.collections.get("asset_filepaths")
    if collection is None or collection.kind != "node_list":
        return []
    nodes = {n.name: n for n in mg.graph.nodes}
    found = []
    for tensor in dict.fromkeys(collection.values):
        node = nodes.get(tensor.split(":")[0])
        value = node.attrs.get("value") if node is not None and node.op == "Const" else None
        try:
            raw = value.numpy().item() if value is not None else None
        except (ValueError, TypeError, AttributeError):
            raw = None
        if isinstance(raw, bytes):
            found.append((tensor, raw.decode("utf-8", "replace").replace("\\", "/").split("/")[-1]))
    return found
