"""torchvision's per-item transforms: each takes one image and returns one.

An image is a PIL image (when Pillow is installed), a NumPy array (H, W) or (H, W, C), or,
after ``ToTensor``, a float tensor (C, H, W). The geometric transforms work on all three and
return the kind they were given: they convert to an (H, W, C) array, crop, flip or pad it, and
convert back (exact for uint8 images). ``Resize`` uses Pillow's bilinear filter for PIL
images, as torchvision does, and ``F.interpolate`` (bilinear, antialiased like torchvision's
tensor path) otherwise.

Random transforms draw from minicnn's host generator, so ``minicnn.manual_seed`` makes them
repeat (inside a ``minicnn.utils.data.DataLoader``, from a generator seeded per batch, so a
resumed loader repeats them too; see ``minicnn.utils.data.item_rng``); the numbers differ from
PyTorch's generator. For whole batches at once, minicnn's
vectorised transforms are in :mod:`minicnn.data.transforms`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minicnn import backend
from minicnn.device import host_backend
from minicnn.tensor import Tensor
from minicnn.utils.data.item_rng import item_generator


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _is_pil(img: Any) -> bool:
    Image = _pil()
    return Image is not None and isinstance(img, Image.Image)


def _to_hwc(img: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """``img`` as an (H, W, C) array, and the function that turns such an array back into
    the kind of image ``img`` was."""
    if _is_pil(img):
        arr = np.asarray(img)
        Image = _pil()
        if arr.ndim == 2:
            return arr[:, :, None], lambda a: Image.fromarray(np.ascontiguousarray(a[:, :, 0]))
        return arr, lambda a: Image.fromarray(np.ascontiguousarray(a))
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"image: expected a tensor (C, H, W) or (H, W), got shape {img.shape}")
        arr = img.numpy()
        flat = arr.ndim == 2
        hwc = arr[:, :, None] if flat else np.moveaxis(arr, -3, -1)
        name = img.backend

        def back(a: np.ndarray) -> Tensor:
            out = a[:, :, 0] if flat else np.moveaxis(a, -1, -3)
            return Tensor(np.ascontiguousarray(out), backend=name)

        return hwc, back
    if isinstance(img, np.ndarray) and img.ndim in (2, 3):
        if img.ndim == 2:
            return img[:, :, None], lambda a: np.ascontiguousarray(a[:, :, 0])
        return img, np.ascontiguousarray
    raise TypeError(
        f"image: expected a PIL image, a NumPy array (H, W[, C]) or a tensor (C, H, W), "
        f"got {type(img).__name__}"
    )


def _size_pair(name: str, size: Any) -> tuple[int, int]:
    """(h, w) from an int or a sequence of one or two ints."""
    s = (size, size) if isinstance(size, int) else tuple(size)
    if len(s) == 1:
        s = (s[0], s[0])
    if len(s) != 2 or not all(isinstance(v, int) and v > 0 for v in s):
        raise ValueError(f"{name}: size: expected a positive int or (h, w), got {size!r}")
    return s  # type: ignore[return-value]


def _pads(padding: Any) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from an int, (left/right, top/bottom) or four ints."""
    p = (padding,) if isinstance(padding, int) else tuple(padding)
    if len(p) not in (1, 2, 4) or not all(isinstance(v, int) and v >= 0 for v in p):
        raise ValueError(
            f"padding: expected a non-negative int, or 2 or 4 of them, got {padding!r}"
        )
    if len(p) == 1:
        return (p[0],) * 4
    if len(p) == 2:
        return (p[0], p[1], p[0], p[1])
    return p  # type: ignore[return-value]


_MODES = ("constant", "edge", "reflect", "symmetric")


def _pad(a: np.ndarray, pads: tuple[int, int, int, int], fill: Any, mode: str) -> np.ndarray:
    left, top, right, bottom = pads
    widths = ((top, bottom), (left, right), (0, 0))
    if mode == "constant":
        return np.pad(a, widths, mode="constant", constant_values=fill)
    return np.pad(a, widths, mode=mode)


def _uniform() -> float:
    return float(item_generator().random())


