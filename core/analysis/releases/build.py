"""Build the table of the TensorFlow release that first defines each op and each op attr:
``python -m smlens.core.analysis.releases.build --wheels DIR [--fetch] [--registries DIR]``.

Reads the op wrappers of the last patch release of every minor from 2.4 to the pinned one
(wrappers.py), each from its wheel as a zip, so no release is imported or installed; with
``--fetch`` it first asks pip for the wheels DIR lacks. Rerun it when TensorFlow is
pinned to a new release (after ``python -m smlens.core.formats.proto.regen``): the ops it
dates are those of the pinned registry, tf_ops.binpb.

Wrappers miss the ops a release registers in C++ without a Python wrapper (hidden ops, and
ops wrapped only releases later). A release installed in a throwaway venv can be asked
for its registry itself, in its own interpreter: ``--registries DIR --ask VENV/bin/python``
writes DIR/registry-2.9.3.json; when DIR holds the registry of every release read, the
table dates ops and attrs from wrappers and registries together (the pinned release's is
tf_ops.binpb), else from the wrappers alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from smlens.core.analysis.releases.wrappers import read_wrappers, wheel_members, wheel_text
from smlens.core.formats import proto

FIRST_MINOR = (2, 4)
PINNED = "2.21.0"  # pyproject.toml's tensorflow-cpu, the release tf_ops.binpb was dumped from
TABLE = Path(__file__).with_name("tf_releases.json.gz")
FORMAT = 1

# What pip is asked for, in order: a release's wheels exist for a few Pythons only (2.4 for
# 3.6-3.8, 2.21 for 3.10 and later), and older ones carry the manylinux2010 tag.
_PACKAGES = ("tensorflow-cpu", "tensorflow")
_PYTHONS = ("3.11", "3.9", "3.8")
_PLATFORMS = ("manylinux2010_x86_64", "manylinux2014_x86_64", "manylinux_2_27_x86_64")
_WHEEL = re.compile(r"^tensorflow(?:_cpu)?-(\d+)\.(\d+)\.(\d+)[^-]*-.*\.whl$")
_VERSION_H = "tensorflow/include/tensorflow/core/public/version.h"
_DEFINE = re.compile(r"^#define (TF_GRAPH_DEF_VERSION\w*) (\d+)", re.M)
_GRAPH_DEF_KEYS = {
    "graph_def_version",
    "graph_def_version_min_consumer",
    "graph_def_version_min_producer",
}

Minor = tuple[int, int]


def minor_text(minor: Minor) -> str:
    return f"{minor[0]}.{minor[1]}"


def release_minors(pinned: str = PINNED) -> list[Minor]:
    major, last = map(int, pinned.split(".")[:2])
    return [(major, m) for m in range(FIRST_MINOR[1], last + 1)]


def find_wheels(folder: Path) -> dict[Minor, Path]:
    """The wheel of the highest patch release of each minor found in ``folder``."""
    best: dict[Minor, tuple[int, Path]] = {}
    for path in sorted(folder.glob("*.whl")):
        match = _WHEEL.match(path.name)
        if match:
            major, minor, patch = map(int, match.groups())
            if (major, minor) not in best or patch > best[major, minor][0]:
                best[major, minor] = (patch, path)
    return {minor: path for minor, (_, path) in best.items()}


def fetch_wheel(folder: Path, minor: Minor) -> str | None:
    """Ask pip for the last patch release of ``minor`` (``~=2.12.0``); None when a wheel
    came, else pip's last line of complaint."""
    complaint = "no wheel"
    for package in _PACKAGES:
        for python in _PYTHONS:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder)]
            command += ["--only-binary=:all:", "--python-version", python]
            command += [arg for p in _PLATFORMS for arg in ("--platform", p)]
            done = subprocess.run(
                [*command, f"{package}~={minor_text(minor)}.0"],
                capture_output=True,
                text=True,
            )
            if done.returncode == 0:
                return None
            lines = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            complaint = lines[-1] if lines else f"pip exited {done.returncode}"
    return complaint


# Run by a release's own interpreter (never imported here): its registry as JSON.
_DUMP = """
import json, sys
import tensorflow as tf
from tensorflow.core.framework import op_def_pb2
from tensorflow.python.client import pywrap_tf_session as c
buffer = c.TF_GetAllOpList()
ops = op_def_pb2.OpList.FromString(bytes(c.TF_GetBuffer(buffer)))
ops = {op.name: [a.name for a in op.attr] for op in ops.op}
json.dump({"version": tf.__version__, "ops": ops}, sys.stdout)
"""


