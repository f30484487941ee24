"""How the graph view draws: colours per op family in both looks, fonts, and node sizes.

The size function runs on the layout thread, so it measures text from character widths
taken once on the GUI thread rather than calling Qt's font metrics there.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QApplication

from smlens.core.graph.build import OpGraph
from smlens.core.graph.fold import WeightRow
from smlens.core.graph.nav import LoadedGraph
from smlens.core.graph.scopes import Hierarchy, VisibleItem
from smlens.core.model import Model, Shape
from smlens.core.model.dtypes import dtype as lookup_dtype
from smlens.core.model.text import counted
from smlens.gui.base.theme import current

PAD_X = 10.0
MAX_WIDTH = 230.0  # longer names are elided in the middle
ONE_LINE = 26.0
TWO_LINES = 38.0
ROW = 15.0  # a weight row under a node's two lines
PORT = 8.0
STRIP = 4.0  # the op family's colour band on a node's left
CHEVRON = 14.0  # room for the expand mark of a collapsed scope

_FAMILIES = {
    "const": ("Const", "HostConst", "ZerosLike", "OnesLike", "Fill"),
    "variable": (
        "ReadVariableOp",
        "VarHandleOp",
        "VariableV2",
        "Variable",
        "AssignVariableOp",
        "AssignAddVariableOp",
        "AssignSubVariableOp",
        "ResourceGather",
        "VarIsInitializedOp",
        "Assign",
    ),
    "control": (
        "Switch",
        "Merge",
        "Enter",
        "Exit",
        "NextIteration",
        "LoopCond",
        "NoOp",
        "While",
        "StatelessWhile",
        "If",
        "StatelessIf",
        "Case",
        "StatelessCase",
    ),
    "array": (
        "Identity",
        "IdentityN",
        "Reshape",
        "Shape",
        "ShapeN",
        "StridedSlice",
        "Slice",
        "Pack",
        "Unpack",
        "ConcatV2",
        "Concat",
        "Transpose",
        "Squeeze",
        "ExpandDims",
        "Cast",
        "GatherV2",
        "Split",
        "SplitV",
        "Tile",
        "Pad",
        "PadV2",
        "Size",
        "Rank",
        "Range",
    ),
}
FAMILY_OF = {op: family for family, ops in _FAMILIES.items() for op in ops}
FAMILIES = ("op", "const", "variable", "control", "array", "call", "arg", "scope")


@dataclass(frozen=True)
class GraphColors:
    canvas: str
    text: str
    muted: str
    node_fill: dict[str, str]  # family -> fill
    strip: dict[str, str]  # family -> band colour
    border: str
    box_fill: tuple[str, str]  # expanded scopes, alternating by depth
    box_border: str
    box_text: str
    edge: str
    control_edge: str
    feedback_edge: str
    selected: str
    traced: str
    match: str
    label_bg: str


LIGHT = GraphColors(
    canvas="#fbfbfc",
    text="#1d232b",
    muted="#667080",
    node_fill={
        "op": "#eef3fa",
        "const": "#f3f3f3",
        "variable": "#fdf1e4",
        "control": "#fcecec",
        "array": "#eef6ed",
        "call": "#f2edfa",
        "arg": "#e2edf9",
        "scope": "#e6ecf4",
    },
    strip={
        "op": "#4c78a8",
        "const": "#a0a0a0",
        "variable": "#f58518",
        "control": "#e45756",
        "array": "#54a24b",
        "call": "#8e6cc0",
        "arg": "#2f6fb5",
        "scope": "#7d93b3",
    },
    border="#b3bcc8",
    box_fill=("#f2f5f9", "#e9eef4"),
    box_border="#c3cdda",
    box_text="#3f4d60",
    edge="#8792a2",
    control_edge="#c2c8d0",
    feedback_edge="#d0832a",
    selected="#1f6fd1",
    traced="#e8590c",
    match="#e0b000",
    label_bg="#fbfbfc",
)

DARK = GraphColors(
    canvas="#1b1d21",
    text="#e4e7eb",
    muted="#98a1ad",
    node_fill={
        "op": "#233247",
        "const": "#2b2d31",
        "variable": "#3b2d1f",
        "control": "#3f2526",
        "array": "#233525",
        "call": "#30284a",
        "arg": "#1e3450",
        "scope": "#2a3342",
    },
    strip={
        "op": "#6a9bd1",
        "const": "#8a8f96",
        "variable": "#f5a049",
        "control": "#e87170",
        "array": "#72bf68",
        "call": "#a98be0",
        "arg": "#5b9bde",
        "scope": "#7f96b8",
    },
    border="#48505c",
    box_fill=("#22262c", "#262b32"),
    box_border="#3b4350",
    box_text="#aeb9c8",
    edge="#7a8492",
    control_edge="#4b535e",
    feedback_edge="#e0a050",
    selected="#5ba3f5",
    traced="#ff8c42",
    match="#e5c100",
    label_bg="#1b1d21",
)


def colors() -> GraphColors:
    return DARK if current().dark else LIGHT


def family(item: VisibleItem, has_callees: bool = False, variable: bool = False) -> str:
    if variable and item.kind not in ("scope", "series"):
        return "variable"
    if item.kind in ("arg", "ret"):
        return "arg"
    if item.kind in ("scope", "series"):
        return "scope"
    if has_callees:
        return "call"
    return FAMILY_OF.get(item.op, "op")


_SHORT = {
    "float32": "f32",
    "float16": "f16",
    "bfloat16": "bf16",
    "float64": "f64",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "string": "str",
    "resource": "res",
}


def short_type(dtype: str) -> str:
    """ "DT_FLOAT" -> "f32", as an edge label has room for."""
    if not dtype:
        return ""
    ref = dtype.endswith("_REF")
    try:
        name = lookup_dtype(dtype[:-4] if ref else dtype).short
    except KeyError:
        name = dtype.removeprefix("DT_").lower()
    return _SHORT.get(name, name) + ("&" if ref else "")


def tensor_text(dtype: str, shape: Shape | None) -> str:
    """ "f32[?,28,28,1]"; the dtype alone when the shape is unknown."""
    text = short_type(dtype)
    if shape is None:
        return text
    if shape.dims is None:
        return text + "[…]"
    return text + "[" + ",".join("?" if d < 0 else str(d) for d in shape.dims) + "]"


class NodeMetrics:
    """Fonts for nodes and a thread-safe size function for core/layout."""

    def __init__(self, base: QFont | None = None):
        base = QFont(base if base is not None else QApplication.font())
        size = base.pointSizeF() if base.pointSizeF() > 0 else 9.0
        self.title_font = QFont(base)
        self.title_font.setPointSizeF(max(8.0, size))
        self.title_font.setBold(True)
        self.small_font = QFont(base)
        self.small_font.setPointSizeF(max(7.0, size - 1.0))
        self.label_font = QFont(base)
        self.label_font.setPointSizeF(max(6.5, size - 1.5))
        self._title = _widths(self.title_font)
        self._small = _widths(self.small_font)
        self.title_metrics = QFontMetricsF(self.title_font)
        self.small_metrics = QFontMetricsF(self.small_font)
        self.label_metrics = QFontMetricsF(self.label_font)

    def title_width(self, text: str) -> float:
        table, other = self._title
        return sum(table.get(c, other) for c in text)

    def small_width(self, text: str) -> float:
        table, other = self._small
        return sum(table.get(c, other) for c in text)

    def row_width(self, row: WeightRow) -> float:
        return self.small_width(f"{row.label}  {row.text}") + 2 * PAD_X + STRIP + 8

    def sizer(self, loaded: LoadedGraph, texts: dict | None = None):
        """The size function of one graph's items (scopes show their edge counts, call
        nodes a mark to open the callee, ops a row per folded weight); ``texts`` overrides
        a node's two lines. Runs on the layout's thread."""
        graph, hierarchy = loaded.graph, loaded.hierarchy

        def size(item: VisibleItem) -> tuple[float, float]:
            if item.kind in ("in", "out"):
                return PORT, PORT
            if item.kind == "expanded":  # only its header's width counts: the bold name
                return self.title_width(item.label) + CHEVRON, ONE_LINE
            title, sub = node_texts(item, hierarchy, texts)
            w = max(self.title_width(title), self.small_width(sub)) + 2 * PAD_X + STRIP
            if item.kind in ("scope", "series"):
                w += CHEVRON
            rows = []
            if item.kind == "op":
                node = graph.index.get(item.name)
                if node is not None and graph.nodes[node].callees:
                    w += CHEVRON
                rows = loaded.drawn_rows(item.name)
            h = TWO_LINES if sub else ONE_LINE
            if rows:
                h = TWO_LINES + ROW * len(rows) + 2
                w = max(w, *(self.row_width(r) for r in rows))
            return min(MAX_WIDTH, max(48.0, w)), h

        return size


def node_texts(
    item: VisibleItem, hierarchy: Hierarchy | None, texts: dict | None = None
) -> tuple[str, str]:
    """The bold first line and the muted second line of an item's box."""
    if texts and item.name in texts and item.kind not in ("scope", "series"):
        return texts[item.name]
    if item.kind == "series":
        return item.label, counted(item.op_count, "op")
    if item.kind == "scope":
        sub = counted(item.op_count, "op")
        scope = hierarchy.scopes.get(item.name) if hierarchy is not None else None
        if scope is not None:
            sub += f"  ↓{scope.in_edges}  ↑{scope.out_edges}"
        return item.label, sub
    if item.kind in ("arg", "ret"):
        return item.label, ""
    return item.op, "" if item.label == item.op else item.label


