"""What two exports compute, compared: each output of a signature run on the same inputs
through A and B, as error figures, a tolerance verdict and, where an output is beyond its
tolerance, a risky Change under ``outputs/<tag-set>/<signature>/<key>``.

Pure numpy on arrays already computed: running the exports is core/run's (``pair.py``), and
a saved run gives arrays alike. The figures follow Polygraphy's ``--check-error-stat``
(max and mean |Δ|, max relative error) plus what a classifier's owner asks: does the top
class agree? An element is within tolerance when ``|b - a| <= atol + rtol * |a|`` (numpy's
``isclose`` with A as the reference); NaN equals NaN and an infinity equals the same
infinity, so a NaN on one side only is always beyond tolerance.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from smlens.core.diff.changes import Change, container, jsonable
from smlens.core.errors import SmlensError
from smlens.core.model.text import counted

DEFAULT_ATOL = 1e-5  # Polygraphy's defaults
DEFAULT_RTOL = 1e-5
FIRST_VALUE_CHARS = 40


@dataclass(frozen=True)
class Tolerance:
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL


@dataclass(frozen=True)
class Tolerances:
    """A default tolerance and overrides by output key (``--rtol probabilities:1e-3``)."""

    default: Tolerance = Tolerance()
    by_output: dict[str, Tolerance] = field(default_factory=dict)

    def of(self, key: str) -> Tolerance:
        return self.by_output.get(key, self.default)


def parse_tolerances(atol: list[str], rtol: list[str]) -> Tolerances:
    """``--atol``/``--rtol`` values, each "1e-5" (every output) or "key:1e-3" (one output)."""
    default = {"atol": DEFAULT_ATOL, "rtol": DEFAULT_RTOL}
    per_key: dict[str, dict[str, float]] = {}
    for flag, texts in (("atol", atol), ("rtol", rtol)):
        for text in texts:
            key, _, number = text.rpartition(":")
            try:
                value = float(number)
            except ValueError:
                raise SmlensError(f"--{flag}", f"{text!r} is not a number or key:number") from None
            if not value >= 0:
                raise SmlensError(f"--{flag}", f"{text!r}: a tolerance is a number >= 0")
            if key:
                per_key.setdefault(key, {})[flag] = value
            else:
                default[flag] = value
    base = Tolerance(**default)
    by_output = {key: Tolerance(**(default | given)) for key, given in per_key.items()}
    return Tolerances(base, by_output)


@dataclass(frozen=True)
class OutputStats:
    """One output of one signature, A against B, over every run of the comparison.

    ``status`` is "compared", or why not: "shape", "dtype", "only_a", "only_b". Numbers are
    over the elements both sides hold; ``max_rel`` divides by |a| where a is not 0.
    ``rows`` counts inputs (the first dim of each run); ``rows_beyond`` those with an
    element beyond tolerance. ``top1_*`` is set for class-like outputs; ``strings_*`` for
    string outputs. ``first_*`` is the first element beyond tolerance: the run it is in,
    its index there, and both values as text.
    """

    key: str
    status: str
    dtype_a: str = ""
    dtype_b: str = ""
    shape_a: tuple[int, ...] | None = None
    shape_b: tuple[int, ...] | None = None
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    count: int = 0
    beyond: int = 0
    rows: int = 0
    rows_beyond: int = 0
    max_abs: float | None = None
    mean_abs: float | None = None
    max_rel: float | None = None
    cosine: float | None = None
    nonfinite_mismatch: int = 0
    top1_agree: int | None = None
    top1_rows: int | None = None
    strings_equal: int | None = None
    strings_differ: int | None = None
    first_run: int | None = None
    first_index: tuple[int, ...] | None = None
    first_a: str = ""
    first_b: str = ""
    detail: str = ""

    @property
    def within(self) -> bool:
        return self.status == "compared" and self.beyond == 0

    def to_json(self) -> dict:
        out = jsonable(asdict(self))
        out["within"] = self.within
        return out


@dataclass(frozen=True)
class SignatureOutputs:
    """The outputs of one signature, run on the same inputs on both sides."""

    tag_set: str
    signature: str
    inputs: str  # where the inputs came from: "--fill normal, batch 8, seed 0", "warmup"
    rows: int  # inputs fed, the first dims of every run summed
    runs: int
    outputs: dict[str, OutputStats]
    problem: str = ""  # set when a side could not run it; then ``outputs`` is empty

    @property
    def beyond(self) -> list[OutputStats]:
        return [s for s in self.outputs.values() if not s.within]

    def to_json(self) -> dict:
        return {
            "tag_set": self.tag_set,
            "signature": self.signature,
            "inputs": self.inputs,
            "rows": self.rows,
            "runs": self.runs,
            "problem": self.problem,
            "outputs": {key: s.to_json() for key, s in self.outputs.items()},
        }


@dataclass
class OutputsDiff:
    """Every signature compared, how the two sides ran, and what that took."""

    signatures: list[SignatureOutputs]
    how: str = ""  # "one worker loading both" | "two workers in parallel" | "against a saved run"
    seconds: float = 0.0
    baseline: str = ""  # the saved run compared against, when A did not run
    notes: list[str] = field(default_factory=list)  # signatures left out, and why

    def to_json(self) -> dict:
        return {
            "how": self.how,
            "seconds": self.seconds,
            "baseline": self.baseline or None,
            "notes": self.notes,
            "verdict": outputs_line(self),
            "signatures": [s.to_json() for s in self.signatures],
        }


# -- comparing arrays ------------------------------------------------------------------------


def _is_text(array: np.ndarray) -> bool:
    return array.dtype == object or array.dtype.kind in "SU"


def _as_bytes(array: np.ndarray) -> np.ndarray:
    out = np.empty(array.shape, dtype=object)
    out.ravel()[:] = [v.encode() if isinstance(v, str) else bytes(v) for v in array.ravel()]
    return out


def _dtype_text(array: np.ndarray) -> str:
    return "string" if _is_text(array) else array.dtype.name


def _rows(array: np.ndarray) -> int:
    return int(array.shape[0]) if array.ndim else 1


def value_text(value) -> str:
    """One element as the diff shows it: bytes as their repr, floats in 7 digits, cut to
    FIRST_VALUE_CHARS."""
    if isinstance(value, bytes):
        text = repr(value)
    elif isinstance(value, float | np.floating):
        text = f"{float(value):.7g}"
    else:
        text = str(value)
    return text if len(text) <= FIRST_VALUE_CHARS else text[: FIRST_VALUE_CHARS - 1] + "…"


def _class_like(a: np.ndarray) -> bool:
    """Scores over classes (last dim > 1) or integer / string class ids."""
    if _is_text(a) or a.dtype.kind in "iub":
        return a.ndim >= 1
    return a.ndim >= 2 and a.shape[-1] > 1


def _top1(array: np.ndarray) -> np.ndarray:
    """Each row's top class: the argmax of scores, or the first id of an id output."""
    if _is_text(array):
        ids = _as_bytes(array)
        return ids[..., 0].reshape(-1) if ids.ndim >= 2 else ids.reshape(-1)
    if array.dtype.kind in "iub":
        return array[..., 0].reshape(-1) if array.ndim >= 2 else array.reshape(-1)
    with np.errstate(invalid="ignore"):
        return np.argmax(np.nan_to_num(array, nan=-np.inf), axis=-1).reshape(-1)