def ask_registry(python: Path, folder: Path) -> Path:
    """Dump the registry of the release that ``python`` imports into ``folder``."""
    done = subprocess.run([str(python), "-c", _DUMP], capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exited {done.returncode}"]
        raise RuntimeError(f"{python}: {lines[-1]}")
    dump = json.loads(done.stdout)
    path = folder / f"registry-{dump['version']}.json"
    path.write_text(json.dumps(dump, sort_keys=True))
    return path


def read_registries(folder: Path) -> dict[str, dict[str, set[str]]]:
    """Release version -> op -> attrs, from the dumps ``ask_registry`` wrote."""
    found = {}
    for path in sorted(folder.glob("registry-*.json")):
        dump = json.loads(path.read_text())
        found[dump["version"]] = {op: set(attrs) for op, attrs in dump["ops"].items()}
    return found


@dataclass
class ReleaseOps:
    """What one release defines: op -> its attrs, from its wrappers and, when it was
    asked, from its registry."""

    version: str  # "2.12.1"
    wheel: str
    modules: int
    ops: dict[str, set[str]]
    graph_def: dict[str, int]  # TF_GRAPH_DEF_VERSION, ..._MIN_CONSUMER, ..._MIN_PRODUCER
    hidden: int = 0  # ops its registry holds and its wrappers do not name
    asked: bool = False

    def add_registry(self, registry: dict[str, set[str]]) -> None:
        self.hidden = len(registry.keys() - self.ops.keys())
        for op, attrs in registry.items():
            self.ops.setdefault(op, set()).update(attrs)
        self.asked = True

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def read_release(wheel: Path, registry: dict) -> ReleaseOps:
    """One release's ops and attrs; a helper keyword is an attr unless the pinned OpDef
    names it an input (inputs are not renamed between releases)."""
    wrapped, modules = read_wrappers(wheel_members(wheel))
    ops = {}
    for op, found in wrapped.items():
        op_def = registry.get(op)
        inputs = [a.name for a in op_def.input_arg] if op_def is not None else []
        ops[op] = found.attr_names(inputs)
    header = wheel_text(wheel, _VERSION_H) or ""
    version = ".".join(_WHEEL.match(wheel.name).groups())
    graph_def = {name.lower().removeprefix("tf_"): int(v) for name, v in _DEFINE.findall(header)}
    if graph_def.keys() != _GRAPH_DEF_KEYS:
        raise ValueError(f"{wheel.name}: {_VERSION_H} does not define the GraphDef versions")
    return ReleaseOps(version, wheel.name, modules, ops, graph_def)


def build_table(releases: list[ReleaseOps], registry: dict, not_fetched: dict[str, str]) -> dict:
    """The table: for each op of the pinned registry, the first release that defines it,
    and for each of its attrs defined first by a later release, that release.

    An attr no release's wrappers name (an inferred type attr of a ref-input op without
    outputs) is taken to be as old as its op; an op no wrapper names is ``undated``. An
    op that older releases' wrappers name and the pinned release neither registers nor
    wraps is ``removed``, with the first and last release naming it (one the pinned
    release still wraps, from a library it does not load by default, is left out).
    """
    ops: dict[str, str | list] = {}
    undated, unnamed_attrs = [], {}
    for op in sorted(registry):
        named = [r for r in releases if op in r.ops]
        if not named:
            undated.append(op)
            continue
        since = named[0].minor
        later = {}
        for attr in sorted(a.name for a in registry[op].attr):
            first = next((r.minor for r in named if attr in r.ops[op]), None)
            if first is None:
                unnamed_attrs.setdefault(op, []).append(attr)
            elif first != since:
                later[attr] = first
        ops[op] = [since, later] if later else since
    removed = {}
    for release in releases[:-1]:
        for op in release.ops.keys() - registry.keys() - releases[-1].ops.keys():
            removed.setdefault(op, [release.minor, release.minor])[1] = release.minor
    return {
        "format": FORMAT,
        "pinned": releases[-1].version if releases else PINNED,
        "releases": [
            {
                "version": r.version,
                "wheel": r.wheel,
                "wrapper_modules": r.modules,
                "ops": len(r.ops),
                "registry_asked": r.asked,
                "hidden_ops": r.hidden,
                **r.graph_def,
            }
            for r in releases
        ],
        "not_fetched": not_fetched,
        "sources": "wrappers and registries" if all(r.asked for r in releases) else "wrappers",
        "ops": ops,
        "undated": undated,
        "unnamed_attrs": unnamed_attrs,
        "removed": dict(sorted(removed.items())),
    }


def agreement(release: ReleaseOps, registry: dict) -> list[str]:
    """How the pinned release's wrappers agree with its registry (tf_ops.binpb)."""
    wrapped = release.ops.keys() & registry.keys()
    attrs = {(op, a.name) for op in wrapped for a in registry[op].attr}
    named = {(op, a) for op in wrapped for a in release.ops[op]}
    return [
        f"{release.version} wrappers name {len(wrapped)} of the registry's {len(registry)} ops "
        f"(and {len(release.ops.keys() - registry.keys())} it does not hold); "
        f"{len(attrs & named)} of those ops' {len(attrs)} attrs, "
        f"{len(named - attrs)} attrs the registry does not hold",
        "attrs the wrappers do not name: "
        + ", ".join(f"{op}.{a}" for op, a in sorted(attrs - named)),
    ]


def write_table(table: dict, path: Path = TABLE) -> None:
    data = json.dumps(table, separators=(",", ":"), sort_keys=False).encode()
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))


