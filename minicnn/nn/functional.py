"""``minicnn.nn.functional`` (imported as ``F``): every op as a plain function, with PyTorch's
names and signatures. The ops themselves live in ``minicnn/ops``; this module gathers them.
"""

from __future__ import annotations

from minicnn.ops.conv import conv2d
from minicnn.ops.dropout import dropout, dropout2d
from minicnn.ops.elementwise import leaky_relu, relu, sigmoid, tanh
from minicnn.ops.linalg import linear
from minicnn.ops.loss import cross_entropy, log_softmax, mse_loss, nll_loss, softmax
from minicnn.ops.norm import batch_norm
from minicnn.ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)
from minicnn.ops.residual import residual_add
from minicnn.ops.shape import flatten as _flatten
from minicnn.ops.shape import pad
from minicnn.tensor import Tensor


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim`` .. ``end_dim``; unlike ``minicnn.flatten`` it keeps the batch
    axis by default (``start_dim=1``), as ``nn.Flatten`` does."""
    return _flatten(input, start_dim, end_dim)


__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "batch_norm",
    "conv2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "flatten",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "pad",
    "relu",
    "residual_add",
    "sigmoid",
    "softmax",
    "tanh",
]
