"""Coming from PyTorch: a script runs on minicnn with its imports changed,

    import minicnn as torch
    import minicnn.nn as nn
    import minicnn.nn.functional as F
    import minicnn.optim as optim
    from minicnn.utils.data import DataLoader, TensorDataset, random_split
    import minicnn.vision as torchvision
    from minicnn.vision import datasets, transforms

This module gathers the names that make that work beyond minicnn's core; ``minicnn``
re-exports all of them. ``tests/port/`` holds scripts written this way and the output PyTorch
printed for them, which minicnn must reproduce number by number.

Mapping
-------
- Devices are backends: ``device("cpu")`` is the host backend in use ("numba" or "numpy"),
  ``device("cuda")`` is "cupy" (:mod:`minicnn.device`). ``x.to(device)``, ``x.to(device,
  dtype)``, ``.cpu()``, ``.cuda()``, ``model.to(device)``, ``x.device``, ``x.is_cuda`` and
  ``device=`` on the factories work as in PyTorch; ``minicnn.cuda.is_available()``,
  ``minicnn.accelerator`` and ``minicnn.backends.cudnn`` / ``.mps`` answer as PyTorch's do
  (minicnn has no cuDNN, so ``cudnn.benchmark`` and ``.deterministic`` change nothing: its
  kernels are deterministic anyway; and no Metal backend).
- ``torch.utils.data`` is ``minicnn.utils.data`` (its DataLoader resumes exactly from
  ``state_dict()``); ``torchvision`` is ``minicnn.vision`` (``datasets.MNIST``,
  ``FashionMNIST``, ``CIFAR10``, per-item ``transforms``, ``models``).
- ``torch.save`` / ``torch.load`` are ``minicnn.save`` / ``minicnn.load``.
- Tensors: ``x.data`` is a detached tensor sharing memory, as PyTorch's; ``x.array`` is the
  raw NumPy or CuPy array. ``max(x, dim)`` / ``min(x, dim)`` return ``(values, indices)``,
  ``max(a, b)`` is elementwise, ``amax``/``amin`` reduce over several dims. In-place methods
  (``add_``, ``mul_``, ``zero_``, ``fill_``, ``copy_``, ``normal_``, ...) and ``w -= lr *
  w.grad`` under ``no_grad`` change the tensor itself, and refuse a leaf that requires grad
  while grad mode is on, as PyTorch does. ``f"{loss:.4f}"`` formats a 0-d tensor;
  ``argmax(axis=1)`` is accepted.
- dtypes: ``float32 float64 int64 int32 int16 int8 uint8 bool`` and the aliases ``float double
  long int short``.
- ``torch.compile(model)`` returns the model; ``torch.hub`` raises, saying what to do instead.

Known differences
-----------------
- dtypes are NumPy dtypes (``print(x.dtype)`` shows ``float32``, not ``torch.float32``;
  comparisons such as ``x.dtype == torch.float32`` work). Ops never mix float32 and float64
  silently: they raise (convert with ``.float()`` / ``.double()``); integer tensors meeting
  floats become float, as in PyTorch.
- minicnn records no in-place ops in the graph and has no version counters. ``y += x`` on a
  tensor inside the graph (``out += identity``) is computed out of place and rebinds ``y``
  (same values and gradients); ``y.add_(x)`` there raises. ``inplace=True`` (``nn.ReLU``,
  ``F.relu``, ``F.dropout``, ...) writes into the input outside the graph and computes out of
  place inside it. Changing in place an array that a recorded op saved is not detected.
- After ``backward()`` a graph's nodes are freed: ``grad_fn.next_functions`` raises there
  (walk it before, or pass ``retain_graph=True``). ``autograd.grad(create_graph=True)``
  (higher-order gradients) is not supported, and ``torch.autograd.Function`` with ``ctx`` is
  not minicnn's ``Function`` (forward and backward on raw arrays, state on ``self``).
- Random numbers come from minicnn's generators (``manual_seed``, ``minicnn.Generator``):
  the same seed gives other numbers than PyTorch's, so random initialisation, shuffling,
  dropout masks and random augmentation differ; deterministic computations agree to float
  rounding.
- ``DataLoader`` workers run in the calling process: ``num_workers > 0`` makes batches ahead
  in one background thread, with the same batches; ``pin_memory`` and
  ``persistent_workers`` are accepted and change nothing.
- Printing differs: ``tensor(3.5)`` for ``tensor(3.5000)``, shapes as tuples for
  ``torch.Size``, ``<Mul>`` for ``<MulBackward0 object at ...>``.
- Missing: sparse, complex and half-precision tensors, ``torch.sin``-style trigonometry,
  recurrent and attention layers, datasets beyond MNIST, Fashion-MNIST and CIFAR-10.
"""

from __future__ import annotations

import builtins as _builtins
from typing import Any

import numpy as _np

from minicnn import accelerator, backends, cuda, hub, return_types
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


def compile(model: Any = None, **kwargs: Any) -> Any:  # noqa: A001
    """``torch.compile``'s place: returns ``model`` as it is (minicnn has no compiler; the
    results are the same, as they are in PyTorch). Also works as a decorator."""
    if model is None:
        return lambda m: m
    return model


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
    "compile",
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
    "hub",
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
