"""Sliding-window geometry, written once for every backend, the ops and the tests.

Output size. Along the height, the input is zero-padded by PH rows on each side, so the padded
input has H + 2*PH rows. A kernel of KH taps dilated by DH has its taps DH rows apart, so it
spans DH*(KH-1) + 1 rows. A window starting at padded row s fits when
s + DH*(KH-1) <= H + 2*PH - 1, so the valid starts are 0 .. H + 2*PH - DH*(KH-1) - 1. Starts
are SH apart (0, SH, 2*SH, ...), and the number of multiples of SH in 0 .. R is floor(R/SH) + 1:

    OH = floor((H + 2*PH - DH*(KH-1) - 1) / SH) + 1

and the same for the width. Output row oh, kernel row kh reads input row
h = oh*SH - PH + kh*DH; rows outside 0 .. H-1 are padding.

Pooling may round up instead (``ceil_mode``): one more window that hangs over the bottom edge,
kept only if it starts inside the input or its top padding (PyTorch's rule), so that no window
lies wholly in the padding past the end.
"""


def out_size(L: int, K: int, S: int, P: int, D: int, ceil_mode: bool = False) -> int:
    """Output length along one axis: floor((L + 2P - D(K-1) - 1) / S) + 1, or ceil.

    Assumes the dilated kernel fits the padded input (D(K-1) + 1 <= L + 2P); the ops check it.
    """
    room = L + 2 * P - D * (K - 1) - 1  # the last valid window start
    out = (room + (S - 1 if ceil_mode else 0)) // S + 1
    if ceil_mode and (out - 1) * S >= L + P:  # the extra window would start past the input
        out -= 1
    return out
