"""More activation layers: ``GELU``, ``ELU``, ``SiLU`` (parameter-free) and ``PReLU`` (a
learnable negative slope, one or one per channel)."""

from __future__ import annotations

from minicnn.creation import full
from minicnn.nn import functional as F
from minicnn.nn.module import Module
from minicnn.nn.parameter import Parameter
from minicnn.ops._args import check_int
from minicnn.tensor import Tensor


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; ``approximate="tanh"`` for the tanh form."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise ValueError(f"ELU: alpha must be a number, got {alpha!r}")
        self.alpha = float(alpha)
        self.inplace = bool(inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SiLU(Module):
    """x * sigmoid(x) (also called swish)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input, self.inplace)


class PReLU(Module):
    """x for x > 0, a * x otherwise, with ``a`` learnt: one value (``num_parameters=1``) or
    one per channel (``num_parameters=C``, channels on axis 1), starting at ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.num_parameters = check_int("PReLU", "num_parameters", num_parameters)
        if isinstance(init, bool) or not isinstance(init, (int, float)):
            raise ValueError(f"PReLU: init must be a number, got {init!r}")
        self.init = float(init)
        self.weight = Parameter(full((num_parameters,), self.init))

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


__all__ = ["ELU", "GELU", "PReLU", "SiLU"]
