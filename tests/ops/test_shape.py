"""Shape ops: reshape/view, transpose/permute/T, flatten, squeeze/unsqueeze, expand, indexing,
cat, stack and pad. Each backward moves the gradient back; gradcheck proves it, NumPy checks
the forward, and repeated integer indices must sum their gradients."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    basic_indices,
    broadcast_pairs,
    join_cases,
    pad_cases,
    reshape_targets,
    seeds,
    shapes,
    values,
)

import minicnn

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@settings(max_examples=examples(20))
@given(case=reshape_targets(), seed=seeds())
def test_reshape_and_view(backend_name, case, seed):
    shape, target = case
    x = values(seed, shape)
    ref = lambda a: a.reshape(target)  # noqa: E731
    check_op(lambda t: minicnn.reshape(t, target), x, ref=ref)
    check_op(lambda t: t.view(*target), x, ref=ref)
    check_op(lambda t: t.reshape(target), x, ref=ref)


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1, max_dims=4, max_side=3), data=st.data(), seed=seeds())
def test_transpose_and_permute(backend_name, shape, data, seed):
    ndim = len(shape)
    x = values(seed, shape)
    d0 = data.draw(st.integers(-ndim, ndim - 1))
    d1 = data.draw(st.integers(-ndim, ndim - 1))
    check_op(lambda t: minicnn.transpose(t, d0, d1), x, ref=lambda a: np.swapaxes(a, d0, d1))
    perm = data.draw(st.permutations(range(ndim)))
    check_op(lambda t: t.permute(*perm), x, ref=lambda a: a.transpose(perm))
    check_op(lambda t: minicnn.permute(t, perm), x, ref=lambda a: a.transpose(perm))
    check_op(lambda t: t.T, x, ref=lambda a: a.T)


def test_permute_rejects_a_dim_out_of_range(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(ValueError, match=r"dims: expected a permutation of \(0, 1\), got \(0, 3\)"):
        x.permute(0, 3)


def test_permute_rejects_a_repeated_dim(backend_name):
    with pytest.raises(
        ValueError, match=r"dims: expected a permutation of \(0, 1, 2\), got \(0, 1, 1\)"
    ):
        minicnn.zeros(2, 3, 4).permute(0, 1, 1)


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1, max_dims=4, max_side=3), data=st.data(), seed=seeds())
def test_flatten(backend_name, shape, data, seed):
    ndim = len(shape)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    signed_end = end - ndim if data.draw(st.booleans()) else end
    expected = shape[:start] + (int(np.prod(shape[start : end + 1])),) + shape[end + 1 :]
    check_op(
        lambda t: minicnn.flatten(t, start, signed_end),
        values(seed, shape),
        ref=lambda a: a.reshape(expected),
    )


def test_flatten_defaults_and_errors(backend_name):
    x = minicnn.zeros(2, 3, 4)
    assert x.flatten().shape == (24,)
    assert minicnn.flatten(x, 1).shape == (2, 12)
    assert minicnn.tensor(3.0).flatten().shape == (1,)
    with pytest.raises(
        ValueError, match=r"flatten: start_dim \(2\) must not come after end_dim \(1\)"
    ):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match=r"flatten: end_dim 3 out of range for 3 dimension"):
        x.flatten(0, 3)


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1, max_dims=4, min_side=1, max_side=2), data=st.data(), seed=seeds())
def test_squeeze_and_unsqueeze(backend_name, shape, data, seed):
    ndim = len(shape)
    x = values(seed, shape)
    check_op(minicnn.squeeze, x, ref=np.squeeze)
    d = data.draw(st.integers(-ndim, ndim - 1))
    expected = np.squeeze(x, d).shape if shape[d] == 1 else shape  # a size > 1 axis stays
    check_op(lambda t: t.squeeze(d), x, ref=lambda a: a.reshape(expected))
    u = data.draw(st.integers(-ndim - 1, ndim))
    check_op(lambda t: t.unsqueeze(u), x, ref=lambda a: np.expand_dims(a, u))
    check_op(lambda t: minicnn.unsqueeze(t, u), x, ref=lambda a: np.expand_dims(a, u))


@settings(max_examples=examples(20))
@given(pair=broadcast_pairs(), data=st.data(), seed=seeds())
def test_expand(backend_name, pair, data, seed):
    target = np.broadcast_shapes(*pair)
    for small in pair:  # both operands expand to their broadcast shape
        lead = len(target) - len(small)
        # -1 keeps an existing size
        spelled = tuple(
            -1 if i >= lead and small[i - lead] == s and data.draw(st.booleans()) else s
            for i, s in enumerate(target)
        )
        x = values(seed, small)
        ref = lambda a: np.broadcast_to(a, target)  # noqa: E731
        check_op(lambda t, s=spelled: t.expand(*s), x, ref=ref)
        check_op(lambda t, s=spelled: minicnn.expand(t, s), x, ref=ref)


def test_expand_rejects_sizes_that_do_not_match(backend_name):
    x = minicnn.zeros(2, 1)
    with pytest.raises(
        ValueError, match=r"shape: cannot expand a tensor of shape \(2, 1\) to \(3, 4\)"
    ):
        x.expand(3, 4)
    with pytest.raises(ValueError, match=r"shape: expected at least 2 sizes, got \(4,\)"):
        x.expand(4)


def test_expand_rejects_minus_one_in_a_new_leading_axis(backend_name):
    with pytest.raises(
        ValueError, match=r"shape: -1 is not allowed for a new leading axis, got \(-1, 3\)"
    ):
        minicnn.zeros(3).expand(-1, 3)


def test_reshape_rejects_an_incompatible_size(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(
        ValueError,
        match=r"shape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) to \(4, 2\)",
    ):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"shape: cannot reshape .* to \(4, -1\)"):
        x.view(4, -1)
    with pytest.raises(
        ValueError, match=r"shape: expected sizes >= 0 with at most one -1, got \(-1, -1\)"
    ):
        x.reshape(-1, -1)


def test_reshape_of_a_view_does_not_copy_the_gradient_wrongly(backend_name):
    x = minicnn.tensor(np.arange(6.0), requires_grad=True)
    y = x.reshape(2, 3).T.reshape(6)  # reorders the elements
    (y * minicnn.tensor(np.arange(6.0))).sum().backward()
    np.testing.assert_array_equal(y.numpy(), [0, 3, 1, 4, 2, 5])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 2, 4, 1, 3, 5])


@settings(max_examples=examples(25))
@given(case=basic_indices(), seed=seeds())
def test_basic_indexing(backend_name, case, seed):
    shape, index = case
    x = values(seed, shape)
    out = check_op(lambda t: t[index], x, ref=lambda a: a[index])
    assert out.shape == x[index].shape


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(), seed=seeds())
def test_integer_array_indexing_sums_gradients_of_repeats(backend_name, shape, data, seed):
    n = shape[0]
    idx = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6))
    idx = [*idx, idx[0]]  # at least one repeat
    x = values(seed, shape)
    check_op(lambda t: t[idx], x, ref=lambda a: a[np.array(idx)])
    check_op(lambda t: t[minicnn.tensor(idx)], x, ref=lambda a: a[np.array(idx)])
    t = minicnn.tensor(x, requires_grad=True)
    t[idx].sum().backward()
    counts = np.bincount(np.array(idx) % n, minlength=n).astype(float)
    expected = np.broadcast_to(counts.reshape((n,) + (1,) * (len(shape) - 1)), shape)
    np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_integer_arrays_mixed_with_slices(backend_name):
    x = values(1, (4, 3, 2))
    rows, cols = [0, 3, 0, -1], [2, 2, 0, 2]
    check_op(lambda t: t[:, [2, 0, 2]], x, ref=lambda a: a[:, [2, 0, 2]])
    check_op(lambda t: t[rows, cols], x, ref=lambda a: a[rows, cols])
    check_op(lambda t: t[rows, 1:, ::-1], x, ref=lambda a: a[rows, 1:, ::-1])
    check_op(lambda t: t[..., [1, 1]], x, ref=lambda a: a[..., [1, 1]])
    t = minicnn.tensor(x, requires_grad=True)
    t[rows, cols].sum().backward()
    expected = np.zeros((4, 3, 2))
    expected[0, 2] = 1
    expected[3, 2] = 2  # rows 3 and -1 are the same row
    expected[0, 0] = 1
    np.testing.assert_array_equal(t.grad.numpy(), expected)


@settings(max_examples=examples(20))
@given(shape=shapes(min_dims=1, max_dims=3), seed=seeds())
def test_bool_mask_indexing(backend_name, shape, seed):
    x = values(seed, shape)
    mask = x > 0
    row_mask = np.random.default_rng(seed).random(shape[0]) < 0.5
    check_op(lambda t: t[t > 0], x, ref=lambda a: a[mask])
    check_op(lambda t: t[minicnn.tensor(mask)], x, ref=lambda a: a[mask])
    check_op(lambda t: t[row_mask], x, ref=lambda a: a[row_mask])


def test_indexing_out_of_range_names_the_shape(backend_name):
    with pytest.raises(IndexError, match=r"index: .*\(tensor shape \(2, 3\)\)"):
        minicnn.zeros(2, 3)[5]


@settings(max_examples=examples(20))
@given(case=join_cases(new_axis=False), seed=seeds())
def test_cat(backend_name, case, seed):
    shape_list, dim = case
    xs = [values(seed + i, s) for i, s in enumerate(shape_list)]
    check_op(lambda *ts: minicnn.cat(ts, dim), *xs, ref=lambda *a: np.concatenate(a, dim))
    check_op(lambda *ts: minicnn.cat(list(ts), dim=dim), *xs, ref=lambda *a: np.concatenate(a, dim))


@settings(max_examples=examples(20))
@given(case=join_cases(new_axis=True), seed=seeds())
def test_stack(backend_name, case, seed):
    shape_list, dim = case
    xs = [values(seed + i, s) for i, s in enumerate(shape_list)]
    check_op(lambda *ts: minicnn.stack(ts, dim), *xs, ref=lambda *a: np.stack(a, dim))


def test_cat_of_one_tensor_used_twice(backend_name):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    (minicnn.cat([x, x * 3]) * minicnn.tensor([1.0, 1.0, 1.0, 1.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 4])


def test_cat_and_stack_reject_mismatched_shapes(backend_name):
    a, b = minicnn.zeros(2, 3), minicnn.zeros(2, 4)
    with pytest.raises(
        ValueError,
        match=r"tensors: cat needs the same shape except along dim 0; tensor 0 has \(2, 3\), tensor 1 has \(2, 4\)",
    ):
        minicnn.cat([a, b])
    assert minicnn.cat([a, b], dim=1).shape == (2, 7)
    with pytest.raises(ValueError, match=r"tensors: cat needs .* tensor 1 has \(2, 3, 1\)"):
        minicnn.cat([a, minicnn.zeros(2, 3, 1)])
    with pytest.raises(
        ValueError,
        match=r"tensors: stack needs the same shape; tensor 0 has \(2, 3\), tensor 1 has \(2, 4\)",
    ):
        minicnn.stack([a, b], dim=1)
    with pytest.raises(TypeError, match="tensors: cat expects a non-empty sequence of Tensors"):
        minicnn.cat([])
    with pytest.raises(ValueError, match=r"cat: dim 2 out of range for 2 dimension"):
        minicnn.cat([a, a], dim=2)


@settings(max_examples=examples(20))
@given(case=pad_cases(), seed=seeds())
def test_pad(backend_name, case, seed):
    shape, widths, value = case
    np_widths = [(0, 0)] * len(shape)
    for i in range(len(widths) // 2):  # pairs start from the last axis
        np_widths[len(shape) - 1 - i] = (widths[2 * i], widths[2 * i + 1])
    check_op(
        lambda t: minicnn.pad(t, widths, value=value),
        values(seed, shape),
        ref=lambda a: np.pad(a, np_widths, constant_values=value),
    )


def test_pad_orders_pairs_from_the_last_axis(backend_name):
    y = minicnn.pad(minicnn.ones(1, 2), (1, 0, 0, 2))
    assert y.shape == (3, 3)
    np.testing.assert_array_equal(y.numpy(), [[0, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_pad_rejects_bad_widths(backend_name):
    x = minicnn.zeros(2, 3)
    with pytest.raises(ValueError, match=r"pad: expected non-negative ints, got \(1, -1\)"):
        minicnn.pad(x, (1, -1))
    with pytest.raises(
        ValueError,
        match=r"pad: expected an even number of sizes covering at most 2 axes, got \(1, 1, 1\)",
    ):
        minicnn.pad(x, (1, 1, 1))
    with pytest.raises(
        ValueError, match=r"pad: expected an even number .* got \(1, 1, 1, 1, 1, 1\)"
    ):
        minicnn.pad(x, (1,) * 6)
    with pytest.raises(
        ValueError, match="mode: only 'constant' padding is supported, got 'reflect'"
    ):
        minicnn.pad(x, (1, 1), mode="reflect")
