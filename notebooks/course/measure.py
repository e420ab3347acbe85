"""Measurements on models and tensors, and the batch transforms the library lacks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import minicnn as mc
from minicnn import backend, nn


def window(H: int, K: int, S: int, P: int, D: int, oh: int, ow: int) -> np.ndarray:
    """The cells of the zero-padded (H + 2P)^2 input that output (oh, ow) of a K x K
    convolution reads, found by backpropagating from that output through conv2d: a boolean
    (H + 2P, H + 2P) array."""
    x = mc.zeros(1, 1, H + 2 * P, H + 2 * P, dtype="float64", requires_grad=True)
    y = mc.nn.functional.conv2d(x, mc.ones(1, 1, K, K, dtype="float64"), stride=S, dilation=D)
    seed = np.zeros(y.shape)
    seed[0, 0, oh, ow] = 1.0
    y.backward(mc.tensor(seed))
    return x.grad.numpy()[0, 0] != 0


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> dict[str, int]:
    """Multiply-accumulates of one forward pass of one input, per Conv2d and Linear layer."""
    macs: dict[str, int] = {}
    hooks = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            per_output = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        elif isinstance(m, nn.Linear):
            per_output = m.weight.shape[1]
        else:
            continue

        def hook(mod, inputs, out, name=name, per_output=per_output):
            macs[name] = macs.get(name, 0) + out.numel() // out.shape[0] * per_output

        hooks.append(m.register_forward_hook(hook))
    try:
        with mc.no_grad():
            model.eval()(mc.zeros(1, *input_shape))
    finally:
        for h in hooks:
            h.remove()
    return macs


def failing_layer(model: nn.Module, x: mc.Tensor) -> tuple[str, nn.Module, Exception] | None:
    """Run ``model(x)``; if it raises, (name, layer, error) of the layer that raised: the first
    leaf layer, in order of definition, whose forward did not finish (sequential models)."""
    done: set[int] = set()
    leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    hooks = [m.register_forward_hook(lambda mod, i, o: done.add(id(mod))) for _, m in leaves]
    try:
        model(x)
    except Exception as error:  # the point is to catch whatever the layer raised
        name, layer = next((n, m) for n, m in leaves if id(m) not in done)
        return name, layer, error
    finally:
        for h in hooks:
            h.remove()
    return None


def without_batchnorm(model: nn.Module) -> nn.Module:
    """``model`` with every BatchNorm2d replaced by Identity, in place."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, nn.Identity())
    return model


def weight_grad_norms(
    model: nn.Module, kinds: tuple[type, ...] = (nn.Conv2d, nn.Linear), skip: Sequence[str] = ()
) -> np.ndarray:
    """L2 norm of the weight gradient of every layer of ``kinds``, in order of definition,
    leaving out layers whose name starts with one of ``skip`` (0 where no gradient arrived)."""
    norms = []
    for name, m in model.named_modules():
        if isinstance(m, kinds) and not name.startswith(tuple(skip)):
            g = m.weight.grad
            norms.append(0.0 if g is None else float(np.linalg.norm(g.numpy())))
    return np.array(norms)


