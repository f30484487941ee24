"""Which ops, and which attrs of each, a TensorFlow release defines, read from the Python
wrappers its wheel ships (``tensorflow/python/ops/gen_*_ops.py`` and the like), as text:
the release is never imported or installed.

python_op_gen.cc writes one function per op (and an ``_eager_fallback`` beside it) that
names the op in ``_op_def_library._apply_op_helper("Op", input=..., attr=...)`` and, in
the eager path, ``_execute.execute(b"Op", ...)``; the ``_attrs = ("T", ..., "Tidx", ...)``
tuples it records gradients and runs eagerly with name every attr of the OpDef at their
even positions. An op whose inputs are refs has no eager path, and when it has no outputs
either, its inferred type attrs (``QueueEnqueue``'s ``Tcomponents``) appear nowhere: the
helper's keywords hold only the attrs a caller passes.
"""

from __future__ import annotations

import ast
import keyword
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# The module that defines _apply_op_helper calls it too, on names it is given.
_NOT_WRAPPERS = ("tensorflow/python/framework/op_def_library.py",)
_MARK = "_apply_op_helper("
_TOP_LEVEL_DEF = re.compile(r"^def ", re.M)
_OP_NAMED = re.compile(
    r"""_apply_op_helper\(\s*(?P<q1>["'])(?P<helper>[^"']+)(?P=q1)"""
    r"""|_execute\.execute\(\s*b(?P<q2>["'])(?P<eager>[^"']+)(?P=q2)"""
)
_ATTRS_TUPLE = re.compile(r"^\s*_attrs = ", re.M)
_HELPER_CALL = re.compile(r"_op_def_library\._apply_op_helper\(")
_STRING = re.compile(r""""[^"\n]*"|'[^'\n]*'""")


class WrapperFormatError(ValueError):
    """Generated code this reader does not understand: the generator stops rather than
    write a table that silently misses ops."""


@dataclass
class WrappedOp:
    """What one op's wrappers name: the attrs of the ``_attrs`` tuples and the keywords
    of the ``_apply_op_helper`` call (inputs and the attrs a caller passes, by OpDef name)."""

    attrs: set[str] = field(default_factory=set)
    keywords: set[str] = field(default_factory=set)

    def attr_names(self, inputs: Iterable[str] = ()) -> set[str]:
        """The attrs, given the OpDef's input names (the helper's other keywords)."""
        return self.attrs | (set(map(_opdef_name, self.keywords)) - set(inputs))


def _opdef_name(word: str) -> str:
    """An OpDef name from the helper's keyword: a Python keyword ("in") gets a "_"."""
    bare = word.removesuffix("_")
    return bare if bare != word and keyword.iskeyword(bare) else word


def _balanced(text: str, start: int) -> str:
    """The text from ``text[start]`` (an opening parenthesis) to its closing one. The
    generated code holds no parenthesis inside the short strings of these statements,
    but strings are skipped all the same."""
    depth = 0
    pos = start
    while pos < len(text):
        char = text[pos]
        if char in "\"'":
            match = _STRING.match(text, pos)
            if match is None:
                raise WrapperFormatError(f"unterminated string at {text[pos : pos + 40]!r}")
            pos = match.end()
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[start : pos + 1]
        pos += 1
    raise WrapperFormatError(f"unbalanced parentheses at {text[start : start + 60]!r}")


def _expression(snippet: str) -> ast.expr:
    try:
        return ast.parse(snippet.strip(), mode="eval").body
    except SyntaxError as e:
        raise WrapperFormatError(f"cannot parse {snippet[:80]!r}: {e.msg}") from None


def _tuple_attrs(chunk: str) -> Iterator[str]:
    """The attr names of each ``_attrs = (...)`` in one function (``None`` or ``()`` for an
    op without attrs)."""
    for match in _ATTRS_TUPLE.finditer(chunk):
        rest = chunk[match.end() :]
        if rest.startswith(("None", "()")):
            continue
        if not rest.startswith("("):
            raise WrapperFormatError(f"_attrs is not a tuple: {rest[:60]!r}")
        value = _expression(_balanced(rest, 0))
        items = value.elts if isinstance(value, ast.Tuple) else [value]
        for item in items[::2]:
            if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                raise WrapperFormatError(f"_attrs names an attr by {ast.dump(item)[:60]}")
            yield item.value


def _helper_keywords(chunk: str) -> Iterator[str]:
    for match in _HELPER_CALL.finditer(chunk):
        call = _expression("f" + _balanced(chunk, match.end() - 1))
        for argument in call.keywords:
            if argument.arg is None:
                raise WrapperFormatError("_apply_op_helper called with **kwargs")
            if argument.arg != "name":
                yield argument.arg


def read_wrapper_source(text: str, ops: dict[str, WrappedOp]) -> None:
    """Add what one generated module names to ``ops`` (op name -> WrappedOp)."""
    for chunk in _TOP_LEVEL_DEF.split(text)[1:]:
        named = {m["helper"] or m["eager"] for m in _OP_NAMED.finditer(chunk)}
        if not named:
            if _MARK in chunk:
                raise WrapperFormatError(f"an op named by a variable in def {chunk[:60]!r}")
            continue
        if len(named) > 1:
            raise WrapperFormatError(f"one function names ops {sorted(named)}")
        wrapped = ops.setdefault(named.pop(), WrappedOp())
        wrapped.attrs.update(_tuple_attrs(chunk))
        wrapped.keywords.update(_helper_keywords(chunk))


def _wrapper_sources(members: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, str]]:
    for name, data in members:
        if name in _NOT_WRAPPERS or _MARK.encode() not in data:
            continue
        yield name, data.decode("utf-8", errors="replace")


def read_wrappers(members: Iterable[tuple[str, bytes]]) -> tuple[dict[str, WrappedOp], int]:
    """Every op the generated modules among ``members`` (path, content) name, and how many
    modules named one."""
    ops: dict[str, WrappedOp] = {}
    modules = 0
    for name, text in _wrapper_sources(members):
        try:
            read_wrapper_source(text, ops)
        except WrapperFormatError as e:
            raise WrapperFormatError(f"{name}: {e}") from None
        modules += 1
    return ops, modules


def wheel_members(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """The Python sources under ``tensorflow/`` of a wheel (a zip), read without unpacking."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.filename.startswith("tensorflow/") and info.filename.endswith(".py"):
                yield info.filename, archive.read(info)


def folder_members(site: Path) -> Iterator[tuple[str, bytes]]:
    """The Python sources of an installed ``tensorflow`` package (``site`` holds it)."""
    for path in sorted((site / "tensorflow").rglob("*.py")):
        yield path.relative_to(site).as_posix(), path.read_bytes()


def wheel_text(wheel: Path, member: str) -> str | None:
    """One member of a wheel as text, or None when the wheel has no such file."""
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(member).decode("utf-8", errors="replace")
        except KeyError:
            return None