def _randint(high: int) -> int:
    return int(item_generator().integers(0, high))


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        for t in transforms:
            if not callable(t):
                raise TypeError(f"transforms: expected callables, got {t!r}")
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class ToTensor:
    """A PIL image or an (H, W[, C]) array -> a float32 tensor (C, H, W) on the host; uint8
    values are scaled to [0, 1], other dtypes are kept as they are (as torchvision)."""

    def __call__(self, pic: Any) -> Tensor:
        if isinstance(pic, Tensor):
            raise TypeError("ToTensor: pic: expected a PIL image or a NumPy array, got a Tensor")
        arr, _ = _to_hwc(pic)
        chw = np.ascontiguousarray(arr.transpose(2, 0, 1))  # (C, H, W)
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32) / np.float32(255)
        return Tensor._from_op(chw, host_backend(), None)

    def __repr__(self) -> str:
        return "ToTensor()"


class ToPILImage:
    """A tensor (C, H, W) in [0, 1] (or an array) -> a PIL image (needs Pillow)."""

    def __call__(self, pic: Any) -> Any:
        Image = _pil()
        if Image is None:
            raise ImportError("ToPILImage: Pillow is not installed (pip install pillow)")
        arr, _ = _to_hwc(pic)
        if arr.dtype.kind == "f":
            arr = (arr * 255).clip(0, 255).astype(np.uint8)
        return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)

    def __repr__(self) -> str:
        return "ToPILImage()"


class Normalize:
    """``(tensor - mean[c]) / std[c]`` per channel of a float tensor (C, H, W)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std = list(np.atleast_1d(mean)), list(np.atleast_1d(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std: evaluated to zero somewhere in {std!r}")
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor) or tensor.ndim < 3 or tensor.dtype.kind != "f":
            raise TypeError(
                f"Normalize: tensor: expected a float tensor (C, H, W) (apply ToTensor first), "
                f"got {getattr(tensor, 'shape', type(tensor).__name__)}"
            )
        C = tensor.shape[-3]
        if len(self.mean) not in (1, C) or len(self.std) not in (1, C):
            raise ValueError(
                f"Normalize: mean and std: expected 1 or {C} values, got {self.mean}, {self.std}"
            )
        a, xp = tensor.array, backend.xp(tensor.backend)
        mean = xp.asarray(self.mean, dtype=a.dtype).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=a.dtype).reshape(-1, 1, 1)
        out = (a - mean) / std
        if self.inplace:
            a[...] = out
            return tensor
        return Tensor._from_op(out, tensor.backend, None)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Resize:
    """Resize to ``size`` (h, w), or, for an int, so the shorter side becomes ``size`` and the
    aspect ratio stays (as torchvision)."""

    def __init__(self, size: Any, interpolation: Any = None, max_size: Any = None, antialias: Any = True) -> None:  # fmt: skip
        self.size = size
        self.antialias = bool(antialias)
        _size_pair("Resize", size)

    def _target(self, h: int, w: int) -> tuple[int, int]:
        if isinstance(self.size, int) or len(self.size) == 1:
            s = self.size if isinstance(self.size, int) else self.size[0]
            return (s, int(s * w / h)) if h <= w else (int(s * h / w), s)
        return tuple(self.size)  # type: ignore[return-value]

    def __call__(self, img: Any) -> Any:
        if _is_pil(img):
            h, w = self._target(img.height, img.width)
            return img.resize((w, h), _pil().BILINEAR)
        from minicnn.ops.extra.resize import interpolate

        arr, back = _to_hwc(img)
        h, w = self._target(*arr.shape[:2])
        x = Tensor(arr.transpose(2, 0, 1)[None].astype(np.float32), backend="numpy")
        y = interpolate(x, size=(h, w), mode="bilinear", antialias=self.antialias)
        y = y.numpy()[0].transpose(1, 2, 0)  # (h, w, C)
        if arr.dtype == np.uint8:
            y = np.clip(np.round(y), 0, 255)
        return back(y.astype(arr.dtype))

    def __repr__(self) -> str:
        return f"Resize(size={self.size})"


def _crop(a: np.ndarray, top: int, left: int, h: int, w: int) -> np.ndarray:
    return a[top : top + h, left : left + w]


class CenterCrop:
    """The central (h, w) region (zero-padded first where the image is smaller)."""

    def __init__(self, size: Any) -> None:
        self.size = _size_pair("CenterCrop", size)

    def __call__(self, img: Any) -> Any:
        a, back = _to_hwc(img)
        th, tw = self.size
        H, W = a.shape[:2]
        if th > H or tw > W:
            pads = ((tw - W) // 2, (th - H) // 2, (tw - W + 1) // 2, (th - H + 1) // 2)
            a = _pad(a, tuple(max(p, 0) for p in pads), 0, "constant")  # type: ignore[arg-type]
            H, W = a.shape[:2]
        top, left = int(round((H - th) / 2.0)), int(round((W - tw) / 2.0))
        return back(_crop(a, top, left, th, tw))

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class Pad:
    """Pad the borders: ``padding`` an int, (left/right, top/bottom) or (left, top, right,
    bottom); ``padding_mode`` constant (with ``fill``), edge, reflect or symmetric."""

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        self.padding = _pads(padding)
        if padding_mode not in _MODES:
            raise ValueError(f"Pad: padding_mode: expected one of {_MODES}, got {padding_mode!r}")
        self.fill, self.padding_mode = fill, padding_mode

    def __call__(self, img: Any) -> Any:
        a, back = _to_hwc(img)
        return back(_pad(a, self.padding, self.fill, self.padding_mode))

    def __repr__(self) -> str:
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class RandomCrop:
    """A random (h, w) region, after optional ``padding`` (as :class:`Pad`)."""

    def __init__(
        self,
        size: Any,
        padding: Any = None,
        pad_if_needed: bool = False,
        fill: Any = 0,
        padding_mode: str = "constant",
    ) -> None:
        self.size = _size_pair("RandomCrop", size)
        self.padding = None if padding is None else _pads(padding)
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def __call__(self, img: Any) -> Any:
        a, back = _to_hwc(img)
        if self.padding is not None:
            a = _pad(a, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed and (a.shape[0] < th or a.shape[1] < tw):
            dh, dw = max(th - a.shape[0], 0), max(tw - a.shape[1], 0)
            a = _pad(a, (dw, dh, dw, dh), self.fill, self.padding_mode)
        H, W = a.shape[:2]
        if H < th or W < tw:
            raise ValueError(
                f"RandomCrop: size {self.size} is larger than the (padded) image ({H}, {W})"
            )
        return back(_crop(a, _randint(H - th + 1), _randint(W - tw + 1), th, tw))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        if _uniform() >= self.p:
            return img
        a, back = _to_hwc(img)
        return back(a[:, ::-1])

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomVerticalFlip:
    """Mirror top-bottom with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        if _uniform() >= self.p:
            return img
        a, back = _to_hwc(img)
        return back(a[::-1])

    def __repr__(self) -> str:
        return f"RandomVerticalFlip(p={self.p})"


