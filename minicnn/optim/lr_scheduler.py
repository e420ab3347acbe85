"""Learning-rate schedulers: set each parameter group's ``lr`` as a function of the epoch.

Usage, as in PyTorch::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)   # sets the lr for epoch 0
    for epoch in range(100):
        train_one_epoch(model, optimizer)                      # optimizer.step() per batch
        scheduler.step()                                       # move on to epoch + 1

Constructing a scheduler records each group's starting lr as ``group["initial_lr"]`` (the
scheduler's ``base_lrs``) and sets the lr for step 0; every ``step()`` then advances
``last_epoch`` by one and writes the new lr into the optimizer. :class:`OneCycleLR` is stepped
once per *batch* instead.

Each scheduler here computes its lr in closed form, ``lr = f(base_lr, last_epoch)``, which is
the formula you find in papers. PyTorch computes most of them recursively from the current lr
instead; the values are the same when one scheduler drives an optimizer, but two schedulers
stepping the same optimizer do not multiply their factors as they would in PyTorch. To run
phases one after another (warm-up, then cosine), use :class:`SequentialLR`.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from minicnn.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define ``get_lr()``, the lr of each group at ``last_epoch``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._last_lr: list[float] = []
        self.step()  # epoch 0

    def get_lr(self) -> list[float]:
        """The lr of each parameter group at epoch ``last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_lr()")

    def step(self) -> None:
        """Advance one epoch (one batch for OneCycleLR) and write the new lrs."""
        self.last_epoch += 1
        self._apply(self.get_lr())

    def _apply(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs the last ``step()`` (or the constructor) set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (which has its own ``state_dict``)."""
        return {k: _copy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (the optimizer's lrs come from its own).

        All or nothing: every key and the kind of every value (number, string, list, ...) is
        checked first, and one error lists every missing, unexpected and mismatched entry.
        """
        errors = self._state_errors(state_dict, "state_dict")
        if errors:
            raise ValueError(
                f"state_dict: error(s) in loading the state of {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        self._set_state(state_dict)

    def _state_errors(self, state_dict: Any, where: str) -> list[str]:
        """Every reason ``state_dict`` cannot be loaded here (empty when it can)."""
        if not isinstance(state_dict, Mapping):
            return [f"{where}: expected a mapping, got {type(state_dict).__name__}"]
        mine = self.state_dict()
        errors = []
        missing = [k for k in mine if k not in state_dict]
        unexpected = [k for k in state_dict if k not in mine]
        if missing:
            errors.append(f"{where}: missing key(s) " + ", ".join(map(repr, missing)))
        if unexpected:
            errors.append(f"{where}: unexpected key(s) " + ", ".join(map(repr, unexpected)))
        for key in mine:
            if key not in state_dict:
                continue
            want, got = _kind(mine[key]), _kind(state_dict[key])
            if "none" not in (want, got) and want != got:
                errors.append(f"{where}[{key!r}]: expected a {want}, received a {got}")
            elif key in ("base_lrs", "_last_lr") and want == got == "list":
                if len(state_dict[key]) != len(mine[key]):
                    errors.append(
                        f"{where}[{key!r}]: expected one value per parameter group "
                        f"({len(mine[key])}), received {len(state_dict[key])}"
                    )
        return errors

    def _set_state(self, state_dict: Mapping[str, Any]) -> None:
        self.__dict__.update({k: _copy(v) for k, v in state_dict.items()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    ``lr = base_lr * gamma ** (epoch // step_size)``
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        _check_int("step_size", step_size, 1)
        _check_real("gamma", gamma, 0)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch listed in ``milestones``.

    ``lr = base_lr * gamma ** (number of milestones <= epoch)``
    """

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1) -> None:
        milestones = list(milestones)
        for m in milestones:
            _check_int("milestones", m, 0)
        _check_real("gamma", gamma, 0)
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from the base lr down to ``eta_min`` over ``T_max`` epochs.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``

    (Past ``T_max`` the cosine climbs back up, as in PyTorch.)
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0) -> None:
        _check_int("T_max", T_max, 1)
        _check_real("eta_min", eta_min, 0)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        cos_factor = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cos_factor for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the lr by a factor that moves linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs, then stays there (a linear warm-up with the defaults).

    ``lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters)
    / total_iters)``
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        if not (_is_real(start_factor) and 0 < start_factor <= 1):
            raise ValueError(f"start_factor: expected a number in (0, 1], got {start_factor!r}")
        if not (_is_real(end_factor) and 0 <= end_factor <= 1):
            raise ValueError(f"end_factor: expected a number in [0, 1], got {end_factor!r}")
        _check_int("total_iters", total_iters, 1)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at the epochs in ``milestones``.

    Scheduler ``i`` drives epochs ``milestones[i-1] <= epoch < milestones[i]`` and sees its own
    epoch count restart at 0 when it takes over. Warm-up then cosine::

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        cosine = CosineAnnealingLR(opt, T_max=95)
        scheduler = SequentialLR(opt, [warmup, cosine], milestones=[5])
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int]
    ) -> None:
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("schedulers: expected at least one scheduler, got none")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(
                    f"schedulers: expected LRSchedulers, got {type(s).__name__} at index {i}"
                )
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"schedulers: every scheduler must drive the given optimizer; the one at "
                    f"index {i} ({type(s).__name__}) drives another"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"milestones: expected {len(schedulers) - 1} milestone(s) (one fewer than the "
                f"schedulers), got {len(milestones)}"
            )
        for m in milestones:
            _check_int("milestones", m, 1)
        if any(a >= b for a, b in zip(milestones, milestones[1:])):
            raise ValueError(f"milestones: expected increasing epochs, got {milestones}")
        self._schedulers = schedulers
        self._milestones = milestones
        # Each sub-scheduler set an lr when it was built; the first one's epoch 0 wins.
        super().__init__(optimizer)

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        # The active scheduler counts epochs from the milestone where it took over.
        scheduler.last_epoch = self.last_epoch - (self._milestones[i - 1] if i > 0 else 0)
        scheduler._apply(scheduler.get_lr())
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = {
            k: _copy(v) for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")
        }
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def _state_errors(self, state_dict: Any, where: str) -> list[str]:
        errors = super()._state_errors(state_dict, where)
        saved = state_dict.get("_schedulers") if isinstance(state_dict, Mapping) else None
        if isinstance(saved, (list, tuple)):
            if len(saved) != len(self._schedulers):
                errors.append(
                    f"{where}['_schedulers']: expected {len(self._schedulers)} scheduler(s) "
                    f"(this SequentialLR's), received {len(saved)}"
                )
            else:
                for i, (s, sd) in enumerate(zip(self._schedulers, saved)):
                    errors += s._state_errors(sd, f"{where}['_schedulers'][{i}]")
        return errors

    def _set_state(self, state_dict: Mapping[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        super()._set_state(state)
        for s, sd in zip(self._schedulers, saved):
            s._set_state(sd)


def _is_real(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_int(name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")


def _check_real(name: str, value: Any, low: float, low_inclusive: bool = True) -> None:
    if not _is_real(value) or not (value >= low if low_inclusive else value > low):
        bound = f">= {low}" if low_inclusive else f"> {low}"
        raise ValueError(f"{name}: expected a number {bound}, got {value!r}")


def _per_group(name: str, value: Any, n: int) -> list[float]:
    """One value per parameter group: a number is repeated, a sequence must have ``n``."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{name}: expected one value per parameter group ({n}), got {len(value)}"
            )
        return list(value)
    return [value] * n


def _kind(value: Any) -> str:
    """What sort of value a scheduler field holds, for load_state_dict's checks."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "dict"
    return type(value).__name__


def _copy(value: Any) -> Any:
    """A copy of the plain containers a scheduler keeps (lists, dicts, tuples of numbers)."""
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


# OneCycleLR (stepped per batch) and more schedulers (ExponentialLR, LambdaLR,
# MultiplicativeLR, ReduceLROnPlateau), each in their module, are part of this namespace.
from minicnn.optim.lr_scheduler_extra import *  # noqa: E402, F401, F403
from minicnn.optim.lr_scheduler_onecycle import OneCycleLR as OneCycleLR  # noqa: E402
