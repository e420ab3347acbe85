"""The Numba CPU backend: the kernel contract as `@njit(cache=True, parallel=True)` loops.

Each family sits in its own module (conv, pool, norm, dropout, residual); its docstring says what
one `prange` iteration computes and why that algorithm was chosen (conv keeps its product loops
in gemm.py and its copies in pack.py). The public functions are plain
Python: they make inputs contiguous, allocate the outputs and call the compiled kernels, which
write those outputs in place. Every parallel loop runs over an axis whose output slots the
iteration owns, so no kernel needs atomics, and every kernel compiles once per dtype (float32
and float64 share the source; Numba specialises it). Compiled code is cached on disk, so only
the first run in a fresh checkout pays for compilation.
"""

from .conv import conv2d_backward_input, conv2d_backward_weight, conv2d_forward
from .dropout import dropout_mask
from .norm import (
    batchnorm_backward,
    batchnorm_forward_eval,
    batchnorm_forward_train,
    batchnorm_update_running,
)
from .optim import sgd_update_
from .pool import (
    adaptive_avgpool2d_backward,
    adaptive_avgpool2d_forward,
    adaptive_maxpool2d_backward,
    adaptive_maxpool2d_forward,
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .residual import residual_add_backward, residual_add_forward

KERNELS = {
    "conv2d_forward": conv2d_forward,
    "conv2d_backward_input": conv2d_backward_input,
    "conv2d_backward_weight": conv2d_backward_weight,
    "maxpool2d_forward": maxpool2d_forward,
    "maxpool2d_backward": maxpool2d_backward,
    "avgpool2d_forward": avgpool2d_forward,
    "avgpool2d_backward": avgpool2d_backward,
    "adaptive_avgpool2d_forward": adaptive_avgpool2d_forward,
    "adaptive_avgpool2d_backward": adaptive_avgpool2d_backward,
    "adaptive_maxpool2d_forward": adaptive_maxpool2d_forward,
    "adaptive_maxpool2d_backward": adaptive_maxpool2d_backward,
    "batchnorm_forward_train": batchnorm_forward_train,
    "batchnorm_forward_eval": batchnorm_forward_eval,
    "batchnorm_backward": batchnorm_backward,
    "batchnorm_update_running": batchnorm_update_running,
    "dropout_mask": dropout_mask,
    "sgd_update_": sgd_update_,
    "residual_add_forward": residual_add_forward,
    "residual_add_backward": residual_add_backward,
}

__all__ = [*KERNELS, "KERNELS"]

# The direct twins of the heavy kernels (direct.py): plain prange loops, read them first.
from .direct import (  # noqa: E402
    adaptive_avgpool2d_backward_direct,
    adaptive_avgpool2d_forward_direct,
    adaptive_maxpool2d_backward_direct,
    adaptive_maxpool2d_forward_direct,
    avgpool2d_backward_direct,
    avgpool2d_forward_direct,
    batchnorm_backward_direct,
    batchnorm_forward_eval_direct,
    batchnorm_forward_train_direct,
    conv2d_backward_input_direct,
    conv2d_backward_weight_direct,
    conv2d_forward_direct,
    maxpool2d_backward_direct,
    maxpool2d_forward_direct,
)

DIRECT = {
    "conv2d_forward_direct": conv2d_forward_direct,
    "conv2d_backward_input_direct": conv2d_backward_input_direct,
    "conv2d_backward_weight_direct": conv2d_backward_weight_direct,
    "maxpool2d_forward_direct": maxpool2d_forward_direct,
    "maxpool2d_backward_direct": maxpool2d_backward_direct,
    "avgpool2d_forward_direct": avgpool2d_forward_direct,
    "avgpool2d_backward_direct": avgpool2d_backward_direct,
    "adaptive_avgpool2d_forward_direct": adaptive_avgpool2d_forward_direct,
    "adaptive_avgpool2d_backward_direct": adaptive_avgpool2d_backward_direct,
    "adaptive_maxpool2d_forward_direct": adaptive_maxpool2d_forward_direct,
    "adaptive_maxpool2d_backward_direct": adaptive_maxpool2d_backward_direct,
    "batchnorm_forward_train_direct": batchnorm_forward_train_direct,
    "batchnorm_forward_eval_direct": batchnorm_forward_eval_direct,
    "batchnorm_backward_direct": batchnorm_backward_direct,
}

__all__ += [*DIRECT, "DIRECT"]
