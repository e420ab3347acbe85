"""A mutant: one realistic bug, written as exact text edits to one file, with the tests that
should catch it.

`edits` are (find, replace) pairs; each `find` must occur exactly once in the file, so a
mutant that no longer fits the code (the code moved on) is reported, never applied blindly.
`tests` are pytest arguments (files, node ids, ``-k`` expressions). `kind` names one of the
kinds of bug that once went unnoticed (see KINDS); `gpu` marks a CUDA mutant (listed, run only
where a GPU is present); `equivalent` says why no input can tell the mutant from the original,
for a survivor judged so.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {
    "resume-rng": "a resumed run that does not restore every random generator",
    "inf-loss": "an infinite loss not treated as divergence",
    "atomic-checkpoint": "a checkpoint written in place instead of atomically",
    "eval-mode": "evaluate() that does not score in eval mode or restore the mode",
    "gemm-tile": "the numba GEMM dropping the last column of a tile",
    "bn-float64": "the numba batch-norm backward accumulating in float32",
    "checksum-cache": "a dataset checksum cache keyed by path only",
}

AREAS = (
    "numpy_ref",
    "numba",
    "cuda",
    "autograd_ops",
    "optim",
    "data",
    "training",
    "cli",
)


@dataclass(frozen=True)
class Mutant:
    name: str
    area: str
    path: str
    edits: tuple[tuple[str, str], ...]
    tests: tuple[str, ...]
    kind: str | None = None
    gpu: bool = False
    equivalent: str | None = None

    def apply(self, source: str) -> str:
        """The mutated text; ValueError if some `find` does not occur exactly once."""
        for find, replace in self.edits:
            n = source.count(find)
            if n != 1:
                raise ValueError(f"{self.name}: {self.path}: expected 1 match of {find!r}, got {n}")
            source = source.replace(find, replace)
        return source


def mutant(
    name: str,
    area: str,
    path: str,
    find: str | tuple[tuple[str, str], ...],
    replace: str | None = None,
    *tests: str,
    kind: str | None = None,
    gpu: bool = False,
    equivalent: str | None = None,
) -> Mutant:
    """A Mutant with one edit (``find``, ``replace``), or several (``find`` a tuple of pairs,
    ``replace`` None)."""
    edits = find if replace is None else ((find, replace),)
    return Mutant(name, area, path, tuple(edits), tuple(tests), kind, gpu, equivalent)
