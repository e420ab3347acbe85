"""More ops with PyTorch's names, one family per file, each a Function with forward and
backward side by side (as in ``minicnn/ops``), or a composition of existing ops where that is
the whole idea (``interpolate``, ``local_response_norm``, the binary cross-entropies).

``compare``     comparisons, ``maximum``/``minimum``, ``all``/``any``, ``isnan``, ``allclose``
``indexing``    ``gather``, ``take_along_dim``, ``masked_fill``, ``topk``, ``sort``, ``unique``
``shape``       ``chunk``, ``split``, ``unbind``, ``repeat``, ``clone``, ``t``, ``unflatten``
``linalg``      ``mm``, ``bmm``, ``einsum``
``activation``  ``gelu``, ``elu``, ``silu``, ``prelu``
``conv_transpose``  ``conv_transpose2d`` (conv2d's input gradient, on conv2d's kernels)
``resize``      ``interpolate`` (nearest and bilinear)
``norm``        ``local_response_norm``
``loss``        ``l1_loss``, ``smooth_l1_loss``, ``binary_cross_entropy[_with_logits]``,
                ``one_hot``
``inplace``     ``add_``, ``sub_``, ``mul_``, ``div_``, ``fill_``, ``copy_``, ... and ``+=``
``_methods``    attaches the Tensor methods of all of them

This package's ``__init__`` imports nothing, so a core op may import one family lazily.
"""
