"""The kernel viewer: which hand-written kernels a cell ran, and their source in every backend.

``kernels_run()`` records each kernel an op fetches through ``minicnn.backend.kernel`` (the only
way ops reach kernels) and then calls; ``show_kernel`` prints a kernel's source in each backend,
its direct-loop twin where one exists.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from minicnn import backend

KERNEL_PACKAGES = {
    "numpy": "minicnn.kernels.numpy_ref",
    "numba": "minicnn.kernels.numba_cpu",
    "cupy": "minicnn.kernels.cuda",
}


@dataclass
class KernelCall:
    name: str  # the contract name, e.g. "conv2d_forward"
    backend: str  # "numpy", "numba" or "cupy"
    function: Callable[..., Any]  # the function that ran


@dataclass
class KernelsRun:
    """The kernels called inside a ``with kernels_run() as ran:`` block, in call order."""

    calls: list[KernelCall] = field(default_factory=list)

    @property
    def functions(self) -> list[Callable[..., Any]]:
        """Each distinct function that ran, in order of its first call."""
        return list({id(c.function): c.function for c in self.calls}.values())

    def sources(self) -> list[tuple[str, str]]:
        """(title, source) of each function that ran."""
        names = {id(c.function): (c.name, c.backend) for c in self.calls}
        out = []
        for fn in self.functions:
            name, where = names[id(fn)]
            out.append((f"{name} on {where}: {_where(fn)}", source(fn)))
        return out

    def show(self) -> None:
        for title, text in self.sources():
            _print_source(title, text)


@contextlib.contextmanager
def kernels_run() -> Iterator[KernelsRun]:
    """Record every kernel an op fetches through ``minicnn.backend.kernel`` and then calls."""
    record = KernelsRun()
    fetch = backend.kernel

    def recording_fetch(kernel_name: str, name: str | None = None) -> Callable[..., Any]:
        fn = fetch(kernel_name, name)
        where = name or backend.current()

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            record.calls.append(KernelCall(kernel_name, where, fn))
            return fn(*args, **kwargs)

        return call

    backend.kernel = recording_fetch
    try:
        yield record
    finally:
        backend.kernel = fetch


def show_source(fn: Callable[..., Any]) -> None:
    """Print the source of ``fn``, headed by the file and line it comes from."""
    _print_source(_where(fn), source(fn))


def _python(fn: Any) -> Callable[..., Any]:
    """The Python function behind ``fn``: itself, or a numba dispatcher's ``py_func``; through
    any wrapper (the numba backend's thread chooser wraps each kernel with functools.wraps)."""
    fn = inspect.unwrap(fn)
    return getattr(fn, "py_func", fn)


def source(fn: Any) -> str:
    """The source text of ``fn`` (a numba kernel's with its ``@njit`` line)."""
    return inspect.getsource(_python(fn))


def _where(fn: Any) -> str:
    fn = _python(fn)
    path = inspect.getsourcefile(fn) or "?"
    short = path[path.rfind("kernels") :] if "kernels" in path else os.path.basename(path)
    return f"{short}:{fn.__code__.co_firstlineno} {fn.__qualname__}"


def _print_source(title: str, text: str) -> None:
    print(f"---- {title}\n{text.rstrip()}\n")


def kernel_function(kernel_name: str, name: str, variant: str = "contract") -> Callable[..., Any]:
    """Backend ``name``'s function for ``kernel_name``: the contract kernel, or with
    ``variant="direct"`` its direct-loop twin ``<kernel_name>_direct`` where one exists (the
    heavy kernels); the backend need not be usable here, only importable, to read its source."""
    if variant not in ("contract", "direct"):
        raise ValueError(f"variant: expected 'contract' or 'direct', got {variant!r}")
    module = importlib.import_module(KERNEL_PACKAGES[name])
    if variant == "direct" and f"{kernel_name}_direct" in module.DIRECT:
        return module.DIRECT[f"{kernel_name}_direct"]
    return module.KERNELS[kernel_name]


def kernel_sources(kernel_name: str, name: str, variant: str = "contract") -> list[tuple[str, str]]:
    """(title, text) of a backend's kernel: the Python function, then for numba the compiled
    loops it calls, for cupy the ``__global__`` CUDA kernels it launches."""
    fn = kernel_function(kernel_name, name, variant)
    out = [(f"{kernel_name} on {name}: {_where(fn)}", source(fn))]
    if name == "numba" and not hasattr(fn, "py_func"):  # a Python launcher of compiled loops
        for jit in _numba_loops(fn):
            out.append((f"  compiled loop: {_where(jit)}", source(jit)))
    if name == "cupy":
        module = inspect.getmodule(fn)
        for kernel in _launched(fn):
            out.append(
                (f"  CUDA kernel {kernel} in cuda/{module.FILE}", cuda_kernel(module.FILE, kernel))
            )
    return out


def show_kernel(
    kernel_name: str, backends: Sequence[str] = ("numpy", "numba", "cupy"), variant: str = "direct"
) -> None:
    """Print the source of ``kernel_name`` in each of ``backends``."""
    for name in backends:
        for title, text in kernel_sources(kernel_name, name, variant):
            _print_source(title, text)


def _reached(fn: Callable[..., Any], depth: int = 2) -> list[Any]:
    """``fn``, then the functions and numba dispatchers it calls by name, directly or through
    plain functions of its own module, ``depth`` calls deep."""
    found: dict[int, Any] = {id(fn): fn}

    def visit(f: Callable[..., Any], level: int) -> None:
        for ref in f.__code__.co_names:
            obj = f.__globals__.get(ref)
            if hasattr(obj, "py_func"):  # a numba dispatcher: compiled, not followed
                found.setdefault(id(obj), obj)
            elif inspect.isfunction(obj) and obj.__module__ == f.__module__ and level < depth:
                if id(obj) not in found:
                    found[id(obj)] = obj
                    visit(obj, level + 1)

    visit(fn, 1)
    return list(found.values())


def _numba_loops(fn: Callable[..., Any]) -> list[Callable[..., Any]]:
    """The Python source functions of the ``@njit`` loops ``fn`` reaches."""
    return [f.py_func for f in _reached(fn) if hasattr(f, "py_func")]


def _launched(fn: Callable[..., Any]) -> list[str]:
    """Names of the CUDA kernels ``fn`` (or a launcher it calls) names, in order."""
    names: list[str] = []
    for f in _reached(fn):
        if inspect.isfunction(f):
            names += re.findall(r"[\"'](\w+_kernel)\b", inspect.getsource(f))
    return list(dict.fromkeys(names))


def cuda_kernel(file_name: str, kernel: str) -> str:
    """The text of ``__global__ void <kernel>`` in ``cuda/<file_name>``: the comment and template
    lines above it, and the body up to its matching closing brace."""
    text = (files("minicnn.kernels") / "cuda" / file_name).read_text(encoding="utf-8")
    lines = text.splitlines()
    found = re.search(rf"__global__ void\s+(__launch_bounds__\([^)]*\)\s+)?{kernel}\(", text)
    if found is None:
        raise ValueError(f"kernel: no __global__ function {kernel!r} in cuda/{file_name}")
    head = text.count("\n", 0, found.start())
    start = head
    while start > 0 and lines[start - 1].startswith(("//", "template", "__launch_bounds__")):
        start -= 1
    depth, seen, end = 0, False, head
    for end in range(head, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")
        seen = seen or "{" in lines[end]
        if seen and depth == 0:
            break
    return "\n".join(lines[start : end + 1]) + "\n"
