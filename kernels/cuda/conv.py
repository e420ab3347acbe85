"""conv2d on the GPU: launchers for the tiled implicit-GEMM kernels of ``conv.cu``.

The advanced reading: the same three passes, one thread per output element, are the direct
twins in ``direct.cu`` (launched by ``direct.py``); read those, then ``benchmarks/conv_variants``.

Tile shapes: a GEMM tile is BM rows by BN columns, computed by BM*BN/16 threads (4 x 4 outputs
each). BN follows the number of columns (output channels per group for the forward pass), so
ResNet-sized layers of 16, 32 or 64 channels waste no columns; BM is the larger of two sizes
unless that would leave fewer than two blocks per multiprocessor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..geometry import out_size
from .launch import (
    ctype,
    elementwise_grid,
    import_cupy,
    instantiations,
    int32_args,
    launch,
    multiprocessor_count,
)

if TYPE_CHECKING:
    import cupy

FILE = "conv.cu"
BK = 16  # depth of one k step; must match conv.cu

# (BM, BN) pairs of the forward and backward-input kernels, by number of GEMM columns:
# columns <= 16 -> BN = 16 with BM 256 or 128, and so on; 256 or 128 threads a block.
ROW_TILES = {16: (256, 128), 32: (128, 64), 64: (64, 32)}
# BM of the backward-weight kernel (rows = output channels per group); BN is always 64.
WEIGHT_ROW_TILES = (16, 32, 64)
WEIGHT_BN = 64

_TYPES = ("float", "double")
NAMES = tuple(
    [f"conv2d_forward_gemm_kernel<{t}, {bm}, {bn}>" for t in _TYPES for bn, bms in ROW_TILES.items() for bm in bms]
    + [f"conv2d_backward_input_gemm_kernel<{t}, {bm}, {bn}>" for t in _TYPES for bn, bms in ROW_TILES.items() for bm in bms]
    + [f"conv2d_backward_weight_gemm_kernel<{t}, {bm}, {WEIGHT_BN}>" for t in _TYPES for bm in WEIGHT_ROW_TILES]
    + instantiations("conv2d_backward_weight_reduce_kernel")
    + instantiations("conv2d_weight_to_gemm_kernel")
)  # fmt: skip


def _launch(name: str, grid, block, args) -> None:
    launch(FILE, NAMES, name, grid, block, args)


def _check_grid(G: int) -> None:
    # The launch grid's z axis counts groups; this is the hardware's limit, not an argument rule.
    if G > 65535:
        raise ValueError(f"groups G={G} exceeds the grid limit of 65535")


def _forward_shapes(x, w, SH, SW, PH, PW, DH, DW, G) -> tuple[int, ...]:
    """N, C, H, W, OC, KH, KW, OH, OW of conv2d_forward."""
    _check_grid(G)
    N, C, H, W = x.shape
    OC, _, KH, KW = w.shape
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    return N, C, H, W, OC, KH, KW, OH, OW


def _backward_input_shapes(gy, w, G) -> tuple[int, ...]:
    """N, C, OC, KH, KW, OH, OW of conv2d_backward_input."""
    _check_grid(G)
    N, OC, OH, OW = gy.shape
    _, Cg, KH, KW = w.shape
    return N, Cg * G, OC, KH, KW, OH, OW


def _backward_weight_shapes(gy, x, G) -> tuple[int, ...]:
    """N, C, H, W, OC, OH, OW of conv2d_backward_weight."""
    _check_grid(G)
    N, OC, OH, OW = gy.shape
    C, H, W = x.shape[1:]
    return N, C, H, W, OC, OH, OW


def _shape_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW) -> tuple:
    """The 16 int parameters every conv kernel takes, in the kernels' order."""
    return int32_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW)


