"""Activation layers: ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid``, ``Softmax``, ``LogSoftmax``.

Each is a parameter-free wrapper of the function of the same name in ``F``; any shape in, the
same shape out.
"""

from __future__ import annotations

from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.ops._args import check_int, check_number
from minicnn.tensor import Tensor


def _check_inplace(layer: str, inplace: object) -> bool:
    if not isinstance(inplace, bool):
        raise ValueError(f"{layer}: inplace must be a bool, got {inplace!r}")
    return inplace


class ReLU(Module):
    """max(x, 0), elementwise (``inplace=True``: see ``F.relu``)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace("ReLU", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise, elementwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        check_number("LeakyReLU", "negative_slope", negative_slope)
        self.negative_slope = negative_slope
        self.inplace = _check_inplace("LeakyReLU", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``: each slice along ``dim`` becomes a distribution."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_int("Softmax", "dim", dim, minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_int("LogSoftmax", "dim", dim, minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


__all__ = ["LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]
