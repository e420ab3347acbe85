"""``torch.backends.mps``: Apple's Metal GPUs. minicnn has no Metal backend."""


def is_available() -> bool:
    """False: minicnn has no Metal backend ("cpu" and "cuda" are its devices)."""
    return False


def is_built() -> bool:
    """False: minicnn has no Metal backend."""
    return False
