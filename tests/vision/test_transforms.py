"""minicnn.vision.transforms: each transform on PIL images, arrays and tensors, against NumPy
definitions; the random ones follow minicnn.manual_seed."""

import numpy as np
import pytest

import minicnn
from minicnn.vision import transforms as T

Image = pytest.importorskip("PIL.Image", reason="checks the PIL path too")

RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 256, (6, 8), dtype=np.uint8)
RGB = RNG.integers(0, 256, (6, 8, 3), dtype=np.uint8)


def kinds(arr):
    """The same image as a PIL image, an (H, W[, C]) array and a (C, H, W) uint8 tensor."""
    chw = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return [Image.fromarray(arr), arr, minicnn.tensor(chw, dtype="uint8")]


def as_hwc(img):
    if isinstance(img, minicnn.Tensor):
        a = img.numpy()
        return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    return np.asarray(img)


def test_to_tensor_and_normalize():
    for arr in (GREY, RGB):
        x = T.ToTensor()(Image.fromarray(arr))
        chw = (arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)) / 255
        assert x.dtype == np.float32 and x.shape == chw.shape
        np.testing.assert_allclose(x.numpy(), chw, rtol=1e-6)
        np.testing.assert_array_equal(T.ToTensor()(arr).numpy(), x.numpy())
    x = T.ToTensor()(RGB)
    y = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.1))(x)
    ref = (x.numpy() - np.array([0.5, 0.4, 0.3])[:, None, None]) / np.array([0.2, 0.2, 0.1])[
        :, None, None
    ]
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5)
    with pytest.raises(TypeError, match="Normalize: tensor: expected a float tensor"):
        T.Normalize((0.5,), (0.5,))(GREY)
    with pytest.raises(ValueError, match="expected 1 or 3 values"):
        T.Normalize((0.5, 0.5), (0.5, 0.5))(x)


@pytest.mark.parametrize("arr", [GREY, RGB], ids=["grey", "rgb"])
def test_geometric_transforms_agree_on_every_kind(arr):
    H, W = arr.shape[:2]
    cases = [
        (T.CenterCrop(4), arr[1:5, 2:6]),
        (T.CenterCrop((3, 5)), arr[2:5, 2:7]),  # round((6 - 3) / 2) = 2, as torchvision
        (T.Pad((1, 2, 3, 4), fill=7), np.pad(arr, ((2, 4), (1, 3)) + ((0, 0),) * (arr.ndim - 2), constant_values=7)),
        (T.Pad(2, padding_mode="reflect"), np.pad(arr, ((2, 2), (2, 2)) + ((0, 0),) * (arr.ndim - 2), mode="reflect")),
        (T.Lambda(lambda im: im), arr),
    ]  # fmt: skip
    for transform, expected in cases:
        for img in kinds(arr):
            out = transform(img)
            assert type(out) is type(img), transform
            np.testing.assert_array_equal(as_hwc(out), expected)
    big = T.CenterCrop(10)(arr)  # larger than the image: zero padding around it
    assert big.shape[:2] == (10, 10) and as_hwc(big)[2:8, 1:9].tolist() == arr.tolist()


def test_random_crop_and_flips_follow_the_seed():
    t = T.Compose([T.RandomCrop(5, padding=2), T.RandomHorizontalFlip(), T.RandomVerticalFlip(0.3)])
    minicnn.manual_seed(4)
    first = [np.asarray(t(Image.fromarray(RGB))) for _ in range(5)]
    minicnn.manual_seed(4)
    again = [as_hwc(t(minicnn.tensor(RGB.transpose(2, 0, 1), dtype="uint8"))) for _ in range(5)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)  # same draws on PIL images and tensors
    padded = np.pad(RGB, ((2, 2), (2, 2), (0, 0)))
    windows = {padded[i : i + 5, j : j + 5].tobytes() for i in range(6) for j in range(8)}
    flipped = {
        w[:, ::-1].tobytes() for w in (np.frombuffer(x, np.uint8).reshape(5, 5, 3) for x in windows)
    }
    crops = {a.tobytes() for a in first} | {a[::-1].tobytes() for a in first}
    assert crops & (windows | flipped)
    assert T.RandomHorizontalFlip(p=1.0)(GREY).tolist() == GREY[:, ::-1].tolist()
    assert T.RandomHorizontalFlip(p=0.0)(GREY) is GREY
    with pytest.raises(ValueError, match="larger than the"):
        T.RandomCrop(10)(GREY)
    assert T.RandomCrop(10, pad_if_needed=True)(GREY).shape == (10, 10)


def test_resize_sizes_and_values():
    img = Image.fromarray(RGB)
    assert T.Resize(3)(img).size == (4, 3)  # the shorter side becomes 3, aspect kept
    assert T.Resize((5, 7))(img).size == (7, 5)
    np.testing.assert_array_equal(
        np.asarray(T.Resize((5, 7))(img)), np.asarray(img.resize((7, 5), Image.BILINEAR))
    )
    x = minicnn.arange(48.0).reshape(1, 6, 8)
    y = T.Resize((3, 4))(x)
    assert y.shape == (1, 3, 4)
    # antialiased 2x shrink of a linear ramp: the mean of each 2x2 block, away from the edges
    assert y[0, 1, 1].item() == pytest.approx(x[0, 2:4, 2:4].mean().item())


def test_rotation_and_pil_conversion():
    img = Image.fromarray(RGB)
    assert T.RandomRotation((90, 90))(img).size == img.size
    with pytest.raises(TypeError, match="RandomRotation: minicnn rotates PIL images only"):
        T.RandomRotation(10)(RGB)
    back = T.ToPILImage()(T.ToTensor()(img))
    np.testing.assert_array_equal(np.asarray(back), RGB)
    assert "ToTensor()" in repr(T.Compose([T.ToTensor()]))
