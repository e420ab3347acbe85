"""More losses: ``l1_loss``, ``smooth_l1_loss``, ``binary_cross_entropy`` (from
probabilities), ``binary_cross_entropy_with_logits``, and the ``one_hot`` encoding.

The binary cross-entropies are ops of their own because their gradients are simpler and more
stable than the chain rule through ``log`` and ``sigmoid``: from logits x and targets t,

    loss = (1 - t) x + l (log(1 + exp(-|x|)) + max(-x, 0)),   l = 1 + (pos_weight - 1) t
    d loss / dx = (1 - t) - l * sigmoid(-x)

is finite for every x (no exp overflows; at x = 0 the slope is (1 - t) - l / 2, where a
composition through ``abs`` would give a wrong subgradient). From probabilities p, as
PyTorch, each log is clamped at -100, so p = 0 or 1 gives a large finite loss, and the
gradient (p - t) / max(p (1 - p), 1e-12) stays finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import check_choice
from minicnn.ops.elementwise import broadcast_shape, where
from minicnn.ops.loss import REDUCTIONS
from minicnn.tensor import Tensor


class BinaryCrossEntropy(Function):
    """Per element: -w (t log p + (1 - t) log(1 - p)), each log clamped at -100.
    gp = gy w (p - t) / max(p (1 - p), 1e-12); gt = gy w (log(1 - p) - log p)."""

    def forward(self, p: Any, t: Any, w: Any) -> Any:
        xp = backend.xp()
        self.p, self.t, self.w = p, t, w
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 as PyTorch
            self.logp = xp.maximum(xp.log(p), -100)
            self.log1mp = xp.maximum(xp.log(1 - p), -100)
        return -w * (t * self.logp + (1 - t) * self.log1mp)

    def backward(self, gy: Any) -> tuple[Any, Any, None]:
        xp = backend.xp()
        p, t, gw = self.p, self.t, gy * self.w
        gp = gw * (p - t) / xp.maximum(p * (1 - p), 1e-12) if self.needs_input_grad[0] else None
        gt = gw * (self.log1mp - self.logp) if self.needs_input_grad[1] else None
        return gp, gt, None


class BinaryCrossEntropyWithLogits(Function):
    """Per element: w ((1 - t) x + l softplus(-x)), l = 1 + (pos_weight - 1) t.
    gx = gy w ((1 - t) - l sigmoid(-x)); gt = gy w (-x + (pos_weight - 1) softplus(-x))."""

    def forward(self, x: Any, t: Any, w: Any, pos_weight: Any) -> Any:
        xp = backend.xp()
        self.x, self.t, self.w, self.pw = x, t, w, pos_weight
        self.softplus = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # log(1 + exp(-x))
        self.l = 1 + (pos_weight - 1) * t
        return w * ((1 - t) * x + self.l * self.softplus)

    def backward(self, gy: Any) -> tuple[Any, Any, None, None]:
        xp = backend.xp()
        gw = gy * self.w
        gx = gt = None
        if self.needs_input_grad[0]:
            sig_neg = (xp.tanh(-self.x * 0.5) + 1) * 0.5  # sigmoid(-x), without overflow
            gx = gw * ((1 - self.t) - self.l * sig_neg)
        if self.needs_input_grad[1]:
            gt = gw * (-self.x + (self.pw - 1) * self.softplus)
        return gx, gt, None, None


def _pair(op: str, input: Any, target: Any) -> None:
    for name, t in (("input", input), ("target", target)):
        if not isinstance(t, Tensor) or t.dtype.kind != "f":
            got = t.dtype.name if isinstance(t, Tensor) else type(t).__name__
            raise TypeError(f"{op}: {name}: expected a floating-point Tensor, got {got}")
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: target: expected shape {input.shape} (the input's), got {target.shape}"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    check_choice("_reduce", "reduction", reduction, REDUCTIONS)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _weight(op: str, name: str, w: Any, input: Tensor) -> Any:
    """A weight tensor that broadcasts to the input, as an array of its dtype (1 when None)."""
    if w is None:
        return input.dtype.type(1)
    if not isinstance(w, Tensor):
        raise TypeError(f"{op}: {name}: expected a Tensor or None, got {type(w).__name__}")
    if broadcast_shape(f"{op}: {name}", w.shape, input.shape) != input.shape:
        raise ValueError(
            f"{op}: {name}: shape {w.shape} does not broadcast to the input's {input.shape}"
        )
    return w.to(input.backend).array.astype(input.dtype)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean (or summed) absolute difference of two tensors of one shape."""
    _pair("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    _pair("smooth_l1_loss", input, target)
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
        raise ValueError(f"smooth_l1_loss: beta: expected a number >= 0, got {beta!r}")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) of probabilities ``input`` in [0, 1] and targets."""
    _pair("binary_cross_entropy", input, target)
    check_choice("binary_cross_entropy", "reduction", reduction, REDUCTIONS)
    if input.numel() and bool(((input.array < 0) | (input.array > 1)).any()):
        raise ValueError(
            "binary_cross_entropy: input: all elements should be between 0 and 1 "
            "(probabilities); for logits use binary_cross_entropy_with_logits"
        )
    w = _weight("binary_cross_entropy", "weight", weight, input)
    return _reduce(BinaryCrossEntropy.apply(input, target, w), reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid and binary cross-entropy in one stable op, from logits ``input``; ``pos_weight``
    (broadcast along the last axis, one per class) weighs the positive targets."""
    _pair("binary_cross_entropy_with_logits", input, target)
    check_choice("binary_cross_entropy_with_logits", "reduction", reduction, REDUCTIONS)
    w = _weight("binary_cross_entropy_with_logits", "weight", weight, input)
    pw = _weight("binary_cross_entropy_with_logits", "pos_weight", pos_weight, input)
    return _reduce(BinaryCrossEntropyWithLogits.apply(input, target, w, pw), reduction)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) -> int64 one-hot vectors along a new last axis of length
    ``num_classes`` (largest index + 1 when -1)."""
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        got = tensor.dtype.name if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: tensor: expected an integer Tensor of class indices, got {got}")
    xp = backend.xp(tensor.backend)
    a = tensor.array.astype("int64")
    if a.size and int(a.min()) < 0:
        raise ValueError(f"one_hot: tensor: class values must be non-negative, got {int(a.min())}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes: expected an int >= -1, got {num_classes!r}")
    n = (int(a.max()) + 1 if a.size else 0) if num_classes == -1 else num_classes
    if a.size and int(a.max()) >= n:
        raise ValueError(
            f"one_hot: tensor: class values must be smaller than num_classes={n}, "
            f"got {int(a.max())}"
        )
    out = (a[..., None] == xp.arange(n)).astype("int64")  # (..., n)
    return Tensor._from_op(out, tensor.backend, None)
