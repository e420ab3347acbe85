"""Optimizer steps in place: SGD (momentum, dampening, weight decay, Nesterov) and Adam/AdamW.

Written with NumPy's in-place operators, so they allocate only temporaries; the fast backends
do the same arithmetic in a single pass per element.
"""

import math

import numpy as np


def sgd_update_(
    p: np.ndarray,
    grad: np.ndarray,
    buf: np.ndarray | None,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    first: bool,
) -> None:
    """Update parameter ``p`` and momentum buffer ``buf`` (same shape) in place from ``grad``.

    g = (-grad if maximize else grad) + weight_decay * p
    buf = g (first step) or momentum * buf + (1 - dampening) * g
    g = g + momentum * buf (nesterov) or buf      [only when momentum != 0]
    p -= lr * g
    """
    g = -grad if maximize else grad.copy()
    if weight_decay != 0:
        g += weight_decay * p
    if momentum != 0:
        if first:
            buf[...] = g
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        if nesterov:
            g += momentum * buf
        else:
            g = buf
    p -= lr * g


def adam_update_(
    p: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
    maximize: bool,
    step: int,
) -> None:
    """Update ``p`` and its moments m = ``exp_avg``, v = ``exp_avg_sq`` (and v_max =
    ``max_exp_avg_sq``, None without amsgrad) in place from ``grad``, at step t = ``step`` >= 1.

    g = -grad if maximize else grad
    p = p * (1 - lr * weight_decay) (decoupled, AdamW)  or  g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v), which replaces v below      [only with amsgrad]
    p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """
    b1, c1, b2, c2, root_bc2, eps, step_size, wd, shrink = adam_scalars(
        lr, beta1, beta2, eps, weight_decay, step
    )
    g = -grad if maximize else grad
    if weight_decay != 0:  # skipped, not added as 0 * p: 0 * inf would be NaN
        if decoupled:
            p *= shrink
        else:
            g = g + wd * p
    exp_avg *= b1
    exp_avg += c1 * g
    exp_avg_sq *= b2
    exp_avg_sq += c2 * g * g
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        v = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    p -= step_size * exp_avg / (np.sqrt(v) / root_bc2 + eps)  # lr * m_hat / (sqrt(v_hat) + eps)


def adam_scalars(
    lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, step: int
) -> tuple[float, ...]:
    """The numbers an Adam step needs, in Python floats (every backend rounds them to the
    parameter's dtype alike): beta1, 1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2**step), eps,
    lr / (1 - beta1**step) (the step size with the bias correction of m), weight_decay and
    1 - lr * weight_decay (AdamW's shrink factor)."""
    return (beta1, 1 - beta1, beta2, 1 - beta2, math.sqrt(1 - beta2**step), eps,
            lr / (1 - beta1**step), weight_decay, 1 - lr * weight_decay)  # fmt: skip
