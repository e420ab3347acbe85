"""What every visualisation shares: finding layers by name, hooking them, and leaving no trace.

A layer is named as ``model.named_modules()`` names it (``"features.0"``, ``"layer2.0.conv2"``);
an unknown name is an error that lists the valid ones. :class:`Capture` hooks layers with
forward hooks and keeps their outputs (with ``retain_grad()``, so ``.grad`` holds d(objective) /
d(activation) after backward). :func:`inspecting` runs a method with the model in eval mode and
its parameters frozen, and restores modes, ``requires_grad`` flags, ``.grad`` and hooks on the
way out, whether the method returns or raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from minicnn import backend
from minicnn.autograd import enable_grad
from minicnn.nn.module import Module
from minicnn.tensor import Tensor

OBJECTIVES = ("score", "loss")


def layer_names(model: Module) -> list[str]:
    """Every named sub-module of ``model`` (the names :func:`get_layer` accepts)."""
    return [name for name, _ in model.named_modules() if name]


def get_layer(model: Module, name: str, argname: str = "layer") -> Module:
    """The sub-module called ``name``; an unknown name lists the valid ones."""
    if not isinstance(model, Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    if isinstance(name, Module):
        if not any(m is name for m in model.modules()):
            raise ValueError(f"{argname}: the module given is not part of the model")
        return name
    modules = dict(model.named_modules())
    if not isinstance(name, str) or not name or name not in modules:
        raise ValueError(
            f"{argname}: the model has no layer {name!r}; valid names: {', '.join(layer_names(model))}"
        )
    return modules[name]


def model_backend(model: Module) -> tuple[str, np.dtype]:
    """The backend and float dtype of ``model``'s parameters (the current backend and float32
    for a model without parameters)."""
    for p in model.parameters():
        return p.backend, p.dtype
    return backend.get_backend(), np.dtype(np.float32)


def first_conv_channels(model: Module) -> int | None:
    """``in_channels`` of the first convolution in ``model`` (None if it has none)."""
    for m in model.modules():
        if hasattr(m, "in_channels") and hasattr(m, "kernel_size"):
            return int(m.in_channels)
    return None


def as_input(model: Module, x: Any, argname: str = "x") -> Tensor:
    """``x`` as a fresh (N, C, H, W) leaf tensor on the model's backend and dtype, requiring
    grad: (C, H, W) gains a batch axis; NumPy arrays are moved to the model's backend."""
    name, dtype = model_backend(model)
    if isinstance(x, Tensor):
        if x.backend != name:
            raise TypeError(
                f"{argname}: the tensor is on backend {x.backend!r} but the model on {name!r}; "
                f"move one with .to()"
            )
        array = x.array
    else:
        array = np.asarray(x)
        if array.dtype.kind not in "fiu":
            raise ValueError(f"{argname}: expected numbers, got dtype {array.dtype}")
        array = backend.move(array, "numpy", name)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or 0 in array.shape:
        raise ValueError(
            f"{argname}: expected an image (C, H, W) or a batch (N, C, H, W), got shape "
            f"{tuple(np.shape(x))}"
        )
    channels = first_conv_channels(model)
    if channels is not None and array.shape[1] != channels:
        raise ValueError(
            f"{argname}: the model's first convolution takes {channels} channel(s), got an input "
            f"of shape {tuple(array.shape)}"
        )
    xp = backend.xp(name)
    t = Tensor._from_op(xp.array(array, dtype=dtype), name, None)  # a copy: never the caller's
    return t.requires_grad_(True)


def as_targets(target: Any, N: int, argname: str = "target") -> np.ndarray:
    """``target`` (an int, or one int per input) as an int64 array of shape (N,)."""
    t = np.asarray(target)
    if t.dtype.kind not in "iu" or t.dtype == bool:
        raise ValueError(
            f"{argname}: expected an int class index (or one per input), got {target!r}"
        )
    if t.ndim == 0:
        t = np.full(N, int(t))
    if t.shape != (N,):
        raise ValueError(
            f"{argname}: expected one class index per input ({N}), got shape {t.shape}"
        )
    if (t < 0).any():
        raise ValueError(f"{argname}: class indices must be >= 0, got {target!r}")
    return t.astype(np.int64)


def check_classes(targets: np.ndarray, logits: Tensor, argname: str = "target") -> None:
    """Each target indexes a column of ``logits`` (N, K)."""
    if logits.ndim != 2:
        raise ValueError(
            f"model: expected (N, classes) logits from the model, got shape {logits.shape}"
        )
    K = logits.shape[1]
    if targets.size and targets.max() >= K:
        raise ValueError(
            f"{argname}: class {int(targets.max())} is out of range; the model has {K} outputs "
            f"(0..{K - 1})"
        )


