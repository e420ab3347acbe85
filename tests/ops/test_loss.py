"""softmax, log_softmax and the losses: gradcheck, forward against NumPy formulas (PyTorch's
definitions of class weights, ignore_index and label smoothing), stability and argument
errors."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import ce_cases, seeds, shapes, values

import minicnn

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's definition: with w the class weights (ones by default) and ls the smoothing,
    loss_i = (1 - ls) * w[t_i] * (-logp[i, t_i]) + ls / C * sum_c w[c] * (-logp[i, c]);
    samples with t_i == ignore_index contribute 0, and "mean" divides by sum_i w[t_i] over
    the samples that are not ignored."""
    C = x.shape[1]
    logp = np_log_softmax(np.moveaxis(x, 1, -1).reshape(-1, C), 1)  # (M, C)
    t = np.asarray(t).reshape(-1)
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    picked = -logp[np.arange(len(t)), safe]
    smooth = -(logp * w).sum(axis=1)
    loss = ((1 - label_smoothing) * w[safe] * picked + label_smoothing / C * smooth) * valid
    if reduction == "none":
        return loss.reshape(np.asarray(t).shape if x.ndim == 2 else (x.shape[0],) + x.shape[2:])
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[safe] * valid).sum()


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1, max_dims=3), data=st.data(), seed=seeds())
def test_softmax_and_log_softmax(backend_name, shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = values(seed, shape, -3, 3)
    out = check_op(
        lambda t: minicnn.softmax(t, dim), x, ref=lambda a: np.exp(np_log_softmax(a, dim))
    )
    np.testing.assert_allclose(out.numpy().sum(axis=dim), 1.0, rtol=1e-12)
    check_op(lambda t: t.log_softmax(dim), x, ref=lambda a: np_log_softmax(a, dim))
    check_op(lambda t: t.softmax(dim=dim), x, ref=lambda a: np.exp(np_log_softmax(a, dim)))


def test_softmax_is_stable_for_huge_logits(backend_name):
    x = minicnn.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    p = minicnn.softmax(x, dim=1)
    np.testing.assert_array_equal(p.numpy(), [[1, 0, 0]])
    logp = minicnn.log_softmax(x, dim=1)
    np.testing.assert_allclose(logp.numpy(), [[0, -2000, -1000]])
    (logp * minicnn.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@settings(max_examples=examples(25))
@given(case=ce_cases(), seed=seeds())
def test_cross_entropy(backend_name, case, seed):
    shape, ignore_index, reduction, label_smoothing, weighted = case
    rng = np.random.default_rng(seed)
    N, C = shape[:2]
    x = values(seed, shape, -3, 3)
    t = rng.integers(0, C, size=(N,) + shape[2:])
    # some samples ignored, but never all of them (a mean over nothing is 0/0)
    t.reshape(-1)[rng.random(t.size) < 0.3] = ignore_index
    t.reshape(-1)[0] = 1
    weight = rng.uniform(0.5, 2.0, size=C) if weighted else None
    options = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    w = None if weight is None else minicnn.tensor(weight, dtype="float64")
    out = check_op(
        lambda a: minicnn.cross_entropy(a, minicnn.tensor(t), weight=w, **options),
        x,
        ref=lambda a: np_cross_entropy(a, t, weight, **options),
    )
    assert out.shape == (() if reduction != "none" else t.shape)


def test_cross_entropy_matches_hand_computed_values(backend_name):
    x = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    t = [0, 2]
    logp = np_log_softmax(x, 1)
    y = minicnn.cross_entropy(minicnn.tensor(x, dtype="float64"), t)
    assert y.item() == pytest.approx(-(logp[0, 0] + logp[1, 2]) / 2, rel=1e-12)
    # label smoothing 0.3 with 3 classes: target (0.8, 0.1, 0.1) for sample 0
    y = minicnn.cross_entropy(minicnn.tensor(x, dtype="float64"), t, label_smoothing=0.3)
    q0, q1 = np.array([0.8, 0.1, 0.1]), np.array([0.1, 0.1, 0.8])
    assert y.item() == pytest.approx(-(q0 @ logp[0] + q1 @ logp[1]) / 2, rel=1e-12)
    # class weights: a weighted mean
    w = [1.0, 2.0, 4.0]
    y = minicnn.cross_entropy(minicnn.tensor(x, dtype="float64"), t, weight=w)
    assert y.item() == pytest.approx(-(1 * logp[0, 0] + 4 * logp[1, 2]) / 5, rel=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_target(backend_name):
    x = minicnn.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], dtype="float64", requires_grad=True)
    minicnn.cross_entropy(x, [0, 2]).backward()
    p = np.exp(np_log_softmax(x.numpy(), 1))
    onehot = np.array([[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(x.grad.numpy(), (p - onehot) / 2, rtol=1e-12)


def test_cross_entropy_ignores_the_ignore_index(backend_name):
    x = minicnn.tensor([[2.0, 1.0], [0.5, 2.5], [1.0, 1.0]], dtype="float64", requires_grad=True)
    y = minicnn.cross_entropy(x, [1, -100, 0])
    logp = np_log_softmax(x.numpy(), 1)
    assert y.item() == pytest.approx(-(logp[0, 1] + logp[2, 0]) / 2, rel=1e-12)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy()[1], [0, 0])


def test_cross_entropy_is_stable_for_huge_logits(backend_name):
    x = minicnn.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    y = minicnn.cross_entropy(x, [1, 1])
    assert np.isfinite(y.item())
    assert y.item() == pytest.approx(1000.0)
    y.backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5], [0, 0]], atol=1e-6)
    smoothed = minicnn.cross_entropy(x, [1, 1], label_smoothing=0.1, reduction="none")
    assert np.isfinite(smoothed.numpy()).all()


