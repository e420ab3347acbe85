"""Run the course notebooks top to bottom in fresh kernels and save their outputs.

    python -m notebooks.run              # every notebook, outputs written in place
    python -m notebooks.run 03 06        # only the notebooks whose names start with 03 or 06
    python -m notebooks.run --check      # run without writing anything

The backend is MINICNN_BACKEND (default numba), read by each notebook's first cell; full
datasets come from MINICNN_DATA when it holds them. The tests use :func:`execute` and
:func:`count_asserts` from here.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent


def notebooks(prefixes: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """The course notebooks in reading order, or those whose names start with a prefix."""
    found = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not prefixes or p.name.startswith(tuple(prefixes))]


def count_asserts(nb: nbformat.NotebookNode) -> int:
    """How many ``assert`` statements the notebook's code cells hold."""
    return sum(
        isinstance(node, ast.Assert)
        for cell in nb.cells
        if cell.cell_type == "code"
        for node in ast.walk(ast.parse(cell.source))
    )


_CPU_PROBE = (
    "import resource as _r\n_u = _r.getrusage(_r.RUSAGE_SELF)\nprint(_u.ru_utime + _u.ru_stime)"
)


def execute(
    path: Path, backend: str | None = None, timeout: int = 600
) -> tuple[nbformat.NotebookNode, float, float]:
    """Run notebook ``path`` in a fresh kernel (cwd: the notebooks folder). Returns the executed
    notebook, its wall time and the CPU time of its kernel process, in seconds (the CPU time
    counts every thread, and stays meaningful on a machine shared with other work). Raises
    ``CellExecutionError`` on any error."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_CPU_PROBE))  # removed again below
    env = dict(os.environ)
    # Idle OpenBLAS threads then sleep at once instead of spinning beside Numba's (minicnn sets
    # this too, but only when it is imported before NumPy).
    env.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    if backend is not None:
        env["MINICNN_BACKEND"] = backend
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    saved = dict(os.environ)
    os.environ.update(env)  # the kernel process inherits this environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    wall = time.perf_counter() - start
    probe = nb.cells.pop()
    cpu = float(probe.outputs[0]["text"]) if probe.outputs else float("nan")
    return nb, wall, cpu


def cell_seconds(nb: nbformat.NotebookNode) -> list[tuple[int, float]]:
    """(cell index, seconds) of each executed code cell, from the timing nbclient records;
    the timing is removed from the notebook, so saved notebooks do not change with it."""
    out = []
    for k, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code" and timing:
            start = datetime.datetime.fromisoformat(timing["iopub.execute_input"].rstrip("Z"))
            end = datetime.datetime.fromisoformat(timing["shell.execute_reply"].rstrip("Z"))
            out.append((k, (end - start).total_seconds()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks starting with these")
    parser.add_argument("--backend", help="overrides MINICNN_BACKEND for the notebooks")
    parser.add_argument("--check", action="store_true", help="run, but write nothing")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--slowest", type=int, default=0, help="also list the N slowest cells")
    args = parser.parse_args(argv)
    total = 0.0
    for path in notebooks(args.prefixes):
        nb, seconds, cpu = execute(path, args.backend, args.timeout)
        cells = sorted(cell_seconds(nb), key=lambda c: -c[1])[: args.slowest]
        total += seconds
        print(
            f"{path.name:44s} {seconds:7.1f} s wall {cpu:7.1f} s CPU {count_asserts(nb):3d} asserts",
            flush=True,
        )
        for k, t in cells:
            first = nb.cells[k].source.strip().splitlines()[0][:60]
            print(f"    cell {k:3d}: {t:6.1f} s  {first}")
        if not args.check:
            nbformat.write(nb, path)
    print(f"{'total':44s} {total:7.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
