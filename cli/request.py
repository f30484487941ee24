"""``smlens show --request KEY`` and ``smlens check-request``: the request a client sends
TF Serving for a signature, and a REST body held against it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from smlens.core.analysis.request_check import check_request
from smlens.core.analysis.serving_request import model_name, serving_request
from smlens.core.analysis.warmup import serving_meta_graph
from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model


def request_meta_graph(model: Model, tag_set: str | None) -> MetaGraph:
    """The meta graph a request goes to: ``tag_set``, else the one TF Serving loads."""
    if tag_set is not None:
        return model.meta_graph(tag_set)
    mg = serving_meta_graph(model)
    if mg is None:
        tag_sets = ", ".join(repr(m.tag_set) for m in model.meta_graphs) or "none"
        raise SmlensError(
            model.path, f"no meta graph tagged 'serve' alone; give --tag_set (it has: {tag_sets})"
        )
    return mg


def print_request(model: Model, key: str, tag_set: str | None, form: str) -> int:
    """One form of the request for signature ``key``: a REST body, curl or gRPC Python."""
    mg = request_meta_graph(model, tag_set)
    sig = mg.callable_signatures.get(key)
    if sig is None:
        have = ", ".join(repr(k) for k in sorted(mg.callable_signatures)) or "none"
        raise SmlensError(
            model.path, f"no signature {key!r} in tag-set {mg.tag_set!r}; it has: {have}"
        )
    request = serving_request(key, sig, model_name(model.path), mg)
    if form == "row" and request.row is None:
        raise SmlensError(
            model.path, f"signature {key!r} has no row form: {request.row_note}; use the columnar"
        )
    sys.stdout.write(request.text(form))
    for note in request.notes:
        print(f"smlens: warning: {note}", file=sys.stderr)
    return 0


def read_body(path: str) -> object:
    """The parsed JSON of a REST body; SmlensError naming the file and position when not.
    NaN and Infinity are taken, as TF Serving's reader takes them."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SmlensError(path, "no such file") from None
    except UnicodeDecodeError as e:
        raise SmlensError(path, f"not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise SmlensError(path, e.strerror or str(e)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SmlensError(
            path, f"not JSON: {e.msg} (line {e.lineno}, column {e.colno}, char {e.pos})"
        ) from None
    except RecursionError:
        raise SmlensError(path, "not JSON this reader takes: nested too deep") from None


def print_check(model: Model, body_path: str, key: str | None, tag_set: str | None) -> int:
    """One line per problem of the body against the signature and exit 1; 0 when it fits.
    ``key`` (--signature_def) is the signature the body must call."""
    body = read_body(body_path)
    mg = request_meta_graph(model, tag_set)
    if key is not None and key not in mg.callable_signatures:
        have = ", ".join(repr(k) for k in sorted(mg.callable_signatures)) or "none"
        raise SmlensError(
            model.path, f"no signature {key!r} in tag-set {mg.tag_set!r}; it has: {have}"
        )
    check = check_request(body, mg, expected=key)
    problems = check.problems
    for problem in problems:
        print(f"{body_path}: {problem}")
    if problems:
        return 1
    batch = f", batch {check.batch}" if check.batch is not None else ""
    print(
        f"{body_path}: fits signature {check.signature!r} of tag-set {mg.tag_set!r} "
        f"({check.form} form{batch})"
    )
    return 0
