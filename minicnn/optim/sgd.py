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
    ``momentum > 0`` and ``dampening == 0``. ``foreach`` (None or True, the default: yes)
    updates a group's parameters with one kernel call for the whole list, one GPU launch where
    ``foreach=False`` makes one per parameter; the numbers are the same bits either way.
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
        foreach: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("lr", group["lr"], 0)
        check_number("momentum", group["momentum"], 0)
        check_number("dampening", group["dampening"], 0)
        check_number("weight_decay", group["weight_decay"], 0)
        if group.get("foreach") not in (None, True, False):
            raise ValueError(f"foreach: expected None, True or False, got {group['foreach']!r}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov: expected momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r} and dampening={group['dampening']!r}"
            )

    def _prepare(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> tuple:
        """The step's checked gradient, momentum buffer (None without momentum) and whether
        this is its first step (the buffer made now). The kernels change p.array and the buffer
        in place, so both are made contiguous and grad must match them (the kernels trust every
        size they are given)."""
        grad = check_step_arrays("SGD", p, grad, state)
        buf, first = None, False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = backend.xp(p.backend).empty_like(p.array)
                first = True
        return grad, buf, first

    @staticmethod
    def _hyperparameters(group: dict[str, Any]) -> tuple:
        keys = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
        return tuple(group[k] for k in keys)

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> None:
        # The whole update is one fused kernel (kernels/*/optim.py), written out in the
        # docstring above.
        grad, buf, first = self._prepare(p, grad, group, state)
        kernel = backend.kernel("sgd_update_", p.backend)
        kernel(p.array, grad, buf, *self._hyperparameters(group), first)

    def _update_group(self, group: dict[str, Any], todo: list[tuple[Tensor, Any, dict]]) -> None:
        if group.get("foreach") is False:
            return super()._update_group(group, todo)
        # One kernel call per list of parameters sharing a backend, a dtype and the first step
        # (usually all of them): on a GPU, one launch where there were one per parameter.
        lists: dict[tuple, tuple[list, list, list]] = {}
        for p, grad, state in todo:
            grad, buf, first = self._prepare(p, grad, group, state)
            params, grads, bufs = lists.setdefault((p.backend, p.array.dtype, first), ([], [], []))
            params.append(p.array)
            grads.append(grad)
            bufs.append(buf)
        for (name, _, first), (params, grads, bufs) in lists.items():
            kernel = backend.kernel("sgd_foreach_update_", name)
            bufs = None if group["momentum"] == 0 else bufs
            kernel(params, grads, bufs, *self._hyperparameters(group), first)
