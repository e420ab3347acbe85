"""The reference backend: NumPy kernels written for clarity, the oracle for the other backends.

Convolution uses im2col + GEMM (fast enough to be the NumPy default). The direct twins of the
heavy kernels (``direct.py``: the loops of each definition, the same loops the Numba and CUDA
twins run) are exported in ``DIRECT``.
"""

from ..foreach import adam_foreach_loop, sgd_foreach_loop
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
from .optim import adam_update_, sgd_update_
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

sgd_foreach_update_ = sgd_foreach_loop(sgd_update_)
adam_foreach_update_ = adam_foreach_loop(adam_update_)

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

__all__ = [*KERNELS, "KERNELS", *DIRECT, "DIRECT"]
