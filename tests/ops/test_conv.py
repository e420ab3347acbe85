"""conv2d: gradcheck and forward against the direct loop on hypothesis-drawn geometry, "same"
padding, and argument errors raised before any kernel runs."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from minicnn.kernels import numpy_ref as R
from strategies import ConvCase, as_tensor, conv_cases, fast_mode, host, seeds, uniform

import minicnn
import minicnn.nn.functional as F


def conv_loop(case: ConvCase, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The direct sliding-window loop on x zero-padded by hand (so "same"'s asymmetric padding
    is spelled out here, not taken from conv2d)."""
    top, bottom, left, right = case.pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    return R.conv2d_forward_direct(xp, w, b, *case.strides, 0, 0, *case.dilations, case.groups)


def conv_inputs(case: ConvCase, seed: int, dtype=np.float64):
    x = uniform(seed, case.x_shape).astype(dtype)
    w = uniform(seed + 1, case.w_shape).astype(dtype)
    b = uniform(seed + 2, (case.OC,)).astype(dtype) if case.bias else None
    return x, w, b


@settings(max_examples=25)
@given(case=conv_cases(), seed=seeds())
def test_conv2d_gradcheck(backend_name, case, seed):
    x, w, b = conv_inputs(case, seed)
    inputs = [case.x_shape, case.w_shape] + ([(case.OC,)] if case.bias else [])
    y = check_op(
        lambda x, w, b: F.conv2d(x, w, b, **case.kwargs()),
        x,
        w,
        b,
        ref=lambda x, w, b: conv_loop(case, x, w, b),
        fast_mode=fast_mode(inputs, case.y_shape),
    )
    assert y.shape == case.y_shape


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-10)])
@settings(max_examples=20)
@given(case=conv_cases(max_elements=200), seed=seeds())
def test_conv2d_forward_matches_direct_loop(backend_name, dtype, rtol, case, seed):
    x, w, b = conv_inputs(case, seed, dtype)
    y = F.conv2d(as_tensor(x), as_tensor(w), None if b is None else as_tensor(b), **case.kwargs())
    assert y.backend == backend_name and y.dtype == dtype and y.shape == case.y_shape
    expected = conv_loop(case, x.astype(np.float64), w.astype(np.float64), b)
    np.testing.assert_allclose(host(y), expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-10)])
@settings(max_examples=20)
@given(case=conv_cases(max_elements=200), seed=seeds())
def test_conv2d_backward_matches_direct_loops(backend_name, dtype, rtol, case, seed):
    x, w, b = conv_inputs(case, seed, dtype)
    gy = uniform(seed + 3, case.y_shape).astype(dtype)
    xt, wt = as_tensor(x, requires_grad=True), as_tensor(w, requires_grad=True)
    bt = None if b is None else as_tensor(b, requires_grad=True)
    F.conv2d(xt, wt, bt, **case.kwargs()).backward(as_tensor(gy))
    top, bottom, left, right = case.pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right))).astype(np.float64)
    geom = (*case.strides, 0, 0, *case.dilations, case.groups)
    gy64, w64 = gy.astype(np.float64), w.astype(np.float64)
    gxp = R.conv2d_backward_input_direct(gy64, w64, *xp.shape[2:], *geom)
    gx = gxp[:, :, top : top + case.H, left : left + case.W]  # padding has no gradient
    gw = R.conv2d_backward_weight_direct(gy64, xp, case.KH, case.KW, *geom)
    assert xt.grad.dtype == dtype and wt.grad.dtype == dtype
    np.testing.assert_allclose(host(xt.grad), gx, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(host(wt.grad), gw, rtol=rtol, atol=rtol)
    if b is not None:
        np.testing.assert_allclose(host(bt.grad), gy64.sum(axis=(0, 2, 3)), rtol=rtol, atol=rtol)


@pytest.mark.parametrize(
    "kernel, dilation",
    [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), ((2, 3), 1), ((3, 4), 1), (2, 2), (3, 2), ((2, 3), 3)],
)
def test_same_padding_keeps_height_and_width(backend_name, kernel, dilation):
    KH, KW = (kernel, kernel) if isinstance(kernel, int) else kernel
    DH, DW = (dilation, dilation)
    x = uniform(1, (2, 3, 5, 6))
    w = uniform(2, (4, 3, KH, KW))
    b = uniform(3, (4,))
    xt, wt, bt = as_tensor(x), as_tensor(w), as_tensor(b)
    y = F.conv2d(xt, wt, bt, padding="same", dilation=dilation)
    assert y.shape == (2, 4, 5, 6)
    # the total padding D(K-1) split with the odd extra row/column at the bottom/right
    th, tw = DH * (KH - 1), DW * (KW - 1)
    top, left = th // 2, tw // 2
    explicit = F.conv2d(
        F.pad(xt, (left, tw - left, top, th - top)), wt, bt, padding=0, dilation=dilation
    )
    np.testing.assert_allclose(host(y), host(explicit), rtol=1e-12, atol=1e-12)
    if th % 2 or tw % 2:  # asymmetric: the extra on the top/left instead gives another answer
        mirrored = F.conv2d(
            F.pad(xt, (tw - left, left, th - top, top)), wt, bt, padding=0, dilation=dilation
        )
        assert not np.allclose(host(y), host(mirrored))


