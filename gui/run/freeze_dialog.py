"""File ▸ Freeze to GraphDef: a ``.meta`` with its checkpoint frozen at the outputs checked
in a list pre-filled from the detected fetches (core.analysis.graph_io), or a SavedModel
frozen at the outputs of the signature chosen; written as a binary GraphDef where the user
says, by TensorFlow in the dialog's worker (conversion_dialog.py runs it)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListWidget, QWidget

from smlens.core.analysis.graph_io import graph_io
from smlens.core.model import MetaGraph, Model
from smlens.core.model.text import format_dims, short_dtype
from smlens.core.run.conversion import FreezeRequest, model_folder
from smlens.gui.base.widgets import heading_label, muted_label
from smlens.gui.run.conversion_dialog import ConversionDialog, open_on_its_own
from smlens.gui.run.fetches_list import RunFetchesList


def freezable(model: Model | None) -> bool:
    """A model the freeze applies to: a ``.meta`` (alone or beside its checkpoint), or a
    SavedModel with a signature to freeze."""
    if model is None:
        return False
    if model.format in ("checkpoint", "meta_graph"):
        return bool(model.meta_graphs)
    if model.format == "saved_model":
        return any(mg.callable_signatures for mg in model.meta_graphs)
    return False


def signature_choices(model: Model) -> list[tuple[str, str, str]]:
    """``(text, tag_set, key)`` for every callable signature of a SavedModel, the serving
    meta graph's ``serving_default`` first; the tag-set is named when there are several."""
    several = len(model.meta_graphs) > 1
    choices = []
    for mg in model.meta_graphs:
        for key in mg.callable_signatures:
            text = f"{mg.tag_set}: {key}" if several else key
            choices.append((text, mg.tag_set, key))
    choices.sort(key=lambda c: (c[1] != "serve", c[2] != "serving_default"))
    return choices


class FreezeDialog(ConversionDialog):
    """The outputs to freeze (or the signature), where the GraphDef goes, Run."""

    title = "Freeze to GraphDef…"
    doing = "Freezing"
    out_filter = "GraphDef (*.pb);;All files (*)"

    def __init__(self, model: Model, parent: QWidget | None = None, **kwargs):
        self.signature_combo: QComboBox | None = None
        self.fetches: RunFetchesList | None = None
        self.signature_outputs: QListWidget | None = None
        self.hint = (
            "Freezes the signature's outputs: variables become constants (TensorFlow's "
            "convert_variables_to_constants), in a run worker."
            if model.format == "saved_model"
            else "Restores the graph from its checkpoint and keeps what the checked outputs "
            "need, variables as constants (TensorFlow's convert_variables_to_constants), in "
            "a run worker."
        )
        super().__init__(model, parent, **kwargs)
        if model.format == "saved_model":
            self._build_signature_form()
        else:
            self._build_outputs_form()
        self.update_enabled()

    def _build_outputs_form(self) -> None:
        mg = self.model.meta_graphs[0]
        self.fetches = RunFetchesList()
        self.fetches.setToolTip("The output nodes the frozen graph keeps")
        self.fetches.set_graph(mg, [f.name for f in graph_io(mg).fetches])
        self.fetches.fetches_changed.connect(self._on_fetches_changed)
        self.form.addWidget(self.fetches, 1)

    def _build_signature_form(self) -> None:
        self.signature_combo = QComboBox()
        for text, tag_set, key in signature_choices(self.model):
            self.signature_combo.addItem(text, (tag_set, key))
        self.signature_combo.currentIndexChanged.connect(self._on_signature_changed)
        label = QLabel("Signature")
        label.setBuddy(self.signature_combo)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.signature_combo, 1)
        self.form.addLayout(row)
        self.form.addWidget(heading_label("Outputs frozen"))
        self.signature_outputs = QListWidget()
        self.signature_outputs.setToolTip("The chosen signature's outputs: the frozen graph's")
        self.form.addWidget(self.signature_outputs, 1)
        self.form.addWidget(muted_label("A signature is frozen at all of its outputs."))
        self._on_signature_changed()

    def _chosen_meta_graph(self) -> MetaGraph:
        tag_set, _key = self.signature_combo.currentData()
        return self.model.meta_graph(tag_set)

    def _on_signature_changed(self, _index: int = 0) -> None:
        self.signature_outputs.clear()
        data = self.signature_combo.currentData()
        if data is not None:
            signature = self._chosen_meta_graph().signatures[data[1]]
            for key, info in signature.outputs.items():
                dims = format_dims(info.shape.dims) if info.shape.dims is not None else ""
                spec = f"{short_dtype(info.dtype)} {dims}".strip()
                self.signature_outputs.addItem(f"{key}: {info.name or '(composite)'}   {spec}")
        self.update_enabled()

    def _on_fetches_changed(self, _names: list) -> None:
        self.update_enabled()

    # -- what the frame asks ------------------------------------------------------------

    def default_out(self) -> Path:
        folder = model_folder(self.model)
        return folder.parent / f"{folder.name or 'model'}-frozen.pb"

    def run_text(self) -> str:
        return "Freeze"

    def ready_reason(self) -> str | None:
        if self.fetches is not None and not self.fetches.checked():
            return "Check at least one output to freeze"
        if self.signature_combo is not None and self.signature_combo.currentData() is None:
            return "The SavedModel has no signature to freeze"
        return None

    def build_request(self, out: str, force: bool) -> FreezeRequest:
        if self.signature_combo is not None:
            tag_set, key = self.signature_combo.currentData()
            return FreezeRequest.of(
                self.model, out, tag_set=tag_set, signature_def=key, force=force
            )
        return FreezeRequest.of(self.model, out, fetches=self.fetches.checked(), force=force)


if __name__ == "__main__":
    sys.exit(open_on_its_own(FreezeDialog, "smlens.gui.run.freeze_dialog"))
