"""Signature changes graded by what they do to clients that call the old export.

Clients address a signature by tag-set and key, send every input by key and read outputs by
key (TF Serving rejects unknown and missing input keys; a Python caller of
``loaded.signatures[key](**inputs)`` gets a TypeError). So removing a signature, a required
input or an output, adding a required input, or changing a dtype breaks them; a shape is
graded by whether it still accepts (inputs) or still promises (outputs) what it did.
"""

from __future__ import annotations

from smlens.core.diff.changes import Change, container, worst
from smlens.core.model import MetaGraph, Shape, Signature, TensorInfo


def diff_signatures(tag_set: str, a: MetaGraph, b: MetaGraph) -> list[Change]:
    """One Change per signature key added, removed or changed in one tag-set."""
    base = ("signatures", tag_set)
    changes = []
    for key in sorted(a.signatures.keys() - b.signatures.keys()):
        changes.append(
            Change(
                (*base, key),
                "removed",
                before=_signature_text(a.signatures[key]),
                severity="breaking",
                reason=f"signature '{key}' of tag-set '{tag_set}' is gone; clients calling it "
                "will get 'signature not found'",
            )
        )
    for key in sorted(b.signatures.keys() - a.signatures.keys()):
        changes.append(
            Change(
                (*base, key),
                "added",
                after=_signature_text(b.signatures[key]),
                reason=f"new signature '{key}': existing clients do not call it",
            )
        )
    for key in sorted(a.signatures.keys() & b.signatures.keys()):
        change = _diff_signature((*base, key), a.signatures[key], b.signatures[key])
        if change:
            changes.append(change)
    return changes


def _signature_text(sig: Signature) -> dict:
    return {
        "method_name": sig.method_name,
        "inputs": {k: _tensor_text(v) for k, v in sig.inputs.items()},
        "outputs": {k: _tensor_text(v) for k, v in sig.outputs.items()},
    }


def _tensor_text(info: TensorInfo) -> str:
    return f"{info.dtype} {info.shape}"


def _diff_signature(path: tuple[str, ...], a: Signature, b: Signature) -> Change | None:
    changes = []
    if a.method_name != b.method_name:
        changes.append(
            Change(
                (*path, "method_name"),
                "changed",
                a.method_name,
                b.method_name,
                "breaking",
                f"method name of {a.key} changed from {a.method_name!r} to {b.method_name!r}: "
                "TF Serving routes Predict, Classify and Regress requests by it, so clients "
                "of the old API will be rejected",
            )
        )
    changes += _diff_inputs(path, a, b)
    changes += _diff_outputs(path, a, b)
    return container(path, changes, f"signature '{a.key}'")


def _diff_inputs(path: tuple[str, ...], a: Signature, b: Signature) -> list[Change]:
    changes = []
    for key in sorted(a.inputs.keys() - b.inputs.keys()):
        optional = key in a.defaults
        changes.append(
            Change(
                (*path, "inputs", key),
                "removed",
                before=_tensor_text(a.inputs[key]),
                severity="risky" if optional else "breaking",
                reason=f"input '{key}' of {a.key} was removed: clients that still send it will "
                "be rejected (unknown input key)"
                + (
                    "; it had a default, so clients that left it out are unaffected"
                    if optional
                    else "; it was required, so every existing client sends it"
                ),
            )
        )
    for key in sorted(b.inputs.keys() - a.inputs.keys()):
        has_default = key in b.defaults
        changes.append(
            Change(
                (*path, "inputs", key),
                "added",
                after=_tensor_text(b.inputs[key]),
                severity="info" if has_default else "breaking",
                reason=f"new input '{key}' of {a.key} "
                + (
                    "has a default, so clients that do not send it still work"
                    if has_default
                    else "is required: existing clients do not send it and will be rejected"
                ),
            )
        )
    for key in sorted(a.inputs.keys() & b.inputs.keys()):
        changes += _diff_tensor(
            (*path, "inputs", key), "input", a.key, a.inputs[key], b.inputs[key]
        )
        changes += _diff_default((*path, "inputs", key), a, b, key)
    return changes


def _diff_default(path: tuple[str, ...], a: Signature, b: Signature, key: str) -> list[Change]:
    before, after = a.defaults.get(key), b.defaults.get(key)
    if before is None and after is None:
        return []
    if before is not None and after is not None:
        if before.raw == after.raw:
            return []
        return [
            Change(
                (*path, "default"),
                "changed",
                str(before.numpy().tolist()),
                str(after.numpy().tolist()),
                "risky",
                f"the default of input '{key}' of {a.key} changed: clients that leave it out "
                "now get different results",
            )
        ]
    if after is None:
        return [
            Change(
                (*path, "default"),
                "removed",
                before=str(before.numpy().tolist()),
                severity="breaking",
                reason=f"input '{key}' of {a.key} lost its default: clients that leave it out "
                "will be rejected",
            )
        ]
    return [
        Change(
            (*path, "default"),
            "added",
            after=str(after.numpy().tolist()),
            reason=f"input '{key}' of {a.key} gained a default: clients may now leave it out",
        )
    ]


