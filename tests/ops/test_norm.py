"""batch_norm: gradcheck in training and evaluation, running statistics against values worked
out by hand (unbiased variance for the running estimate, biased for normalising), evaluation
with the running statistics, dtypes, and argument errors."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import as_tensor, bn_shapes, distinct_grid, fast_mode, host, seeds, uniform

import minicnn
import minicnn.nn.functional as F

EPS = 1e-5


def bn_reference(x, mean, var, w, b, eps=EPS):
    """(x - mean) / sqrt(var + eps) * w + b per channel (axis 1)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def batch_axes(x):
    return (0,) + tuple(range(2, x.ndim))


@settings(max_examples=20)
@given(shape=bn_shapes(), affine=st.sampled_from(["both", "weight", "bias", "none"]), seed=seeds())
def test_batch_norm_training_gradcheck(backend_name, shape, affine, seed):
    C = shape[1]
    x = distinct_grid(seed, shape)  # spread out, so no channel has a tiny variance
    w = uniform(seed + 1, (C,), 0.5, 1.5) if affine in ("both", "weight") else None
    b = uniform(seed + 2, (C,)) if affine in ("both", "bias") else None

    def ref(x, w, b):
        axes = batch_axes(x)
        return bn_reference(x, x.mean(axis=axes), x.var(axis=axes), w, b)

    inputs = [shape] + [(C,) for t in (w, b) if t is not None]
    check_op(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        x,
        w,
        b,
        ref=ref,
        fast_mode=fast_mode(inputs, shape),
    )


@settings(max_examples=20)
@given(shape=bn_shapes(), affine=st.booleans(), seed=seeds())
def test_batch_norm_eval_gradcheck(backend_name, shape, affine, seed):
    C = shape[1]
    x = uniform(seed, shape)
    mean, var = uniform(seed + 1, (C,)), uniform(seed + 2, (C,), 0.5, 2.0)
    rm, rv = as_tensor(mean), as_tensor(var)
    w = uniform(seed + 3, (C,), 0.5, 1.5) if affine else None
    b = uniform(seed + 4, (C,)) if affine else None
    inputs = [shape] + ([(C,), (C,)] if affine else [])
    check_op(
        lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False),
        x,
        w,
        b,
        ref=lambda x, w, b: bn_reference(x, mean, var, w, b),
        fast_mode=fast_mode(inputs, shape),
    )
    np.testing.assert_array_equal(host(rm), mean)  # evaluation leaves the statistics alone
    np.testing.assert_array_equal(host(rv), var)


