"""Softmax, log-softmax and the losses: ``cross_entropy``, ``nll_loss``, ``mse_loss``.

All are computed stably: softmax subtracts each row's maximum before ``exp`` so no term
overflows, and ``log_softmax`` is ``x - max - log(sum(exp(x - max)))``, never ``log(softmax)``.
``cross_entropy`` fuses log-softmax with the negative log-likelihood: its gradient is simply
``softmax - target distribution`` per sample, scaled by the reduction.
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import check_choice, check_number
from minicnn.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _log_softmax(x: Any, dim: int) -> Any:
    xp = backend.xp()
    if x.size == 0:  # nothing to normalise (and no maximum of an empty axis)
        return xp.empty_like(x)
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``dim``. gx = y * (gy - sum(gy * y))."""

    def forward(self, x: Any, dim: int) -> Any:
        self.dim = dim
        self.y = backend.xp().exp(_log_softmax(x, dim))
        return self.y

    def backward(self, gy: Any) -> Any:
        return self.y * (gy - (gy * self.y).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``dim``. gx = gy - softmax(x) * sum(gy)."""

    def forward(self, x: Any, dim: int) -> Any:
        self.dim = dim
        self.y = _log_softmax(x, dim)
        return self.y

    def backward(self, gy: Any) -> Any:
        return gy - backend.xp().exp(self.y) * gy.sum(axis=self.dim, keepdims=True)


class WeightedNLL(Function):
    """Loss from log-probabilities ``logp`` (M, C) and per-sample class coefficients.

    With ``A`` (M, C) the coefficient matrix (built by the caller from targets, class weights
    and label smoothing), loss_i = -sum_c A[i, c] * logp[i, c]; the sum of the loss_i for
    "sum", divided by ``total`` (the summed weight of the targets) for "mean". Gradient:
    g_logp = -A * gy (/ total). If ``fused`` the input is logits and log-softmax is applied
    inside; then g_logits = g_logp - softmax * sum_c g_logp (the log-softmax chain rule).
    """

    def forward(self, x: Any, A: Any, total: Any, reduction: str, fused: bool) -> Any:
        logp = _log_softmax(x, 1) if fused else x
        self.A, self.total, self.reduction, self.fused = A, total, reduction, fused
        self.logp = logp
        losses = -(A * logp).sum(axis=1)  # (M,)
        if reduction == "none":
            return losses
        # With every target ignored (or none at all) the mean is 0 / 0 = nan, as in PyTorch.
        return losses.sum() / total if reduction == "mean" else losses.sum()

    def backward(self, gy: Any) -> tuple[Any, None, None]:
        g_row = gy if self.reduction == "none" else gy.reshape(1)  # (M,) or (1,)
        A = self.A
        if self.reduction == "mean":  # a zero total means A is zero too: the gradient is 0
            A = A / backend.xp().where(self.total != 0, self.total, 1)
        g_logp = -A * g_row[:, None]  # (M, C)
        if not self.fused:
            return g_logp, None, None
        p = backend.xp().exp(self.logp)
        return g_logp - p * g_logp.sum(axis=1, keepdims=True), None, None


class CrossEntropy(Function):
    """The common case of cross-entropy: logits x (M, C), valid class indices t (M,), no class
    weights or smoothing. loss_i = -log softmax(x_i)[t_i]; gx_i = (softmax(x_i) - onehot(t_i))
    * gy_i (divided by M for the mean). The general case is :class:`WeightedNLL`."""

    def forward(self, x: Any, t: Any, reduction: str) -> Any:
        xp = backend.xp()
        self.logp, self.t, self.reduction = _log_softmax(x, 1), t, reduction
        self.rows = xp.arange(x.shape[0])
        losses = -self.logp[self.rows, t]  # (M,)
        return (
            losses
            if reduction == "none"
            else losses.sum() / (losses.dtype.type(x.shape[0]) if reduction == "mean" else 1)
        )

    def backward(self, gy: Any) -> tuple[Any, None, None]:
        g = backend.xp().exp(self.logp)  # softmax (M, C)
        g[self.rows, self.t] -= 1
        if self.reduction == "none":
            return g * gy[:, None], None, None
        scale = gy / g.dtype.type(g.shape[0]) if self.reduction == "mean" else gy
        return g * scale, None, None


class MSE(Function):
    """loss = mean or sum of (a - b)**2. ga = 2 (a - b) gy * scale, gb = -ga."""

    def forward(self, a: Any, b: Any, reduction: str) -> Any:
        self.diff, self.reduction = a - b, reduction
        sq = self.diff * self.diff
        return {"mean": sq.mean, "sum": sq.sum}.get(reduction, lambda: sq)()

    def backward(self, gy: Any) -> tuple[Any, Any]:
        g = 2 * self.diff * gy
        if self.reduction == "mean":
            g = g / g.dtype.type(self.diff.size)
        return g, -g


def _dim(op: str, input: Tensor, dim: int) -> int:
    if not isinstance(dim, int) or not -input.ndim <= dim < input.ndim:
        raise ValueError(f"{op}: dim {dim!r} out of range for a tensor of shape {input.shape}")
    return dim % input.ndim


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """Softmax along ``dim`` (stable)."""
    return Softmax.apply(input, _dim("softmax", input, dim))


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """Log of the softmax along ``dim``, computed without forming the softmax."""
    return LogSoftmax.apply(input, _dim("log_softmax", input, dim))


def _class_targets(op: str, input: Tensor, target: Any) -> tuple[Tensor, Any, Any, tuple]:
    """Validate (N, C, d1, ...) input and (N, d1, ...) integer targets; flatten to (M, C), (M,)."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point Tensor of scores")
    if input.ndim < 2:
        raise ValueError(f"input: expected shape (N, C) or (N, C, d1, ...), got {input.shape}")
    xp = backend.xp(input.backend)
    t = target.array if isinstance(target, Tensor) else target
    if isinstance(target, Tensor) and target.backend != input.backend:
        raise TypeError(
            f"{op}: input and target live on different backends "
            f"({input.backend!r} and {target.backend!r})"
        )
    t = xp.asarray(t)
    if t.dtype.kind not in "iu":
        raise TypeError(f"target: expected integer class indices, got dtype {t.dtype.name}")
    expected = (input.shape[0],) + input.shape[2:]
    if tuple(t.shape) != expected:
        raise ValueError(
            f"target: expected shape {expected} for input {input.shape}, got {tuple(t.shape)}"
        )
    C = input.shape[1]
    x = input
    if input.ndim > 2:  # move classes last, then flatten positions into the batch
        from minicnn.ops.shape import permute, reshape

        x = reshape(permute(input, 0, *range(2, input.ndim), 1), -1, C)
    return x, t.reshape(-1).astype("int64"), C, expected


