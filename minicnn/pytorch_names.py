"""Coming from PyTorch: a script runs on minicnn with its imports changed,

    import minicnn as torch
    import minicnn.nn as nn
    import minicnn.nn.functional as F
    import minicnn.optim as optim
    from minicnn.utils.data import DataLoader, TensorDataset, random_split
    import minicnn.vision as torchvision
    from minicnn.vision import datasets, transforms

This module gathers the names that make that work beyond minicnn's core; ``minicnn``
re-exports all of them.

Mapping
-------
- Devices are backends: ``device("cpu")`` is the host backend in use ("numba" or "numpy"),
  ``device("cuda")`` is "cupy" (:mod:`minicnn.device`). ``x.to(device)``, ``.cpu()``,
  ``.cuda()``, ``model.to(device)``, ``x.device``, ``x.is_cuda`` and ``device=`` on the
  factories work as in PyTorch; ``minicnn.cuda.is_available()``, ``minicnn.accelerator`` and
  ``minicnn.backends.cudnn`` / ``.mps`` answer as PyTorch's do (minicnn has no cuDNN and no
  Metal backend).
- ``torch.utils.data`` is ``minicnn.utils.data``; ``torchvision`` is ``minicnn.vision``
  (datasets ``MNIST``, ``FashionMNIST``, ``CIFAR10``; per-item ``transforms``; ``models``).
- ``torch.save`` / ``torch.load`` are ``minicnn.save`` / ``minicnn.load``.
- Tensors: ``x.data`` is a detached tensor sharing memory (as PyTorch), ``x.array`` the raw
  NumPy or CuPy array. ``max(x, dim)`` returns ``(values, indices)``, ``max(a, b)`` is
  elementwise; in-place methods (``add_``, ``zero_``, ``w -= lr * w.grad`` under ``no_grad``)
  keep the tensor object; ``f"{loss:.4f}"`` formats a 0-d tensor.
- dtypes: ``float32 float64 int64 int32 uint8 bool`` and PyTorch's aliases ``float double
  long int short bool``; they are NumPy dtypes (``x.dtype`` prints ``float32``, not
  ``torch.float32``).

Known differences
-----------------
- No version counters: changing in place an array that a recorded op saved for its backward
  is not detected. In-place methods on tensors inside the graph raise (write ``y = y + x``);
  ``y += x`` on such a tensor is computed out of place and rebinds ``y``.
- ``inplace=True`` (``nn.ReLU(inplace=True)``, ``F.relu(x, inplace=True)``) is accepted and
  computed out of place: the returned tensor is right, the input is not modified.
- Ops never promote between float32 and float64 silently (they raise; convert with
  ``.float()`` / ``.double()``); integer tensors meeting floats become float, as in PyTorch.
- ``DataLoader`` workers run in the calling process (``num_workers`` is accepted; batches
  are made in one background thread when it is > 0); results do not depend on it.
- Random numbers come from minicnn's generators (``manual_seed``): the same seed gives
  different numbers than PyTorch's. ``generator=`` objects are not supported.
- ``torch.autograd.Function`` with ``ctx`` is not minicnn's ``Function`` (forward and backward
  on raw arrays, state on ``self``); ``create_graph=True`` (higher-order gradients) is not
  supported.
- Printing differs: ``tensor(3.5)`` for PyTorch's ``tensor(3.5000)``, ``<Mul>`` for
  ``<MulBackward0 object at ...>``, ``float32`` for ``torch.float32``.
"""

from __future__ import annotations

import builtins as _builtins

import numpy as _np

from minicnn import accelerator, backends, cuda, return_types
from minicnn.autograd_extra import inference_mode, set_grad_enabled
from minicnn.device import device
from minicnn.factories import (
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full_like,
    linspace,
    normal,
    rand_like,
    randint,
    randn_like,
    randperm,
    tensor,
)
from minicnn.generator import Generator
from minicnn.ops.extra import _methods  # noqa: F401  (attaches the Tensor methods)
from minicnn.ops.extra.activation import elu, gelu, silu
from minicnn.ops.extra.compare import (
    all,
    allclose,
    any,
    eq,
    equal,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    lt,
    maximum,
    minimum,
    ne,
)
from minicnn.ops.extra.indexing import (
    argsort,
    gather,
    masked_fill,
    sort,
    take_along_dim,
    topk,
    unique,
)
from minicnn.ops.extra.linalg import bmm, einsum, mm
from minicnn.ops.extra.shape import chunk, clone, flip, split, t, unbind, unflatten
from minicnn.tensor import Tensor
from minicnn.threads import get_num_threads, set_num_threads

float = _np.dtype(_np.float32)  # noqa: A001
float32 = float
double = float64 = _np.dtype(_np.float64)
long = int64 = _np.dtype(_np.int64)
int = int32 = _np.dtype(_np.int32)  # noqa: A001
short = int16 = _np.dtype(_np.int16)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)  # noqa: A001


def is_tensor(obj: object) -> _builtins.bool:
    """True for a minicnn Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> _builtins.bool:
    """True when ``input`` has a floating-point dtype."""
    return input.dtype.kind == "f"


def numel(input: Tensor) -> _builtins.int:
    """The number of elements of ``input``."""
    return input.numel()


Tensor.is_floating_point = is_floating_point  # type: ignore[attr-defined]

__all__ = [
    "Generator",
    "Tensor",
    "accelerator",
    "all",
    "allclose",
    "any",
    "argsort",
    "as_tensor",
    "backends",
    "bmm",
    "bool",
    "chunk",
    "clone",
    "cuda",
    "device",
    "double",
    "einsum",
    "elu",
    "empty",
    "empty_like",
    "eq",
    "equal",
    "eye",
    "flip",
    "float",
    "float32",
    "float64",
    "from_numpy",
    "full_like",
    "gather",
    "ge",
    "gelu",
    "get_num_threads",
    "gt",
    "inference_mode",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_floating_point",
    "is_tensor",
    "isfinite",
    "isinf",
    "isnan",
    "le",
    "linspace",
    "long",
    "lt",
    "masked_fill",
    "maximum",
    "minimum",
    "mm",
    "ne",
    "normal",
    "numel",
    "rand_like",
    "randint",
    "randn_like",
    "randperm",
    "return_types",
    "set_grad_enabled",
    "set_num_threads",
    "short",
    "silu",
    "sort",
    "split",
    "t",
    "take_along_dim",
    "tensor",
    "topk",
    "uint8",
    "unbind",
    "unflatten",
    "unique",
]
