"""What turns a Tensor into other things: dtypes, NumPy arrays, Python numbers, text.

:class:`~minicnn.tensor.Tensor` inherits these conversions from :class:`Conversions`, so that
``tensor.py`` holds what autograd needs and nothing else. The dtypes are NumPy's; ``as_dtype``
also reads PyTorch's spellings (``"float"``, ``"double"``, ``"long"`` ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from minicnn import backend

if TYPE_CHECKING:
    from minicnn.tensor import Tensor

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_DTYPE_NAMES = {"float": float32, "double": float64, "long": int64, "int": int32, "bool": bool_}


def as_dtype(dtype: Any, argname: str = "dtype") -> np.dtype:
    """Parse ``np.float32``, ``"float32"``, ``"double"`` ... into a NumPy dtype."""
    try:
        return (
            _DTYPE_NAMES[dtype]
            if isinstance(dtype, str) and dtype in _DTYPE_NAMES
            else np.dtype(dtype)
        )
    except TypeError:
        raise TypeError(f"{argname}: expected a dtype such as 'float32', got {dtype!r}") from None


class Conversions:
    """Conversions of a Tensor (mixed into :class:`~minicnn.tensor.Tensor`)."""

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's array, cut from the graph (PyTorch's ``.data``).

        ``w.data.sub_(lr * w.grad)`` updates ``w`` in place without recording anything. The raw
        array itself is :attr:`array`.
        """
        from minicnn.tensor import Tensor

        return Tensor._from_op(self.array, self.backend, None)

    @data.setter
    def data(self, value: Any) -> None:
        """``t.data = other`` makes ``t`` hold ``other``'s array (a tensor or a raw array)."""
        from minicnn.tensor import Tensor

        if isinstance(value, Tensor):
            if value.backend != self.backend:
                raise TypeError(
                    f"data: expected a tensor on backend {self.backend!r}, got {value.backend!r}"
                )
            value = value.array
        elif not backend.is_array(value):
            raise TypeError(f"data: expected a Tensor or an array, got {type(value).__name__}")
        self.array = value

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shares memory on host backends, copies from the GPU)."""
        return backend.to_host(self.array)

    def item(self) -> float | int | bool:
        if self.array.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar; "
                f"this one has shape {tuple(self.shape)}"
            )
        return self.array.reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """A copy on another backend or device, of another dtype, or both; ``self`` when
        nothing changes (as PyTorch): ``to("numba")``, ``to("cuda")``, ``to(float64)``,
        ``to(device, dtype)``, ``to(other_tensor)``, ``to(device=..., dtype=...)``.
        ``"cpu"`` and ``"cuda"`` map to backends as :mod:`minicnn.device` says.

        Differentiable: gradients flow back to the original backend and dtype.
        """
        from minicnn.device import backend_for, parse_to
        from minicnn.ops.elementwise import Cast, Transfer

        target, dtype, copy = parse_to(args, kwargs)
        out = self
        if target is not None and backend_for(target, self.backend) != self.backend:
            out = Transfer.apply(out, backend_for(target, self.backend))
        if dtype is not None and dtype != out.dtype:
            out = Cast.apply(out, dtype)
        return out.clone() if copy and out is self else out

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype.name}")
        return int(self.item())

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        host = self.numpy()
        body = np.array2string(host, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.backend != "numpy":
            extras.append(f"backend={self.backend!r}")
        if self.dtype not in (float32, int64, bool_) or (self.dtype == int64 and host.size == 0):
            extras.append(f"dtype={self.dtype.name}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"
