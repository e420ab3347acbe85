"""One fused SGD step, in place: each prange iteration owns one element of p and buf and does
the whole update (decay, momentum, Nesterov, step) in registers: one pass over memory where
NumPy's version makes up to nine."""

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
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