def compare_output(
    key: str, pairs: list[tuple[np.ndarray, np.ndarray]], tolerance: Tolerance
) -> OutputStats:
    """The figures of output ``key`` over ``pairs`` of (A, B) arrays, one pair per run."""
    a0, b0 = pairs[0]
    base = {
        "key": key,
        "dtype_a": _dtype_text(a0),
        "dtype_b": _dtype_text(b0),
        "shape_a": tuple(a0.shape),
        "shape_b": tuple(b0.shape),
        "atol": tolerance.atol,
        "rtol": tolerance.rtol,
    }
    for a, b in pairs:
        if a.shape != b.shape:
            return OutputStats(
                status="shape", detail=f"shape {a.shape} -> {b.shape}", **base | _shapes(a, b)
            )
        if _is_text(a) != _is_text(b) or (a.dtype.kind == "c") != (b.dtype.kind == "c"):
            return OutputStats(status="dtype", detail=f"dtype {a.dtype} -> {b.dtype}", **base)
    rows = sum(_rows(a) for a, _ in pairs)
    top1 = _top1_figures(pairs) if _class_like(a0) else {}
    if _is_text(a0):
        return _compare_strings(pairs, base, rows, top1)
    return _compare_numbers(pairs, base, rows, top1, tolerance)


def _shapes(a: np.ndarray, b: np.ndarray) -> dict:
    return {"shape_a": tuple(a.shape), "shape_b": tuple(b.shape)}


def _top1_figures(pairs) -> dict:
    agree = total = 0
    for a, b in pairs:
        ta, tb = _top1(a), _top1(b)
        agree += int(np.count_nonzero(ta == tb))
        total += ta.size
    return {"top1_agree": agree, "top1_rows": total}


