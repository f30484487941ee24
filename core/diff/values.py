"""Variables of two exports: which were added, removed or reshaped, and how values moved.

Values are compared tensor by tensor. A pair whose stored crc32c and size agree is identical
without reading a byte. Others are read in chunks with plain file reads at the entry's
offset rather than through the bundle's memory map: mapped pages count towards the
process's resident memory until unmapped, reads from the page cache do not, so peak memory
stays near two chunks whatever the checkpoint's size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from smlens.core.diff.changes import Change, Steps, ValueDelta
from smlens.core.diff.variable_pairing import (
    VariablePair,
    VariablePairing,
    pair_constants,
    pair_variables,
    stored_parts,
)
from smlens.core.errors import Problem, SmlensError
from smlens.core.model import Model, Variable
from smlens.core.model.dtypes import dtype as lookup_dtype
from smlens.core.model.roles import ROLES, WEIGHT, is_training_state, role_text
from smlens.core.model.text import counted, human_bytes

CHUNK_BYTES = 8 << 20


def _labels(va: list[Variable], vb: list[Variable]) -> dict[int, str]:
    """A unique label per variable: its name, plus its key where a side has two tensors of
    that name."""
    dup = set()
    for side in (va, vb):
        seen = set()
        for v in side:
            (dup if v.name in seen else seen).add(v.name)
    return {id(v): f"{v.name} ({v.key})" if v.name in dup else v.name for v in (*va, *vb)}


def _describe(v: Variable) -> str:
    return f"{v.dtype} {v.shape}"


def diff_variables(
    a: Model,
    b: Model,
    steps: Steps,
    *,
    values: bool = True,
    slots: bool = False,
    pairing: VariablePairing | None = None,
    constant_pairing: VariablePairing | None = None,
) -> tuple[list[Change], dict[str, ValueDelta], list[Problem]]:
    """Changes of the variables area, the value delta of every pair, and read problems.

    Variables are the distinct tensors of each side (``Model.distinct_variables``, as the
    Variables panel lists them), paired by ``pair_variables``; frozen weights (big Const
    tensors, ``Model.constants``) are paired by ``pair_constants`` and compared the same
    way, read from the graph. Optimizer state and metrics are not read unless ``slots``
    (their one-element scalars, such as the iteration count, always are); nothing is read
    unless ``values``. Each change carries its variable's role, and the weights' changes
    come first.
    """
    pairing = pairing or pair_variables(a, b)
    constants = constant_pairing or pair_constants(a, b)
    has_constants = bool(constants.pairs or constants.removed or constants.added)
    changes, deltas, problems = _diff_pairing(
        a.distinct_variables(),
        b.distinct_variables(),
        pairing,
        (a.checkpoint, b.checkpoint),
        steps.span(0.0, 0.5) if has_constants else steps,
        values=values,
        slots=slots,
    )
    if has_constants:
        more = _diff_pairing(
            a.constants(),
            b.constants(),
            constants,
            (a.constant_source(), b.constant_source()),
            steps.span(0.5, 1.0),
            values=values,
            slots=slots,
        )
        changes += more[0]
        deltas.update(more[1])
        problems += more[2]
    changes.sort(key=lambda c: (ROLES.index(c.role or WEIGHT), c.path[1]))
    return changes, deltas, problems


def _diff_pairing(
    va: list[Variable],
    vb: list[Variable],
    pairing: VariablePairing,
    sources: tuple,
    steps: Steps,
    *,
    values: bool,
    slots: bool,
) -> tuple[list[Change], dict[str, ValueDelta], list[Problem]]:
    """The changes and value deltas of one pairing, read from ``sources`` (A's, B's)."""
    label = _labels(va, vb)
    changes = [_one_sided(label[id(v)], v, "removed") for v in pairing.removed]
    changes += [_one_sided(label[id(v)], v, "added") for v in pairing.added]
    comparable = []
    renamed = {}
    for pair in pairing.pairs:
        x, y = pair.a, pair.b
        if pair.renamed:
            renamed[label[id(x)]] = pair
        if (x.dtype, x.shape) != (y.dtype, y.shape):
            changes.append(_reshaped(label[id(x)], x, y))
        else:
            comparable.append((label[id(x)], x, y))
    comparer = _ValueComparer(sources, steps, values=values, slots=slots)
    deltas, problems = comparer.run(comparable)
    for (name, x, _), delta in zip(comparable, deltas.values(), strict=True):
        pair = renamed.get(name)
        if pair is not None:
            changes.append(_renamed(name, pair, delta))
        elif delta.identical is not True:
            reason = _delta_text(x, delta)
            changes.append(Change(("variables", name), "changed", reason=reason, role=x.role))
    return changes, deltas, problems


def _one_sided(label: str, v: Variable, kind: str) -> Change:
    """A variable that only A ("removed") or only B ("added") has."""
    described = _describe(v)
    before, after = (described, None) if kind == "removed" else (None, described)
    where = "is not in B" if kind == "removed" else "is new"
    return Change(
        ("variables", label),
        kind,
        before,
        after,
        reason=f"{_noun(v)} '{v.name}'{_slot_text(v)} {where}",
        role=v.role,
    )


def _renamed(label: str, pair: VariablePair, delta: ValueDelta) -> Change:
    values = "values identical" if delta.identical else _delta_text(pair.a, delta).split(": ", 1)[1]
    return Change(
        ("variables", label),
        "renamed",
        pair.a.name,
        pair.b.name,
        reason=f"{_noun(pair.a)} '{pair.a.name}' is '{pair.b.name}' in B ({pair.reason}); {values}",
        role=pair.a.role,
    )


def _slot_text(v: Variable) -> str:
    if v.slot_of:
        return f" (optimizer state {v.slot_name!r} of {v.slot_of})"
    return "" if v.is_weight else f" ({role_text(v.role)})"


def _reshaped(label: str, x: Variable, y: Variable) -> Change:
    what = " and ".join(
        f"{k} {p} -> {q}"
        for k, p, q in (("dtype", x.dtype, y.dtype), ("shape", x.shape, y.shape))
        if p != q
    )
    if x.constant:  # a frozen weight: no checkpoint to restore, the graph carries it
        read = f" ({y.consumer})" if y.consumer else ""
        why = (
            f"the op reading it{read} computes on a tensor of another type; the signatures, "
            "feeds and fetches show whether clients see it"
        )
    else:
        why = (
            "a checkpoint of one export cannot be restored into the other's graph (restoring "
            "checks dtypes and shapes), though each SavedModel still loads with its own variables"
        )
    return Change(
        ("variables", label),
        "changed",
        _describe(x),
        _describe(y),
        "risky",
        f"{_noun(x)} '{x.name}': {what}; {why}",
        role=x.role,
    )


def _delta_text(v: Variable, d: ValueDelta) -> str:
    if d.identical is None:
        what = d.note or "not compared"
        return f"{_noun(v)} '{v.name}': values differ (stored checksums); {what}"
    parts = [] if d.max_abs is None else [f"max |Δ| {d.max_abs:.4g}"]
    if d.mean_abs is not None:
        parts.append(f"mean |Δ| {d.mean_abs:.4g}")
    if d.relative_l2 is not None and math.isinf(d.relative_l2) and not d.note:
        parts.append("relative L2 inf (A is all zeros)")
    elif d.relative_l2 is not None:
        parts.append(f"relative L2 {d.relative_l2:.3%}")
    if d.note:
        parts.append(d.note)
    parts.append(f"{d.changed_fraction:.1%} of {counted(d.count, 'element')} changed")
    return f"{_noun(v)} '{v.name}': values changed: " + ", ".join(parts)


def _noun(v: Variable) -> str:
    """How a tensor is called in a reason: a frozen weight is a constant."""
    return "constant" if v.constant else "variable"


class _ValueComparer:
    """Computes the ValueDelta of each pair, reporting progress by bytes read."""

    def __init__(self, sources: tuple, steps: Steps, *, values: bool, slots: bool):
        self.bundles = sources  # A's and B's checkpoints, or their frozen constants
        self.steps, self.values, self.slots = steps, values, slots
        self.problems: list[Problem] = []
        self.total = self.done = 0

    def run(self, pairs: list[tuple[str, Variable, Variable]]) -> tuple[dict, list[Problem]]:
        todo = {}
        deltas = {}
        for name, x, y in pairs:
            delta, read = self._triage(name, x, y)
            deltas[name] = delta
            if read:
                todo[name] = (x, y)
                self.total += self._size(x.key, y.key)
        if not todo:
            return deltas, self.problems
        readers = tuple(_ChunkReader(bundle) for bundle in self.bundles)
        try:
            for name, (x, y) in todo.items():
                self.steps.report(self.done / self.total, f"comparing {name}")
                deltas[name] = self._compare(deltas[name], x, y, readers)
        finally:
            for reader in readers:
                reader.close()
        self.steps.report(1.0, "values compared")
        return deltas, self.problems

    def _triage(self, name: str, x: Variable, y: Variable) -> tuple[ValueDelta, bool]:
        """The delta known without reading, and whether the values must be read."""
        delta = ValueDelta(
            name,
            x.key,
            y.key,
            x.dtype,
            x.shape.dims,
            None,
            count=x.num_elements,
            role=x.role,
            slot_of=x.slot_of,
            slot_name=x.slot_name,
            constant=x.constant,
        )
        bundle_a, bundle_b = self.bundles
        if bundle_a is None or bundle_b is None:
            return replace(delta, note="no checkpoint to compare"), False
        sums = stored_parts(bundle_a, x.key)
        if sums is not None and sums == stored_parts(bundle_b, y.key):
            return replace(delta, identical=True), False
        if is_training_state(x.role) and x.num_elements != 1 and not self.slots:
            return replace(delta, note=f"{role_text(x.role)}, not compared"), False
        if not self.values:
            return replace(delta, note="values not compared"), False
        if lookup_dtype(x.dtype).numpy is None and x.dtype != "DT_STRING":
            return replace(delta, note=f"{x.dtype} values are not compared"), False
        return delta, True

    def _size(self, key_a: str, key_b: str) -> int:
        """Stored bytes of both tensors, for progress."""
        parts = stored_parts(self.bundles[0], key_a), stored_parts(self.bundles[1], key_b)
        return sum(size for part in parts for _, _, size in part or ())

    def _compare(self, delta: ValueDelta, x: Variable, y: Variable, readers) -> ValueDelta:
        acc = _Accumulator()
        try:
            if all(r.streamable(v.key) for r, v in zip(readers, (x, y), strict=True)):
                chunks = zip(readers[0].chunks(x.key), readers[1].chunks(y.key), strict=True)
                for chunk_a, chunk_b in chunks:
                    acc.add(chunk_a, chunk_b)
                    self.done += chunk_a.nbytes + chunk_b.nbytes
                    self.steps.report(self.done / self.total, f"comparing {delta.name}")
            else:  # strings, partitioned variables: whole tensors through the bundle
                bundle_a, bundle_b = self.bundles
                acc.add(bundle_a.read(x.key).reshape(-1), bundle_b.read(y.key).reshape(-1))
                self.done += self._size(x.key, y.key)
        except SmlensError as e:
            self.problems.append(Problem("variables", e.path, e.message))
            return replace(delta, note=f"unreadable: {e.message}")
        return acc.delta(replace(delta, scalar_a=acc.scalar_a, scalar_b=acc.scalar_b))


class _ChunkReader:
    """Reads a stored numeric tensor in chunks with file reads at its offset in the shard."""

    def __init__(self, bundle):
        self.bundle = bundle
        self.files = {}

    def streamable(self, key: str) -> bool:
        if not hasattr(self.bundle, "shard_path"):  # frozen constants: values in the graph
            return False
        entry = self.bundle.entries[key]
        np_dtype = lookup_dtype(entry.dtype).numpy
        count = entry.shape.num_elements()
        return (
            not entry.slices
            and np_dtype is not None
            and count is not None
            and entry.size == count * np_dtype.itemsize
        )

    def chunks(self, key: str) -> Iterator[np.ndarray]:
        entry = self.bundle.entries[key]
        np_dtype = lookup_dtype(entry.dtype).numpy
        count = entry.shape.num_elements()
        step = max(1, CHUNK_BYTES // np_dtype.itemsize)
        f = self._file(entry.shard_id)
        for start in range(0, count, step):
            n = min(step, count - start)
            out = np.empty(n, dtype=np_dtype)
            f.seek(entry.offset + start * np_dtype.itemsize)
            got = f.readinto(out.view(np.uint8))
            if got != out.nbytes:
                raise SmlensError(
                    f.name, f"tensor {key!r}: the shard ends {human_bytes(out.nbytes - got)} early"
                )
            yield out

    def _file(self, shard_id: int):
        if shard_id not in self.files:
            path = self.bundle.shard_path(shard_id)
            try:
                self.files[shard_id] = open(path, "rb")  # noqa: SIM115 -- closed in close()
            except OSError as e:
                raise SmlensError(path, f"cannot read data shard: {e.strerror or e}") from None
        return self.files[shard_id]

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files.clear()


@dataclass
class _Accumulator:
    """Running sums for max/mean |b - a|, ||b - a||, ||a|| and the changed count."""

    count: int = 0
    changed: int = 0
    nonfinite: int = 0
    max_abs: float = 0.0
    sum_abs: float = 0.0
    sum_sq_diff: float = 0.0
    sum_sq_a: float = 0.0
    numeric: bool = True
    scalar_a: float | int | None = None  # the values of a one-element tensor
    scalar_b: float | int | None = None

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        if self.count == 0 and a.size == 1 and a.dtype.kind in "biuf":
            self.scalar_a, self.scalar_b = a.reshape(-1)[0].item(), b.reshape(-1)[0].item()
        self.count += a.size
        if holds_strings(a):
            self.numeric = False
            self.changed += int(np.count_nonzero(a != b))
            return
        a, b = subtractable(a, b)
        work = np.complex128 if a.dtype.kind == "c" else np.float64
        d = differences(a, b)  # inf - inf is NaN: sorted out in _drop_nonfinite
        np.abs(d, out=d)
        total = float(d.sum())
        if not math.isfinite(total):
            d = self._drop_nonfinite(a, b, d)
            total = float(d.sum())
        else:
            self.changed += int(np.count_nonzero(d))
        if d.size:
            self.max_abs = max(self.max_abs, float(d.max()))
        self.sum_abs += total
        self.sum_sq_diff += float(np.dot(d, d))
        fa = np.abs(a.astype(work)) if work is np.complex128 else a.astype(work)
        sq = float(np.dot(fa, fa))
        if not math.isfinite(sq):
            fa = fa[np.isfinite(fa)]
            sq = float(np.dot(fa, fa))
        self.sum_sq_a += sq

    def _drop_nonfinite(self, a: np.ndarray, b: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Zero the differences of equal elements (NaN == NaN, Inf == Inf) and count the
        ones that became or stopped being NaN/Inf."""
        equal = a == b
        if a.dtype.kind in "fc":
            equal |= np.isnan(a) & np.isnan(b)
        d[equal] = 0
        bad = ~np.isfinite(d)
        self.nonfinite += int(np.count_nonzero(bad))
        self.changed += int(np.count_nonzero(~equal))
        d[bad] = 0
        return d

    def delta(self, base: ValueDelta) -> ValueDelta:
        if not self.numeric:
            return replace(base, identical=self.changed == 0, read=True, changed_count=self.changed)
        if self.nonfinite:
            return replace(
                base,
                identical=False,
                read=True,
                changed_count=self.changed,
                max_abs=math.inf,
                mean_abs=math.inf,
                relative_l2=math.inf,
                note=nonfinite_note(self.nonfinite),
            )
        diff_norm = math.sqrt(self.sum_sq_diff)
        a_norm = math.sqrt(self.sum_sq_a)
        relative = diff_norm / a_norm if a_norm else _zero_norm(diff_norm)
        return replace(
            base,
            identical=self.changed == 0,
            read=True,
            changed_count=self.changed,
            max_abs=self.max_abs,
            mean_abs=self.sum_abs / self.count if self.count else 0.0,
            relative_l2=relative,
        )


