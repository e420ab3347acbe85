"""Grad-mode switches and ``autograd.grad`` with PyTorch's names.

``set_grad_enabled(mode)`` works both ways PyTorch allows: called as a function it sets grad
mode from then on; used as ``with set_grad_enabled(train):`` it restores the previous mode on
exit. ``inference_mode`` is ``no_grad`` (minicnn has no lighter mode to offer).

``grad_fn.next_functions`` walks the graph one step back, as PyTorch's autograd tutorial
does; a leaf that requires grad shows up as an ``AccumulateGrad`` node.

``grad(outputs, inputs)`` returns d(outputs)/d(inputs) without writing any ``.grad``: the
same reverse sweep as ``Tensor.backward`` (``tensor._topological_order``), stopped at the
requested inputs, whose gradients are collected instead of stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minicnn import autograd, backend
from minicnn.tensor import Tensor, _topological_order


class set_grad_enabled:
    """Turn graph recording on or off: now (as a call), or inside a ``with`` block."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode: expected a bool, got {mode!r}")
        self.previous = autograd._grad_enabled
        autograd._grad_enabled = mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        autograd._grad_enabled = self.previous


def inference_mode(mode: Any = True) -> Any:
    """``no_grad`` under PyTorch's other name (``inference_mode(False)`` changes nothing)."""
    if callable(mode):
        return autograd.no_grad(mode)
    return autograd.no_grad() if mode else autograd._GradMode(autograd._grad_enabled)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` (weighted by ``grad_outputs``, default ones for scalar
    outputs) with respect to each of ``inputs``, as a tuple; no ``.grad`` is touched."""
    if create_graph:
        raise NotImplementedError(
            "grad: create_graph=True (higher-order gradients) is not supported: minicnn's "
            "backward works on raw arrays and records no graph"
        )
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not all(isinstance(t, Tensor) for t in outs + ins):
        raise TypeError("grad: outputs and inputs must be Tensors (or sequences of them)")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] does not require grad")
    gouts = [None] * len(outs) if grad_outputs is None else (
        [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    )  # fmt: skip
    grads: dict[int, Any] = {}
    for k, (out, g) in enumerate(zip(outs, gouts)):
        if not out.requires_grad:
            raise RuntimeError(f"grad: outputs[{k}] does not require grad and has no grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"grad: grad_outputs[{k}] can be omitted only for a one-element output; "
                    f"outputs[{k}] has shape {out.shape}"
                )
            g = backend.xp(out.backend).ones_like(out.array)
        else:
            g = (g.array if isinstance(g, Tensor) else g).astype(out.dtype)
        grads[id(out)] = grads[id(out)] + g if id(out) in grads else g
    wanted = {id(t) for t in ins}
    found: dict[int, Any] = {}
    for t in reversed(_merged_order(outs)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if id(t) in wanted:
            found[id(t)] = found[id(t)] + g if id(t) in found else g
        fn = t.grad_fn
        if fn is None:
            continue
        if getattr(fn, "released", False):
            raise RuntimeError(
                "grad: trying to backward through the graph a second time; pass "
                "retain_graph=True to the first backward() or grad() call"
            )
        with backend.op_backend(fn.backend):
            in_grads = fn.backward(g)
        in_grads = in_grads if isinstance(in_grads, tuple) else (in_grads,)
        for parent, gp in zip(fn.inputs, in_grads):
            if parent is not None and gp is not None and parent.requires_grad:
                key = id(parent)
                grads[key] = gp if key not in grads else grads[key] + gp
        if not retain_graph:
            fn.release()
    result: list[Tensor | None] = []
    for i, t in enumerate(ins):
        if id(t) in found:
            result.append(Tensor._from_op(found[id(t)].copy(), t.backend, None))
        elif materialize_grads:
            result.append(
                Tensor._from_op(backend.xp(t.backend).zeros_like(t.array), t.backend, None)
            )
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(
                f"grad: inputs[{i}] was not used to compute the outputs; pass allow_unused=True "
                "to get None for it"
            )
    return tuple(result)


def _merged_order(outs: list[Tensor]) -> list[Tensor]:
    """One topological order of everything reachable from any output (inputs first)."""
    if len(outs) == 1:
        return _topological_order(outs[0])
    # A virtual root whose "inputs" are all outputs gives one consistent order.
    root = Tensor._from_op(None, outs[0].backend, _Join(outs))
    return _topological_order(root)[:-1]


class _Join:
    """A stand-in grad_fn listing several outputs, only for ordering them together."""

    def __init__(self, outs: list[Tensor]) -> None:
        self.inputs = tuple(outs)


class AccumulateGrad:
    """The graph node of a leaf that requires grad: backward adds into ``variable.grad``."""

    next_functions: tuple = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def next_functions(fn: Any) -> tuple[tuple[Any, int], ...]:
    """``grad_fn.next_functions``: per tensor input, its grad_fn, an AccumulateGrad for a leaf
    that requires grad, or None; each paired with 0 (the output index, always 0 in minicnn).
    Arguments that were not tensors (sizes, flags) have no entry."""
    if getattr(fn, "released", False):
        # PyTorch keeps the graph's shape after backward; minicnn frees the whole node.
        raise RuntimeError(
            "next_functions: this part of the graph was freed by backward(); walk it before "
            "calling backward(), or pass retain_graph=True to backward()"
        )
    out: list[tuple[Any, int]] = []
    for t in fn.inputs:
        if t is None:
            continue
        if not t.requires_grad:
            out.append((None, 0))
        else:
            out.append((t.grad_fn if t.grad_fn is not None else AccumulateGrad(t), 0))
    return tuple(out)
