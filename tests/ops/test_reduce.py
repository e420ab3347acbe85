"""Reductions: gradcheck over random dim subsets with keepdim both ways, forward against NumPy,
ties in amax/amin, max/min's (values, indices) pairs, argmax/argmin and dim errors."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import broadcast_pairs, distinct, reduce_cases, seeds, shapes, values

import minicnn

REDUCTIONS = {
    # name: (minicnn function, NumPy reference, values)
    "sum": (minicnn.sum, np.sum, values),
    "mean": (minicnn.mean, np.mean, values),
    "amax": (minicnn.amax, np.max, distinct),
    "amin": (minicnn.amin, np.min, distinct),
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
    minicnn.amax(x, dim=1).sum().backward()
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
    for fn in (minicnn.sum, minicnn.mean, minicnn.amax, minicnn.amin):
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


def test_sum_rejects_a_dim_out_of_range(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(
        ValueError,
        match=r"sum: dim 2 is out of range for a tensor with 2 dimension\(s\) \(expected an int in \[-2, 1\]\)",
    ):
        x.sum(2)
    with pytest.raises(ValueError, match=r"mean: dim -3 is out of range"):
        x.mean(dim=(0, -3))
    with pytest.raises(ValueError, match=r"amax: dim 'a' is out of range"):
        x.amax("a")
    with pytest.raises(TypeError, match=r"max: dim: expected an int, got 'a'"):
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


# max and min as torch.max: whole tensor, (values, indices) along a dim, or elementwise.


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1), seed=seeds(), keepdim=st.booleans())
def test_max_and_min_along_a_dim_return_values_and_indices(backend_name, shape, seed, keepdim):
    x = distinct(seed, shape)
    dim = int(np.random.default_rng(seed).integers(-len(shape), len(shape)))
    for name in ("max", "min"):
        fn = getattr(minicnn, name)
        out = fn(minicnn.tensor(x), dim, keepdim)
        values, indices = out  # a named pair, as torch.return_types.max
        assert out.values is values and out.indices is indices
        ref_idx = getattr(np, "arg" + name)(x, axis=dim)
        ref_val = getattr(np, name)(x, axis=dim)
        if keepdim:
            ref_idx, ref_val = np.expand_dims(ref_idx, dim), np.expand_dims(ref_val, dim)
        assert indices.dtype == np.int64 and indices.backend == backend_name
        np.testing.assert_array_equal(indices.numpy(), ref_idx)
        np.testing.assert_array_equal(values.numpy(), ref_val)
        # the gradient reaches the one element each index names
        check_op(lambda t, f=fn: f(t, dim, keepdim).values, x)
        method = getattr(minicnn.tensor(x), name)(dim=dim, keepdim=keepdim)
        np.testing.assert_array_equal(method.indices.numpy(), ref_idx)


def test_max_along_a_dim_sends_the_gradient_to_one_element_of_a_tie(backend_name):
    # as PyTorch: max(dim) picks one index (the first here); amax shares among ties
    x = minicnn.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    values, indices = x.max(1)
    assert indices.tolist() == [1]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0]])


def test_max_of_two_tensors_is_elementwise(backend_name):
    a = minicnn.tensor([1.0, 5.0, 3.0])
    b = minicnn.tensor([[4.0], [2.0]])
    np.testing.assert_array_equal(minicnn.max(a, b).numpy(), np.maximum(a.numpy(), b.numpy()))
    np.testing.assert_array_equal(minicnn.min(a, b).numpy(), np.minimum(a.numpy(), b.numpy()))
    np.testing.assert_array_equal(a.max(b).numpy(), np.maximum(a.numpy(), b.numpy()))


@settings(max_examples=examples(15))
@given(shapes_=broadcast_pairs(), seed=seeds())
def test_maximum_and_minimum_gradients(backend_name, shapes_, seed):
    sa, sb = shapes_
    a = distinct(seed, sa)
    b = distinct(seed + 1, sb) + 0.05  # no ties between the operands
    check_op(minicnn.maximum, a, b, ref=np.maximum)
    check_op(minicnn.minimum, a, b, ref=np.minimum)


def test_maximum_splits_the_gradient_at_ties(backend_name):
    # PyTorch's rule: where a == b each operand gets half
    a = minicnn.tensor([1.0, 2.0], requires_grad=True)
    b = minicnn.tensor([1.0, 3.0], requires_grad=True)
    minicnn.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


def test_whole_tensor_max_and_keyword_spellings(backend_name):
    x = minicnn.tensor([[1.0, 5.0], [4.0, 2.0]])
    assert minicnn.max(x).item() == 5.0 and x.min().item() == 1.0
    assert x.max(axis=0).indices.tolist() == [1, 0]
    assert x.max(1, keepdims=True).values.shape == (2, 1)
    assert x.argmax(axis=1).tolist() == [1, 0] and x.argmin(axis=0).tolist() == [0, 1]
    values, indices = minicnn.tensor(2.5).max(0)  # a 0-d tensor has one dim to reduce
    assert values.shape == () and indices.item() == 0


def test_max_rejects_what_torch_max_rejects(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(TypeError, match=r"max: dim: expected an int, got \(0, 1\)"):
        minicnn.max(x, (0, 1))
    with pytest.raises(TypeError, match="maximum: other: expected a Tensor, got float"):
        minicnn.maximum(x, 1.0)
    with pytest.raises(ValueError, match="argmax: pass dim or axis, not both"):
        x.argmax(0, axis=0)
