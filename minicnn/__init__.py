"""minicnn: a from-scratch convolutional-network framework with readable, hand-written kernels.

The public API lives here. Reading order: ``backend`` (the switch), ``tensor`` (Tensor and
backward), ``autograd`` (Function, no_grad), ``ops/`` (each op's forward and backward),
``gradcheck`` (the proof), then ``nn/`` and ``kernels/``.
"""

import os as _os

# OpenBLAS worker threads (behind NumPy's matmul, used by Linear) spin for a long while after
# each call and take the cores from the numba backend's parallel kernels; a short timeout lets
# them sleep. It only acts if set before NumPy loads OpenBLAS; an explicit setting wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from minicnn import ops  # noqa: E402
from minicnn.autograd import Function, enable_grad, is_grad_enabled, no_grad
from minicnn.backend import (
    BACKENDS,
    available_backends,
    get_backend,
    set_backend,
    unavailable_reason,
    use_backend,
)
from minicnn.check_graph import check_graph
from minicnn.creation import arange, full, ones, ones_like, rand, randn, zeros, zeros_like
from minicnn.gradcheck import GradcheckError, gradcheck
from minicnn.ops import (
    abs,
    add,
    amax,
    amin,
    argmax,
    argmin,
    cat,
    clamp,
    cross_entropy,
    div,
    exp,
    expand,
    flatten,
    leaky_relu,
    log,
    log_softmax,
    matmul,
    max,
    mean,
    min,
    mse_loss,
    mul,
    neg,
    nll_loss,
    pad,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    view,
    where,
)
from minicnn.random import get_rng_state, manual_seed, set_rng_state
from minicnn.serialization import load, save
from minicnn.summary import summary
from minicnn.tensor import (
    Tensor,
    bool_,
    float32,
    float64,
    int32,
    int64,
    tensor,
    uint8,
)

__version__ = "0.1.0"

# Subpackages, as torch.nn and torch.optim are reachable after "import torch"; then PyTorch's
# names beyond the core (minicnn/pytorch_names.py maps them all).
from minicnn import data, interop, models, nn, optim, transfer, utils  # noqa: E402
from minicnn.pytorch_names import *  # noqa: E402, F403
from minicnn.pytorch_names import __all__ as _pytorch_names
from minicnn.training import train_step  # noqa: E402

__all__ = [
    "BACKENDS",
    "Function",
    "GradcheckError",
    "Tensor",
    "__version__",
    "abs",
    "add",
    "amax",
    "amin",
    "arange",
    "argmax",
    "argmin",
    "available_backends",
    "bool_",
    "cat",
    "check_graph",
    "clamp",
    "cross_entropy",
    "data",
    "div",
    "enable_grad",
    "exp",
    "expand",
    "flatten",
    "float32",
    "float64",
    "full",
    "get_backend",
    "get_rng_state",
    "gradcheck",
    "int32",
    "int64",
    "interop",
    "is_grad_enabled",
    "leaky_relu",
    "load",
    "log",
    "log_softmax",
    "manual_seed",
    "matmul",
    "max",
    "mean",
    "min",
    "mse_loss",
    "models",
    "mul",
    "neg",
    "nn",
    "nll_loss",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "pad",
    "permute",
    "pow",
    "rand",
    "randn",
    "relu",
    "reshape",
    "save",
    "set_backend",
    "set_rng_state",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "summary",
    "tanh",
    "tensor",
    "train_step",
    "transfer",
    "transpose",
    "uint8",
    "unavailable_reason",
    "unsqueeze",
    "use_backend",
    "utils",
    "var",
    "view",
    "where",
    "zeros",
    "zeros_like",
]
__all__ += [n for n in _pytorch_names if n not in __all__]
