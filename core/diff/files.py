"""Files on disk: whether each part of the export is byte-identical, and asset changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from smlens.core.diff.changes import Change, Steps
from smlens.core.model import Model
from smlens.core.model.text import counted

_BLOCK = 1 << 20
_TEXT_LIMIT = 64 << 20  # bigger assets are compared by digest only
_LINES_LISTED = 20
PARTS = ("graph", "variables", "assets", "other")


def root_folder(model: Model) -> Path:
    """The folder that ``model.files`` and ``model.assets`` paths are relative to."""
    return model.path if model.path.is_dir() else model.path.parent


def part_of(rel: str) -> str:
    """Which part a file belongs to, as Model.bytes_by_part splits them."""
    top = rel.split("/", 1)[0]
    if top == "variables" or ".data-" in rel or rel.endswith(".index"):
        return "variables"
    if top in ("assets", "assets.extra"):
        return "assets"
    if rel.endswith((".pb", ".pbtxt", ".meta")):
        return "graph"
    return "other"


def same_bytes(a: Path, b: Path, steps: Steps) -> bool:
    """Whether two files hold the same bytes: sizes first, then block by block, stopping at
    the first difference (a retrained checkpoint differs within its first block)."""
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            steps.check()
            block = fa.read(_BLOCK)
            if block != fb.read(_BLOCK):
                return False
            if not block:
                return True


def compare_parts(a: Model, b: Model, steps: Steps) -> tuple[dict[str, bool], list[Change]]:
    """Per part (graph, variables, assets, other) present in either: byte-identical or not."""
    files_a, files_b = _by_part(a), _by_part(b)
    identical, changes = {}, []
    parts = [p for p in PARTS if files_a.get(p) or files_b.get(p)]
    for i, part in enumerate(parts):
        steps.report(i / len(parts), f"comparing {part} files")
        fa, fb = files_a.get(part, {}), files_b.get(part, {})
        differing = sorted(fa.keys() ^ fb.keys())
        differing += [
            rel
            for rel in sorted(fa.keys() & fb.keys())
            if not same_bytes(root_folder(a) / rel, root_folder(b) / rel, steps)
        ]
        identical[part] = not differing
        if differing:
            listed = ", ".join(sorted(differing)[:3]) + (", ..." if len(differing) > 3 else "")
            changes.append(
                Change(
                    ("metadata", "bytes", part),
                    "changed",
                    {"files": len(fa), "bytes": sum(fa.values())},
                    {"files": len(fb), "bytes": sum(fb.values())},
                    reason=f"the {part} files are not byte-identical ({listed})",
                    annotation="file bytes",
                )
            )
    return identical, changes


def _by_part(model: Model) -> dict[str, dict[str, int]]:
    parts: dict[str, dict[str, int]] = {}
    for rel, size in model.files.items():
        parts.setdefault(part_of(rel), {})[rel] = size
    return parts


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def diff_assets(a: Model, b: Model) -> list[Change]:
    """Assets added, removed, or with new contents (and for text files, which lines)."""
    assets_a = {x.path: x for x in a.assets}
    assets_b = {x.path: x for x in b.assets}
    changes = []
    for rel in sorted(assets_a.keys() | assets_b.keys()):
        path = ("assets", rel)
        if rel not in assets_b:
            changes.append(
                Change(
                    path,
                    "removed",
                    before={"size": assets_a[rel].size},
                    reason=f"{rel} is not in B; the graph diff shows whether anything still "
                    "reads it",
                )
            )
        elif rel not in assets_a:
            changes.append(
                Change(path, "added", after={"size": assets_b[rel].size}, reason=f"new {rel}")
            )
        else:
            change = _diff_asset(rel, root_folder(a) / rel, root_folder(b) / rel)
            if change:
                changes.append(change)
    return changes


def _diff_asset(rel: str, a: Path, b: Path) -> Change | None:
    """A changed asset; for text, ``before``/``after`` also list the lines removed/added."""
    digest_a, digest_b = sha256(a), sha256(b)
    if digest_a == digest_b:
        return None
    before = {"sha256": digest_a, "size": a.stat().st_size}
    after = {"sha256": digest_b, "size": b.stat().st_size}
    extra = rel.startswith("assets.extra/")
    effect = (
        "TensorFlow does not read assets.extra; only tools shipped with the model do"
        if extra
        else "the model reads this file when it loads, so the same input can now give "
        "different results (a vocabulary, for one, maps words to other ids)"
    )
    lines_a, lines_b = _text_lines(a), _text_lines(b)
    if lines_a is not None and lines_b is not None:
        removed, added, summary = _line_diff(lines_a, lines_b)
        before["lines_removed"], after["lines_added"] = removed, added
        effect += f"; {summary}"
    return Change(
        ("assets", rel),
        "changed",
        before,
        after,
        "info" if extra else "risky",
        f"{rel} has new contents: {effect}",
    )


def _text_lines(path: Path) -> list[str] | None:
    """The file's lines if it is UTF-8 text of a sensible size, else None."""
    if path.stat().st_size > _TEXT_LIMIT:
        return None
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None


def _line_diff(a: list[str], b: list[str]) -> tuple[list[str], list[str], str]:
    """Lines only in A, lines only in B (the first few of each), and a summary."""
    set_a, set_b = set(a), set(b)
    removed = [line for line in a if line not in set_b]
    added = [line for line in b if line not in set_a]
    if removed or added:
        summary = f"{counted(len(added), 'line')} added, {len(removed)} removed"
    else:
        summary = "the same lines in another order (line numbers, so ids, moved)"
    if max(len(added), len(removed)) > _LINES_LISTED:
        summary += f" (the first {_LINES_LISTED} of each listed)"
    return removed[:_LINES_LISTED], added[:_LINES_LISTED], summary
