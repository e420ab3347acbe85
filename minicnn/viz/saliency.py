"""Saliency: which pixels does a class score depend on?

All methods take a model, inputs ``x`` (C, H, W) or (N, C, H, W) as the model sees them
(normalised), and ``target``, one class index or one per input. They return NumPy arrays, one
map per input, and leave the model as they found it.

- :func:`input_gradient`: d S_c / d x, (N, C, H, W): the gradient of the class score S_c (the
  logit before softmax, ``objective="score"``) or of log p(c) (``objective="loss"``: the negated
  cross-entropy) with respect to every input value. One backward pass.
- :func:`saliency`: Simonyan, Vedaldi & Zisserman 2013, "Deep inside convolutional networks":
  M = max over channels of |d S_c / d x|, (N, H, W).
- :func:`smoothgrad`: Smilkov et al. 2017: the saliency map averaged over ``samples`` copies of
  x with Gaussian noise of standard deviation ``noise * (x.max() - x.min())``.
- :func:`integrated_gradients`: Sundararajan, Taly & Yan 2017: (x - x') * the mean gradient along
  the straight path from a baseline x' to x (trapezoidal rule over ``steps`` intervals). By the
  fundamental theorem of calculus, the attributions sum to S_c(x) - S_c(x') ("completeness").
- :func:`grad_cam`: Selvaraju et al. 2017: at a convolutional layer with maps A (N, K, h, w),
  weights a_k = mean over (i, j) of d S_c / d A_k, map ReLU(sum_k a_k A_k), upsampled to (H, W).
- :func:`occlusion`: Zeiler & Fergus 2014: slide a ``size`` x ``size`` patch of ``fill`` over the
  image; each pixel gets the mean drop of S_c over the patches that covered it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minicnn.autograd import no_grad
from minicnn.nn.module import Module
from minicnn.tensor import Tensor
from minicnn.viz import core


def _gradients(
    model: Module, x: Tensor, targets: np.ndarray, objective: str, batch_size: int = 64
) -> np.ndarray:
    """d objective / d x for a prepared leaf ``x`` (M, C, H, W), in chunks: (M, C, H, W)."""
    out = []
    for start in range(0, x.shape[0], batch_size):
        chunk = Tensor._from_op(x.array[start : start + batch_size], x.backend, None)
        chunk.requires_grad_(True)
        logits = core.forward(model, chunk)
        core.check_classes(targets, logits)
        score = core.objective_of(logits, targets[start : start + batch_size], objective)
        core.require_path(score, chunk, "the input x")
        score.backward()
        out.append(core.to_host(chunk.grad))
    return np.concatenate(out)


def input_gradient(model: Module, x: Any, target: Any, objective: str = "score") -> np.ndarray:
    """d S_c / d x for each input: (N, C, H, W) (see the module docstring)."""
    core.check_objective(objective)
    with core.inspecting(model):
        t = core.as_input(model, x)
        targets = core.as_targets(target, t.shape[0])
        return _gradients(model, t, targets, objective)


def saliency(model: Module, x: Any, target: Any, objective: str = "score") -> np.ndarray:
    """Simonyan et al.'s saliency map max_c |d S_c / d x|: (N, H, W)."""
    return np.abs(input_gradient(model, x, target, objective)).max(axis=1)


