"""Batch normalisation on x viewed as (N, C, L).

The caller reshapes (N, C) inputs to (N, C, 1) and (N, C, H, W) inputs to (N, C, H*W), so one
set of kernels serves BatchNorm1d and BatchNorm2d. Statistics are per channel, over the M = N*L
values of that channel.
"""

import numpy as np


def _per_channel(v: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C, 1), to broadcast against x (N, C, L)."""
    return v.reshape(1, -1, 1)


def batchnorm_forward_train(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training batch norm x (N, C, L), gamma, beta (C,) -> (y (N, C, L), mean (C,), invstd (C,)).

    mean and the biased variance var are taken over (N, L); invstd = 1 / sqrt(var + eps);
    y = (x - mean) * invstd * gamma + beta. mean and invstd are kept for the backward pass.
    """
    mean = x.mean(axis=(0, 2))  # (C,)
    xc = x - _per_channel(mean)  # (N, C, L)
    var = (xc * xc).mean(axis=(0, 2))  # (C,), biased: divides by M, not M - 1
    invstd = 1.0 / np.sqrt(var + eps)  # (C,)
    y = xc * _per_channel(invstd * gamma) + _per_channel(beta)
    return y, mean, invstd


def batchnorm_forward_eval(
    x: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float,
) -> np.ndarray:
    """Inference batch norm x (N, C, L) with running statistics (C,) -> y (N, C, L).

    y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
    """
    scale = gamma / np.sqrt(running_var + eps)  # (C,)
    return (x - _per_channel(running_mean)) * _per_channel(scale) + _per_channel(beta)


def batchnorm_backward(
    gy: np.ndarray, x: np.ndarray, gamma: np.ndarray, mean: np.ndarray, invstd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training batch norm gradient gy, x (N, C, L) -> (gx (N, C, L), ggamma (C,), gbeta (C,)).

    With M = N*L and xhat = (x - mean) * invstd:
    gbeta = sum gy, ggamma = sum gy * xhat (sums over N and L), and
    gx = gamma * invstd / M * (M * gy - gbeta - xhat * ggamma).
    The two subtracted terms are the gradient flowing through mean and through invstd, both of
    which depend on every x of the channel.
    """
    N, C, L = x.shape
    M = N * L
    xhat = (x - _per_channel(mean)) * _per_channel(invstd)  # (N, C, L)
    gbeta = gy.sum(axis=(0, 2))  # (C,)
    ggamma = (gy * xhat).sum(axis=(0, 2))  # (C,)
    gx = _per_channel(gamma * invstd / M) * (
        M * gy - _per_channel(gbeta) - xhat * _per_channel(ggamma)
    )
    return gx, ggamma, gbeta


def batchnorm_update_running(
    running_mean: np.ndarray,
    running_var: np.ndarray,
    mean: np.ndarray,
    invstd: np.ndarray,
    momentum: float,
    eps: float,
    M: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Running statistics (C,) after a training batch -> (new_mean (C,), new_var (C,)).

    The batch's biased variance is 1 / invstd**2 - eps; the running variance tracks the
    unbiased one, var * M / (M - 1). Both move by an exponential average with ``momentum``.
    """
    var = 1.0 / (invstd * invstd) - eps  # (C,) biased batch variance
    unbiased = var * (M / (M - 1))
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * unbiased
    return new_mean.astype(running_mean.dtype), new_var.astype(running_var.dtype)