def test_same_padding_gradient_through_asymmetric_pad(backend_name):
    x, w = uniform(4, (1, 2, 3, 4)), uniform(5, (2, 2, 2, 3))
    check_op(lambda x, w: F.conv2d(x, w, padding="same"), x, w)


def test_valid_padding_is_no_padding(backend_name):
    x, w = as_tensor(uniform(6, (1, 2, 5, 4))), as_tensor(uniform(7, (3, 2, 3, 2)))
    y = F.conv2d(x, w, padding="valid")
    assert y.shape == (1, 3, 3, 3)
    np.testing.assert_array_equal(host(y), host(F.conv2d(x, w, padding=0)))


def test_non_contiguous_input_and_gradient(backend_name):
    x, w = uniform(8, (2, 3, 6, 5)), uniform(9, (4, 3, 3, 2))
    leaf = as_tensor(x.transpose(0, 1, 3, 2).copy(), requires_grad=True)  # (N, C, W, H)
    xt = minicnn.transpose(leaf, 2, 3)  # a (N, C, H, W) view with swapped strides
    assert not xt.array.flags["C_CONTIGUOUS"]
    y = F.conv2d(xt, as_tensor(w), stride=(2, 1), padding=1)
    expected = R.conv2d_forward_direct(x, w, None, 2, 1, 1, 1, 1, 1, 1)
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-12)
    gy = uniform(10, y.shape[::-1]).transpose(3, 2, 1, 0)  # a non-contiguous gradient
    y.backward(as_tensor(gy))
    gx = R.conv2d_backward_input_direct(gy, w, 6, 5, 2, 1, 1, 1, 1, 1, 1)
    np.testing.assert_allclose(host(leaf.grad), gx.transpose(0, 1, 3, 2), rtol=1e-10, atol=1e-12)


def test_float32_stays_float32_and_bias_adds_per_channel(backend_name):
    x = np.zeros((1, 2, 3, 3), np.float32)
    w = np.ones((3, 2, 2, 2), np.float32)
    b = np.array([1.0, -2.0, 0.5], np.float32)
    y = F.conv2d(as_tensor(x), as_tensor(w), as_tensor(b))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(host(y), np.broadcast_to(b[None, :, None, None], (1, 3, 2, 2)))


def _x(*shape, dtype=np.float64):
    return as_tensor(np.ones(shape, dtype))


