"""What training kept beside the weights, summed up one line per kind for the diff's text.

Two trainings of one model differ in every optimizer moment and metric accumulator; listed
one by one they bury the weights. The text lists the weights and says of the rest, in one
line each: "optimizer state: 14 changed (adam momentum/velocity of 6 weights, iteration
5 -> 10)", "metrics: 8 changed (count, total, true_positives, ...)". ``--slots`` and
``--all`` list them too.
"""

from __future__ import annotations

from collections import Counter

from smlens.core.diff.changes import Change, ModelDiff, ValueDelta
from smlens.core.model.roles import (
    METRICS_GROUP,
    OPTIMIZER_GROUP,
    OPTIMIZER_SCALAR,
    OPTIMIZER_STATE,
    is_training_state,
    role_group,
)
from smlens.core.model.text import counted, grouped

GROUP_TEXT = {OPTIMIZER_GROUP: "optimizer state", METRICS_GROUP: "metrics"}
NAMES_LISTED = 8  # metric accumulators named on the line


def is_summarised(change: Change) -> bool:
    """Whether the text sums ``change`` up on a training-state line instead of listing it."""
    return change.role is not None and is_training_state(change.role)


def training_state_lines(diff: ModelDiff) -> list[str]:
    """One line per kind of training state that changed: optimizer, then metrics."""
    changes = [c for c in diff.changes(area="variables") if is_summarised(c)]
    deltas = [d for d in diff.value_deltas.values() if is_training_state(d.role)]
    lines = []
    for group, words in GROUP_TEXT.items():
        mine = [c for c in changes if role_group(c.role) == group]
        if not mine:
            continue
        kinds = Counter(c.kind for c in mine)
        counts = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        moved = [d for d in deltas if role_group(d.role) == group and d.identical is not True]
        detail = _optimizer_detail(moved) if group == OPTIMIZER_GROUP else _names(moved)
        lines.append(f"{words}: {counts}" + (f" ({detail})" if detail else ""))
    return lines


def _optimizer_detail(deltas: list[ValueDelta]) -> str:
    """ "adam momentum/velocity of 6 weights, iteration 5 -> 10" """
    parts = []
    state = [d for d in deltas if d.role == OPTIMIZER_STATE]
    owners = {d.slot_of for d in state if d.slot_of}
    if owners:
        slots = "/".join(dict.fromkeys(d.slot_name for d in state if d.slot_name))
        prefix = _common_head([d.name for d in deltas])
        what = " ".join(p for p in (prefix, slots) if p)
        parts.append(f"{what} of {counted(len(owners), 'weight')}")
    elif state:
        parts.append(counted(len(state), "moment"))
    for d in deltas:
        if d.role == OPTIMIZER_SCALAR and d.scalar_a is not None and d.scalar_a != d.scalar_b:
            parts.append(
                f"{d.name.rsplit('/', 1)[-1]} {_number(d.scalar_a)} -> {_number(d.scalar_b)}"
            )
    return ", ".join(parts)


def _common_head(names: list[str]) -> str:
    """The first name part every optimizer variable shares ("adam"), or ""."""
    heads = {n.split("/", 1)[0] for n in names if "/" in n}
    return heads.pop() if len(heads) == 1 and all("/" in n for n in names) else ""


def _names(deltas: list[ValueDelta]) -> str:
    """The accumulators' own names, each once: "count, total, true_positives, ..." """
    names = list(dict.fromkeys(d.name.rsplit("/", 1)[-1] for d in deltas))
    more = ", ..." if len(names) > NAMES_LISTED else ""
    return ", ".join(names[:NAMES_LISTED]) + more


def _number(value: float | int) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return grouped(value)
    return f"{value:.4g}"
