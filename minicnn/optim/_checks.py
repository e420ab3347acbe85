"""An optimizer step's boundary check, before any in-place kernel runs."""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.ops._args import check_array, contiguous
from minicnn.tensor import Tensor


def check_step_arrays(who: str, p: Tensor, grad: Any, state: dict[str, Any]) -> Any:
    """An optimizer step's boundary: ``grad`` (an array) and every array in ``state`` must
    match parameter ``p`` in shape, dtype and device; p and the state arrays are made C-ordered
    in place (the step updates them in place). Returns ``grad`` in C order."""
    for name, a in (("grad", grad), *((k, v) for k, v in state.items() if backend.is_array(v))):
        check_array(who, name, a, p.array, f"the parameter of shape {p.shape}", p.shape)
    p.array = contiguous(p.array)
    for name, a in state.items():
        if backend.is_array(a):
            state[name] = contiguous(a)
    return contiguous(grad)
