"""Long areas folded into fewer lines for the default text, so a big diff still reads on a page.

Ops added or removed together are one line naming them all. An area with more entries than
the text lists folds further: new or removed functions that share a name (TensorFlow's
``__inference_<lambda>_91685``, ``_91704``, ...) into one line, ``__inference_<lambda> […]``;
and the main graph's changes into one line per top name scope (``transform/…: 616 nodes
removed (Const 211, ...)``): nodes added or removed first, changed ones too when that still
overflows, since node-by-node lines past the first few say less than where the graph
changed. Each folded line is a container of the changes it stands for, so what it covers is
counted, and ``--all`` or ``--json`` still list every one.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from smlens.core.diff.changes import Change
from smlens.core.model.text import counted

MIN_FOLDED = 3  # fewer alike entries than this stay one line each
_TOP_OPS = 3  # ops named in a folded scope's line
_NAMED = 4  # node names in a folded line of top-level nodes
_ONE_SIDED = ("removed", "added")


def fold_entries(area: str, entries: list[Change], listed: int) -> list[Change]:
    """``entries`` of one area with alike ones folded; ``listed`` is how many the text
    shows, past which functions and graph changes fold too."""
    if area == "ops":
        return _fold_ops(entries)
    if len(entries) <= listed:
        return entries
    if area == "functions":
        return _fold_functions(entries)
    if area == "graph":
        return _fold_scopes(entries, listed)
    return entries


def _fold_ops(entries: list[Change]) -> list[Change]:
    """Ops newly used or no longer used, one line per kind."""
    by_kind = defaultdict(list)
    for c in entries:
        if c.kind in ("added", "removed") and not c.children:
            by_kind[c.kind].append(c)
    folded = {}
    for kind, changes in by_kind.items():
        if len(changes) >= MIN_FOLDED:
            names = ", ".join(c.path[-1] for c in changes)
            what = "newly used" if kind == "added" else "no longer used"
            reason = f"{len(changes)} ops {what}"
            folded[kind] = Change(("ops", names), kind, reason=reason, children=changes)
    return _replace_groups(entries, folded, lambda c: c.kind if c.kind in folded else None)


def _fold_functions(entries: list[Change]) -> list[Change]:
    """New or removed functions of one name (their numbers aside), one line each."""

    def key(c: Change) -> tuple | None:
        if c.kind not in ("added", "removed") or len(c.path) < 3:
            return None
        return (c.kind, c.path[1], c.path[2].split(" [", 1)[0])

    groups = defaultdict(list)
    for c in entries:
        if (k := key(c)) is not None:
            groups[k].append(c)
    folded = {}
    for k, changes in groups.items():
        if len(changes) >= 2:
            kind, tag_set, stem = k
            what = "new functions" if kind == "added" else "functions no longer in the export"
            folded[k] = Change(
                ("functions", tag_set, f"{stem} […]"),
                kind,
                reason=f"{len(changes)} {what} named {stem}",
                children=changes,
            )
    return _replace_groups(entries, folded, lambda c: k if (k := key(c)) in folded else None)


def _fold_scopes(entries: list[Change], listed: int) -> list[Change]:
    """The main graph's changes folded per tag-set and top name scope holding at least
    MIN_FOLDED of them: first only the nodes added or removed, and when that still leaves
    more than ``listed`` entries, the changed nodes too. Top-level nodes added (or
    removed) together fold into one line naming them."""
    fewer = _fold_by_scope(entries, changed_too=False)
    return fewer if len(fewer) <= listed else _fold_by_scope(entries, changed_too=True)


def _fold_by_scope(entries: list[Change], changed_too: bool) -> list[Change]:
    def key(c: Change) -> tuple | None:
        if len(c.path) < 3:
            return None
        one_sided = len(c.path) == 3 and c.kind in _ONE_SIDED
        if "/" in c.path[2] and (one_sided or changed_too):
            return (c.path[1], c.path[2].split("/", 1)[0])
        if one_sided:  # a top-level node added or removed
            return (c.path[1], "", c.kind)
        return None

    groups = defaultdict(list)
    for c in entries:
        if (k := key(c)) is not None:
            groups[k].append(c)
    folded = {}
    for k, changes in groups.items():
        if len(changes) >= MIN_FOLDED:
            tag_set, scope = k[:2]
            kinds = {c.kind if len(c.path) == 3 else "changed" for c in changes}
            folded[k] = Change(
                ("graph", tag_set, f"{scope}/…" if scope else _names(changes)),
                kinds.pop() if len(kinds) == 1 else "changed",
                reason=_scope_reason(changes),
                children=changes,
            )
    return _replace_groups(entries, folded, lambda c: k if (k := key(c)) in folded else None)


def _names(changes: list[Change]) -> str:
    """The first few node names of a group, then an ellipsis."""
    names = [c.path[2] for c in changes]
    return ", ".join(names[:_NAMED]) + (", …" if len(names) > _NAMED else "")


def _scope_reason(changes: list[Change]) -> str:
    """ "612 nodes removed (Const 140, Identity 60, …), 9 added (…), 18 changed" """
    parts = []  # (how many nodes, what happened to them)
    for kind in _ONE_SIDED:
        ops = Counter(
            c.before if kind == "removed" else c.after
            for c in changes
            if c.kind == kind and len(c.path) == 3
        )
        if ops:
            top = ", ".join(f"{op} {n:,}" for op, n in ops.most_common(_TOP_OPS))
            more = ", …" if len(ops) > _TOP_OPS else ""
            parts.append((sum(ops.values()), f"{kind} ({top}{more})"))
    changed = [c for c in changes if not (c.kind in _ONE_SIDED and len(c.path) == 3)]
    if changed:
        what = Counter(c.path[3] if len(c.path) > 3 else c.kind for c in changed)
        top = ", ".join(f"{part} {n:,}" for part, n in what.most_common(_TOP_OPS))
        parts.append((len({c.path[2] for c in changed}), f"changed ({top})"))
    (n, what), *rest = parts
    return ", ".join([f"{counted(n, 'node')} {what}", *(f"{m:,} {text}" for m, text in rest)])


def _replace_groups(entries: list[Change], folded: dict, key_of) -> list[Change]:
    """``entries`` with each folded group's members replaced by the group, where the
    first member stood."""
    out, placed = [], set()
    for c in entries:
        k = key_of(c)
        if k is None:
            out.append(c)
        elif k not in placed:
            placed.add(k)
            out.append(folded[k])
    return out
