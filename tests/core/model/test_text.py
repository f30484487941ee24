"""Counts read as English: the noun agrees with the number, and thousands are grouped."""

from __future__ import annotations

import pytest

from smlens.core.model.text import counted


@pytest.mark.parametrize(
    ("n", "noun", "plural", "text"),
    [
        (1, "problem", "", "1 problem"),
        (0, "problem", "", "0 problems"),
        (1510, "op", "", "1,510 ops"),
        (2, "child", "children", "2 children"),
    ],
)
def test_counted(n, noun, plural, text):
    assert counted(n, noun, plural) == text
