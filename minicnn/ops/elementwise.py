"""Elementwise ops with NumPy broadcasting: arithmetic, math functions, activations.

Broadcasting copies an operand along new or size-1 axes, so its gradient is the sum of the
incoming gradient over those axes (:func:`unbroadcast`). Every op here works on any shapes that
broadcast; ``gy`` has the broadcast output shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import contiguous
from minicnn.tensor import Tensor, _is_scalar, float32


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` (broadcast shape) down to ``shape``: over leading axes and size-1 axes."""
    if tuple(g.shape) == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def broadcast_shape(op: str, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast of two shapes, or a ValueError naming both."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da != db and 1 not in (da, db):
            raise ValueError(
                f"{op}: shapes {a} and {b} do not broadcast (axis -{i}: {da} vs {db}); "
                "sizes must be equal or one of them 1"
            )
        out.append(max(da, db) if 1 in (da, db) else da)
    return tuple(reversed(out))


def _operands(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    """Prepare a binary op's operands: scalars stay Python numbers; int tensors meeting a float
    tensor are cast to its dtype (as PyTorch promotes); shapes must broadcast."""
    for name, v in (("input", a), ("other", b)):
        if not isinstance(v, Tensor) and not _is_scalar(v) and not isinstance(v, bool):
            raise TypeError(f"{op}: {name} must be a Tensor or a number, got {type(v).__name__}")
    # A NumPy scalar (np.float64(2.0)) would promote a float32 array: use its Python value.
    a, b = (v.item() if isinstance(v, np.generic) else v for v in (a, b))
    # An integer tensor meeting a Python float becomes float32, the default dtype (as PyTorch).
    if isinstance(a, Tensor) and a.dtype.kind != "f" and isinstance(b, float):
        a = a.to(float32)
    if isinstance(b, Tensor) and b.dtype.kind != "f" and isinstance(a, float):
        b = b.to(float32)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.dtype.kind == "f" and b.dtype.kind != "f":
            b = b.to(a.dtype)
        elif b.dtype.kind == "f" and a.dtype.kind != "f":
            a = a.to(b.dtype)
        broadcast_shape(op, a.shape, b.shape)
    return a, b


class Add(Function):
    """y = a + b (broadcast). ga = unbroadcast(gy), gb = unbroadcast(gy)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.sa, self.sb = getattr(a, "shape", ()), getattr(b, "shape", ())
        return a + b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        return unbroadcast(gy, self.sa), unbroadcast(gy, self.sb)


class Sub(Function):
    """y = a - b (broadcast). ga = unbroadcast(gy), gb = -unbroadcast(gy)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.sa, self.sb = getattr(a, "shape", ()), getattr(b, "shape", ())
        return a - b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        gb = -unbroadcast(gy, self.sb) if self.needs_input_grad[1] else None
        return unbroadcast(gy, self.sa), gb


class Mul(Function):
    """y = a * b (broadcast). ga = unbroadcast(gy * b), gb = unbroadcast(gy * a)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a * b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        ga = unbroadcast(gy * self.b, _shape(self.a)) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * self.a, _shape(self.b)) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b (broadcast). ga = unbroadcast(gy / b), gb = unbroadcast(-gy * a / b**2)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a / b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        ga = unbroadcast(gy / self.b, _shape(self.a)) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            gb = unbroadcast(-gy * self.a / (self.b * self.b), _shape(self.b))
        return ga, gb


class Neg(Function):
    """y = -x. gx = -gy."""

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Any) -> Any:
        return -gy


class Pow(Function):
    """y = a ** b. ga = gy * b * a**(b-1); gb = gy * y * log(a) (defined for a > 0)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy: Any) -> tuple[Any, Any]:
        xp = backend.xp()
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(gy * b * a ** (b - 1), _shape(a))
        if self.needs_input_grad[1]:
            # a may be a Python number: take its log in gy's dtype, not NumPy's float64.
            gb = unbroadcast(gy * self.y * xp.log(xp.asarray(a, dtype=gy.dtype)), _shape(b))
        return ga, gb


def _shape(v: Any) -> tuple[int, ...]:
    return tuple(getattr(v, "shape", ()))


class Exp(Function):
    """y = exp(x). gx = gy * y."""

    def forward(self, x: Any) -> Any:
        self.y = backend.xp().exp(x)
        return self.y

    def backward(self, gy: Any) -> Any:
        return gy * self.y


class Log(Function):
    """y = log(x). gx = gy / x."""

    def forward(self, x: Any) -> Any:
        self.x = x
        return backend.xp().log(x)

    def backward(self, gy: Any) -> Any:
        return gy / self.x


class Sqrt(Function):
    """y = sqrt(x). gx = gy / (2 y)."""

    def forward(self, x: Any) -> Any:
        self.y = backend.xp().sqrt(x)
        return self.y

    def backward(self, gy: Any) -> Any:
        return gy / (2 * self.y)


class Abs(Function):
    """y = |x|. gx = gy * sign(x) (0 at x = 0, as PyTorch)."""

    def forward(self, x: Any) -> Any:
        self.x = x
        return backend.xp().abs(x)

    def backward(self, gy: Any) -> Any:
        return gy * backend.xp().sign(self.x)


class ReLU(Function):
    """y = max(x, 0) (NaN stays NaN). gx = gy where y > 0 (so x > 0), else 0: the kernel of the
    residual add's backward with its ReLU, one pass (one GPU launch, not two)."""

    def forward(self, x: Any) -> Any:
        self.y = backend.xp().maximum(x, 0)
        return self.y

    def backward(self, gy: Any) -> Any:
        return backend.kernel("residual_add_backward")(*contiguous(gy, self.y), 1).reshape(gy.shape)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x. gx = gy * (1 if x > 0 else slope)."""

    def forward(self, x: Any, negative_slope: float = 0.01) -> Any:
        xp = backend.xp()
        self.slope = xp.where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope))
        return x * self.slope

    def backward(self, gy: Any) -> Any:
        return gy * self.slope


class Tanh(Function):
    """y = tanh(x). gx = gy * (1 - y**2)."""

    def forward(self, x: Any) -> Any:
        self.y = backend.xp().tanh(x)
        return self.y

    def backward(self, gy: Any) -> Any:
        return gy * (1 - self.y * self.y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), computed as (1 + tanh(x/2)) / 2, which cannot overflow.
    gx = gy * y * (1 - y)."""

    def forward(self, x: Any) -> Any:
        self.y = (backend.xp().tanh(x * 0.5) + 1) * 0.5
        return self.y

    def backward(self, gy: Any) -> Any:
        return gy * self.y * (1 - self.y)


class Clamp(Function):
    """y = min(max(x, lo), hi). gx = gy where lo <= x <= hi, else 0 (as PyTorch)."""

    def forward(self, x: Any, lo: float | None, hi: float | None) -> Any:
        xp = backend.xp()
        self.pass_through = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            self.pass_through &= x >= lo
        if hi is not None:
            self.pass_through &= x <= hi
        return xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        return gy * self.pass_through


class Where(Function):
    """y = a where cond else b (broadcast). ga = unbroadcast(gy * cond), gb likewise with ~cond."""

    def forward(self, cond: Any, a: Any, b: Any) -> Any:
        self.cond, self.sa, self.sb = cond, _shape(a), _shape(b)
        return backend.xp().where(cond, a, b)

    def backward(self, gy: Any) -> tuple[None, Any, Any]:
        zero = gy.dtype.type(0)
        xp = backend.xp()
        ga = (
            unbroadcast(xp.where(self.cond, gy, zero), self.sa)
            if self.needs_input_grad[1]
            else None
        )
        gb = (
            unbroadcast(xp.where(self.cond, zero, gy), self.sb)
            if self.needs_input_grad[2]
            else None
        )
        return None, ga, gb


class Cast(Function):
    """y = x as ``dtype``. gx = gy cast back to x's dtype (no gradient into integer tensors)."""

    def forward(self, x: Any, dtype: Any) -> Any:
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, gy: Any) -> Any:
        return gy.astype(self.src)


