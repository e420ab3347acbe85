"""Elementwise ops: gradcheck on broadcasting shapes, forward against NumPy, dtype rules and
argument errors."""

import numpy as np
import pytest
from helpers import check_op, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import away_from_zero, broadcast_pairs, clamp_cases, positive, seeds, shapes, values

import minicnn

BINARY = {
    "add": (minicnn.add, np.add),
    "sub": (minicnn.sub, np.subtract),
    "mul": (minicnn.mul, np.multiply),
    "div": (minicnn.div, np.divide),
    "operator +": (lambda a, b: a + b, np.add),
    "operator -": (lambda a, b: a - b, np.subtract),
    "operator *": (lambda a, b: a * b, np.multiply),
    "operator /": (lambda a, b: a / b, np.divide),
}


@pytest.mark.parametrize("name", list(BINARY))
@settings(max_examples=examples(20))
@given(pair=broadcast_pairs(), seed=seeds())
def test_binary_ops_on_broadcasting_shapes(backend_name, name, pair, seed):
    fn, ref = BINARY[name]
    a = values(seed, pair[0])
    b = away_from_zero(seed + 1, pair[1], gap=0.5)  # a safe divisor
    check_op(fn, a, b, ref=ref)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@settings(max_examples=examples(20))
@given(shape=shapes(), seed=seeds(), scalar=st.sampled_from([-1.5, 0.5, 3]))
def test_binary_ops_with_a_python_number_on_either_side(backend_name, name, shape, seed, scalar):
    fn, ref = BINARY[name]
    x = away_from_zero(seed, shape, gap=0.5)
    check_op(lambda t: fn(t, scalar), x, ref=lambda a: ref(a, scalar))
    check_op(lambda t: fn(scalar, t), x, ref=lambda a: ref(scalar, a))


@pytest.mark.parametrize(
    "expr, ref",
    [
        (lambda x: 2 + x, lambda x: 2 + x),
        (lambda x: 2 - x, lambda x: 2 - x),
        (lambda x: 2 * x, lambda x: 2 * x),
        (lambda x: 2 / x, lambda x: 2 / x),
        (lambda x: 2**x, lambda x: 2**x),
        (lambda x: -x, lambda x: -x),
    ],
    ids=["radd", "rsub", "rmul", "rtruediv", "rpow", "neg"],
)
def test_reflected_operators(backend_name, expr, ref):
    x = np.array([[0.5, -1.25, 2.0], [1.5, -0.75, 0.25]])
    check_op(expr, x, ref=ref)


@settings(max_examples=examples(20))
@given(shape=shapes(), seed=seeds())
def test_neg(backend_name, shape, seed):
    check_op(minicnn.neg, values(seed, shape), ref=np.negative)


@settings(max_examples=examples(20))
@given(shape=shapes(), seed=seeds(), exponent=st.sampled_from([2, 3, -1.5, 0.5, 2.7]))
def test_pow_tensor_to_a_number(backend_name, shape, seed, exponent):
    x = positive(seed, shape)
    check_op(lambda t: t**exponent, x, ref=lambda a: a**exponent)
    check_op(lambda t: minicnn.pow(t, exponent), x, ref=lambda a: a**exponent)


@settings(max_examples=examples(20))
@given(shape=shapes(), seed=seeds(), base=st.sampled_from([2.0, 0.5, 3.7]))
def test_pow_number_to_a_tensor(backend_name, shape, seed, base):
    x = values(seed, shape)
    check_op(lambda t: base**t, x, ref=lambda a: base**a)
    check_op(lambda t: minicnn.pow(base, t), x, ref=lambda a: base**a)


@settings(max_examples=examples(20))
@given(pair=broadcast_pairs(), seed=seeds())
def test_pow_tensor_to_a_tensor(backend_name, pair, seed):
    base, exponent = positive(seed, pair[0]), values(seed + 1, pair[1])
    check_op(minicnn.pow, base, exponent, ref=np.power)


def _leaky(slope):
    return lambda x: np.where(x > 0, x, slope * x)


