"""Fused optimizer steps, in place: each prange iteration owns one element of the parameter and
of its state (momentum buffer, or Adam's moments) and does the whole update in registers, one
pass over memory where NumPy's version makes up to nine (SGD) or fourteen (Adam).

The scalars of a step (1 - beta1, the bias corrections) come from numpy_ref's adam_scalars,
in Python floats, and are passed in the parameter's dtype, so both backends round alike."""

import numpy as np
from numba import njit, prange

from ..numpy_ref.optim import adam_scalars
from .jit import PARALLEL


@njit(cache=True, parallel=PARALLEL)
def _sgd_kernel(
    p, grad, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first, use_buf
):
    for i in prange(p.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:  # skipped, not added as 0 * p: 0 * inf would be NaN
            g = g + weight_decay * p[i]
        if use_buf:
            b = g if first else momentum * buf[i] + (1 - dampening) * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        p[i] = p[i] - lr * g


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
    """Update ``p`` and ``buf`` in place (see the contract in kernels/__init__.py)."""
    use_buf = momentum != 0
    flat_p = p.reshape(-1)  # a view, since p is contiguous
    flat_buf = buf.reshape(-1) if use_buf else flat_p
    flat_g = grad.reshape(-1)
    dt = p.dtype.type
    _sgd_kernel(
        flat_p,
        flat_g,
        flat_buf,
        dt(lr),
        dt(momentum),
        dt(dampening),
        dt(weight_decay),
        bool(nesterov),
        bool(maximize),
        bool(first),
        use_buf,
    )


@njit(cache=True, parallel=PARALLEL)
def _adam_kernel(p, grad, m, v, v_max, scalars, decay, decoupled, maximize, amsgrad):
    """scalars: numpy_ref.optim.adam_scalars in p's dtype; all arrays flat."""
    b1, c1, b2, c2, root_bc2, eps, step_size, wd, shrink = scalars
    for i in prange(p.size):
        g = -grad[i] if maximize else grad[i]
        if decay:
            if decoupled:
                p[i] = p[i] * shrink
            else:
                g = g + wd * p[i]
        mi = b1 * m[i] + c1 * g
        vi = b2 * v[i] + c2 * g * g
        m[i] = mi
        v[i] = vi
        if amsgrad:
            a = v_max[i]
            if a > vi or a != a:  # the larger, and NaN from either side, as np.maximum
                vi = a
            v_max[i] = vi
        p[i] = p[i] - step_size * mi / (np.sqrt(vi) / root_bc2 + eps)


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
    """Update ``p`` and its moments in place (see the contract in kernels/__init__.py)."""
    amsgrad = max_exp_avg_sq is not None
    v = exp_avg_sq.reshape(-1)
    scalars = np.array(adam_scalars(lr, beta1, beta2, eps, weight_decay, step), dtype=p.dtype)
    _adam_kernel(
        p.reshape(-1),
        grad.reshape(-1),
        exp_avg.reshape(-1),
        v,
        max_exp_avg_sq.reshape(-1) if amsgrad else v,
        scalars,
        weight_decay != 0,
        bool(decoupled),
        bool(maximize),
        amsgrad,
    )
