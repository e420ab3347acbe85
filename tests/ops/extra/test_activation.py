"""gelu (both forms), elu, silu, prelu: forward against NumPy formulas, gradcheck on every
backend, and the erf behind GELU against math.erf."""

import math

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import away_from_zero, seeds, shapes

import minicnn
import minicnn.nn.functional as F
from minicnn import backend, nn
from minicnn.ops.extra.activation import erf

ERF = np.vectorize(math.erf)


def test_erf_matches_math_erf_to_float64_precision():
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1e-12, -1e-300, 5.99, 6.0, 1e3]])
    with backend.op_backend("numpy"):
        got = erf(x)
    assert np.abs(got - ERF(x)).max() < 2e-14


def ref_gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + ERF(x / math.sqrt(2)))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@settings(max_examples=examples(10))
@given(shape=shapes(), seed=seeds())
def test_gelu(backend_name, approximate, shape, seed):
    x = np.random.default_rng(seed).uniform(-4, 4, shape)
    check_op(lambda t: F.gelu(t, approximate), x, ref=lambda a: ref_gelu(a, approximate))
    y = nn.GELU(approximate)(minicnn.tensor(x.astype(np.float32)))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ref_gelu(x, approximate), rtol=1e-5, atol=1e-6)


@settings(max_examples=examples(10))
@given(shape=shapes(), seed=seeds(), alpha=st.sampled_from([1.0, 0.5, 2.0]))
def test_elu(backend_name, shape, seed, alpha):
    x = away_from_zero(seed, shape)  # the slope jumps at 0 unless alpha == 1
    ref = lambda a: np.where(a > 0, a, alpha * (np.exp(a) - 1))  # noqa: E731
    check_op(lambda t: F.elu(t, alpha), x, ref=ref)


@settings(max_examples=examples(10))
@given(shape=shapes(), seed=seeds())
def test_silu(backend_name, shape, seed):
    x = np.random.default_rng(seed).uniform(-6, 6, shape)
    check_op(F.silu, x, ref=lambda a: a / (1 + np.exp(-a)))
    check_op(nn.SiLU(), x)


@settings(max_examples=examples(10))
@given(shape=shapes(min_dims=2, max_dims=4), seed=seeds(), per_channel=st.booleans())
def test_prelu(backend_name, shape, seed, per_channel):
    x = away_from_zero(seed, shape)
    C = shape[1] if per_channel else 1
    w = np.random.default_rng(seed + 1).uniform(0.1, 0.5, C)
    wb = w.reshape([1, C] + [1] * (len(shape) - 2)) if per_channel else w
    check_op(F.prelu, x, w, ref=lambda a, b: np.where(a > 0, a, wb * a))


def test_prelu_layer_learns_its_slope(backend_name):
    layer = nn.PReLU(3, init=0.25)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = minicnn.tensor([[-1.0, 2.0, -3.0]])
    layer(x).sum().backward()
    assert layer.weight.grad.tolist() == [-1.0, 0.0, -3.0]
    with pytest.raises(
        ValueError, match=r"prelu: weight: expected 1 or 3 \(the input's channels\)"
    ):
        F.prelu(x, minicnn.ones(2))


def test_activation_errors(backend_name):
    with pytest.raises(ValueError, match="gelu: approximate: expected 'none' or 'tanh'"):
        F.gelu(minicnn.zeros(2), "erf")
    with pytest.raises(TypeError, match="elu: input: expected a floating-point Tensor"):
        F.elu(minicnn.tensor([1, 2]))


def test_inplace_flag_writes_into_the_input_outside_the_graph(backend_name):
    x = minicnn.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    y = minicnn.tensor([-1.0, 2.0], requires_grad=True) * 1
    out = nn.ReLU(inplace=True)(y)  # inside the graph: computed out of place
    assert out.tolist() == [0.0, 2.0] and y.tolist() == [-1.0, 2.0]
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
