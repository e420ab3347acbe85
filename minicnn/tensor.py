"""Tensor: an array of one backend, plus what reverse-mode autograd needs.

A tensor holds ``array`` (a NumPy array on the ``numpy`` and ``numba`` backends, a CuPy array on
``cupy``), the name of its ``backend``, ``requires_grad``, and, when an op made it while grad
mode was on, ``grad_fn``: the Function that made it. ``backward()`` sorts the graph behind a
tensor topologically and runs each Function's backward once, in reverse order, summing the
gradients that reach a tensor from every use (``+=``), so a tensor used twice, as in a residual
branch, gets both contributions. Leaves (tensors made by you, not by an op) that require grad
receive the sum in ``.grad``; across calls, ``.grad`` accumulates until you zero it. A hook
registered with :meth:`Tensor.register_hook` sees that sum before it is used, and may replace it.

Calling ``backward()`` twice: the first call frees what each Function saved for its backward,
so a second call through the same graph raises ``RuntimeError``. Pass ``retain_graph=True`` to
the first call to keep the graph; the second call then adds its gradients to the leaves'
``.grad`` again (they accumulate: twice the gradient after two calls). This is PyTorch's rule.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minicnn import autograd, backend
from minicnn.tensor_convert import (  # noqa: F401  (re-exported: the dtypes live there)
    Conversions,
    as_dtype,
    bool_,
    float32,
    float64,
    int32,
    int64,
    uint8,
)


class Tensor(Conversions):
    """An n-dimensional array on one backend that can record its history for backward."""

    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__
    __hash__ = object.__hash__  # == builds a tensor, so hash by identity as PyTorch does
    _hooks: dict[int, Any] | None = None  # register_hook's, made on the first registration

    def __init__(
        self,
        data: Any,
        dtype: Any = None,
        requires_grad: bool = False,
        backend: str | None = None,
    ) -> None:
        name = _resolve_backend(data, backend)
        self.array = _to_array(data, dtype, name)
        self.backend = name
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Function | None = None
        self._requires_grad = False
        self._retains_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data: Any, name: str, grad_fn: autograd.Function | None) -> Tensor:
        """Wrap an op's output array without copying or converting it."""
        t = cls.__new__(cls)
        t.array = data
        t.backend = name
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._retains_grad = False
        return t

    # Autograd state.
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients; "
                f"this tensor has dtype {self.dtype.name}"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad: cannot turn off gradients of a non-leaf tensor; use .detach()"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def register_hook(self, hook: Any) -> autograd.RemovableHandle:
        """Call ``hook(grad)`` each time backward has the gradient with respect to this tensor
        (summed over all its uses), before it flows on or into ``.grad``; a non-None return (a
        tensor of the same shape) replaces it. Returns a handle whose ``remove()`` detaches
        the hook. Example: ``h.register_hook(lambda g: g.clamp(-1, 1))`` clips what reaches
        the layers below ``h``."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that does not require grad"
            )
        if self._hooks is None:
            self._hooks = {}
        return autograd.add_hook(self._hooks, hook)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory)."""
        return Tensor._from_op(self.array, self.backend, None)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see the module docstring)."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn; "
                "make an input with requires_grad=True before computing it"
            )
        xp = backend.xp(self.backend)
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"backward: gradient can be omitted only for a one-element output; this "
                    f"tensor has shape {tuple(self.shape)}, so pass gradient=<a tensor of that shape>"
                )
            g = xp.ones_like(self.array)
        else:
            if not isinstance(gradient, Tensor):
                gradient = Tensor(gradient, dtype=self.dtype, backend=self.backend)
            if gradient.backend != self.backend:
                raise TypeError(
                    f"gradient: expected a tensor on backend {self.backend!r}, "
                    f"got one on {gradient.backend!r}"
                )
            if gradient.shape != self.shape:
                raise ValueError(
                    f"gradient: expected shape {tuple(self.shape)}, got {tuple(gradient.shape)}"
                )
            g = gradient.array.astype(self.dtype, copy=False)
        _run_backward(self, g, retain_graph, user_gradient=gradient is not None)

    # Array facts.
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or its length along ``dim`` (as PyTorch's ``Tensor.size``)."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # In-place writes (for initialisers and optimizers, outside the graph).
    def __setitem__(self, index: Any, value: Any) -> None:
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                "__setitem__: in-place assignment to a tensor that requires grad would corrupt "
                "its gradient; do it inside `with minicnn.no_grad():`"
            )
        if isinstance(value, Tensor):
            if value.backend != self.backend:
                raise TypeError(
                    f"value: expected a tensor on backend {self.backend!r}, got {value.backend!r}"
                )
            value = value.array
        self.array[_raw_index(index)] = value

    def zero_(self) -> Tensor:
        self.array[...] = 0
        return self

    # Operators and array methods (a + b, x.sum(), ...) are defined in minicnn/ops and
    # attached to Tensor by minicnn/ops/_methods.py.


def _resolve_backend(data: Any, name: str | None) -> str:
    if name is not None:
        return backend._require(backend._check_name(name, "backend"))
    if isinstance(data, Tensor):
        return data.backend
    if backend.backend_of_array(data) == "cupy":
        return "cupy"
    return backend.get_backend()