def variable_texts(graph: OpGraph, model: Model | None) -> dict[str, tuple[str, str]]:
    """Lines for nodes linked to a variable: a captured argument shows the variable's name
    and shape, a ReadVariableOp its op and the variable it reads."""
    if model is None:
        return {}
    variables = {v.key: v for v in model.variables}
    found = {}
    for n in graph.nodes:
        var = variables.get(n.variable_key) if n.variable_key else None
        if var is None:
            continue
        if n.kind == "arg":
            found[n.name] = (var.name, tensor_text(var.dtype, var.shape))
        elif n.kind == "op":
            found[n.name] = (n.op, var.name)
    return found


def _widths(font: QFont) -> tuple[dict[str, float], float]:
    fm = QFontMetricsF(font)
    table = {chr(c): fm.horizontalAdvance(chr(c)) for c in range(32, 127)}
    table["↓"] = table["↑"] = fm.horizontalAdvance("↓")
    return table, fm.horizontalAdvance("M")


def edge_label(graph: OpGraph, route) -> str:
    """An edge's dtype and shape when one tensor is behind it, else dtype and count."""
    e = route.edge
    if e.control:
        return ""
    src = graph.index.get(e.src)
    if src is not None:
        outputs = graph.outputs(src)
        ports = {
            graph.edges[k].src_output for k in graph.out_edges[src] if not graph.edges[k].control
        }
        if len(ports) == 1:
            k = ports.pop()
            if k < len(outputs):
                text = tensor_text(outputs[k].dtype, outputs[k].shape)
                return text if e.count == 1 else f"{e.count}x {text}"
    text = tensor_text(e.dtype, None)
    return f"{e.count}x {text}".strip() if e.count > 1 else text