def test_cross_entropy_keeps_float32(backend_name):
    x = minicnn.randn(3, 4, requires_grad=True)
    y = minicnn.cross_entropy(x, [0, 1, 3], weight=[1.0, 2.0, 1.0, 1.0], label_smoothing=0.1)
    assert y.dtype == np.float32 and y.shape == ()
    y.backward()
    assert x.grad.dtype == np.float32


@settings(max_examples=examples(20))
@given(
    N=st.integers(1, 4),
    C=st.integers(2, 5),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    weighted=st.booleans(),
    seed=seeds(),
)
def test_nll_loss(backend_name, N, C, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    x = values(seed, (N, C), -3, 3)
    t = rng.integers(0, C, size=N)
    weight = rng.uniform(0.5, 2.0, size=C) if weighted else None
    w = None if weight is None else minicnn.tensor(weight, dtype="float64")

    def ref(a):
        wt = np.ones(C) if weight is None else weight
        loss = -a[np.arange(N), t] * wt[t]
        return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / wt[t].sum()}[reduction]

    check_op(lambda a: minicnn.nll_loss(a, t, weight=w, reduction=reduction), x, ref=ref)
    # nll_loss of log_softmax is cross_entropy
    check_op(
        lambda a: minicnn.nll_loss(minicnn.log_softmax(a, 1), t, weight=w, reduction=reduction),
        x,
        ref=lambda a: np_cross_entropy(a, t, weight, reduction=reduction),
    )


@settings(max_examples=examples(20))
@given(shape=shapes(), reduction=st.sampled_from(["mean", "sum", "none"]), seed=seeds())
def test_mse_loss(backend_name, shape, reduction, seed):
    a, b = values(seed, shape), values(seed + 1, shape)
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda d: d}[reduction]
    check_op(
        lambda x, y: minicnn.mse_loss(x, y, reduction=reduction),
        a,
        b,
        ref=lambda x, y: reduce((x - y) ** 2),
    )


def test_cross_entropy_rejects_float_targets(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(
        TypeError, match="target: expected integer class indices, got dtype float32"
    ):
        minicnn.cross_entropy(x, minicnn.tensor([0.0, 1.0]))
    with pytest.raises(
        TypeError, match="target: expected integer class indices, got dtype float64"
    ):
        minicnn.nll_loss(x, [0.0, 1.0])


def test_cross_entropy_rejects_a_class_out_of_range(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(ValueError, match=r"target: class index 3 is out of range \[0, 3\)"):
        minicnn.cross_entropy(x, [0, 3])
    with pytest.raises(ValueError, match=r"target: class index -1 is out of range \[0, 3\)"):
        minicnn.cross_entropy(x, [-1, 0])


def test_cross_entropy_rejects_a_wrong_target_shape(backend_name):
    with pytest.raises(
        ValueError, match=r"target: expected shape \(2,\) for input \(2, 3\), got \(3,\)"
    ):
        minicnn.cross_entropy(minicnn.zeros(2, 3), [0, 1, 2])
    with pytest.raises(
        ValueError, match=r"target: expected shape \(2, 4\) for input \(2, 3, 4\), got \(2,\)"
    ):
        minicnn.cross_entropy(minicnn.zeros(2, 3, 4), [0, 1])
    with pytest.raises(
        ValueError, match=r"input: expected shape \(N, C\) or \(N, C, d1, ...\), got \(3,\)"
    ):
        minicnn.cross_entropy(minicnn.zeros(3), [0])


def test_loss_argument_errors(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(
        ValueError, match=r"reduction: expected one of \('mean', 'sum', 'none'\), got 'avg'"
    ):
        minicnn.cross_entropy(x, [0, 1], reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing: expected a value in \[0, 1\], got 1.5"):
        minicnn.cross_entropy(x, [0, 1], label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weight: expected shape \(3,\), got \(2,\)"):
        minicnn.cross_entropy(x, [0, 1], weight=[1.0, 2.0])
    with pytest.raises(TypeError, match="cross_entropy: input must be a floating-point Tensor"):
        minicnn.cross_entropy(minicnn.tensor([[1, 2]]), [0])
    with pytest.raises(
        ValueError, match=r"target: expected shape \(2, 3\) \(the input's\), got \(3, 2\)"
    ):
        minicnn.mse_loss(x, minicnn.zeros(3, 2))
    with pytest.raises(TypeError, match="target: expected a Tensor, got list"):
        minicnn.mse_loss(x, [[0.0] * 3] * 2)
    with pytest.raises(
        ValueError, match=r"softmax: dim 2 out of range for a tensor of shape \(2, 3\)"
    ):
        minicnn.softmax(x, 2)
