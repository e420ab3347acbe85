"""Matrix products: ``matmul`` with NumPy's batching rules, and ``linear``.

For y = a @ b with a (..., n, k) and b (..., k, m): ga = gy @ b^T and gb = a^T @ gy, each summed
over the batch axes it was broadcast along. A 1-D operand is a row (a) or a column (b) vector
whose added axis is removed from the result, as in NumPy.
"""

from __future__ import annotations

from typing import Any

from minicnn.autograd import Function
from minicnn.ops.elementwise import broadcast_shape, unbroadcast
from minicnn.tensor import Tensor


class MatMul(Function):
    """y = a @ b (batched). ga = gy @ b^T, gb = a^T @ gy, reduced to each operand's shape."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.a, self.b
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # (..., n, k)
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # (..., k, m)
        g2 = gy
        if a.ndim == 1:
            g2 = (
                g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:]) if b.ndim > 1 else g2.reshape(1, 1)
            )
        if b.ndim == 1 and a.ndim > 1:
            g2 = g2.reshape(g2.shape + (1,))  # (..., n, m)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with broadcasting over batch axes (NumPy's ``matmul`` rules)."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"matmul: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim == 0:
            raise ValueError(f"matmul: {name} must have at least 1 dimension, got a 0-d tensor")
    k_a = input.shape[-1]
    k_b = other.shape[0] if other.ndim == 1 else other.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: inner sizes differ: input has shape {input.shape} (k={k_a}) and other "
            f"has shape {other.shape} (k={k_b})"
        )
    if input.ndim > 2 and other.ndim > 2:
        broadcast_shape("matmul (batch axes)", input.shape[:-2], other.shape[:-2])
    return MatMul.apply(input, other)


class Linear(Function):
    """x (..., in), w (out, in), b (out,) or None -> y = x @ w^T + b (..., out).
    gx = gy @ w; gw = gy^T @ x over all leading axes; gb = sum of gy over them."""

    def forward(self, x: Any, w: Any, b: Any) -> Any:
        self.x, self.w, self.has_bias = x, w, b is not None
        y = x @ w.T
        return y + b if b is not None else y

    def backward(self, gy: Any) -> tuple[Any, Any, Any]:
        gy2 = gy.reshape(-1, gy.shape[-1])  # (M, out)
        gx = gy @ self.w if self.needs_input_grad[0] else None
        gw = gy2.T @ self.x.reshape(-1, self.x.shape[-1]) if self.needs_input_grad[1] else None
        gb = gy2.sum(axis=0) if self.has_bias and self.needs_input_grad[2] else None
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Affine map ``input @ weight.T + bias``: input (..., in), weight (out, in), bias (out,)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("linear: input and weight must be Tensors")
    if weight.ndim != 2:
        raise ValueError(
            f"linear: weight: expected a 2-D tensor (out, in), got shape {weight.shape}"
        )
    if input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input: expected last dimension {weight.shape[1]} (weight.shape[1]), "
            f"got input of shape {input.shape}"
        )
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (weight.shape[0],)):
        got = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
        raise ValueError(f"linear: bias: expected shape ({weight.shape[0]},), got {got}")
    return Linear.apply(input, weight, bias)
