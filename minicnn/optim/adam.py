"""Adam and AdamW: per-coordinate step sizes from moving averages of the gradient and its square.

The two differ only in weight decay. Adam adds ``weight_decay * p`` to the gradient (an L2
penalty), which then passes through the adaptive scaling, so heavily-updated coordinates are
barely decayed. AdamW shrinks the parameter directly, ``p *= 1 - lr * weight_decay``, before
the Adam step ("decoupled" weight decay, Loshchilov & Hutter), so every coordinate decays at
the same rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minicnn import backend
from minicnn.optim._checks import check_step_arrays
from minicnn.optim.optimizer import Optimizer, check_number
from minicnn.tensor import Tensor


class Adam(Optimizer):
    """Adam (Kingma & Ba), with PyTorch's update rule.

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        g = -g                               if maximize
        p = p * (1 - lr * weight_decay)      if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p             otherwise, if weight_decay != 0 (L2 penalty)
        m = beta1 * m + (1 - beta1) * g      (m, v start at zero)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                if amsgrad, and v_max replaces v below
        m_hat = m / (1 - beta1 ** t)         bias correction: m and v start at 0, so early
        v_hat = v / (1 - beta2 ** t)         averages are too small by exactly these factors
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    ``state[p]`` holds ``step`` (an int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    amsgrad, ``max_exp_avg_sq`` (v_max). ``foreach`` as in :class:`~minicnn.optim.SGD`: one
    kernel call (one GPU launch) for the group's parameters at the same step, unless False.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("lr", group["lr"], 0)
        check_number("eps", group["eps"], 0, low_inclusive=False)
        check_number("weight_decay", group["weight_decay"], 0)
        betas = group["betas"]
        if (
            not isinstance(betas, (tuple, list))
            or len(betas) != 2
            or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas)
        ):
            raise ValueError(f"betas: expected two numbers (beta1, beta2) in [0, 1), got {betas!r}")
        if group.get("foreach") not in (None, True, False):
            raise ValueError(f"foreach: expected None, True or False, got {group['foreach']!r}")

    def _prepare(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> Any:
        """The step's checked gradient, with ``state`` made (moments at zero) or advanced a
        step. The kernels change p.array and the moments in place, so all are made contiguous
        and grad must match them (the kernels trust every size they are given)."""
        grad = check_step_arrays(type(self).__name__, p, grad, state)
        xp = backend.xp(p.backend)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        return grad

    @staticmethod
    def _hyperparameters(group: dict[str, Any]) -> tuple:
        beta1, beta2 = group["betas"]
        return (group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                group["decoupled_weight_decay"], group["maximize"])  # fmt: skip

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> None:
        # The whole update is one fused kernel (kernels/*/optim.py), written out in the
        # docstring above.
        grad = self._prepare(p, grad, group, state)
        v_max = state["max_exp_avg_sq"] if group["amsgrad"] else None
        kernel = backend.kernel("adam_update_", p.backend)
        moments = (state["exp_avg"], state["exp_avg_sq"], v_max)
        kernel(p.array, grad, *moments, *self._hyperparameters(group), state["step"])

    def _update_group(self, group: dict[str, Any], todo: list[tuple[Tensor, Any, dict]]) -> None:
        if group.get("foreach") is False:
            return super()._update_group(group, todo)
        # One kernel call per list of parameters sharing a backend, a dtype and a step count.
        lists: dict[tuple, tuple[list, ...]] = {}
        for p, grad, state in todo:
            grad = self._prepare(p, grad, group, state)
            key = (p.backend, p.array.dtype, state["step"])
            arrays = (p.array, grad, state["exp_avg"], state["exp_avg_sq"])
            for one_list, a in zip(lists.setdefault(key, ([], [], [], [], [])), arrays):
                one_list.append(a)
            lists[key][4].append(state.get("max_exp_avg_sq"))
        for (name, _, step), (params, grads, m, v, v_max) in lists.items():
            v_max = v_max if group["amsgrad"] else None
            kernel = backend.kernel("adam_foreach_update_", name)
            kernel(params, grads, m, v, v_max, *self._hyperparameters(group), step)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), with PyTorch's update rule.

    Each step first shrinks the parameter, ``p = p * (1 - lr * weight_decay)``, then takes the
    Adam step of :class:`Adam` on the raw gradient (no L2 term)::

        p = p * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        p = p - lr * (m / (1 - beta1 ** t)) / (sqrt(v / (1 - beta2 ** t)) + eps)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            decoupled_weight_decay=True,
        )
