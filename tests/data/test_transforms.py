"""Batch transforms: shapes, exact values, random crop windows, flip rate, erased rectangles,
Compose order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.data import (
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    MNIST_MEAN,
    MNIST_STD,
    Compose,
    Normalize,
    Pad,
    RandomCrop,
    RandomErasing,
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


def erased_boxes(before: np.ndarray, after: np.ndarray) -> list[tuple[int, int, int, int] | None]:
    """Per image, the (top, left, h, w) of the changed pixels, checked to form one rectangle
    that is the same in every channel; None where nothing changed."""
    out = []
    for x, y in zip(before, after):
        changed = x != y  # (C, H, W)
        assert np.all(changed == changed[0]), "channels erased differently"
        rows, cols = np.nonzero(changed[0])
        if rows.size == 0:
            out.append(None)
            continue
        top, left = rows.min(), cols.min()
        h, w = rows.max() - top + 1, cols.max() - left + 1
        assert changed[0, top : top + h, left : left + w].all(), "erased pixels not a rectangle"
        assert rows.size == h * w
        out.append((int(top), int(left), int(h), int(w)))
    return out


@given(
    N=st.integers(1, 6),
    C=st.integers(1, 3),
    H=st.integers(4, 40),
    W=st.integers(4, 40),
    lo=st.floats(0.02, 0.4),
    span=st.floats(0.0, 0.4),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_erasing_blanks_one_rectangle_within_scale_and_ratio(N, C, H, W, lo, span, seed):
    x = batch(N=N, C=C, H=H, W=W, seed=seed % 1000)  # values in [0, 1)
    scale, ratio = (lo, lo + span), (0.3, 3.3)
    erase = RandomErasing(p=1.0, scale=scale, ratio=ratio, value=-7.0)
    y = erase(x, np.random.default_rng(seed))
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_array_equal(y[y != x], -7.0)
    for box in erased_boxes(x, y):
        if box is None:  # all 10 draws too large: allowed, the image is left alone
            continue
        top, left, h, w = box
        assert 1 <= h < H and 1 <= w < W
        # h and w are sqrt(area * r) and sqrt(area / r) rounded, so h*w is area to within
        # (h + w + 1.5) / 2 pixels, and h / w is r to within the rounding of each side.
        area = H * W
        slack = (h + w + 1.5) / 2
        assert scale[0] * area - slack <= h * w <= scale[1] * area + slack
        assert (h - 0.5) / (w + 0.5) <= ratio[1] and (h + 0.5) / (w - 0.5) >= ratio[0]


def test_random_erasing_rate_identity_and_determinism():
    x = batch(N=4000, C=1, H=16, W=16)
    assert np.array_equal(RandomErasing(p=0.0)(x, np.random.default_rng(0)), x)
    erase = RandomErasing(p=0.3)
    y = erase(x, np.random.default_rng(1))
    rate = np.mean([b is not None for b in erased_boxes(x, y)])
    assert abs(rate - 0.3) < 0.03  # a fixed seed: the binomial sd is 0.007
    np.testing.assert_array_equal(y, erase(x, np.random.default_rng(1)))
    assert not np.array_equal(y, erase(x, np.random.default_rng(2)))
    # The default fill is 0, the mean of a normalised batch.
    assert set(np.unique(y[y != x])) == {0.0}


def test_random_erasing_random_fill_and_corner_spread():
    x = batch(N=2000, C=2, H=12, W=12)
    y = RandomErasing(p=1.0, scale=(0.05, 0.05), ratio=(1.0, 1.0), value="random")(
        x, np.random.default_rng(3)
    )
    boxes = [b for b in erased_boxes(x, y) if b is not None]
    assert len(boxes) == 2000  # a 3x3 square always fits in 12x12
    assert {(h, w) for _, _, h, w in boxes} == {(3, 3)}  # sqrt(0.05 * 144) = 2.68 -> 3
    corners = {(t, l) for t, l, _, _ in boxes}
    assert corners == {(t, l) for t in range(10) for l in range(10)}  # every position is drawn
    erased = y[y != x]
    assert abs(erased.mean()) < 0.05 and abs(erased.std() - 1.0) < 0.05


def test_random_erasing_rejects_bad_arguments():
    for kwargs, match in [
        (dict(p=1.5), "p: expected a probability"),
        (dict(scale=(0.5, 0.2)), "scale: expected"),
        (dict(scale=(0.0, 0.2)), "scale: expected"),
        (dict(ratio=(0.0, 1.0)), "ratio: expected"),
        (dict(value="noise"), "value: expected a number or 'random'"),
    ]:
        with pytest.raises(ValueError, match=match):
            RandomErasing(**kwargs)
    with pytest.raises(ValueError, match=r"RandomErasing: expected a NumPy batch"):
        RandomErasing()(np.zeros((3, 3), np.float32), np.random.default_rng(0))
