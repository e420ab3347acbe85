"""``minicnn.utils.data``, as ``torch.utils.data``: datasets, samplers and the DataLoader.

    from minicnn.utils.data import DataLoader, TensorDataset, random_split

    train, val = random_split(TensorDataset(x, y), [0.8, 0.2])
    loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=2)

The DataLoader is minicnn's (:class:`minicnn.data.DataLoader`: exact resume with
``state_dict()``) with PyTorch's arguments; its workers run in the calling process (see
:mod:`minicnn.utils.data.dataloader`).
"""

from minicnn.utils.data.dataloader import DataLoader, default_collate
from minicnn.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from minicnn.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "random_split",
]
