"""Tensor: construction and dtypes, array facts, conversions (dtype and backend, both
differentiable), repr, comparisons, in-place writes, iteration and argument errors."""

import numpy as np
import pytest
from helpers import check_op

import minicnn


def test_python_data_gets_torch_default_dtypes(backend_name):
    assert minicnn.tensor([1.0, 2.0]).dtype == np.float32
    assert minicnn.tensor(1.5).dtype == np.float32
    assert minicnn.tensor([[1, 2], [3, 4]]).dtype == np.int64
    assert minicnn.tensor([True, False]).dtype == np.bool_
    assert minicnn.tensor([1, 2.5]).dtype == np.float32
    for t in (minicnn.tensor([1.0]), minicnn.tensor([1]), minicnn.tensor([True])):
        assert t.backend == backend_name


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]
)
def test_numpy_arrays_keep_their_dtype(backend_name, dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = minicnn.tensor(a)
    assert t.dtype == dtype and t.shape == (2, 3) and t.backend == backend_name
    np.testing.assert_array_equal(t.numpy(), a)


def test_tensor_from_an_array_copies_it(backend_name):
    a = np.array([1.0, 2.0])
    t = minicnn.tensor(a)
    a[0] = 5.0
    assert t.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "dtype, expected",
    [
        ("float64", np.float64),
        ("double", np.float64),
        ("float", np.float32),
        (minicnn.float64, np.float64),
        (np.int32, np.int32),
        ("long", np.int64),
        ("bool", np.bool_),
    ],
)
def test_the_dtype_argument(backend_name, dtype, expected):
    assert minicnn.tensor([1, 0], dtype=dtype).dtype == expected


def test_float64_stays_float64_end_to_end(backend_name):
    x = minicnn.tensor([[0.5, 1.5], [2.0, 0.25]], dtype="float64", requires_grad=True)
    w = minicnn.tensor([[1.0, -1.0], [0.5, 2.0]], dtype="float64", requires_grad=True)
    steps = [
        x @ w,
        (x @ w).relu(),
        x.exp().log(),
        x.sqrt() * 2.0,
        x.softmax(1),
        x.mean(0),
        x.var(),
        x.max(1).values,
        x.amax(1),
        x[0],
        x.T,
        minicnn.cat([x, w]),
    ]
    for y in steps:
        assert y.dtype == np.float64, y
    loss = minicnn.cross_entropy(steps[1], [0, 1]) + sum(s.sum() for s in steps[2:])
    assert loss.dtype == np.float64
    loss.backward()
    assert x.grad.dtype == np.float64 and w.grad.dtype == np.float64


def test_shape_ndim_size_numel_len(backend_name):
    t = minicnn.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.size() == (2, 3, 4)
    assert t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24
    assert len(t) == 2
    assert minicnn.tensor(3.0).shape == () and minicnn.tensor(3.0).numel() == 1
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(minicnn.tensor(3.0))


def test_item_tolist_numpy(backend_name):
    assert minicnn.tensor([[2.5]]).item() == 2.5
    assert isinstance(minicnn.tensor(3).item(), int)
    assert minicnn.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    a = minicnn.tensor([1.0, 2.0]).numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    assert float(minicnn.tensor(1.5)) == 1.5 and int(minicnn.tensor(7)) == 7
    assert bool(minicnn.tensor([True])) is True
    with pytest.raises(
        ValueError, match=r"item: only one-element tensors .* this one has shape \(2,\)"
    ):
        minicnn.tensor([1.0, 2.0]).item()


def test_iteration_yields_rows(backend_name):
    t = minicnn.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    rows = list(t)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    (rows[0] * 1 + rows[2] * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[1, 1], [0, 0], [2, 2]])


def test_T_reverses_the_axes(backend_name):
    a = np.arange(24.0).reshape(2, 3, 4)
    assert minicnn.tensor(a).T.shape == (4, 3, 2)
    np.testing.assert_array_equal(minicnn.tensor(a).T.numpy(), a.T)
    check_op(lambda t: t.T @ t, np.arange(6.0).reshape(3, 2) / 4)


def test_an_int_tensor_is_an_index(backend_name):
    assert [10, 20, 30][minicnn.tensor(2)] == 30
    with pytest.raises(
        TypeError, match="only integer tensors can be used as an index, got float32"
    ):
        [1, 2][minicnn.tensor(1.0)]


