"""One fused SGD step (with momentum, dampening, weight decay, Nesterov), in place.

Written with NumPy's in-place operators so it allocates only the temporary ``g``; the fast
backends do the same arithmetic in a single pass per element.
"""

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
