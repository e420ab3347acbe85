"""Gradient clipping, in place on each parameter's ``.grad``, and parameters as one vector.

``clip_grad_norm_`` treats all gradients as one long vector g: when its norm ||g|| exceeds
``max_norm``, every gradient is scaled by ``max_norm / (||g|| + 1e-6)``, which keeps the
direction of the step and bounds its length (the remedy for exploding gradients). The norm is
computed per parameter, on its own backend, and combined on the host.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from minicnn import backend
from minicnn.autograd import no_grad
from minicnn.ops.shape import cat
from minicnn.tensor import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters: expected Tensors, got {type(p).__name__}")
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Any = None,
) -> Tensor:
    """Scale the gradients so their joint ``norm_type``-norm is at most ``max_norm``; returns
    the norm before clipping (a 0-d tensor)."""
    norm_type = float(norm_type)
    if norm_type <= 0:
        raise ValueError(
            f"clip_grad_norm_: norm_type: expected a positive number or inf, got {norm_type}"
        )
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0)
    per = []
    for g in grads:
        a = abs(g.array)
        per.append(float(a.max()) if norm_type == math.inf else float((a**norm_type).sum()))
    total = max(per) if norm_type == math.inf else sum(per) ** (1 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}; set error_if_nonfinite=False to clip anyway"
        )
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g.array *= g.dtype.type(coef)
    return Tensor(total, dtype=grads[0].dtype, backend=grads[0].backend)


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: Any = None
) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    c = float(clip_value)
    for g in _grads(parameters):
        backend.xp(g.backend).clip(g.array, -c, c, out=g.array)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (a copy)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: parameters: expected at least one tensor")
    with no_grad():
        return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if not isinstance(vec, Tensor) or vec.ndim != 1 or vec.numel() != total:
        got = vec.shape if isinstance(vec, Tensor) else type(vec).__name__
        raise ValueError(f"vector_to_parameters: vec: expected shape ({total},), got {got}")
    start = 0
    for p in params:
        n = p.numel()
        chunk = backend.move(vec.array[start : start + n], vec.backend, p.backend)
        p.array[...] = chunk.reshape(p.shape).astype(p.dtype, copy=False)
        start += n
