"""The hypothesis strategies of the test suite, and the value helpers they share, in one place.

- ``arrays``: seeds, values away from kinks and ties, special values (NaN, inf), tensors.
- ``tensor_cases``: shapes, broadcasting pairs and the arguments of the tensor ops.
- ``cnn_cases``: the geometry of the CNN ops as the public functions take it.
- ``kernel_cases``: the arguments of the kernels themselves, for the parity tests of every
  backend and the tests of the NumPy oracle.

Tests import from here (``from strategies import conv_cases, seeds``). The settings profile
(derandomized, ``deadline=None``) is registered in ``tests/conftest.py``.
"""

from .arrays import (
    DTYPES,
    SPECIAL_VALUES,
    as_tensor,
    away_from_zero,
    distinct,
    distinct_grid,
    host,
    positive,
    seeds,
    shuffled_grid,
    uniform,
    values,
    with_specials,
)
from .cnn_cases import (
    FULL_JACOBIAN_LIMIT,
    ConvCase,
    PoolCase,
    adaptive_cases,
    bn_shapes,
    conv_cases,
    conv_transpose_cases,
    fast_mode,
    pool_cases,
    windows_touch_input,
)
from .kernel_cases import (
    fits,
    kernel_adaptive_cases,
    kernel_batchnorm_cases,
    kernel_conv_batches,
    kernel_conv_cases,
    kernel_conv_channels,
    kernel_pool_cases,
    pool_values,
    reference_adaptive_cases,
    reference_avgpool_cases,
    reference_conv_cases,
    reference_maxpool_cases,
)
from .tensor_cases import (
    MAX_ELEMENTS,
    basic_indices,
    broadcast_pairs,
    ce_cases,
    clamp_cases,
    join_cases,
    pad_cases,
    reduce_cases,
    reshape_targets,
    shapes,
)

__all__ = [
    "DTYPES",
    "FULL_JACOBIAN_LIMIT",
    "MAX_ELEMENTS",
    "SPECIAL_VALUES",
    "ConvCase",
    "PoolCase",
    "adaptive_cases",
    "as_tensor",
    "away_from_zero",
    "basic_indices",
    "bn_shapes",
    "broadcast_pairs",
    "ce_cases",
    "clamp_cases",
    "conv_cases",
    "conv_transpose_cases",
    "distinct",
    "distinct_grid",
    "fast_mode",
    "fits",
    "host",
    "join_cases",
    "kernel_adaptive_cases",
    "kernel_batchnorm_cases",
    "kernel_conv_batches",
    "kernel_conv_cases",
    "kernel_conv_channels",
    "kernel_pool_cases",
    "pad_cases",
    "pool_cases",
    "pool_values",
    "positive",
    "reduce_cases",
    "reference_adaptive_cases",
    "reference_avgpool_cases",
    "reference_conv_cases",
    "reference_maxpool_cases",
    "reshape_targets",
    "seeds",
    "shapes",
    "shuffled_grid",
    "uniform",
    "values",
    "windows_touch_input",
    "with_specials",
]
