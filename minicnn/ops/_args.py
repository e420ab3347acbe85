"""Argument checks shared by the convolution and pooling ops.

Every check runs in the public function, before any kernel, and its message names the
argument, what was expected and what came.
"""

from __future__ import annotations

from typing import Any

from minicnn.tensor import Tensor


def pair(name: str, value: Any, minimum: int) -> tuple[int, int]:
    """``value`` (an int or a pair of ints) as a pair, each at least ``minimum``."""
    vals = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = (
        isinstance(vals, (tuple, list))
        and len(vals) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in vals)
    )
    if not ok:
        raise ValueError(f"{name}: expected an int >= {minimum} or a pair of them, got {value!r}")
    return int(vals[0]), int(vals[1])


def check_tensor(op: str, name: str, t: Any, ndims: tuple[int, ...], layout: str) -> None:
    """``t`` must be a floating-point Tensor with one of ``ndims`` dimensions."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t.ndim not in ndims:
        raise ValueError(
            f"{op}: {name}: expected a {' or '.join(f'{n}-D' for n in ndims)} tensor {layout}, "
            f"got shape {t.shape}"
        )
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {name}: expected a floating-point tensor, got {t.dtype.name}")


def out_size(
    op: str, axis: str, L: int, K: int, S: int, P: int, D: int, ceil_mode: bool = False
) -> int:
    """Output length along one axis: floor((L + 2P - D(K-1) - 1) / S) + 1 (or ceil).

    With ``ceil_mode`` the last window may hang over the padded edge, but (as PyTorch) it must
    start inside the input or its left padding.
    """
    span = D * (K - 1) + 1  # extent of the dilated kernel
    if span > L + 2 * P:
        raise ValueError(
            f"{op}: kernel larger than the padded input along {axis}: the (dilated) kernel "
            f"spans {span} but the input has {L} + 2*{P} (padding) = {L + 2 * P}"
        )
    num = L + 2 * P - span
    out = (num + (S - 1 if ceil_mode else 0)) // S + 1
    if ceil_mode and (out - 1) * S >= L + P:
        out -= 1
    return out
