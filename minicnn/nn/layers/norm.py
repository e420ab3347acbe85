"""Batch normalisation layers: ``BatchNorm1d`` and ``BatchNorm2d``.

In training, each channel is normalised with the batch's own mean and (biased) variance, and
the running statistics are updated: running = (1 - momentum) * running + momentum * batch
(with the unbiased variance), or a plain cumulative average when ``momentum=None``. In
evaluation the running statistics are used instead, so the output of one sample does not
depend on the others. The running statistics are buffers: saved, moved by ``to()``, but not
learned.
"""

from __future__ import annotations

from minicnn.creation import ones, zeros
from minicnn.nn import functional as F
from minicnn.nn import init
from minicnn.nn.module import Module
from minicnn.nn.parameter import Parameter
from minicnn.ops._args import check_int, check_number, check_tensor
from minicnn.tensor import Tensor, int64, tensor


class _BatchNorm(Module):
    """The shared body; subclasses say which input ranks they accept."""

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = check_int(name, "num_features", num_features)
        check_number(name, "eps", eps, 0, open_low=True)  # as F.batch_norm checks eps
        if momentum is not None:  # None: a cumulative average (the layer's own option)
            check_number(name, "momentum", momentum, 0, 1)
        self.eps = eps
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        C = self.num_features
        if self.affine:
            self.weight = Parameter(ones(C))  # gamma, the per-channel scale
            self.bias = Parameter(zeros(C))  # beta, the per-channel shift
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", zeros(C))
            self.register_buffer("running_var", ones(C))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """Reset the running statistics, and the scale to 1 and the shift to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        check_tensor(name, "input", input, self._ranks, self._layout)
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: input: expected {self.num_features} channels (dim 1), "
                f"got shape {input.shape}"
            )

    def _normalise(self, input: Tensor) -> Tensor:
        """F.batch_norm with this layer's state; input (N, C), (N, C, L) or (N, C, H, W)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1  # a counter, outside the graph
            if self.momentum is None:  # cumulative average: batch k gets weight 1/k
                factor = 1.0 / float(self.num_batches_tracked.item())
        # Without running statistics there is nothing to evaluate with: use the batch's.
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=factor,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs: statistics per channel over N (and L)."""

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"

    def forward(self, input: Tensor) -> Tensor:
        """(N, C) -> (N, C), or (N, C, L) -> (N, C, L)."""
        self._check_input(input)
        return self._normalise(input)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs: statistics per channel over N, H and W."""

    _ranks = (4,)
    _layout = "(N, C, H, W)"

    def forward(self, input: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        self._check_input(input)
        return self._normalise(input)


__all__ = ["BatchNorm1d", "BatchNorm2d"]
