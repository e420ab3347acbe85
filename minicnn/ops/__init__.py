"""Differentiable ops, one family per file; each op is a Function with forward and backward.

This module also gives Tensor its operators and methods (``x + y``, ``x.sum()``, ...), each a
thin call of the public function in the family file. The names imported here are the public
ops (pyproject.toml tells the linter that this module only re-exports).
"""

from minicnn.ops import _methods  # attaches Tensor methods
from minicnn.ops.elementwise import (
    abs,
    add,
    clamp,
    div,
    exp,
    leaky_relu,
    log,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from minicnn.ops.linalg import matmul
from minicnn.ops.loss import cross_entropy, log_softmax, mse_loss, nll_loss, softmax
from minicnn.ops.reduce import amax, amin, argmax, argmin, max, mean, min, std, sum, var
from minicnn.ops.shape import (
    cat,
    expand,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    view,
)
