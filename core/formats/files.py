"""Reading files a stranger made: regular files only, sizes checked, outside paths named.

A FIFO, device or socket is refused before it is opened (opening a FIFO for reading blocks
until a writer comes), and a path that resolves outside the model folder is reported, not
followed silently.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from smlens.core.errors import SmlensError

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO (named pipe)"), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def stat_regular(path: str | Path) -> os.stat_result:
    """The stat of a regular file (symlinks followed); anything else is an SmlensError."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise SmlensError(path, f"cannot read: {_reason(e)}") from None
    kind = special_kind(st.st_mode)
    if kind is not None:
        raise SmlensError(path, f"is {kind}, not a regular file: not opened")
    return st


def open_regular(path: str | Path) -> BinaryIO:
    """A regular file opened for binary reading; FIFOs and devices are refused unopened."""
    stat_regular(path)
    try:
        # O_NONBLOCK: if the path is swapped for a FIFO after the stat, open does not block.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise SmlensError(path, f"cannot read: {_reason(e)}") from None
    f = os.fdopen(fd, "rb")
    kind = special_kind(os.fstat(fd).st_mode)
    if kind is not None:
        f.close()
        raise SmlensError(path, f"is {kind}, not a regular file: not opened")
    return f


def read_regular(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file, refusing FIFOs and devices without blocking on them.

    ``limit``, if given, is the most bytes the file may hold.
    """
    with open_regular(path) as f:
        st = os.fstat(f.fileno())
        if limit is not None and st.st_size > limit:
            raise SmlensError(path, f"is {st.st_size} bytes, more than the {limit} allowed")
        try:
            return f.read()
        except OSError as e:
            raise SmlensError(path, f"cannot read: {_reason(e)}") from None


def is_regular(path: str | Path) -> bool:
    """Whether ``path`` is a regular file; never raises (a too-long name is simply not one)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def exists(path: str | Path) -> bool:
    """Whether anything (even a broken symlink or a FIFO) is at ``path``; never raises."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def outside(path: str | Path, root: str | Path) -> Path | None:
    """Where ``path`` really leads if that is outside ``root`` (after symlinks), else None."""
    try:
        real = Path(os.path.realpath(path))
        base = Path(os.path.realpath(root))
    except (OSError, ValueError):
        return None
    return None if real == base or real.is_relative_to(base) else real


def outside_message(path: str | Path, real: Path) -> str:
    if Path(path).is_symlink():
        return f"is a symlink to {real}, outside the model folder"
    return f"resolves to {real}, outside the model folder"


def _reason(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return e.strerror or str(e)
