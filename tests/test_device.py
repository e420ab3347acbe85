"""Devices mapped onto backends: device(), Tensor.to/cpu/cuda/device, Module.to, factories'
device=, and the cuda / accelerator / backends namespaces."""

import numpy as np
import pytest

import minicnn
from minicnn import nn

GPU = minicnn.unavailable_reason("cupy") is None


def test_device_objects():
    assert (
        str(minicnn.device("cpu")) == "cpu"
        and repr(minicnn.device("cuda")) == "device(type='cuda')"
    )
    assert repr(minicnn.device("cuda:0")) == "device(type='cuda', index=0)"
    assert minicnn.device("cuda", 0) == minicnn.device("cuda:0") != minicnn.device("cuda")
    assert minicnn.device(minicnn.device("cpu")).type == "cpu"
    assert minicnn.device("cpu") != "cpu"  # as PyTorch: a device is not its string
    assert minicnn.device("cuda").backend == "cupy"
    with pytest.raises(RuntimeError, match="'mps' is a device minicnn has no backend for"):
        minicnn.device("mps")
    with pytest.raises(RuntimeError, match="'tpu' is unknown"):
        minicnn.device("tpu")
    with pytest.raises(RuntimeError, match="minicnn drives one GPU"):
        minicnn.device("cuda:1")
    with pytest.raises(ValueError, match="'numba' is a minicnn backend, not a device"):
        minicnn.device("numba")


@pytest.mark.parametrize("host", ["numpy", "numba"])
def test_cpu_is_the_host_backend_in_use(host):
    if minicnn.unavailable_reason(host):
        pytest.skip(minicnn.unavailable_reason(host))
    with minicnn.use_backend(host):
        assert minicnn.device("cpu").backend == host
        x = minicnn.zeros(2, device="cpu")
        assert x.backend == host and x.device == minicnn.device("cpu") and not x.is_cuda
        assert x.to("cpu") is x and x.cpu() is x and x.to(minicnn.device("cpu")) is x
    # a host tensor asked for "cpu" stays on its own host backend
    y = minicnn.zeros(2, backend="numpy")
    with minicnn.use_backend(host):
        assert y.to("cpu") is y


def test_to_accepts_pytorchs_forms(backend_name):
    x = minicnn.tensor([1.0, 2.0])
    assert x.to(minicnn.float64).dtype == np.float64
    assert x.to("cpu", minicnn.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=minicnn.long).dtype == np.int64
    assert x.to(dtype=minicnn.float32) is x
    other = minicnn.zeros(1, dtype="float64", backend="numpy")
    y = x.to(other)
    assert y.dtype == np.float64 and y.backend == "numpy"
    assert x.to("cpu", copy=True) is not x
    assert x.to("cpu", non_blocking=True).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="to: unexpected keyword argument 'memory_format'"):
        x.to(memory_format=None)
    with pytest.raises(TypeError, match="to: dtype given twice"):
        x.to("cpu", minicnn.float64, dtype=minicnn.float64)


def test_module_to_device_keeps_the_parameters(backend_name):
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    params = list(net.parameters())
    assert net.to("cpu") is net and list(net.parameters()) == params
    net.to(device="cpu", dtype=minicnn.float64)
    assert next(net.parameters()).dtype == np.float64
    assert next(net.parameters()).device == minicnn.device("cpu")
    assert net[1].num_batches_tracked.dtype == np.int64
    with pytest.raises(TypeError, match="float dtypes only"):
        net.to(minicnn.device("cpu"), minicnn.long)


@pytest.mark.skipif(GPU, reason="checks the message given where no GPU can be used")
def test_cuda_without_a_gpu_says_why():
    assert not minicnn.cuda.is_available() and minicnn.cuda.device_count() == 0
    assert not minicnn.accelerator.is_available()
    with pytest.raises(RuntimeError, match="backend 'cupy' is not available"):
        minicnn.zeros(2).cuda()
    with pytest.raises(RuntimeError, match="backend 'cupy' is not available"):
        nn.Linear(2, 2).to("cuda")
    with pytest.raises(RuntimeError, match="minicnn.cuda: no usable GPU"):
        minicnn.cuda.synchronize()
    minicnn.cuda.manual_seed(1)  # seeding works without a GPU, as PyTorch's
    minicnn.cuda.empty_cache()


@pytest.mark.gpu
@pytest.mark.skipif(not GPU, reason=f"needs a GPU: {minicnn.unavailable_reason('cupy')}")
def test_cuda_is_the_cupy_backend():
    x = minicnn.tensor([1.0, 2.0], device="cuda")
    assert x.backend == "cupy" and x.is_cuda and x.device == minicnn.device("cuda:0")
    assert x.cpu().backend != "cupy" and x.cpu().tolist() == [1.0, 2.0]
    net = nn.Linear(2, 1).to(minicnn.device("cuda"))
    assert next(net.parameters()).is_cuda and net(x).is_cuda
    assert minicnn.cuda.device_count() >= 1 and isinstance(minicnn.cuda.get_device_name(), str)


def test_backends_flags_can_be_set_and_read():
    cudnn = minicnn.backends.cudnn
    old = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        assert minicnn.backends.cudnn.benchmark and minicnn.backends.cudnn.deterministic
    finally:
        cudnn.benchmark, cudnn.deterministic = old
    assert "no cuDNN" in cudnn.__doc__ and cudnn.is_available() is False
    assert minicnn.backends.mps.is_available() is False


def test_num_threads():
    n = minicnn.get_num_threads()
    assert n >= 1
    minicnn.set_num_threads(1)
    assert minicnn.get_num_threads() == 1
    minicnn.set_num_threads(n)
    with pytest.raises(ValueError, match="set_num_threads: num: expected a positive int"):
        minicnn.set_num_threads(0)
