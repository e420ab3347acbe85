"""Numbered variants of the Numba conv2d forward pass, from the definition to the kernel in use.

Each module exposes ``conv2d_forward(x, w, b, SH, SW, PH, PW, DH, DW, G)`` with the kernel
contract's meaning and a docstring saying what it teaches and why it wins or loses.
``python -m benchmarks.conv_variants`` checks every variant against the NumPy reference, then
times the ones that pass on the ResNet-20 and LeNet-5 layer shapes. v1 is the Numba direct twin;
the run also times every direction of the twin against the fast kernel it stands beside
(forward, backward-input, backward-weight), so what the readable version costs is measured.
"""

VARIANTS = (
    "v1_direct",
    "v2_im2col_matmul",
    "v3_blocked_im2col_gemm",
    "v4_implicit_planes",
    "v5_windows_dot",
)
