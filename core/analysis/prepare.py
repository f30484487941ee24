"""The whole-model passes every window shows at once (op counts, the risky-op scan, the
feeds and fetches of a graph without signatures), run
where the model is read, off the UI thread: there each costs ~0.1 s on a 140,000-op model,
and several panels ask for them in the same event-loop turn."""

from __future__ import annotations

from smlens.core.analysis.graph_io import graph_io
from smlens.core.analysis.ops import op_counts
from smlens.core.analysis.scan import scan_meta_graph
from smlens.core.model import Model
from smlens.core.tasks import Progress, no_progress


def prepare(model: Model, progress: Progress = no_progress) -> Model:
    """Compute and keep (``MetaGraph.derived``) what the panels read first; returns
    ``model``."""
    for mg in model.meta_graphs:
        progress(1.0, "counting ops")
        op_counts(mg)
        scan_meta_graph(mg)
        if not mg.callable_signatures:
            progress(1.0, "finding feeds and fetches")
            graph_io(mg)
    progress(1.0, "finding frozen weights")
    model.constants()
    return model
