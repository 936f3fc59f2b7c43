"""Every Python block of README.md runs as written, from an empty folder, against the installed
package (the README is the first documentation users copy from)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every fenced ```python block."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        blocks.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8")) if README.exists() else []


def test_the_readme_has_python_blocks():
    if not README.exists():
        pytest.skip("README.md is not beside the tests (an installed-wheel run)")
    assert len(BLOCKS) >= 5
    assert python_blocks("x\n```python\na = 1\n```\n```text\nb\n```\n") == [(3, "a = 1\n")]


@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_block_runs(line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty folder: the block may rely on nothing but the package
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
