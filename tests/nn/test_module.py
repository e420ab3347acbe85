"""Module: registration, traversal, modes, gradients, state_dict, to(), repr, containers, hooks."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from tests.conftest import to_numpy


class Net(nn.Module):
    """Own parameter, children, a nested container, a non-persistent buffer, plain attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.scale = nn.Parameter(minicnn.ones(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))
        self.register_buffer("step", minicnn.zeros(1), persistent=False)
        self.note = "a plain attribute"
        self.plain = minicnn.zeros(2)  # a plain tensor is not registered

    def forward(self, x: minicnn.Tensor) -> minicnn.Tensor:  # (N, 1, 4, 4) -> (N, 3)
        return self.head(self.bn(self.conv(x)) * self.scale)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(5, 2)

    def forward(self, x: minicnn.Tensor) -> minicnn.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def _input(*shape: int) -> minicnn.Tensor:
    return minicnn.tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32))


# ----- registration and traversal ------------------------------------------------------------


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


# ----- modes and gradients -------------------------------------------------------------------


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
    net(_input(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad is not None and not to_numpy(p.grad).any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_false_freezes(backend_name):
    net = MLP()
    assert net.fc1.requires_grad_(False) is net.fc1
    net(_input(2, 4)).sum().backward()
    assert net.fc1.weight.grad is None and net.fc1.bias.grad is None
    assert net.fc2.weight.grad is not None and net.fc2.bias.grad is not None
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


# ----- state_dict ----------------------------------------------------------------------------


def test_state_dict_is_a_detached_copy(backend_name):
    net = MLP()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    before = to_numpy(sd["fc1.weight"]).copy()
    with minicnn.no_grad():
        net.fc1.weight[...] = 0.0
    np.testing.assert_array_equal(to_numpy(sd["fc1.weight"]), before)
    assert not sd["fc1.weight"].requires_grad and type(sd["fc1.weight"]) is minicnn.Tensor
    assert sd["fc1.weight"].backend == backend_name


@pytest.mark.parametrize("as_numpy", [False, True], ids=["tensors", "numpy"])
def test_state_dict_round_trip(backend_name, as_numpy):
    minicnn.manual_seed(1)
    source = Net()
    source(_input(4, 1, 4, 4))  # a training step moves the running statistics
    source.eval()
    x = _input(3, 1, 4, 4)
    expected = to_numpy(source(x))
    sd = source.state_dict()
    if as_numpy:
        sd = OrderedDict((k, v.numpy()) for k, v in sd.items())

    minicnn.manual_seed(2)
    target = Net().eval()
    assert not np.allclose(to_numpy(target(x)), expected)
    params_before = list(target.parameters())
    result = target.load_state_dict(sd)
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(to_numpy(target(x)), expected)
    assert all(a is b for a, b in zip(params_before, target.parameters()))  # loaded in place
    assert target.bn.num_batches_tracked.item() == 1
    assert target.bn.num_batches_tracked.dtype == np.int64


def test_load_state_dict_missing_keys():
    net = MLP()
    sd = net.state_dict()
    del sd["fc1.bias"], sd["fc2.weight"]
    with pytest.raises(RuntimeError) as info:
        MLP().load_state_dict(sd)
    message = str(info.value)
    assert "missing key(s)" in message and "'fc1.bias'" in message and "'fc2.weight'" in message
    assert "unexpected" not in message


def test_load_state_dict_unexpected_keys():
    sd = MLP().state_dict()
    sd["fc3.weight"] = minicnn.zeros(2, 2)
    with pytest.raises(RuntimeError, match=r"unexpected key\(s\) in state_dict: 'fc3.weight'"):
        MLP().load_state_dict(sd)


def test_load_state_dict_missing_and_unexpected_listed_together():
    sd = MLP().state_dict()
    sd["extra"] = sd.pop("fc2.bias")
    with pytest.raises(RuntimeError) as info:
        MLP().load_state_dict(sd)
    assert "missing key(s) in state_dict: 'fc2.bias'" in str(info.value)
    assert "unexpected key(s) in state_dict: 'extra'" in str(info.value)


@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_shape_mismatch_is_always_an_error(strict):
    sd = MLP().state_dict()
    sd["fc1.weight"] = minicnn.zeros(5, 3)
    target = MLP()
    before = {k: to_numpy(v).copy() for k, v in target.state_dict().items()}
    with pytest.raises(RuntimeError) as info:
        target.load_state_dict(sd, strict=strict)
    message = str(info.value)
    assert "size mismatch for fc1.weight" in message
    assert "expected shape (5, 4)" in message and "received (5, 3)" in message
    for k, v in target.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(to_numpy(v), before[k])


def test_load_state_dict_non_strict_returns_keys_and_loads_the_rest():
    source, target = MLP(), MLP()
    sd = source.state_dict()
    del sd["fc2.bias"]
    sd["fc9.weight"] = minicnn.zeros(1)
    result = target.load_state_dict(sd, strict=False)
    assert isinstance(result, nn.IncompatibleKeys)
    assert result.missing_keys == ["fc2.bias"] and result.unexpected_keys == ["fc9.weight"]
    missing, unexpected = result
    assert (missing, unexpected) == (["fc2.bias"], ["fc9.weight"])
    np.testing.assert_array_equal(to_numpy(target.fc1.weight), to_numpy(source.fc1.weight))
    assert not np.array_equal(to_numpy(target.fc2.bias), to_numpy(source.fc2.bias))


def test_load_state_dict_casts_to_the_parameter_dtype():
    net = MLP()
    sd = {k: v.numpy().astype(np.float64) for k, v in MLP().state_dict().items()}
    net.load_state_dict(sd)
    assert net.fc1.weight.dtype == np.float32
    np.testing.assert_allclose(to_numpy(net.fc1.weight), sd["fc1.weight"], rtol=1e-6)


# ----- to() ----------------------------------------------------------------------------------


def test_to_backend_keeps_parameter_identity(backend_name):
    with minicnn.use_backend("numpy"):
        net = Net()
    params, buffers = list(net.parameters()), list(net.buffers())
    values = {k: to_numpy(v).copy() for k, v in net.state_dict().items()}
    net.scale.grad = minicnn.ones(1, backend="numpy")
    assert net.to(backend_name) is net
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert all(a is b for a, b in zip(buffers, net.buffers()))
    for t in [*params, *buffers]:
        assert t.backend == backend_name and t.grad is None
        assert minicnn.backend.backend_of_array(t.array) == (
            "cupy" if backend_name == "cupy" else "numpy"
        )
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(to_numpy(v), values[k])
    out = net.eval()(_input(2, 1, 4, 4).to(backend_name))
    assert out.backend == backend_name and out.shape == (2, 3)
    net.to("numpy")
    assert all(p.backend == "numpy" for p in net.parameters())


def test_to_numba_moves_data():
    net = MLP()
    weight = net.fc1.weight
    net.to("numba")
    assert net.fc1.weight is weight and weight.backend == "numba"
    out = net(_input(2, 4).to("numba"))
    assert out.backend == "numba"


def test_to_dtype_casts_floats_only():
    net = Net().to(minicnn.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64  # a counter stays an integer
    assert net.float().conv.weight.dtype == np.float32
    assert net.double().conv.weight.dtype == np.float64
    with pytest.raises(TypeError, match="backend .*, a device or a dtype, got 'gpu0'"):
        net.to("gpu0")
    with pytest.raises(TypeError, match="float dtypes only"):
        net.to("int64")


# ----- repr ----------------------------------------------------------------------------------


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


# ----- containers ----------------------------------------------------------------------------


def test_sequential():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == [b, c]
    assert [n for n, _ in head.named_children()] == ["1", "2"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    x = _input(4, 2)
    np.testing.assert_array_equal(to_numpy(seq(x)), to_numpy(c(b(a(x)))))
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert named.fc is a and [n for n, _ in named.named_children()] == ["fc", "act"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[1]
    assert len(seq) == 2
    seq.append(nn.Sigmoid())
    assert isinstance(seq[-1], nn.Sigmoid)
    with pytest.raises(TypeError, match="argument 1 must be a Module"):
        nn.Sequential(a, "relu")


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 3))
    layers.extend([nn.ReLU(), nn.Linear(3, 1)])
    assert len(layers) == 4 and isinstance(layers[-1], nn.Linear)
    assert [n for n, _ in layers.named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "3.weight",
        "3.bias",
    ]
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "ReLU", "Linear"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers.insert(0, nn.Tanh())
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]

    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = layers

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    assert Stack()(_input(5, 2)).shape == (5, 1)
    assert len(list(Stack().parameters())) == 6


def test_module_dict():
    d = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "act": nn.ReLU()})
    d["head"] = nn.Linear(2, 2)
    assert list(d) == ["conv", "act", "head"] and len(d) == 3 and "act" in d
    assert isinstance(d["conv"], nn.Conv2d)
    assert [n for n, _ in d.named_parameters()][:2] == ["conv.weight", "conv.bias"]
    assert isinstance(d.pop("act"), nn.ReLU) and "act" not in d
    assert list(d.keys()) == ["conv", "head"]


