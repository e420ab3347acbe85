"""RMSprop: divide each coordinate's step by a moving root-mean-square of its gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minicnn import backend
from minicnn.optim.optimizer import Optimizer, check_number
from minicnn.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), with PyTorch's update rule.

    For each parameter ``p`` with gradient ``g``::

        g = -g                                   if maximize
        g = g + weight_decay * p                 if weight_decay != 0
        v = alpha * v + (1 - alpha) * g * g      (v starts at zero)
        avg = sqrt(v - g_avg ** 2) + eps         if centered, with
                                                 g_avg = alpha * g_avg + (1 - alpha) * g
        avg = sqrt(v) + eps                      otherwise
        buf = momentum * buf + g / avg;  p = p - lr * buf     if momentum > 0
        p = p - lr * g / avg                                   otherwise

    ``state[p]`` holds ``step``, ``square_avg`` (v), and ``momentum_buffer`` and
    ``grad_avg`` when used.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("lr", group["lr"], 0)
        check_number("alpha", group["alpha"], 0)
        check_number("eps", group["eps"], 0)
        check_number("weight_decay", group["weight_decay"], 0)
        check_number("momentum", group["momentum"], 0)

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> None:
        xp = backend.xp(p.backend)
        alpha, eps, lr = group["alpha"], group["eps"], group["lr"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.array  # a new array: .grad is never modified
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            g_avg = state.setdefault("grad_avg", xp.zeros_like(p.array))
            g_avg *= alpha
            g_avg += (1 - alpha) * g
            avg = xp.sqrt(v - g_avg * g_avg) + eps
        else:
            avg = xp.sqrt(v) + eps
        if group["momentum"] > 0:
            buf = state.setdefault("momentum_buffer", xp.zeros_like(p.array))
            buf *= group["momentum"]
            buf += g / avg
            p.array -= lr * buf
        else:
            p.array -= lr * g / avg
