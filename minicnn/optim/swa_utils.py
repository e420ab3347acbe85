"""Weight averaging: stochastic weight averaging (SWA) and exponential moving averages (EMA).

Izmailov et al. 2018 ("Averaging weights leads to wider optima and better generalization"):
after the usual schedule, keep training at a constant (or cyclic) learning rate and average the
weights the optimizer passes through, one snapshot per epoch. The average sits nearer the middle
of a wide, flat region of the loss than any single snapshot, and usually tests better. As in
PyTorch's ``torch.optim.swa_utils``::

    swa_model = AveragedModel(model)
    for epoch in range(swa_epochs):
        for x, y in loader:
            train_step(model, x, y, cross_entropy, optimizer)
        swa_model.update_parameters(model)       # running mean of the snapshots
    update_bn(loader, swa_model)                  # batch-norm statistics of the averaged weights

Batch norm needs the last line: the running mean and variance collected while training belong to
the snapshots, not to their average, so :func:`update_bn` measures them again with one pass over
the training data.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minicnn.autograd import no_grad
from minicnn.nn.layers.norm import _BatchNorm
from minicnn.nn.module import Module
from minicnn.tensor import Tensor, int64, tensor

AvgFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """An ``avg_fn`` for an exponential moving average: ``decay * average + (1 - decay) * new``."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay: expected a number in [0, 1], got {decay!r}")

    def ema(averaged: np.ndarray, current: np.ndarray, num_averaged: int) -> np.ndarray:
        return decay * averaged + (1.0 - decay) * current

    return ema


def _mean(averaged: np.ndarray, current: np.ndarray, num_averaged: int) -> np.ndarray:
    # The running mean of num_averaged + 1 snapshots, from the mean of the first num_averaged.
    return averaged + (current - averaged) / (num_averaged + 1)


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are the average of the snapshots it was given.

    ``update_parameters(model)`` folds the model's current parameters into the average: the first
    call copies them, later ones apply ``avg_fn(average, current, n_averaged)`` (the equal-weight
    running mean by default; :func:`get_ema_avg_fn` for an EMA). Buffers (batch-norm statistics)
    are copied from the model when ``use_buffers`` is False (then call :func:`update_bn`), and
    averaged like the parameters when it is True. Calling the averaged model runs the copy.
    """

    def __init__(self, model: Module, avg_fn: AvgFn | None = None, use_buffers: bool = False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"model: expected a minicnn.nn.Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        self.avg_fn = avg_fn or _mean
        self.use_buffers = bool(use_buffers)
        self.register_buffer("n_averaged", tensor(0, dtype=int64))  # saved with state_dict()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _pairs(self, model: Module) -> list[tuple[Tensor, Tensor]]:
        mine = list(self.module.parameters())
        theirs = list(model.parameters())
        if self.use_buffers:
            mine += [b for b in self.module.buffers() if b is not None]
            theirs += [b for b in model.buffers() if b is not None]
        if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
            raise ValueError(
                "model: expected the architecture this AveragedModel was made from "
                f"({len(mine)} tensors), got {len(theirs)} tensors of other shapes"
            )
        return list(zip(mine, theirs))

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        n = int(self.n_averaged.item())
        for averaged, current in self._pairs(model):
            new = current.array
            if n > 0 and np.issubdtype(averaged.array.dtype, np.floating):
                new = self.avg_fn(averaged.array, new, n)
            averaged.array[...] = new  # in place: same array, same backend, same dtype
        if not self.use_buffers:  # statistics of the latest snapshot, until update_bn
            for mine, theirs in zip(self.module.buffers(), model.buffers()):
                if mine is not None and theirs is not None:
                    mine.array[...] = theirs.array
        self.n_averaged.array += 1


def update_bn(loader: Iterable, model: Module) -> None:
    """Measure every batch-norm layer's running statistics again with one pass over ``loader``.

    Each layer starts from zero statistics and takes the plain average over the batches
    (``momentum=None``), in training mode, without gradients; the layers' momenta and the
    model's mode are restored afterwards. ``loader`` yields ``(x, y)`` pairs or bare inputs.
    """
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    was_training = model.training
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        with no_grad():
            for batch in loader:
                model(batch[0] if isinstance(batch, (tuple, list)) else batch)
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.train(was_training)


__all__ = ["AveragedModel", "get_ema_avg_fn", "update_bn"]
