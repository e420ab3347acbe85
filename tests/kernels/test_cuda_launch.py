"""The CUDA launcher compiles each .cu file once per process (needs CuPy and a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn

pytestmark = pytest.mark.gpu


@pytest.fixture
def cupy():
    reason = minicnn.unavailable_reason("cupy")
    if reason is not None:
        pytest.skip(f"CUDA kernels need a GPU: {reason}")
    import cupy

    return cupy


def test_modules_compile_once_per_process(cupy):
    from minicnn.kernels import cuda
    from minicnn.kernels.cuda import conv as cuda_conv
    from minicnn.kernels.cuda import launch

    first = launch.module(cuda_conv.FILE, cuda_conv.NAMES)
    second = launch.module(cuda_conv.FILE, cuda_conv.NAMES)
    assert second is first
    assert launch.compile_counts[cuda_conv.FILE] == 1
    x, w = cupy.ones((1, 1, 3, 3), np.float32), cupy.ones((1, 1, 2, 2), np.float32)
    cuda.KERNELS["conv2d_forward"](x, w, None, 1, 1, 0, 0, 1, 1, 1)
    assert launch.compile_counts[cuda_conv.FILE] == 1
