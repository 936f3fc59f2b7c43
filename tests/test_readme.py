"""Every Python block of README.md and every Python example of the documentation (docs/*.rst and the
manual's docs/guide/*.md) runs as written, from an empty folder, against the installed package (they
are what users copy from)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every fenced ```python block."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        blocks.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


def rst_python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, dedented code) of every ``.. code-block:: python`` directive."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        indent = len(line) - len(line.lstrip()) + 3
        body = []
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith(" " * indent)):
            body.append(lines[j][indent:])
            j += 1
        code = "\n".join(body).strip("\n") + "\n"
        blocks.append((i + 3, code))
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8")) if README.exists() else []
#: A block whose first line is this comment is shown, not run (say why after it: a GPU, hours of work).
SKIP_MARK = "# not run by tests/test_readme.py:"
DOC_BLOCKS = [
    (f"docs/{path.name}:{line}", code)
    for path in sorted((ROOT / "docs").glob("*.rst"))
    for line, code in rst_python_blocks(path.read_text(encoding="utf-8"))
] + [  # the manual pages in Markdown (docs/guide/*.md, moved out of the README)
    (f"docs/guide/{path.name}:{line}", code)
    for path in sorted((ROOT / "docs" / "guide").glob("*.md"))
    for line, code in python_blocks(path.read_text(encoding="utf-8"))
]


def test_the_readme_has_python_blocks():
    if not README.exists():
        pytest.skip("README.md is not beside the tests (an installed-wheel run)")
    assert len(BLOCKS) >= 1 and len(DOC_BLOCKS) >= 20
    # The README is the front page (at most 300 lines); the manual is docs/ (issue 24 §4).
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 300
    assert python_blocks("x\n```python\na = 1\n```\n```text\nb\n```\n") == [(3, "a = 1\n")]


@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_block_runs(line, code, tmp_path, monkeypatch):
    import deepcheap_native as dc

    if code.startswith(SKIP_MARK):
        pytest.skip(code.splitlines()[0][len(SKIP_MARK):].strip())
    monkeypatch.chdir(tmp_path)  # an empty folder: the block may rely on nothing but the package
    threads, target = dc.get_num_threads(), dc.simd_target()
    try:
        exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__main__"})  # as a script runs it
    finally:  # a block may change the process-wide settings
        dc.set_num_threads(threads)
        dc.set_simd_target(target)


def test_rst_extraction():
    text = "a\n\n.. code-block:: python\n\n   x = 1\n\n   y = 2\nafter\n"
    assert rst_python_blocks(text) == [(5, "x = 1\n\ny = 2\n")]


@pytest.mark.parametrize("where, code", DOC_BLOCKS, ids=[where for where, _ in DOC_BLOCKS])
def test_docs_example_runs(where, code, tmp_path, monkeypatch):
    import deepcheap_native as dc

    monkeypatch.chdir(tmp_path)
    threads, target = dc.get_num_threads(), dc.simd_target()
    try:
        exec(compile(code, where, "exec"), {"__name__": "__docs__"})
    finally:  # an example may change the process-wide settings
        dc.set_num_threads(threads)
        dc.set_simd_target(target)
