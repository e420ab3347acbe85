"""Batch normalisation over (N, C) or (N, C, H, W) inputs.

Training: each channel is normalised with the mean and *biased* variance of the batch,
y = (x - mean) / sqrt(var + eps) * gamma + beta, and the running statistics move towards the
batch's: running = (1 - momentum) * running + momentum * batch, using the *unbiased* variance
for running_var (as PyTorch). Evaluation: the running statistics replace the batch's, so the
op is a fixed per-channel affine map.

The kernels see x as (N, C, L) with L = H*W (or 1): one mean and variance per channel over
M = N*L values. The training backward has to account for the mean and variance depending on
every x of the channel:
    gx = gamma * invstd / M * (M*gy - sum(gy) - xhat * sum(gy * xhat)).
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops._args import check_like, check_number, check_tensor, contiguous
from minicnn.tensor import Tensor


class BatchNormTrain(Function):
    """x (N, C, L), gamma, beta (C,) -> y (N, C, L), normalised with batch statistics."""

    def forward(self, x: Any, gamma: Any, beta: Any, eps: float) -> Any:
        x, gamma, beta = contiguous(x, gamma, beta)
        y, self.mean, self.invstd = backend.kernel("batchnorm_forward_train")(x, gamma, beta, eps)
        self.x, self.gamma = x, gamma
        return y

    def backward(self, gy: Any) -> tuple[Any, Any, Any]:
        gy = contiguous(gy)
        gx, ggamma, gbeta = backend.kernel("batchnorm_backward")(
            gy, self.x, self.gamma, self.mean, self.invstd
        )
        return gx, ggamma, gbeta


class BatchNormEval(Function):
    """x (N, C, L) -> y = (x - running_mean) * gamma / sqrt(running_var + eps) + beta.
    gx = gy * gamma * invstd; ggamma = sum(gy * xhat); gbeta = sum(gy)."""

    def forward(self, x: Any, gamma: Any, beta: Any, mean: Any, var: Any, eps: float) -> Any:
        x, gamma, beta, mean, var = contiguous(x, gamma, beta, mean, var)
        self.x, self.gamma, self.mean, self.var, self.eps = x, gamma, mean, var, eps
        return backend.kernel("batchnorm_forward_eval")(x, mean, var, gamma, beta, eps)

    def backward(self, gy: Any) -> tuple[Any, Any, Any, None, None]:
        # invstd is made here, not in forward: an evaluation forward rarely gets a backward
        invstd = (1 / backend.xp().sqrt(self.var + self.eps)).astype(gy.dtype)[None, :, None]
        gx = gy * (self.gamma[None, :, None] * invstd) if self.needs_input_grad[0] else None
        xhat = (self.x - self.mean[None, :, None]) * invstd
        ggamma = (gy * xhat).sum(axis=(0, 2)) if self.needs_input_grad[1] else None
        gbeta = gy.sum(axis=(0, 2)) if self.needs_input_grad[2] else None
        return gx, ggamma, gbeta, None, None


def _stat(name: str, t: Any, C: int, input: Tensor) -> None:
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"batch_norm: {name}: expected a Tensor or None, got {type(t).__name__}")
    check_like("batch_norm", name, t, input, "input", (C,))


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch-normalise ``input`` (N, C) or (N, C, H, W) per channel, as PyTorch's.

    When ``training``, uses batch statistics and updates ``running_mean``/``running_var`` in
    place (if given); otherwise uses the running statistics.
    """
    check_tensor("batch_norm", "input", input, (2, 3, 4), "(N, C), (N, C, L) or (N, C, H, W)")
    N, C = input.shape[:2]
    stats = dict(running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    for name, t in stats.items():
        _stat(name, t, C, input)
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "batch_norm: running_mean and running_var must both be given or both be None"
        )
    check_number("batch_norm", "momentum", momentum, 0, 1)
    check_number("batch_norm", "eps", eps, 0, open_low=True)
    if not training and running_mean is None:
        raise ValueError(
            "batch_norm: running_mean: evaluation (training=False) needs running statistics; "
            "got None (use training=True to normalise with batch statistics)"
        )
    if input.numel() == 0:  # as PyTorch: an empty output, the running statistics untouched
        shape = (1, C) + (1,) * (input.ndim - 2)
        y = input * 1
        y = y if weight is None else y * weight.reshape(shape)
        return y if bias is None else y + bias.reshape(shape)
    x = input.reshape(N, C, -1)  # (N, C, L)
    M = N * x.shape[2]
    xp = backend.xp(input.backend)
    gamma = weight if weight is not None else xp.ones(C, input.dtype)
    beta = bias if bias is not None else xp.zeros(C, input.dtype)
    if training:
        if M == 1:
            raise ValueError(
                f"batch_norm: input: expected more than 1 value per channel when training, "
                f"got input of shape {input.shape}"
            )
        fn = BatchNormTrain()
        y = fn(x, gamma, beta, float(eps))
        if running_mean is not None:
            running = contiguous(running_mean.array, running_var.array)
            running_mean.array, running_var.array = backend.kernel(
                "batchnorm_update_running", input.backend
            )(*running, fn.mean, fn.invstd, float(momentum), float(eps), M)
    else:
        y = BatchNormEval.apply(x, gamma, beta, running_mean, running_var, float(eps))
    return y.reshape(input.shape)