def smoothgrad(
    model: Module,
    x: Any,
    target: Any,
    samples: int = 25,
    noise: float = 0.15,
    objective: str = "score",
    seed: int = 0,
) -> np.ndarray:
    """SmoothGrad: the saliency map averaged over ``samples`` noisy copies of each input,
    noise ~ N(0, (noise * (max(x) - min(x)))^2) per input: (N, H, W)."""
    core.check_objective(objective)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples: expected an int >= 1, got {samples!r}")
    if not noise >= 0:
        raise ValueError(f"noise: expected a number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    with core.inspecting(model):
        t = core.as_input(model, x)
        N = t.shape[0]
        targets = core.as_targets(target, N)
        host = core.to_host(t)  # (N, C, H, W)
        maps = []
        for n in range(N):
            sigma = noise * float(host[n].max() - host[n].min())
            noisy = host[n][None] + sigma * rng.standard_normal((samples, *host.shape[1:]))
            g = _gradients(
                model, core.as_input(model, noisy), np.full(samples, targets[n]), objective
            )
            maps.append(np.abs(g).max(axis=1).mean(axis=0))  # (H, W)
        return np.stack(maps)


def integrated_gradients(
    model: Module,
    x: Any,
    target: Any,
    baseline: Any = None,
    steps: int = 64,
    objective: str = "score",
) -> np.ndarray:
    """Integrated gradients (x - x') * integral_0^1 dS_c/dx(x' + a (x - x')) da: (N, C, H, W).

    ``baseline`` x' defaults to the zero input (the dataset mean, for normalised inputs); it may
    be one (C, H, W) image for all inputs or one per input. The integral is the trapezoidal
    rule over ``steps`` equal intervals (``steps + 1`` gradients, one batch per input).
    """
    core.check_objective(objective)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected an int >= 1, got {steps!r}")
    with core.inspecting(model):
        t = core.as_input(model, x)
        N = t.shape[0]
        targets = core.as_targets(target, N)
        host = core.to_host(t)
        base = (
            np.zeros_like(host)
            if baseline is None
            else core.to_host(core.as_input(model, baseline, "baseline"))
        )
        if base.shape[0] == 1:
            base = np.broadcast_to(base, host.shape)
        if base.shape != host.shape:
            raise ValueError(
                f"baseline: expected shape {host.shape[1:]} or {host.shape}, got {base.shape}"
            )
        alphas = np.linspace(0.0, 1.0, steps + 1).reshape(-1, 1, 1, 1)  # (S+1, 1, 1, 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] /= 2  # trapezoidal rule
        out = []
        for n in range(N):
            path = base[n] + alphas * (host[n] - base[n])  # (S+1, C, H, W)
            g = _gradients(
                model, core.as_input(model, path), np.full(steps + 1, targets[n]), objective
            )
            avg = np.tensordot(weights, g, axes=1)  # (C, H, W)
            out.append((host[n] - base[n]) * avg)
        return np.stack(out)


def _upsample(maps: np.ndarray, H: int, W: int) -> np.ndarray:
    """Bilinear resize (N, h, w) -> (N, H, W), pixel centres aligned as in PyTorch's
    ``interpolate(..., align_corners=False)``."""
    N, h, w = maps.shape

    def coords(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)  # (n_out,)
        lo = np.floor(c).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, c - lo

    y0, y1, fy = coords(H, h)
    x0, x1, fx = coords(W, w)
    rows = maps[:, y0] * (1 - fy)[:, None] + maps[:, y1] * fy[:, None]  # (N, H, w)
    return rows[:, :, x0] * (1 - fx) + rows[:, :, x1] * fx  # (N, H, W)


def grad_cam(model: Module, x: Any, target: Any, layer: str, upsample: bool = True) -> np.ndarray:
    """Grad-CAM at ``layer`` (a layer with (N, K, h, w) output): (N, H, W), or (N, h, w)
    without ``upsample``."""
    with core.inspecting(model):
        t = core.as_input(model, x)
        targets = core.as_targets(target, t.shape[0])
        with core.Capture(model, layer, "layer") as cap:
            logits = core.forward(model, t)
            core.check_classes(targets, logits)
            A = cap[layer]
            if A.ndim != 4:
                raise ValueError(
                    f"layer: Grad-CAM needs a layer with (N, K, h, w) output; {layer!r} gives {A.shape}"
                )
            score = core.objective_of(logits, targets, "score")
            core.require_path(score, A, f"layer {layer!r}")
            score.backward()
            a = core.to_host(A)  # (N, K, h, w)
            g = core.to_host(A.grad)
    alpha = g.mean(axis=(2, 3), keepdims=True)  # (N, K, 1, 1)
    cam = np.maximum((alpha * a).sum(axis=1), 0)  # (N, h, w)
    return _upsample(cam, *t.shape[2:]) if upsample else cam


def occlusion(
    model: Module,
    x: Any,
    target: Any,
    size: int = 6,
    stride: int = 2,
    fill: float = 0.0,
    batch_size: int = 256,
) -> np.ndarray:
    """Occlusion sensitivity: (N, H, W), the mean drop of the class score S_c when a
    ``size`` x ``size`` square of ``fill`` covers each pixel (no gradients: forward passes)."""
    for name, v in (("size", size), ("stride", stride)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
    with core.inspecting(model), no_grad():
        t = core.as_input(model, x)
        N, C, H, W = t.shape
        if size > min(H, W):
            raise ValueError(f"size: a {size}x{size} patch does not fit in a {H}x{W} input")
        targets = core.as_targets(target, N)
        host = core.to_host(t)
        tops = sorted(set(range(0, H - size + 1, stride)) | {H - size})
        lefts = sorted(set(range(0, W - size + 1, stride)) | {W - size})
        corners = [(i, j) for i in tops for j in lefts]
        out = np.zeros((N, H, W))
        for n in range(N):
            base_logits = core.forward(model, core.as_input(model, host[n]))
            core.check_classes(targets[n : n + 1], base_logits)
            base = float(base_logits.array[0, targets[n]])
            drops = np.zeros((H, W))
            counts = np.zeros((H, W))
            for start in range(0, len(corners), batch_size):
                chunk = corners[start : start + batch_size]
                batch = np.repeat(host[n][None], len(chunk), axis=0)  # (B, C, H, W)
                for b, (i, j) in enumerate(chunk):
                    batch[b, :, i : i + size, j : j + size] = fill
                logits = core.forward(model, core.as_input(model, batch))
                scores = core.to_host(logits)[:, targets[n]]  # (B,)
                for (i, j), s in zip(chunk, scores):
                    drops[i : i + size, j : j + size] += base - s
                    counts[i : i + size, j : j + size] += 1
            out[n] = drops / counts
        return out
