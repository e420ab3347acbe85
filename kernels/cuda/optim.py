"""Optimizer steps on the GPU: the launchers of ``optim.cu``'s fused SGD and Adam updates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..numpy_ref.optim import adam_scalars
from .launch import (
    THREADS,
    ctype,
    elementwise_grid,
    import_cupy,
    instantiations,
    launch,
)

if TYPE_CHECKING:
    import cupy

FILE = "optim.cu"
NAMES = tuple(
    instantiations("sgd_update_kernel")
    + instantiations("sgd_foreach_update_kernel")
    + instantiations("adam_update_kernel")
    + instantiations("adam_foreach_update_kernel")
)


def sgd_update_(
    p: cupy.ndarray,
    grad: cupy.ndarray,
    buf: cupy.ndarray | None,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    first: bool,
) -> None:
    """Update ``p`` and ``buf`` in place (see the contract in kernels/__init__.py)."""
    use_buf = momentum != 0
    T = p.dtype.type
    launch(
        FILE,
        NAMES,
        f"sgd_update_kernel<{ctype(p.dtype)}>",
        elementwise_grid(p.size),
        (THREADS,),
        (
            p,
            grad,
            buf if use_buf else p,
            np.int64(p.size),
            T(lr),
            T(momentum),
            T(dampening),
            T(weight_decay),
            np.int32(nesterov),
            np.int32(maximize),
            np.int32(first),
            np.int32(use_buf),
        ),
    )


def _address_table(who: str, *lists: list[cupy.ndarray]) -> tuple[cupy.ndarray | None, int]:
    """The foreach kernels' int64 table on the GPU: the address of every array of ``lists``
    (one list after another, each as long as the first, whose arrays give the sizes), then the
    offsets of those arrays in their concatenation (0, n0, n0 + n1, ...); and the total size.
    The table is copied asynchronously. Checks that all arrays share one dtype and that the
    arrays of each index have one size (the kernel trusts both)."""
    count = len(lists[0])
    sizes = np.fromiter((a.size for a in lists[0]), dtype=np.int64, count=count)
    total = int(sizes.sum())
    if total == 0:
        return None, 0
    arrays = [a for one_list in lists for a in one_list]
    dtype = arrays[0].dtype
    if len(arrays) != count * len(lists) or any(
        a.dtype != dtype or a.size != n for a, n in zip(arrays, np.tile(sizes, len(lists)))
    ):
        raise ValueError(f"{who}: expected lists of one length and dtype, sized alike per index")
    start = np.concatenate(([0], np.cumsum(sizes)))
    addresses = np.array([a.data.ptr for a in arrays], dtype=np.int64)
    return import_cupy().asarray(np.concatenate((addresses, start))), total


def sgd_foreach_update_(
    params: list[cupy.ndarray],
    grads: list[cupy.ndarray],
    bufs: list[cupy.ndarray] | None,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    first: bool,
) -> None:
    """Update every ``params[i]`` and ``bufs[i]`` in place, all in one launch (see the contract
    in kernels/__init__.py). The arrays must share one dtype and be contiguous (the optimizer
    checks both); their addresses go to the GPU as one int64 table, copied asynchronously."""
    use_buf = momentum != 0
    table, total = _address_table("sgd_foreach_update_", params, grads, bufs if use_buf else params)
    if total == 0:
        return
    dtype = params[0].dtype
    T = dtype.type
    launch(
        FILE,
        NAMES,
        f"sgd_foreach_update_kernel<{ctype(dtype)}>",
        elementwise_grid(total),
        (THREADS,),
        (
            table,
            np.int32(len(params)),
            T(lr),
            T(momentum),
            T(dampening),
            T(weight_decay),
            np.int32(nesterov),
            np.int32(maximize),
            np.int32(first),
            np.int32(use_buf),
        ),
    )


def adam_update_(
    p: cupy.ndarray,
    grad: cupy.ndarray,
    exp_avg: cupy.ndarray,
    exp_avg_sq: cupy.ndarray,
    max_exp_avg_sq: cupy.ndarray | None,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
    maximize: bool,
    step: int,
) -> None:
    """Update ``p`` and its moments in place (see the contract in kernels/__init__.py)."""
    amsgrad = max_exp_avg_sq is not None
    T = p.dtype.type
    scalars = adam_scalars(lr, beta1, beta2, eps, weight_decay, step)
    launch(
        FILE,
        NAMES,
        f"adam_update_kernel<{ctype(p.dtype)}>",
        elementwise_grid(p.size),
        (THREADS,),
        (
            p,
            grad,
            exp_avg,
            exp_avg_sq,
            max_exp_avg_sq if amsgrad else exp_avg_sq,
            np.int64(p.size),
            *(T(s) for s in scalars),
            np.int32(weight_decay != 0),
            np.int32(decoupled),
            np.int32(maximize),
            np.int32(amsgrad),
        ),
    )


def adam_foreach_update_(
    params: list[cupy.ndarray],
    grads: list[cupy.ndarray],
    exp_avgs: list[cupy.ndarray],
    exp_avg_sqs: list[cupy.ndarray],
    max_exp_avg_sqs: list[cupy.ndarray] | None,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
    maximize: bool,
    step: int,
) -> None:
    """``adam_update_`` on every parameter of the list, in one launch (see sgd_foreach_update_)."""
    amsgrad = max_exp_avg_sqs is not None
    lists = (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else exp_avg_sqs)
    table, total = _address_table("adam_foreach_update_", *lists)
    if total == 0:
        return
    T = params[0].dtype.type
    scalars = adam_scalars(lr, beta1, beta2, eps, weight_decay, step)
    launch(
        FILE,
        NAMES,
        f"adam_foreach_update_kernel<{ctype(params[0].dtype)}>",
        elementwise_grid(total),
        (THREADS,),
        (
            table,
            np.int32(len(params)),
            *(T(s) for s in scalars),
            np.int32(weight_decay != 0),
            np.int32(decoupled),
            np.int32(maximize),
            np.int32(amsgrad),
        ),
    )
