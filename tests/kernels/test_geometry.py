"""The output-size formula, the one every backend, op and test imports, against counting.

Every other test takes ``geometry.out_size`` on trust, so this one derives the answer without
it: it walks the window starts 0, S, 2S, ... along the padded input and counts those that fit
(floor mode), or that start inside the input or its left padding (ceil mode, PyTorch's rule).
"""

from hypothesis import assume, given
from hypothesis import strategies as st
from minicnn.kernels.geometry import out_size


def count_windows(L: int, K: int, S: int, P: int, D: int, ceil_mode: bool) -> int:
    span = D * (K - 1) + 1
    starts = range(0, L + 2 * P, S)  # window starts in padded coordinates
    if ceil_mode:  # the last window may hang over the end, if it starts before L + P
        return sum(1 for s in starts if s < L + P and s + span - 1 < L + 2 * P + S - 1)
    return sum(1 for s in starts if s + span <= L + 2 * P)


@given(
    st.integers(1, 30),
    st.integers(1, 6),
    st.integers(1, 5),
    st.integers(0, 3),
    st.integers(1, 4),
    st.booleans(),
)
def test_out_size_counts_the_windows(L, K, S, P, D, ceil_mode):
    assume(D * (K - 1) + 1 <= L + 2 * P)  # the kernel fits: the ops reject the rest
    assume(not ceil_mode or P <= K // 2)  # ceil mode is pooling's, whose padding is this small
    assert out_size(L, K, S, P, D, ceil_mode) == count_windows(L, K, S, P, D, ceil_mode)


def test_out_size_known_values():
    assert out_size(32, 3, 1, 1, 1) == 32  # "same" at stride 1
    assert out_size(32, 3, 2, 1, 1) == 16  # ResNet's downsampling conv
    assert out_size(28, 5, 1, 0, 1) == 24  # LeNet-5's first layer
    assert out_size(5, 2, 2, 0, 1) == 2 and out_size(5, 2, 2, 0, 1, ceil_mode=True) == 3
    # ceil mode never adds a window that would start in the right padding (PyTorch's rule)
    assert out_size(4, 2, 2, 1, 1, ceil_mode=True) == 3
