"""Residual addition, optionally fused with the ReLU that follows it in a ResNet block."""

import numpy as np


def residual_add_forward(x: np.ndarray, shortcut: np.ndarray, relu: int) -> np.ndarray:
    """y = x + shortcut, then max(y, 0) if relu; all of one shape."""
    y = x + shortcut
    if relu:
        np.maximum(y, 0, out=y)  # y is our own fresh array, so in place is safe
    return y


def residual_add_backward(gy: np.ndarray, y: np.ndarray, relu: int) -> np.ndarray:
    """Gradient of residual_add_forward: gy * (y > 0) if relu, else a copy of gy.

    Addition passes the gradient unchanged to both summands, so this one array is the gradient
    of x and of shortcut. The ReLU mask is read from the output y: y > 0 exactly where
    x + shortcut > 0.
    """
    if relu:
        return gy * (y > 0)
    return gy.copy()
