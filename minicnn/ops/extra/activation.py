"""More activations: ``gelu`` (exact and tanh form), ``elu``, ``silu``, ``prelu``.

GELU is x * Phi(x), Phi the standard normal CDF, 0.5 * (1 + erf(x / sqrt(2))). NumPy has no
``erf``, so :func:`erf` evaluates a Chebyshev interpolant of degree 40 on [0, 6], fitted once,
at import, to Python's ``math.erf`` at the Chebyshev points (beyond 6, erf is 1 in float64).
Its error is below 2e-14, so the gradient check, which compares against the exact derivative
Phi(x) + x * phi(x), still holds to finite-difference precision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.polynomial import chebyshev

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops.elementwise import unbroadcast
from minicnn.ops.extra.inplace import inplace_result
from minicnn.tensor import Tensor

_ERF_END = 6.0  # erf(6) = 1 - 2e-17: 1 in float64
_ERF_COEFFS = chebyshev.chebinterpolate(
    lambda t: np.vectorize(math.erf)(_ERF_END / 2 * (t + 1)), 40
)
_SQRT_2PI = math.sqrt(2 * math.pi)
_TANH_K = math.sqrt(2 / math.pi)  # the tanh form: tanh(k * (x + 0.044715 x^3))


def erf(x: Any) -> Any:
    """erf of an array, in float64: the Chebyshev series on |x| (Clenshaw's recurrence), odd."""
    xp = backend.xp()
    a = xp.minimum(xp.abs(x.astype("float64")), _ERF_END)
    t = a * (2 / _ERF_END) - 1  # [0, 6] -> [-1, 1]
    b1 = b2 = 0.0
    for c in _ERF_COEFFS[:0:-1]:
        b1, b2 = 2 * t * b1 - b2 + c, b1
    return xp.sign(x) * (t * b1 - b2 + _ERF_COEFFS[0])


class GELU(Function):
    """y = x * Phi(x). gx = gy * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2/2) / sqrt(2 pi).
    With ``approximate="tanh"``: y = x/2 * (1 + tanh(u)), u = k (x + 0.044715 x^3), and
    gx = gy * (1/2 (1 + tanh u) + x/2 (1 - tanh^2 u) k (1 + 3 * 0.044715 x^2))."""

    def forward(self, x: Any, approximate: str) -> Any:
        xp = backend.xp()
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.th = xp.tanh(_TANH_K * (x + 0.044715 * x * x * x))
            return (0.5 * x * (1 + self.th)).astype(x.dtype, copy=False)
        self.cdf = (0.5 * (1 + erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)
        return x * self.cdf

    def backward(self, gy: Any) -> Any:
        x = self.x
        if self.approximate == "tanh":
            du = _TANH_K * (1 + 3 * 0.044715 * x * x)
            return gy * (0.5 * (1 + self.th) + 0.5 * x * (1 - self.th * self.th) * du)
        pdf = backend.xp().exp(-0.5 * x * x) / _SQRT_2PI
        return gy * (self.cdf + x * pdf)


class ELU(Function):
    """y = x if x > 0 else alpha (exp(x) - 1). gx = gy if x > 0 else gy * alpha exp(x)."""

    def forward(self, x: Any, alpha: float) -> Any:
        xp = backend.xp()
        self.pos = x > 0
        self.neg_slope = alpha * xp.exp(xp.minimum(x, 0))  # alpha exp(x) for x <= 0
        return xp.where(self.pos, x, self.neg_slope - alpha).astype(x.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        return backend.xp().where(self.pos, gy, gy * self.neg_slope)


class SiLU(Function):
    """y = x * sigmoid(x). gx = gy * s (1 + x (1 - s)), s = sigmoid(x)."""

    def forward(self, x: Any) -> Any:
        self.x = x
        self.s = (backend.xp().tanh(x * 0.5) + 1) * 0.5  # sigmoid without overflow
        return x * self.s

    def backward(self, gy: Any) -> Any:
        return gy * self.s * (1 + self.x * (1 - self.s))


class PReLU(Function):
    """y = x if x > 0 else w x, with w (1,) or (C,) per channel (axis 1).
    gx = gy if x > 0 else gy w; gw = sum of gy * x over the elements where x <= 0, per
    channel."""

    def forward(self, x: Any, w: Any) -> Any:
        xp = backend.xp()
        shape = [1] * x.ndim
        if w.size > 1:
            shape[1] = w.size
        self.wb = w.reshape(shape)  # broadcasts over axis 1
        self.x, self.pos, self.wshape = x, x > 0, w.shape
        return xp.where(self.pos, x, self.wb * x)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        xp = backend.xp()
        gx = xp.where(self.pos, gy, gy * self.wb) if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            gw = unbroadcast(xp.where(self.pos, 0, gy * self.x), self.wb.shape)
            gw = gw.reshape(self.wshape).astype(gy.dtype, copy=False)
        return gx, gw


def _float_tensor(op: str, input: Any) -> None:
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        got = input.dtype.name if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"{op}: input: expected a floating-point Tensor, got {got}")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (Phi the standard normal CDF); ``approximate="tanh"`` for the tanh form."""
    _float_tensor("gelu", input)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate: expected 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise (``inplace``: see ``F.relu``)."""
    _float_tensor("elu", input)
    return inplace_result(input, ELU.apply(input, float(alpha)), inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x), also called swish (``inplace``: see ``F.relu``)."""
    _float_tensor("silu", input)
    return inplace_result(input, SiLU.apply(input), inplace)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise; ``weight`` has 1 element or one per channel (axis 1)."""
    _float_tensor("prelu", input)
    if not isinstance(weight, Tensor) or weight.ndim > 1:
        got = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"prelu: weight: expected a 1-D tensor, got {got}")
    C = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, C):
        raise ValueError(
            f"prelu: weight: expected 1 or {C} (the input's channels) elements, "
            f"got {weight.numel()}"
        )
    return PReLU.apply(input, weight)
