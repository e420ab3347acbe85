"""Saving, loading and moving a Module: the part of its API that walks the tree for tensors.

:class:`ModuleState` is a base class of :class:`~minicnn.nn.module.Module` (its methods are
Module methods): ``state_dict()`` names every parameter and persistent buffer by its path in
the tree, ``load_state_dict()`` copies values back all or nothing, and ``to()`` moves or casts
every parameter and buffer in place.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from minicnn import autograd, backend
from minicnn.tensor import Tensor

if TYPE_CHECKING:
    from minicnn.nn.module import Module


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class ModuleState:
    """state_dict, load_state_dict and to() of :class:`~minicnn.nn.module.Module`."""

    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every saved name and tensor: each module's parameters, then its persistent
        buffers, then its children's; a shared tensor appears under each of its names."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_items(f"{prefix}{name}.")

    def state_dict(self) -> OrderedDict[str, Tensor]:
        """An OrderedDict name -> Tensor of parameters and persistent buffers, as detached
        copies: later training does not change a saved state_dict."""
        return OrderedDict(
            (name, Tensor._from_op(t.array.copy(), t.backend, None))
            for name, t in self._state_items()
        )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into this module's parameters and buffers.

        All or nothing: every key, shape and dtype is checked, and every value converted,
        before anything is copied, and one error lists every problem, so a failed load leaves
        the module unchanged. A shape mismatch or a value that cannot become the target's dtype
        (text, objects, complex numbers, or floats for an integer buffer) is always an error;
        missing and unexpected keys are errors when ``strict``, and are otherwise returned as
        ``(missing_keys, unexpected_keys)``. Values are cast to the target's dtype and moved to
        its backend.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict: expected a mapping, got {type(state_dict).__name__}")
        targets = OrderedDict(self._state_items())
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        if strict and missing:
            errors.append("missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            errors.append("unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        values = {}
        for name, target in targets.items():
            if name in state_dict:
                value, error = self._loadable(name, state_dict[name], target)
                if error is not None:
                    errors.append(error)
                else:
                    values[name] = value
        if errors:
            raise RuntimeError(
                f"error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for name, value in values.items():  # cannot fail: same shape, dtype and backend
            targets[name].array[...] = value
        return IncompatibleKeys(missing, unexpected)

    @staticmethod
    def _loadable(name: str, value: Any, target: Tensor) -> tuple[Any, str | None]:
        """``value`` as an array of ``target``'s shape, dtype and backend, or an error message."""
        data = value.array if isinstance(value, Tensor) else value
        if not backend.is_array(data):
            try:
                data = np.asarray(data)
            except (TypeError, ValueError) as e:
                return None, f"value for {name}: not an array ({e})"
        if tuple(data.shape) != target.shape:
            return None, (
                f"size mismatch for {name}: expected shape {target.shape} (the module's), "
                f"received {tuple(data.shape)}"
            )
        kinds = "biuf" if target.dtype.kind == "f" else "biu"  # no floats into an integer buffer
        if data.dtype.kind not in kinds:
            return None, (
                f"dtype mismatch for {name}: expected values castable to {target.dtype.name} "
                f"(the module's), received {data.dtype}"
            )
        moved = backend.move(data, backend.backend_of_array(data), target.backend)
        return moved.astype(target.dtype, copy=False), None

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move every parameter and buffer to a backend or device (``"numba"``, ``"cupy"``,
        ``"cpu"``, ``"cuda"``, a ``minicnn.device``), and/or cast the floating-point ones to a
        dtype (``to(float64)``, ``to(device, dtype)``, ``to(device=..., dtype=...)``); in place.

        The Parameter objects stay the same (their ``.array`` is replaced and ``.grad`` reset),
        so an optimizer made before the move keeps working. Returns ``self``.
        """
        from minicnn.device import backend_for, parse_to

        try:
            target, dtype, _ = parse_to(args, kwargs)
        except TypeError:
            raise TypeError(
                f"target: expected a backend ({', '.join(map(repr, backend.BACKENDS))}), a "
                f"device or a dtype, got {args[0] if args else kwargs!r}"
            ) from None
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"target: modules can be cast to float dtypes only, got {dtype.name}")

        def convert(t: Tensor) -> None:
            if target is not None:
                name = backend._require(backend_for(target, t.backend))
                t.array = backend.move(t.array, t.backend, name)
                t.backend = name
            if dtype is not None and t.dtype.kind == "f":  # integer buffers keep their dtype
                t.array = t.array.astype(dtype)

        with autograd.no_grad():
            for t in itertools.chain(self.parameters(), self.buffers()):
                convert(t)
                t.grad = None
        return self

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32."""
        return self.to("float32")

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64 (for gradient checks)."""
        return self.to("float64")
