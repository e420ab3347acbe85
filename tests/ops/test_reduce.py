"""Reductions: gradcheck over random dim subsets with keepdim both ways, forward against NumPy,
ties in max/min, argmax/argmin and dim errors."""

import numpy as np
import pytest
from helpers import check_op, distinct, examples, seeds, shapes, values
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn


@st.composite
def reduce_cases(draw, min_dims=0):
    """(shape, dim, keepdim): dim is None, an int, or a tuple of distinct axes (any sign)."""
    shape = draw(shapes(min_dims=min_dims))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]) if ndim else st.just("none"))
    if kind == "none":
        dim = None
    else:
        axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        signed = [a - ndim if draw(st.booleans()) else a for a in axes]
        dim = signed[0] if kind == "int" else tuple(signed)
    return shape, dim, draw(st.booleans())


REDUCTIONS = {
    # name: (minicnn function, NumPy reference, values)
    "sum": (minicnn.sum, np.sum, values),
    "mean": (minicnn.mean, np.mean, values),
    "max": (minicnn.max, np.max, distinct),
    "min": (minicnn.min, np.min, distinct),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@settings(max_examples=examples(20))
@given(case=reduce_cases(), seed=seeds())
def test_reductions(backend_name, name, case, seed):
    shape, dim, keepdim = case
    fn, ref, draw_values = REDUCTIONS[name]
    x = draw_values(seed, shape)
    out = check_op(
        lambda t: fn(t, dim, keepdim), x, ref=lambda a: ref(a, axis=dim, keepdims=keepdim)
    )
    # the method and NumPy spellings are the same function
    t = minicnn.tensor(x)
    np.testing.assert_array_equal(getattr(t, name)(dim=dim, keepdim=keepdim).numpy(), out.numpy())
    np.testing.assert_array_equal(fn(t, axis=dim, keepdims=keepdim).numpy(), out.numpy())


@pytest.mark.parametrize("name", ["var", "std"])
@settings(max_examples=examples(20))
@given(case=reduce_cases(min_dims=1), seed=seeds(), correction=st.sampled_from([0, 1]))
def test_var_and_std(backend_name, name, case, seed, correction):
    shape, dim, keepdim = case
    dims = range(len(shape)) if dim is None else np.atleast_1d(dim) % len(shape)
    if int(np.prod([shape[d] for d in dims])) < 2:
        # one element per slot: var is 0/0 or 0 there, and std is not differentiable at 0
        shape, dim = shape + (3,), -1
    x = values(seed, shape)
    ref = getattr(np, name)
    fn = getattr(minicnn, name)
    check_op(
        lambda t: fn(t, dim, keepdim, correction=correction),
        x,
        ref=lambda a: ref(a, axis=dim, keepdims=keepdim, ddof=correction),
    )


def test_var_defaults_to_the_unbiased_estimate(backend_name):
    x = minicnn.tensor([1.0, 2.0, 3.0, 6.0], dtype="float64")
    assert x.var().item() == pytest.approx(np.var(x.numpy(), ddof=1))
    assert minicnn.var(x, unbiased=False).item() == pytest.approx(np.var(x.numpy()))
    assert minicnn.std(x, correction=0).item() == pytest.approx(np.std(x.numpy()))


def test_max_shares_the_gradient_among_ties(backend_name):
    x = minicnn.tensor([[1.0, 3.0, 3.0], [5.0, 2.0, 5.0]], requires_grad=True)
    minicnn.max(x, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    x.grad = None
    x.min().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 0], [0, 0, 0]])


def test_amax_and_amin_are_max_and_min(backend_name):
    x = minicnn.tensor([[1.0, 4.0], [3.0, 2.0]])
    np.testing.assert_array_equal(x.amax(0).numpy(), [3, 4])
    np.testing.assert_array_equal(x.amin(1).numpy(), [1, 2])


def test_reductions_of_a_0d_tensor(backend_name):
    x = minicnn.tensor(2.5, dtype="float64", requires_grad=True)
    for fn in (minicnn.sum, minicnn.mean, minicnn.max, minicnn.min):
        assert fn(x).shape == ()
        assert fn(x, 0).item() == 2.5
        assert fn(x, -1, keepdim=True).shape == ()
    check_op(lambda t: t.sum() * t.max(), np.float64(2.5))


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1), seed=seeds(), keepdim=st.booleans())
def test_argmax_and_argmin(backend_name, shape, seed, keepdim):
    x = distinct(seed, shape)
    t = minicnn.tensor(x)
    dim = int(np.random.default_rng(seed).integers(-len(shape), len(shape)))
    for name in ("argmax", "argmin"):
        flat = getattr(minicnn, name)(t)
        assert flat.dtype == np.int64 and flat.item() == getattr(np, name)(x)
        along = getattr(t, name)(dim, keepdim=keepdim)
        expected = getattr(np, name)(x, axis=dim)
        if keepdim:
            expected = np.expand_dims(expected, dim)
        assert along.dtype == np.int64 and along.backend == backend_name
        np.testing.assert_array_equal(along.numpy(), expected)


def test_sum_of_an_integer_tensor_stays_integer(backend_name):
    y = minicnn.tensor([[1, 2], [3, 4]]).sum(0)
    assert y.dtype == np.int64
    assert y.tolist() == [4, 6]


# ----- errors --------------------------------------------------------------------------------


def test_sum_rejects_a_dim_out_of_range(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(
        ValueError,
        match=r"sum: dim 2 is out of range for a tensor with 2 dimension\(s\) \(expected an int in \[-2, 1\]\)",
    ):
        x.sum(2)
    with pytest.raises(ValueError, match=r"mean: dim -3 is out of range"):
        x.mean(dim=(0, -3))
    with pytest.raises(ValueError, match=r"max: dim 'a' is out of range"):
        x.max("a")


def test_sum_rejects_an_axis_named_twice(backend_name):
    with pytest.raises(ValueError, match=r"sum: dim \(1, -1\) names an axis twice"):
        minicnn.zeros(2, 3).sum((1, -1))


def test_dim_and_axis_together_are_an_error(backend_name):
    with pytest.raises(ValueError, match="sum: pass dim or axis, not both"):
        minicnn.sum(minicnn.zeros(2), 0, axis=0)


def test_max_and_argmax_of_an_empty_tensor_are_errors(backend_name):
    for fn in (minicnn.max, minicnn.min, minicnn.argmax, minicnn.argmin):
        with pytest.raises(ValueError, match=r"expected a non-empty tensor, got shape \(0, 2\)"):
            fn(minicnn.zeros(0, 2))


def test_mean_and_var_reject_integer_tensors(backend_name):
    with pytest.raises(TypeError, match="mean: expected a floating-point tensor, got dtype int64"):
        minicnn.tensor([1, 2]).mean()
    with pytest.raises(TypeError, match="var: expected a floating-point tensor, got dtype int64"):
        minicnn.tensor([1, 2]).var()
