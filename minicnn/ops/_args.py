"""Argument checks, written once for the ops, the layers and the optimizers.

Every check runs at the boundary (the public function, a layer's constructor, an optimizer's
step) before any kernel; its message names the argument, what was expected and what came. A
layer checks its constructor arguments with the same helper as the function it calls, so one
mistake gives one message. Past the boundary nothing is checked again: the kernels trust the
contract in ``minicnn.kernels`` (a compiled kernel has no bounds checks, so a wrong size would
read or write outside an array).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from minicnn import backend
from minicnn.kernels.geometry import out_size as _out_size
from minicnn.tensor import Tensor


class DTypeError(TypeError, ValueError):
    """An argument of the wrong dtype. It is a TypeError (a wrong kind of value) and a
    ValueError (a bad array, like a wrong shape), so callers catching either see it, as NumPy's
    AxisError is both a ValueError and an IndexError."""


def is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_int(who: str, name: str, value: Any, minimum: int | None = 1) -> int:
    """``value`` as an int >= ``minimum`` (any int when ``minimum`` is None)."""
    if not is_int(value) or (minimum is not None and value < minimum):
        kind = "an int" if minimum is None else f"an int >= {minimum}"
        raise ValueError(f"{who}: {name}: expected {kind}, got {value!r}")
    return int(value)


def check_bool(who: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{who}: {name}: expected a bool, got {value!r}")
    return value


def check_number(
    who: str,
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """``value`` as a float in the interval from ``low`` to ``high`` (closed unless said)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and (low is None or (value > low if open_low else value >= low))
    ok = ok and (high is None or (value < high if open_high else value <= high))
    if not ok:
        if low is not None and high is not None:
            kind = f"a value in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        elif low == 0:
            kind = "a positive number" if open_low else "a non-negative number"
        elif low is not None:
            kind = f"a number {'>' if open_low else '>='} {low}"
        else:
            kind = "a number"
        raise ValueError(f"{who}: {name}: expected {kind}, got {value!r}")
    return float(value)


def check_probability(who: str, value: Any) -> float:
    """A dropout probability p in [0, 1) (p = 1 would scale the kept units by 1 / 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{who}: p: expected a probability in [0, 1), got {value!r}")
    return float(value)


def check_choice(who: str, name: str, value: Any, choices: Sequence[Any]) -> Any:
    if not any(value == c and type(value) is type(c) for c in choices):
        raise ValueError(f"{who}: {name}: expected one of {tuple(choices)}, got {value!r}")
    return value


def pair(who: str, name: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    """``value`` (an int or a pair of ints) as a pair ``(h, w)``, each at least ``minimum``."""
    vals = (value, value) if is_int(value) else value
    ok = (
        isinstance(vals, (tuple, list))
        and len(vals) == 2
        and all(is_int(v) and v >= minimum for v in vals)
    )
    if not ok:
        raise ValueError(
            f"{who}: {name}: expected an int >= {minimum} or a pair of them, got {value!r}"
        )
    return int(vals[0]), int(vals[1])


def check_tensor(
    who: str, name: str, t: Any, ndims: tuple[int, ...] | None = None, layout: str = ""
) -> None:
    """``t`` must be a floating-point Tensor (with one of ``ndims`` dimensions)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
    if ndims is not None and t.ndim not in ndims:
        raise ValueError(
            f"{who}: {name}: expected a {' or '.join(f'{n}-D' for n in ndims)} tensor {layout}, "
            f"got shape {t.shape}"
        )
    if t.dtype.kind != "f":
        raise DTypeError(f"{who}: {name}: expected a floating-point tensor, got {t.dtype.name}")


