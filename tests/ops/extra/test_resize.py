"""interpolate / Upsample: nearest and bilinear against NumPy references written from
PyTorch's coordinate rules, gradcheck, and errors."""

import numpy as np
import pytest
from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn
import minicnn.nn.functional as F
from minicnn import nn


def ref_nearest(x, OH, OW, exact=False):
    H, W = x.shape[2:]
    off = 0.5 if exact else 0.0
    hi = np.minimum(np.floor((np.arange(OH) + off) * H / OH).astype(int), H - 1)
    wi = np.minimum(np.floor((np.arange(OW) + off) * W / OW).astype(int), W - 1)
    return x[:, :, hi][:, :, :, wi]


def ref_bilinear(x, OH, OW, align):
    """Each output pixel as a weighted sum of its four neighbours, one pixel at a time."""
    N, C, H, W = x.shape
    y = np.zeros((N, C, OH, OW))

    def src(o, n_in, n_out):
        if align:
            return o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        return max((o + 0.5) * n_in / n_out - 0.5, 0.0)

    for i in range(OH):
        for j in range(OW):
            sh, sw = src(i, H, OH), src(j, W, OW)
            h0, w0 = min(int(sh), H - 1), min(int(sw), W - 1)
            h1, w1 = min(h0 + 1, H - 1), min(w0 + 1, W - 1)
            lh, lw = sh - h0, sw - w0
            y[:, :, i, j] = (
                (1 - lh) * (1 - lw) * x[:, :, h0, w0]
                + (1 - lh) * lw * x[:, :, h0, w1]
                + lh * (1 - lw) * x[:, :, h1, w0]
                + lh * lw * x[:, :, h1, w1]
            )
    return y


@settings(max_examples=20)
@given(
    H=st.integers(1, 4), W=st.integers(1, 4), OH=st.integers(1, 6), OW=st.integers(1, 6),
    mode=st.sampled_from(["nearest", "nearest-exact", "bilinear", "bilinear-align"]),
    seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_interpolate_to_a_size(backend_name, H, W, OH, OW, mode, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, (1, 2, H, W))
    if mode.startswith("bilinear"):
        align = mode.endswith("align")
        fn = lambda t: F.interpolate(t, size=(OH, OW), mode="bilinear", align_corners=align)  # noqa: E731
        ref = lambda a: ref_bilinear(a, OH, OW, align)  # noqa: E731
    else:
        fn = lambda t: F.interpolate(t, size=(OH, OW), mode=mode)  # noqa: E731
        ref = lambda a: ref_nearest(a, OH, OW, exact=mode == "nearest-exact")  # noqa: E731
    check_op(fn, x, ref=ref)


def test_scale_factor_uses_its_reciprocal_as_pytorch(backend_name):
    # PyTorch: with scale_factor, src = dst / scale_factor (not in/out): 3 -> 4 by 1.5
    x = minicnn.arange(3.0).reshape(1, 1, 1, 3)
    y = F.interpolate(x, scale_factor=(1, 1.5), mode="nearest")
    assert y.shape == (1, 1, 1, 4) and y.reshape(-1).tolist() == [0, 0, 1, 2]
    up = nn.Upsample(scale_factor=2)(minicnn.tensor([[[[1.0, 2.0]]]]))
    assert up.reshape(-1).tolist() == [1, 1, 2, 2, 1, 1, 2, 2]
    ramp = F.interpolate(x, size=(1, 5), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(ramp.reshape(-1).numpy(), [0, 0.5, 1, 1.5, 2])


def test_interpolate_errors(backend_name):
    x = minicnn.zeros(1, 1, 2, 2)
    with pytest.raises(NotImplementedError, match="mode: minicnn supports"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners: only valid with mode='bilinear'"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="expected a 4-D tensor"):
        F.interpolate(minicnn.zeros(2, 2), size=3)


@pytest.mark.parametrize("size", [(2, 3), (3, 5), (5, 7), (9, 4), (1, 1)])
def test_antialiased_bilinear_matches_pillow(backend_name, size):
    # Pillow's BILINEAR resize of a float image is the same widened triangle filter
    Image = pytest.importorskip("PIL.Image")
    x = np.random.default_rng(1).uniform(0, 1, (6, 7)).astype(np.float32)
    expected = np.asarray(Image.fromarray(x).resize(size[::-1], Image.BILINEAR))
    got = F.interpolate(minicnn.tensor(x[None, None]), size=size, mode="bilinear", antialias=True)
    np.testing.assert_allclose(got.numpy()[0, 0], expected, rtol=1e-5, atol=1e-6)


def test_antialiased_bilinear_gradcheck(backend_name):
    x = np.random.default_rng(2).uniform(-1, 1, (1, 2, 5, 4))
    check_op(lambda t: F.interpolate(t, size=(2, 3), mode="bilinear", antialias=True), x)
    with pytest.raises(
        NotImplementedError, match="antialias=True: minicnn supports it for mode='bilinear'"
    ):
        F.interpolate(minicnn.tensor(x), size=2, antialias=True)
