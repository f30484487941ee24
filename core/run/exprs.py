"""Input values written as Python: literals and calls to an allowlist of numpy constructors,
evaluated by walking the syntax tree (never ``eval``), each allocation checked against the
run's input budget before it is made."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np

from smlens.core.errors import SmlensError
from smlens.core.run.limits import InputBudget, requested_elements

_CALLS: dict[str, Callable] = {
    "array": np.array,
    "asarray": np.asarray,
    "zeros": np.zeros,
    "ones": np.ones,
    "full": np.full,
    "arange": np.arange,
    "linspace": np.linspace,
    "eye": np.eye,
    "random.rand": np.random.rand,
    "random.randn": np.random.randn,
    "random.randint": np.random.randint,
    "random.uniform": np.random.uniform,
    "random.normal": np.random.normal,
}
_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16")
_DTYPES += ("uint32", "uint64", "bool_", "complex64", "complex128", "str_", "bytes_")
_ATTRIBUTES: dict[str, Any] = {name: getattr(np, name) for name in _DTYPES} | {
    "nan": np.nan,
    "inf": np.inf,
    "pi": np.pi,
    "e": np.e,
}
_MODULES = ("np.", "numpy.")


def eval_expr(text: str, budget: InputBudget | None = None) -> Any:
    """Evaluate a literal or a numpy constructor call, e.g. ``np.ones((2, 3), np.float32)``.

    The expression is parsed and its tree walked: literals, unary minus, and calls to an
    allowlist of numpy constructors with literal arguments. Anything else is refused, and
    so is a call that would allocate more than ``budget`` (by default, the default limit).
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise SmlensError("expression", f"{text!r} is not a valid expression: {e}") from None
    try:
        return _Evaluator(text, budget or InputBudget()).visit(tree.body)
    except RecursionError:
        raise SmlensError("expression", f"{text!r} is nested too deeply") from None
    except (TypeError, ValueError, MemoryError) as e:
        raise SmlensError("expression", f"{text!r} failed: {e}") from None


class _Evaluator(ast.NodeVisitor):
    def __init__(self, text: str, budget: InputBudget):
        self.text = text
        self.budget = budget

    def refuse(self, node: ast.AST, what: str) -> SmlensError:
        allowed = ", ".join("np." + name for name in _CALLS)
        return SmlensError(
            "expression",
            f"{self.text!r}: {what} is not allowed; only literals, unary minus and calls to "
            f"{allowed} (with dtypes like np.float32)",
        )

    def generic_visit(self, node: ast.AST):
        raise self.refuse(node, f"{type(node).__name__} ({ast.unparse(node)!r})")

    def visit_Constant(self, node: ast.Constant):
        if node.value is Ellipsis:
            raise self.refuse(node, "Ellipsis")
        return node.value

    def visit_UnaryOp(self, node: ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise self.refuse(node, f"the operator in {ast.unparse(node)!r}")
        value = self.visit(node.operand)
        if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
            raise self.refuse(node, f"a sign on {ast.unparse(node.operand)!r}")
        return -value if isinstance(node.op, ast.USub) else value

    def visit_Tuple(self, node: ast.Tuple):
        return tuple(self.visit(e) for e in node.elts)

    def visit_List(self, node: ast.List):
        return [self.visit(e) for e in node.elts]

    def visit_Dict(self, node: ast.Dict):
        if any(k is None for k in node.keys):
            raise self.refuse(node, "dict unpacking (**)")
        return {self.visit(k): self.visit(v) for k, v in zip(node.keys, node.values, strict=True)}

    def visit_Attribute(self, node: ast.Attribute):
        name = _numpy_name(node)
        if name not in _ATTRIBUTES:
            raise self.refuse(node, f"the name {ast.unparse(node)!r}")
        return _ATTRIBUTES[name]

    def visit_Name(self, node: ast.Name):
        raise self.refuse(node, f"the name {node.id!r}")

    def visit_Call(self, node: ast.Call):
        name = _numpy_name(node.func)
        if name not in _CALLS:
            raise self.refuse(node, f"calling {ast.unparse(node.func)!r}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse(node, "*args")
        if any(k.arg is None for k in node.keywords):
            raise self.refuse(node, "**kwargs")
        args = [self.visit(a) for a in node.args]
        kwargs = {k.arg: self.visit(k.value) for k in node.keywords}
        if "like" in kwargs:
            raise self.refuse(node, "the like= argument")
        count = requested_elements(name, args, kwargs)
        if count is not None:
            try:
                itemsize = max(np.dtype(kwargs.get("dtype") or np.float64).itemsize, 8)
            except TypeError:
                itemsize = 8
            self.budget.take("expression", count * itemsize, f"{ast.unparse(node)!r}")
        return _CALLS[name](*args, **kwargs)


def _numpy_name(node: ast.AST) -> str | None:
    """'random.rand' for ``np.random.rand`` (or ``numpy.random.rand``), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    dotted = ".".join([node.id, *reversed(parts)]) + "."
    for prefix in _MODULES:
        if dotted.startswith(prefix):
            return dotted[len(prefix) : -1]
    return None


def parse_input_exprs(text: str, budget: InputBudget | None = None) -> dict[str, Any]:
    """saved_model_cli's ``--input_exprs``: ``key=expr`` pairs separated by ';'."""
    values = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        key, eq, expr = item.partition("=")
        if not eq or not key.strip():
            raise SmlensError("--input_exprs", f"{item!r} is not <input_key>=<expression>")
        values[key.strip()] = eval_expr(expr, budget)
    return values
