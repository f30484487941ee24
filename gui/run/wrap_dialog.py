"""File ▸ Wrap as SavedModel: a frozen GraphDef saved as a SavedModel (tag ``serve``) whose
``serving_default`` signature takes the feeds and returns the fetches checked here, both
pre-filled from what core.analysis.graph_io detects; written by TensorFlow in the dialog's
worker (conversion_dialog.py runs it), so TF Serving can load the result."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.graph_io import graph_io
from smlens.core.model import Model
from smlens.core.model.text import format_dims, short_dtype
from smlens.core.run.conversion import WrapRequest, model_folder
from smlens.gui.base.widgets import muted_label
from smlens.gui.run.conversion_dialog import ConversionDialog, open_on_its_own
from smlens.gui.run.fetches_list import RunFetchesList


def wrappable(model: Model | None) -> bool:
    """A model the wrap applies to: a frozen GraphDef (``.pb`` or ``.pbtxt``)."""
    return model is not None and model.format == "graph_def" and bool(model.meta_graphs)


class WrapDialog(ConversionDialog):
    """The feeds and fetches of the signature, where the SavedModel goes, Run."""

    title = "Wrap as SavedModel…"
    doing = "Wrapping"
    hint = (
        "Saves the frozen graph as a SavedModel with the tag serve and one serving_default "
        "signature over the checked feeds and fetches (TensorFlow's SavedModel builder, in a "
        "run worker): what TF Serving loads."
    )
    out_is_dir = True

    def __init__(self, model: Model, parent: QWidget | None = None, **kwargs):
        self.feeds_caption: QLabel | None = None
        self.feeds: QListWidget | None = None
        self.fetches: RunFetchesList | None = None
        super().__init__(model, parent, **kwargs)
        mg = model.meta_graphs[0]
        found = graph_io(mg)
        self.feeds_caption = QLabel()
        self.feeds_caption.setProperty("role", "heading")
        self.feeds = QListWidget()
        self.feeds.setToolTip("Check the placeholders the signature takes")
        for feed in found.feeds:
            dims = format_dims(feed.shape.dims) if feed.shape.dims is not None else ""
            spec = f"{short_dtype(feed.dtype) if feed.dtype else ''} {dims}".strip()
            item = QListWidgetItem(f"{feed.tensor}   {spec}".rstrip())
            item.setData(Qt.ItemDataRole.UserRole, feed.tensor)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            default = f", default {feed.default}" if feed.default else ""
            item.setToolTip(f"{feed.tensor}: {feed.op}{default}")
            self.feeds.addItem(item)
        self.feeds.itemChanged.connect(self._on_feeds_changed)
        feeds_column = QVBoxLayout()
        feeds_column.addWidget(self.feeds_caption)
        feeds_column.addWidget(self.feeds, 1)
        self.fetches = RunFetchesList()
        keys_note = muted_label("The signature's keys are the node names: x for x:0")
        keys_note.setMinimumHeight(self.fetches.name_edit.sizeHint().height())
        feeds_column.addWidget(keys_note)
        self.fetches.set_graph(mg, [f.name for f in found.fetches])
        self.fetches.fetches_changed.connect(self._on_fetches_changed)
        columns = QHBoxLayout()
        columns.addLayout(feeds_column, 1)
        columns.addWidget(self.fetches, 1)
        self.form.addLayout(columns, 1)
        self._show_feed_count()
        self.update_enabled()

    def checked_feeds(self) -> list[str]:
        """The checked feeds' tensor names, in list order."""
        items = (self.feeds.item(i) for i in range(self.feeds.count()))
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]

    def _show_feed_count(self) -> None:
        self.feeds_caption.setText(f"Feeds ({len(self.checked_feeds())} of {self.feeds.count()})")

    def _on_feeds_changed(self, _item: QListWidgetItem) -> None:
        self._show_feed_count()
        self.update_enabled()

    def _on_fetches_changed(self, _names: list) -> None:
        self.update_enabled()

    # -- what the frame asks ------------------------------------------------------------

    def default_out(self) -> Path:
        folder = model_folder(self.model)
        return folder.parent / f"{Path(self.model.path).stem or 'model'}-saved_model"

    def run_text(self) -> str:
        return "Wrap"

    def ready_reason(self) -> str | None:
        if self.feeds is None or self.fetches is None:
            return None
        if not self.checked_feeds():
            return "Check at least one feed: the signature's inputs"
        if not self.fetches.checked():
            return "Check at least one fetch: the signature's outputs"
        return None

    def build_request(self, out: str, force: bool) -> WrapRequest:
        return WrapRequest.of(
            self.model,
            out,
            feeds=self.checked_feeds(),
            fetches=self.fetches.checked(),
            force=force,
        )


if __name__ == "__main__":
    sys.exit(open_on_its_own(WrapDialog, "smlens.gui.run.wrap_dialog"))