def test_to_dtype_and_shortcuts(backend_name):
    x = minicnn.tensor([1.5, -2.5])
    assert x.to("float64").dtype == np.float64
    assert x.double().dtype == np.float64
    assert x.double().float().dtype == np.float32
    assert x.float() is x  # already float32
    assert x.long().tolist() == [1, -2]
    assert x.int().dtype == np.int32
    assert minicnn.tensor([0.0, 2.0]).bool().tolist() == [False, True]
    assert x.to(minicnn.float64).backend == backend_name


def test_dtype_conversion_is_differentiable(backend_name):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * minicnn.tensor([3.0, 4.0], dtype="float64")
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])
    x64 = minicnn.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (x64.float() * minicnn.tensor([5.0, 6.0])).sum().backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x64.grad.numpy(), [5, 6])


@pytest.mark.parametrize("src, dst", [("numpy", "numba"), ("numba", "numpy")])
def test_to_backend_is_differentiable(src, dst):
    x = minicnn.tensor([1.0, 2.0], dtype="float64", requires_grad=True, backend=src)
    y = x.to(dst)
    assert y.backend == dst and x.backend == src
    assert y.dtype == np.float64
    assert x.to(src) is x
    z = (y * minicnn.tensor([3.0, 4.0], dtype="float64", backend=dst)).sum()
    assert z.backend == dst
    z.backward()
    assert x.grad.backend == src
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])
    assert minicnn.gradcheck(lambda t: (t.to(dst) * t.to(dst)).to(src), x)


def test_to_rejects_unknown_targets(backend_name):
    with pytest.raises(TypeError, match="target: expected a dtype such as 'float32', got"):
        minicnn.tensor([1.0]).to(object())
    with pytest.raises(TypeError, match="target: expected a dtype such as 'float32', got 'gpu0'"):
        minicnn.tensor([1.0]).to("gpu0")


def test_repr_looks_like_pytorch():
    with minicnn.use_backend("numpy"):
        assert repr(minicnn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
        assert (
            repr(minicnn.tensor([1.0, 2.0], requires_grad=True))
            == "tensor([1., 2.], requires_grad=True)"
        )
        assert repr(minicnn.tensor([1, 2])) == "tensor([1, 2])"
        assert repr(minicnn.tensor([1.0], dtype="float64")) == "tensor([1.], dtype=float64)"
        y = minicnn.tensor([1.0, 2.0], requires_grad=True) * 2
        assert repr(y) == "tensor([2., 4.], grad_fn=<MulBackward>)"
        assert (
            repr(minicnn.tensor([[1.0, 2.0], [3.0, 4.0]]))
            == "tensor([[1., 2.],\n        [3., 4.]])"
        )
        assert repr(minicnn.tensor([1.0], backend="numba")) == "tensor([1.], backend='numba')"


def test_comparisons_give_bool_tensors(backend_name):
    a = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = minicnn.tensor([3.0, 2.0, 1.0])
    cases = {
        "==": (a == b, [False, True, False]),
        "!=": (a != b, [True, False, True]),
        "<": (a < b, [True, False, False]),
        "<=": (a <= b, [True, True, False]),
        ">": (a > 2, [False, False, True]),
        ">=": (a >= 2, [False, True, True]),
        "reflected": (2 < a, [False, False, True]),
    }
    for op, (y, expected) in cases.items():
        assert y.dtype == np.bool_, op
        assert y.tolist() == expected, op
        assert y.grad_fn is None and not y.requires_grad
        assert y.backend == backend_name


def test_tensors_hash_by_identity(backend_name):
    a, b = minicnn.tensor([1.0]), minicnn.tensor([1.0])
    assert len({a, b}) == 2
    assert {a: 1}[a] == 1


def test_setitem_under_no_grad(backend_name):
    w = minicnn.zeros(2, 3, requires_grad=True)
    with minicnn.no_grad():
        w[0] = 1.0
        w[1, 1:] = minicnn.tensor([2.0, 3.0])
        w[minicnn.tensor([0, 1]), minicnn.tensor([0, 0])] = 7.0
    np.testing.assert_array_equal(w.numpy(), [[7, 1, 1], [7, 2, 3]])
    assert w.requires_grad and w.is_leaf


def test_setitem_on_a_tensor_that_requires_grad_is_an_error(backend_name):
    w = minicnn.zeros(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"__setitem__: in-place assignment .* `with minicnn.no_grad\(\):`"
    ):
        w[0] = 1.0
    plain = minicnn.zeros(3)
    plain[1] = 2.0  # no gradient, no problem
    assert plain.tolist() == [0, 2, 0]


def test_setitem_rejects_a_value_on_another_backend():
    t = minicnn.zeros(2, backend="numpy")
    with pytest.raises(TypeError, match="value: expected a tensor on backend 'numpy', got 'numba'"):
        t[0] = minicnn.ones(1, backend="numba")


@pytest.mark.parametrize("data", [[1, 2], [True, False]])
def test_an_integer_tensor_cannot_require_grad(backend_name, data):
    name = "int64" if isinstance(data[0], int) and not isinstance(data[0], bool) else "bool"
    with pytest.raises(
        TypeError,
        match=f"requires_grad: only floating-point tensors can require gradients; this tensor has dtype {name}",
    ):
        minicnn.tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors"):
        minicnn.tensor(data).requires_grad_()


def test_tensor_rejects_non_numeric_data(backend_name):
    with pytest.raises(TypeError, match="data: expected numbers or nested sequences of numbers"):
        minicnn.tensor([None, 1.0])
    with pytest.raises(TypeError, match="dtype: expected a dtype such as 'float32', got"):
        minicnn.tensor([1.0], dtype=object())


def test_tensor_rejects_ragged_lists_naming_data(backend_name):
    with pytest.raises(ValueError, match="data: expected a rectangular nested sequence of numbers"):
        minicnn.tensor([[1, 2], [3]])


def test_tensor_rejects_strings(backend_name):
    with pytest.raises(
        TypeError, match="data: expected numbers or nested sequences of numbers, got list"
    ):
        minicnn.tensor(["a", "b"])


def test_tensor_rejects_an_unknown_backend():
    with pytest.raises(
        ValueError, match=r"backend: expected one of 'numpy', 'numba', 'cupy', got 'torch'"
    ):
        minicnn.tensor([1.0], backend="torch")


def test_backward_of_a_tensor_without_grad(backend_name):
    with pytest.raises(RuntimeError, match="backward: this tensor does not require grad"):
        minicnn.tensor([1.0]).sum().backward()


def test_data_is_a_detached_tensor_sharing_the_array():
    # PyTorch's manual-SGD idiom: w.data is a tensor, outside the graph, over w's storage.
    w = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = w.data
    assert isinstance(d, minicnn.Tensor) and d.grad_fn is None and not d.requires_grad
    assert d.array is w.array
    d.array[0] = 5.0
    assert w.tolist() == [5.0, 2.0, 3.0]
    w.data = minicnn.tensor([7.0, 8.0, 9.0])
    assert w.tolist() == [7.0, 8.0, 9.0] and w.requires_grad
    with pytest.raises(TypeError, match="data"):
        w.data = [1.0, 2.0, 3.0]


def test_a_leaf_hook_sees_the_summed_gradient_before_it_reaches_grad(backend_name):
    x = minicnn.tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x + 3 * x).sum().backward()  # x used twice: the hook sees 2x + 3, once
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, -1.0, 9.0])
    np.testing.assert_array_equal(x.grad.numpy(), seen[0])


