"""``torch.backends.cudnn``'s flags, which scripts set and read. minicnn has no cuDNN: its GPU
convolutions are its own CUDA kernels, so setting these changes nothing.

``benchmark`` would let cuDNN time several algorithms and keep the fastest; minicnn has one
kernel per op. ``deterministic`` would forbid non-deterministic algorithms; minicnn's kernels
are deterministic already (they gather instead of adding with atomics), so its results are
reproducible whatever this flag says. ``is_available()`` is False.
"""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = False


def is_available() -> bool:
    """False: minicnn does not use cuDNN."""
    return False


def version() -> None:
    """None: minicnn does not use cuDNN."""
    return None
