"""Module: the base class of every layer and network.

A Module is a tree. Assigning an attribute does the bookkeeping (``__setattr__``): a
:class:`Parameter` goes into ``_parameters``, a Module into ``_modules``, and a tensor
registered with :meth:`Module.register_buffer` (running statistics, say) into ``_buffers``.
Everything else (``parameters()``, ``train()``, ``repr``, and in module_state.py
``state_dict()``, ``load_state_dict()`` and ``to()``) is a walk over that tree. ``model(x)`` calls ``forward(x)``, then any forward hooks; backward hooks
(:meth:`Module.register_full_backward_hook`) see the gradients of a call's inputs and outputs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from minicnn import autograd
from minicnn.autograd import RemovableHandle
from minicnn.nn.hooks import BackwardHookCall
from minicnn.nn.module_state import IncompatibleKeys as IncompatibleKeys
from minicnn.nn.module_state import ModuleState
from minicnn.nn.parameter import Parameter, zero_grads
from minicnn.tensor import Tensor


class Module(ModuleState):
    """Base class for layers and networks: subclass it, assign layers in ``__init__``, and
    write ``forward``.

    Example::

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 8, 3, padding=1)   # registered as a sub-module
                self.fc = nn.Linear(8 * 28 * 28, 10)

            def forward(self, x):                          # x: (N, 1, 28, 28)
                x = F.relu(self.conv(x))                   # (N, 8, 28, 28)
                return self.fc(x.flatten(1))               # (N, 10)
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        backward_hooks = self.__dict__.get("_backward_hooks")  # absent in old pickles
        call = None
        if backward_hooks and autograd.is_grad_enabled():
            call = BackwardHookCall(self, backward_hooks)
            args = call.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if call is not None:
            output = call.wrap_outputs(output)
        return output

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; a non-None return
        replaces the output. Returns a handle whose ``remove()`` detaches the hook."""
        return autograd.add_hook(self._forward_hooks, hook)

    def register_full_backward_hook(
        self, hook: Callable[[Module, tuple, tuple], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when backward has the gradients of a
        call: ``grad_input`` one per positional argument (None where it is no tensor or needs
        no gradient), ``grad_output`` one per output tensor. A non-None return, a tuple like
        ``grad_input``, replaces it. Returns a handle whose ``remove()`` detaches the hook.
        How the gradients are caught: ``minicnn/nn/hooks.py``."""
        if "_backward_hooks" not in self.__dict__:
            object.__setattr__(self, "_backward_hooks", OrderedDict())
        return autograd.add_hook(self._backward_hooks, hook)

    def _check_name(self, kind: str, name: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {kind} before Module.__init__() call; "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        if not isinstance(name, str):
            raise TypeError(f"name: expected a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(
                f"name: a {kind} name must be non-empty and contain no '.', got {name!r}"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a placeholder such as a missing bias) as ``name``."""
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"param: expected a Parameter or None for {name!r}, got {type(param).__name__}; "
                f"wrap a tensor as nn.Parameter(t)"
            )
        self._forget(name, keep="_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not learnable (e.g. BatchNorm's running mean).

        Buffers move with ``to()`` and, if ``persistent``, are saved in ``state_dict()``.
        """
        self._check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"tensor: expected a Tensor or None for {name!r}, got {type(tensor).__name__}"
            )
        self._forget(name, keep="_buffers")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (as ``self.<name> = module`` does)."""
        self._check_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"module: expected a Module or None for {name!r}, got {type(module).__name__}"
            )
        self._forget(name, keep="_modules")
        self._modules[name] = module

    register_module = add_module

    def _forget(self, name: str, keep: str) -> None:
        """Drop ``name`` from the plain attributes and every registry but ``keep`` (where
        re-assigning keeps its place in the order)."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        if keep != "_buffers":
            self._non_persistent_buffers.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    f"(a Parameter or None is expected)"
                )
            params[name] = None
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    f"(a Module or None is expected)"
                )
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} "
                    f"(a Tensor or None is expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails. Read __dict__ directly: during unpickling the
        # registries do not exist yet, and self._parameters would recurse.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        # Registered names too, so tab completion in a notebook finds model.conv1.
        names = set(super().__dir__())
        for registry in ("_parameters", "_buffers", "_modules"):
            names.update(self.__dict__.get(registry, {}))
        return sorted(names)

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, {}):
                del self.__dict__[registry][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module and every descendant, depth first.

        This module's own name is ``prefix`` (``""`` by default). A module reachable by two
        paths is yielded once, under the first, unless ``remove_duplicate=False``.
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            child_prefix = f"{prefix}.{name}" if prefix else name
            yield from child.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, depth first, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct child, each once."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct children, each once."""
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, registry: str, prefix: str, recurse: bool
    ) -> Iterator[tuple[str, Tensor]]:
        """Entries of ``registry`` over the tree, dotted names, each tensor once (by identity)."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, t in module.__dict__[registry].items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{module_prefix}.{name}" if module_prefix else name), t

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``("conv1.weight", p)`` pairs; a parameter shared by two layers appears once."""
        yield from self._named_members("_parameters", prefix, recurse)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every learnable parameter, each once (what an optimizer is given)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``("bn.running_mean", t)`` pairs for every buffer, each once."""
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer, each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant and then on this module (e.g. custom init)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and below."""
        if not isinstance(mode, bool):
            raise ValueError(f"mode: expected a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout off, BatchNorm uses running statistics."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to None, or to zeros in place)."""
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradients of every parameter on or off (``False`` freezes the module)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (layers override it)."""
        return ""

    def __repr__(self) -> str:
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")  # indent nested modules
            lines.append(f"({name}): {child_repr}")
        if not self._modules:
            return f"{type(self).__name__}({', '.join(lines)})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"