def seconds(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        backend.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# Geometric transforms of (N, C, H, W) batches (the library has crop, flip and erasing).


def rotate(batch: np.ndarray, degrees: float | np.ndarray) -> np.ndarray:
    """Rotate each image about its centre (counter-clockwise, bilinear, zero outside)."""
    N, C, H, W = batch.shape
    theta = np.deg2rad(np.broadcast_to(np.asarray(degrees, dtype=np.float64), (N,)))
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    cy, cx = (H - 1) / 2, (W - 1) / 2
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    # Where each output pixel comes from: the inverse rotation of its coordinates.
    sx = cos * (xs - cx) - sin * (ys - cy) + cx  # (N, H, W)
    sy = sin * (xs - cx) + cos * (ys - cy) + cy
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    out = np.zeros_like(batch, dtype=np.float64)
    n = np.arange(N)[:, None, None]
    for dy in (0, 1):
        for dx in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            weight = (1 - np.abs(sx - xi)) * (1 - np.abs(sy - yi))  # (N, H, W)
            inside = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
            vals = batch[n, :, np.clip(yi, 0, H - 1), np.clip(xi, 0, W - 1)]  # (N, H, W, C)
            out += np.moveaxis(vals * (weight * inside)[..., None], -1, 1)
    return out.astype(batch.dtype)


def shift(batch: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Translate every image by (dy, dx) pixels, filling with zeros."""
    out = np.zeros_like(batch)
    H, W = batch.shape[2:]
    out[:, :, max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = batch[
        :, :, max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
    ]
    return out


def half_size(batch: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Batch transform: halve height and width by averaging 2x2 blocks (28x28 -> 14x14)."""
    N, C, H, W = batch.shape
    return batch.reshape(N, C, H // 2, 2, W // 2, 2).mean(axis=(3, 5))


class RandomRotation:
    """Batch transform: rotate each image by an angle drawn uniformly from [-degrees, degrees]."""

    def __init__(self, degrees: float) -> None:
        self.degrees = float(degrees)

    def __call__(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rotate(batch, rng.uniform(-self.degrees, self.degrees, len(batch)))

    def __repr__(self) -> str:
        return f"RandomRotation({self.degrees})"


def autograd_graph(
    root: mc.Tensor, names: dict[str, mc.Tensor] | None = None
) -> tuple[list[str], list[tuple[int, int]], list[int]]:
    """(labels, edges, depths) of the graph behind ``root``: one node per tensor and per
    Function, edges from input to consumer, depth = the longest path to the root (tensors at
    even depths, Functions at odd ones). Tensors in ``names`` are labelled by name, other
    scalars by value, the rest by shape."""
    given = {id(t): n for n, t in (names or {}).items()}
    labels: list[str] = []
    edges: list[tuple[int, int]] = []
    ids: dict[int, int] = {}

    def visit(obj: Any) -> int:
        if id(obj) in ids:
            return ids[id(obj)]
        k = ids[id(obj)] = len(labels)
        if isinstance(obj, mc.Tensor):
            labels.append(given.get(id(obj)) or _tensor_label(obj))
            if obj.grad_fn is not None:
                edges.append((visit(obj.grad_fn), k))
        else:  # a Function: its inputs feed it
            labels.append(type(obj).__name__)
            for parent in obj.inputs:
                if parent is not None:
                    edges.append((visit(parent), k))
        return k

    visit(root)
    edges = list(dict.fromkeys(edges))  # a tensor used twice by one op is one edge
    depths = [0] * len(labels)
    for _ in labels:  # relax until stable: at most one pass per node in a DAG
        for a, b in edges:
            depths[a] = max(depths[a], depths[b] + 1)
    return labels, edges, depths


def _tensor_label(t: mc.Tensor) -> str:
    if t.numel() == 1:
        return f"{t.item():.3g}"
    return "x".join(map(str, t.shape))


def neighbour_correlation(w: np.ndarray) -> float:
    """How smooth filters are: the correlation between each weight and its right and lower
    neighbours, pooled over all (KH, KW) slices of ``w`` (..., KH, KW), each slice's mean
    removed first. About 0 for random filters, towards 1 for smooth ones."""
    s = np.asarray(w, dtype=np.float64).reshape(-1, *np.shape(w)[-2:])  # (T, KH, KW)
    s = s - s.mean(axis=(1, 2), keepdims=True)
    a = np.concatenate([s[:, :, :-1].ravel(), s[:, :-1, :].ravel()])  # each weight ...
    b = np.concatenate([s[:, :, 1:].ravel(), s[:, 1:, :].ravel()])  # ... and its neighbour
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def top_patches(x: np.ndarray, maps: np.ndarray, channel: int, size: int, k: int) -> np.ndarray:
    """The ``k`` input patches (k, size, size) of ``x`` (N, 1, H, W) under the ``k`` largest
    values of ``maps[:, channel]`` (N, K, OH, OW), the output of a stride-1, unpadded
    ``size`` x ``size`` convolution of ``x``; largest first."""
    flat = maps[:, channel].reshape(-1)
    OH, OW = maps.shape[2:]
    best = np.argsort(flat)[::-1][:k]
    n, rest = np.divmod(best, OH * OW)
    i, j = np.divmod(rest, OW)
    return np.stack([x[a, 0, b : b + size, c : c + size] for a, b, c in zip(n, i, j)])
