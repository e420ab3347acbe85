"""Weight initialisers, with PyTorch's formulas: ``kaiming_*``, ``xavier_*``, ``normal_``, ...

Each one fills ``tensor.array`` in place on the tensor's own backend, under ``no_grad``, and
returns the tensor. Random ones draw from minicnn's generator for that backend (seeded by
``minicnn.manual_seed``), in float64, then cast to the tensor's dtype, so a float32 and a
float64 copy of a model start from the same numbers (up to rounding).

Why these scales: a layer ``y = W x`` with ``fan_in`` inputs of unit variance gives outputs of
variance ``fan_in * Var(W)``. Kaiming (He) picks ``Var(W) = gain**2 / fan_in`` so activations
keep their variance through ReLU layers (``gain = sqrt(2)`` makes up for the half ReLU zeroes);
Xavier (Glorot) picks ``Var(W) = gain**2 * 2 / (fan_in + fan_out)``, a compromise between the
forward and the backward pass. A uniform U(-b, b) has variance b**2 / 3, hence the ``sqrt(3)``.
"""

from __future__ import annotations

import math
from typing import Any

from minicnn import autograd
from minicnn import random as _random
from minicnn.tensor import Tensor

_LINEAR_GAINS = ("linear", "identity", "conv1d", "conv2d", "conv3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity``: 1 for linear, conv and sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope**2)) for leaky_relu (slope ``param``, default 0.01),
    3/4 for selu."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"param: expected a number (the negative slope), got {param!r}")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"nonlinearity: expected one of {', '.join((*_LINEAR_GAINS, 'tanh', 'relu', 'leaky_relu', 'selu'))}, "
        f"got {nonlinearity!r}"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in * prod(kernel) and
    out * prod(kernel). Linear weights (out, in) have a kernel of size 1."""
    if tensor.ndim < 2:
        raise ValueError(
            f"tensor: fan in and fan out need at least 2 dimensions, got shape {tensor.shape}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode: expected 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_tensor(fn: str, tensor: Any, random: bool = False) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}: tensor must be a Tensor, got {type(tensor).__name__}")
    if random and tensor.dtype.kind != "f":
        raise TypeError(
            f"{fn}: random initialisation needs a float tensor, got {tensor.dtype.name}"
        )


def _write(tensor: Tensor, values: Any) -> Tensor:
    """Copy ``values`` (an array of the tensor's backend, or a scalar) into ``tensor.array``."""
    with autograd.no_grad():
        tensor.array[...] = values
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill ``tensor`` with samples of U(a, b)."""
    _check_tensor("uniform_", tensor, random=True)
    if not a <= b:
        raise ValueError(f"b: expected b >= a = {a}, got {b}")
    u = _random.generator(tensor.backend).random(tensor.shape)  # float64 in [0, 1)
    return _write(tensor, (a + (b - a) * u).astype(tensor.dtype))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill ``tensor`` with samples of N(mean, std**2)."""
    _check_tensor("normal_", tensor, random=True)
    if not std >= 0:
        raise ValueError(f"std: expected a non-negative standard deviation, got {std}")
    z = _random.generator(tensor.backend).standard_normal(tensor.shape)  # float64
    return _write(tensor, (mean + std * z).astype(tensor.dtype))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    _check_tensor("constant_", tensor)
    return _write(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 0."""
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 1."""
    return constant_(tensor, 1)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    _check_tensor("xavier_uniform_", tensor, random=True)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check_tensor("xavier_normal_", tensor, random=True)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    With ``a=sqrt(5)`` (the default of Conv2d and Linear) b is exactly 1 / sqrt(fan_in).
    """
    _check_tensor("kaiming_uniform_", tensor, random=True)
    if tensor.numel() == 0:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He normal: N(0, std**2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    _check_tensor("kaiming_normal_", tensor, random=True)
    if tensor.numel() == 0:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std)


__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
