"""What a TFLite dry run asks of the worker, checked once, where it is built: the model's
meta graph (a ``LoadRequest``: the converter loads the model), the signatures to convert,
and where to write the ``.tflite``, if anywhere.

It refuses, as it is built, a signature that is not the meta graph's, a model with file or
system ops unless allowed (loading restores the variables), and an output file inside the
model folder, in a folder that does not exist, or for more than one signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from smlens.core.errors import SmlensError
from smlens.core.model import Model
from smlens.core.run.request import LoadRequest, require_runnable


@dataclass(frozen=True, kw_only=True)
class TFLiteRequest:
    """Convert ``signature_keys`` of ``target``'s meta graph; write ``output`` if given."""

    target: LoadRequest
    signature_keys: tuple[str, ...]
    output: Path | None = None
    timeout: float | None = None
    path: Path = field(init=False)  # the model folder, as the worker opens it

    def __post_init__(self) -> None:
        mg = self.target.meta_graph
        keys = tuple(self.signature_keys)
        if not keys:
            raise SmlensError(self.target.model.path, f"tag set {mg.tag_set!r} has no signature")
        for key in keys:
            if key not in mg.callable_signatures:
                have = ", ".join(mg.callable_signatures) or "none"
                raise SmlensError(
                    self.target.model.path,
                    f"no signature {key!r} in tag set {mg.tag_set!r}; it has: {have}",
                )
        object.__setattr__(self, "signature_keys", keys)
        object.__setattr__(self, "path", self.target.path)
        if self.output is not None:
            object.__setattr__(self, "output", self._checked_output(Path(self.output)))

    def _checked_output(self, output: Path) -> Path:
        out = output.expanduser().resolve()
        if out.is_relative_to(self.target.path):
            raise SmlensError(output, "the .tflite file must not go into the model folder")
        if not out.parent.is_dir():
            raise SmlensError(output, "no such folder to write the .tflite file into")
        if out.is_dir():
            raise SmlensError(output, "is a folder; name the .tflite file to write")
        if len(self.signature_keys) > 1:
            raise SmlensError(
                output,
                f"one .tflite per signature: choose one of {', '.join(self.signature_keys)} "
                "with --signature_def",
            )
        return out

    @classmethod
    def of(
        cls,
        model: Model,
        tag_set: str | list[str] | None = None,
        signature_key: str | None = None,
        *,
        output: str | Path | None = None,
        allow_risky_ops: bool = False,
        loads: tuple[str, ...] | list[str] = (),
        timeout: float | None = None,
    ) -> TFLiteRequest:
        """The request for one meta graph (the only one, or ``tag_set``'s) and one signature
        (``signature_key``) or all of its signatures."""
        require_runnable(model)
        if tag_set is None and len(model.meta_graphs) > 1:
            have = "; ".join(mg.tag_set for mg in model.meta_graphs)
            raise SmlensError(model.path, f"several tag sets ({have}): choose one with --tag_set")
        mg = model.meta_graph(tag_set) if tag_set is not None else model.meta_graphs[0]
        keys = (signature_key,) if signature_key else tuple(mg.callable_signatures)
        target = LoadRequest(
            model=model, meta_graph=mg, allow_risky_ops=allow_risky_ops, loads=tuple(loads)
        )
        return cls(
            target=target,
            signature_keys=keys,
            output=Path(output) if output is not None else None,
            timeout=timeout,
        )
