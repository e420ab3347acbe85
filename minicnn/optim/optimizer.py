"""Optimizer: the base class that holds parameter groups and per-parameter state.

An optimizer is given the parameters to train, either as one iterable of tensors or as a list
of *parameter groups*, dicts such as ``{"params": model.fc.parameters(), "lr": 0.01}``; a
group's missing hyperparameters are filled in from the optimizer's defaults. ``step()`` reads
each parameter's ``.grad`` and updates ``.array`` in place, under ``no_grad``, with array math
on the parameter's own backend; the Parameter objects are never replaced, so the model and the
optimizer keep pointing at the same tensors. Parameters whose ``.grad`` is None are skipped.

``state`` maps each parameter to a dict of what its update remembers between steps (a momentum
buffer, Adam's moving averages). ``state_dict()`` names parameters by their position (0, 1, ...
across the groups, in order) and copies arrays to host NumPy, so it pickles and loads into a
fresh optimizer built over a copy of the model, on any backend.

A subclass validates its hyperparameters in :meth:`Optimizer._check_group` and writes its
update rule in :meth:`Optimizer._update`, on raw arrays.
"""

from __future__ import annotations

import copy
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from minicnn import backend
from minicnn.autograd import enable_grad, no_grad
from minicnn.nn.parameter import zero_grads
from minicnn.tensor import Tensor


