"""minicnn.utils.data: datasets, random_split, samplers, default_collate and the DataLoader
(PyTorch's arguments, in-process workers, exact resume with per-item random transforms)."""

import numpy as np
import pytest

import minicnn
from minicnn.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)
from minicnn.vision import transforms as T


def xy(n=10):
    return TensorDataset(minicnn.arange(2.0 * n).reshape(n, 2), minicnn.arange(n))


class Squares(Dataset):
    """A dataset of (array image, int label) pairs, through __getitem__ only."""

    def __init__(self, n=12, transform=None):
        self.n, self.transform = n, transform

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        img = np.full((4, 4), i, dtype=np.uint8)
        return (self.transform(img) if self.transform else img), i


def test_datasets():
    ds = xy()
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and len(ds) == 10
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3 and sub[0][1].item() == 9
    both = ds + Squares(3)
    assert isinstance(both, ConcatDataset) and len(both) == 13
    assert both[11][1] == 1 and both[-1][1] == 2
    with pytest.raises(ValueError, match="size mismatch between tensors"):
        TensorDataset(minicnn.zeros(3), minicnn.zeros(4))


def test_random_split_by_counts_and_fractions():
    a, b = random_split(range(10), [7, 3], generator=minicnn.Generator().manual_seed(1))
    assert len(a) == 7 and len(b) == 3 and sorted(a.indices + b.indices) == list(range(10))
    c, d = random_split(range(10), [7, 3], generator=minicnn.Generator().manual_seed(1))
    assert c.indices == a.indices  # the same seed, the same split
    parts = random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]  # remainder first
    with pytest.raises(ValueError, match=r"sum of input lengths \(9\) does not equal"):
        random_split(range(10), [5, 4])


def test_samplers():
    g = minicnn.Generator().manual_seed(0)
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    perm = list(RandomSampler(range(6), generator=g))
    assert sorted(perm) == list(range(6))
    assert len(list(RandomSampler(range(3), replacement=True, num_samples=7))) == 7
    assert sorted(SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0], 5))
    assert w == [1] * 5
    batches = list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=False))
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2


def test_default_collate_follows_pytorch():
    batch = default_collate(
        [(np.zeros((2, 2), np.uint8), 1, 0.5, "a"), (np.ones((2, 2), np.uint8), 2, 1.5, "b")]
    )
    images, labels, floats, names = batch
    assert images.shape == (2, 2, 2) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and floats.dtype == np.float64 and names == ["a", "b"]
    d = default_collate([{"x": minicnn.zeros(3), "y": 1}, {"x": minicnn.ones(3), "y": 0}])
    assert d["x"].shape == (2, 3) and d["y"].tolist() == [1, 0]
    with pytest.raises(TypeError, match="a PIL image"):
        default_collate([object(), object()])


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_batches(num_workers):
    loader = DataLoader(xy(), batch_size=4, shuffle=True, num_workers=num_workers, pin_memory=True)
    assert len(loader) == 3
    seen = []
    for x, y in loader:
        assert x.shape[1:] == (2,) and x.shape[0] == y.shape[0]
        np.testing.assert_array_equal(x.numpy()[:, 0], 2 * y.numpy())  # rows stay paired
        seen += y.tolist()
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    assert [y.tolist() for _, y in DataLoader(xy(), batch_size=4, drop_last=True)] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
    ]


def test_workers_do_not_change_the_batches():
    kw = dict(batch_size=5, shuffle=True, seed=7)
    t = T.Compose([T.RandomCrop(3, padding=1), T.ToTensor()])
    a = [x.numpy() for x, _ in DataLoader(Squares(transform=t), num_workers=0, **kw)]
    b = [
        x.numpy()
        for x, _ in DataLoader(Squares(transform=t), num_workers=3, persistent_workers=True, **kw)
    ]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_sampler_collate_and_batch_sampler_options():
    loader = DataLoader(xy(), batch_size=2, sampler=SubsetRandomSampler([1, 3, 5]))
    assert sorted(i for _, y in loader for i in y.tolist()) == [1, 3, 5]
    loader = DataLoader(
        xy(), batch_sampler=[[0, 9], [4]], collate_fn=lambda items: [int(y) for _, y in items]
    )
    assert list(loader) == [[0, 9], [4]] and len(loader) == 2
    single = list(DataLoader(Squares(3), batch_size=None))
    assert single[2][1] == 2 and isinstance(single[2][0], minicnn.Tensor)
    assert single[2][0].shape == (4, 4)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(xy(), sampler=SequentialSampler(range(10)), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(xy(), batch_size=4, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="num_workers: expected a non-negative int"):
        DataLoader(xy(), num_workers=-1)


def test_iterable_dataset_is_batched_in_order():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_resume_mid_epoch_repeats_order_and_augmentation(num_workers):
    t = T.Compose([T.RandomCrop(4, padding=2), T.RandomHorizontalFlip(), T.ToTensor()])

    def loader(seed):
        return DataLoader(
            Squares(transform=t), batch_size=3, shuffle=True, seed=seed, num_workers=num_workers
        )

    full = loader(5)
    epoch1 = [(x.numpy(), y.tolist()) for x, y in full]
    epoch2 = [(x.numpy(), y.tolist()) for x, y in full]
    assert [y for _, y in epoch1] != [y for _, y in epoch2]  # a new order each epoch
    run = loader(5)
    next(iter(run))
    it = iter(run)
    first = next(it)
    state = run.state_dict()  # one batch of epoch 2 delivered
    resumed = loader(123)
    resumed.load_state_dict(state)
    rest = [(x.numpy(), y.tolist()) for x, y in resumed]
    assert [y for _, y in rest] == [y for _, y in epoch2[1:]]
    for (a, _), (b, _) in zip(rest, epoch2[1:]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[0].numpy(), epoch2[0][0])
