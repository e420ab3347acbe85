"""Module: registration, traversal, modes, gradients, repr, apply, copying."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from tests.conftest import to_numpy

from .nets import MLP, Net, sample_input


def test_registration_and_traversal_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale",
        "conv.weight",
        "conv.bias",
        "bn.weight",
        "bn.bias",
        "head.1.weight",
        "head.1.bias",
    ]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_children()] == ["conv", "bn", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "conv", "bn", "head", "head.0", "head.1"]
    assert [n for n, _ in net.named_buffers()] == [
        "step",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_parameters(prefix="net")][0] == "net.scale"
    assert list(net.state_dict()) == [
        "scale",
        "conv.weight",
        "conv.bias",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
        "head.1.weight",
        "head.1.bias",
    ]  # "step" is not persistent
    assert net.note == "a plain attribute"
    assert "plain" not in dict(net.named_buffers()) and isinstance(net.plain, minicnn.Tensor)
    assert net.conv is net._modules["conv"] and net.scale is net._parameters["scale"]
    assert len(list(net.parameters())) == 7 and len(list(net.modules())) == 6
    assert [type(m).__name__ for m in net.children()] == ["Conv2d", "BatchNorm2d", "Sequential"]


def test_reassignment_and_deletion():
    net = Net()
    net.conv = None  # a registered child may become None
    assert "conv" in net._modules and net.conv is None
    assert "conv.weight" not in dict(net.named_parameters())
    net.scale = None
    assert net.scale is None and len(list(net.parameters())) == 4
    net.scale = nn.Parameter(minicnn.ones(2))
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = minicnn.ones(2)  # a plain tensor cannot replace a parameter
    net.step = minicnn.ones(1)  # a buffer takes a new tensor
    assert dict(net.named_buffers())["step"] is net.step
    with pytest.raises(TypeError, match="buffer 'step'"):
        net.step = 3.0
    del net.head
    assert not hasattr(net, "head") and "head" not in net._modules
    net.head = 5  # the name is free again: a plain attribute
    assert net.head == 5


def test_registration_errors():
    class Forgot(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgot()
    m = nn.Module()
    with pytest.raises(KeyError, match="'a.b'"):
        m.register_buffer("a.b", minicnn.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("b", np.zeros(1))
    with pytest.raises(TypeError, match="nn.Parameter"):
        m.register_parameter("w", minicnn.zeros(1))
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        m(1)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing  # noqa: B018


def test_shared_parameters_counted_once():
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight  # tied weights
    model = nn.Sequential(a, b, a)  # and a module used twice
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    assert sum(p.numel() for p in model.parameters()) == 9 + 3 + 3
    assert len(list(model.modules())) == 3  # the Sequential, a, b
    # state_dict keeps every name, so a load fills each slot
    assert list(model.state_dict()) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "2.weight",
        "2.bias",
    ]


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and not net.head.training and not net.head[1].training
    with pytest.raises(ValueError, match="mode"):
        net.train("no")


def test_zero_grad(backend_name):
    net = MLP()
    net(sample_input(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad is not None and not to_numpy(p.grad).any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_false_freezes(backend_name):
    net = MLP()
    assert net.fc1.requires_grad_(False) is net.fc1
    net(sample_input(2, 4)).sum().backward()
    assert net.fc1.weight.grad is None and net.fc1.bias.grad is None
    assert net.fc2.weight.grad is not None and net.fc2.bias.grad is not None
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_repr_of_layers_and_nesting():
    assert repr(nn.Conv2d(3, 16, 3, padding=1, bias=False)) == (
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)"
    )
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2),
        nn.ReLU(),
        nn.Sequential(nn.Flatten(), nn.Linear(4, 2)),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(2, 2))\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Module()) == "Module()"


def test_parameter():
    t = minicnn.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and p.array is t.array  # shares the array
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(minicnn.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter([1.0]).dtype == np.float32
    assert nn.Parameter().shape == (0,)
    assert isinstance(p, minicnn.Tensor)
    y = p * 2  # ops on a Parameter give plain tensors
    assert type(y) is minicnn.Tensor


def test_apply_visits_children_first():
    net = Net()
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Conv2d", "BatchNorm2d", "Flatten", "Linear", "Sequential", "Net"]

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(init_linear)
    assert not to_numpy(net.head[1].weight).any()


def test_deepcopy_and_pickle():
    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
        assert clone.conv.weight is not net.conv.weight
        np.testing.assert_array_equal(to_numpy(clone.conv.weight), to_numpy(net.conv.weight))