UNARY = {
    # name: (minicnn function, NumPy reference, values that keep finite differences honest)
    "exp": (minicnn.exp, np.exp, values),
    "log": (minicnn.log, np.log, positive),
    "sqrt": (minicnn.sqrt, np.sqrt, positive),
    "abs": (minicnn.abs, np.abs, away_from_zero),
    "relu": (minicnn.relu, lambda x: np.maximum(x, 0), away_from_zero),
    "leaky_relu": (minicnn.leaky_relu, _leaky(0.01), away_from_zero),
    "leaky_relu(0.2)": (lambda t: minicnn.leaky_relu(t, 0.2), _leaky(0.2), away_from_zero),
    "tanh": (minicnn.tanh, np.tanh, values),
    "sigmoid": (minicnn.sigmoid, lambda x: 1 / (1 + np.exp(-x)), values),
    "method exp": (lambda t: t.exp(), np.exp, values),
    "method log": (lambda t: t.log(), np.log, positive),
    "method sqrt": (lambda t: t.sqrt(), np.sqrt, positive),
    "method abs": (lambda t: t.abs(), np.abs, away_from_zero),
    "method relu": (lambda t: t.relu(), lambda x: np.maximum(x, 0), away_from_zero),
    "method tanh": (lambda t: t.tanh(), np.tanh, values),
    "method sigmoid": (lambda t: t.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), values),
}


@pytest.mark.parametrize("name", list(UNARY))
@settings(max_examples=examples(20))
@given(shape=shapes(), seed=seeds())
def test_unary_ops(backend_name, name, shape, seed):
    fn, ref, draw_values = UNARY[name]
    check_op(fn, draw_values(seed, shape), ref=ref)


def test_relu_and_abs_gradient_at_zero_is_zero(backend_name):
    for fn in (minicnn.relu, minicnn.abs):
        x = minicnn.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        fn(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [-1.0 if fn is minicnn.abs else 0, 0, 1])


def test_sigmoid_and_tanh_saturate_without_overflow(backend_name):
    x = minicnn.tensor([-1000.0, 0.0, 1000.0], dtype="float64", requires_grad=True)
    with np.errstate(all="raise"):
        y = minicnn.sigmoid(x)
        y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.25, 0.0])
    np.testing.assert_array_equal(minicnn.tanh(x).numpy(), [-1.0, 0.0, 1.0])


@settings(max_examples=examples(20))
@given(case=clamp_cases(), seed=seeds())
def test_clamp(backend_name, case, seed):
    shape, lo, hi = case
    x = (np.random.default_rng(seed).integers(-8, 8, size=shape) + 0.5) / 4
    check_op(lambda t: minicnn.clamp(t, lo, hi), x, ref=lambda a: np.clip(a, lo, hi))
    check_op(lambda t: t.clamp(min=lo, max=hi), x, ref=lambda a: np.clip(a, lo, hi))


@settings(max_examples=examples(20))
@given(pair=broadcast_pairs(), seed=seeds(), cond_first=st.booleans())
def test_where(backend_name, pair, seed, cond_first):
    cond_shape = pair[0] if cond_first else pair[1]
    cond = np.random.default_rng(seed).random(cond_shape) < 0.5
    a, b = values(seed + 1, pair[0]), values(seed + 2, pair[1])
    check_op(minicnn.where, cond, a, b, ref=np.where)
    check_op(lambda c, x: minicnn.where(c, x, 0.5), cond, a, ref=lambda c, x: np.where(c, x, 0.5))


def test_where_sends_no_gradient_to_the_branch_not_taken(backend_name):
    a = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = minicnn.tensor([4.0, 5.0, 6.0], requires_grad=True)
    minicnn.where(minicnn.tensor([True, False, True]), a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 0, 1])
    np.testing.assert_array_equal(b.grad.numpy(), [0, 1, 0])


