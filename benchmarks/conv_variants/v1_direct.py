"""v1: the definition as loops, one `prange` iteration per (sample, output channel) plane.

    y[n, o, oh, ow] = b[o] + sum over c, kh, kw of
                      w[o, c, kh, kw] * x[n, g*Cg + c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW]

This is the Numba direct twin, ``minicnn.kernels.numba_cpu.direct.conv2d_forward_direct``.
What it teaches: the whole convolution in ten lines, with the bounds test that stands for zero
padding; every later variant must agree with it. Why it loses (20-80x slower than v5): the
innermost loop runs over the KW = 3 taps of one kernel row, too short for LLVM to vectorise,
and every multiply-add needs a bounds test and a scattered load; the arithmetic units sit idle
while the loop counters and address computations run.
"""

from minicnn.kernels.numba_cpu.direct import conv2d_forward_direct as conv2d_forward

__all__ = ["conv2d_forward"]
