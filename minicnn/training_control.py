"""What :func:`minicnn.training.fit` needs besides the step: argument checks, Ctrl-C handling,
the state to roll back to, and the progress bar.

- :class:`CtrlC` turns SIGINT into KeyboardInterrupt at once, except inside *held* stretches
  (the optimizer step until the batch is counted; a checkpoint write), where the first Ctrl-C
  waits for the stretch to end.
- :class:`StepGuard` is the optimizer as ``train_step`` sees it inside ``fit``: its ``step()``
  starts a held stretch, because from there on the weights change and the batch can no longer
  be rolled back.
- :class:`ResumePoint` remembers the end of the last finished batch: the loader's position,
  minicnn's generator and the model's buffers (the forward pass updates BatchNorm's running
  statistics and draws dropout seeds before any weight changes).
"""

from __future__ import annotations

import copy
import numbers
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from minicnn import random
from minicnn.tensor import Tensor


def check_step_args(model: Any, x: Any, y: Any, loss_fn: Any, optimizer: Any) -> None:
    """TypeError naming the argument of ``train_step`` that is not what it should be."""
    if not callable(model):
        raise TypeError(f"model: expected a Module (callable), got {type(model).__name__}")
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(value).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a callable(output, y), got {type(loss_fn).__name__}")
    if not (callable(getattr(optimizer, "step", None)) and hasattr(optimizer, "zero_grad")):
        raise TypeError(
            f"optimizer: expected an optimizer (with step and zero_grad), got "
            f"{type(optimizer).__name__}"
        )


def check_fit_args(
    model: Any, loader: Any, optimizer: Any, epochs: Any, scheduler: Any, checkpoints: bool, **flags
) -> None:
    """TypeError or ValueError naming the argument of ``fit`` that is not what it should be."""
    if not (callable(model) and hasattr(model, "train") and hasattr(model, "state_dict")):
        raise TypeError(f"model: expected a Module, got {type(model).__name__}")
    if not (hasattr(loader, "__iter__") and hasattr(loader, "__len__")):
        raise TypeError(f"train_loader: expected a DataLoader, got {type(loader).__name__}")
    if checkpoints and not hasattr(loader, "state_dict"):
        raise TypeError(
            "train_loader: checkpoints (out_dir) need a loader with state_dict and "
            f"load_state_dict, such as minicnn.data.DataLoader; got {type(loader).__name__}"
        )
    if len(loader) == 0:
        raise ValueError(f"train_loader: has no batches ({loader!r})")
    if not (callable(getattr(optimizer, "step", None)) and hasattr(optimizer, "param_groups")):
        raise TypeError(f"optimizer: expected an Optimizer, got {type(optimizer).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs: expected an int >= 0, got {epochs!r}")
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(
            f"scheduler: expected an LRScheduler or None, got {type(scheduler).__name__}"
        )
    for name, value in flags.items():
        if name in ("loss_fn", "log") and not callable(value):
            raise TypeError(f"{name}: expected a callable, got {type(value).__name__}")
        if name in ("resume", "progress", "scheduler_per_batch") and not isinstance(value, bool):
            raise TypeError(f"{name}: expected a bool, got {value!r}")
        if name == "stop_after_batches" and value is not None:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"stop_after_batches: expected an int >= 1 or None, got {value!r}")


class CtrlC:
    """``with CtrlC() as ctrl_c``: SIGINT handling for a training loop (main thread only;
    elsewhere, or where SIGINT is ignored or handled by someone else, nothing changes)."""

    def __init__(self) -> None:
        self.depth = 0  # nesting of held stretches
        self.pending = False  # a Ctrl-C arrived while held
        self._previous: Any = None

    def __enter__(self) -> CtrlC:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.depth == 0 or self.pending:  # not held, or a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.pending = True

    @property
    def holding(self) -> bool:
        return self.depth > 0

    def hold(self) -> None:
        self.depth += 1

    def release(self) -> None:
        """End a held stretch; a Ctrl-C that arrived during it is raised now."""
        if self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0 and self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def reset(self) -> None:
        self.depth, self.pending = 0, False

    @contextmanager
    def held(self) -> Iterator[None]:
        """A held stretch. An exception out of it leaves it held, so that ``holding`` tells
        whoever catches the exception that the stretch did not finish."""
        self.hold()
        yield
        self.release()


class StepGuard:
    """Forwards ``zero_grad`` and ``step`` to ``optimizer``; ``step`` first holds Ctrl-C."""

    def __init__(self, optimizer: Any, ctrl_c: CtrlC) -> None:
        self.optimizer = optimizer
        self.ctrl_c = ctrl_c

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def step(self, closure: Any = None) -> Any:
        self.ctrl_c.hold()  # released by fit once the batch is counted
        return self.optimizer.step(closure)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.optimizer, name)


class Buffers:
    """Where a model keeps its buffers, found once: reading them each step then costs a
    lookup per buffer instead of a walk over the module tree."""

    def __init__(self, model: Any) -> None:
        self.slots = [
            (module._buffers, name)  # the registry itself: a buffer replaced later is seen
            for _, module in model.named_modules()
            for name in module._buffers
        ]

    def copy(self) -> list[Any]:
        return [None if reg[name] is None else reg[name].array.copy() for reg, name in self.slots]

    def restore(self, saved: list[Any]) -> None:
        for (reg, name), value in zip(self.slots, saved):
            if value is not None and reg[name] is not None:
                reg[name].array[...] = value


@dataclass
class ResumePoint:
    """The run as it stood at the end of a finished batch (or at the start of an epoch)."""

    epoch: int
    mid_epoch: bool
    totals: Any
    loader: dict
    rng: dict
    buffers: list[Any]

    @classmethod
    def take(
        cls, epoch: int, mid_epoch: bool, totals: Any, buffers: Buffers, loader: Any
    ) -> ResumePoint:
        state = loader.state_dict(), random.get_rng_state(), buffers.copy()
        return cls(epoch, mid_epoch, copy.copy(totals), *state)

    def restore(self, buffers: Buffers, loader: Any) -> None:
        """Put the loader, the generator and the buffers back as they were at this point (the
        weights and the optimizer change only in held stretches, so they already are)."""
        loader.load_state_dict(self.loader)
        random.set_rng_state(self.rng)
        buffers.restore(self.buffers)


class _NoBar:
    def update(self, totals: Any) -> None:
        pass

    def close(self) -> None:
        pass


class _Bar:
    """A tqdm bar driven by ``update()``: it never touches the loader."""

    def __init__(self, total: int, initial: int, epoch: int, epochs: int) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            initial=initial,
            desc=f"epoch {epoch + 1}/{epochs}",
            leave=False,
            unit="batch",
            dynamic_ncols=True,
        )

    def update(self, totals: Any) -> None:
        self.bar.update(1)
        self.bar.set_postfix(
            loss=f"{totals.loss_sum / totals.seen:.4f}",
            acc=f"{100 * totals.correct / totals.seen:.2f}%",
            img_s=f"{totals.seen / max(totals.seconds, 1e-9):.0f}",
            refresh=False,
        )

    def close(self) -> None:
        self.bar.close()


def progress_bar(enabled: bool, total: int, initial: int, epoch: int, epochs: int) -> Any:
    """A bar for one epoch of ``total`` batches, ``initial`` of them done already."""
    return _Bar(total, initial, epoch, epochs) if enabled else _NoBar()