# Each entry: the arguments of conv2d and a regex the ValueError must match (argument name,
# then what was received).
BAD_ARGUMENTS = {
    "channel mismatch": (
        lambda: (_x(1, 3, 5, 5), _x(4, 2, 3, 3)),
        {},
        r"weight.*3 channels.*\(4, 2, 3, 3\)",
    ),
    "channel mismatch with groups": (
        lambda: (_x(1, 4, 5, 5), _x(4, 1, 3, 3)),
        {"groups": 2},
        r"weight.*4 // 2 = 2.*\(4, 1, 3, 3\)",
    ),
    "groups not dividing in_channels": (
        lambda: (_x(1, 3, 5, 5), _x(4, 1, 3, 3)),
        {"groups": 2},
        r"groups.*3 input channels, got 2",
    ),
    "groups not dividing out_channels": (
        lambda: (_x(1, 4, 5, 5), _x(3, 2, 3, 3)),
        {"groups": 2},
        r"groups.*3 output channels, got 2",
    ),
    "groups zero": (lambda: (_x(1, 2, 5, 5), _x(2, 2, 3, 3)), {"groups": 0}, r"groups.*got 0"),
    "kernel taller than padded input": (
        lambda: (_x(1, 1, 2, 5), _x(1, 1, 5, 3)),
        {"padding": 1},
        r"kernel larger than the padded input along height.*spans 5.*2 \+ 2\*1",
    ),
    "dilated kernel wider than input": (
        lambda: (_x(1, 1, 5, 4), _x(1, 1, 1, 3)),
        {"dilation": 2},
        r"kernel larger than the padded input along width.*spans 5",
    ),
    "negative padding": (
        lambda: (_x(1, 1, 5, 5), _x(1, 1, 3, 3)),
        {"padding": -1},
        r"padding.*got -1",
    ),
    "negative padding in a pair": (
        lambda: (_x(1, 1, 5, 5), _x(1, 1, 3, 3)),
        {"padding": (1, -2)},
        r"padding.*got \(1, -2\)",
    ),
    "stride 0": (lambda: (_x(1, 1, 5, 5), _x(1, 1, 3, 3)), {"stride": 0}, r"stride.*got 0"),
    "dilation 0": (
        lambda: (_x(1, 1, 5, 5), _x(1, 1, 3, 3)),
        {"dilation": (1, 0)},
        r"dilation.*got \(1, 0\)",
    ),
    "same with stride 2": (
        lambda: (_x(1, 1, 5, 5), _x(1, 1, 3, 3)),
        {"padding": "same", "stride": 2},
        r"padding='same'.*stride=2",
    ),
    "bad padding string": (
        lambda: (_x(1, 1, 5, 5), _x(1, 1, 3, 3)),
        {"padding": "full"},
        r"padding.*'full'",
    ),
    "3-D input": (
        lambda: (_x(1, 5, 5), _x(1, 1, 3, 3)),
        {},
        r"input.*4-D.*\(1, 5, 5\)",
    ),
    "3-D weight": (
        lambda: (_x(1, 1, 5, 5), _x(1, 3, 3)),
        {},
        r"weight.*4-D.*\(1, 3, 3\)",
    ),
    "bias of the wrong shape": (
        lambda: (_x(1, 1, 5, 5), _x(2, 1, 3, 3), _x(3)),
        {},
        r"bias.*\(2,\).*\(3,\)",
    ),
}


def _kernel_must_not_run(name, *args, **kwargs):
    raise AssertionError(f"kernel {name!r} was looked up before the arguments were checked")


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_raise_before_any_kernel(backend_name, monkeypatch, case):
    make, kwargs, match = BAD_ARGUMENTS[case]
    args = make()
    monkeypatch.setattr(minicnn.backend, "kernel", _kernel_must_not_run)
    with pytest.raises(ValueError, match=match):
        F.conv2d(*args, **kwargs)


def test_input_not_a_tensor_is_a_type_error(backend_name):
    with pytest.raises(TypeError, match=r"input must be a Tensor, got ndarray"):
        F.conv2d(np.ones((1, 1, 3, 3)), _x(1, 1, 3, 3))


def test_integer_input_is_a_type_error(backend_name):
    x = minicnn.tensor(np.ones((1, 1, 3, 3), np.int64))
    with pytest.raises(TypeError, match=r"input.*floating-point.*int64"):
        F.conv2d(x, _x(1, 1, 3, 3))


def test_mixed_dtypes_are_a_type_error(backend_name, monkeypatch):
    x, w = _x(1, 1, 4, 4, dtype=np.float32), _x(1, 1, 3, 3, dtype=np.float64)
    monkeypatch.setattr(minicnn.backend, "kernel", _kernel_must_not_run)
    with pytest.raises(TypeError, match=r"float32 and float64"):
        F.conv2d(x, w)


def test_mixed_backends_are_a_type_error(monkeypatch):
    if minicnn.unavailable_reason("numba") is not None:
        pytest.skip("needs the numba backend")
    x = minicnn.tensor(np.ones((1, 1, 4, 4)), backend="numpy")
    w = minicnn.tensor(np.ones((1, 1, 3, 3)), backend="numba")
    monkeypatch.setattr(minicnn.backend, "kernel", _kernel_must_not_run)
    with pytest.raises(TypeError, match=r"'numba'.*'numpy'"):
        F.conv2d(x, w)


@settings(max_examples=10)
@given(case=conv_cases(), seed=seeds())
def test_conv2d_of_an_empty_batch(backend_name, case, seed):
    """As PyTorch: an empty batch gives an empty output, and the weight and bias gradients are
    sums over no samples, zero."""
    N = 0
    x = as_tensor(uniform(seed, (N, *case.x_shape[1:])), requires_grad=True)
    w = as_tensor(uniform(seed + 1, case.w_shape), requires_grad=True)
    b = as_tensor(uniform(seed + 2, (case.OC,)), requires_grad=True)
    y = F.conv2d(x, w, b, **case.kwargs())
    assert y.shape == (N, *case.y_shape[1:])
    y.sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(host(w.grad), np.zeros(case.w_shape))
    np.testing.assert_array_equal(host(b.grad), np.zeros(case.OC))
