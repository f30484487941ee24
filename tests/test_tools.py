"""A missing tool skips a test on a developer's machine and fails it under CI=true."""

from __future__ import annotations

import pytest

from tests.tools import require_tool

ABSENT = "smlens-no-such-tool"


def test_a_missing_tool_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=ABSENT):
        require_tool(ABSENT, "this check")


def test_a_missing_tool_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must install it"):
        require_tool(ABSENT, "this check")


def test_a_present_tool_is_found(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require_tool("sh", "this check").endswith("/sh")
