"""Comparisons and tests: ``eq ne lt le gt ge``, ``isnan isinf isfinite``, ``all any``,
``allclose equal``, and the elementwise ``maximum``/``minimum`` (differentiable).

Comparisons give bool tensors and no gradient. ``maximum(a, b)`` sends the gradient to the
larger operand; where the two tie, each gets half, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops.elementwise import _operands, unbroadcast
from minicnn.ops.reduce import normalize_dims
from minicnn.tensor import Tensor


class Maximum(Function):
    """y = max(a, b) (or min) elementwise, broadcast. ga = gy * w, gb = gy * (1 - w), with
    w = 1 where a wins, 0 where b wins, 1/2 at ties; each summed back to its operand's shape."""

    def forward(self, a: Any, b: Any, minimum: bool) -> Any:
        xp = backend.xp()
        self.sa, self.sb = a.shape, b.shape
        wins = (a < b) if minimum else (a > b)
        self.wa = wins + 0.5 * (a == b)  # (broadcast shape) a's share of the gradient
        return xp.minimum(a, b) if minimum else xp.maximum(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        wa = self.wa.astype(gy.dtype, copy=False)
        ga = unbroadcast(gy * wa, self.sa) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * (1 - wa), self.sb) if self.needs_input_grad[1] else None
        return ga, gb


def _two_tensors(op: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(
                f"{op}: {name}: expected a Tensor, got {type(v).__name__} "
                "(for a number use clamp(min=...) or clamp(max=...))"
            )
    return _operands(op, input, other)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """The larger of ``input`` and ``other`` at each position (broadcast)."""
    a, b = _two_tensors("maximum", input, other)
    return Maximum.apply(a, b, False)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """The smaller of ``input`` and ``other`` at each position (broadcast)."""
    a, b = _two_tensors("minimum", input, other)
    return Maximum.apply(a, b, True)


def _check_tensor(op: str, input: Any) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input: expected a Tensor, got {type(input).__name__}")


def _compare(op: str, input: Any, other: Any) -> Tensor:
    _check_tensor(op, input)
    result = getattr(input, f"__{op}__")(other)  # Tensor.__eq__ and friends (ops/_methods.py)
    if result is NotImplemented:
        raise TypeError(f"{op}: other: expected a Tensor or a number, got {type(other).__name__}")
    return result


def eq(input: Tensor, other: Any) -> Tensor:
    """``input == other`` elementwise, a bool tensor."""
    return _compare("eq", input, other)


def ne(input: Tensor, other: Any) -> Tensor:
    """``input != other`` elementwise, a bool tensor."""
    return _compare("ne", input, other)


def lt(input: Tensor, other: Any) -> Tensor:
    """``input < other`` elementwise, a bool tensor."""
    return _compare("lt", input, other)


def le(input: Tensor, other: Any) -> Tensor:
    """``input <= other`` elementwise, a bool tensor."""
    return _compare("le", input, other)


def gt(input: Tensor, other: Any) -> Tensor:
    """``input > other`` elementwise, a bool tensor."""
    return _compare("gt", input, other)


def ge(input: Tensor, other: Any) -> Tensor:
    """``input >= other`` elementwise, a bool tensor."""
    return _compare("ge", input, other)


def _test(op: str, input: Tensor, fn: str) -> Tensor:
    _check_tensor(op, input)
    return Tensor._from_op(getattr(backend.xp(input.backend), fn)(input.array), input.backend, None)


def isnan(input: Tensor) -> Tensor:
    """True where ``input`` is NaN."""
    return _test("isnan", input, "isnan")


def isinf(input: Tensor) -> Tensor:
    """True where ``input`` is +inf or -inf."""
    return _test("isinf", input, "isinf")


def isfinite(input: Tensor) -> Tensor:
    """True where ``input`` is neither NaN nor infinite."""
    return _test("isfinite", input, "isfinite")


def _all_any(op: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    _check_tensor(op, input)
    dims = normalize_dims(op, dim, input.ndim)
    data = getattr(input.array.astype(bool), op)(axis=dims, keepdims=bool(keepdim))
    return Tensor._from_op(data, input.backend, None)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where every element along ``dim`` (all of them when None) is non-zero."""
    return _all_any("all", input, dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where some element along ``dim`` (any at all when None) is non-zero."""
    return _all_any("any", input, dim, keepdim)


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> bool:
    """True when ``|input - other| <= atol + rtol * |other|`` everywhere (broadcast)."""
    a, b = _two_tensors("allclose", input, other)
    xp = backend.xp(a.backend)
    return bool(xp.allclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and the same values."""
    _check_tensor("equal", input)
    _check_tensor("equal", other)
    if input.backend != other.backend:
        raise TypeError(
            f"equal: inputs live on different backends ({input.backend!r} and {other.backend!r})"
        )
    return input.shape == other.shape and bool((input.array == other.array).all())
