"""In-place updates, PyTorch's trailing-underscore methods: ``add_ sub_ mul_ div_ clamp_
zero_ fill_ copy_ normal_ uniform_``, and the augmented assignments ``+= -= *= /=``.

Each writes into the tensor's own array, so every tensor sharing that array (``w.data``, a
Parameter and the model holding it) sees the change; the tensor object stays the same one.
That is what a hand-written update relies on::

    with minicnn.no_grad():
        for w in model.parameters():
            w -= lr * w.grad          # the model's parameter itself changes

The rules are PyTorch's. With grad mode on, a leaf that requires grad may not be changed in
place (its gradient would refer to values that no longer exist): do it under ``no_grad`` or on
``w.data``. The result keeps the tensor's shape and dtype: an integer tensor cannot take a
float result, a (3,) tensor cannot take a (2, 3) one.

One difference: PyTorch also records in-place ops on tensors inside the graph; minicnn does
not. For ``y += x`` on such a tensor (``out += identity`` in a residual block) it computes
``y + x`` out of place and Python rebinds ``y`` to it, which gives the same values and
gradients; the explicit methods (``y.add_(x)``) raise instead, since nothing could rebind.
minicnn has no version counters either: changing in place an array that a recorded op saved
for its backward is not detected.
"""

from __future__ import annotations

from typing import Any

from minicnn import autograd, backend
from minicnn import random as _random
from minicnn.ops import elementwise as E
from minicnn.tensor import Tensor, _is_scalar


def _requires_grad(v: Any) -> bool:
    return isinstance(v, Tensor) and v.requires_grad


def check_inplace(op: str, t: Tensor, *others: Any) -> None:
    """Raise where PyTorch would, or where minicnn cannot record the op."""
    if not autograd.is_grad_enabled():
        return
    if t.is_leaf and t.requires_grad:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation; "
            "do it inside `with minicnn.no_grad():` (or on w.data)"
        )
    if t.requires_grad or any(_requires_grad(o) for o in others):
        raise RuntimeError(
            f"{op}: minicnn does not record in-place operations in the graph; write it out of "
            "place (y = y + x instead of y.add_(x))"
        )


def _same_float(t: Tensor, other: Any) -> Any:
    """A float operand takes the target's float dtype (the result is cast to it anyway)."""
    if isinstance(other, Tensor) and other.dtype.kind == "f" == t.dtype.kind:
        return other.to(t.dtype) if other.dtype != t.dtype else other
    return other


def _write(op: str, t: Tensor, result: Tensor) -> Tensor:
    """Store ``result`` (computed out of place) into ``t``'s array, as PyTorch's casting and
    shape rules allow."""
    if result.shape != t.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    rank = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < int < float: a result may not move up
    if rank[result.dtype.kind] > rank[t.dtype.kind]:
        raise RuntimeError(
            f"{op}: result type {result.dtype.name} can't be cast to the desired output type "
            f"{t.dtype.name}"
        )
    t.array[...] = result.array
    return t


