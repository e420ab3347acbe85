"""Find the op whose gradient is wrong: gradcheck every Function of a recorded graph.

When a whole network's gradient disagrees with finite differences, :func:`check_graph` walks the
graph behind an output and gradchecks every Function on its own recorded inputs, in the order
forward ran them, so the first failure names the first op whose backward is wrong, with its
inputs' shapes (``gradcheck(fn, inputs, per_op=True)`` does the same for the graph ``fn``
builds). It is a debugging tool built on :func:`minicnn.gradcheck.gradcheck`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from minicnn import backend
from minicnn.autograd import Function, no_grad
from minicnn.gradcheck import GradcheckError, gradcheck
from minicnn.tensor import Tensor, _topological_order


def check_graph(
    output: Tensor,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = True,
    seed: int = 0,
) -> int:
    """Gradcheck every Function of the graph behind ``output``, each on its recorded inputs.

    Each op is run again, alone, on float64 copies of the arguments it was called with, and its
    backward is compared with finite differences (:func:`gradcheck`; ``fast_mode`` by default,
    as a network's ops have large inputs). Ops are checked in the order forward ran them, so
    the first :class:`GradcheckError` names the first op whose backward is wrong, with its
    inputs' shapes. Returns the number of ops checked.

    Call it before ``output.backward()`` (which frees what each op recorded) or after
    ``backward(retain_graph=True)``. Recorded values often sit on a kink, where finite
    differences and a correct backward legitimately disagree: ReLU outputs of exactly 0, or
    float32 tanh saturated at exactly 1, tie in a max-pooling window. So an op that fails is
    checked once more on its inputs moved by a small random jitter (1e-3 of their RMS), which
    breaks such ties; only an op that fails both times is blamed. An op whose float64 result is
    not float64 (a cast to float32) cannot be checked and is skipped.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"output: expected a Tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        raise ValueError(
            "output: has no recorded graph (grad_fn is None); compute it with grad mode on from "
            "a tensor with requires_grad=True"
        )
    nodes = [t.grad_fn for t in _topological_order(output) if t.grad_fn is not None]
    checked = 0
    for k, node in enumerate(nodes):
        where = f"{type(node).__name__} (op {k + 1} of {len(nodes)}"
        if getattr(node, "released", False) or node.call_args is None:
            raise RuntimeError(
                f"check_graph: {where}) has been freed by backward(); call check_graph before "
                "backward, or backward(retain_graph=True)"
            )
        if getattr(node, "runs_hooks", False):  # an identity; checking it would call hooks
            continue
        args, kwargs = node.call_args
        args64 = [_float64_copy(a, needs) for a, needs in zip(args, node.needs_input_grad)]

        def run(*a: Any, node: Function = node, kwargs: dict = kwargs) -> Tensor:
            return copy.copy(node)(*a, **kwargs)  # a fresh copy: forward overwrites what it saves

        with no_grad():
            if run(*args64).dtype != np.float64:
                continue
        opts = dict(eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, seed=seed)
        try:
            gradcheck(run, args64, **opts)
        except GradcheckError as e:
            try:
                gradcheck(run, _jitter(args64, np.random.default_rng(seed)), **opts)
            except GradcheckError:
                shapes = ", ".join(
                    f"{a.shape} {a.dtype.name}" for a in args if isinstance(a, Tensor)
                )
                raise GradcheckError(
                    f"check_graph: the backward of {where}, in the order forward ran them; "
                    f"tensor inputs {shapes}) disagrees with finite differences: {e}"
                ) from None
        checked += 1
    return checked


def _float64_copy(a: Any, requires_grad: bool) -> Any:
    """A float64 leaf copy of a floating-point tensor or array; anything else as it is."""
    if isinstance(a, Tensor):
        if a.dtype.kind != "f":
            return a
        return Tensor._from_op(a.array.astype(np.float64), a.backend, None).requires_grad_(
            requires_grad
        )
    if backend.is_array(a) and a.dtype.kind == "f":
        return a.astype(np.float64)
    return a


def _jitter(args: Sequence[Any], rng: np.random.Generator) -> list[Any]:
    """Float tensors moved by Gaussian noise of 1e-3 of their RMS (1e-3 if all zero)."""
    out = []
    for a in args:
        if isinstance(a, Tensor) and a.dtype.kind == "f":
            host = backend.to_host(a.array)
            rms = float(np.sqrt(np.mean(host**2))) if host.size else 0.0
            noise = 1e-3 * (rms or 1.0) * rng.standard_normal(host.shape)
            moved = a.array + backend.move(noise, "numpy", a.backend)
            a = Tensor._from_op(moved, a.backend, None).requires_grad_(a.requires_grad)
        out.append(a)
    return out
