"""``Linear`` (a fully connected layer) and ``Identity``."""

from __future__ import annotations

import math
from typing import Any

from minicnn.creation import zeros
from minicnn.nn import functional as F
from minicnn.nn import init
from minicnn.nn.module import Module
from minicnn.nn.parameter import Parameter
from minicnn.ops._args import check_bool, check_int
from minicnn.tensor import Tensor


class Linear(Module):
    """y = x @ weight.T + bias: (*, in_features) -> (*, out_features).

    ``weight`` is (out_features, in_features) and ``bias`` (out_features,). Initialised as
    PyTorch does: both from U(-1/sqrt(in_features), 1/sqrt(in_features)) (the weight through
    ``kaiming_uniform_(a=sqrt(5))``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_int("Linear", "in_features", in_features)
        self.out_features = check_int("Linear", "out_features", out_features)
        check_bool("Linear", "bias", bias)
        self.weight = Parameter(zeros(out_features, in_features))
        self.bias = Parameter(zeros(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw weight and bias from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        """(*, in_features) -> (*, out_features)."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer); ignores its
    constructor arguments, as PyTorch's does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


__all__ = ["Identity", "Linear"]
