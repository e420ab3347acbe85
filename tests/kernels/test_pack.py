"""The copies of pack.py that are not checked through a convolution's result alone: the
transpose, whose two loops (more channels than columns, or fewer) each leave some channels or
columns to a loop of their own, and which may write into rows with a stride."""

from __future__ import annotations

import numpy as np
import pytest

pack = pytest.importorskip("minicnn.kernels.numba_cpu.pack")

SIDES = (1, 3, 4, 5, 8, 9, 16, 17)  # around blocks of 4, on both sides of C == W


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transpose_for_every_pair_of_sides(dtype):
    rng = np.random.default_rng(0)
    for C in SIDES:
        for W in SIDES:
            a = rng.standard_normal((C, W)).astype(dtype)
            out = np.full((W, C + 3), 7.0, dtype)  # rows with a stride; 3 columns stay put
            pack._transpose(a, out[:, :C])
            np.testing.assert_array_equal(out[:, :C], a.T, err_msg=f"C={C} W={W}")
            assert np.all(out[:, C:] == 7.0), f"C={C} W={W}: wrote past its rows"
