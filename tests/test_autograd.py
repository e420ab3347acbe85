"""Autograd: the graph that Function records and Tensor.backward walks. Shared sub-graphs,
tensors used twice, grad mode switches, detach, accumulation, retain_graph, retain_grad, deep
chains and the errors backward raises."""

import sys

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from strategies import positive, seeds, shapes

import minicnn


def leaf(values, dtype="float64"):
    return minicnn.tensor(values, dtype=dtype, requires_grad=True)


def test_diamond_equals_the_same_expression_built_twice(backend_name):
    x1 = leaf([0.5, -1.0, 2.0])
    y = x1 * x1 + 1  # shared by both branches
    (y.tanh() + y.sigmoid() * y).sum().backward()

    x2 = leaf([0.5, -1.0, 2.0])
    ya, yb, yc = x2 * x2 + 1, x2 * x2 + 1, x2 * x2 + 1
    (ya.tanh() + yb.sigmoid() * yc).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-14)


def test_diamond_against_the_hand_derived_gradient(backend_name):
    # z = g(y) + h(y) with y = 3x, g = y**2, h = exp(y): dz/dx = 3 (2y + exp(y))
    xv = np.array([0.1, -0.4, 0.7])
    x = leaf(xv)
    y = x * 3
    z = y**2 + y.exp()
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * (2 * 3 * xv + np.exp(3 * xv)), rtol=1e-13)


def test_micrograd_expression(backend_name):
    # the expression micrograd tests against PyTorch, gradient derived by hand
    a, b = leaf(-4.0), leaf(2.0)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    assert g.item() == pytest.approx(24.70408163265306, rel=1e-12)
    assert a.grad.item() == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad.item() == pytest.approx(645.5772594752186, rel=1e-12)


@pytest.mark.parametrize(
    "expr, grad",
    [
        (lambda x: x * x, lambda v: 2 * v),
        (lambda x: x + x, lambda v: np.full_like(v, 2)),
        (lambda x: x - x, lambda v: np.zeros_like(v)),
        (lambda x: x / x, lambda v: np.zeros_like(v)),
        (lambda x: x * x * x, lambda v: 3 * v**2),
        (lambda x: minicnn.cat([x, x]), lambda v: np.full_like(v, 2)),
        (lambda x: x @ x, lambda v: 2 * v),
    ],
    ids=["x*x", "x+x", "x-x", "x/x", "x*x*x", "cat(x,x)", "x@x"],
)
def test_a_tensor_used_twice_gets_both_contributions(backend_name, expr, grad):
    v = np.array([0.5, -1.5, 2.0])
    x = leaf(v)
    expr(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), grad(v), rtol=1e-14, atol=1e-15)


@settings(max_examples=examples(20))
@given(shape=shapes(), seed=seeds())
def test_composite_expression_with_reuse_passes_gradcheck(backend_name, shape, seed):
    def f(x, w):
        h = (x * w).tanh()
        return (h * x + h.exp() / w + (h - x) ** 2).sum(keepdim=False) * h.mean()

    check_op(f, positive(seed, shape), positive(seed + 1, shape))


def test_no_grad_as_a_context_manager_records_nothing(backend_name):
    x = leaf([1.0, 2.0])
    assert minicnn.is_grad_enabled()
    with minicnn.no_grad():
        assert not minicnn.is_grad_enabled()
        y = x * 2 + 1
    assert minicnn.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad and has no grad_fn"):
        y.sum().backward()


@pytest.mark.parametrize("with_parentheses", [True, False])
def test_no_grad_as_a_decorator(backend_name, with_parentheses):
    def double(t):
        """Docstring kept by the decorator."""
        assert not minicnn.is_grad_enabled()
        return t * 2

    wrapped = minicnn.no_grad()(double) if with_parentheses else minicnn.no_grad(double)
    y = wrapped(leaf([1.0]))
    assert y.grad_fn is None and not y.requires_grad
    assert minicnn.is_grad_enabled()
    assert wrapped.__name__ == "double" and wrapped.__doc__ == double.__doc__


def test_no_grad_restores_the_mode_after_an_exception(backend_name):
    with pytest.raises(KeyError):
        with minicnn.no_grad():
            raise KeyError("inside")
    assert minicnn.is_grad_enabled()

    @minicnn.no_grad
    def boom():
        raise KeyError("inside")

    with pytest.raises(KeyError):
        boom()
    assert minicnn.is_grad_enabled()
    with minicnn.no_grad():
        with pytest.raises(KeyError):
            with minicnn.enable_grad():
                raise KeyError("inside")
        assert not minicnn.is_grad_enabled()


def test_enable_grad_inside_no_grad(backend_name):
    x = leaf([1.0, 2.0])
    with minicnn.no_grad():
        with minicnn.enable_grad():
            assert minicnn.is_grad_enabled()
            y = x * 3
        assert not minicnn.is_grad_enabled()
        z = x * 3

    @minicnn.enable_grad
    def triple(t):
        return t * 3

    with minicnn.no_grad():
        w = triple(x)
    assert y.grad_fn is not None and z.grad_fn is None and w.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_nested_no_grad_restores_each_level(backend_name):
    with minicnn.no_grad():
        with minicnn.no_grad():
            pass
        assert not minicnn.is_grad_enabled()
    assert minicnn.is_grad_enabled()


