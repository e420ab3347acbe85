"""l1, smooth l1 and the binary cross-entropies: forward against NumPy formulas, gradcheck in
input and target, PyTorch's edge values; one_hot."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import seeds, shapes

import minicnn
import minicnn.nn.functional as F
from minicnn import nn

REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=examples(10))
@given(shape=shapes(min_dims=1), seed=seeds(), beta=st.sampled_from([0.0, 0.5, 1.0]))
def test_l1_and_smooth_l1(backend_name, reduction, shape, seed, beta):
    rng = np.random.default_rng(seed)
    x, t = rng.uniform(-2, 2, shape), rng.uniform(-2, 2, shape)
    d = np.abs(x - t)
    if beta:  # keep |d| away from beta, where the formula switches
        x = np.where(np.abs(d - beta) < 0.05, x + 0.2, x)
        d = np.abs(x - t)
    r = REDUCE[reduction]
    check_op(lambda a, b: F.l1_loss(a, b, reduction), x, t, ref=lambda a, b: r(np.abs(a - b)))
    smooth = np.where(d < beta, 0.5 * d**2 / beta if beta else 0, d - 0.5 * beta)
    check_op(lambda a, b: F.smooth_l1_loss(a, b, reduction, beta), x, t, ref=lambda a, b: r(smooth))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=examples(10))
@given(shape=shapes(min_dims=1), seed=seeds(), weighted=st.booleans())
def test_binary_cross_entropy(backend_name, reduction, shape, seed, weighted):
    rng = np.random.default_rng(seed)
    p, t = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)
    w = rng.uniform(0.5, 2, shape[-1:]) if weighted else None
    wt = minicnn.tensor(w, dtype="float64") if weighted else None
    ww = 1 if w is None else w
    ref = lambda a, b: REDUCE[reduction](-ww * (b * np.log(a) + (1 - b) * np.log(1 - a)))  # noqa: E731
    check_op(lambda a, b: F.binary_cross_entropy(a, b, wt, reduction), p, t, ref=ref)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=examples(10))
@given(shape=shapes(min_dims=1), seed=seeds(), pos=st.booleans())
def test_binary_cross_entropy_with_logits(backend_name, reduction, shape, seed, pos):
    rng = np.random.default_rng(seed)
    x, t = rng.uniform(-5, 5, shape), rng.uniform(0, 1, shape)
    pw = rng.uniform(0.5, 3, shape[-1:]) if pos else None
    pwt = minicnn.tensor(pw, dtype="float64") if pos else None
    pwv = pw if pos else 1.0

    def ref(a, b):  # PyTorch's documented formula
        s = 1 / (1 + np.exp(-a))
        return REDUCE[reduction](-(pwv * b * np.log(s) + (1 - b) * np.log(1 - s)))

    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, None, reduction, pwt)  # noqa: E731
    check_op(fn, x, t, ref=ref)


def test_bce_edges_follow_pytorch(backend_name):
    # log clamped at -100: p = 0 with target 1 costs 100, and the gradient stays finite
    p = minicnn.tensor([0.0, 1.0, 0.5], requires_grad=True)
    t = minicnn.tensor([1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100, 0, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()
    # with logits, the slope at x = 0 is sigmoid(0) - t
    x = minicnn.tensor([0.0, 0.0], requires_grad=True)
    F.binary_cross_entropy_with_logits(x, minicnn.tensor([1.0, 0.0]), reduction="sum").backward()
    assert x.grad.tolist() == [-0.5, 0.5]
    big = F.binary_cross_entropy_with_logits(minicnn.tensor([1000.0]), minicnn.tensor([0.0]))
    assert big.item() == 1000.0  # no overflow


def test_loss_layers(backend_name):
    x, t = minicnn.tensor([[0.2, 0.7]]), minicnn.tensor([[0.0, 1.0]])
    assert nn.L1Loss()(x, t).item() == pytest.approx(0.25)
    assert nn.SmoothL1Loss(beta=0.5)(x, t).item() == pytest.approx((0.04 + 0.09) / 2)
    assert nn.BCELoss()(x, t).item() == pytest.approx(F.binary_cross_entropy(x, t).item())
    layer = nn.BCEWithLogitsLoss(pos_weight=minicnn.tensor([1.0, 2.0]))
    assert [n for n, _ in layer.named_buffers()] == ["pos_weight"]
    logp = F.log_softmax(minicnn.tensor([[1.0, 2.0, 3.0]]), 1)
    nll = nn.NLLLoss()(logp, minicnn.tensor([2]))
    assert nll.item() == pytest.approx(
        F.cross_entropy(minicnn.tensor([[1.0, 2.0, 3.0]]), [2]).item()
    )


def test_loss_errors(backend_name):
    with pytest.raises(ValueError, match=r"l1_loss: target: expected shape \(2,\)"):
        F.l1_loss(minicnn.zeros(2), minicnn.zeros(3))
    with pytest.raises(ValueError, match="all elements should be between 0 and 1"):
        F.binary_cross_entropy(minicnn.tensor([1.5]), minicnn.tensor([1.0]))
    with pytest.raises(ValueError, match="reduction: expected one of"):
        F.l1_loss(minicnn.zeros(2), minicnn.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="pos_weight: shape"):
        F.binary_cross_entropy_with_logits(
            minicnn.zeros(2, 3), minicnn.zeros(2, 3), pos_weight=minicnn.ones(2)
        )


def test_one_hot(backend_name):
    y = F.one_hot(minicnn.tensor([0, 2, 1]))
    assert y.dtype == np.int64 and y.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(minicnn.tensor([[1]]), num_classes=4).shape == (1, 1, 4)
    with pytest.raises(ValueError, match="class values must be smaller than num_classes=2"):
        F.one_hot(minicnn.tensor([2]), 2)
    with pytest.raises(ValueError, match="class values must be non-negative"):
        F.one_hot(minicnn.tensor([-1]))
    with pytest.raises(TypeError, match="expected an integer Tensor"):
        F.one_hot(minicnn.tensor([1.0]))
