"""Parameter: a Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minicnn.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default; assigning one to a Module registers it.

    ``Parameter(t)`` shares ``t``'s array and backend (no copy), as in PyTorch; Python data
    and NumPy arrays are converted as ``minicnn.tensor`` does, on the current backend.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            # Share the array: a Parameter is a view of the tensor it wraps, never a graph node.
            self.array = data.array
            self.backend = data.backend
            self.grad = None
            self.grad_fn = None
            self._requires_grad = False
            self._retains_grad = False
            self.requires_grad = requires_grad
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Clear the ``.grad`` of each tensor of ``params``: to None, or to zeros in place (the
    ``zero_grad`` of both Module and Optimizer)."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.zero_()
