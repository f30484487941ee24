"""``smlens diff`` of one TFX model exported by two TensorFlow releases (the taxi pipeline's
pusher export from TF 2.1 against the trainer's re-run under TF 2.9): the graphs share almost
no generated names (TF 2.9 moved the transform graph into functions), so this is where a diff
that pairs ``Const_4`` with ``Const_4`` goes wrong.

Prints the default text's line count (target: at most 80), the wall time of the command, and
how many unnamed constants of A the pairing matched to a constant holding another value
(each one a "changed constant" claim, to be checked by hand against tf.make_ndarray) next to
how many it matched at all. No TensorFlow tool diffs two exports, so there is no ratio.

Run: python benchmarks/bench_diff_tfx.py [A B]   (defaults under /work/realmodels/tfx)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from smlens.core.diff.function_matching import Hasher, attr_text
from smlens.core.diff.node_pairing import Body, GeneratedNames, GraphContext, pair_nodes
from smlens.core.formats.reader import open_model

TFX = Path("/work/realmodels/tfx")
DEFAULT_A = TFX / "pusher/model_push/1584391735"
DEFAULT_B = TFX / "trainer/current/Format-Serving/export/chicago-taxi/1646034756"


def main() -> None:
    a_path, b_path = (
        (Path(p) for p in sys.argv[1:3]) if len(sys.argv) > 2 else (DEFAULT_A, DEFAULT_B)
    )
    if not a_path.exists() or not b_path.exists():
        raise SystemExit(f"missing {a_path if not a_path.exists() else b_path}")
    cmd = [sys.executable, "-m", "smlens.cli.main", "diff", str(a_path), str(b_path)]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"smlens diff exited {out.returncode}: {out.stderr.strip()}")
    lines = out.stdout.count("\n")
    print(f"default text: {lines} lines (target <= 80), {elapsed:.2f} s")

    a, b = open_model(a_path), open_model(b_path)
    graph_a, graph_b = a.meta_graphs[0].graph, b.meta_graphs[0].graph
    body = Body(Hasher(graph_a), Hasher(graph_b), {}, GraphContext(a, b), "", "")
    pairing = pair_nodes(graph_a.nodes, graph_b.nodes, body)
    generated = GeneratedNames((n.name for n in graph_a.nodes), (n.name for n in graph_b.nodes))
    by_a = {n.name: n for n in graph_a.nodes}
    by_b = {n.name: n for n in graph_b.nodes}
    consts = [n.name for n in graph_a.nodes if n.op == "Const" and n.name in generated]
    a_to_b = {na: nb for nb, na in pairing.items()}
    paired = [na for na in consts if na in a_to_b]
    other_value = [
        na
        for na in paired
        if attr_text(by_a[na].attrs.get("value")) != attr_text(by_b[a_to_b[na]].attrs.get("value"))
    ]
    same_name = sum(a_to_b[na] == na for na in paired)
    print(
        f"unnamed constants of A: {len(consts)}; paired {len(paired)} "
        f"({same_name} with the same name), {len(other_value)} of them to another value"
    )
    for na in other_value:
        nb = a_to_b[na]
        print(
            f"  {na} -> {nb}: {attr_text(by_a[na].attrs['value'])[:60]} -> "
            f"{attr_text(by_b[nb].attrs['value'])[:60]}"
        )


if __name__ == "__main__":
    main()
