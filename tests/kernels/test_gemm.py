"""The Numba matrix-product loops of gemm.py against a float64 product, on shapes on both
sides of every tile and block edge they use, and the convolutions that call them on images
wider than a tile.

The loops work in pieces: `_gemm_rows` in tiles of 512 columns and blocks of 4 rows x 4 k,
`_dot_rows` in blocks of 4 rows x 6 k (or 3 k, for 16 vector registers), `_dot_windows` in
blocks of 4 windows (or 3) x 4 rows, each with a loop for what is left over. A slip at an edge
(a column of a tile dropped, a leftover row skipped) shows only for shapes that reach that edge,
so each size is drawn from values just below, at and just above every edge (and past a second
tile, for the 512 columns). Both blocks of each dot form are checked, whichever this machine
uses.
"""

from __future__ import annotations

import numpy as np
import pytest
from minicnn.kernels import numpy_ref as R

from .parity import RTOL, FastBackend

gemm = pytest.importorskip("minicnn.kernels.numba_cpu.gemm")

TILE = 512  # columns of C that `_gemm_rows` hands `_gemm_tile` at a time
EDGES_4 = (1, 3, 4, 5, 8, 9)  # around blocks of 4 (rows, k, windows)
EDGES_3_4 = (1, 2, 3, 4, 5, 6, 7, 8, 9)  # around blocks of 3 and of 4 (windows)
EDGES_3_6 = (1, 2, 3, 4, 5, 6, 7, 12, 13)  # around blocks of 3 and of 6 (`_dot_rows`' k)
DOT_ROWS = {"4x6": gemm._dot_rows_4x6, "4x3": gemm._dot_rows_4x3}
DOT_WINDOWS = {"4x4": gemm._dot_windows_4x4, "3x4": gemm._dot_windows_3x4}
COLUMNS = (1, 4, TILE - 1, TILE, TILE + 1, 2 * TILE - 1, 2 * TILE + 1)


def _rows(rng, K: int, Q: int, dtype):
    """A row buffer of 3 planes and, per k, the plane and start of row k's slice."""
    buf = rng.standard_normal((3, Q + 5)).astype(dtype)
    pl = rng.integers(0, 3, K).astype(np.int64)
    off = rng.integers(0, 6, K).astype(np.int64)
    B = np.stack([buf[pl[k], off[k] : off[k] + Q] for k in range(K)]).astype(np.float64)
    return buf, pl, off, B  # B (K, Q): the matrix the slices stand for


def _check(got: np.ndarray, want: np.ndarray, scale: np.ndarray, what: str) -> None:
    """Within the dtype's rounding of the sum of |terms|: a term left out is far outside."""
    err = np.abs(got.astype(np.float64) - want)
    bound = RTOL[got.dtype] * 0.1 * (scale + 1.0)
    assert np.all(err <= bound), f"{what}: worst error {err.max()} at {np.argmax(err - bound)}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Q", COLUMNS)
def test_gemm_rows_on_both_sides_of_every_edge(Q, dtype):
    """C[:, :Q] += A @ rows, for every M and K around the blocks of 4 and Q around tiles."""
    rng = np.random.default_rng(Q)
    for M in EDGES_4:
        for K in EDGES_4:
            A = rng.standard_normal((M, K)).astype(dtype)
            buf, pl, off, B = _rows(rng, K, Q, dtype)
            C = rng.standard_normal((M, Q + 3)).astype(dtype)  # 3 columns past Q stay put
            want = C.astype(np.float64)
            want[:, :Q] += A.astype(np.float64) @ B
            scale = np.abs(C).astype(np.float64)
            scale[:, :Q] += np.abs(A).astype(np.float64) @ np.abs(B)
            gemm._gemm_rows(A, buf, pl, off, C, Q)
            _check(C, want, scale, f"M={M} K={K} Q={Q}")


