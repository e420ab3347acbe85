"""The CUDA backend: hand-written kernels in ``*.cu``, compiled once per process by CuPy.

Each family has a ``.cu`` source (read it first: its opening paragraph says what every thread
and block computes) and a Python module that validates arguments, allocates outputs and launches
with explicit grids. Arrays in and out are CuPy arrays; float32 and float64 are both supported.
``direct.cu`` holds the direct twins of the heavy kernels, one thread per output element
(exported in ``DIRECT``): read it before the fast kernels, which are the advanced reading.

Importing this package needs neither CuPy nor a GPU (CuPy is imported on the first launch), so
the kernel contract can be checked anywhere. ``python -m minicnn.kernels.cuda.selfcheck`` runs
every kernel once against ``numpy_ref`` on a GPU machine.
"""

from .conv import conv2d_backward_input, conv2d_backward_weight, conv2d_forward
from .direct import (
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
from .dropout import dropout_mask
from .norm import (
    batchnorm_backward,
    batchnorm_forward_eval,
    batchnorm_forward_train,
    batchnorm_update_running,
)
from .optim import adam_foreach_update_, adam_update_, sgd_foreach_update_, sgd_update_
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
    "sgd_foreach_update_": sgd_foreach_update_,
    "adam_update_": adam_update_,
    "adam_foreach_update_": adam_foreach_update_,
    "residual_add_forward": residual_add_forward,
    "residual_add_backward": residual_add_backward,
}

# The direct twins of the heavy kernels (direct.cu): one thread per output element.
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