# ----- hooks, apply, copying ------------------------------------------------------------------


def test_forward_hook():
    fc = nn.Linear(2, 2)
    seen = []
    handle = fc.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out.shape)))
    x = _input(3, 2)
    fc(x)
    assert seen == [(fc, (x,), (3, 2))]
    double = fc.register_forward_hook(lambda m, inputs, out: out * 2)
    y = fc(x)
    np.testing.assert_allclose(to_numpy(y), 2 * to_numpy(fc.forward(x)), rtol=1e-6)
    handle.remove()
    double.remove()
    fc(x)
    assert len(seen) == 2 and not fc._forward_hooks


class Blend(nn.Module):
    """a * w + b: two tensor inputs and a plain number."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(minicnn.tensor([2.0, -1.0], dtype="float64"))

    def forward(self, a, b, scale):
        return a * self.w * scale + b


def _leaf(*values):
    return minicnn.tensor(values, dtype="float64", requires_grad=True)


def test_full_backward_hook_sees_the_gradients_of_inputs_and_outputs():
    blend, calls = Blend(), []
    blend.register_full_backward_hook(lambda m, gi, go: calls.append((m, gi, go)))
    a, b = _leaf(1.0, 2.0), _leaf(3.0, 4.0)
    (blend(a, b, 3.0) * minicnn.tensor([5.0, 7.0], dtype="float64")).sum().backward()
    [(module, grad_input, grad_output)] = calls
    assert module is blend and len(grad_input) == 3 and len(grad_output) == 1
    np.testing.assert_array_equal(grad_output[0].numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(grad_input[0].numpy(), [30.0, -21.0])  # 3 w * gy
    np.testing.assert_array_equal(grad_input[1].numpy(), [5.0, 7.0])
    assert grad_input[2] is None  # not a tensor
    np.testing.assert_array_equal(a.grad.numpy(), grad_input[0].numpy())
    np.testing.assert_array_equal(blend.w.grad.numpy(), [15.0, 42.0])  # 3 a * gy


def test_full_backward_hook_replaces_grad_input_and_leaves_the_parameters_alone():
    blend = Blend()
    blend.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0, None, None))
    a, b = _leaf(1.0, 2.0), _leaf(3.0, 4.0)
    blend(a, b, 1.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    assert b.grad is None  # None: no gradient for that input
    np.testing.assert_array_equal(blend.w.grad.numpy(), [1.0, 2.0])


def test_full_backward_hook_of_a_first_layer_gets_none_for_its_input():
    conv = nn.Conv2d(1, 2, 3)
    calls = []
    conv.register_full_backward_hook(lambda m, gi, go: calls.append((gi, go[0].shape)))
    conv(_input(2, 1, 5, 5)).sum().backward()  # the image needs no gradient
    assert calls == [((None,), (2, 2, 3, 3))]
    assert conv.weight.grad is not None


def test_full_backward_hooks_chain_through_a_network():
    """Layer k's grad_output is layer k+1's grad_input; each call fires once per backward."""
    net = nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.Tanh(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2)
    )
    seen = {}
    for layer in net:
        layer.register_full_backward_hook(
            lambda m, gi, go: seen.setdefault(m, []).append((gi[0], go[0]))
        )
    x = _input(2, 1, 6, 6)
    x.requires_grad_()
    y = net(x)
    y.backward(minicnn.ones(2, 2))
    layers = list(net)
    assert all(len(seen[m]) == 1 for m in layers)
    np.testing.assert_array_equal(seen[layers[0]][0][0].numpy(), x.grad.numpy())
    np.testing.assert_array_equal(seen[layers[-1]][0][1].numpy(), np.ones((2, 2)))
    for before, after in zip(layers, layers[1:]):
        np.testing.assert_array_equal(seen[before][0][1].numpy(), seen[after][0][0].numpy())
    net(x).sum().backward()  # a second call, a second backward: one more each
    assert all(len(seen[m]) == 2 for m in layers)


def test_removing_a_full_backward_hook_and_no_grad():
    fc, calls = nn.Linear(2, 2), []
    handle = fc.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with minicnn.no_grad():
        assert fc(_input(3, 2)).grad_fn is None  # nothing recorded, nothing fenced
    handle.remove()
    fc(_input(3, 2)).sum().backward()
    assert calls == [] and not fc._backward_hooks


def test_a_full_backward_hook_that_returns_the_wrong_thing():
    x = _leaf(1.0, 2.0)
    for result, error, message in [
        ((x,), TypeError, r"hook: a full backward hook must return None or a tuple of 3"),
        ((x, "g", None), TypeError, r"hook: grad_input\[1\]: expected a Tensor or None, got str"),
        ((_leaf(1.0), None, None), ValueError, r"grad_input\[0\]: expected shape \(2,\)"),
        ((None, None, x), ValueError, r"grad_input\[2\]: this argument has no gradient"),
    ]:
        blend = Blend()
        blend.register_full_backward_hook(lambda m, gi, go, result=result: result)
        with pytest.raises(error, match=message):
            blend(_leaf(1.0, 2.0), _leaf(3.0, 4.0), 1.0).sum().backward()
    with pytest.raises(TypeError, match="hook: expected a callable, got NoneType"):
        Blend().register_full_backward_hook(None)


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