class Transfer(Function):
    """y = x moved to backend ``dst`` (host <-> GPU copies happen only here). gx = gy moved back."""

    def forward(self, x: Any, dst: str) -> Any:
        self.out_backend = dst
        self.src = self.backend
        backend._require(dst)
        return backend.move(x, self.src, dst)

    def backward(self, gy: Any) -> Any:
        return backend.move(gy, self.out_backend, self.src)


def _binary(fn: type[Function], op: str, a: Any, b: Any) -> Tensor:
    a, b = _operands(op, a, b)
    return fn.apply(a, b)


def add(input: Any, other: Any) -> Tensor:
    """``input + other`` with broadcasting."""
    return _binary(Add, "add", input, other)


def sub(input: Any, other: Any) -> Tensor:
    """``input - other`` with broadcasting."""
    return _binary(Sub, "sub", input, other)


def mul(input: Any, other: Any) -> Tensor:
    """``input * other`` with broadcasting."""
    return _binary(Mul, "mul", input, other)


def _floating(x: Any) -> Any:
    """Integer and bool tensors become float32 (the default dtype) where an op needs floats."""
    return x.to(float32) if isinstance(x, Tensor) and x.dtype.kind != "f" else x


def div(input: Any, other: Any) -> Tensor:
    """``input / other`` with broadcasting (true division: integers give float32)."""
    return _binary(Div, "div", _floating(input), _floating(other))


def neg(input: Tensor) -> Tensor:
    return Neg.apply(input)


def pow(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent``; either may be a tensor or a number."""
    return _binary(Pow, "pow", input, exponent)


def exp(input: Tensor) -> Tensor:
    return Exp.apply(_floating(input))


def log(input: Tensor) -> Tensor:
    return Log.apply(_floating(input))


def sqrt(input: Tensor) -> Tensor:
    return Sqrt.apply(_floating(input))


def abs(input: Tensor) -> Tensor:
    return Abs.apply(input)


def relu(input: Tensor) -> Tensor:
    return ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


def tanh(input: Tensor) -> Tensor:
    return Tanh.apply(_floating(input))


def sigmoid(input: Tensor) -> Tensor:
    return Sigmoid.apply(_floating(input))


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit values to [min, max]; at least one bound must be given."""
    if min is None and max is None:
        raise ValueError("clamp: expected at least one of min and max, got neither")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: expected min <= max, got min={min}, max={max}")
    return Clamp.apply(input, min, max)


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elementwise ``input if condition else other`` with broadcasting."""
    if isinstance(condition, Tensor):
        if condition.dtype.kind != "b":
            raise TypeError(f"condition: expected a bool tensor, got dtype {condition.dtype.name}")
    else:
        raise TypeError(f"condition: expected a bool Tensor, got {type(condition).__name__}")
    input, other = _operands("where", input, other)
    shapes = [t.shape for t in (condition, input, other) if isinstance(t, Tensor)]
    out = shapes[0]
    for s in shapes[1:]:
        out = broadcast_shape("where", out, s)
    return Where.apply(condition, input, other)
