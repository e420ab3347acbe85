"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minicnn import backend
from minicnn.optim.optimizer import Optimizer, check_number
from minicnn.tensor import Tensor


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), with PyTorch's update rule.

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        g = -g                                   if maximize
        g = g + weight_decay * p                 if weight_decay != 0
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                            (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    ``state[p]`` holds ``step`` and ``sum`` (s).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("lr", group["lr"], 0)
        check_number("lr_decay", group["lr_decay"], 0)
        check_number("weight_decay", group["weight_decay"], 0)
        check_number("initial_accumulator_value", group["initial_accumulator_value"], 0)
        check_number("eps", group["eps"], 0)

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> None:
        xp = backend.xp(p.backend)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p.array, group["initial_accumulator_value"])
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.array  # a new array: .grad is never modified
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        p.array -= clr * g / (xp.sqrt(s) + group["eps"])
