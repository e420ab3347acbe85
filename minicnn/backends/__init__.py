"""``minicnn.backends``, as ``torch.backends``: ``cudnn`` and ``mps`` flags that PyTorch
scripts read and set. (minicnn's own backend switch is :mod:`minicnn.backend`.)"""

from minicnn.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