@pytest.mark.parametrize("block", DOT_ROWS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Q", (1, 15, 16, 17, TILE + 1))
def test_dot_rows_on_both_sides_of_every_edge(Q, dtype, block):
    """C (M, K) += Gq[:, :Q] @ rows^T, for M around blocks of 4 and K around blocks of 3, 6."""
    rng = np.random.default_rng(Q)
    for M in EDGES_4:
        for K in EDGES_3_6:
            buf, pl, off, B = _rows(rng, K, Q, dtype)
            Gq = rng.standard_normal((M, Q + 2)).astype(dtype)  # columns past Q are not read
            C = rng.standard_normal((M, K)).astype(dtype)
            G64 = Gq[:, :Q].astype(np.float64)
            want = C + G64 @ B.T
            scale = np.abs(C) + np.abs(G64) @ np.abs(B.T)
            DOT_ROWS[block](Gq, buf, pl, off, Q, C)
            _check(C, want, scale, f"M={M} K={K} Q={Q}")


@pytest.mark.parametrize("block", DOT_WINDOWS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K", (1, 7, 8, 9, 40))
def test_dot_windows_on_both_sides_of_every_edge(K, dtype, block):
    """out[m, p] = A[m] . window p, for M rows around blocks of 4 (and 2) and NP windows around
    blocks of 3 and 4; windows lie OW to a row of Zf, `step` apart, so some cross from one row of Zf
    to the next."""
    rng = np.random.default_rng(K)
    OW, step = 3, 2
    for M in EDGES_3_4:  # blocks of 4 rows, then (3 x 4) one of 2
        for NP in EDGES_3_4:
            rows = -(-NP // OW)
            Zf = rng.standard_normal((rows, (OW - 1) * step + K)).astype(dtype)
            windows = np.stack(
                [Zf[p // OW, (p % OW) * step : (p % OW) * step + K] for p in range(NP)]
            ).astype(np.float64)  # (NP, K)
            A = rng.standard_normal((M, K)).astype(dtype)
            out = np.full((M, NP + 2), 7.0, dtype)  # columns past NP stay put
            want = np.full((M, NP + 2), 7.0)
            want[:, :NP] = A.astype(np.float64) @ windows.T
            scale = np.full((M, NP + 2), 7.0)
            scale[:, :NP] = np.abs(A).astype(np.float64) @ np.abs(windows.T)
            DOT_WINDOWS[block](A, Zf, OW, step, NP, out)
            _check(out, want, scale, f"M={M} NP={NP} K={K}")


@pytest.mark.parametrize("features", ["+avx2,+fma", "+avx2,+fma,+avx512f"])
def test_the_blocks_follow_the_vector_registers_numba_compiles_for(monkeypatch, features):
    """NUMBA_CPU_FEATURES (as numba's config reads it) decides, as it decides the machine code:
    AVX-512's 32 vector registers take the wide blocks, AVX2's 16 the narrow ones."""
    monkeypatch.setattr(gemm.config, "CPU_FEATURES", features)
    assert gemm._vector_registers() == (32 if "avx512f" in features else 16)


def test_the_blocks_in_use_are_those_of_this_machine():
    wide = gemm._vector_registers() >= 32
    assert gemm._dot_rows is (gemm._dot_rows_4x6 if wide else gemm._dot_rows_4x3)
    assert gemm._dot_windows is (gemm._dot_windows_4x4 if wide else gemm._dot_windows_3x4)


# (N, C, OC, H, W, KH, KW, SH, PH): images whose product rows run past one or two tiles of
# 512 columns, so that tile edges fall on real outputs; K = C*KH*KW < 32 takes the planes path.
WIDE = [
    (1, 1, 2, 3, 514, 3, 3, 1, 0),  # one output row of 512 columns: exactly one tile
    (1, 2, 5, 4, 515, 3, 3, 1, 1),  # rows of 517 grid columns: the second tile starts inside
    (2, 1, 3, 5, 300, 2, 3, 2, 1),  # stride 2: two phases, 2 samples interleaved per row
    (1, 3, 4, 2, 1030, 1, 3, 1, 0),  # past two tiles
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", WIDE, ids=lambda c: "x".join(map(str, c)))
def test_conv2d_wider_than_a_tile(fast_backend: FastBackend, case, dtype):
    N, C, OC, H, W, KH, KW, S, P = case
    rng = np.random.default_rng(W)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((OC, C, KH, KW)).astype(dtype)
    b = rng.standard_normal(OC).astype(dtype)
    geom = (S, S, P, P, 1, 1, 1)
    y = R.conv2d_forward(x, w, b, *geom)
    gy = rng.standard_normal(y.shape).astype(dtype)
    fb = fast_backend
    fb.assert_close(fb.run("conv2d_forward", x, w, b, *geom), y, dtype, "forward")
    fb.assert_close(
        fb.run("conv2d_backward_input", gy, w, H, W, *geom),
        R.conv2d_backward_input(gy, w, H, W, *geom),
        dtype,
        "backward_input",
    )
    fb.assert_close(
        fb.run("conv2d_backward_weight", gy, x, KH, KW, *geom),
        R.conv2d_backward_weight(gy, x, KH, KW, *geom),
        dtype,
        "backward_weight",
    )
