"""Finite-difference gradient checking: the proof that every op's backward is right.

For f: inputs -> output y, backward computes vector-Jacobian products u^T J. gradcheck compares
them with central differences, (f(x + eps e_j) - f(x - eps e_j)) / (2 eps), whose error is
O(eps^2) for smooth f. Both are computed in float64: in float32 the rounding error of f
(~1e-7 relative) divided by 2 eps swamps the difference, so float32 inputs are refused.

Full mode builds the whole Jacobian of every input that requires grad: one backward per output
element (analytical rows) and two forwards per input element (numerical columns). Fast mode
checks random projections u^T J v instead: one backward and two forwards per input, for inputs
too large for the full Jacobian.

When a whole network's gradient is wrong, :func:`check_graph` finds the op to blame: it walks
the graph behind an output and gradchecks every Function on its own recorded inputs, in the
order forward ran them, so the first failure names the first op whose backward is wrong
(``gradcheck(fn, inputs, per_op=True)`` does the same for the graph ``fn`` builds).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minicnn import backend
from minicnn.autograd import Function, enable_grad, no_grad
from minicnn.tensor import Tensor, _topological_order


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree. (Arguments the check cannot use are a
    TypeError or ValueError naming the argument instead: a float32 input is no failed check.)"""


def _as_inputs(inputs: Any) -> tuple[Any, ...]:
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def _run(fn: Callable[..., Any], args: Sequence[Any]) -> Tensor:
    out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"fn: must return a Tensor, got {type(out).__name__}")
    return out


def _fresh(inputs: Sequence[Any]) -> list[Any]:
    """Leaf copies of the inputs, so each backward starts with empty .grad."""
    return [
        Tensor._from_op(t.array.copy(), t.backend, None).requires_grad_(t.requires_grad)
        if isinstance(t, Tensor)
        else t
        for t in inputs
    ]


@enable_grad()
def _vjp(fn: Callable[..., Any], inputs: Sequence[Any], u: Any, checked: list[int]) -> list[Any]:
    """u^T J for each checked input (host float64 arrays; zeros where no gradient arrives)."""
    args = _fresh(inputs)
    out = _run(fn, args)
    if not out.requires_grad:
        raise ValueError("fn: its output does not require grad: no input it depends on does")
    out.backward(Tensor._from_op(backend.move(u, "numpy", out.backend), out.backend, None))
    res = []
    for i in checked:
        g = args[i].grad
        res.append(
            np.zeros(args[i].shape) if g is None else backend.to_host(g.array).astype(np.float64)
        )
    return res


