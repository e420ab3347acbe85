"""Images made by gradient ascent on the input: class models, max-filter images, fooling images.

The weights stay fixed; the image is the variable. Each step runs forward and backward through
the model and moves the image along the gradient of an objective J:

- :func:`class_model`: Simonyan et al. 2013: argmax_I S_c(I) - l2 * ||I||^2 from the zero image
  (the dataset mean, for normalised inputs); S_c is the class score before softmax.
- :func:`max_filter`: activation maximisation (Erhan et al. 2009): argmax_I of the mean of one
  channel of one layer's output, minus l2 * ||I||^2.
- :func:`fooling_image`: a correctly classified image nudged by normalised gradient steps on
  the score of another class until the model predicts that class.

Each step moves the image along dJ/dI scaled to an RMS change of ``eta`` per value, and only
if J rises: otherwise ``eta`` is halved and the step retried (backtracking line search; see
``_ascend``). ReLU networks are piecewise linear, so a gradient step can overshoot a kink and
lower J; the search makes "ascent" literal: J rises at every step.

``jitter`` (shift the image by up to that many pixels before each step, and the gradient back)
and ``blur_every`` / ``blur_sigma`` (a Gaussian blur every few steps) are the usual regularisers
of Yosinski et al. 2015. Both change the objective from step to step, so with either one every
step is taken as it comes; both are off by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from minicnn import backend
from minicnn.autograd import no_grad
from minicnn.nn.module import Module
from minicnn.ops.conv import conv2d
from minicnn.ops.loss import softmax
from minicnn.tensor import Tensor
from minicnn.viz import core

GROW = 1.1  # an accepted step makes the next one this much longer


class Ascent(NamedTuple):
    """A synthesised image and how the objective evolved."""

    image: np.ndarray  # (N, C, H, W), in the model's input space
    objective: np.ndarray  # (steps + 1, N): J at the start and after each step
    probability: np.ndarray | None = None  # (N,): softmax p(target) of the final image
    steps_taken: np.ndarray | None = None  # (N,): steps until no step raised J any more


class Fooling(NamedTuple):
    """A fooling image: ``image`` differs from the input by ``image - x``."""

    image: np.ndarray  # (N, C, H, W)
    fooled: np.ndarray  # (N,) bool: the model predicts the target class for the image
    steps: np.ndarray  # (N,) int: steps taken until fooled (or the budget)
    probability: np.ndarray  # (N,): softmax p(target) of the final image


def _check_positive(name: str, value: Any, integer: bool = False) -> None:
    if integer:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    if not ok:
        kind = "an int" if integer else "a number"
        raise ValueError(f"{name}: expected {kind} >= 0, got {value!r}")


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Blur each channel of (N, C, H, W) with a Gaussian of ``sigma`` pixels (same size out),
    as a depthwise convolution with the library's conv2d."""
    radius = max(1, math.ceil(2 * sigma))
    u = np.arange(-radius, radius + 1)
    k1 = np.exp(-(u**2) / (2 * sigma**2))
    k1 /= k1.sum()
    C = x.shape[1]
    k = np.broadcast_to(np.outer(k1, k1), (C, 1, 2 * radius + 1, 2 * radius + 1))  # (C, 1, K, K)
    w = Tensor(np.ascontiguousarray(k, dtype=x.dtype), backend=x.backend)
    with no_grad():
        return conv2d(x, w, padding=radius, groups=C)


