"""The graph view's core pipeline on big functions: open, build, group, lay out, expand.

A function of ~100,000 ops in ~20,000 name scopes (200 blocks of 100 units), and one of
~14,000 ops laid out fully expanded. Each scenario runs in its own process so that its peak
memory (VmHWM) is its own. Painting is not included: these are the core's share of the
targets (first paint < 3 s, expanding a scope < 0.3 s, < 2 GB, 14,000 ops expanded from
click to paint < 1.5 s).

Run: python benchmarks/bench_graph.py [--runs N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _graphs import scoped_model

BIG = (200, 100)  # blocks x units: ~100,000 ops
MEDIUM = (28, 100)  # ~14,000 ops


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _GcClock:
    """Time spent in the cyclic garbage collector, which lands in whichever step allocates
    next after a big build, so each step reports its share."""

    def __init__(self):
        self.total, self._start = 0.0, 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


GC = _GcClock()


def _timed(label: str, fn, *args, **kwargs):
    start, gc_start = time.perf_counter(), GC.total
    result = fn(*args, **kwargs)
    elapsed, in_gc = time.perf_counter() - start, GC.total - gc_start
    print(f"  {label:44} {elapsed * 1000:8.0f} ms  (gc {in_gc * 1000:.0f} ms)", flush=True)
    return result


def _serving_graph(path: Path):
    from smlens.core import open_model
    from smlens.core.graph.build import build_graph, find_function_for_signature

    model = _timed("open_model", open_model, path)
    mg = model.meta_graphs[0]
    wrapper = find_function_for_signature(mg, "serving_default")
    inner = build_graph(model, mg, wrapper).calls[0].callee  # the signature wrapper's callee
    return _timed("build_graph", build_graph, model, mg, inner)


def big(path: Path, runs: int) -> None:
    """First paint of the collapsed view, then expanding one scope (and one inside it)."""
    from smlens.core.graph.fold import fold_weights
    from smlens.core.graph.layout import LayoutCache, layout_graph
    from smlens.core.graph.query import node_details, search_nodes, trace
    from smlens.core.graph.scopes import build_hierarchy, default_expanded, visible_graph

    start = time.perf_counter()
    graph = _serving_graph(path)
    folding = _timed("fold_weights", fold_weights, graph)
    hierarchy = _timed("build_hierarchy (with series)", build_hierarchy, graph, folding)
    expanded = default_expanded(hierarchy)
    view = _timed("visible_graph (default: top level)", visible_graph, graph, hierarchy, expanded)
    cache = LayoutCache()
    layout = _timed("layout_graph (default view)", layout_graph, view, cache=cache)
    first = time.perf_counter() - start
    print(f"  = core share of first paint {first * 1000:25.0f} ms")
    print(
        f"  {len(graph.nodes)} ops, {len(graph.edges)} edges, {len(hierarchy.scopes)} scopes; "
        f"{view.item_count()} items shown, {len(layout.routes)} routes"
    )

    # The first expansion solves the block's shape; later blocks of the same shape reuse it
    # (see layout_box), so both are reported.
    def expand(scopes: set[str]) -> None:
        """Open ``scopes`` and the series holding them (a series of alike blocks is one box
        until it is opened)."""
        series = {hierarchy.series_of[p].path for p in scopes if p in hierarchy.series_of}
        layout_graph(visible_graph(graph, hierarchy, scopes | series), cache=cache)

    _timed("expand one block (100 units), first", expand, expanded | {"block_0"})
    _timed("expand one unit inside it", expand, expanded | {"block_0", "block_0/unit_3"})
    times = []
    for k in range(1, runs + 1):
        t0 = time.perf_counter()
        expand(expanded | {f"block_{17 * k % BIG[0]}"})
        times.append(time.perf_counter() - t0)
    print(f"  {'other blocks (shape known), median':44} {_ms(times):8.0f} ms")

    _timed("search_nodes (name regex)", search_nodes, graph, r"unit_5\d/Tanh$", ("name",))
    _timed("trace (all inputs of the output)", trace, graph, graph.nodes[-1].name)
    _timed("node_details", node_details, graph, graph.nodes[len(graph.nodes) // 2].name)
    print(f"  peak memory (VmHWM) {_peak_mb():31.0f} MB")


def medium(path: Path, runs: int) -> None:
    """The 14,000-op function fully expanded, from click to positions and routes."""
    from smlens.core.graph.build import OpGraph
    from smlens.core.graph.layout import LayoutCache, layout_graph
    from smlens.core.graph.scopes import build_hierarchy, expand_all, visible_graph

    graph = _serving_graph(path)
    hierarchy = _timed("build_hierarchy", build_hierarchy, graph)
    everything = expand_all(hierarchy)
    for label, shared in (("fully expanded", True), ("  same, no box shape shared", False)):
        times = []
        for _ in range(runs):
            cache = LayoutCache()
            if not shared:  # as if no two boxes had the same shape: the worst case
                cache.templates = _Forgetful()
            t0 = time.perf_counter()
            view = visible_graph(graph, hierarchy, everything)
            layout = layout_graph(view, cache=cache)
            times.append(time.perf_counter() - t0)
        print(f"  {label + ', median':44} {_ms(times):8.0f} ms")
    print(f"  ({view.item_count()} items in {len(view.boxes)} boxes, {len(layout.routes)} routes)")

    # The worst case for one igraph call: the same ops with no scopes, one box of 14,000.
    nodes = [dataclasses.replace(n, name=n.name.replace("/", ".")) for n in graph.nodes]
    index = {n.name: i for i, n in enumerate(nodes)}
    flat = OpGraph(graph.function, nodes, graph.edges, index, graph.library)
    flat_hierarchy = build_hierarchy(flat)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        layout = layout_graph(visible_graph(flat, flat_hierarchy, set()), cache=LayoutCache())
        times.append(time.perf_counter() - t0)
    print(
        f"  {'same ops without scopes: one box, median':44} {_ms(times):8.0f} ms "
        f"({layout.width:.0f} x {layout.height:.0f} px)"
    )
    print(f"  peak memory (VmHWM) {_peak_mb():31.0f} MB")


class _Forgetful(dict):
    """A template store that keeps nothing."""

    def __setitem__(self, key, value) -> None:
        pass


def _ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


SCENARIOS = {"big": (big, BIG), "medium": (medium, MEDIUM)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", choices=SCENARIOS)
    args = parser.parse_args()
    if args.scenario:
        fn, shape = SCENARIOS[args.scenario]
        fn(scoped_model(*shape), args.runs)
        sys.exit()
    for name, (fn, shape) in SCENARIOS.items():
        path = scoped_model(*shape)  # built with TensorFlow once, in this process
        print(f"\n{name}: {fn.__doc__.splitlines()[0]}  [{path.name}]", flush=True)
        cmd = [sys.executable, __file__, "--scenario", name, "--runs", str(args.runs)]
        subprocess.run(cmd, check=True)