def test_a_hook_that_returns_a_tensor_replaces_the_gradient_downstream(backend_name):
    x = minicnn.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    h = x * 3  # a non-leaf
    h.retain_grad()
    h.register_hook(lambda g: g * 10)
    h.register_hook(lambda g: g + 1)  # hooks run in the order registered, each on the last
    (h * h).sum().backward()  # dL/dh = 2h = [3, -6]
    np.testing.assert_allclose(h.grad.numpy(), [31.0, -59.0])  # .grad after the hooks
    np.testing.assert_allclose(x.grad.numpy(), [93.0, -177.0])  # 3 * (10 * 2h + 1)


def test_removing_a_hook_detaches_it(backend_name):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    with x.register_hook(lambda g: g * 0):  # a handle is a context manager too
        x.sum().backward()
    handle.remove()
    handle.remove()  # twice is harmless
    x.sum().backward()
    assert calls == [1]
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])  # 0 from the first, then 1


def test_a_gradient_a_hook_keeps_is_not_the_grad_array(backend_name):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    kept = []
    x.register_hook(kept.append)
    (x * 2).sum().backward()
    x.grad.zero_()  # as zero_grad(set_to_none=False) does
    np.testing.assert_array_equal(kept[0].numpy(), [2.0, 2.0])


def test_register_hook_errors(backend_name):
    with pytest.raises(RuntimeError, match="register_hook: cannot register a hook on a tensor"):
        minicnn.tensor([1.0]).register_hook(lambda g: g)
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="hook: expected a callable, got int"):
        x.register_hook(3)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(ValueError, match=r"hook: returned a gradient of shape \(\) for a tensor"):
        (x * 2).sum().backward()
    y = minicnn.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: g.numpy())
    with pytest.raises(TypeError, match="hook: a tensor hook must return None or a Tensor"):
        (y * 2).sum().backward()