def test_running_statistics_by_hand(backend_name):
    # channel 0 holds 1, 3: mean 2, biased variance 1, unbiased 2
    # channel 1 holds 2, 6: mean 4, biased variance 4, unbiased 8
    x = as_tensor(np.array([[1.0, 2.0], [3.0, 6.0]]))
    rm, rv = as_tensor(np.zeros(2)), as_tensor(np.ones(2))
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.1)
    np.testing.assert_allclose(host(rm), [0.1 * 2, 0.1 * 4], rtol=1e-12)
    np.testing.assert_allclose(host(rv), [0.9 + 0.1 * 2, 0.9 + 0.1 * 8], rtol=1e-12)
    # normalised with the biased variance: (1 - 2) / sqrt(1 + eps), (2 - 4) / sqrt(4 + eps)
    expected = np.array([[-1 / np.sqrt(1 + EPS), -2 / np.sqrt(4 + EPS)]])
    np.testing.assert_allclose(host(y), np.concatenate([expected, -expected]), rtol=1e-12)
    # a second step moves another 10 % of the way
    F.batch_norm(as_tensor(np.array([[0.0, 0.0], [2.0, 4.0]])), rm, rv, training=True)
    np.testing.assert_allclose(host(rm), [0.9 * 0.2 + 0.1 * 1, 0.9 * 0.4 + 0.1 * 2], rtol=1e-12)
    np.testing.assert_allclose(host(rv), [0.9 * 1.1 + 0.1 * 2, 0.9 * 1.7 + 0.1 * 8], rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_running_statistics_of_an_image_batch(backend_name, momentum):
    x = uniform(8, (3, 2, 4, 5))
    rm0, rv0 = uniform(9, (2,)), uniform(10, (2,), 0.5, 2.0)
    rm, rv = as_tensor(rm0), as_tensor(rv0)
    w, b = uniform(11, (2,)), uniform(12, (2,))
    y = F.batch_norm(as_tensor(x), rm, rv, as_tensor(w), as_tensor(b), True, momentum)
    mean, biased = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    unbiased = x.var(axis=(0, 2, 3), ddof=1)  # M = 3 * 4 * 5 = 60 values per channel
    np.testing.assert_allclose(host(rm), (1 - momentum) * rm0 + momentum * mean, rtol=1e-12)
    np.testing.assert_allclose(host(rv), (1 - momentum) * rv0 + momentum * unbiased, rtol=1e-10)
    np.testing.assert_allclose(host(y), bn_reference(x, mean, biased, w, b), rtol=1e-10, atol=1e-12)


def test_eval_uses_the_running_statistics_exactly(backend_name):
    x = uniform(13, (4, 3, 2, 2))
    mean, var = uniform(14, (3,)), uniform(15, (3,), 0.5, 2.0)
    w, b = uniform(16, (3,)), uniform(17, (3,))
    rm, rv = as_tensor(mean), as_tensor(var)
    y = F.batch_norm(as_tensor(x), rm, rv, as_tensor(w), as_tensor(b), training=False)
    np.testing.assert_allclose(host(y), bn_reference(x, mean, var, w, b), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(host(rm), mean)
    np.testing.assert_array_equal(host(rv), var)
    # the batch does not matter in evaluation: one sample alone gives the same answer
    y0 = F.batch_norm(as_tensor(x[:1]), rm, rv, as_tensor(w), as_tensor(b), training=False)
    np.testing.assert_allclose(host(y0), host(y)[:1], rtol=1e-14)


def test_train_and_eval_differ(backend_name):
    x = as_tensor(uniform(18, (5, 3)) * 3 + 2)
    rm, rv = as_tensor(np.zeros(3)), as_tensor(np.ones(3))
    train = host(F.batch_norm(x, rm, rv, training=True))
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-12)  # batch statistics
    evaluated = host(F.batch_norm(x, rm, rv, training=False))
    assert not np.allclose(train, evaluated)


def test_training_without_running_statistics_leaves_nothing_behind(backend_name):
    x = uniform(19, (4, 2))
    y = F.batch_norm(as_tensor(x), None, None, training=True)
    np.testing.assert_allclose(host(y), bn_reference(x, x.mean(0), x.var(0), None, None))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_for_output_and_running_statistics(backend_name, dtype):
    x = as_tensor(uniform(20, (4, 3, 2, 2)).astype(dtype))
    rm, rv = as_tensor(np.zeros(3, dtype)), as_tensor(np.ones(3, dtype))
    w, b = as_tensor(np.ones(3, dtype)), as_tensor(np.zeros(3, dtype))
    y = F.batch_norm(x, rm, rv, w, b, training=True)
    assert y.dtype == rm.dtype == rv.dtype == dtype
    assert rm.backend == rv.backend == y.backend == backend_name
    assert F.batch_norm(x, rm, rv, w, b, training=False).dtype == dtype


def test_gradient_flows_to_weight_and_bias_in_training_with_running_statistics(backend_name):
    x, w, b = distinct_grid(21, (3, 2, 2)), uniform(22, (2,), 0.5, 1.5), uniform(23, (2,))
    rm, rv = as_tensor(np.zeros(2)), as_tensor(np.ones(2))
    check_op(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True), x, w, b)


