"""Adadelta: steps scaled by the ratio of two moving RMS values, of past steps and of
gradients, so the step has the parameter's units and needs no hand-tuned rate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minicnn import backend
from minicnn.optim.optimizer import Optimizer, check_number
from minicnn.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta (Zeiler), with PyTorch's update rule.

    For each parameter ``p`` with gradient ``g``::

        g = -g                                   if maximize
        g = g + weight_decay * p                 if weight_decay != 0
        v = rho * v + (1 - rho) * g * g          (v and u start at zero)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    ``state[p]`` holds ``step``, ``square_avg`` (v) and ``acc_delta`` (u).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("lr", group["lr"], 0)
        check_number("eps", group["eps"], 0)
        check_number("weight_decay", group["weight_decay"], 0)
        rho = group["rho"]
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 <= rho <= 1:
            raise ValueError(f"rho: expected a number in [0, 1], got {rho!r}")

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> None:
        xp = backend.xp(p.backend)
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
            state["acc_delta"] = xp.zeros_like(p.array)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.array  # a new array: .grad is never modified
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * g * g
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * delta * delta
        p.array -= group["lr"] * delta
