"""conv_transpose2d: forward against a direct scatter loop, the adjoint identity with conv2d,
gradcheck on hypothesis-drawn geometry (stride, padding, output_padding, dilation, groups),
and argument errors."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import conv_transpose_cases

import minicnn
import minicnn.nn.functional as F
from minicnn import nn


def scatter_loop(x, w, b, S, P, OP, D, G):
    """y[n, o, h*S - P + kh*D, w*S - P + kw*D] += x[n, c, h, w] * w[c, o', kh, kw], for the
    output channels o of c's group; written independently of the convolution kernels."""
    N, C, H, W = x.shape
    _, OCg, KH, KW = w.shape
    Cg = C // G
    OH = (H - 1) * S[0] - 2 * P[0] + D[0] * (KH - 1) + OP[0] + 1
    OW = (W - 1) * S[1] - 2 * P[1] + D[1] * (KW - 1) + OP[1] + 1
    y = np.zeros((N, OCg * G, OH, OW))
    for n in range(N):
        for c in range(C):
            g = c // Cg
            for h in range(H):
                for ww in range(W):
                    for kh in range(KH):
                        for kw in range(KW):
                            i, j = h * S[0] - P[0] + kh * D[0], ww * S[1] - P[1] + kw * D[1]
                            if 0 <= i < OH and 0 <= j < OW:
                                y[n, g * OCg : (g + 1) * OCg, i, j] += (
                                    x[n, c, h, ww] * w[c, :, kh, kw]
                                )
    if b is not None:
        y += b[None, :, None, None]
    return y


@settings(max_examples=25)
@given(case=conv_transpose_cases(), seed=st.integers(0, 2**32 - 1))
def test_conv_transpose2d_gradcheck_and_forward(backend_name, case, seed):
    c = case
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (c["N"], c["C"], c["H"], c["W"]))
    w = rng.uniform(-1, 1, (c["C"], c["OC"] // c["G"], *c["K"]))
    b = rng.uniform(-1, 1, c["OC"]) if c["bias"] else None
    kw = dict(stride=c["S"], padding=c["P"], output_padding=c["OP"], groups=c["G"], dilation=c["D"])
    y = check_op(
        lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
        x,
        w,
        b,
        ref=lambda x, w, b: scatter_loop(x, w, b, c["S"], c["P"], c["OP"], c["D"], c["G"]),
        fast_mode=x.size + w.size > 60,
    )
    assert y.shape[:2] == (c["N"], c["OC"])


def test_conv_transpose2d_is_the_adjoint_of_conv2d(backend_name):
    # <conv_transpose2d(x, w), z> == <x, conv2d(z, w)> for the same stride/padding/dilation
    rng = np.random.default_rng(0)
    w = minicnn.tensor(rng.normal(size=(3, 2, 3, 3)), dtype="float64")  # (C, OC, KH, KW)
    z = minicnn.tensor(rng.normal(size=(2, 2, 9, 8)), dtype="float64")
    kw = dict(stride=2, padding=1, dilation=1)
    cz = F.conv2d(z, w, **kw)  # (2, 3, 5, 4)
    x = minicnn.tensor(rng.normal(size=cz.shape), dtype="float64")
    y = F.conv_transpose2d(x, w, output_padding=(0, 1), **kw)
    assert y.shape == z.shape
    assert (y * z).sum().item() == pytest.approx((x * cz).sum().item(), rel=1e-12)


def test_conv_transpose2d_layer_shapes_and_init(backend_name):
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert layer.weight.shape == (4, 3, 3, 3) and layer.bias.shape == (6,)
    bound = 1 / np.sqrt(3 * 3 * 3)  # fan_in = weight.shape[1] * KH * KW, as PyTorch
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    y = layer(minicnn.randn(2, 4, 5, 7))
    assert y.shape == (2, 6, 10, 14)  # (H - 1) * 2 - 2 + 3 + 1
    assert "output_padding=(1, 1)" in repr(layer)


def test_conv_transpose2d_errors(backend_name):
    x, w = minicnn.zeros(1, 4, 3, 3), minicnn.zeros(4, 2, 3, 3)
    with pytest.raises(ValueError, match="output_padding: expected values smaller than stride"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(
        ValueError, match=r"weight: expected 3 input channels \(weight.shape\[0\]\)"
    ):
        F.conv_transpose2d(minicnn.zeros(1, 3, 3, 3), w)
    with pytest.raises(ValueError, match=r"bias: expected shape \(2,\)"):
        F.conv_transpose2d(x, w, minicnn.zeros(3))
    with pytest.raises(ValueError, match="output size"):
        F.conv_transpose2d(minicnn.zeros(1, 4, 1, 1), minicnn.zeros(4, 2, 1, 1), padding=1)
    with pytest.raises(ValueError, match="ConvTranspose2d: in_channels"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
