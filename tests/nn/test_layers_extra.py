"""The layers added for PyTorch code: padding, Unflatten, activations with inplace, Upsample,
and clip_grad_norm_ / clip_grad_value_ / parameters_to_vector."""

import math

import numpy as np
import pytest

import minicnn
from minicnn import nn


def test_padding_and_unflatten_layers(backend_name):
    x = minicnn.ones(1, 1, 2, 3)
    y = nn.ZeroPad2d((1, 0, 2, 1))(x)  # (left, right, top, bottom), as PyTorch
    assert y.shape == (1, 1, 5, 4) and y.sum().item() == 6 and y[0, 0, 0].sum().item() == 0
    assert nn.ZeroPad2d(1)(x).shape == (1, 1, 4, 5)
    assert nn.ConstantPad2d(1, 2.0)(x).sum().item() == 6 + 2 * 14
    z = nn.Unflatten(1, (2, 3))(minicnn.zeros(4, 6))
    assert z.shape == (4, 2, 3)
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be a non-negative int"):
        nn.ZeroPad2d((1, 2))


def test_pytorch_style_constructor_arguments_are_accepted(backend_name):
    nets = [nn.ReLU(inplace=True), nn.LeakyReLU(0.2, inplace=True), nn.ELU(inplace=True),
            nn.SiLU(inplace=True), nn.Dropout(0.5, inplace=True), nn.GELU()]  # fmt: skip
    x = minicnn.tensor([-1.0, 0.5])
    for layer in nets:
        layer.eval()
        assert layer(x).shape == (2,)
    with pytest.raises(ValueError, match="ReLU: inplace must be a bool"):
        nn.ReLU(inplace="yes")


def test_clip_grad_norm_scales_every_gradient(backend_name):
    a = nn.Parameter(minicnn.zeros(2))
    b = nn.Parameter(minicnn.zeros(1))
    a.grad, b.grad = minicnn.tensor([3.0, 0.0]), minicnn.tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0) and total.ndim == 0
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0.8], rtol=1e-5)
    # below the limit nothing changes; the inf-norm is the largest |g|
    assert nn.utils.clip_grad_norm_([a, b], 10.0).item() == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_(a, 1.0, norm_type=math.inf).item() == pytest.approx(0.6)
    b.grad = minicnn.tensor([float("inf")])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        nn.utils.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vectors(backend_name):
    model = nn.Linear(2, 2)
    model(minicnn.ones(3, 2) * 10).sum().backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    assert all(np.abs(p.grad.numpy()).max() <= 0.5 for p in model.parameters())
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (6,)
    nn.utils.vector_to_parameters(minicnn.arange(6.0), model.parameters())
    assert model.weight.tolist() == [[0.0, 1.0], [2.0, 3.0]] and model.bias.tolist() == [4.0, 5.0]
    with pytest.raises(ValueError, match=r"vec: expected shape \(6,\)"):
        nn.utils.vector_to_parameters(minicnn.zeros(5), model.parameters())