@no_grad()
def _eval(fn: Callable[..., Any], inputs: Sequence[Any], i: int, delta: np.ndarray) -> np.ndarray:
    """f with input ``i`` shifted by ``delta``, as a flat host float64 array."""
    args = list(inputs)
    t = args[i]
    shifted = t.array + backend.move(delta.reshape(t.shape), "numpy", t.backend)
    args[i] = Tensor._from_op(shifted, t.backend, None)
    return backend.to_host(_run(fn, args).array).astype(np.float64).ravel()


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    seed: int = 0,
    per_op: bool = False,
) -> bool:
    """Check ``fn``'s backward against central finite differences in float64.

    ``inputs`` is a Tensor or a sequence of arguments for ``fn``; every floating-point Tensor
    among them that requires grad is checked, and must be float64 (else ``TypeError``), as
    must ``fn``'s output. An element passes when ``|analytical - numerical| <= atol + rtol *
    |numerical|``. Returns True, or raises :class:`GradcheckError` naming the input, the worst
    element's index, the numerical and the analytical value. ``per_op=True`` first runs
    :func:`check_graph` on the graph ``fn`` records, so a failure names the op whose backward
    is wrong.
    """
    inputs = _as_inputs(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("inputs: no Tensor among the inputs requires grad; nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"inputs[{i}]: gradcheck needs float64 inputs (finite differences in float32 are "
                f"dominated by rounding error), got {inputs[i].dtype.name}; pass x.double()"
            )
    if per_op:
        with enable_grad():
            check_graph(
                _run(fn, _fresh(inputs)),
                eps=eps,
                atol=atol,
                rtol=rtol,
                fast_mode=fast_mode,
                seed=seed,
            )
    with no_grad():
        y0 = backend.to_host(_run(fn, inputs).array)
    if y0.dtype != np.float64:
        raise TypeError(f"fn: its output must be float64, got {y0.dtype.name}")
    rng = np.random.default_rng(seed)
    if fast_mode:
        _check_fast(fn, inputs, checked, y0, rng, eps, atol, rtol)
    else:
        _check_full(fn, inputs, checked, y0, eps, atol, rtol)
    return True


def _check_full(
    fn: Any,
    inputs: Sequence[Any],
    checked: list[int],
    y0: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    m = y0.size
    # Analytical Jacobians, one row per output element: J[i][r, :] = e_r^T J_i.
    analytical = [np.zeros((m, inputs[i].numel())) for i in checked]
    for r in range(m):
        u = np.zeros(m)
        u[r] = 1.0
        for k, g in enumerate(_vjp(fn, inputs, u.reshape(y0.shape), checked)):
            analytical[k][r] = g.ravel()
    for k, i in enumerate(checked):
        n = inputs[i].numel()
        numerical = np.zeros((m, n))
        for j in range(n):
            d = np.zeros(n)
            d[j] = eps
            numerical[:, j] = (_eval(fn, inputs, i, d) - _eval(fn, inputs, i, -d)) / (2 * eps)
        _compare(analytical[k], numerical, i, inputs[i].shape, y0.shape, atol, rtol)


def _compare(
    a: np.ndarray,
    n: np.ndarray,
    i: int,
    in_shape: tuple,
    out_shape: tuple,
    atol: float,
    rtol: float,
) -> None:
    excess = np.abs(a - n) - (atol + rtol * np.abs(n))
    excess[np.isnan(excess)] = np.inf  # a NaN on either side is a failure, never a pass
    if excess.size and excess.max() > 0:
        r, j = np.unravel_index(int(np.argmax(excess)), excess.shape)
        out_idx = np.unravel_index(r, out_shape) if out_shape else ()
        in_idx = np.unravel_index(j, in_shape) if in_shape else ()
        raise GradcheckError(
            f"gradcheck failed for inputs[{i}] at element {tuple(int(v) for v in in_idx)} "
            f"(output element {tuple(int(v) for v in out_idx)}): numerical {n[r, j]:.8g}, "
            f"analytical {a[r, j]:.8g} (atol={atol}, rtol={rtol})"
        )


def _check_fast(
    fn: Any,
    inputs: Sequence[Any],
    checked: list[int],
    y0: np.ndarray,
    rng: np.random.Generator,
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    u = rng.standard_normal(y0.shape)
    grads = _vjp(fn, inputs, u, checked)
    for k, i in enumerate(checked):
        v = rng.standard_normal(inputs[i].shape)
        analytical = float((grads[k] * v).sum())  # (u^T J) v
        deriv = (_eval(fn, inputs, i, eps * v) - _eval(fn, inputs, i, -eps * v)) / (2 * eps)
        numerical = float((u.ravel() * deriv).sum())  # u^T (J v)
        if not abs(analytical - numerical) <= atol + rtol * abs(numerical):  # NaN fails too
            worst = np.unravel_index(int(np.argmax(np.abs(grads[k] * v))), inputs[i].shape)
            raise GradcheckError(
                f"gradcheck (fast mode) failed for inputs[{i}]: the projection u^T J v is "
                f"numerical {numerical:.8g}, analytical {analytical:.8g}; the largest term of "
                f"the analytical sum is at element {tuple(int(x) for x in worst)} "
                f"(atol={atol}, rtol={rtol})"
            )


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
