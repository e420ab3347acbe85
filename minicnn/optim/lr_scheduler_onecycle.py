"""OneCycleLR: the 1cycle learning-rate policy, stepped once per batch instead of per epoch;
reachable as ``minicnn.optim.lr_scheduler.OneCycleLR``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minicnn.optim.lr_scheduler import LRScheduler, _check_int, _check_real, _is_real, _per_group
from minicnn.optim.optimizer import Optimizer


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): lr rises from ``max_lr / div_factor`` to ``max_lr``
    over the first ``pct_start`` of training, then falls to ``initial_lr / final_div_factor``.
    Stepped once per batch, ``total_steps`` times in all.

    Phases (``t`` counts steps from 0, ``T = total_steps``; each phase anneals from its start
    value to its end value by ``anneal_strategy``, cosine or linear)::

        two phases:   t in [0, pct_start*T - 1]:       initial_lr -> max_lr
                      t in [.., T - 1]:                max_lr -> min_lr
        three_phase:  t in [0, pct_start*T - 1]:       initial_lr -> max_lr
                      t in [.., 2*pct_start*T - 2]:    max_lr -> initial_lr
                      t in [.., T - 1]:                initial_lr -> min_lr

    with ``initial_lr = max_lr / div_factor`` and ``min_lr = initial_lr / final_div_factor``.
    cos anneal: ``end + (start - end) * (1 + cos(pi * pct)) / 2``; linear:
    ``start + (end - start) * pct``, where ``pct`` is the fraction of the phase done.

    With ``cycle_momentum`` (as PyTorch) the momentum moves the opposite way, from
    ``max_momentum`` down to ``base_momentum`` while the lr rises and back while it falls; it
    is SGD's ``momentum`` or Adam's ``beta1``. Note that this turns momentum on for an SGD
    built with ``momentum=0``; pass ``cycle_momentum=False`` to leave it alone.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected an Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            _check_int("total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            _check_int("epochs", epochs, 1)
            _check_int("steps_per_epoch", steps_per_epoch, 1)
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(
                "total_steps: expected total_steps, or both epochs and steps_per_epoch, got "
                f"total_steps=None, epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}"
            )
        if not (_is_real(pct_start) and 0 <= pct_start <= 1):
            raise ValueError(f"pct_start: expected a number in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy: expected 'cos' or 'linear', got {anneal_strategy!r}"
            )
        _check_real("div_factor", div_factor, 0, low_inclusive=False)
        _check_real("final_div_factor", final_div_factor, 0, low_inclusive=False)
        self.total_steps = total_steps
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = cycle_momentum

        groups = optimizer.param_groups
        max_lrs = _per_group("max_lr", max_lr, len(groups))
        for group, peak in zip(groups, max_lrs):
            # One-cycle owns the whole curve, so it overrides any earlier initial_lr.
            group["initial_lr"] = peak / div_factor
            group["max_lr"] = peak
            group["min_lr"] = group["initial_lr"] / final_div_factor

        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    "cycle_momentum: the optimizer has neither 'momentum' nor 'betas'; "
                    "pass cycle_momentum=False"
                )
            self._use_beta1 = "betas" in optimizer.defaults
            base_ms = _per_group("base_momentum", base_momentum, len(groups))
            max_ms = _per_group("max_momentum", max_momentum, len(groups))
            for group, low, high in zip(groups, base_ms, max_ms):
                group["base_momentum"], group["max_momentum"] = low, high
                self._set_momentum(group, high)

        p = float(pct_start * total_steps)
        if three_phase:
            self._phases = [
                dict(end_step=p - 1, lr=("initial_lr", "max_lr"), m=("max", "base")),
                dict(end_step=2 * p - 2, lr=("max_lr", "initial_lr"), m=("base", "max")),
                dict(end_step=total_steps - 1, lr=("initial_lr", "min_lr"), m=("max", "max")),
            ]
        else:
            self._phases = [
                dict(end_step=p - 1, lr=("initial_lr", "max_lr"), m=("max", "base")),
                dict(end_step=total_steps - 1, lr=("max_lr", "min_lr"), m=("base", "max")),
            ]
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2
        return start + (end - start) * pct

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self._use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(
                f"step: called {t} times, more than total_steps={self.total_steps}; "
                "one-cycle is stepped once per batch for exactly total_steps batches"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._phases):
                end_step = phase["end_step"]
                if t <= end_step or i == len(self._phases) - 1:
                    pct = (t - start_step) / (end_step - start_step)
                    lr_from, lr_to = phase["lr"]
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        m_from, m_to = phase["m"]
                        momentum = self._anneal(
                            group[m_from + "_momentum"], group[m_to + "_momentum"], pct
                        )
                        self._set_momentum(group, momentum)
                    break
                start_step = end_step
        return lrs
