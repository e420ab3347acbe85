"""Batch normalisation with Numba on x viewed as (N, C, L); `prange` runs over the channels.

The advanced reading: the same kernels as plain loops are the direct twins in direct.py; read
those first.

Training forward and backward need per-channel sums over the M = N*L values of a channel, so
one prange iteration owns one channel: it makes its sums, then writes that channel's slice of
y or gx (and its entries of mean, invstd, ggamma, gbeta). The sums are accumulated in float64
whatever the input dtype. A strict (non-fastmath) scalar sum is one long dependency chain, so
each pass instead adds the channel's N rows of length L element-wise into a float64 row buffer
`acc` (L,), a loop LLVM vectorises, and sums that buffer once at the end. With L = 1 (inputs of
shape (N, C)) the same code degenerates to a plain scalar sum over N.

Evaluation needs no sums, so it runs prange over the N*C rows instead, for balance when C is
small. Two passes over x for the statistics (mean first, then the centred squares) keep the
variance accurate when |mean| >> std.

`python -m benchmarks.ops --backends numpy numba --only batch_norm` times the training forward
and backward against numpy_ref on ResNet-20's shapes; `python -m benchmarks.light_kernels`
times the evaluation forward and the running-statistics update against plain array code. On
(N, C) inputs with few values per channel the threads cost more than the sums they share.
"""

import numpy as np
from numba import njit, prange

from .jit import PARALLEL


@njit(cache=True)
def _channel_sum(a, c, acc):
    """Sum over n and l of a[n, c, l] in float64, through the row buffer acc (L,)."""
    N, L = a.shape[0], a.shape[2]
    acc[:] = 0.0
    for n in range(N):
        row = a[n, c]
        for l in range(L):
            acc[l] += row[l]
    return acc.sum()


@njit(cache=True, parallel=PARALLEL)
def _train_kernel(x, gamma, beta, eps, y, mean, invstd):
    """x (N, C, L) -> y (N, C, L), mean, invstd (C,), in place; biased variance."""
    N, C, L = x.shape
    M = N * L
    for c in prange(C):
        acc = np.empty(L, np.float64)
        m = _channel_sum(x, c, acc) / M
        acc[:] = 0.0
        for n in range(N):
            row = x[n, c]
            for l in range(L):
                d = row[l] - m
                acc[l] += d * d
        var = acc.sum() / M
        inv = 1.0 / np.sqrt(var + eps)
        scale = inv * gamma[c]
        shift = beta[c]
        for n in range(N):
            row = x[n, c]
            out = y[n, c]
            for l in range(L):
                out[l] = (row[l] - m) * scale + shift
        mean[c] = m
        invstd[c] = inv


@njit(cache=True, parallel=PARALLEL)
def _eval_kernel(x, running_mean, running_var, gamma, beta, eps, y):
    """x (N, C, L) -> y (N, C, L) with the running statistics, in place."""
    N, C, L = x.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        scale = gamma[c] / np.sqrt(np.float64(running_var[c]) + eps)
        m = np.float64(running_mean[c])
        shift = beta[c]
        row = x[n, c]
        out = y[n, c]
        for l in range(L):
            out[l] = (row[l] - m) * scale + shift


@njit(cache=True, parallel=PARALLEL)
def _backward_kernel(gy, x, gamma, mean, invstd, gx, ggamma, gbeta):
    """gy, x (N, C, L) -> gx (N, C, L), ggamma, gbeta (C,), in place: the formula of
    numpy_ref.batchnorm_backward, with the two channel sums made first."""
    N, C, L = x.shape
    M = N * L
    for c in prange(C):
        acc = np.empty(L, np.float64)
        m = np.float64(mean[c])
        inv = np.float64(invstd[c])
        sum_gy = _channel_sum(gy, c, acc)
        acc[:] = 0.0
        for n in range(N):
            grow = gy[n, c]
            xrow = x[n, c]
            for l in range(L):
                acc[l] += grow[l] * ((xrow[l] - m) * inv)
        sum_gy_xhat = acc.sum()
        k = gamma[c] * inv / M
        for n in range(N):
            grow = gy[n, c]
            xrow = x[n, c]
            out = gx[n, c]
            for l in range(L):
                xhat = (xrow[l] - m) * inv
                out[l] = k * (M * np.float64(grow[l]) - sum_gy - xhat * sum_gy_xhat)
        ggamma[c] = sum_gy_xhat
        gbeta[c] = sum_gy


def batchnorm_forward_train(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training batch norm x (N, C, L), gamma, beta (C,) -> (y (N, C, L), mean, invstd (C,))."""
    C = x.shape[1]
    y = np.empty(x.shape, dtype=x.dtype)
    mean = np.empty(C, dtype=x.dtype)
    invstd = np.empty(C, dtype=x.dtype)
    _train_kernel(x, gamma, beta, float(eps), y, mean, invstd)
    return y, mean, invstd


def batchnorm_forward_eval(
    x: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float,
) -> np.ndarray:
    """Inference batch norm x (N, C, L) with running statistics (C,) -> y (N, C, L)."""
    y = np.empty(x.shape, dtype=x.dtype)
    _eval_kernel(x, running_mean, running_var, gamma, beta, float(eps), y)
    return y


def batchnorm_backward(
    gy: np.ndarray, x: np.ndarray, gamma: np.ndarray, mean: np.ndarray, invstd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training batch norm gradient gy, x (N, C, L) -> (gx (N, C, L), ggamma (C,), gbeta (C,))."""
    C = gy.shape[1]
    gx = np.empty(gy.shape, dtype=gy.dtype)
    ggamma = np.empty(C, dtype=gy.dtype)
    gbeta = np.empty(C, dtype=gy.dtype)
    _backward_kernel(gy, x, gamma, mean, invstd, gx, ggamma, gbeta)
    return gx, ggamma, gbeta


@njit(cache=True)
def _update_running_kernel(
    running_mean, running_var, mean, invstd, momentum, eps, M, out_mean, out_var
):
    for c in range(running_mean.shape[0]):
        var = 1.0 / (invstd[c] * invstd[c]) - eps  # biased batch variance
        out_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean[c]
        out_var[c] = (1 - momentum) * running_var[c] + momentum * var * (M / (M - 1))


def batchnorm_update_running(
    running_mean: np.ndarray,
    running_var: np.ndarray,
    mean: np.ndarray,
    invstd: np.ndarray,
    momentum: float,
    eps: float,
    M: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Running statistics (C,) after a training batch -> (new_mean, new_var); a serial loop
    over channels (C is at most a few hundred: threads would cost more than they save)."""
    out_mean = np.empty_like(running_mean)
    out_var = np.empty_like(running_var)
    _update_running_kernel(
        running_mean,
        running_var,
        mean,
        invstd,
        float(momentum),
        float(eps),
        float(M),
        out_mean,
        out_var,
    )
    return out_mean, out_var