def _pinned_registry(registry: dict) -> dict[str, set[str]]:
    return {op: {a.name for a in op_def.attr} for op, op_def in registry.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smlens.core.analysis.releases.build")
    parser.add_argument("--wheels", required=True, type=Path, help="folder of release wheels")
    parser.add_argument("--fetch", action="store_true", help="pip download the missing ones")
    parser.add_argument("--registries", type=Path, help="folder of registry-X.Y.Z.json dumps")
    parser.add_argument(
        "--ask", type=Path, action="append", default=[], help="a release's python to dump"
    )
    parser.add_argument("--out", type=Path, default=TABLE, help=f"default: {TABLE.name}")
    args = parser.parse_args(argv)
    if args.ask and not args.registries:
        parser.error("--ask writes into --registries DIR")
    start = time.perf_counter()
    for python in args.ask:
        print(f"asked {python}: {ask_registry(python, args.registries).name}", flush=True)
    registry = proto.op_registry()
    minors = release_minors()
    wheels = find_wheels(args.wheels)
    not_fetched = {}
    for minor in minors:
        if minor not in wheels and args.fetch:
            print(f"fetching {minor_text(minor)}...", flush=True)
            complaint = fetch_wheel(args.wheels, minor)
            if complaint:
                not_fetched[minor_text(minor)] = complaint
            wheels = find_wheels(args.wheels)
        elif minor not in wheels:
            not_fetched[minor_text(minor)] = f"no wheel in {args.wheels}"
    if (pinned := tuple(map(int, PINNED.split(".")[:2]))) not in wheels:
        sys.exit(f"the pinned release {PINNED} has no wheel in {args.wheels}")
    releases = []
    for minor in minors:
        if minor in wheels:
            releases.append(read_release(wheels[minor], registry))
            r = releases[-1]
            print(f"{r.version}: {len(r.ops)} ops from {r.modules} modules", flush=True)
    if releases[-1].version != PINNED:
        sys.exit(f"the newest wheel is {releases[-1].version}, not the pinned {PINNED}")
    print("\n".join(agreement(releases[-1], registry)))
    dumps = read_registries(args.registries) if args.registries else {}
    dumps[PINNED] = _pinned_registry(registry)
    unasked = [r.version for r in releases if r.version not in dumps]
    if not unasked:
        for release in releases:
            release.add_registry(dumps[release.version])
            print(f"{release.version}: {release.hidden} ops only its registry holds")
    elif args.registries:
        print(f"no registry of {', '.join(unasked)}: dated from the wrappers alone")
    table = build_table(releases, registry, not_fetched)
    write_table(table, args.out)
    attrs = sum(len(v[1]) for v in table["ops"].values() if isinstance(v, list))
    print(
        f"wrote {args.out.name} ({args.out.stat().st_size} bytes) from {table['sources']}: "
        f"{len(table['ops'])} ops dated, {attrs} attrs later than their op, "
        f"{len(table['undated'])} undated, {len(table['removed'])} removed; "
        f"not fetched: {not_fetched or 'none'}; {time.perf_counter() - start:.1f} s "
        f"(pinned {minor_text(pinned)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