@pytest.mark.parametrize("training", [True, False])
def test_non_contiguous_input_and_gradient(backend_name, training):
    x, gy = uniform(25, (3, 2, 4, 5)), uniform(26, (3, 2, 4, 5))
    rm, rv = as_tensor(uniform(27, (2,))), as_tensor(uniform(28, (2,), 0.5, 2.0))
    w, b = as_tensor(uniform(29, (2,))), as_tensor(uniform(30, (2,)))
    results = []
    for view in (False, True):
        if view:
            leaf = as_tensor(x.transpose(0, 1, 3, 2).copy(), requires_grad=True)
            xt = minicnn.transpose(leaf, 2, 3)
            g = as_tensor(gy.transpose(0, 1, 3, 2).copy())
            g = minicnn.transpose(g, 2, 3)
        else:
            leaf = xt = as_tensor(x, requires_grad=True)
            g = as_tensor(gy)
        y = F.batch_norm(xt, rm, rv, w, b, training=training, momentum=0.0)
        y.backward(g)
        gx = host(leaf.grad)
        results.append((host(y), gx.transpose(0, 1, 3, 2) if view else gx))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


def _kernel_must_not_run(name, *args, **kwargs):
    raise AssertionError(f"kernel {name!r} was looked up before the arguments were checked")


BAD_ARGUMENTS = {
    "running_mean of the wrong shape": (
        (4, 3),
        dict(running_mean=np.zeros(2), running_var=np.ones(3)),
        r"running_mean: expected shape \(3,\), got \(2,\)",
    ),
    "running_var of the wrong shape": (
        (4, 3, 2, 2),
        dict(running_mean=np.zeros(3), running_var=np.ones((3, 1))),
        r"running_var: expected shape \(3,\), got \(3, 1\)",
    ),
    "weight of the wrong shape": (
        (4, 3),
        dict(weight=np.ones(4), training=True),
        r"weight: expected shape \(3,\), got \(4,\)",
    ),
    "one value per channel (N, C)": (
        (1, 3),
        dict(training=True),
        r"input: expected more than 1 value per channel when training, .*\(1, 3\)",
    ),
    "one value per channel (N, C, H, W)": (
        (1, 3, 1, 1),
        dict(training=True),
        r"input: expected more than 1 value per channel when training, .*\(1, 3, 1, 1\)",
    ),
    "only one running statistic": (
        (4, 3),
        dict(running_mean=np.zeros(3), training=True),
        r"running_mean and running_var must both be given",
    ),
    "eval without running statistics": (
        (4, 3),
        dict(training=False),
        r"running_mean: evaluation .* got None",
    ),
    "momentum above 1": (
        (4, 3),
        dict(momentum=1.5, training=True),
        r"momentum: expected a value in \[0, 1\], got 1.5",
    ),
    "eps zero": ((4, 3), dict(eps=0.0, training=True), r"eps: expected a positive number, got 0"),
    "1-D input": ((4,), dict(training=True), r"input.*got shape \(4,\)"),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_raise_before_any_kernel(backend_name, monkeypatch, case):
    shape, kwargs, match = BAD_ARGUMENTS[case]
    kwargs = {k: as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    kwargs.setdefault("running_mean", None)
    kwargs.setdefault("running_var", None)
    x = as_tensor(uniform(24, shape))
    monkeypatch.setattr(minicnn.backend, "kernel", _kernel_must_not_run)
    with pytest.raises(ValueError, match="batch_norm: " + match):
        F.batch_norm(x, **kwargs)


def test_running_statistic_not_a_tensor_is_a_type_error(backend_name):
    with pytest.raises(TypeError, match=r"running_mean: expected a Tensor or None, got ndarray"):
        F.batch_norm(as_tensor(np.ones((4, 3))), np.zeros(3), np.ones(3))


def test_mixed_dtypes_in_eval_are_a_type_error(backend_name):
    x = as_tensor(np.ones((4, 3), np.float32))
    rm, rv = as_tensor(np.zeros(3)), as_tensor(np.ones(3))
    with pytest.raises(TypeError, match=r"float32 and float64"):
        F.batch_norm(x, rm, rv, training=False)