def _ascend(
    model: Module,
    objective: Callable[[Tensor, np.ndarray], Tensor],
    init: np.ndarray,
    steps: int,
    lr: float,
    l2: float,
    jitter: int,
    blur_every: int,
    blur_sigma: float,
    clamp: tuple[float, float] | None,
    max_halvings: int = 10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ascent on J(I) = objective(I) - l2 ||I||^2 from ``init`` (N, C, H, W); returns the
    final images (host), J at the start and after each step (steps + 1, N), and the number of
    steps each image took (N,).

    Each step moves an image along dJ/dI normalised to unit RMS, by ``eta`` (RMS change per
    pixel, starting at ``lr``). Without jitter or blur, J is one fixed function, and a step is
    taken only if J rises: otherwise ``eta`` is halved and the step tried again (a backtracking
    line search, at most ``max_halvings`` times; an accepted step grows ``eta`` by ``GROW``).
    So J rises at every step an image takes. When no step down to ``lr / 2**max_halvings``
    raises J, the image is at a maximum (to the precision of its dtype, or at a kink) and takes
    no more steps: its J stays flat. A wrong gradient would stop every image at once. With
    jitter or blur the objective changes from step to step and every step is taken.
    """
    for name, v in (("steps", steps), ("jitter", jitter), ("blur_every", blur_every)):
        _check_positive(name, v, integer=True)
    for name, v in (("lr", lr), ("l2", l2), ("blur_sigma", blur_sigma)):
        _check_positive(name, v)
    start = core.as_input(model, init, "shape")
    name = start.backend
    xp = backend.xp(name)
    I = start.array  # (N, C, H, W), the images being optimised
    N = I.shape[0]
    rng = np.random.default_rng(0)
    search = not jitter and not blur_every

    def evaluate(
        I: Any, shift: tuple[int, int] = (0, 0), idx: np.ndarray | None = None
    ) -> tuple[np.ndarray, Any]:
        """(J per image on the host, dJ/dI) for the images ``idx`` (default all) of the batch."""
        idx = np.arange(I.shape[0]) if idx is None else idx
        moved = Tensor._from_op(xp.roll(I, shift, axis=(2, 3)), name, None).requires_grad_(True)
        per_image = objective(moved, idx)  # (len(idx),)
        core.require_path(per_image, moved, "the image")
        per_image.sum().backward()
        g = xp.roll(moved.grad.array, (-shift[0], -shift[1]), axis=(2, 3))
        J = core.to_host(per_image) - l2 * core.to_host((I**2).sum(axis=(1, 2, 3)))
        return J, g - 2 * l2 * I

    def unit(d: Any) -> Any:
        return d / (xp.sqrt((d**2).mean(axis=(1, 2, 3), keepdims=True)) + 1e-30)

    J, d = evaluate(I)
    history = [J.copy()]
    eta = np.full(N, float(lr))
    taken = np.zeros(N, dtype=np.int64)  # steps taken by each image
    for step in range(steps):
        if not search:  # jitter or blur: take every step, record J of the unshifted image
            shift = (0, 0)
            if jitter:
                shift = tuple(int(v) for v in rng.integers(-jitter, jitter + 1, size=2))
            _, d = evaluate(I, shift)
            I = I + lr * unit(d)
            if blur_every and (step + 1) % blur_every == 0:
                I = gaussian_blur(Tensor._from_op(I, name, None), blur_sigma).array
            if clamp is not None:
                I = xp.clip(I, clamp[0], clamp[1])
            J, d = evaluate(I)
            history.append(J.copy())
            taken += 1
            continue
        pending = np.flatnonzero(taken == step)  # images not yet at a maximum
        for _ in range(max_halvings + 1):
            sel = backend.move(pending, "numpy", name)
            size = backend.move(eta[pending].reshape(-1, 1, 1, 1), "numpy", name)
            candidate = I[sel] + size.astype(I.dtype) * unit(d[sel])  # (P, C, H, W)
            if clamp is not None:
                candidate = xp.clip(candidate, clamp[0], clamp[1])
            Jc, dc = evaluate(candidate, idx=pending)
            up = Jc > J[pending]  # (P,)
            won = pending[up]
            if won.size:
                w, wu = backend.move(won, "numpy", name), backend.move(up, "numpy", name)
                I[w], d[w] = candidate[wu], dc[wu]
                J[won] = Jc[up]
                eta[won] *= GROW
                taken[won] += 1
            eta[pending[~up]] /= 2
            pending = pending[~up]
            if not pending.size:
                break
        history.append(J.copy())
        if (taken <= step).all():
            history.extend(J.copy() for _ in range(steps - step - 1))
            break  # every image is at a maximum the line search cannot leave
    return core.to_host(I), np.stack(history), taken


def _default_shape(model: Module, shape: Any, N: int) -> tuple[int, ...]:
    if shape is None:
        C = core.first_conv_channels(model) or 1
        shape = (C, 32, 32)
    shape = tuple(shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(f"shape: expected (C, H, W) of positive ints, got {shape!r}")
    return (N, *shape)


def class_model(
    model: Module,
    target: Any,
    shape: tuple[int, int, int] | None = None,
    steps: int = 200,
    lr: float = 0.1,
    l2: float = 0.005,
    jitter: int = 0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    clamp: tuple[float, float] | None = None,
    init_std: float = 0.2,
    seed: int = 0,
) -> Ascent:
    """Simonyan et al.'s class model: one image per target (an int or a list of them),
    (N, C, H, W) of ``shape`` (default (in_channels of the first conv, 32, 32)), found by
    ``steps`` of gradient ascent on S_c(I) - l2 ||I||^2 from the zero image plus Gaussian noise
    of standard deviation ``init_std`` (drawn with ``seed``; 0 starts from the zero image).

    Why the noise: a ReLU network can be silent on a blank image (every first-layer bias of the
    shipped LeNet-5 is negative, so all its units are off there), and then the gradient at the
    zero image is exactly zero and plain ascent never leaves it.
    """
    targets_list = np.atleast_1d(np.asarray(target))
    with core.inspecting(model):
        targets = core.as_targets(targets_list, len(targets_list))
        full = _default_shape(model, shape, len(targets))
        rows = np.arange(len(targets))

        def score(image: Tensor, idx: np.ndarray) -> Tensor:
            logits = core.forward(model, image, "shape")  # (P, K) for the images idx
            core.check_classes(targets, logits)
            return logits[np.arange(len(idx)), targets[idx]]  # (P,)

        init = init_std * np.random.default_rng(seed).standard_normal(full)
        image, history, taken = _ascend(
            model, score, init, steps, lr, l2, jitter, blur_every, blur_sigma, clamp
        )
        with no_grad():
            p = softmax(core.forward(model, core.as_input(model, image), "shape"), 1)
        return Ascent(image, history, core.to_host(p)[rows, targets], taken)


def max_filter(
    model: Module,
    layer: str,
    channel: int,
    shape: tuple[int, int, int] | None = None,
    steps: int = 100,
    lr: float = 0.1,
    l2: float = 0.001,
    jitter: int = 0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    clamp: tuple[float, float] | None = None,
    init_std: float = 0.2,
    seed: int = 0,
) -> Ascent:
    """The image (1, C, H, W) that maximises the mean activation of ``channel`` of ``layer``
    (a unit, for a layer with (N, K) output), minus l2 ||I||^2: gradient ascent from the zero
    image plus noise of standard deviation ``init_std`` (see :func:`class_model`)."""
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or channel < 0:
        raise ValueError(f"channel: expected an int >= 0, got {channel!r}")
    with core.inspecting(model):
        cap = core.Capture(model, layer, "layer")
        full = _default_shape(model, shape, 1)
        init = init_std * np.random.default_rng(seed).standard_normal(full)

        def mean_activation(image: Tensor, idx: np.ndarray) -> Tensor:
            core.forward(model, image, "shape")
            A = cap[layer]  # (N, K, h, w) or (N, K)
            if A.ndim < 2 or channel >= A.shape[1]:
                raise ValueError(
                    f"channel: {layer!r} has {A.shape[1] if A.ndim >= 2 else 0} channels "
                    f"(output {A.shape}), got channel {channel}"
                )
            a = A[:, int(channel)]  # (N, h, w) or (N,)
            return a.mean(dim=tuple(range(1, a.ndim))) if a.ndim > 1 else a

        with cap:
            image, history, taken = _ascend(
                model, mean_activation, init, steps, lr, l2, jitter, blur_every, blur_sigma, clamp
            )
        return Ascent(image, history, None, taken)


def fooling_image(model: Module, x: Any, target: Any, steps: int = 100, lr: float = 0.5) -> Fooling:
    """Nudge each input towards class ``target`` by normalised gradient steps,
    x <- x + lr * g / ||g|| with g = d S_target / d x, until the model predicts ``target``
    (each input stops on its own), at most ``steps`` steps."""
    _check_positive("steps", steps, integer=True)
    _check_positive("lr", lr)
    with core.inspecting(model):
        image = core.as_input(model, x)
        N = image.shape[0]
        targets = core.as_targets(target, N)
        rows = np.arange(N)
        xp = backend.xp(image.backend)
        done = np.zeros(N, dtype=bool)
        taken = np.zeros(N, dtype=np.int64)
        for step in range(steps + 1):
            image.grad = None
            logits = core.forward(model, image)
            core.check_classes(targets, logits)
            done = core.to_host(logits.argmax(1)) == targets
            if done.all() or step == steps:
                break
            score = logits[rows, targets].sum()
            core.require_path(score, image, "the input x")
            score.backward()
            g = image.grad.array  # (N, C, H, W)
            norm = xp.sqrt((g**2).sum(axis=(1, 2, 3), keepdims=True)) + 1e-12
            active = backend.move((~done).reshape(-1, 1, 1, 1), "numpy", image.backend)
            image.array += lr * g / norm * active
            taken += ~done
        with no_grad():
            p = softmax(core.forward(model, image.detach()), 1)
        return Fooling(core.to_host(image), done, taken, core.to_host(p)[rows, targets])
