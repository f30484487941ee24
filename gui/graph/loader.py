"""Builds graphs and lays them out on the thread pool for the graph panel, as the
GraphState asks: a place to show that is not built yet, or a layout requested."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal

from smlens.core.graph.nav import (
    GraphRef,
    LoadedGraph,
    Place,
    ViewLayout,
    lay_out,
    lay_out_first,
    load_graph,
)
from smlens.core.graph.state import GraphState, LayoutRequest
from smlens.core.model import MetaGraph, Model
from smlens.core.tasks import CancelCheck, Cancelled, Progress, check_cancelled, gc_paused
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.graph.scene_data import SceneData, scene_data
from smlens.gui.graph.style import NodeMetrics, variable_texts


class GraphLoader(QObject):
    """A runner per kind of job, a build and a layout, each with its own result: moving to
    another graph cancels the layout in flight, and a layout asked for cancels a build of
    the graph left; within a kind a newer job replaces an older one."""

    layout_ready = Signal(object)  # ViewLayout: the panel shows it and tells the state
    failed = Signal(str)
    building = Signal(str)  # the title of the graph being built
    progressed = Signal(float)  # the fraction done of the job running
    busy_changed = Signal(bool)

    def __init__(self, state: GraphState, metrics: NodeMetrics, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.metrics = state, metrics
        self.model: Model | None = None
        self._texts: dict[tuple[str, str], dict] = {}
        self._scene: tuple[ViewLayout, SceneData] | None = None  # the last layout task's
        self.build_runner = TaskRunner(self)
        self.build_runner.finished.connect(self._on_built)
        self.layout_runner = TaskRunner(self)
        self.layout_runner.finished.connect(self._on_laid_out)
        for runner in (self.build_runner, self.layout_runner):
            runner.failed.connect(self._on_failed)
            runner.progressed.connect(self._on_progressed)
            runner.busy_changed.connect(self._on_busy_changed)
        state.events.place.connect(self._on_place_changed)
        state.events.layout_requested.connect(self._on_layout_requested)

    @property
    def busy(self) -> bool:
        return self.build_runner.busy or self.layout_runner.busy

    def set_model(self, model: Model | None) -> None:
        self.build_runner.cancel()
        self.layout_runner.cancel()
        self._texts.clear()
        self._scene = None
        self.model = model

    def texts_for(self, loaded: LoadedGraph) -> dict[str, tuple[str, str]]:
        """Variable names and shapes shown on nodes, made once per graph (by the load
        task, off the UI thread: it reads every node)."""
        key = (loaded.ref.tag_set, loaded.ref.function)
        if key not in self._texts:
            self._texts[key] = variable_texts(loaded.graph, self.model)
        return self._texts[key]

    def scene_data_for(self, view: ViewLayout) -> SceneData | None:
        """What the layout task made for the scene to draw ``view``; None for another."""
        return self._scene[1] if self._scene is not None and self._scene[0] is view else None

    def _on_place_changed(self, place: Place | None) -> None:
        self.layout_runner.cancel()
        if place is None or self.model is None or self.state.cached(place.ref) is not None:
            return
        mg = self.model.meta_graph(place.ref.tag_set)
        self.building.emit(place.ref.title)
        self.build_runner.start(load_with_texts, self.model, mg, place.ref, self.state.fold)

    def _on_layout_requested(self, request: LayoutRequest) -> None:
        self.build_runner.cancel()
        loaded = request.loaded
        texts = self.texts_for(loaded)
        sizer = self.metrics.sizer(loaded, texts)
        arrange = partial(lay_out_scene, first=request.first)
        self.layout_runner.start(arrange, loaded, set(request.expanded), sizer, texts)

    def _on_built(self, result: tuple[LoadedGraph, dict[str, tuple[str, str]]]) -> None:
        loaded, texts = result
        self._texts[(loaded.ref.tag_set, loaded.ref.function)] = texts
        self.state.graph_loaded(loaded)

    def _on_laid_out(self, result: tuple[ViewLayout, SceneData]) -> None:
        self._scene = result
        self.layout_ready.emit(result[0])

    def _on_failed(self, error: Exception) -> None:
        if not isinstance(error, Cancelled):
            self.failed.emit(f"Could not show the graph: {type(error).__name__}: {error}")

    def _on_progressed(self, fraction: float, _text: str) -> None:
        self.progressed.emit(fraction)

    def _on_busy_changed(self, _busy: bool) -> None:
        self.busy_changed.emit(self.busy)


def load_with_texts(
    model: Model | None,
    meta_graph: MetaGraph,
    ref: GraphRef,
    fold: bool = True,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> tuple[LoadedGraph, dict[str, tuple[str, str]]]:
    """load_graph, and the variable texts of its nodes: every whole-graph pass in one task."""
    with gc_paused(freeze=True):  # a collector pass holds the GIL: the window would stall
        loaded = load_graph(model, meta_graph, ref, fold, progress, cancelled)
        return loaded, variable_texts(loaded.graph, model)


def lay_out_scene(
    loaded: LoadedGraph,
    expanded: set[str],
    sizer,
    texts: dict[str, tuple[str, str]],
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    *,
    first: bool = False,
) -> tuple[ViewLayout, SceneData]:
    """lay_out (lay_out_first for a graph's first layout), and what the scene draws of it:
    all of it off the UI thread. What it built lives on with the view, so it is frozen out
    of the collector's reach: a pass over it on the UI thread afterwards was a 0.4 s stall
    after Expand all on 140k items."""
    with gc_paused(freeze=True):
        arrange = lay_out_first if first else lay_out
        view = arrange(loaded, expanded, sizer, progress, cancelled)
        check_cancelled(cancelled, "layout")
        return view, scene_data(view, texts)