def _compare_strings(pairs, base: dict, rows: int, top1: dict) -> OutputStats:
    equal = differ = rows_beyond = 0
    first: dict = {}
    for run, (a, b) in enumerate(pairs):
        same = _as_bytes(a) == _as_bytes(b)
        equal += int(np.count_nonzero(same))
        differ += int(same.size - np.count_nonzero(same))
        rows_beyond += _rows_beyond(~same)
        if not first and not same.all():
            first = _first(run, ~same, _as_bytes(a), _as_bytes(b))
    return OutputStats(
        status="compared",
        count=equal + differ,
        beyond=differ,
        rows=rows,
        rows_beyond=rows_beyond,
        strings_equal=equal,
        strings_differ=differ,
        **base,
        **top1,
        **first,
    )


def _rows_beyond(bad: np.ndarray) -> int:
    if bad.ndim == 0:
        return int(bool(bad))
    return int(np.count_nonzero(bad.reshape(bad.shape[0], -1).any(axis=1)))


def _first(run: int, bad: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict:
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    return {
        "first_run": run,
        "first_index": index,
        "first_a": value_text(a[index]),
        "first_b": value_text(b[index]),
    }


def _numbers(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "c":
        return array.astype(np.complex128)
    return np.asarray(array, dtype=np.float64)


def _compare_numbers(pairs, base: dict, rows: int, top1: dict, tol: Tolerance) -> OutputStats:
    count = beyond = rows_beyond = mismatch = 0
    max_abs = max_rel = 0.0
    sum_abs = 0.0
    finite_count = 0
    dot = norm_a = norm_b = 0.0
    first: dict = {}
    for run, (a_raw, b_raw) in enumerate(pairs):
        a, b = _numbers(a_raw), _numbers(b_raw)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(a - b)
            same_nan = np.isnan(a) & np.isnan(b)
            same_inf = np.isinf(a) & (a == b)
            bad = ~(same_nan | same_inf) & ~(diff <= tol.atol + tol.rtol * np.abs(a))
        finite = np.isfinite(a) & np.isfinite(b)
        mismatch += int(np.count_nonzero(~finite & ~(same_nan | same_inf)))
        count += a.size
        beyond += int(np.count_nonzero(bad))
        rows_beyond += _rows_beyond(bad)
        if finite.any():
            d, fa, fb = diff[finite], a[finite], b[finite]
            max_abs = max(max_abs, float(d.max()))
            sum_abs += float(d.sum())
            finite_count += d.size
            nonzero = np.abs(fa) > 0
            if nonzero.any():
                max_rel = max(max_rel, float((d[nonzero] / np.abs(fa[nonzero])).max()))
            dot += float(np.real(np.vdot(fa, fb)))
            norm_a += float(np.real(np.vdot(fa, fa)))
            norm_b += float(np.real(np.vdot(fb, fb)))
        if not first and bad.any():
            first = _first(run, bad, a_raw, b_raw)
    if mismatch:
        max_abs = max_rel = math.inf
    return OutputStats(
        status="compared",
        count=count,
        beyond=beyond,
        rows=rows,
        rows_beyond=rows_beyond,
        max_abs=max_abs,
        mean_abs=sum_abs / finite_count if finite_count else 0.0,
        max_rel=max_rel,
        cosine=_cosine(dot, norm_a, norm_b),
        nonfinite_mismatch=mismatch,
        **base,
        **top1,
        **first,
    )


def _cosine(dot: float, norm_a: float, norm_b: float) -> float:
    if norm_a == 0 and norm_b == 0:
        return 1.0
    if norm_a == 0 or norm_b == 0:
        return 0.0
    return dot / math.sqrt(norm_a * norm_b)


def compare_signature(
    tag_set: str,
    signature: str,
    inputs: str,
    runs: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]],
    tolerances: Tolerances,
) -> SignatureOutputs:
    """Every output of ``signature`` over ``runs`` of (inputs, A's outputs, B's outputs)."""
    rows = sum(_rows(next(iter(feed.values()))) if feed else 1 for feed, _, _ in runs)
    keys_a = sorted(runs[0][1]) if runs else []  # sorted, as saved_model_cli prints them
    keys_b = sorted(runs[0][2]) if runs else []
    stats: dict[str, OutputStats] = {}
    for key in keys_a:
        if key not in keys_b:
            stats[key] = OutputStats(key, "only_a", detail="only A has this output")
            continue
        pairs = [(np.asarray(a[key]), np.asarray(b[key])) for _, a, b in runs]
        stats[key] = compare_output(key, pairs, tolerances.of(key))
    for key in keys_b:
        if key not in keys_a:
            stats[key] = OutputStats(key, "only_b", detail="only B has this output")
    return SignatureOutputs(tag_set, signature, inputs, rows, len(runs), stats)


