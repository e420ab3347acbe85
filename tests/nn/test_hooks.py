"""Hooks: forward hooks and full backward hooks (what they see, replace and chain)."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from tests.conftest import to_numpy

from .nets import sample_input


def test_forward_hook():
    fc = nn.Linear(2, 2)
    seen = []
    handle = fc.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out.shape)))
    x = sample_input(3, 2)
    fc(x)
    assert seen == [(fc, (x,), (3, 2))]
    double = fc.register_forward_hook(lambda m, inputs, out: out * 2)
    y = fc(x)
    np.testing.assert_allclose(to_numpy(y), 2 * to_numpy(fc.forward(x)), rtol=1e-6)
    handle.remove()
    double.remove()
    fc(x)
    assert len(seen) == 2 and not fc._forward_hooks


class Blend(nn.Module):
    """a * w + b: two tensor inputs and a plain number."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(minicnn.tensor([2.0, -1.0], dtype="float64"))

    def forward(self, a, b, scale):
        return a * self.w * scale + b


def _leaf(*values):
    return minicnn.tensor(values, dtype="float64", requires_grad=True)


def test_full_backward_hook_sees_the_gradients_of_inputs_and_outputs():
    blend, calls = Blend(), []
    blend.register_full_backward_hook(lambda m, gi, go: calls.append((m, gi, go)))
    a, b = _leaf(1.0, 2.0), _leaf(3.0, 4.0)
    (blend(a, b, 3.0) * minicnn.tensor([5.0, 7.0], dtype="float64")).sum().backward()
    [(module, grad_input, grad_output)] = calls
    assert module is blend and len(grad_input) == 3 and len(grad_output) == 1
    np.testing.assert_array_equal(grad_output[0].numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(grad_input[0].numpy(), [30.0, -21.0])  # 3 w * gy
    np.testing.assert_array_equal(grad_input[1].numpy(), [5.0, 7.0])
    assert grad_input[2] is None  # not a tensor
    np.testing.assert_array_equal(a.grad.numpy(), grad_input[0].numpy())
    np.testing.assert_array_equal(blend.w.grad.numpy(), [15.0, 42.0])  # 3 a * gy


def test_full_backward_hook_replaces_grad_input_and_leaves_the_parameters_alone():
    blend = Blend()
    blend.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0, None, None))
    a, b = _leaf(1.0, 2.0), _leaf(3.0, 4.0)
    blend(a, b, 1.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    assert b.grad is None  # None: no gradient for that input
    np.testing.assert_array_equal(blend.w.grad.numpy(), [1.0, 2.0])


def test_full_backward_hook_of_a_first_layer_gets_none_for_itssample_input():
    conv = nn.Conv2d(1, 2, 3)
    calls = []
    conv.register_full_backward_hook(lambda m, gi, go: calls.append((gi, go[0].shape)))
    conv(sample_input(2, 1, 5, 5)).sum().backward()  # the image needs no gradient
    assert calls == [((None,), (2, 2, 3, 3))]
    assert conv.weight.grad is not None


def test_full_backward_hooks_chain_through_a_network():
    """Layer k's grad_output is layer k+1's grad_input; each call fires once per backward."""
    net = nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.Tanh(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2)
    )
    seen = {}
    for layer in net:
        layer.register_full_backward_hook(
            lambda m, gi, go: seen.setdefault(m, []).append((gi[0], go[0]))
        )
    x = sample_input(2, 1, 6, 6)
    x.requires_grad_()
    y = net(x)
    y.backward(minicnn.ones(2, 2))
    layers = list(net)
    assert all(len(seen[m]) == 1 for m in layers)
    np.testing.assert_array_equal(seen[layers[0]][0][0].numpy(), x.grad.numpy())
    np.testing.assert_array_equal(seen[layers[-1]][0][1].numpy(), np.ones((2, 2)))
    for before, after in zip(layers, layers[1:]):
        np.testing.assert_array_equal(seen[before][0][1].numpy(), seen[after][0][0].numpy())
    net(x).sum().backward()  # a second call, a second backward: one more each
    assert all(len(seen[m]) == 2 for m in layers)


def test_removing_a_full_backward_hook_and_no_grad():
    fc, calls = nn.Linear(2, 2), []
    handle = fc.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with minicnn.no_grad():
        assert fc(sample_input(3, 2)).grad_fn is None  # nothing recorded, nothing fenced
    handle.remove()
    fc(sample_input(3, 2)).sum().backward()
    assert calls == [] and not fc._backward_hooks


def test_a_full_backward_hook_that_returns_the_wrong_thing():
    x = _leaf(1.0, 2.0)
    for result, error, message in [
        ((x,), TypeError, r"hook: a full backward hook must return None or a tuple of 3"),
        ((x, "g", None), TypeError, r"hook: grad_input\[1\]: expected a Tensor or None, got str"),
        ((_leaf(1.0), None, None), ValueError, r"grad_input\[0\]: expected shape \(2,\)"),
        ((None, None, x), ValueError, r"grad_input\[2\]: this argument has no gradient"),
    ]:
        blend = Blend()
        blend.register_full_backward_hook(lambda m, gi, go, result=result: result)
        with pytest.raises(error, match=message):
            blend(_leaf(1.0, 2.0), _leaf(3.0, 4.0), 1.0).sum().backward()
    with pytest.raises(TypeError, match="hook: expected a callable, got NoneType"):
        Blend().register_full_backward_hook(None)