def _coefficients(
    op: str,
    x: Tensor,
    t: Any,
    C: int,
    weight: Any,
    ignore_index: int,
    label_smoothing: float,
) -> tuple[Any, Any]:
    """The (M, C) coefficient matrix A and the total weight of the targets for WeightedNLL."""
    xp = backend.xp(x.backend)
    dt = x.dtype
    valid = t != ignore_index  # (M,)
    safe_t = xp.where(valid, t, 0)
    if t.size and bool(((safe_t < 0) | (safe_t >= C)).any()):
        bad = int(safe_t[(safe_t < 0) | (safe_t >= C)][0])
        raise ValueError(f"target: class index {bad} is out of range [0, {C})")
    if weight is None:
        w = xp.ones(C, dt)
    else:
        w = (weight.array if isinstance(weight, Tensor) else xp.asarray(weight)).astype(dt)
        if tuple(w.shape) != (C,):
            raise ValueError(f"weight: expected shape ({C},), got {tuple(w.shape)}")
    M = t.shape[0]
    onehot = xp.zeros((M, C), dt)
    onehot[xp.arange(M), safe_t] = 1
    A = (1 - label_smoothing) * onehot * w[safe_t][:, None] + (label_smoothing / C) * w[None, :]
    A = A * valid[:, None]
    total = (w[safe_t] * valid).sum().astype(dt)  # 0-d
    return A.astype(dt), total


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C[, d...]) and class indices ``target``.

    As ``torch.nn.functional.cross_entropy``: optional class ``weight`` (C,), ``ignore_index``,
    ``reduction`` in {"mean", "sum", "none"}, and ``label_smoothing`` in [0, 1], which mixes the
    one-hot target with the uniform distribution over classes.
    """
    check_choice("cross_entropy", "reduction", reduction, REDUCTIONS)
    check_number("cross_entropy", "label_smoothing", label_smoothing, 0, 1)
    x, t, C, out_shape = _class_targets("cross_entropy", input, target)
    if weight is None and label_smoothing == 0.0 and _plain_targets(x, t, C, ignore_index):
        loss = CrossEntropy.apply(x, t, reduction)
    else:
        A, total = _coefficients("cross_entropy", x, t, C, weight, ignore_index, label_smoothing)
        loss = WeightedNLL.apply(x, A, total, reduction, True)
    return loss.reshape(out_shape) if reduction == "none" else loss


def _plain_targets(x: Tensor, t: Any, C: int, ignore_index: int) -> bool:
    """True when every target is a valid class and none can equal ``ignore_index``: then the
    plain :class:`CrossEntropy` applies. One host transfer (of min and max) decides it."""
    if 0 <= ignore_index < C or t.size == 0:
        return False
    xp = backend.xp(x.backend)
    lo, hi = (int(v) for v in backend.to_host(xp.stack((t.min(), t.max()))))
    return 0 <= lo and hi < C


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C[, d...]) at ``target``."""
    check_choice("nll_loss", "reduction", reduction, REDUCTIONS)
    x, t, C, out_shape = _class_targets("nll_loss", input, target)
    A, total = _coefficients("nll_loss", x, t, C, weight, ignore_index, 0.0)
    loss = WeightedNLL.apply(x, A, total, reduction, False)
    return loss.reshape(out_shape) if reduction == "none" else loss


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean (or summed) squared error; ``input`` and ``target`` must have the same shape."""
    check_choice("mse_loss", "reduction", reduction, REDUCTIONS)
    if not isinstance(target, Tensor):
        raise TypeError(f"target: expected a Tensor, got {type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"target: expected shape {input.shape} (the input's), got {target.shape}")
    return MSE.apply(input, target, reduction)
