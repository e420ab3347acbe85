"""Finite-difference gradient checking: the proof that every op's backward is right.

For f: inputs -> output y, backward computes vector-Jacobian products u^T J. gradcheck compares
them with central differences, (f(x + eps e_j) - f(x - eps e_j)) / (2 eps), whose error is
O(eps^2) for smooth f. Both are computed in float64: in float32 the rounding error of f
(~1e-7 relative) divided by 2 eps swamps the difference, so float32 inputs are refused.

Full mode builds the whole Jacobian of every input that requires grad: one backward per output
element (analytical rows) and two forwards per input element (numerical columns). Fast mode
checks random projections u^T J v instead: one backward and two forwards per input, for inputs
too large for the full Jacobian.

When a whole network's gradient is wrong, :func:`minicnn.check_graph.check_graph` finds the op
to blame (``gradcheck(fn, inputs, per_op=True)`` runs it on the graph ``fn`` builds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minicnn import backend
from minicnn.autograd import enable_grad, no_grad
from minicnn.tensor import Tensor


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
        from minicnn.check_graph import check_graph

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