def test_ops_on_tensors_without_grad_record_nothing(backend_name):
    x = minicnn.tensor([1.0, 2.0])
    y = x * 2
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_detach_cuts_the_graph_and_shares_data(backend_name):
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert d.array is y.array
    z = (d * x).sum()  # only the x factor carries gradient
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4])
    with minicnn.no_grad():
        d[0] = 10.0
    assert y.numpy()[0] == 10.0


def test_grad_accumulates_across_backward_calls_on_two_graphs(backend_name):
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2, 3 + 4])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5, 5])
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0])


def test_backward_twice_on_one_graph_needs_retain_graph(backend_name):
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_lets_the_second_backward_double_the_gradient(backend_name):
    x = leaf([1.0, 2.0])
    y = (x * x).exp().sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-15)


def test_non_leaf_grad_is_none_unless_retained(backend_name):
    x = leaf([1.0, 2.0])
    h = x * 3
    kept = x * 3
    kept.retain_grad()
    (h * h + kept * 2).sum().backward()
    assert not h.is_leaf and h.grad is None
    np.testing.assert_array_equal(kept.grad.numpy(), [2, 2])
    np.testing.assert_array_equal(x.grad.numpy(), 2 * 3 * 3 * np.array([1.0, 2.0]) + 6)


def test_requires_grad_(backend_name):
    x = minicnn.tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4])
    x.requires_grad_(False)
    assert (x * x).grad_fn is None
    with pytest.raises(
        RuntimeError, match="requires_grad: cannot turn off gradients of a non-leaf"
    ):
        (leaf([1.0]) * 2).requires_grad_(False)


def test_a_deep_chain_does_not_hit_the_recursion_limit(backend_name):
    depth = sys.getrecursionlimit() + 1000
    x = leaf([1.0])
    y = x
    for _ in range(depth):
        y = y * 1.0 + 0.001
    y.backward(minicnn.tensor([1.0], dtype="float64"))
    assert x.grad.item() == 1.0
    assert y.item() == pytest.approx(1 + 0.001 * depth)


def test_gradient_reaches_only_tensors_that_require_grad(backend_name):
    x = leaf([1.0, 2.0])
    c = minicnn.tensor([3.0, 4.0], dtype="float64")
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])


def test_backward_with_an_explicit_gradient(backend_name):
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=minicnn.tensor([1.0, 0.5, 0.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 0])
    z = leaf([[1.0, 2.0]])
    (z * 2).backward([[1.0, -1.0]])  # plain data is accepted too
    np.testing.assert_array_equal(z.grad.numpy(), [[2, -2]])


def test_backward_with_a_gradient_of_the_wrong_shape(backend_name):
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(ValueError, match=r"gradient: expected shape \(3,\), got \(2,\)"):
        y.backward(minicnn.ones(2, dtype="float64"))


def test_backward_of_a_non_scalar_without_gradient_names_the_shape(backend_name):
    y = leaf([[1.0, 2.0, 3.0]]) * 2
    with pytest.raises(RuntimeError, match=r"one-element output; this tensor has shape \(1, 3\)"):
        y.backward()


def test_backward_with_a_gradient_on_another_backend():
    y = minicnn.tensor([1.0, 2.0], requires_grad=True, backend="numpy") * 2
    with pytest.raises(
        TypeError, match="gradient: expected a tensor on backend 'numpy', got one on 'numba'"
    ):
        y.backward(minicnn.ones(2, backend="numba"))


def test_a_backward_that_returns_the_wrong_shape_is_caught(backend_name):
    class Bad(minicnn.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy[:1]

    with pytest.raises(
        RuntimeError,
        match=r"Bad.backward returned a gradient of shape \(1,\) for an input of shape \(2,\)",
    ):
        Bad.apply(leaf([1.0, 2.0])).sum().backward()


def test_function_subclass_records_its_inputs(backend_name):
    class Scale(minicnn.Function):
        def forward(self, x, factor):
            self.factor = factor
            return x * factor

        def backward(self, gy):
            return gy * self.factor, None

    x = leaf([1.0, 2.0])
    y = Scale.apply(x, 4.0)
    assert isinstance(y.grad_fn, Scale) and y.grad_fn.inputs == (x, None)
    assert y.grad_fn.needs_input_grad == (True, False)
    args, kwargs = y.grad_fn.call_args  # what check_graph runs it again on
    assert args[0] is x and args[1] == 4.0 and kwargs == {}
    assert "ScaleBackward" in repr(y)
    fn = y.grad_fn
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 4])
    assert fn.released and fn.call_args is None and fn.inputs == ()  # freed with the graph


def test_every_grad_owns_its_memory(backend_name):
    """Gradients handed to several tensors (a + b), views (reshape) and the caller's gradient
    are copied, so writing into one .grad never changes another."""
    a, b = minicnn.randn(3, requires_grad=True), minicnn.randn(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad[0] = 100.0
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1, 1])
    x, z = minicnn.randn(2, 3, requires_grad=True), minicnn.randn(3, 2, requires_grad=True)
    (x.reshape(3, 2) + z).sum().backward()
    x.grad[...] = 5.0
    np.testing.assert_array_equal(z.grad.numpy(), np.ones((3, 2)))
    v, w = minicnn.ones(3), minicnn.randn(3, requires_grad=True)
    w.backward(v)
    v[0] = 7.0
    np.testing.assert_array_equal(w.grad.numpy(), [1, 1, 1])
