"""``minicnn.nn.functional`` (imported as ``F``): every op as a plain function, with PyTorch's
names and signatures. The ops themselves live in ``minicnn/ops`` (and ``minicnn/ops/extra``);
this module gathers them.

``inplace=True`` (``F.relu(x, inplace=True)``, ``F.dropout(..., inplace=True)``) writes the
result into ``x`` where no gradient is being recorded through ``x`` (evaluation, ``no_grad``),
as PyTorch does. Where one is, minicnn computes out of place (it does not record in-place
ops): the returned tensor holds the result and ``x`` keeps its values, so code that uses the
return value, as ``x = F.relu(x, inplace=True)`` does, gets PyTorch's numbers.
"""

from __future__ import annotations

from minicnn.ops import dropout as _dropout
from minicnn.ops import elementwise as _elementwise
from minicnn.ops.conv import conv2d
from minicnn.ops.elementwise import sigmoid, tanh
from minicnn.ops.extra.activation import elu, gelu, prelu, silu
from minicnn.ops.extra.conv_transpose import conv_transpose2d
from minicnn.ops.extra.inplace import inplace_result
from minicnn.ops.extra.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    l1_loss,
    one_hot,
    smooth_l1_loss,
)
from minicnn.ops.extra.norm import local_response_norm
from minicnn.ops.extra.resize import interpolate
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


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise (``inplace``: see the module doc)."""
    return inplace_result(input, _elementwise.relu(input), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise (``inplace``: see the module doc)."""
    return inplace_result(input, _elementwise.leaky_relu(input, negative_slope), inplace)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout of single elements (``inplace``: see the module doc)."""
    return inplace_result(input, _dropout.dropout(input, p, training), inplace)


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Inverted dropout of whole channels (``inplace``: see the module doc)."""
    return inplace_result(input, _dropout.dropout2d(input, p, training), inplace)


def upsample(input: Tensor, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: ANN001
    """The old name of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "flatten",
    "gelu",
    "interpolate",
    "l1_loss",
    "leaky_relu",
    "linear",
    "local_response_norm",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "prelu",
    "relu",
    "residual_add",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "tanh",
    "upsample",
]