def _to_array(data: Any, dtype: Any, name: str) -> Any:
    """Convert Python data or an array to an array of backend ``name``.

    Python floats become float32 (the default dtype), ints int64 and bools bool; arrays keep
    their dtype unless ``dtype`` is given.
    """
    if isinstance(data, Tensor):
        data = data.array
    target = as_dtype(dtype) if dtype is not None else None
    if backend.is_array(data):
        arr = backend.move(data, backend.backend_of_array(data), name)
        if target is not None:
            arr = arr.astype(target)
        return arr.copy() if arr is data else arr
    try:
        host = np.asarray(data)
    except ValueError as e:  # ragged nesting, e.g. [[1, 2], [3]]
        raise ValueError(f"data: expected a rectangular nested sequence of numbers ({e})") from None
    if host.dtype.kind not in "biuf":
        raise TypeError(
            f"data: expected numbers or nested sequences of numbers, got {type(data).__name__} "
            f"holding {host.dtype.name} values"
        )
    if target is None:
        target = {"f": float32, "i": int64, "u": int64, "b": bool_}.get(host.dtype.kind, host.dtype)
    host = host.astype(target)
    return backend.move(host, "numpy", name)


def _raw_index(index: Any) -> Any:
    """Replace tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, Tensor) else i for i in index)
    return index


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` through grad_fns, each after all its inputs.

    Iterative depth-first search, so deep networks (ResNet-110) do not hit Python's recursion
    limit.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        if t.grad_fn is not None:
            for parent in t.grad_fn.inputs:
                if parent is not None and parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _run_backward(root: Tensor, g: Any, retain_graph: bool, user_gradient: bool) -> None:
    """The reverse sweep: each Function's backward once, from ``root`` back to the leaves.

    ``grads`` holds the gradient that has reached each tensor so far. A tensor used twice (the
    input of a residual block feeds both the branch and the shortcut) receives one gradient per
    use, and they add up (``+=``): the multivariable chain rule. A tensor's gradient is complete
    once every tensor computed from it has been visited, which the topological order guarantees.
    """
    grads: dict[int, Any] = {id(root): g}
    leaf_grads = _LeafGrads(g if user_gradient else None)
    for t in reversed(_topological_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._hooks:
            g = _run_hooks(t, g)
            leaf_grads.shared(g)  # a hook may have kept the array it was shown
        if t.grad_fn is None or t._retains_grad:
            leaf_grads.accumulate(t, g)  # t.grad += g
        fn = t.grad_fn
        if fn is None:
            continue
        if getattr(fn, "released", False):
            raise RuntimeError(
                "backward: trying to backward through the graph a second time; its saved "
                "arrays were freed by the first call. Pass retain_graph=True to the first "
                "backward() to keep them."
            )
        with backend.op_backend(fn.backend):
            in_grads = fn.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for parent, gp in zip(fn.inputs, in_grads):
            if parent is None or gp is None or not parent.requires_grad:
                continue
            if tuple(gp.shape) != parent.shape:
                raise RuntimeError(
                    f"{type(fn).__name__}.backward returned a gradient of shape "
                    f"{tuple(gp.shape)} for an input of shape {parent.shape}"
                )
            key = id(parent)
            grads[key] = gp if key not in grads else grads[key] + gp  # one more use: add it
        if not retain_graph:
            fn.release()


class _LeafGrads:
    """``t.grad += g`` for the leaves, without a copy where none is needed.

    Every ``.grad`` must own its memory. A gradient array is handed over as it is only when no
    one else can hold it: not a view (base is None), not the caller's gradient, and not already
    given to another tensor (a + b passes the same gy to both). Else it is copied.
    """

    def __init__(self, user_gradient: Any) -> None:
        self.handed: set[int] = set() if user_gradient is None else {id(user_gradient)}

    def shared(self, g: Any) -> None:
        self.handed.add(id(g))

    def accumulate(self, t: Tensor, g: Any) -> None:
        if t.grad is not None:
            t.grad = Tensor._from_op(t.grad.array + g, t.backend, None)
            return
        owned = g.base is None and id(g) not in self.handed
        arr = g if owned else g.copy()
        self.handed.add(id(arr))
        t.grad = Tensor._from_op(arr, t.backend, None)


def _run_hooks(t: Tensor, g: Any) -> Any:
    """Show gradient ``g`` of ``t`` to each of its hooks in turn; a non-None return replaces it."""
    for hook in list(t._hooks.values()):
        result = hook(Tensor._from_op(g, t.backend, None))
        if result is None:
            continue
        if not isinstance(result, Tensor) or result.backend != t.backend:
            got = result.backend if isinstance(result, Tensor) else type(result).__name__
            raise TypeError(
                f"hook: a tensor hook must return None or a Tensor on backend {t.backend!r}, "
                f"got {got}"
            )
        if result.shape != t.shape:
            raise ValueError(
                f"hook: returned a gradient of shape {result.shape} for a tensor of shape {t.shape}"
            )
        g = result.array.astype(t.dtype, copy=False)
    return g


def tensor(
    data: Any, dtype: Any = None, requires_grad: bool = False, backend: str | None = None
) -> Tensor:
    """Make a tensor from Python data or an array (on ``backend``, default the current one)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def _is_scalar(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"size: expected non-negative ints, got {tuple(shape)!r}")
    return tuple(int(s) for s in shape)
