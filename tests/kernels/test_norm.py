"""Batch-norm kernels of the fast backends against numpy_ref: the training forward (y, mean,
invstd), the evaluation forward, the backward, and the running-statistics update, on short rows
(L = 1, as BatchNorm1d) and long ones with means far from 0."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from minicnn.kernels import numpy_ref as R
from strategies import kernel_batchnorm_cases

from .parity import RTOL


def check_batchnorm(fb, case, gx_terms: bool = False):
    x, gy, gamma, beta, eps, dt = (case[k] for k in ("x", "gy", "gamma", "beta", "eps", "dtype"))
    want = R.batchnorm_forward_train(x, gamma, beta, eps)
    got = fb.run("batchnorm_forward_train", x, gamma, beta, eps)
    for name, g, r in zip(("y", "mean", "invstd"), got, want, strict=True):
        fb.assert_close(g, r, dt, name)
    rm, rv = case["running_mean"], case["running_var"]
    fb.assert_close(
        fb.run("batchnorm_forward_eval", x, rm, rv, gamma, beta, eps),
        R.batchnorm_forward_eval(x, rm, rv, gamma, beta, eps),
        dt,
        "eval",
    )
    _, mean, invstd = want
    want = R.batchnorm_backward(gy, x, gamma, mean, invstd)
    got = fb.run("batchnorm_backward", gy, x, gamma, mean, invstd)
    if gx_terms:
        # gx is a difference of terms of size |gy * gamma * invstd|; with few values per
        # channel it can cancel to far less than that, so its tolerance is scaled to the terms.
        terms = float(np.abs(gy).max() * np.abs(gamma * invstd).max())
        err = np.abs(got[0].astype(np.float64) - want[0])
        assert err.max() <= RTOL[np.dtype(dt)] * terms, (err.max(), terms)
        assert got[0].dtype == want[0].dtype
        pairs = zip(("ggamma", "gbeta"), got[1:], want[1:], strict=True)
    else:
        pairs = zip(("gx", "ggamma", "gbeta"), got, want, strict=True)
    for name, g, r in pairs:
        fb.assert_close(g, r, dt, name)
    N, _, L = x.shape
    args = (rm, rv, mean, invstd, 0.1, eps, N * L + 1)
    got = fb.run("batchnorm_update_running", *args)
    for name, g, r in zip(("new_mean", "new_var"), got, R.batchnorm_update_running(*args)):
        fb.assert_close(g, r, dt, name)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=kernel_batchnorm_cases())
def test_batchnorm_parity(fast_backend, case):
    check_batchnorm(fast_backend, case)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=kernel_batchnorm_cases(long_rows=True))
def test_batchnorm_parity_long_rows_far_from_zero(fast_backend, case):
    check_batchnorm(fast_backend, case, gx_terms=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_update_running_matches_reference(fast_backend, dtype):
    rng = np.random.default_rng(1)
    args = [rng.random(7).astype(dtype) + 0.5 for _ in range(4)]
    ref = R.batchnorm_update_running(*args, 0.3, 1e-5, 50)
    out = fast_backend.run("batchnorm_update_running", *args, 0.3, 1e-5, 50)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    for a, b in zip(out, ref):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol)