def forward(model: Module, x: Tensor, argname: str = "x") -> Any:
    """``model(x)``, with a shape the model rejects reported as a ValueError naming ``x``."""
    try:
        return model(x)
    except (ValueError, RuntimeError, IndexError) as e:
        raise ValueError(
            f"{argname}: the model cannot take an input of shape {x.shape}: {e}"
        ) from e


def reaches(root: Tensor, leaf: Tensor) -> bool:
    """True when ``leaf`` is in the graph behind ``root`` (a gradient can flow from root to it)."""
    if root is leaf:
        return True
    if not root.requires_grad or root.grad_fn is None:
        return False
    seen: set[int] = set()
    stack = [root]
    while stack:
        t = stack.pop()
        if t.grad_fn is None:
            continue
        for parent in t.grad_fn.inputs:
            if parent is None or id(parent) in seen:
                continue
            if parent is leaf:
                return True
            seen.add(id(parent))
            stack.append(parent)
    return False


def require_path(root: Tensor, leaf: Tensor, what: str) -> None:
    """Raise ValueError (naming the model) when no gradient flows from ``root`` to ``leaf``."""
    if not reaches(root, leaf):
        raise ValueError(
            f"model: no gradient path from the output to {what}: a layer on the way runs under "
            f"no_grad or detaches its input, so the method cannot differentiate through it"
        )


def objective_of(logits: Tensor, targets: np.ndarray, objective: str) -> Tensor:
    """Sum over the batch of each input's class score (``"score"``: the logit, before softmax,
    as Simonyan et al. use) or its negated cross-entropy loss (``"loss"``: log p(class))."""
    from minicnn.ops.loss import log_softmax

    rows = np.arange(len(targets))
    if objective == "score":
        return logits[rows, targets].sum()
    return log_softmax(logits, 1)[rows, targets].sum()


def check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {OBJECTIVES}, got {objective!r}")


def to_host(t: Any) -> np.ndarray:
    """A NumPy copy of a tensor or a backend array."""
    return backend.to_host(t.array if isinstance(t, Tensor) else t).copy()


@contextlib.contextmanager
def inspecting(model: Module) -> Iterator[Module]:
    """Run with ``model`` in eval mode, its parameters frozen and grad mode on; restore every
    module's mode, every parameter's ``requires_grad`` and ``.grad``, and every module's forward
    hooks on exit, also when the body raises."""
    modules = list(model.modules())
    modes = [m.training for m in modules]
    hooks = [dict(m._forward_hooks) for m in modules]
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    grads = [p.grad for p in params]
    try:
        model.eval()
        for p in params:
            p.requires_grad_(False)  # the graph then reaches only the input: no weight grads
        with enable_grad():
            yield model
    finally:
        for m, mode, h in zip(modules, modes, hooks):
            object.__setattr__(m, "training", mode)
            m._forward_hooks.clear()
            m._forward_hooks.update(h)
        for p, flag, g in zip(params, flags, grads):
            p.requires_grad_(flag)
            p.grad = g


class Capture:
    """Forward hooks that keep the outputs of ``layers`` (names) while the context is open.

    ``capture[name]`` is that layer's output tensor from the latest forward; its ``.grad``
    holds the gradient after ``backward`` (``retain_grad``). Hooks are removed on exit.
    """

    def __init__(self, model: Module, layers: Sequence[str] | str, argname: str = "layers") -> None:
        names = [layers] if isinstance(layers, str) else list(layers)
        if not names:
            raise ValueError(f"{argname}: expected at least one layer name, got none")
        self.argname = argname
        self.modules = {name: get_layer(model, name, argname) for name in names}
        self.outputs: dict[str, Tensor] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> Capture:
        for name, module in self.modules.items():
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def _hook(self, name: str) -> Any:
        def keep(module: Module, inputs: tuple, output: Any) -> None:
            if not isinstance(output, Tensor):
                raise ValueError(
                    f"{self.argname}: {name!r} returns {type(output).__name__}, not a tensor; "
                    f"choose a layer that outputs one"
                )
            if output.requires_grad:
                output.retain_grad()
            self.outputs[name] = output

        return keep

    def __getitem__(self, name: str) -> Tensor:
        if name not in self.outputs:
            raise ValueError(
                f"{self.argname}: {name!r} did not run in the forward pass (it is not on the "
                f"path from input to output)"
            )
        return self.outputs[name]

    def __exit__(self, *exc: object) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
