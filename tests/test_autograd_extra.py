"""autograd.grad, set_grad_enabled, inference_mode and grad_fn.next_functions."""

import numpy as np
import pytest

import minicnn


def test_grad_returns_gradients_and_touches_no_grad_attribute(backend_name):
    x = minicnn.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    w = minicnn.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    y = (x * w).sum() + (x * x).sum()
    (gx,) = minicnn.autograd.grad(y, x, retain_graph=True)
    assert gx.tolist() == [5.0, 8.0] and x.grad is None and w.grad is None
    gx, gw = minicnn.autograd.grad([y], [x, w])
    assert gw.tolist() == [1.0, 2.0]
    h = x * 2  # a non-leaf input
    z = (h * h).sum()
    (gh,) = minicnn.autograd.grad(z, h)
    assert gh.tolist() == [4.0, 8.0]


def test_grad_with_grad_outputs_and_unused_inputs(backend_name):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    unused = minicnn.tensor([1.0], requires_grad=True)
    y = x * 3
    (g,) = minicnn.autograd.grad(y, x, grad_outputs=minicnn.tensor([1.0, 10.0]), retain_graph=True)
    assert g.tolist() == [3.0, 30.0]
    with pytest.raises(RuntimeError, match="inputs\\[1\\] was not used"):
        minicnn.autograd.grad(y.sum(), [x, unused], retain_graph=True)
    assert minicnn.autograd.grad(y.sum(), [x, unused], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="grad_outputs\\[0\\] can be omitted only"):
        minicnn.autograd.grad(y, x)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        minicnn.autograd.grad(y.sum(), x, create_graph=True)


def test_set_grad_enabled_as_call_and_context():
    x = minicnn.ones(1, requires_grad=True)
    with minicnn.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    for train in (True, False):
        with minicnn.set_grad_enabled(train):
            assert (x * 2).requires_grad is train
    minicnn.set_grad_enabled(False)
    try:
        assert not minicnn.is_grad_enabled()
    finally:
        minicnn.set_grad_enabled(True)
    with minicnn.inference_mode():
        assert not (x * 2).requires_grad

    @minicnn.inference_mode()
    def predict(t):
        return t * 2

    assert not predict(x).requires_grad


def test_next_functions_walk_the_graph():
    a = minicnn.tensor([1.0, 2.0], requires_grad=True)
    b = minicnn.tensor([3.0, 4.0])
    loss = (a * b).sum()
    ((mul, _),) = loss.grad_fn.next_functions
    assert type(mul).__name__ == "Mul"
    (acc, _), (none, _) = mul.next_functions
    assert acc.variable is a and acc.next_functions == () and none is None
    loss.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])
    with pytest.raises(RuntimeError, match="freed by backward"):
        _ = loss.grad_fn.next_functions
