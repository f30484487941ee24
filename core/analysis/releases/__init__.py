"""The TensorFlow release an export needs: since which release each op and op attr exists
(a table built from the releases' own op wrappers, build.py), and from it the oldest
release that loads a meta graph and what an older one lacks.

``required_release(mg)`` gives a MinRelease (the release, the ops and attrs that set it,
the GraphDef versions); ``lacking(mg, parse_release("2.12"))`` what 2.12 lacks.
"""

from smlens.core.analysis.releases.needs import (
    Lacks,
    MinRelease,
    Need,
    lacking,
    required_release,
    required_releases,
)
from smlens.core.analysis.releases.table import (
    ReleaseInfo,
    ReleaseTable,
    Version,
    parse_release,
    release_table,
)

__all__ = [
    "Lacks",
    "MinRelease",
    "Need",
    "ReleaseInfo",
    "ReleaseTable",
    "Version",
    "lacking",
    "parse_release",
    "release_table",
    "required_release",
    "required_releases",
]
