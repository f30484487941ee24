"""The table of the TensorFlow release that first defines each op and op attr
(tf_releases.json.gz, written by build.py), read the first time it is asked for."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import NamedTuple

from smlens.core.errors import SmlensError

TABLE_PATH = Path(__file__).with_name("tf_releases.json.gz")
_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+\S*)?$")


class Version(NamedTuple):
    """A TensorFlow minor release, 2.12: the table dates ops to minors (patch releases
    add none)."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_release(text: str) -> Version:
    """ "2.12", "2.12.1" or "v2.12.0" as the minor 2.12; ValueError for anything else."""
    match = _RELEASE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a TensorFlow release like 2.12")
    return Version(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class ReleaseInfo:
    """One release the table was built from, with the GraphDef versions it reads and writes
    (core/public/version.h)."""

    version: str  # "2.12.1", the wheel read
    graph_def_version: int  # what it writes as producer; reads min_consumer up to it
    min_consumer: int
    min_producer: int

    @property
    def minor(self) -> Version:
        return parse_release(self.version)


@dataclass(frozen=True)
class ReleaseTable:
    """Since which release each op and attr of the pinned registry exists.

    ``since`` of an op is the first release checked that defines it (its wrappers name it,
    or its own registry holds it when ``sources`` says the registries were asked), so an
    op of the oldest release checked may be older still; an attr defined first by a later
    release than its op carries its own. ``undated`` ops are in the pinned registry but
    no release's wrappers name them (hidden C++ ops, in a table built from wrappers
    alone); ``removed`` ops are defined by older releases only, with the first and last.
    """

    pinned: str
    releases: tuple[ReleaseInfo, ...]
    not_fetched: dict[str, str]  # minor -> why pip could not fetch it
    sources: str  # "wrappers and registries" | "wrappers"
    ops: dict[str, tuple[Version, dict[str, Version]]]
    undated: frozenset[str]
    removed: dict[str, tuple[Version, Version]]

    @property
    def oldest(self) -> Version:
        return self.releases[0].minor

    @property
    def newest(self) -> Version:
        return self.releases[-1].minor

    def holds(self, release: Version) -> bool:
        return self.oldest <= release <= self.newest

    def release(self, minor: Version) -> ReleaseInfo | None:
        return next((r for r in self.releases if r.minor == minor), None)

    def op_since(self, op: str) -> Version | None:
        entry = self.ops.get(op)
        return entry[0] if entry else None

    def attr_since(self, op: str, attr: str) -> Version | None:
        entry = self.ops.get(op)
        return entry[1].get(attr, entry[0]) if entry else None

    @cached_property
    def late_attrs(self) -> dict[str, dict[str, Version]]:
        """Op -> its attrs defined first by a release later than the op's own."""
        return {op: attrs for op, (_, attrs) in self.ops.items() if attrs}

    def reads_since(self, min_consumer: int) -> Version | None:
        """The first release that reads a GraphDef of this min_consumer (None: none does)."""
        return next((r.minor for r in self.releases if r.graph_def_version >= min_consumer), None)

    def writer_of(self, producer: int) -> Version | None:
        """The release whose GraphDef version is ``producer`` (None for development builds
        and for releases the table does not hold)."""
        return next((r.minor for r in self.releases if r.graph_def_version == producer), None)

    def written_after(self, producer: int) -> Version | None:
        """The newest release that writes an older GraphDef version than ``producer``: a
        development build after it wrote it (None: older than the oldest release)."""
        older = [r.minor for r in self.releases if r.graph_def_version < producer]
        return older[-1] if older else None


def _op_entry(value) -> tuple[Version, dict[str, Version]]:
    if isinstance(value, str):
        return parse_release(value), {}
    since, attrs = value
    return parse_release(since), {attr: parse_release(v) for attr, v in attrs.items()}


def read_table(path: Path) -> ReleaseTable:
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
        return ReleaseTable(
            pinned=data["pinned"],
            releases=tuple(
                ReleaseInfo(
                    r["version"],
                    r["graph_def_version"],
                    r["graph_def_version_min_consumer"],
                    r["graph_def_version_min_producer"],
                )
                for r in data["releases"]
            ),
            not_fetched=dict(data["not_fetched"]),
            sources=data["sources"],
            ops={op: _op_entry(value) for op, value in data["ops"].items()},
            undated=frozenset(data["undated"]),
            removed={
                op: (parse_release(first), parse_release(last))
                for op, (first, last) in data["removed"].items()
            },
        )
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
        raise SmlensError(path, f"the TensorFlow release table is unreadable: {e}") from None


@cache
def release_table() -> ReleaseTable:
    """The shipped table, read once (12 KB: some 20 ms)."""
    return read_table(TABLE_PATH)
