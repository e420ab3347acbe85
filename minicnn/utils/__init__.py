"""``minicnn.utils``, as ``torch.utils``: ``data`` (datasets, samplers, DataLoader)."""

from minicnn.utils import data

__all__ = ["data"]
