"""The skip connection of a residual block as one op: y = x + shortcut, optionally followed by
the ReLU that ends a ResNet block (fused, so the sum is never stored separately).

Both inputs receive the same gradient: gy, masked by (y > 0) when the ReLU is fused.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import check_like, check_tensor, contiguous
from minicnn.tensor import Tensor


class ResidualAdd(Function):
    """y = x + shortcut (then max(y, 0) if relu). gx = gshortcut = gy (* (y > 0))."""

    def forward(self, x: Any, shortcut: Any, relu: bool) -> Any:
        self.relu = int(relu)
        self.y = backend.kernel("residual_add_forward")(*contiguous(x, shortcut), self.relu)
        return self.y

    def backward(self, gy: Any) -> tuple[Any, Any]:
        gy = contiguous(gy)
        g = backend.kernel("residual_add_backward")(gy, self.y, self.relu)
        return g, g


def residual_add(x: Tensor, shortcut: Tensor, relu: bool = False) -> Tensor:
    """``x + shortcut`` (then ReLU if ``relu``); both must have the same shape."""
    check_tensor("residual_add", "x", x)
    check_tensor("residual_add", "shortcut", shortcut)
    if x.shape != shortcut.shape:
        raise ValueError(
            f"residual_add: shortcut: expected the shape of x {x.shape}, got {shortcut.shape}. "
            "When a block changes the number of channels or the resolution, pass the shortcut "
            "through a projection first (a strided 1x1 Conv2d, 'option B') or subsample and "
            "zero-pad it ('option A')"
        )
    check_like("residual_add", "shortcut", shortcut, x, "x", x.shape)
    return ResidualAdd.apply(x, shortcut, bool(relu))