class Optimizer:
    """Base class of the optimizers: parameter groups, per-parameter state, step and zero_grad."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params: expected an iterable of Tensors or of dicts (parameter groups), got a "
                "single Tensor; pass [t] or model.parameters()"
            )
        self.defaults = dict(defaults)
        self._check_group(self.defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        groups = list(params)
        if not groups:
            raise ValueError(
                "params: expected at least one parameter to optimize, got an empty list "
                "(did a generator such as model.parameters() get used up already?)"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], <hyperparameter>: value, ...}`` (say, a layer being
        unfrozen mid-training); hyperparameters it leaves out come from the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"param_group: expected a dict with a 'params' key, got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(
                f"param_group: expected a 'params' key, got keys {sorted(param_group)}"
            )
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError("params: expected at least one parameter in the group, got none")
        seen: set[int] = set()
        for p in params:
            _check_param(p)
            if id(p) in seen:
                raise ValueError(
                    f"params: a parameter of shape {p.shape} appears twice in one group; "
                    "it would be updated twice per step"
                )
            seen.add(id(p))
        for g in self.param_groups:
            if any(id(q) in seen for q in g["params"]):
                raise ValueError(
                    "params: a parameter appears in more than one parameter group; "
                    "each parameter may belong to one group only"
                )
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError on a bad hyperparameter (subclasses check their own)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: to None (the default), or to zeros in place."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a ``.grad``, in place; returns ``closure()``'s loss.

        ``closure``, when given, recomputes the loss (zeroing and back-propagating inside);
        it runs with gradients enabled, before the update.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                todo = []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    _follow_param(p, state)
                    todo.append((p, p.grad.array, state))
                self._update_group(group, todo)
        return loss

    def _update_group(self, group: dict[str, Any], todo: list[tuple[Tensor, Any, dict]]) -> None:
        """Update the parameters of ``group`` listed in ``todo`` as (p, grad, state): each in
        turn here; an optimizer with a kernel for a whole list (SGD's foreach) overrides it."""
        for p, grad, state in todo:
            self._update(p, grad, group, state)

    def _update(self, p: Tensor, grad: Any, group: dict[str, Any], state: dict) -> None:
        """Update ``p.array`` in place from ``grad`` (an array like ``p.array``), using the
        hyperparameters of ``group`` and this parameter's ``state`` (a dict to read and fill)."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update()")

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are named by their position across the groups; arrays are copied to host
        NumPy, so the result pickles and later steps do not change it.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            groups.append({**saved, "params": ids})
        state = {
            index[id(p)]: {k: _to_host_copy(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index and s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`.

        All or nothing: the saved groups must match this optimizer's in number and size, every
        group must hold this optimizer's hyperparameters, and every state array must have its
        parameter's shape and a real dtype; one error lists every problem, and a failed load
        leaves the optimizer as it was. Arrays move to each parameter's backend and are cast
        to its dtype.
        """
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "state_dict: expected a mapping with keys 'state' and 'param_groups' "
                f"(from Optimizer.state_dict()), got {type(state_dict).__name__}"
            )
        saved_groups = list(state_dict["param_groups"])
        saved_state = state_dict["state"]
        errors = []
        if len(saved_groups) != len(self.param_groups):
            errors.append(
                f"expected {len(self.param_groups)} parameter group(s) (this optimizer's), "
                f"received {len(saved_groups)}"
            )
        by_index: dict[Any, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, Mapping) or "params" not in saved:
                errors.append(f"parameter group {i}: expected a dict with 'params'")
                continue
            if len(saved["params"]) != len(group["params"]):
                errors.append(
                    f"parameter group {i} expected {len(group['params'])} parameter(s) (this "
                    f"optimizer's), received {len(saved['params'])}"
                )
            missing = sorted(k for k in self.defaults if k not in saved)
            if missing:
                errors.append(f"parameter group {i}: missing hyperparameter(s) {missing}")
            by_index.update(zip(saved["params"], group["params"]))
        if not isinstance(saved_state, Mapping):
            errors.append(f"'state': expected a mapping, got {type(saved_state).__name__}")
            saved_state = {}

        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in saved_state.items():
            if key not in by_index:
                errors.append(f"state for parameter index {key!r}, which no group names")
                continue
            if not isinstance(entries, Mapping):
                errors.append(f"state of parameter {key}: expected a dict")
                continue
            p = by_index[key]
            new_state[p] = {}
            for name, value in entries.items():
                if backend.is_array(value):
                    if tuple(value.shape) != p.shape:
                        errors.append(
                            f"state {name!r} of parameter {key}: expected shape {p.shape} "
                            f"(the parameter's), received {tuple(value.shape)}"
                        )
                        continue
                    if value.dtype.kind not in "biuf":
                        errors.append(
                            f"state {name!r} of parameter {key}: expected a real dtype, "
                            f"received {value.dtype}"
                        )
                        continue
                    value = backend.move(value, backend.backend_of_array(value), p.backend)
                    value = value.astype(p.dtype)  # also copies, so the saved dict stays as is
                else:
                    value = copy.deepcopy(value)
                new_state[p][name] = value
        if errors:
            raise ValueError(
                f"state_dict: error(s) in loading the state of {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )

        for group, saved in zip(self.param_groups, saved_groups):
            params = group["params"]
            group.clear()
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            group["params"] = params
        self.state = defaultdict(dict, new_state)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"


def _check_param(p: Any) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"params: expected Tensors (Parameters), got {type(p).__name__}")
    if p.dtype.kind != "f":
        raise ValueError(
            f"params: expected floating-point tensors, got one of dtype {p.dtype.name} "
            f"and shape {p.shape}"
        )
    if not p.is_leaf:
        raise ValueError(
            "params: expected leaf tensors, got one computed by an op "
            f"({type(p.grad_fn).__name__}); optimize the tensors it was computed from"
        )


def _follow_param(p: Tensor, state: dict[str, Any]) -> None:
    """Move state arrays to ``p``'s backend and dtype if they differ: ``model.to("cupy")`` or
    ``model.double()`` after some steps replaces the parameters' arrays, not their state."""
    for key, value in state.items():
        if backend.is_array(value) and (
            backend.backend_of_array(value) != backend.backend_of_array(p.array)
            or value.dtype != p.dtype
        ):
            moved = backend.move(value, backend.backend_of_array(value), p.backend)
            state[key] = moved.astype(p.dtype, copy=False)


def _to_host_copy(value: Any) -> Any:
    if backend.is_array(value):
        return backend.to_host(value).copy()
    return copy.deepcopy(value)


def check_number(name: str, value: Any, low: float, low_inclusive: bool = True) -> None:
    """Raise ValueError unless ``value`` is a real number ``>= low`` (``> low`` when not
    ``low_inclusive``); the message names the hyperparameter."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and (value >= low if low_inclusive else value > low)
    if not ok:
        bound = f">= {low}" if low_inclusive else f"> {low}"
        raise ValueError(f"{name}: expected a number {bound}, got {value!r}")
