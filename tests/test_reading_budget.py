"""The afternoon read, held to its budget, and every source file to a size one can hold in mind.

AFTERNOON lists, in reading order, what the README's "Layout and reading order" calls the
afternoon: the engine (backend, tensor, autograd, gradcheck), the ops, the kernel contract, the
NumPy oracle and the direct twins. Its code lines (docstrings, comments and blank lines left
out) must stay within AFTERNOON_BUDGET. Separately, no source file in minicnn/ or kernels/ may
run past MAX_FILE_LINES physical lines; OVER_LIMIT names the ones that still do, each to be
split, and the test fails once one of them fits, so that the list only shrinks. No file carries
banner comments (``# -----``): a banner means the code wants its own file.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Files, or folders meaning every .py file in them, in the order the README reads them.
AFTERNOON = (
    "minicnn/backend.py",
    "minicnn/tensor.py",
    "minicnn/autograd.py",
    "minicnn/gradcheck.py",
    "minicnn/ops/",
    "kernels/__init__.py",
    "kernels/geometry.py",
    "kernels/numpy_ref/",
    "kernels/numba_cpu/direct.py",
    "kernels/cuda/direct.cu",
)
AFTERNOON_BUDGET = 3500
MAX_FILE_LINES = 400

# Files past MAX_FILE_LINES, with their physical line counts when listed, and the split each wants.
OVER_LIMIT = {
    "kernels/numba_cpu/conv.py": 405,  # the windows and the planes kernels in a file each
    "kernels/cuda/conv.cu": 589,  # one file per pass: forward, backward-input, backward-weight
}


NOT_CODE = (
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
)


def python_code_lines(source: str) -> int:
    """Lines holding Python code: not blank, not only a comment, not part of a docstring."""
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in NOT_CODE:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            lines.difference_update(range(body[0].lineno, body[0].end_lineno + 1))
    return len(lines)


def cuda_code_lines(source: str) -> int:
    """Lines holding CUDA C++ code: not blank and not only a // or /* */ comment."""
    source = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), source, flags=re.S)
    return sum(1 for line in source.splitlines() if line.split("//")[0].strip())


def code_lines(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    return python_code_lines(text) if path.suffix == ".py" else cuda_code_lines(text)


def afternoon_files() -> list[Path]:
    files: list[Path] = []
    for entry in AFTERNOON:
        path = ROOT / entry
        files += sorted(path.glob("*.py")) if entry.endswith("/") else [path]
    return files


def source_files() -> list[Path]:
    return sorted(
        p
        for folder in ("minicnn", "kernels")
        for pattern in ("*.py", "*.cu", "*.cuh")
        for p in (ROOT / folder).rglob(pattern)
    )


def test_code_lines_leave_out_docstrings_comments_and_blank_lines():
    source = '''"""Module docstring,
on two lines."""

import math  # a comment


def f(x):
    """What f does."""
    # why it does it
    text = """a string that is
    not a docstring"""
    return math.sqrt(x), text
'''
    assert python_code_lines(source) == 5  # import, def, text (2 lines), return
    cuda = "// a comment\n#include <x>\n\n/* a\n block */ int a;\nint b;  // trailing\n"
    assert cuda_code_lines(cuda) == 3


def test_the_afternoon_fits_its_budget():
    counts = {str(p.relative_to(ROOT)): code_lines(p) for p in afternoon_files()}
    assert all((ROOT / entry).exists() for entry in AFTERNOON), "an AFTERNOON entry is missing"
    total = sum(counts.values())
    listing = "\n".join(f"{n:6d}  {name}" for name, n in counts.items())
    assert total <= AFTERNOON_BUDGET, (
        f"the afternoon read has {total} code lines, over its budget of {AFTERNOON_BUDGET}:\n"
        f"{listing}"
    )


def test_no_source_file_is_past_the_line_limit():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in source_files()}
    over = {name: n for name, n in sizes.items() if n > MAX_FILE_LINES}
    new = {name: n for name, n in over.items() if name not in OVER_LIMIT}
    assert not new, f"files past {MAX_FILE_LINES} lines (split them): {new}"
    fixed = sorted(name for name in OVER_LIMIT if sizes.get(name, 0) <= MAX_FILE_LINES)
    assert not fixed, f"now within {MAX_FILE_LINES} lines, remove from OVER_LIMIT: {fixed}"


def test_the_readme_lists_the_afternoon_and_its_budget():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout and reading order", 1)[1].split("\n## ", 1)[0]
    afternoon = section.split("**The rest**", 1)[0]
    missing = [e for e in AFTERNOON if Path(e).name + "/" * e.endswith("/") not in afternoon]
    assert not missing, f"the README's afternoon does not name {missing}"
    assert f"{AFTERNOON_BUDGET:,}" in afternoon


BANNER = re.compile(r"^\s*(#|//)\s*(-{3,}|={3,})")


def test_no_file_has_banner_comments():
    folders = ("minicnn", "kernels", "tests", "benchmarks", "experiments", "scripts")
    found = [
        f"{p.relative_to(ROOT)}:{i}"
        for folder in folders
        for pattern in ("*.py", "*.cu", "*.cuh")
        for p in sorted((ROOT / folder).rglob(pattern))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if BANNER.match(line)
    ]
    assert not found, f"banner comments (split the file instead): {found}"
