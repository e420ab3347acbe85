"""Feature inversion after Mahendran & Vedaldi 2015, "Understanding deep image representations
by inverting them": which images does a layer see as the same?

Given an image x0 and its representation Phi0 = Phi(x0) at a layer, find

    x* = argmin_x  ||Phi(x) - Phi0||^2 / ||Phi0||^2  +  lambda_a R_a(x)  +  lambda_tv R_tv(x)

by gradient descent on the image (Adam, the library's optimizer), from small noise. The two
regularisers keep x* a plausible image; their gradients are derived here and implemented by
hand (:class:`AlphaNorm`, :class:`TotalVariation`), and the tests check them by finite
differences.

**alpha-norm.** R_a(x) = sum_i |x_i|^a keeps values in range (a = 6 punishes the few large
values hardest). d|x|^a/dx = a |x|^(a-1) sign(x) = a x |x|^(a-2), so

    dR_a/dx_i = a x_i |x_i|^(a-2).

**Total variation.** With h_ij = x_{i,j+1} - x_ij and v_ij = x_{i+1,j} - x_ij (a difference
that would leave the image is 0, so every pixel, border included, takes part) and
d_ij = h_ij^2 + v_ij^2 + eps,

    R_tv(x) = sum_ij d_ij^(b/2)   (per image and channel).

Each x_ij enters three terms: its own (through h_ij and v_ij, both with sign -1), its left
neighbour's (through h_{i,j-1}, sign +1) and its upper neighbour's (through v_{i-1,j}, sign +1).
With c_ij = b d_ij^(b/2 - 1) (so d(d_ij^(b/2))/dh_ij = c_ij h_ij, likewise for v), the chain rule
gives

    dR_tv/dx_ij = -c_ij (h_ij + v_ij) + c_{i,j-1} h_{i,j-1} + c_{i-1,j} v_{i-1,j},

the terms whose indices leave the grid being zero. b = 2 gives the smooth quadratic penalty;
b < 2 favours piecewise-constant images (eps keeps the gradient finite where d_ij = 0).

The regularisers are normalised as in the paper: R_a by N B^a and R_tv by N V^b, where N is the
number of values of one image, B the range of x0 (``bound``) and V = B / 6.5 a typical
difference between neighbouring pixels, so ``lambda_a`` and ``lambda_tv`` depend neither on the
scale of the input nor on how many images are inverted together.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from minicnn.autograd import Function, no_grad
from minicnn.backend import xp as _xp
from minicnn.nn.module import Module
from minicnn.optim.adam import Adam
from minicnn.tensor import Tensor
from minicnn.viz import core


class AlphaNorm(Function):
    """R_a(x) = sum |x|^a over every value of x: a scalar; dR/dx = a x |x|^(a-2)."""

    def forward(self, x: Any, alpha: float) -> Any:
        self.x, self.alpha = x, alpha
        return (_xp().abs(x) ** alpha).sum()

    def backward(self, gy: Any) -> Any:
        x, a = self.x, self.alpha
        return gy * a * x * _xp().abs(x) ** (a - 2)


class TotalVariation(Function):
    """R_tv(x) = sum over every pixel of (h^2 + v^2 + eps)^(b/2) for x (N, C, H, W): a scalar
    (see the module docstring for the differences and the gradient)."""

    def forward(self, x: Any, beta: float, eps: float) -> Any:
        xp = _xp()
        h = xp.zeros_like(x)
        v = xp.zeros_like(x)
        h[:, :, :, :-1] = x[:, :, :, 1:] - x[:, :, :, :-1]  # (N, C, H, W), 0 in the last column
        v[:, :, :-1, :] = x[:, :, 1:, :] - x[:, :, :-1, :]  # (N, C, H, W), 0 in the last row
        d = h * h + v * v + eps
        self.h, self.v, self.d, self.beta = h, v, d, beta
        return (d ** (beta / 2)).sum()

    def backward(self, gy: Any) -> Any:
        h, v, b = self.h, self.v, self.beta
        c = b * self.d ** (b / 2 - 1)  # (N, C, H, W)
        gx = -c * (h + v)  # each term's own pixel
        gx[:, :, :, 1:] += (c * h)[:, :, :, :-1]  # the right neighbour, through h
        gx[:, :, 1:, :] += (c * v)[:, :, :-1, :]  # the lower neighbour, through v
        return gy * gx


def alpha_norm(x: Tensor, alpha: float = 6.0) -> Tensor:
    """sum |x|^alpha (a scalar tensor), differentiable in x."""
    return AlphaNorm.apply(x, float(alpha))


def total_variation(x: Tensor, beta: float = 2.0, eps: float = 1e-8) -> Tensor:
    """Total variation sum (h^2 + v^2 + eps)^(beta/2) of (N, C, H, W) ``x`` (a scalar)."""
    if x.ndim != 4:
        raise ValueError(f"x: expected (N, C, H, W), got shape {x.shape}")
    return TotalVariation.apply(x, float(beta), float(eps))


class Inversion(NamedTuple):
    """The reconstruction and its progress."""

    image: np.ndarray  # (N, C, H, W), in the model's input space
    feature_error: np.ndarray  # (N,): ||Phi(x*) - Phi0|| / ||Phi0|| at the end
    loss: np.ndarray  # (steps + 1,): the objective, summed over the batch, at each step


def _feature_error(phi: Any, phi0: Any) -> np.ndarray:
    """||phi - phi0|| / ||phi0|| per image, from backend arrays (N, ...): (N,)."""
    phi, phi0 = core.to_host(phi), core.to_host(phi0)
    N = phi.shape[0]
    diff = ((phi - phi0) ** 2).reshape(N, -1).sum(axis=1)
    ref = (phi0**2).reshape(N, -1).sum(axis=1)
    return np.sqrt(diff / ref)


def invert(
    model: Module,
    x: Any,
    layer: str,
    steps: int = 300,
    lr: float = 0.05,
    alpha: float = 6.0,
    lambda_alpha: float = 1e-5,
    beta: float = 2.0,
    lambda_tv: float = 3e-3,
    bound: float | None = None,
    init_std: float = 0.2,
    seed: int = 0,
) -> Inversion:
    """Reconstruct ``x`` (C, H, W) or (N, C, H, W) from its representation at ``layer``
    (see the module docstring): ``steps`` of Adam at learning rate ``lr`` (halved at 3/4 of
    the way), from noise of standard deviation ``init_std`` drawn with ``seed``."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected an int >= 1, got {steps!r}")
    for name, v in (("lr", lr), ("alpha", alpha), ("beta", beta)):
        if not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"{name}: expected a number > 0, got {v!r}")
    for name, v in (("lambda_alpha", lambda_alpha), ("lambda_tv", lambda_tv)):
        if not (isinstance(v, (int, float)) and v >= 0):
            raise ValueError(f"{name}: expected a number >= 0, got {v!r}")
    with core.inspecting(model):
        x0 = core.as_input(model, x)
        cap = core.Capture(model, layer, "layer")
        with cap:
            with no_grad():
                core.forward(model, x0)
            phi0 = cap[layer].array.copy()  # (N, ...) the representation to match
            if not float((phi0**2).sum()) > 0:
                raise ValueError(
                    f"x: its representation at {layer!r} is all zeros; nothing to match"
                )
            host = core.to_host(x0)
            B = float(host.max() - host.min()) if bound is None else float(bound)
            if not B > 0:
                raise ValueError(f"bound: expected a range > 0, got {B}")
            V = B / 6.5
            n_values = host[0].size  # per image: the batch size must not weaken the priors
            rng = np.random.default_rng(seed)
            image = core.as_input(model, init_std * rng.standard_normal(host.shape))
            xp = _xp(image.backend)
            ref = Tensor._from_op(xp.asarray(phi0), image.backend, None)
            norm0 = Tensor._from_op(
                (phi0**2).reshape(phi0.shape[0], -1).sum(axis=1), image.backend, None
            )  # (N,)
            opt = Adam([image], lr=lr)
            losses = []
            for step in range(steps + 1):
                opt.zero_grad()
                core.forward(model, image)
                phi = cap[layer]
                core.require_path(phi, image, "the image")
                diff = ((phi - ref) ** 2).flatten(1).sum(1)  # (N,)
                loss = (diff / norm0).sum()
                if lambda_alpha:
                    loss = loss + lambda_alpha / (n_values * B**alpha) * alpha_norm(image, alpha)
                if lambda_tv:
                    loss = loss + lambda_tv / (n_values * V**beta) * total_variation(image, beta)
                losses.append(float(loss.item()))
                if step == steps:
                    break
                loss.backward()
                if step == (3 * steps) // 4:
                    opt.param_groups[0]["lr"] = lr / 2
                opt.step()
            error = _feature_error(phi.array, phi0)
        return Inversion(core.to_host(image), error, np.asarray(losses))
