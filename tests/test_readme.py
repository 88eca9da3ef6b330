"""The README's scripting example runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(tmp_path, capsys) -> None:
    code = re.search(r"## Scripting\s+A network on two backends, its spikes, and an HDF5 file:\s+```python\n(.*?)```",
                     README.read_text(), re.S).group(1)
    assert 10 <= len(code.strip().splitlines()) <= 22
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "numba (array([ 4.,  7., 11.])" in out and "reference (array([ 4.,  7., 11.])" in out
    assert (tmp_path / "results" / "example.h5").exists()


def test_readme_memories_example_runs(capsys) -> None:
    """Every memory through the contract on numba and torch: the half cue completes item 0, which is familiar
    (Hopfield's normalised energy: 1 plus the other 4 items' crosstalk, here 0.99)."""
    code = re.search(r"Every memory through one contract, on the engine of your choice:\s+```python\n(.*?)```",
                     README.read_text(), re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "('numba', 'torch')"
    assert lines[1:] == [f"{name} {backend} True {0.99 if name == 'hopfield' else 1.0}"
                         for name in ("hopfield", "dam-exp", "sparsey", "dendrites", "ca3-auto")
                         for backend in ("numba", "torch")]


def test_readme_ca3_example_runs(capsys) -> None:
    code = re.search(r"The CA3 memory:\s+```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "[0, 1, 8, 9] [0, 4]"


def test_docs_python_examples_run(tmp_path, capsys) -> None:
    """Every ```python block of docs/ runs as written (in a scratch directory)."""
    docs = README.parent / "docs"
    blocks = [(p, code) for p in sorted(docs.rglob("*.md"))
              for code in re.findall(r"```python\n(.*?)```", p.read_text(), re.S)]
    assert {p.name for p, _ in blocks} >= {"ca3.md", "sparsey.md"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for path, code in blocks:
            exec(compile(code, str(path), "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "1.0\nTrue\n" in out  # the Sparsey example: G of a stored item, exact recall


def test_readme_pynn_example_runs(capsys) -> None:
    """The authors' CA3 memory, unmodified, through neurosim.pynn: learned, then recalled by its cue."""
    code = re.search(r"A PyNN script, here the authors' own CA3 memory \(sPyMem\), unmodified on neurosim:\s+"
                     r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "[0, 8, 9]"
