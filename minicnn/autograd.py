"""The Function base class and the grad mode switch.

An op is a subclass of :class:`Function` with two methods on raw arrays::

    class Mul(Function):
        def forward(self, a, b):          # arrays in, array out
            self.a, self.b = a, b         # save what backward needs on self
            return a * b

        def backward(self, gy):           # dL/dy in, one dL/d(input) per positional input
            return gy * self.b, gy * self.a

``Mul.apply(x, y)`` unwraps the tensors, checks that they share one backend and one float dtype,
runs ``forward`` with that backend current, and wraps the result in a new Tensor. When grad mode
is on and some input requires grad, the result remembers the Function (its ``grad_fn``) and the
Function remembers its input tensors: that chain of records *is* the graph that
``Tensor.backward`` walks in reverse. ``backward`` returns ``None`` for inputs that are not
tensors or need no gradient; ``self.needs_input_grad`` says which do. The Function also keeps
the arguments it was called with (``call_args``), so that :func:`minicnn.check_graph.check_graph`
can run it again on copies of them, until backward frees it.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from minicnn import backend

if TYPE_CHECKING:
    from minicnn.tensor import Tensor

_grad_enabled = True
F = TypeVar("F", bound=Callable[..., Any])
_hook_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*hook`` methods; ``handle.remove()`` detaches the hook."""

    def __init__(self, hooks: dict[int, Callable[..., Any]], key: int) -> None:
        self._hooks = hooks
        self.id = key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(hooks: dict[int, Callable[..., Any]], hook: Any) -> RemovableHandle:
    """Append ``hook`` to ``hooks`` (called in the order added) and return its handle."""
    if not callable(hook):
        raise TypeError(f"hook: expected a callable, got {type(hook).__name__}")
    key = next(_hook_ids)
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def is_grad_enabled() -> bool:
    """True when new ops record the graph for backward."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad mode inside and restores it after."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()


def no_grad(func: F | None = None) -> Any:
    """Run without recording the graph: ``with no_grad():`` or ``@no_grad`` / ``@no_grad()``."""
    if callable(func):
        return functools.wraps(func)(_GradMode(False)(func))
    return _GradMode(False)


def enable_grad(func: F | None = None) -> Any:
    """Turn graph recording back on inside a ``no_grad`` region."""
    if callable(func):
        return functools.wraps(func)(_GradMode(True)(func))
    return _GradMode(True)


def _common_backend(op: str, tensors: list[Tensor]) -> str:
    names = {t.backend for t in tensors}
    if len(names) > 1:
        a, b = sorted(names)[:2]
        raise TypeError(
            f"{op}: inputs live on different backends ({a!r} and {b!r}); "
            f"move one with .to({a!r}) or .to({b!r}) first (nothing is copied implicitly)"
        )
    return names.pop() if names else backend.current()


def _check_float_dtypes(op: str, tensors: list[Tensor]) -> None:
    dtypes = {t.dtype for t in tensors if t.dtype.kind == "f"}
    if len(dtypes) > 1:
        names = " and ".join(sorted(d.name for d in dtypes))
        raise TypeError(
            f"{op}: inputs mix dtypes {names}; convert one with .float() or .double() "
            "(minicnn never promotes silently)"
        )


class Function:
    """One differentiable op: ``forward`` and ``backward`` on raw arrays, side by side."""

    needs_input_grad: tuple[bool, ...] = ()
    inputs: tuple[Tensor | None, ...] = ()
    call_args: tuple[tuple[Any, ...], dict[str, Any]] | None = None
    backend: str = "numpy"

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run the op on tensors (and plain Python values) and record it for backward."""
        return cls()(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        from minicnn.tensor import Tensor

        op = type(self).__name__
        tensors = [a for a in args if isinstance(a, Tensor)]
        name = _common_backend(op, tensors)
        _check_float_dtypes(op, tensors)
        self.backend = name
        self.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        raw = tuple(a.array if isinstance(a, Tensor) else a for a in args)
        with backend.op_backend(name):
            out = self.forward(*raw, **kwargs)
        out_backend = getattr(self, "out_backend", name)
        if _grad_enabled and any(self.needs_input_grad):
            self.inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
            self.call_args = (args, kwargs)
            return Tensor._from_op(out, out_backend, self)
        return Tensor._from_op(out, out_backend, None)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The graph one step back, as PyTorch shows it: per input, ``(its grad_fn, 0)``, or
        an ``AccumulateGrad`` for a leaf that requires grad, or ``(None, 0)``."""
        from minicnn.autograd_extra import next_functions

        return next_functions(self)

    def release(self) -> None:
        """Free what forward saved; a later backward through this node raises."""
        self.__dict__.clear()
        self.released = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, **kwargs: Any) -> Any:
    """d(outputs)/d(inputs) as a tuple, writing no ``.grad`` (``torch.autograd.grad``); see
    :mod:`minicnn.autograd_extra`."""
    from minicnn.autograd_extra import grad as _grad

    return _grad(outputs, inputs, grad_outputs, **kwargs)