def inplace_result(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    """What ``F.relu(x, inplace=True)`` and friends return. Outside the graph (grad mode off,
    or ``x`` needing no gradient) the result is written into ``x``, which is returned, as in
    PyTorch. Inside it, ``out`` is returned and ``x`` keeps its values: minicnn does not
    record in-place ops (code that uses the return value sees no difference)."""
    if not inplace or out is input or (autograd.is_grad_enabled() and input.requires_grad):
        return out
    input.array[...] = out.array
    return input


def _binary(op: str, fn: Any, t: Tensor, other: Any) -> Tensor:
    check_inplace(op, t, other)
    with autograd.no_grad():
        return _write(op, t, fn(t, _same_float(t, other)))


def _scaled(other: Any, alpha: Any) -> Any:
    return (
        other if alpha == 1 else E.mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    )


def add_(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """``self += alpha * other``, in place."""
    return _binary("add_", lambda a, b: E.add(a, _scaled(b, alpha)), self, other)


def sub_(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """``self -= alpha * other``, in place."""
    return _binary("sub_", lambda a, b: E.sub(a, _scaled(b, alpha)), self, other)


def mul_(self: Tensor, other: Any) -> Tensor:
    """``self *= other``, in place."""
    return _binary("mul_", E.mul, self, other)


def div_(self: Tensor, other: Any) -> Tensor:
    """``self /= other``, in place (an integer tensor cannot hold the quotient)."""
    return _binary("div_", E.div, self, other)


def clamp_(self: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit ``self`` to [min, max], in place."""
    check_inplace("clamp_", self)
    with autograd.no_grad():
        return _write("clamp_", self, E.clamp(self, min, max))


def zero_(self: Tensor) -> Tensor:
    """Set every element to 0."""
    check_inplace("zero_", self)
    self.array[...] = 0
    return self


def fill_(self: Tensor, value: Any) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor)."""
    check_inplace("fill_", self, value)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"fill_: value: expected a number or a 0-d tensor, got shape {value.shape}"
            )
        value = value.item()
    elif not (_is_scalar(value) or isinstance(value, bool)):
        raise TypeError(f"fill_: value: expected a number, got {type(value).__name__}")
    self.array[...] = value
    return self


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values (broadcast to ``self``'s shape, cast to its dtype, moved to its
    backend) into ``self``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: src: expected a Tensor, got {type(src).__name__}")
    check_inplace("copy_", self, src)
    xp = backend.xp(self.backend)
    data = backend.move(src.array, src.backend, self.backend)
    try:
        data = xp.broadcast_to(data, self.shape)
    except ValueError:
        raise RuntimeError(
            f"copy_: src: shape {src.shape} does not broadcast to {self.shape}"
        ) from None
    self.array[...] = data.astype(self.dtype, copy=False)
    return self


def _random_fill(op: str, t: Tensor, draw: Any) -> Tensor:
    check_inplace(op, t)
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {t.dtype.name}")
    t.array[...] = draw(_random.generator(t.backend), t.shape, t.dtype)
    return t


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of N(mean, std^2) from minicnn's generator (``manual_seed``)."""
    if std < 0:
        raise ValueError(f"normal_: std: expected a number >= 0, got {std!r}")
    return _random_fill(
        "normal_", self, lambda rng, s, d: rng.standard_normal(s, dtype=d) * std + mean
    )


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, **bounds: Any) -> Tensor:
    """Fill with samples of U(a, b); PyTorch's keywords ``from`` and ``to`` work too."""
    unknown = set(bounds) - {"from", "to"}
    if unknown:
        raise TypeError(f"uniform_: unexpected keyword argument {sorted(unknown)[0]!r}")
    a, b = bounds.get("from", a), bounds.get("to", b)
    if a > b:
        raise ValueError(f"uniform_: expected from <= to, got from={a}, to={b}")
    return _random_fill("uniform_", self, lambda rng, s, d: rng.random(s, dtype=d) * (b - a) + a)


def _augmented(op: str, fn: Any) -> Any:
    """``t += x`` and friends: in place, or out of place for a tensor inside the graph (Python
    then rebinds the name to the result; see the module docstring)."""

    def method(self: Tensor, other: Any) -> Tensor:
        in_graph = self.requires_grad and not self.is_leaf
        if autograd.is_grad_enabled() and (in_graph or _requires_grad(other)):
            if not (self.is_leaf and self.requires_grad):
                return fn(self, other)
        return _binary(op, fn, self, other)

    method.__name__ = op
    return method


INPLACE_METHODS: dict[str, Any] = {
    "add_": add_,
    "sub_": sub_,
    "mul_": mul_,
    "div_": div_,
    "clamp_": clamp_,
    "zero_": zero_,
    "fill_": fill_,
    "copy_": copy_,
    "normal_": normal_,
    "uniform_": uniform_,
    "__iadd__": _augmented("__iadd__", E.add),
    "__isub__": _augmented("__isub__", E.sub),
    "__imul__": _augmented("__imul__", E.mul),
    "__itruediv__": _augmented("__itruediv__", E.div),
}