class RandomRotation:
    """Rotate by an angle drawn uniformly from [-degrees, degrees] (or the given range);
    PIL images only (Pillow does the resampling, as in torchvision)."""

    def __init__(self, degrees: Any, interpolation: Any = None, expand: bool = False,
                 center: Any = None, fill: Any = 0) -> None:  # fmt: skip
        d = (-degrees, degrees) if isinstance(degrees, (int, float)) else tuple(degrees)
        if len(d) != 2 or d[0] > d[1]:
            raise ValueError(
                f"RandomRotation: degrees: expected a number or (min, max), got {degrees!r}"
            )
        self.degrees, self.expand, self.center, self.fill = d, expand, center, fill

    def __call__(self, img: Any) -> Any:
        if not _is_pil(img):
            raise TypeError(
                "RandomRotation: minicnn rotates PIL images only; apply it before ToTensor "
                "(and install Pillow: pip install pillow)"
            )
        angle = self.degrees[0] + _uniform() * (self.degrees[1] - self.degrees[0])
        return img.rotate(angle, expand=self.expand, center=self.center, fillcolor=self.fill)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={list(self.degrees)})"


class Lambda:
    """Apply a user function: ``Lambda(lambda x: x.view(-1))``."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: lambd: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


__all__ = [
    "CenterCrop",
    "Compose",
    "Lambda",
    "Normalize",
    "Pad",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToPILImage",
    "ToTensor",
]
