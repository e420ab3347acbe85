"""``summary(model, input_size)``: a Keras-style table of a model's layers, shapes and sizes.

It runs one forward pass on a batch of zeros, in evaluation mode and under ``no_grad``, with a
forward hook on every leaf layer that records the layer's output; the hooks are removed and
each module's training flag restored afterwards, so the model is left exactly as it was
(BatchNorm's running statistics are not touched, no random numbers are drawn).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minicnn import autograd, backend
from minicnn.creation import zeros
from minicnn.nn.module import Module
from minicnn.tensor import Tensor, as_dtype, float32

_MB = 1_000_000  # bytes per megabyte (SI)


def _input_shapes(input_size: Any) -> list[tuple[int, ...]]:
    """``(C, H, W)`` -> ``[(C, H, W)]``; a tuple of such shapes -> a list of them."""

    def is_shape(s: Any) -> bool:
        return isinstance(s, (tuple, list)) and all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in s
        )

    if is_shape(input_size) and len(input_size) > 0:
        return [tuple(input_size)]
    if (
        isinstance(input_size, (tuple, list))
        and input_size
        and all(is_shape(s) for s in input_size)
    ):
        return [tuple(s) for s in input_size]
    raise ValueError(
        "input_size: expected a shape without the batch axis, such as (3, 32, 32), or a tuple "
        f"of such shapes for a model with several inputs, got {input_size!r}"
    )


def _tensors(output: Any) -> list[Tensor]:
    """The tensors in a layer's output (a tensor, or a tuple/list of them)."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _tensors(item)]
    return []


def _describe(output: Any) -> str:
    shapes = [str(t.shape) for t in _tensors(output)]
    return ", ".join(shapes) if shapes else type(output).__name__


def summary(
    model: Module,
    input_size: Sequence[int] | Sequence[Sequence[int]],
    batch_size: int = 1,
    dtype: Any = None,
    *,
    print_fn: Callable[[str], Any] | None = print,
) -> str:
    """Print and return a table: one row per leaf layer (name, type, output shape, parameters),
    then the parameter totals and the memory of one forward pass.

    ``input_size`` is one input's shape without the batch axis, e.g. ``(1, 32, 32)``, or a
    tuple of such shapes for a model that takes several inputs. The input is a batch of
    ``batch_size`` zeros of ``dtype`` (default: the dtype of the model's parameters) on the
    backend of the model's parameters. A parameter shared by two layers is counted once, in
    the first layer's row. Buffers (BatchNorm's running statistics) are state, not parameters:
    they are counted separately. Sizes are in MB of 10**6 bytes; "forward activations" is the
    sum of the bytes of every leaf layer's output for this batch. ``print_fn=None`` only
    returns the table.
    """
    if not isinstance(model, Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    shapes = _input_shapes(input_size)
    params = list(model.parameters())
    state = params + list(model.buffers())
    where = state[0].backend if state else backend.get_backend()
    if dtype is None:
        dtype = next((p.dtype for p in params if p.dtype.kind == "f"), float32)
    dtype = as_dtype(dtype)
    inputs = [zeros((batch_size, *s), dtype=dtype, backend=where) for s in shapes]

    # A row for each leaf layer, and for any container that holds parameters of its own.
    names = {id(m): name for name, m in model.named_modules()}
    rows: list[tuple[str, str, str, int]] = []
    activation_bytes = 0
    counted: set[int] = set()

    def record(module: Module, _inputs: tuple, output: Any) -> None:
        nonlocal activation_bytes
        own = [p for p in module.parameters(recurse=False) if id(p) not in counted]
        counted.update(id(p) for p in own)
        name = names.get(id(module)) or type(module).__name__
        rows.append((name, type(module).__name__, _describe(output), sum(p.numel() for p in own)))
        activation_bytes += sum(t.array.nbytes for t in _tensors(output))

    handles = [
        m.register_forward_hook(record)
        for m in model.modules()
        if not any(True for _ in m.children()) or any(True for _ in m.parameters(recurse=False))
    ]
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with autograd.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes:  # each its own flag: a model may mix train and eval parts
            m.training = mode

    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    buffers = list(model.buffers())
    sizes = {
        "Input size (MB)": sum(t.array.nbytes for t in inputs),
        "Forward activations (MB)": activation_bytes,
        "Params size (MB)": sum(p.array.nbytes for p in params),
        "Buffers size (MB)": sum(b.array.nbytes for b in buffers),
    }

    header = ("Layer", "Type", "Output shape", "Param #")
    cells = [header] + [(n, t, s, f"{p:,}") for n, t, s, p in rows]
    widths = [max(len(row[i]) for row in cells) + 3 for i in range(4)]
    width = sum(widths)

    def line(row: tuple[str, ...]) -> str:
        left = "".join(cell.ljust(w) for cell, w in zip(row[:3], widths))
        return left + row[3].rjust(widths[3] - 3)

    out = [f"Model: {type(model).__name__}", "-" * width, line(header), "=" * width]
    out += [line(row) for row in cells[1:]]
    out += [
        "=" * width,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        f"Buffer values (not parameters): {sum(b.numel() for b in buffers):,}",
        "-" * width,
    ]
    out += [f"{label}: {nbytes / _MB:.2f}" for label, nbytes in sizes.items()]
    out.append("-" * width)
    table = "\n".join(out)
    if print_fn is not None:
        print_fn(table)
    return table
