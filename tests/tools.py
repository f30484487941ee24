"""Tools outside Python that some tests need (a C++ compiler for the custom-op library).

Where a tool is missing a test is skipped on a developer's machine, but fails under
``CI=true``: CI installs every tool (.ci/run), so a skip there would hide a test that never ran.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, why: str) -> str:
    """The path of the command ``name``; skip (fail under CI=true) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        message = f"{why} needs {name}, which is not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must install it (.ci/run)")
        pytest.skip(message)
    return path
