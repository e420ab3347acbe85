"""Shared test helpers: ``check_op``, the one way a test checks an op.

``check_op`` builds float64 tensors on the current backend from NumPy arrays, compares the
forward with a NumPy reference when one is given, and proves the backward with
:func:`minicnn.gradcheck` (central differences, full Jacobian). The strategies that draw its
shapes and values (small, and away from kinks, ties and the edges of a function's domain) are
in ``tests/strategies/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import settings

import minicnn


def examples(n: int) -> int:
    """``n`` examples under the CI profile; more when the loaded profile asks for more (the
    "thorough" profile), since a test's own ``@settings`` overrides the profile's count."""
    return max(n, settings.default.max_examples) if settings.default.max_examples > 30 else n


def to_tensor(a: Any, requires_grad: bool = True) -> minicnn.Tensor:
    """A float64 tensor on the current backend (integer and bool arrays keep their dtype)."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return minicnn.tensor(a.astype(np.float64), requires_grad=requires_grad)
    return minicnn.tensor(a)


def check_op(
    fn: Callable[..., minicnn.Tensor],
    *arrays: Any,
    ref: Callable[..., Any] | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
) -> minicnn.Tensor:
    """Check ``fn`` on float64 tensors made from ``arrays`` on the current backend.

    Floating-point arrays become tensors that require grad (and are checked by gradcheck);
    integer and bool arrays become plain tensors; anything else is passed through unchanged.
    When ``ref`` is given, ``fn``'s output must equal ``ref(*arrays)`` (NumPy on float64
    arrays). Returns the output tensor.
    """
    inputs = [to_tensor(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in arrays]
    out = fn(*inputs)
    assert isinstance(out, minicnn.Tensor)
    assert out.backend == minicnn.get_backend()
    assert out.dtype == np.float64
    if ref is not None:
        expected = ref(*[np.asarray(a, np.float64) if _is_float_array(a) else a for a in arrays])
        assert out.shape == np.shape(expected)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert minicnn.gradcheck(fn, inputs, atol=atol, rtol=rtol, fast_mode=fast_mode)
    return out


def _is_float_array(a: Any) -> bool:
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f"
