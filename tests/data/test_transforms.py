"""Batch transforms: shapes, exact values, random crop windows, flip rate, Compose order."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn.data import (
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    MNIST_MEAN,
    MNIST_STD,
    Compose,
    Normalize,
    Pad,
    RandomCrop,
    RandomHorizontalFlip,
)


def batch(N=4, C=2, H=5, W=6, seed=0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).random((N, C, H, W)).astype(dtype)


def test_dataset_statistics_constants():
    assert MNIST_MEAN == (0.1307,) and MNIST_STD == (0.3081,)
    assert FASHION_MNIST_MEAN == (0.2860,) and FASHION_MNIST_STD == (0.3530,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_is_exact_per_channel(dtype):
    x = batch(C=3, dtype=dtype)
    mean, std = (0.1, 0.2, 0.3), (0.5, 1.0, 2.0)
    y = Normalize(mean, std)(x)
    assert y.dtype == dtype and y.shape == x.shape
    for c in range(3):
        np.testing.assert_array_equal(y[:, c], (x[:, c] - dtype(mean[c])) / dtype(std[c]))


def test_normalize_scalar_statistics_broadcast():
    x = batch(C=1)
    y = Normalize(MNIST_MEAN, MNIST_STD)(x, None)
    np.testing.assert_array_equal(y, (x - np.float32(0.1307)) / np.float32(0.3081))
    np.testing.assert_array_equal(Normalize(0.5, 2.0)(batch(C=3)), (batch(C=3) - 0.5) / 2)


def test_normalize_rejects_bad_arguments():
    with pytest.raises(ValueError, match="std: expected positive"):
        Normalize(0.0, 0.0)
    with pytest.raises(ValueError, match="mean: 2 values for a batch with 3 channels"):
        Normalize((0.1, 0.2), (1.0, 1.0))(batch(C=3))
    with pytest.raises(TypeError, match="float batch"):
        Normalize(0.1, 1.0)(np.zeros((1, 1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        Normalize(0.1, 1.0)(np.zeros((2, 2), np.float32))


@pytest.mark.parametrize(
    "padding, expected",
    [(2, (2, 2, 2, 2)), ((1, 3), (1, 3, 1, 3)), ((1, 2, 3, 4), (1, 2, 3, 4))],
)
def test_pad_sides_and_fill(padding, expected):
    x = batch(H=5, W=6)
    l, t, r, b = expected
    y = Pad(padding, fill=-1.0)(x)
    assert y.shape == (4, 2, t + 5 + b, l + 6 + r) and y.dtype == x.dtype
    np.testing.assert_array_equal(y[:, :, t : t + 5, l : l + 6], x)
    border = np.ones(y.shape, bool)
    border[:, :, t : t + 5, l : l + 6] = False
    assert np.all(y[border] == -1.0)


def test_pad_rejects_bad_padding():
    for bad in (-1, (1, 2, 3), (1.5, 2), True):
        with pytest.raises(ValueError, match="padding"):
            Pad(bad)


def test_random_crop_without_padding_to_full_size_is_identity():
    x = batch()
    np.testing.assert_array_equal(RandomCrop((5, 6))(x, np.random.default_rng(0)), x)


def test_random_crop_windows_lie_inside_the_padded_image():
    N, C, H, W, p, size = 500, 2, 8, 9, 3, (6, 5)
    x = np.arange(N * C * H * W, dtype=np.float32).reshape(N, C, H, W)  # every pixel unique
    crop = RandomCrop(size, padding=p, fill=-1)
    y = crop(x, np.random.default_rng(7))
    assert y.shape == (N, C, *size) and y.dtype == x.dtype
    HP, WP = H + 2 * p, W + 2 * p
    top, left = crop.offsets(N, HP, WP, np.random.default_rng(7))  # the same draws
    assert top.min() >= 0 and top.max() <= HP - size[0]
    assert left.min() >= 0 and left.max() <= WP - size[1]
    # Over 500 images every corner position occurs: the windows cover the whole range.
    assert set(top.tolist()) == set(range(HP - size[0] + 1))
    assert set(left.tolist()) == set(range(WP - size[1] + 1))
    padded = Pad(p, fill=-1)(x)
    for n in range(N):
        window = padded[n, :, top[n] : top[n] + size[0], left[n] : left[n] + size[1]]
        np.testing.assert_array_equal(y[n], window)


def test_random_crop_is_deterministic_for_a_seed_and_varies_across_images():
    x = np.broadcast_to(np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8), (32, 1, 8, 8))
    crop = RandomCrop(4, padding=2)
    a, b = crop(x, np.random.default_rng(1)), crop(x, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert len({im.tobytes() for im in a}) > 1  # one window per image, not one per batch


def test_random_crop_rejects_a_window_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        RandomCrop(7, padding=1)(batch(H=4, W=4), np.random.default_rng(0))
    with pytest.raises(ValueError, match="size"):
        RandomCrop(0)


def test_horizontal_flip_extremes():
    x = batch()
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(x, rng), x)
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(x, rng), x[:, :, :, ::-1])
    with pytest.raises(ValueError, match="probability"):
        RandomHorizontalFlip(1.5)


def test_horizontal_flip_rate_is_p():
    N, p = 20000, 0.3
    x = np.zeros((N, 1, 2, 3), np.float32)
    x[:, :, :, 0] = 1.0  # a marker in the left column; a flipped image has it on the right
    y = RandomHorizontalFlip(p)(x, np.random.default_rng(3))
    flipped = y[:, 0, 0, 2] == 1.0
    assert np.all(flipped | (y[:, 0, 0, 0] == 1.0))  # each image is either kept or mirrored
    sigma = np.sqrt(p * (1 - p) / N)
    assert abs(flipped.mean() - p) < 5 * sigma
    assert np.all(x[:, :, :, 0] == 1.0)  # the input is not modified


def test_compose_applies_in_order():
    x = batch(C=1)
    rng = np.random.default_rng(0)
    norm, pad = Normalize(0.5, 2.0), Pad(1, fill=0)
    a = Compose([norm, pad])(x, rng)
    b = Compose([pad, norm])(x, rng)
    np.testing.assert_array_equal(a, pad(norm(x)))
    np.testing.assert_array_equal(b, norm(pad(x)))
    assert a[0, 0, 0, 0] == 0 and b[0, 0, 0, 0] == -0.25  # the border tells the order


def test_compose_shares_one_generator():
    x = np.broadcast_to(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), (64, 1, 4, 4))
    t = Compose([RandomCrop(3, padding=1), RandomHorizontalFlip()])
    np.testing.assert_array_equal(t(x, np.random.default_rng(5)), t(x, np.random.default_rng(5)))
    with pytest.raises(TypeError, match=r"transforms\[1\]"):
        Compose([Pad(1), 3])


def test_reprs():
    assert repr(Normalize(MNIST_MEAN, MNIST_STD)) == "Normalize(mean=(0.1307,), std=(0.3081,))"
    assert repr(Pad(2)) == "Pad(padding=(2, 2, 2, 2), fill=0)"
    assert repr(RandomCrop(32, 4)) == "RandomCrop(size=(32, 32), padding=(4, 4, 4, 4), fill=0)"
    assert repr(RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(Compose([Pad(1), RandomHorizontalFlip(0.25)])) == (
        "Compose([\n    Pad(padding=(1, 1, 1, 1), fill=0),\n    RandomHorizontalFlip(p=0.25),\n])"
    )