@settings(max_examples=examples(20))
@given(pair=broadcast_pairs(), seed=seeds())
def test_broadcast_gradient_is_summed_over_the_copies(backend_name, pair, seed):
    a = minicnn.tensor(values(seed, pair[0]), dtype="float64", requires_grad=True)
    b = minicnn.tensor(values(seed + 1, pair[1]), dtype="float64", requires_grad=True)
    (a + b).sum().backward()
    out = np.broadcast_shapes(pair[0], pair[1])
    # each element of an operand is copied numel(out) / numel(operand) times
    np.testing.assert_array_equal(
        a.grad.numpy(), np.full(pair[0], np.prod(out) / max(a.numel(), 1))
    )
    np.testing.assert_array_equal(
        b.grad.numpy(), np.full(pair[1], np.prod(out) / max(b.numel(), 1))
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ops_keep_the_float_dtype(backend_name, dtype):
    x = minicnn.tensor([0.5, 1.5], dtype=dtype, requires_grad=True)
    outs = [
        x + 1,
        1 - x,
        x * 2.5,
        2.5 / x,
        x**2,
        x**x,
        -x,
        x.exp(),
        x.log(),
        x.sqrt(),
        x.abs(),
        x.relu(),
        minicnn.leaky_relu(x),
        x.tanh(),
        x.sigmoid(),
        x.clamp(0, 1),
        minicnn.where(x > 1, x, 0.0),
        x + x,
        x / x,
    ]
    for y in outs:
        assert y.dtype == np.dtype(dtype)
        assert y.backend == backend_name
    sum(outs).sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


def test_an_int_tensor_meeting_a_float_tensor_takes_its_dtype(backend_name):
    i = minicnn.tensor([1, 2])
    f = minicnn.tensor([0.5, 0.25], requires_grad=True)
    for y in (i + f, f + i, i * f, f / i, i - f):
        assert y.dtype == np.float32
    (i * f).sum().backward()
    np.testing.assert_array_equal(f.grad.numpy(), [1, 2])


def test_number_to_a_tensor_power_keeps_a_float32_gradient(backend_name):
    x = minicnn.tensor([0.5, 1.5], requires_grad=True)
    y = 2**x
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_an_int_tensor_and_a_python_float_give_float32(backend_name):
    assert (minicnn.tensor([1, 2]) + 0.5).dtype == np.float32


def test_a_numpy_scalar_does_not_promote_a_float32_tensor(backend_name):
    x = minicnn.tensor([1.0, 2.0])
    assert (x * np.float64(2.0)).dtype == np.float32


def test_true_division_of_integer_tensors_gives_float32(backend_name):
    i = minicnn.tensor([1, 2])
    for y in (i / 2, 2 / i, i / i):
        assert y.dtype == np.float32


def test_float_functions_of_an_integer_tensor_give_float32(backend_name):
    i = minicnn.tensor([1, 2])
    for fn in (minicnn.exp, minicnn.log, minicnn.sqrt, minicnn.tanh, minicnn.sigmoid):
        assert fn(i).dtype == np.float32, fn.__name__


def test_add_rejects_shapes_that_do_not_broadcast(backend_name):
    a, b = minicnn.zeros(2, 3), minicnn.zeros(4, 3)
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4, 3\) do not broadcast"):
        a + b
    with pytest.raises(ValueError, match=r"axis -2: 2 vs 4"):
        minicnn.add(a, b)
    with pytest.raises(ValueError, match=r"mul: shapes \(3,\) and \(2,\)"):
        minicnn.zeros(3) * minicnn.zeros(2)


def test_binary_ops_reject_non_numbers(backend_name):
    with pytest.raises(TypeError, match="add: other must be a Tensor or a number, got str"):
        minicnn.add(minicnn.zeros(2), "1")
    with pytest.raises(TypeError, match="mul: input must be a Tensor or a number, got list"):
        minicnn.mul([1.0, 2.0], minicnn.zeros(2))


def test_mixing_float32_and_float64_is_an_error(backend_name):
    a = minicnn.zeros(2)
    b = minicnn.zeros(2, dtype="float64")
    with pytest.raises(
        TypeError, match=r"Add: inputs mix dtypes float32 and float64.*\.double\(\)"
    ):
        a + b
    with pytest.raises(TypeError, match="float32 and float64"):
        minicnn.where(minicnn.tensor([True, False]), b, a)


def test_mixing_numpy_and_numba_tensors_is_an_error():
    a = minicnn.zeros(2, backend="numpy")
    b = minicnn.zeros(2, backend="numba")
    with pytest.raises(
        TypeError, match=r"Add: inputs live on different backends \('numba' and 'numpy'\)"
    ):
        a + b
    with pytest.raises(TypeError, match=r"different backends \('numba' and 'numpy'\)"):
        minicnn.mul(b, a)
    with pytest.raises(TypeError, match=r"comparison: .*'numpy' and 'numba'"):
        _ = a < b


def test_clamp_rejects_min_greater_than_max(backend_name):
    with pytest.raises(ValueError, match=r"clamp: expected min <= max, got min=2.0, max=1.0"):
        minicnn.clamp(minicnn.zeros(3), 2.0, 1.0)
    with pytest.raises(ValueError, match="clamp: expected at least one of min and max"):
        minicnn.clamp(minicnn.zeros(3))


def test_where_needs_a_bool_condition(backend_name):
    x = minicnn.zeros(2)
    with pytest.raises(TypeError, match="condition: expected a bool tensor, got dtype float32"):
        minicnn.where(x, x, x)
    with pytest.raises(TypeError, match="condition: expected a bool Tensor, got list"):
        minicnn.where([True, False], x, x)
    with pytest.raises(ValueError, match=r"where: shapes \(2,\) and \(3,\)"):
        minicnn.where(minicnn.tensor([True, False]), x, minicnn.zeros(3))