def _diff_outputs(path: tuple[str, ...], a: Signature, b: Signature) -> list[Change]:
    changes = []
    for key in sorted(a.outputs.keys() - b.outputs.keys()):
        changes.append(
            Change(
                (*path, "outputs", key),
                "removed",
                before=_tensor_text(a.outputs[key]),
                severity="breaking",
                reason=f"output '{key}' of {a.key} was removed: clients reading it will fail",
            )
        )
    for key in sorted(b.outputs.keys() - a.outputs.keys()):
        changes.append(
            Change(
                (*path, "outputs", key),
                "added",
                after=_tensor_text(b.outputs[key]),
                reason=f"new output '{key}' of {a.key}: existing clients ignore it",
            )
        )
    for key in sorted(a.outputs.keys() & b.outputs.keys()):
        changes += _diff_tensor(
            (*path, "outputs", key), "output", a.key, a.outputs[key], b.outputs[key]
        )
    return changes


def _diff_tensor(
    path: tuple[str, ...], role: str, sig: str, a: TensorInfo, b: TensorInfo
) -> list[Change]:
    what = f"{role} '{a.key}' of {sig}"
    changes = []
    if a.dtype != b.dtype:
        effect = (
            f"clients sending {a.dtype} will be rejected"
            if role == "input"
            else f"clients decoding {a.dtype} will misread or reject it"
        )
        changes.append(
            Change(
                (*path, "dtype"),
                "changed",
                a.dtype,
                b.dtype,
                "breaking",
                f"{what}: dtype changed from {a.dtype} to {b.dtype}; {effect}",
            )
        )
    if a.encoding != b.encoding:
        changes.append(
            Change(
                (*path, "encoding"),
                "changed",
                a.encoding,
                b.encoding,
                "breaking",
                f"{what}: encoding changed from {a.encoding} to {b.encoding}; clients must "
                "send or read it in a different form",
            )
        )
    shape = grade_shape(a.shape, b.shape, role)
    if shape is not None:
        severity, details = shape
        changes.append(
            Change(
                (*path, "shape"),
                "changed",
                str(a.shape),
                str(b.shape),
                severity,
                f"{what}: " + "; ".join(details),
            )
        )
    if a.name != b.name:
        changes.append(
            Change(
                (*path, "tensor_name"),
                "changed",
                a.name,
                b.name,
                "info",
                f"{what}: graph tensor renamed from {a.name!r} to {b.name!r}; clients use the "
                "key, not the tensor name",
            )
        )
    return changes


def grade_shape(a: Shape, b: Shape, role: str) -> tuple[str, list[str]] | None:
    """The severity of a shape change for an "input" or "output", and why; None if equal.

    An input that becomes more general (10 -> -1, known -> unknown rank) still accepts what
    clients send; an output that does no longer promises what clients may rely on. Narrower
    is the mirror image; a different size or rank breaks both.
    """
    if a == b:
        return None
    if a.dims is None or b.dims is None:
        general = b.dims is None
        rank_text = f"rank {len(b.dims if a.dims is None else a.dims)}"
        if general:
            detail = f"now unknown rank (was {rank_text} {a})"
        else:
            detail = f"now {rank_text} {b} (was unknown rank)"
        return _grade_general(role, general, detail, a)
    if len(a.dims) != len(b.dims):
        return "breaking", [
            f"rank changed from {len(a.dims)} to {len(b.dims)} ({a} -> {b}); "
            + (
                f"clients sending shape {a} will be rejected"
                if role == "input"
                else f"clients reading shape {a} will get {b}"
            )
        ]
    grades, details = [], []
    for i, (da, db) in enumerate(zip(a.dims, b.dims, strict=True)):
        if da == db:
            continue
        if da >= 0 and db >= 0:
            grades.append("breaking")
            details.append(
                f"dim {i} changed from {da} to {db}; "
                + (
                    f"clients sending shape {a} will be rejected"
                    if role == "input"
                    else f"clients reading {da} values there will get {db}"
                )
            )
        else:
            severity, text = _grade_general(
                role, db < 0, f"dim {i} {'became unknown' if db < 0 else f'fixed to {db}'}", a
            )
            grades.append(severity)
            details += text
    return worst(grades) or "info", details


def _grade_general(role: str, general: bool, detail: str, before: Shape) -> tuple[str, list[str]]:
    if role == "input":
        if general:
            return "info", [f"{detail}: still accepts everything it accepted before"]
        return "breaking", [
            f"{detail}: clients sending other sizes than it now requires will be "
            f"rejected (it accepted {before} before)"
        ]
    if general:
        return "risky", [f"{detail}: no longer promised, and clients may rely on it"]
    return "info", [f"{detail}: narrower than before, which clients handled already"]