def holds_strings(array: np.ndarray) -> bool:
    """Whether a tensor read from a bundle holds strings (bytes objects), not numbers."""
    return array.dtype == object or array.dtype.kind in "SU"


def subtractable(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two numeric arrays of one dtype in a dtype numpy subtracts: bools as uint8; bfloat16,
    float8 and the other ml_dtypes as float32."""
    if a.dtype.kind == "b":
        return a.view(np.uint8), b.view(np.uint8)
    if a.dtype.kind not in "iufc":
        return a.astype(np.float32), b.astype(np.float32)
    return a, b


def differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``b - a`` element by element in float64, from any numeric dtype (complex: the modulus
    of the change); inf - inf and NaN give NaN, left for the caller to count."""
    a, b = subtractable(a, b)
    with np.errstate(invalid="ignore", over="ignore"):
        if a.dtype.kind == "c":
            return np.abs(np.subtract(b, a, dtype=np.complex128))
        return np.subtract(b, a, dtype=np.float64)


def nonfinite_note(n: int) -> str:
    """What a delta or histogram says of the elements whose difference is not finite."""
    return f"{counted(n, 'element')} became or stopped being NaN/Inf"


def _zero_norm(diff_norm: float) -> float:
    """||b - a|| / ||a|| for an all-zero a: no change is 0, any change is infinitely large."""
    return 0.0 if diff_norm == 0 else math.inf
