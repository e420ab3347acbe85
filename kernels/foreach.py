"""The CPU backends' foreach kernels: their per-parameter kernels in a loop.

On a GPU a foreach kernel does a whole list of parameters in one launch (``cuda/optim.cu``),
where a launch per parameter costs more than the arithmetic of the smaller ones. On the CPU a
call costs microseconds, so the ``numpy`` and ``numba`` backends loop over the list with their
own ``sgd_update_`` or ``adam_update_``: each parameter gets the bits it gets alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def sgd_foreach_loop(sgd_update_: Callable[..., None]) -> Callable[..., None]:
    """``sgd_foreach_update_`` of a backend whose one-parameter step is ``sgd_update_``."""

    def sgd_foreach_update_(
        params: list[Any],
        grads: list[Any],
        bufs: list[Any] | None,
        lr: float,
        momentum: float,
        dampening: float,
        weight_decay: float,
        nesterov: bool,
        maximize: bool,
        first: bool,
    ) -> None:
        """``sgd_update_`` on each parameter of the list with the same hyperparameters:
        params[i] and bufs[i] (bufs None when momentum == 0) updated in place from grads[i]."""
        hyper = (lr, momentum, dampening, weight_decay, nesterov, maximize, first)
        for i, (p, grad) in enumerate(zip(params, grads, strict=True)):
            sgd_update_(p, grad, None if bufs is None else bufs[i], *hyper)

    return sgd_foreach_update_


def adam_foreach_loop(adam_update_: Callable[..., None]) -> Callable[..., None]:
    """``adam_foreach_update_`` of a backend whose one-parameter step is ``adam_update_``."""

    def adam_foreach_update_(
        params: list[Any],
        grads: list[Any],
        exp_avgs: list[Any],
        exp_avg_sqs: list[Any],
        max_exp_avg_sqs: list[Any] | None,
        lr: float,
        beta1: float,
        beta2: float,
        eps: float,
        weight_decay: float,
        decoupled: bool,
        maximize: bool,
        step: int,
    ) -> None:
        """``adam_update_`` on each parameter of the list, all at the same ``step``
        (max_exp_avg_sqs None without amsgrad)."""
        hyper = (lr, beta1, beta2, eps, weight_decay, decoupled, maximize, step)
        for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs, strict=True)):
            adam_update_(
                p, g, m, v, None if max_exp_avg_sqs is None else max_exp_avg_sqs[i], *hyper
            )

    return adam_foreach_update_
