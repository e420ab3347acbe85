"""More learning-rate schedulers with PyTorch's names: ``ExponentialLR``, ``LambdaLR``,
``MultiplicativeLR`` and ``ReduceLROnPlateau``; all are reachable as
``minicnn.optim.lr_scheduler.<name>``.

The first three set the lr from the epoch count, as the schedulers of ``lr_scheduler`` do.
``ReduceLROnPlateau`` instead watches a metric: ``scheduler.step(val_loss)`` after each
evaluation cuts the lr by ``factor`` once the metric has failed to improve for more than
``patience`` evaluations in a row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from minicnn.optim.lr_scheduler import LRScheduler, _check_real, _copy, _per_group
from minicnn.optim.optimizer import Optimizer


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``lr = base_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        _check_real("gamma", gamma, 0, low_inclusive=False)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


def _lambdas(optimizer: Optimizer, lr_lambda: Any) -> list[Callable[[int], float]]:
    fns = _per_group("lr_lambda", lr_lambda, len(optimizer.param_groups))
    for f in fns:
        if not callable(f):
            raise TypeError(f"lr_lambda: expected a function of the epoch, got {f!r}")
    return fns


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``; one function, or one per parameter group.

    The functions are not part of ``state_dict()`` (a lambda cannot be saved): a loaded
    scheduler keeps the ones it was built with.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any) -> None:
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        return {
            k: _copy(v) for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")
        }


class MultiplicativeLR(LambdaLR):
    """Multiply the lr by ``lr_lambda(epoch)`` every epoch after the first: ``lr = base_lr *
    lr_lambda(1) * ... * lr_lambda(epoch)``."""

    def get_lr(self) -> list[float]:
        lrs = []
        for base, f in zip(self.base_lrs, self.lr_lambdas):
            lrs.append(base * math.prod(f(e) for e in range(1, self.last_epoch + 1)))
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Cut the lr by ``factor`` when a metric stops improving, as PyTorch's.

    ``step(metric)`` counts "bad" evaluations: ones not better than the best so far by more
    than ``threshold`` (relative to the best with ``threshold_mode="rel"``, absolute with
    ``"abs"``; lower is better with ``mode="min"``, higher with ``"max"``). When the count
    exceeds ``patience``, each group's lr becomes ``max(lr * factor, min_lr)`` (unless that
    changes it by less than ``eps``), and ``cooldown`` evaluations pass before counting again.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: Any = 0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected an Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode: expected 'rel' or 'abs', got {threshold_mode!r}")
        if not isinstance(factor, (int, float)) or not 0 <= factor < 1:
            raise ValueError(f"factor: expected a number in [0, 1), got {factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: expected an int >= 0, got {value!r}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), patience
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = cooldown, float(eps)
        self.min_lrs = [float(v) for v in _per_group("min_lr", min_lr, len(optimizer.param_groups))]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.threshold_mode == "rel":
            scale = 1 - self.threshold if self.mode == "min" else 1 + self.threshold
            return a < best * scale if self.mode == "min" else a > best * scale
        return a < best - self.threshold if self.mode == "min" else a > best + self.threshold

    def step(self, metrics: Any = None) -> None:  # type: ignore[override]
        """Record one evaluation of the metric (a number or a 0-d tensor)."""
        if metrics is None:
            raise TypeError("step: expected the metric, as in scheduler.step(val_loss)")
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_lr(self) -> list[float]:
        return list(self._last_lr)


__all__ = ["ExponentialLR", "LambdaLR", "MultiplicativeLR", "ReduceLROnPlateau"]
