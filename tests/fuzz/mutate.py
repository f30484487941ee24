"""A seeded mutation fuzzer over real exports: damage one file of a model, read the model
the way every command does, and count what is not the project's error.

Targets: the saved model (binary and text), the fingerprint, the checkpoint index (raw
bytes, and entries rewritten in a valid table so the damage gets past the checksums), the
data shards, the state file, ``.meta`` files and frozen graphs. Mutations are bytes (flips,
interesting values, truncation, insertion, huge varints, splices) or fields (a random
scalar field of a random sub-message set to an interesting value).

    python -m tests.fuzz.mutate --cases 10000 [--seed 1] [--models FOLDER]

Every case is determined by (seed, case number); a failure prints both, so
``--replay SEED:CASE`` re-runs exactly it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor

from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.formats.sstable import read_table
from tests.fixtures.checkpoints import write_table

# Fixture models the fuzzer damages, and the files of each worth damaging.
SOURCES = ("keras_export", "module_multi_sig", "tf1_ckpt_meta", "frozen_graph", "ckpt_partitioned")
HANG_SECONDS = 10
_INTS = (0, 1, -1, 2, 7, 127, 128, 255, 2**31 - 1, -(2**31), 2**32, 2**40, 2**62, -(2**63))
_STRINGS = ("", "a" * 5000, "../../../etc/passwd", "/etc/passwd", "\x00", "DT_FLOAT_REF", "%s")
_PROTO_OF = {
    "saved_model.pb": "SavedModel",
    "fingerprint.pb": "FingerprintDef",
    ".meta": "MetaGraphDef",
    "frozen.pb": "GraphDef",
}


@dataclass
class Outcome:
    cases: int = 0
    opened: int = 0
    refused: int = 0  # SmlensError from open_model: a clean refusal
    failures: list[dict] = field(default_factory=list)  # non-project exceptions
    hangs: list[dict] = field(default_factory=list)
    slowest: float = 0.0
    kinds: Counter = field(default_factory=Counter)

    def figures(self) -> dict:
        return {
            "cases": self.cases,
            "opened": self.opened,
            "refused_cleanly": self.refused,
            "non_project_exceptions": len(self.failures),
            "hangs": len(self.hangs),
            "slowest_case_seconds": round(self.slowest, 3),
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "mutations": dict(self.kinds),
        }


# -- mutations ------------------------------------------------------------------------------


def _bytes_mutation(rng: random.Random, data: bytes, other: bytes) -> tuple[str, bytes]:
    data = bytearray(data)
    kind = rng.choice(("flip", "set", "truncate", "insert", "delete", "varint", "splice", "dup"))
    at = rng.randrange(len(data)) if data else 0
    if kind == "flip" and data:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "set" and data:
        data[at] = rng.choice((0, 0x7F, 0x80, 0xFF, rng.randrange(256)))
    elif kind == "truncate":
        del data[at:]
    elif kind == "insert":
        data[at:at] = rng.randbytes(rng.randint(1, 16))
    elif kind == "delete":
        del data[at : at + rng.randint(1, 32)]
    elif kind == "varint":
        data[at:at] = b"\xff" * rng.randint(5, 10) + b"\x01"
    elif kind == "splice" and other:
        start = rng.randrange(len(other))
        data[at:at] = other[start : start + rng.randint(1, 64)]
    elif kind == "dup" and data:
        data[at:at] = data[at : at + rng.randint(1, 64)]
    return kind, bytes(data)


def _messages(msg, out: list) -> list:
    """Every sub-message of ``msg`` (itself included), depth first."""
    out.append(msg)
    for fd, value in msg.ListFields():
        if fd.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if fd.message_type.GetOptions().map_entry:
            values = value.values() if fd.message_type.fields_by_name["value"].message_type else []
        elif fd.is_repeated:
            values = value
        else:
            values = [value]
        for v in values:
            if len(out) < 5000:
                _messages(v, out)
    return out


def _set_field(rng: random.Random, msg) -> bool:
    """Set a random scalar field of ``msg`` to an interesting value; False if it has none."""
    scalars = [
        f
        for f in msg.DESCRIPTOR.fields
        if f.type != FieldDescriptor.TYPE_MESSAGE and not f.containing_oneof
    ] or [f for f in msg.DESCRIPTOR.fields if f.type != FieldDescriptor.TYPE_MESSAGE]
    if not scalars:
        return False
    fd = rng.choice(scalars)
    if fd.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        value = rng.choice(_STRINGS)
        value = value.encode() if fd.type == FieldDescriptor.TYPE_BYTES else value
    elif fd.type == FieldDescriptor.TYPE_BOOL:
        value = rng.random() < 0.5
    elif fd.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        value = rng.choice((0.0, -1.0, float("nan"), float("inf"), 1e300))
    else:
        value = rng.choice(_INTS)
    unsigned = fd.type in (
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
    )
    bits = (
        32 if fd.cpp_type in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_UINT32) else 64
    )
    if fd.type == FieldDescriptor.TYPE_ENUM:
        value = value % 2**31 if rng.random() < 0.5 else value % 200
    elif isinstance(value, int) and not isinstance(value, bool):
        value = (
            value % 2**bits if unsigned else (value + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)
        )
    try:
        if fd.is_repeated:
            getattr(msg, fd.name).append(value)
        else:
            setattr(msg, fd.name, value)
    except (TypeError, ValueError):
        return False
    return True


def _field_mutation(rng: random.Random, data: bytes, cls_name: str) -> tuple[str, bytes] | None:
    cls = getattr(proto, cls_name)
    try:
        msg = cls.FromString(data)
    except Exception:  # an already damaged file: its bytes are mutated instead
        return None
    targets = _messages(msg, [])
    for _ in range(rng.randint(1, 3)):
        _set_field(rng, rng.choice(targets))
    return "field", msg.SerializeToString()


def _index_entry_mutation(rng: random.Random, data: bytes, path: Path) -> tuple[str, bytes]:
    """Rewrite one BundleEntryProto (or the header) and write a valid table around it."""
    tmp = path.with_name(path.name + ".fuzz")
    tmp.write_bytes(data)
    try:
        pairs = read_table(tmp)
        i = rng.randrange(len(pairs))
        cls = proto.BundleHeaderProto if i == 0 else proto.BundleEntryProto
        msg = cls.FromString(pairs[i][1])
        for _ in range(rng.randint(1, 2)):
            _set_field(rng, rng.choice(_messages(msg, [])))
        if i and rng.random() < 0.3:  # a slice or dim of its own
            target = msg.slices.add().extent.add() if rng.random() < 0.5 else msg.shape.dim.add()
            _set_field(rng, target)
        pairs[i] = (pairs[i][0], msg.SerializeToString())
        write_table(tmp, pairs)
        return "entry", tmp.read_bytes()
    except SmlensError:
        return _bytes_mutation(rng, data, b"")
    finally:
        tmp.unlink(missing_ok=True)


def _text_mutation(rng: random.Random, text: str) -> tuple[str, bytes]:
    lines = text.splitlines(keepends=True) or [""]
    kind = rng.choice(("drop", "dup", "number", "string", "bytes"))
    at = rng.randrange(len(lines))
    if kind == "drop":
        del lines[at]
    elif kind == "dup":
        lines.insert(at, lines[at])
    elif kind == "number":
        words = [w for w in lines[at].split() if w.lstrip("-").isdigit()]
        if words:
            lines[at] = lines[at].replace(words[0], str(rng.choice(_INTS)), 1)
    elif kind == "string" and '"' in lines[at]:
        head, _, _rest = lines[at].partition('"')
        lines[at] = head + '"' + rng.choice(_STRINGS).replace("\x00", "\\000") + '"\n'
    else:
        return _bytes_mutation(rng, text.encode(), b"")
    return "text-" + kind, "".join(lines).encode()


def mutate(rng: random.Random, path: Path, data: bytes, other: bytes) -> tuple[str, bytes]:
    name = path.name
    cls_name = _PROTO_OF.get(name) or _PROTO_OF.get(path.suffix)
    if name.endswith(".index") and rng.random() < 0.6:
        return _index_entry_mutation(rng, data, path)
    if cls_name and rng.random() < 0.5:
        found = _field_mutation(rng, data, cls_name)
        if found is not None:
            return found
    if name == "checkpoint" or name.endswith(".pbtxt"):
        try:
            return _text_mutation(rng, data.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return _bytes_mutation(rng, data, other)


# -- reading a model the way every command does --------------------------------------------


def exercise(path: Path, deep: bool = False) -> bool:
    """Open, summarise, print, scan and read every variable (``deep``: also diff the model
    with itself). Returns whether it opened; SmlensError anywhere is the project's clean
    answer."""
    from smlens.cli.show import render_show
    from smlens.core.analysis.scan import scan_model
    from smlens.core.analysis.summary import model_summary
    from smlens.core.formats.reader import open_model

    try:
        model = open_model(path)
    except SmlensError:
        return False
    tags = ",".join(model.meta_graphs[0].tags) if model.meta_graphs else None
    for step in (
        lambda: json.dumps(model_summary(model)),
        lambda: render_show(model, all=True),
        lambda: render_show(model, list_ops=True, tag_set=tags),
        lambda: scan_model(model),
        *([lambda: _diff_with_itself(model)] if deep else []),
    ):
        with contextlib.suppress(SmlensError):
            step()
    if model.checkpoint is not None:
        for var in model.variables[:50]:
            with contextlib.suppress(SmlensError):
                model.checkpoint.read(var.key, verify=True)
    return True


def _diff_with_itself(model) -> None:
    from smlens.core.diff.model_diff import diff_models

    diff_models(model, model)


def _target_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".done")


def _add_text_form(folder: Path) -> None:
    """A saved_model.pbtxt twin of the binary one, so the text reader is fuzzed too."""
    pb = folder / "saved_model.pb"
    if pb.is_file():
        twin = folder.parent / (folder.name + "_text")
        shutil.copytree(folder, twin)
        (twin / "saved_model.pb").unlink()
        msg = proto.SavedModel.FromString(pb.read_bytes())
        (twin / "saved_model.pbtxt").write_text(
            text_format.MessageToString(msg, descriptor_pool=proto._pool())
        )


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def run(
    models: dict[str, Path],
    cases: int,
    seed: int = 0,
    only: int | None = None,
    deep: bool = False,
) -> Outcome:
    """``cases`` damaged models from ``models`` (name -> folder), case i seeded (seed, i)."""
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="smlens-fuzz-") as tmp:
        work = Path(tmp)
        folders = []
        for name, src in sorted(models.items()):
            dest = work / name
            shutil.copytree(src, dest)
            _add_text_form(dest)
        folders = sorted(p for p in work.iterdir() if p.is_dir())
        targets = [(folder, f) for folder in folders for f in _target_files(folder)]
        originals = {f: f.read_bytes() for _, f in targets}
        previous = signal.signal(signal.SIGALRM, _alarm)
        try:
            for i in range(cases) if only is None else [only]:
                rng = random.Random(f"{seed}:{i}")
                folder, target = rng.choice(targets)
                other = originals[rng.choice(targets)[1]]
                kind, data = mutate(rng, target, originals[target], other)
                outcome.kinds[kind] += 1
                target.write_bytes(data)
                case = {
                    "seed": seed,
                    "case": i,
                    "file": str(target.relative_to(work)),
                    "kind": kind,
                }
                started = time.perf_counter()
                signal.alarm(HANG_SECONDS)
                try:
                    opened = exercise(folder, deep)
                    outcome.opened += opened
                    outcome.refused += not opened
                except _Hang:
                    outcome.hangs.append(case)
                except Exception as e:  # what the fuzzer is here to find
                    case["error"] = f"{type(e).__name__}: {e}"[:300]
                    case["where"] = traceback.format_exc(limit=-3)[-1500:]
                    outcome.failures.append(case)
                finally:
                    signal.alarm(0)
                    target.write_bytes(originals[target])
                outcome.slowest = max(outcome.slowest, time.perf_counter() - started)
                outcome.cases += 1
        finally:
            signal.signal(signal.SIGALRM, previous)
    return outcome


CACHE = Path(__file__).resolve().parents[2] / ".bench-cache" / "fixtures"


def _exported(folder: Path) -> dict[str, Path]:
    """The fixture models the fuzzer damages, exported by TensorFlow on first use."""
    from tests.fixtures import registry

    builders = registry()
    models = {}
    for name in SOURCES:
        dest = folder / name
        if not dest.exists():
            partial = folder / f"{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            builders[name][0](partial)
            partial.rename(dest)
        models[name] = dest
    return models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.mutate")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--models", help="a folder of exported fixtures (default: exported once into .bench-cache)"
    )
    parser.add_argument("--replay", help="SEED:CASE to re-run one case, with its traceback")
    parser.add_argument("--deep", action="store_true", help="also diff each model with itself")
    args = parser.parse_args(argv)
    models = _exported(Path(args.models) if args.models else CACHE)
    started = time.perf_counter()
    if args.replay:
        seed, case = map(int, args.replay.split(":"))
        outcome = run(models, 1, seed, only=case, deep=args.deep)
    else:
        outcome = run(models, args.cases, args.seed, deep=args.deep)
    figures = outcome.figures() | {"seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(figures, indent=2))
    for case in outcome.failures + outcome.hangs:
        print(json.dumps(case))
    return 1 if outcome.failures or outcome.hangs else 0


if __name__ == "__main__":
    sys.exit(main())
