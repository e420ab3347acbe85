"""Tensor operators and methods, each delegating to the op's public function."""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.ops import elementwise as E
from minicnn.ops import linalg as L
from minicnn.ops import loss as S
from minicnn.ops import reduce as R
from minicnn.ops import shape as P
from minicnn.tensor import Tensor, _is_scalar


def _compare(ufunc: str) -> Any:
    def method(self: Tensor, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            if other.backend != self.backend:
                raise TypeError(
                    f"comparison: operands live on different backends "
                    f"({self.backend!r} and {other.backend!r})"
                )
            other = other.array
        elif not (_is_scalar(other) or isinstance(other, bool)):
            return NotImplemented
        data = getattr(backend.xp(self.backend), ufunc)(self.array, other)
        return Tensor._from_op(data, self.backend, None)

    method.__name__ = f"__{ufunc}__"
    return method


_METHODS: dict[str, Any] = {
    "__add__": E.add,
    "__radd__": lambda self, other: E.add(other, self),
    "__sub__": E.sub,
    "__rsub__": lambda self, other: E.sub(other, self),
    "__mul__": E.mul,
    "__rmul__": lambda self, other: E.mul(other, self),
    "__truediv__": E.div,
    "__rtruediv__": lambda self, other: E.div(other, self),
    "__neg__": E.neg,
    "__pow__": E.pow,
    "__rpow__": lambda self, other: E.pow(other, self),
    "__matmul__": L.matmul,
    "__rmatmul__": lambda self, other: L.matmul(other, self),
    "__getitem__": P.getitem,
    "__eq__": _compare("equal"),
    "__ne__": _compare("not_equal"),
    "__lt__": _compare("less"),
    "__le__": _compare("less_equal"),
    "__gt__": _compare("greater"),
    "__ge__": _compare("greater_equal"),
    "add": E.add,
    "sub": E.sub,
    "mul": E.mul,
    "div": E.div,
    "neg": E.neg,
    "pow": E.pow,
    "exp": E.exp,
    "log": E.log,
    "sqrt": E.sqrt,
    "abs": E.abs,
    "relu": E.relu,
    "leaky_relu": E.leaky_relu,
    "tanh": E.tanh,
    "sigmoid": E.sigmoid,
    "clamp": E.clamp,
    "matmul": L.matmul,
    "sum": R.sum,
    "mean": R.mean,
    "max": R.max,
    "min": R.min,
    "amax": R.amax,
    "amin": R.amin,
    "var": R.var,
    "std": R.std,
    "argmax": R.argmax,
    "argmin": R.argmin,
    "reshape": P.reshape,
    "view": P.view,
    "permute": P.permute,
    "transpose": P.transpose,
    "flatten": P.flatten,
    "squeeze": P.squeeze,
    "unsqueeze": P.unsqueeze,
    "expand": P.expand,
    "softmax": S.softmax,
    "log_softmax": S.log_softmax,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(lambda self: P.permute(self, *reversed(range(self.ndim))))  # type: ignore[attr-defined]
