"""Full backward hooks: ``hook(module, grad_input, grad_output)`` once per backward of a call.

``Module.register_full_backward_hook`` needs, in one place and at one time, the gradients with
respect to every tensor input of a module call and every tensor output. The engine runs each
Function's backward once with the gradient of its one output, so a module call with hooks is
fenced by two identity Functions that pack several tensors into one flat array and unpack them
again (:class:`_Pack`, :class:`_Unpack`):

    args -> _Pack -> _Unpack per input -> forward -> outputs -> _Pack -> _Unpack per output

The output fence's backward receives every output gradient at once (grad_output); the input
fence's receives every input gradient at once (grad_input), after the whole module's backward,
and calls the hooks, whose non-None return replaces grad_input. When no input requires grad (the
first layer of a network), the hooks are called from the output fence with ``None`` for every
input, as PyTorch does. A hook sees ``None`` for arguments that are not tensors or need no
gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from minicnn import backend
from minicnn.autograd import Function
from minicnn.tensor import Tensor

if TYPE_CHECKING:
    from minicnn.nn.module import Module


class _Pack(Function):
    """Identity on tensors (k,) of shapes s_i -> one flat array (sum of sizes,); its backward
    hands the pieces of the gradient to ``on_backward`` and returns what that returns."""

    runs_hooks = True  # check_graph leaves it out: checking it would call the hooks

    def forward(self, *arrays: Any, on_backward: Callable[[list[Any]], list[Any]]) -> Any:
        self.shapes = [a.shape for a in arrays]
        self.on_backward = on_backward
        return backend.xp().concatenate([a.reshape(-1) for a in arrays])

    def backward(self, gy: Any) -> tuple[Any, ...]:
        pieces, start = [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            pieces.append(gy[start : start + n].reshape(shape))
            start += n
        return tuple(self.on_backward(pieces))


class _Unpack(Function):
    """packed (L,) -> packed[start : start + prod(shape)] as an array of ``shape``."""

    runs_hooks = True

    def forward(self, packed: Any, start: int, shape: tuple[int, ...]) -> Any:
        self.size, self.start = packed.shape[0], start
        return packed[start : start + math.prod(shape)].reshape(shape)

    def backward(self, gy: Any) -> tuple[Any, None, None]:
        gx = backend.xp().zeros(self.size, gy.dtype)  # (L,)
        gx[self.start : self.start + gy.size] = gy.reshape(-1)
        return gx, None, None


def _fence(tensors: list[Tensor], on_backward: Callable[[list[Any]], list[Any]]) -> list[Tensor]:
    """The same values as ``tensors``, behind one node whose backward calls ``on_backward``."""
    packed = _Pack.apply(*tensors, on_backward=on_backward)
    out, start = [], 0
    for t in tensors:
        out.append(_Unpack.apply(packed, start, t.shape))
        start += t.numel()
    return out


class BackwardHookCall:
    """The hooks of one call of a module: fences its inputs and outputs, then calls the hooks
    with what the fences' backward receives."""

    def __init__(self, module: Module, hooks: dict[int, Callable[..., Any]]) -> None:
        self.module = module
        self.hooks = hooks
        self.n_args = 0
        self.input_slots: list[int] = []  # which positional arguments are fenced
        self.input_backends: list[str] = []
        self.grad_output: tuple[Tensor | None, ...] = ()

    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        self.n_args = len(args)
        self.input_slots = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        ]
        if not self.input_slots:
            return args
        self.input_backends = [args[i].backend for i in self.input_slots]
        fenced = _fence([args[i] for i in self.input_slots], self._on_inputs)
        new = list(args)
        for i, t in zip(self.input_slots, fenced):
            new[i] = t
        return tuple(new)

    def wrap_outputs(self, output: Any) -> Any:
        many = isinstance(output, (tuple, list))
        outputs = list(output) if many else [output]
        slots = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not slots:
            return output
        backend_name = outputs[slots[0]].backend

        def on_outputs(grads: list[Any]) -> list[Any]:
            grad_output: list[Tensor | None] = [None] * len(outputs)
            for i, g in zip(slots, grads):
                grad_output[i] = Tensor._from_op(g, backend_name, None)
            self.grad_output = tuple(grad_output)
            if not self.input_slots:  # nothing upstream will call the hooks
                self._call_hooks((None,) * self.n_args)
            return grads

        for i, t in zip(slots, _fence([outputs[i] for i in slots], on_outputs)):
            outputs[i] = t
        return type(output)(outputs) if many else outputs[0]

    def _on_inputs(self, grads: list[Any]) -> list[Any]:
        grad_input: list[Tensor | None] = [None] * self.n_args
        for i, name, g in zip(self.input_slots, self.input_backends, grads):
            grad_input[i] = Tensor._from_op(g, name, None)
        final = self._call_hooks(tuple(grad_input))
        return [
            None if final[i] is None else final[i].array.astype(g.dtype, copy=False)
            for i, g in zip(self.input_slots, grads)
        ]

    def _call_hooks(self, grad_input: tuple[Tensor | None, ...]) -> tuple[Tensor | None, ...]:
        for hook in list(self.hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _check_replacement(result, grad_input)
        return grad_input


def _check_replacement(result: Any, grad_input: tuple[Tensor | None, ...]) -> tuple:
    """A hook's replacement for grad_input: a tuple of the same length, each a tensor of the
    gradient's shape, or None (no gradient for that input)."""
    if not isinstance(result, (tuple, list)) or len(result) != len(grad_input):
        raise TypeError(
            f"hook: a full backward hook must return None or a tuple of {len(grad_input)} "
            f"gradients (one per positional argument), got {result!r:.80}"
        )
    for i, (new, old) in enumerate(zip(result, grad_input)):
        if new is None:
            continue
        if not isinstance(new, Tensor):
            raise TypeError(
                f"hook: grad_input[{i}]: expected a Tensor or None, got {type(new).__name__}"
            )
        if old is None:
            raise ValueError(f"hook: grad_input[{i}]: this argument has no gradient to replace")
        if new.shape != old.shape or new.backend != old.backend:
            raise ValueError(
                f"hook: grad_input[{i}]: expected shape {old.shape} on backend "
                f"{old.backend!r}, got {new.shape} on {new.backend!r}"
            )
    return tuple(result)