# -- what it means ---------------------------------------------------------------------------


def stats_text(stats: OutputStats) -> str:
    """One output's figures in a line: "max |Δ| 3.1e-07, mean 4e-08, max rel 2e-06, cos
    1, 0 of 48 beyond (atol 1e-05, rtol 1e-05), top-1 agrees on 16 of 16"."""
    if stats.status != "compared":
        return stats.detail
    parts = []
    if stats.strings_equal is not None:
        parts.append(f"{stats.strings_equal:,} equal, {stats.strings_differ:,} differ")
    else:
        parts.append(
            f"max |Δ| {figure_text(stats.max_abs)}, mean {figure_text(stats.mean_abs)}, "
            f"max rel {figure_text(stats.max_rel)}, cosine {figure_text(stats.cosine, 6)}"
        )
        if stats.nonfinite_mismatch:
            parts.append(f"{stats.nonfinite_mismatch:,} NaN/Inf on one side only")
        parts.append(
            f"{stats.beyond:,} of {stats.count:,} beyond (atol {figure_text(stats.atol)}, "
            f"rtol {figure_text(stats.rtol)})"
        )
    if stats.top1_rows is not None:
        parts.append(f"top-1 agrees on {stats.top1_agree:,} of {stats.top1_rows:,}")
    if stats.first_index is not None:
        where = f"run {stats.first_run} " if stats.first_run else ""
        parts.append(
            f"first at {where}{list(stats.first_index)}: {stats.first_a} vs {stats.first_b}"
        )
    return "; ".join(parts)


def figure_text(value: float | None, digits: int = 3) -> str:
    """A figure in ``digits`` significant digits, "0" for zero, "-" when there is none."""
    if value is None:
        return "-"
    return "0" if value == 0 else f"{value:.{digits}g}"


def signature_line(sig: SignatureOutputs) -> str:
    """ "3 of 3 within tolerance on 16 inputs" or "probabilities beyond tolerance on 5 of
    16 inputs, top-1 agrees on 14"."""
    if sig.problem:
        return f"not compared: {sig.problem}"
    beyond = sig.beyond
    if not beyond:
        return f"{len(sig.outputs)} of {len(sig.outputs)} within tolerance on {_inputs(sig.rows)}"
    texts = []
    for stats in beyond:
        if stats.status != "compared":
            texts.append(f"{stats.key}: {stats.detail}")
            continue
        text = f"{stats.key} beyond tolerance on {stats.rows_beyond:,} of {_inputs(stats.rows)}"
        if stats.top1_rows is not None:
            text += f", top-1 agrees on {stats.top1_agree:,}"
        texts.append(text)
    return "; ".join(texts)


def _inputs(n: int) -> str:
    return counted(n, "input")


def outputs_line(outputs: OutputsDiff) -> str:
    """The line the diff's text opens with."""
    if not outputs.signatures:
        return "outputs: nothing run" + (f" ({'; '.join(outputs.notes)})" if outputs.notes else "")
    if len(outputs.signatures) == 1:
        return f"outputs: {signature_line(outputs.signatures[0])}"
    parts = [f"{s.signature}: {signature_line(s)}" for s in outputs.signatures]
    return "outputs: " + " | ".join(parts)


def output_changes(outputs: OutputsDiff) -> list[Change]:
    """A risky Change per output beyond tolerance (or that could not be compared), under
    ``outputs/<tag-set>/<signature>/<key>``, grouped by tag set and signature."""
    by_tag: dict[str, list[Change]] = {}
    for sig in outputs.signatures:
        path = ("outputs", sig.tag_set, sig.signature)
        if sig.problem:
            leaves = [Change(path, "changed", severity="risky", reason=sig.problem)]
        else:
            leaves = [
                Change(
                    (*path, stats.key),
                    "changed",
                    before=None,
                    after=None,
                    severity="risky",
                    reason=f"beyond tolerance on {stats.rows_beyond:,} of "
                    f"{_inputs(stats.rows)}: {stats_text(stats)}"
                    if stats.status == "compared"
                    else stats.detail,
                )
                for stats in sig.beyond
            ]
            leaves = [c for c in [container(path, leaves, sig.signature)] if c is not None]
        by_tag.setdefault(sig.tag_set, []).extend(leaves)
    return [
        change
        for tag_set, children in by_tag.items()
        for change in [container(("outputs", tag_set), children, tag_set)]
        if change is not None
    ]
