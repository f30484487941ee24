"""Search and trace for the graph panel: run them off the UI thread, list the matches,
step through them, and keep the trace mapped onto what is shown. Results are written to the
GraphState; the panel paints them from there."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from smlens.core.graph.nav import TraceView, trace_view
from smlens.core.graph.query import search_nodes
from smlens.core.graph.state import GraphState
from smlens.core.model.text import counted
from smlens.core.tasks import Cancelled
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.theme import current
from smlens.gui.graph.toolbar import GraphToolbar

SHOWN_MATCHES = 2000
SEARCH_DELAY_MS = 250


class GraphSearch(QObject):
    """Connects the tool bar's search box and the match list to the state."""

    search_finished = Signal(int)  # number of matches
    trace_finished = Signal(int)  # number of nodes traced

    def __init__(
        self,
        state: GraphState,
        bar: GraphToolbar,
        match_list: QListWidget,
        jump: Callable[[str], None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.state, self.bar, self.match_list, self.jump = state, bar, match_list, jump
        self._searched: str | None = None
        self._step = -1
        self.search_runner = TaskRunner(self)
        self.search_runner.finished.connect(self._on_search_finished)
        self.search_runner.failed.connect(self._on_search_failed)
        self.trace_runner = TaskRunner(self)
        self.trace_runner.finished.connect(self._on_trace_finished)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.run_search)
        bar.search_edit.textChanged.connect(self._on_text_changed)
        bar.search_edit.returnPressed.connect(self._on_return)
        bar.search_fields.currentIndexChanged.connect(self._on_text_changed)
        match_list.itemActivated.connect(self._on_match_activated)
        match_list.itemClicked.connect(self._on_match_activated)
        state.events.matches.connect(self._on_matches_changed)
        state.events.trace.connect(self._on_trace_changed)

    @property
    def busy(self) -> bool:
        return self.search_runner.busy or self.trace_runner.busy

    def cancel(self) -> None:
        self.search_runner.cancel()
        self.trace_runner.cancel()

    # -- search --------------------------------------------------------------------------

    def _on_text_changed(self, *_args) -> None:
        self.timer.start()

    def _on_return(self) -> None:
        self.timer.stop()
        if self.state.matches and self.bar.search_edit.text() == self._searched:
            self.step()
        else:
            self.run_search()

    def run_search(self) -> None:
        self.timer.stop()
        text = self.bar.search_edit.text().strip()
        self._searched = self.bar.search_edit.text()
        loaded = self.state.loaded
        if not text or loaded is None:
            self.state.set_matches([])
            return
        try:
            re.compile(text)
        except re.error as e:
            self.bar.match_label.setText(f"bad regex: {e.msg}")
            self.bar.match_label.setStyleSheet(f"color: {current().error_border}")
            return
        self.search_runner.start(search_nodes, loaded.graph, text, self.bar.fields)

    def _on_search_finished(self, names: list[str]) -> None:
        self.state.set_matches(names)
        self.search_finished.emit(len(names))

    def _on_search_failed(self, error: Exception) -> None:
        if not isinstance(error, Cancelled):
            self.bar.match_label.setText(f"search failed: {error}")

    def _on_matches_changed(self, names: list[str]) -> None:
        self.bar.match_label.setStyleSheet("")
        self._step = -1
        self.match_list.clear()
        loaded = self.state.loaded
        for name in names[:SHOWN_MATCHES]:
            op = loaded.graph.node(name).op if loaded and name in loaded.graph.index else ""
            item = QListWidgetItem(f"{name}   ·  {op}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(name)
            self.match_list.addItem(item)
        searching = bool(self.bar.search_edit.text().strip())
        self.match_list.setVisible(searching)
        shown = f" (first {SHOWN_MATCHES:,} listed)" if len(names) > SHOWN_MATCHES else ""
        self.bar.match_label.setText(
            counted(len(names), "match", "matches") + shown if searching else ""
        )

    def step(self) -> None:
        """Go to the next match (Return in the search box)."""
        matches = self.state.matches
        if matches:
            self._step = (self._step + 1) % min(len(matches), SHOWN_MATCHES)
            self.match_list.setCurrentRow(self._step)
            self.jump(matches[self._step])

    def _on_match_activated(self, item: QListWidgetItem) -> None:
        self.jump(item.data(Qt.ItemDataRole.UserRole))

    # -- trace ---------------------------------------------------------------------------

    def trace(self, node: str | None, direction: str) -> None:
        view = self.state.view
        if view is None or not node or node not in view.loaded.graph.index:
            return
        self.trace_runner.start(trace_view, view.loaded, view.expanded, node, direction)

    def retrace(self) -> None:
        """Map the trace onto the scopes open now."""
        t = self.state.trace
        if t is not None:
            self.trace(t.origin, t.direction)

    def _on_trace_finished(self, result: TraceView) -> None:
        self.state.set_trace(result)
        self.trace_finished.emit(len(result.nodes))

    def _on_trace_changed(self, result: TraceView | None) -> None:
        self.bar.show_clear_trace(result is not None)
        if result is None:  # the label says what the search found again, or nothing
            self._on_matches_changed(self.state.matches)
        else:
            noun = "input" if result.direction == "inputs" else "output"
            origin = result.origin.rsplit("/", 1)[-1]
            self.bar.match_label.setText(f"{counted(len(result.nodes), noun)} of {origin}")
