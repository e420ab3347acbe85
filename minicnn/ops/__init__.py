"""Differentiable ops, one family per file; each op is a Function with forward and backward.

This module also gives Tensor its operators and methods (``x + y``, ``x.sum()``, ...), each a
thin call of the public function in the family file.
"""

from minicnn.ops import _methods  # noqa: F401  (attaches Tensor methods)
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

__all__ = [
    "abs",
    "add",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "cat",
    "clamp",
    "cross_entropy",
    "div",
    "exp",
    "expand",
    "flatten",
    "getitem",
    "leaky_relu",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "mean",
    "min",
    "mse_loss",
    "mul",
    "neg",
    "nll_loss",
    "pad",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "view",
    "where",
]
