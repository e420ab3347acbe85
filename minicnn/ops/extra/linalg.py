"""``mm``, ``bmm`` (``matmul`` with PyTorch's stricter shape rules) and ``einsum``.

``einsum`` sums products over the letters that the output leaves out. Its gradient with
respect to one operand is again an einsum: the output gradient times all the *other*
operands, indexed back to that operand's letters. A letter only that operand has was summed
over by itself, so its gradient is the same along that axis (a broadcast)::

    y = einsum("ij,jk->ik", a, b)   ->   ga = einsum("ik,jk->ij", gy, b),
                                          gb = einsum("ik,ij->jk", gy, a)
"""

from __future__ import annotations

from typing import Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.ops.linalg import matmul
from minicnn.tensor import Tensor


class Einsum(Function):
    """y = einsum(``specs[0]``,... -> ``out``) of the operands. Operand i's gradient is
    einsum(out, the other specs -> the letters of spec i that appear elsewhere), broadcast
    over the letters spec i alone has."""

    def forward(self, *xs: Any, specs: tuple[str, ...], out: str) -> Any:
        self.xs, self.specs, self.out = xs, specs, out
        return backend.xp().einsum(",".join(specs) + "->" + out, *xs, optimize=True)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = backend.xp()
        grads = []
        for i, (x, spec) in enumerate(zip(self.xs, self.specs)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(self.specs) if j != i]
            elsewhere = set(self.out).union(*others)
            kept = "".join(c for c in spec if c in elsewhere)
            operands = [gy] + [x2 for j, x2 in enumerate(self.xs) if j != i]
            g = xp.einsum(",".join([self.out, *others]) + "->" + kept, *operands, optimize=True)
            g = g.reshape([x.shape[a] if c in elsewhere else 1 for a, c in enumerate(spec)])
            grads.append(xp.broadcast_to(g, x.shape).astype(gy.dtype, copy=True))
        return tuple(grads)


def _parse(equation: str, operands: list[Tensor]) -> tuple[tuple[str, ...], str]:
    """The input specs and the output spec; without '->' the output is the letters that occur
    once, in alphabetical order (as NumPy and PyTorch)."""
    eq = equation.replace(" ", "")
    if "." in eq:
        raise NotImplementedError(
            "einsum: '...' is not supported by minicnn; name every axis with a letter"
        )
    lhs, arrow, out = eq.partition("->")
    specs = tuple(lhs.split(","))
    if not arrow:
        letters = "".join(specs)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if len(specs) != len(operands):
        raise ValueError(
            f"einsum: equation: {equation!r} names {len(specs)} operand(s), got {len(operands)}"
        )
    sizes: dict[str, int] = {}
    for k, (spec, t) in enumerate(zip(specs, operands)):
        if not spec.isalpha() and spec != "" or len(spec) != t.ndim:
            raise ValueError(
                f"einsum: equation: operand {k} has shape {t.shape} but subscripts {spec!r}"
            )
        for c, n in zip(spec, t.shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(
                    f"einsum: equation: subscript {c!r} has size {sizes[c]} in one operand "
                    f"and {n} in operand {k}"
                )
        if t.requires_grad and len(set(spec)) != len(spec):
            raise NotImplementedError(
                f"einsum: operand {k} repeats a subscript ({spec!r}, a diagonal); minicnn "
                "cannot differentiate that; use diagonal() or a mask instead"
            )
    if not all(c in sizes for c in out) or len(set(out)) != len(out):
        raise ValueError(f"einsum: equation: bad output subscripts {out!r} in {equation!r}")
    return specs, out


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum("ij,jk->ik", a, b)`` (operands may also come as
    one list)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation: expected a str, got {type(equation).__name__}")
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {k}: expected a Tensor, got {type(t).__name__}")
    specs, out = _parse(equation, list(operands))
    return Einsum.apply(*operands, specs=specs, out=out)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors (no broadcasting)."""
    for name, t in (("input", input), ("mat2", mat2)):
        if not isinstance(t, Tensor) or t.ndim != 2:
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"mm: {name}: expected a 2-D tensor (a matrix), got {got}")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m), same B, no broadcasting."""
    for name, t in (("input", input), ("mat2", mat2)):
        if not isinstance(t, Tensor) or t.ndim != 3:
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"bmm: {name}: expected a 3-D tensor (B, n, m), got {got}")
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(
            f"bmm: mat2: expected batch size {input.shape[0]} (the input's), got {mat2.shape[0]}"
        )
    return matmul(input, mat2)
