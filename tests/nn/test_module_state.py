"""Module's state (nn/module_state.py): state_dict, load_state_dict and to()."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from tests.conftest import to_numpy

from .nets import MLP, Net, sample_input


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
    source(sample_input(4, 1, 4, 4))  # a training step moves the running statistics
    source.eval()
    x = sample_input(3, 1, 4, 4)
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
    out = net.eval()(sample_input(2, 1, 4, 4).to(backend_name))
    assert out.backend == backend_name and out.shape == (2, 3)
    net.to("numpy")
    assert all(p.backend == "numpy" for p in net.parameters())


def test_to_numba_moves_data():
    net = MLP()
    weight = net.fc1.weight
    net.to("numba")
    assert net.fc1.weight is weight and weight.backend == "numba"
    out = net(sample_input(2, 4).to("numba"))
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
