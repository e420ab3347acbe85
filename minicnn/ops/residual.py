"""The skip connection of a residual block as one op: y = x + shortcut, optionally followed by
the ReLU that ends a ResNet block (fused, so the sum is never stored separately).

Both inputs receive the same gradient: gy, masked by (y > 0) when the ReLU is fused.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.tensor import Tensor


class ResidualAdd(Function):
    """y = x + shortcut (then max(y, 0) if relu). gx = gshortcut = gy (* (y > 0))."""

    def forward(self, x: Any, shortcut: Any, relu: bool) -> Any:
        xp = backend.xp()
        self.relu = int(relu)
        self.y = backend.kernel("residual_add_forward")(
            xp.ascontiguousarray(x), xp.ascontiguousarray(shortcut), self.relu
        )
        return self.y

    def backward(self, gy: Any) -> tuple[Any, Any]:
        gy = backend.xp().ascontiguousarray(gy)
        g = backend.kernel("residual_add_backward")(gy, self.y, self.relu)
        return g, g


def residual_add(x: Tensor, shortcut: Tensor, relu: bool = False) -> Tensor:
    """``x + shortcut`` (then ReLU if ``relu``); both must have the same shape."""
    for name, t in (("x", x), ("shortcut", shortcut)):
        if not isinstance(t, Tensor):
            raise TypeError(f"residual_add: {name} must be a Tensor, got {type(t).__name__}")
    if x.shape != shortcut.shape:
        raise ValueError(
            f"residual_add: shortcut: expected the shape of x {x.shape}, got {shortcut.shape}. "
            "When a block changes the number of channels or the resolution, pass the shortcut "
            "through a projection first (a strided 1x1 Conv2d, 'option B') or subsample and "
            "zero-pad it ('option A')"
        )
    return ResidualAdd.apply(x, shortcut, bool(relu))