def _weights_as_gemm_operand(w, G: int, oc_fastest: bool):
    """w (OC, C/G, KH, KW) rearranged so that a row of the GEMM's B operand is contiguous.

    Forward (oc_fastest): (G, KH*KW, C/G, OC/G), row (tap, c). Backward-input: (G, KH*KW, OC/G,
    C/G), row (tap, oc).
    """
    cp = import_cupy()
    OC, Cg, KH, KW = w.shape
    shape = (G, KH * KW, Cg, OC // G) if oc_fastest else (G, KH * KW, OC // G, Cg)
    wt = cp.empty(shape, dtype=w.dtype)
    args = (w, wt, *int32_args(G, OC // G, Cg, KH * KW, int(oc_fastest)))
    _launch(
        f"conv2d_weight_to_gemm_kernel<{ctype(w.dtype)}>", elementwise_grid(w.size), (256,), args
    )
    return wt


def _row_tile(rows: int, cols: int, G: int) -> tuple[int, int]:
    """(BM, BN) for a GEMM with ``rows`` x ``cols`` outputs in each of ``G`` groups.

    BN is the smallest of 16, 32, 64 that covers the columns (64 beyond that). The larger BM is
    kept unless it leaves fewer than two blocks per multiprocessor.
    """
    BN = 16 if cols <= 16 else 32 if cols <= 32 else 64
    big, small = ROW_TILES[BN]
    blocks = -(-rows // big) * -(-cols // BN) * G
    return (big if blocks >= 2 * multiprocessor_count() else small), BN


def conv2d_forward(
    x: cupy.ndarray,
    w: cupy.ndarray,
    b: cupy.ndarray | None,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    G: int,
) -> cupy.ndarray:
    """y (N, OC, OH, OW) = conv2d(x (N, C, H, W), w (OC, C/G, KH, KW)) + b (OC,), implicit GEMM."""
    cp = import_cupy()
    N, C, H, W, OC, KH, KW, OH, OW = _forward_shapes(x, w, SH, SW, PH, PW, DH, DW, G)
    y = cp.empty((N, OC, OH, OW), dtype=x.dtype)
    if y.size == 0:
        return y
    OCg = OC // G
    wt = _weights_as_gemm_operand(w, G, oc_fastest=True)
    M = N * OH * OW
    BM, BN = _row_tile(M, OCg, G)
    grid = (-(-M // BM), -(-OCg // BN), G)
    bias = b if b is not None else y  # y is never read when has_bias is 0
    args = (x, wt, bias, y) + _shape_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW)
    _launch(
        f"conv2d_forward_gemm_kernel<{ctype(x.dtype)}, {BM}, {BN}>",
        grid,
        (BM * BN // 16,),
        args + (np.int32(b is not None),),
    )
    return y


def conv2d_backward_input(
    gy: cupy.ndarray,
    w: cupy.ndarray,
    H: int,
    W: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    G: int,
) -> cupy.ndarray:
    """gx (N, C, H, W) from gy (N, OC, OH, OW) and w (OC, C/G, KH, KW), implicit GEMM."""
    cp = import_cupy()
    N, C, OC, KH, KW, OH, OW = _backward_input_shapes(gy, w, G)
    gx = cp.empty((N, C, H, W), dtype=gy.dtype)
    if gx.size == 0:
        return gx
    Cg = C // G
    wt = _weights_as_gemm_operand(w, G, oc_fastest=False)
    # Rows are split into SH*SW stride phases (see conv.cu); phase (0, 0) has the most rows.
    M = N * -(-H // SH) * -(-W // SW)
    BM, BN = _row_tile(M, Cg, G * SH * SW)
    if G * SH * SW > 65535:
        raise ValueError(f"G*SH*SW = {G * SH * SW} exceeds the grid limit of 65535")
    grid = (-(-M // BM), -(-Cg // BN), G * SH * SW)
    args = (gy, wt, gx) + _shape_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW)
    _launch(
        f"conv2d_backward_input_gemm_kernel<{ctype(gy.dtype)}, {BM}, {BN}>",
        grid,
        (BM * BN // 16,),
        args,
    )
    return gx


def _split_count(out_blocks: int, k_tiles: int, G: int) -> int:
    """How many slices S to cut the k axis of backward-weight into.

    Enough slices for about four blocks per multiprocessor, but each slice keeps at least eight
    k tiles (a block that loops less than that spends more on its prologue and on the workspace
    than on math), and G*S stays within the grid's z limit.
    """
    wanted = -(-4 * multiprocessor_count() // max(out_blocks, 1))
    S = min(wanted, max(1, k_tiles // 8), max(1, 65535 // G))
    return max(1, S)


def conv2d_backward_weight(
    gy: cupy.ndarray,
    x: cupy.ndarray,
    KH: int,
    KW: int,
    SH: int,
    SW: int,
    PH: int,
    PW: int,
    DH: int,
    DW: int,
    G: int,
) -> cupy.ndarray:
    """gw (OC, C/G, KH, KW) from gy (N, OC, OH, OW) and x (N, C, H, W), split-K implicit GEMM."""
    cp = import_cupy()
    N, C, H, W, OC, OH, OW = _backward_weight_shapes(gy, x, G)
    Cg, OCg = C // G, OC // G
    if N == 0:  # a sum over no samples
        return cp.zeros((OC, Cg, KH, KW), dtype=gy.dtype)
    gw = cp.empty((OC, Cg, KH, KW), dtype=gy.dtype)
    NC = Cg * KH * KW
    BM = next(bm for bm in WEIGHT_ROW_TILES if bm >= OCg or bm == WEIGHT_ROW_TILES[-1])
    BN = WEIGHT_BN
    tiles = (-(-NC // BN), -(-OCg // BM))
    k_tiles = N * -(-(OH * OW) // BK)
    S = _split_count(tiles[0] * tiles[1] * G, k_tiles, G)
    # Partial sums of the S slices, (S, OC, C/G*KH*KW), then a fixed-order sum into gw.
    ws = cp.empty((S, OC, NC), dtype=gy.dtype)
    args = (gy, x, ws) + _shape_args(N, C, H, W, OC, KH, KW, SH, SW, PH, PW, DH, DW, G, OH, OW)
    _launch(
        f"conv2d_backward_weight_gemm_kernel<{ctype(gy.dtype)}, {BM}, {BN}>",
        (tiles[0], tiles[1], G * S),
        (BM * BN // 16,),
        args + (np.int32(S),),
    )
    _launch(
        f"conv2d_backward_weight_reduce_kernel<{ctype(gy.dtype)}>",
        elementwise_grid(gw.size),
        (256,),
        (ws, gw, np.int64(gw.size), np.int32(S)),
    )
    return gw