def check_like(
    who: str, name: str, t: Any, like: Tensor, like_name: str, shape: tuple[int, ...] | None
) -> None:
    """``t`` must be a Tensor with the backend and dtype of ``like`` (and ``shape``, unless
    None)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: {name}: expected a Tensor, got {type(t).__name__}")
    if t.backend != like.backend:
        raise TypeError(
            f"{who}: {name} lives on backend {t.backend!r} but {like_name} on {like.backend!r}"
        )
    check_array(who, name, t.array, like.array, like_name, shape)


def check_array(
    who: str, name: str, a: Any, like: Any, like_name: str, shape: tuple[int, ...] | None
) -> None:
    """Raw array ``a`` must have the dtype and device (host or GPU) of array ``like`` (and
    ``shape``, unless None)."""
    if backend.backend_of_array(a) != backend.backend_of_array(like):
        where = {"numpy": "a host (NumPy) array", "cupy": "a GPU (CuPy) array"}
        raise TypeError(
            f"{who}: {name}: expected {where[backend.backend_of_array(like)]} like {like_name}, "
            f"got {where[backend.backend_of_array(a)]}"
        )
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise ValueError(f"{who}: {name}: expected shape {tuple(shape)}, got {tuple(a.shape)}")
    if a.dtype != like.dtype:
        tail = ""
        if a.dtype.kind == like.dtype.kind == "f":
            both = " and ".join(sorted((a.dtype.name, like.dtype.name)))
            tail = f"; {both} never mix silently: convert one with .float() or .double()"
        raise DTypeError(
            f"{who}: {name}: expected dtype {like.dtype.name} (that of {like_name}), "
            f"got {a.dtype.name}{tail}"
        )


def check_groups(who: str, groups: Any, in_channels: int, out_channels: int) -> int:
    """A number of groups that divides both channel counts."""
    groups = check_int(who, "groups", groups)
    for count, kind in ((in_channels, "input"), (out_channels, "output")):
        if count % groups:
            raise ValueError(
                f"{who}: groups: expected a divisor of the {count} {kind} channels, got {groups}"
            )
    return groups


def conv_padding(who: str, padding: Any, stride: Any) -> str | tuple[int, int]:
    """A convolution's padding: ``"same"`` (for ``stride`` 1 only), or a pair (``"valid"``
    is 0)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding != "same":
            raise ValueError(
                f"{who}: padding: expected an int, a pair, 'valid' or 'same', got {padding!r}"
            )
        if pair(who, "stride", stride) != (1, 1):
            raise ValueError(
                f"{who}: padding='same' requires stride 1 (the output could not keep the "
                f"input's size), got stride={stride!r}"
            )
        return padding
    return pair(who, "padding", padding, 0)


def pool_window(
    who: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1
) -> tuple[int, ...]:
    """(KH, KW, SH, SW, PH, PW, DH, DW) of a pooling window; ``stride`` None means the kernel
    size, and padding may be at most half the kernel (as in PyTorch)."""
    KH, KW = pair(who, "kernel_size", kernel_size)
    SH, SW = pair(who, "stride", (KH, KW) if stride is None or stride == () else stride)
    PH, PW = pair(who, "padding", padding, 0)
    DH, DW = pair(who, "dilation", dilation)
    if PH > KH // 2 or PW > KW // 2:
        raise ValueError(
            f"{who}: padding: expected at most half the kernel size ({KH // 2}, {KW // 2}), "
            f"got ({PH}, {PW})"
        )
    return KH, KW, SH, SW, PH, PW, DH, DW


def adaptive_output_size(who: str, output_size: Any) -> Any:
    """An adaptive pooling's output size: an int >= 1, or a pair of them where None keeps the
    input's size along that axis."""
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        ok = all(s is None or (is_int(s) and s >= 1) for s in output_size)
    else:
        ok = is_int(output_size) and output_size >= 1
    if not ok:
        raise ValueError(
            f"{who}: output_size: expected an int >= 1 or a pair of them (None keeps the "
            f"input's size), got {output_size!r}"
        )
    return output_size


def check_out_size(
    who: str, axis: str, L: int, K: int, S: int, P: int, D: int, ceil_mode: bool = False
) -> int:
    """Output length along one axis (``minicnn.kernels.geometry.out_size``), after checking
    that the (dilated) kernel fits the padded input."""
    span = D * (K - 1) + 1  # extent of the dilated kernel
    if span > L + 2 * P:
        raise ValueError(
            f"{who}: kernel larger than the padded input along {axis}: the (dilated) kernel "
            f"spans {span} but the input has {L} + 2*{P} (padding) = {L + 2 * P}"
        )
    return _out_size(L, K, S, P, D, ceil_mode)


def contiguous(*arrays: Any) -> Any:
    """The arrays in C order (the same arrays when they already are; None stays None): the
    kernels read their arguments as flat buffers. Ops call this once, just before a kernel."""
    out = tuple(
        None if a is None else backend.xp(backend.backend_of_array(a)).ascontiguousarray(a)
        for a in arrays
    )
    return out[0] if len(out) == 1 else out
