"""Local response normalisation (AlexNet, 2012): each activation divided by the energy of its
neighbours across channels,

    y[n, c] = x[n, c] / (k + alpha / size * sum_{c' = c - size//2}^{c + (size-1)//2} x[n, c']^2) ** beta

with channels outside 0 .. C-1 counting as zeros (as PyTorch). It is a composition of
differentiable ops (square, pad, slices, sum, pow, divide), so autograd derives its gradient.
"""

from __future__ import annotations

from minicnn.ops.shape import pad
from minicnn.tensor import Tensor


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Normalise ``input`` (N, C, ...) across ``size`` neighbouring channels."""
    if not isinstance(input, Tensor) or input.ndim < 3 or input.dtype.kind != "f":
        got = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(
            f"local_response_norm: input: expected a floating-point tensor (N, C, ...) with at "
            f"least 3 dimensions, got {got}"
        )
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"local_response_norm: size: expected a positive int, got {size!r}")
    C = input.shape[1]
    sq = input * input  # (N, C, ...)
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]  # channel axis only
    padded = pad(sq, tuple(widths))  # (N, C + size - 1, ...)
    total = padded[:, 0:C]
    for i in range(1, size):
        total = total + padded[:, i : i + C]  # the window of channels c - size//2 ...
    return input / (total * (alpha / size) + k) ** beta
