"""SGD: stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minicnn import backend
from minicnn.optim._checks import check_step_arrays
from minicnn.optim.optimizer import Optimizer, check_number
from minicnn.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's update rule.

    For each parameter ``p`` with gradient ``g``, at step ``t``::

        g = -g                               if maximize
        g = g + weight_decay * p             if weight_decay != 0   (L2 penalty)
        if momentum != 0:
            buf = g                          at the first step
            buf = momentum * buf + (1 - dampening) * g              afterwards
            g = g + momentum * buf           if nesterov
            g = buf                          otherwise
        p = p - lr * g

    The momentum buffer is kept in ``state[p]["momentum_buffer"]``. Nesterov needs
    ``momentum > 0`` and ``dampening == 0``.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("lr", group["lr"], 0)
        check_number("momentum", group["momentum"], 0)
        check_number("dampening", group["dampening"], 0)
        check_number("weight_decay", group["weight_decay"], 0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov: expected momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r} and dampening={group['dampening']!r}"
            )

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> None:
        # The whole update is one fused kernel (kernels/*/optim.py), written out in the
        # docstring above; it changes p.array and the momentum buffer in place, so both must be
        # contiguous and grad must match them (the kernel trusts every size it is given).
        grad = check_step_arrays("SGD", p, grad, state)
        buf = None
        first = False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = backend.xp(p.backend).empty_like(p.array)
                first = True
        backend.kernel("sgd_update_", p.backend)(
            p.array,
            grad,
            buf,
            group["lr"],
            group["momentum"],
            group["dampening"],
            group["weight_decay"],
            group["nesterov"],
            group["maximize"],
            first,
        )
