"""No kernel ever sees a wrong size: every kernel-backed op and optimizer checks the shapes and
dtypes of what its kernel reads and writes, once, at its boundary.

Each case hands one op or optimizer one mismatched array and expects a ValueError whose message
names the argument, what was expected and what came, raised before any kernel is even looked
up (``backend.kernel`` is replaced by a function that fails the test), and with nothing changed.
A compiled kernel has no bounds checks: before these checks, the Numba SGD step given a
gradient of 10 elements for a parameter of 1,000 read 990 values from outside the gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import as_tensor, host

import minicnn
import minicnn.nn.functional as F
from minicnn import optim


def _t(*shape: int, dtype=np.float64, requires_grad: bool = False) -> minicnn.Tensor:
    data = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    return as_tensor(data, requires_grad=requires_grad)


def _no_kernel(name, *args, **kwargs):
    raise AssertionError(f"kernel {name!r} was looked up before the arguments were checked")


# op name -> (call, regex of the message: argument, expected, got)
OP_CASES = {
    "conv2d weight of another dtype": (
        lambda: F.conv2d(_t(2, 3, 6, 6), _t(4, 3, 3, 3, dtype=np.float32)),
        r"conv2d: weight: expected dtype float64 \(that of input\), got float32",
    ),
    "conv2d bias of the wrong size": (
        lambda: F.conv2d(_t(2, 3, 6, 6), _t(4, 3, 3, 3), _t(3)),
        r"conv2d: bias: expected shape \(4,\), got \(3,\)",
    ),
    "conv2d bias of another dtype": (
        lambda: F.conv2d(_t(2, 3, 6, 6), _t(4, 3, 3, 3), _t(4, dtype=np.float32)),
        r"conv2d: bias: expected dtype float64 \(that of input\), got float32",
    ),
    "conv2d weight with the wrong channels": (
        lambda: F.conv2d(_t(2, 3, 6, 6), _t(4, 2, 3, 3)),
        r"conv2d: weight: expected 3 // 1 = 3 input channels per group .* got weight of shape",
    ),
    "conv2d zero channels": (
        lambda: F.conv2d(_t(2, 0, 6, 6), _t(4, 0, 3, 3)),
        r"conv2d: input and weight: expected non-zero channels.* got input of shape \(2, 0, 6, 6\)",
    ),
    "max_pool2d integer input": (
        lambda: F.max_pool2d(minicnn.tensor(np.ones((1, 1, 4, 4), np.int64)), 2),
        r"max_pool2d: input: expected a floating-point tensor, got int64",
    ),
    "max_pool2d zero width": (
        lambda: F.max_pool2d(_t(1, 2, 4, 0), 2),
        r"max_pool2d: input: expected non-zero channels, height and width .* got shape \(1, 2, 4, 0\)",
    ),
    "avg_pool2d zero channels": (
        lambda: F.avg_pool2d(_t(1, 0, 4, 4), 2),
        r"avg_pool2d: input: expected non-zero channels.* got shape \(1, 0, 4, 4\)",
    ),
    "adaptive_max_pool2d zero height": (
        lambda: F.adaptive_max_pool2d(_t(1, 2, 0, 4), 2),
        r"adaptive_max_pool2d: input: expected non-zero.* got shape \(1, 2, 0, 4\)",
    ),
    "adaptive_avg_pool2d integer input": (
        lambda: F.adaptive_avg_pool2d(minicnn.tensor(np.ones((1, 1, 4, 4), np.int32)), 2),
        r"adaptive_avg_pool2d: input: expected a floating-point tensor, got int32",
    ),
    "batch_norm running_mean of the wrong size": (
        lambda: F.batch_norm(_t(4, 3, 2, 2), _t(5), _t(3), training=True),
        r"batch_norm: running_mean: expected shape \(3,\), got \(5,\)",
    ),
    "batch_norm running_var of another dtype (training)": (
        lambda: F.batch_norm(_t(4, 3), _t(3), _t(3, dtype=np.float32), training=True),
        r"batch_norm: running_var: expected dtype float64 \(that of input\), got float32",
    ),
    "batch_norm weight of the wrong size": (
        lambda: F.batch_norm(_t(4, 3), None, None, _t(2), training=True),
        r"batch_norm: weight: expected shape \(3,\), got \(2,\)",
    ),
    "batch_norm bias of another dtype": (
        lambda: F.batch_norm(_t(4, 3), _t(3), _t(3), None, _t(3, dtype=np.float32)),
        r"batch_norm: bias: expected dtype float64 \(that of input\), got float32",
    ),
    "residual_add shortcut of another shape": (
        lambda: F.residual_add(_t(2, 4, 3, 3), _t(2, 4, 3, 2)),
        r"residual_add: shortcut: expected the shape of x \(2, 4, 3, 3\), got \(2, 4, 3, 2\)",
    ),
    "residual_add shortcut of another dtype": (
        lambda: F.residual_add(_t(2, 4), _t(2, 4, dtype=np.float32)),
        r"residual_add: shortcut: expected dtype float64 \(that of x\), got float32",
    ),
    "residual_add integer x": (
        lambda: F.residual_add(minicnn.tensor(np.ones((2, 2), np.int64)), _t(2, 2)),
        r"residual_add: x: expected a floating-point tensor, got int64",
    ),
    "dropout integer input": (
        lambda: F.dropout(minicnn.tensor(np.ones((2, 2), np.int64)), 0.5),
        r"dropout: input: expected a floating-point tensor, got int64",
    ),
}


@pytest.mark.parametrize("case", list(OP_CASES))
def test_op_checks_every_array_before_any_kernel(backend_name, monkeypatch, case):
    call, match = OP_CASES[case]
    monkeypatch.setattr(minicnn.backend, "kernel", _no_kernel)
    with pytest.raises(ValueError, match=match):
        call()


def test_backward_gradient_of_the_wrong_shape_never_reaches_a_kernel(backend_name):
    x = _t(2, 3, 6, 6, requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, _t(4, 3, 3, 3)), 2)  # (2, 4, 2, 2)
    with pytest.raises(ValueError, match=r"gradient: expected shape \(2, 4, 2, 2\), got"):
        y.backward(_t(2, 4, 2, 3))
    assert x.grad is None


def _params() -> minicnn.Tensor:
    return _t(1000, requires_grad=True)


OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1),
    "AdamW amsgrad": lambda ps: optim.AdamW(ps, lr=0.1, amsgrad=True),
}
OPTIMIZER_NAMES = {
    "SGD": "SGD",
    "SGD momentum": "SGD",
    "Adam": "Adam",
    "AdamW amsgrad": "AdamW",
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize(
    "grad, match",
    [
        (lambda: _t(10), r"grad: expected shape \(1000,\), got \(10,\)"),
        (lambda: _t(1, 1000), r"grad: expected shape \(1000,\), got \(1, 1000\)"),
        (lambda: _t(1), r"grad: expected shape \(1000,\), got \(1,\)"),  # would broadcast
        (
            lambda: _t(1000, dtype=np.float32),
            r"grad: expected dtype float64 \(that of the parameter of shape \(1000,\)\), "
            r"got float32; float32 and float64 never mix silently",
        ),
    ],
    ids=["10 of 1000", "2-D", "one element", "float32"],
)
def test_optimizer_checks_the_gradient_before_any_kernel(
    backend_name, monkeypatch, name, grad, match
):
    p = _params()
    before = host(p).copy()
    opt = OPTIMIZERS[name]([p])
    p.grad = grad()
    monkeypatch.setattr(minicnn.backend, "kernel", _no_kernel)
    with pytest.raises(ValueError, match=rf"{OPTIMIZER_NAMES[name]}: {match}"):
        opt.step()
    np.testing.assert_array_equal(host(p), before)


@pytest.mark.parametrize("name", ["SGD momentum", "Adam", "AdamW amsgrad"])
def test_optimizer_checks_its_state_against_a_reshaped_parameter(backend_name, name):
    p = _params()
    opt = OPTIMIZERS[name]([p])
    p.grad = _t(1000)
    opt.step()  # the state (momentum buffer, moving averages) is now (1000,)
    p.data = _t(10)  # the parameter is replaced by one of another size
    p.grad = _t(10)
    with pytest.raises(ValueError, match=r"expected shape \(10,\), got \(1000,\)"):
        opt.step()


def test_numba_sgd_with_a_short_gradient_reads_nothing_outside_it():
    """The case that read memory outside the gradient array: it now fails before the kernel."""
    if minicnn.unavailable_reason("numba") is not None:
        pytest.skip("needs the numba backend")
    with minicnn.use_backend("numba"):
        p = minicnn.zeros(1000, requires_grad=True)
        opt = optim.SGD([p], lr=1.0)
        p.grad = minicnn.ones(10)
        with pytest.raises(ValueError, match=r"SGD: grad: expected shape \(1000,\), got \(10,\)"):
            opt.step()
    assert not host(p).any()


def test_optimizer_step_makes_a_strided_parameter_contiguous(backend_name):
    """A parameter whose array is a strided view is updated like a contiguous one (the fused
    kernels write in place through flat views)."""
    base = _t(6, 4)
    p = as_tensor(np.zeros((4, 6)), requires_grad=True)
    p.data = base.data.T  # a transposed view: not C-contiguous
    expected = host(base).T - 0.5 * 2.0
    opt = optim.SGD([p], lr=0.5)
    p.grad = as_tensor(np.full((4, 6), 2.0))
    opt.step()
    np.testing.assert_allclose(host(p), expected, rtol=1e-12)
