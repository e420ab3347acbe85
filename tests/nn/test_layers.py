"""Layers: constructor checks, output shapes, outputs equal to F.<fn>, default initialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from minicnn.kernels.geometry import out_size

import minicnn
import minicnn.nn as nn
import minicnn.nn.functional as F
from tests.conftest import to_numpy


def _x(*shape: int, seed: int = 1) -> minicnn.Tensor:
    """A float32 input on the current backend."""
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return minicnn.tensor(data)


def _same(a: minicnn.Tensor, b: minicnn.Tensor) -> None:
    assert a.shape == b.shape and a.backend == b.backend
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


CONV_CONFIGS = [
    # C, OC, kernel, stride, padding, dilation, groups, bias, (H, W)
    (3, 4, 3, 1, 0, 1, 1, True, (8, 8)),
    (3, 6, (3, 2), (2, 1), (1, 0), 1, 1, False, (7, 9)),
    (4, 4, 3, 1, 2, 2, 2, True, (6, 5)),
    (4, 8, 1, 2, 0, 1, 4, True, (5, 5)),
]


@pytest.mark.parametrize("C, OC, k, s, p, d, g, bias, HW", CONV_CONFIGS)
def test_conv2d_shape_and_output(backend_name, C, OC, k, s, p, d, g, bias, HW):
    conv = nn.Conv2d(C, OC, k, stride=s, padding=p, dilation=d, groups=g, bias=bias)
    (KH, KW), (SH, SW), (PH, PW), (DH, DW) = (
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
    )
    assert conv.weight.shape == (OC, C // g, KH, KW)
    assert (conv.bias is None) == (not bias) and conv.weight.backend == backend_name
    assert conv.weight.dtype == np.float32 and conv.weight.requires_grad
    x = _x(2, C, *HW)
    y = conv(x)
    assert y.shape == (2, OC, out_size(HW[0], KH, SH, PH, DH), out_size(HW[1], KW, SW, PW, DW))
    _same(y, F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, g))


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_string_padding(backend_name, padding):
    conv = nn.Conv2d(2, 3, 4, padding=padding, dilation=2)
    x = _x(1, 2, 9, 10)
    y = conv(x)
    assert y.shape == ((1, 3, 9, 10) if padding == "same" else (1, 3, 3, 4))
    _same(y, F.conv2d(x, conv.weight, conv.bias, 1, padding, 2))
    assert f"padding={padding}" in repr(conv)


def test_conv2d_gradients_reach_parameters(backend_name):
    conv = nn.Conv2d(2, 3, 3, padding=1)
    conv(_x(2, 2, 5, 5)).sum().backward()
    assert conv.weight.grad.shape == conv.weight.shape and conv.bias.grad.shape == (3,)


@pytest.mark.parametrize(
    "k, s, p, d, ceil",
    [(2, None, 0, 1, False), (3, 2, 1, 1, True), ((2, 3), (1, 2), (1, 0), 2, False)],
)
def test_maxpool2d(backend_name, k, s, p, d, ceil):
    pool = nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)
    x = _x(2, 3, 9, 8)
    y = pool(x)
    _same(y, F.max_pool2d(x, k, s, p, d, ceil_mode=ceil))
    assert y.shape[:2] == (2, 3)
    assert pool.stride == (k if s is None else s)


def test_maxpool2d_shapes_and_indices(backend_name):
    assert nn.MaxPool2d(2)(_x(1, 2, 8, 6)).shape == (1, 2, 4, 3)
    assert nn.MaxPool2d(3, 2, 1, ceil_mode=True)(_x(1, 1, 8, 8)).shape == (1, 1, 5, 5)
    y, idx = nn.MaxPool2d(2, return_indices=True)(_x(1, 2, 4, 4))
    assert y.shape == idx.shape == (1, 2, 2, 2) and idx.dtype == np.int64


@pytest.mark.parametrize(
    "k, s, p, ceil, include",
    [(2, None, 0, False, True), (3, 2, 1, True, False), ((3, 2), 1, (1, 1), False, True)],
)
def test_avgpool2d(backend_name, k, s, p, ceil, include):
    pool = nn.AvgPool2d(k, s, p, ceil_mode=ceil, count_include_pad=include)
    x = _x(2, 3, 7, 6)
    _same(pool(x), F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=include))
    assert nn.AvgPool2d(2)(_x(1, 2, 8, 6)).shape == (1, 2, 4, 3)


@pytest.mark.parametrize("size, expected", [(1, (1, 1)), ((3, 2), (3, 2)), ((None, 4), (7, 4))])
def test_adaptive_pools(backend_name, size, expected):
    x = _x(2, 3, 7, 9)
    avg, mx = nn.AdaptiveAvgPool2d(size), nn.AdaptiveMaxPool2d(size)
    assert avg(x).shape == mx(x).shape == (2, 3, *expected)
    _same(avg(x), F.adaptive_avg_pool2d(x, size))
    _same(mx(x), F.adaptive_max_pool2d(x, size))
    y, idx = nn.AdaptiveMaxPool2d(size, return_indices=True)(x)
    assert idx.shape == y.shape


def _copies(bn: nn.Module) -> tuple[minicnn.Tensor, minicnn.Tensor]:
    return (
        minicnn.tensor(bn.running_mean.array.copy()),
        minicnn.tensor(bn.running_var.array.copy()),
    )


@pytest.mark.parametrize(
    "layer, shape",
    [(nn.BatchNorm2d, (4, 3, 5, 6)), (nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 7))],
)
def test_batchnorm_train_and_eval(backend_name, layer, shape):
    bn = layer(3, momentum=0.2)
    with minicnn.no_grad():
        bn.weight[...] = minicnn.tensor([1.0, 2.0, 0.5])
        bn.bias[...] = minicnn.tensor([0.0, -1.0, 3.0])
    x = _x(*shape) * 2 + 1
    rm, rv = _copies(bn)
    expected = F.batch_norm(x, rm, rv, bn.weight, bn.bias, training=True, momentum=0.2)
    y = bn(x)
    _same(y, expected)
    _same(bn.running_mean, rm)  # F updated the copies exactly as the layer's buffers
    _same(bn.running_var, rv)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == np.int64
    axes = (0,) if len(shape) == 2 else (0, *range(2, len(shape)))
    np.testing.assert_allclose(
        to_numpy(bn.running_mean), 0.2 * to_numpy(x).mean(axis=axes), rtol=1e-5
    )

    bn.eval()
    y = bn(x)
    _same(y, F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, training=False))
    assert bn.num_batches_tracked.item() == 1  # evaluation changes no statistics


def test_batchnorm_defaults_and_buffers(backend_name):
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    np.testing.assert_array_equal(to_numpy(bn.weight), np.ones(4, np.float32))
    np.testing.assert_array_equal(to_numpy(bn.bias), np.zeros(4, np.float32))
    np.testing.assert_array_equal(to_numpy(bn.running_mean), np.zeros(4, np.float32))
    np.testing.assert_array_equal(to_numpy(bn.running_var), np.ones(4, np.float32))
    assert not bn.running_mean.requires_grad
    assert all(t.backend == backend_name for t in [*bn.parameters(), *bn.buffers()])
    assert (
        repr(bn) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )


def test_batchnorm_cumulative_average_and_options(backend_name):
    bn = nn.BatchNorm1d(2, momentum=None)
    a, b = _x(5, 2, seed=1), _x(5, 2, seed=2) + 3
    bn(a)
    bn(b)
    batch_means = (to_numpy(a).mean(axis=0) + to_numpy(b).mean(axis=0)) / 2
    np.testing.assert_allclose(to_numpy(bn.running_mean), batch_means, rtol=1e-5, atol=1e-6)

    plain = nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert not list(plain.parameters()) and not list(plain.buffers())
    x = _x(3, 2, 4, 4)
    plain.eval()  # no running statistics: batch statistics even in evaluation
    _same(plain(x), F.batch_norm(x, None, None, training=True))

    with pytest.raises(
        ValueError, match=r"BatchNorm2d: input: expected a 4-D tensor \(N, C, H, W\)"
    ):
        nn.BatchNorm2d(2)(_x(3, 2))
    with pytest.raises(ValueError, match="expected 2 channels"):
        nn.BatchNorm1d(2)(_x(3, 5))


@pytest.mark.parametrize("layer, fn", [(nn.Dropout, F.dropout), (nn.Dropout2d, F.dropout2d)])
def test_dropout_layers(backend_name, layer, fn):
    drop = layer(0.3)
    x = _x(4, 5, 3, 3)
    minicnn.manual_seed(7)
    y = drop(x)
    minicnn.manual_seed(7)
    _same(y, fn(x, 0.3, True))
    assert 0 < (to_numpy(y) == 0).mean() < 1
    drop.eval()
    _same(drop(x), x)
    assert repr(drop) == f"{layer.__name__}(p=0.3)"


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(backend_name, shape):
    fc = nn.Linear(4, 3)
    assert fc.weight.shape == (3, 4) and fc.bias.shape == (3,)
    x = _x(*shape)
    y = fc(x)
    assert y.shape == (*shape[:-1], 3)
    _same(y, F.linear(x, fc.weight, fc.bias))
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    _same(no_bias(x), F.linear(x, no_bias.weight))
    assert repr(no_bias) == "Linear(in_features=4, out_features=3, bias=False)"


@pytest.mark.parametrize(
    "layer, fn",
    [
        (nn.ReLU(), F.relu),
        (nn.LeakyReLU(), lambda x: F.leaky_relu(x, 0.01)),
        (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
        (nn.Tanh(), F.tanh),
        (nn.Sigmoid(), F.sigmoid),
        (nn.Softmax(dim=1), lambda x: F.softmax(x, 1)),
        (nn.LogSoftmax(dim=-1), lambda x: F.log_softmax(x, -1)),
        (nn.Flatten(), F.flatten),
        (nn.Flatten(0, 2), lambda x: F.flatten(x, 0, 2)),
        (nn.Identity(54, unused=True), lambda x: x),
    ],
    ids=lambda v: repr(v) if isinstance(v, nn.Module) else "",
)
def test_parameter_free_layers(backend_name, layer, fn):
    x = _x(2, 3, 4, 5)
    _same(layer(x), fn(x))
    assert not list(layer.parameters())


def test_flatten_shapes_and_reprs(backend_name):
    x = _x(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


def test_losses(backend_name):
    logits = _x(6, 4)
    target = minicnn.tensor([0, 3, 1, 1, -100, 2])
    weight = minicnn.tensor([1.0, 2.0, 0.5, 1.0])
    for kwargs in ({}, {"reduction": "sum"}, {"reduction": "none", "label_smoothing": 0.1}):
        _same(
            nn.CrossEntropyLoss(**kwargs)(logits, target), F.cross_entropy(logits, target, **kwargs)
        )
    criterion = nn.CrossEntropyLoss(weight=weight, ignore_index=-100)
    _same(criterion(logits, target), F.cross_entropy(logits, target, weight=weight))
    assert [n for n, _ in criterion.named_buffers()] == ["weight"]  # moves with .to()
    other = _x(6, 4, seed=2)
    _same(nn.MSELoss()(logits, other), F.mse_loss(logits, other))
    _same(nn.MSELoss("sum")(logits, other), F.mse_loss(logits, other, reduction="sum"))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Conv2d(0, 4, 3), "Conv2d: in_channels: expected an int >= 1, got 0"),
        (
            lambda: nn.Conv2d(3, 4, 3, groups=2),
            "Conv2d: groups: expected a divisor of the 3 input channels, got 2",
        ),
        (
            lambda: nn.Conv2d(4, 3, 3, groups=2),
            "Conv2d: groups: expected a divisor of the 3 output channels, got 2",
        ),
        (
            lambda: nn.Conv2d(3, 4, 0),
            "Conv2d: kernel_size: expected an int >= 1 or a pair of them, got 0",
        ),
        (lambda: nn.Conv2d(3, 4, 3, stride=(1, 0)), r"Conv2d: stride: expected .* got \(1, 0\)"),
        (
            lambda: nn.Conv2d(3, 4, 3, padding=-1),
            "Conv2d: padding: expected an int >= 0 or a pair of them, got -1",
        ),
        (lambda: nn.Conv2d(3, 4, 3, padding="full"), "Conv2d: padding: expected .* got 'full'"),
        (
            lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"),
            "Conv2d: padding='same' requires stride 1",
        ),
        (lambda: nn.Conv2d(3, 4, 3, bias=None), "Conv2d: bias: expected a bool, got None"),
        (
            lambda: nn.MaxPool2d(2, padding=2),
            r"MaxPool2d: padding: expected at most half the kernel size \(1, 1\), got \(2, 2\)",
        ),
        (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size: expected .* got 0"),
        (lambda: nn.AvgPool2d(2, stride=0), "AvgPool2d: stride: expected .* got 0"),
        (lambda: nn.AdaptiveAvgPool2d(0), "AdaptiveAvgPool2d: output_size: expected .* got 0"),
        (
            lambda: nn.AdaptiveMaxPool2d((2, 2, 2)),
            r"AdaptiveMaxPool2d: output_size: expected .* got \(2, 2, 2\)",
        ),
        (lambda: nn.BatchNorm2d(0), "BatchNorm2d: num_features: expected an int >= 1, got 0"),
        (lambda: nn.BatchNorm1d(3, eps=0), "BatchNorm1d: eps: expected a positive number, got 0"),
        (
            lambda: nn.BatchNorm1d(3, momentum=1.5),
            r"BatchNorm1d: momentum: expected a value in \[0, 1\], got 1.5",
        ),
        (lambda: nn.Dropout(1.0), r"Dropout: p: expected a probability in \[0, 1\), got 1.0"),
        (lambda: nn.Dropout2d(-0.1), r"Dropout2d: p: expected a probability in \[0, 1\), got -0.1"),
        (lambda: nn.Linear(4, 0), "Linear: out_features: expected an int >= 1, got 0"),
        (lambda: nn.Linear(4.0, 2), "Linear: in_features: expected an int >= 1, got 4.0"),
        (lambda: nn.LeakyReLU("0.1"), "LeakyReLU: negative_slope: expected a number, got '0.1'"),
        (lambda: nn.Softmax(dim=None), "Softmax: dim: expected an int, got None"),
        (lambda: nn.Flatten(1.5), "Flatten: start_dim: expected an int, got 1.5"),
        (
            lambda: nn.CrossEntropyLoss(reduction="avg"),
            "CrossEntropyLoss: reduction: expected one of .* got 'avg'",
        ),
        (
            lambda: nn.CrossEntropyLoss(label_smoothing=2),
            r"CrossEntropyLoss: label_smoothing: expected a value in \[0, 1\], got 2",
        ),
        (lambda: nn.MSELoss(reduction=None), "MSELoss: reduction: expected one of .* got None"),
    ],
)
def test_constructor_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "make, fan_in",
    [
        (lambda: nn.Conv2d(16, 32, 3), 16 * 9),
        (lambda: nn.Conv2d(8, 8, (5, 3), groups=4), 2 * 15),
        (lambda: nn.Linear(400, 120), 400),
    ],
)
def test_default_init_bounds(backend_name, make, fan_in):
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = to_numpy(p)
        assert p.dtype == np.float32 and p.backend == backend_name
        assert np.abs(values).max() <= bound
    # The whole range is used (the weight has >= 240 values: P(all within 0.9 b) < 1e-10).
    assert np.abs(to_numpy(layer.weight)).max() > 0.9 * bound


def test_default_init_statistics():
    """U(-b, b) with b = 1/sqrt(fan_in) has std b/sqrt(3); check it within 5 standard errors."""
    fc = nn.Linear(1024, 512)
    w = to_numpy(fc.weight).astype(np.float64)
    n, sigma = w.size, 1 / math.sqrt(3 * 1024)
    assert abs(w.mean()) < 5 * sigma / math.sqrt(n)
    assert abs(w.std() - sigma) < 5 * sigma / math.sqrt(2 * n)


def test_default_init_is_seeded():
    minicnn.manual_seed(3)
    a = nn.Conv2d(3, 4, 3)
    minicnn.manual_seed(3)
    b = nn.Conv2d(3, 4, 3)
    _same(a.weight, b.weight)
    _same(a.bias, b.bias)
    assert not np.array_equal(to_numpy(a.weight), to_numpy(nn.Conv2d(3, 4, 3).weight))
