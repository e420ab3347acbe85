"""The fused optimizer steps of the fast backends against numpy_ref's array code: SGD (momentum,
dampening, weight decay, Nesterov, maximize, the first step) and Adam (L2 or decoupled weight
decay, maximize, amsgrad, any step). Both update the parameter and its state in place and only
read the gradient; a NaN gradient makes its parameter NaN on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minicnn.kernels import numpy_ref as R
from strategies import DTYPES


def step(fb, name, state, grad, *args):
    """Kernel ``name`` on copies of ``state`` (the arrays it updates, ``None`` where skipped) on
    the backend; checks that grad is unchanged; returns the updated arrays on the host."""
    on_device = [None if a is None else fb.to_device(a.copy()) for a in state]
    g = fb.to_device(grad)
    fb.kernels[name](on_device[0], g, *on_device[1:], *args)
    np.testing.assert_array_equal(fb.to_host(g), grad)  # grad is only read
    return [None if a is None else fb.to_host(a) for a in on_device]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    DTYPES,
    st.lists(st.integers(0, 6), min_size=1, max_size=3),
    st.sampled_from([0.0, 0.9]),
    st.sampled_from([0.0, 0.1]),
    st.sampled_from([0.0, 1e-2]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_sgd_update_parity(
    fast_backend, dtype, shape, momentum, dampening, weight_decay, nesterov, maximize, first, seed
):
    nesterov = nesterov and momentum > 0 and dampening == 0
    rng = np.random.default_rng(seed)
    p, grad, buf = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    grad.reshape(-1)[:1] = np.nan  # a NaN gradient makes its parameter NaN, on both
    args = (0.1, momentum, dampening, weight_decay, nesterov, maximize, first)
    got = step(fast_backend, "sgd_update_", [p, buf if momentum else None], grad, *args)
    R.sgd_update_(p, grad, buf if momentum else None, *args)
    fast_backend.assert_close(got[0], p, dtype, "p")
    if momentum:
        fast_backend.assert_close(got[1], buf, dtype, "buf")


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    DTYPES,
    st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=2), min_size=1, max_size=5),
    st.sampled_from([0.0, 0.9]),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_sgd_foreach_update_parity(fast_backend, dtype, shapes, momentum, nesterov, first, seed):
    """A list of parameters in one call: each gets the bits of its own sgd_update_ on the same
    backend (one launch on a GPU: the offsets of every list element are found right), and
    numpy_ref's numbers."""
    fb = fast_backend
    rng = np.random.default_rng(seed)
    ps, gs, bs = ([rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(3))
    args = (0.1, momentum, 0.0, 1e-2, nesterov and momentum > 0, False, first)
    on = [[fb.to_device(a.copy()) for a in arrays] for arrays in (ps, gs, bs)]
    fb.kernels["sgd_foreach_update_"](on[0], on[1], on[2] if momentum else None, *args)
    for p, g, b, p_on, b_on in zip(ps, gs, bs, on[0], on[2]):
        alone = step(fb, "sgd_update_", [p, b if momentum else None], g, *args)
        np.testing.assert_array_equal(fb.to_host(p_on), alone[0])
        R.sgd_update_(p, g, b if momentum else None, *args)
        fb.assert_close(alone[0], p, dtype, "p")
        if momentum:
            np.testing.assert_array_equal(fb.to_host(b_on), alone[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("momentum", "dampening", "weight_decay", "nesterov", "maximize"),
    [(0.0, 0.0, 0.0, False, False), (0.9, 0.0, 5e-4, True, False), (0.5, 0.3, 0.1, False, True)],
)
def test_sgd_update_over_three_steps(
    fast_backend, dtype, momentum, dampening, weight_decay, nesterov, maximize
):
    fb = fast_backend
    rng = np.random.default_rng(0)
    p = rng.standard_normal((3, 4, 5)).astype(dtype)
    buf = np.zeros_like(p)
    p_fast, buf_fast = fb.to_device(p.copy()), fb.to_device(buf.copy())
    for t in range(3):
        g = rng.standard_normal(p.shape).astype(dtype)
        args = (0.1, momentum, dampening, weight_decay, nesterov, maximize, t == 0)
        R.sgd_update_(p, g, buf if momentum else None, *args)
        fb.kernels["sgd_update_"](p_fast, fb.to_device(g), buf_fast if momentum else None, *args)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fb.to_host(p_fast), p, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(fb.to_host(buf_fast), buf, rtol=rtol, atol=rtol)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    DTYPES,
    st.lists(st.integers(0, 6), min_size=1, max_size=3),
    st.sampled_from([0.0, 1e-2]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
)
def test_adam_update_parity(
    fast_backend, dtype, shape, weight_decay, decoupled, maximize, amsgrad, t, seed
):
    rng = np.random.default_rng(seed)
    p, grad, m = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    v, v_max = (np.abs(rng.standard_normal(shape)).astype(dtype) for _ in range(2))
    grad.reshape(-1)[:1] = np.nan  # a NaN gradient makes its parameter NaN, on both
    args = (1e-2, 0.9, 0.999, 1e-8, weight_decay, decoupled, maximize, t)
    state = [p, m, v, v_max if amsgrad else None]
    got = step(fast_backend, "adam_update_", state, grad, *args)
    R.adam_update_(p, grad, m, v, v_max if amsgrad else None, *args)
    for name, g, want in zip(("p", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), got, state):
        if want is not None:
            fast_backend.assert_close(g, want, dtype, name)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    DTYPES,
    st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=2), min_size=1, max_size=5),
    st.booleans(),
    st.booleans(),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
)
def test_adam_foreach_update_parity(fast_backend, dtype, shapes, decoupled, amsgrad, t, seed):
    """A list of parameters in one call: each gets the bits of its own adam_update_."""
    fb = fast_backend
    rng = np.random.default_rng(seed)
    lists = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(3)]
    lists += [[np.abs(rng.standard_normal(s)).astype(dtype) for s in shapes] for _ in range(2)]
    args = (1e-2, 0.9, 0.999, 1e-8, 1e-2, decoupled, False, t)
    on = [[fb.to_device(a.copy()) for a in arrays] for arrays in lists]
    fb.kernels["adam_foreach_update_"](*on[:4], on[4] if amsgrad else None, *args)
    for i, (p, g, m, v, v_max) in enumerate(zip(*lists)):
        state = [p, m, v, v_max if amsgrad else None]
        alone = step(fb, "adam_update_", state, g, *args)
        for k, want in zip((0, 2, 3, 4), alone):
            if want is not None:
                np.testing.assert_array_equal(fb.to_host(on[k][i]), want)
