"""DataLoader: batches on every backend, shuffling, resume from state_dict, prefetching."""

from __future__ import annotations

import os
import pickle
import threading

import numpy as np
import pytest

import minicnn
from minicnn.data import ArrayDataset, Compose, DataLoader, RandomCrop, RandomHorizontalFlip
from tests.conftest import to_numpy


def numbered(N: int = 10, C: int = 1, H: int = 4, W: int = 4) -> ArrayDataset:
    """Image i is filled with the value i, label i % 3: a batch tells which samples it holds."""
    data = np.broadcast_to(np.arange(N, dtype=np.uint8)[:, None, None, None], (N, C, H, W))
    return ArrayDataset(data.copy(), np.arange(N) % 3)


def ids(images) -> list[int]:
    """The sample ids of a batch of ``numbered`` images (undoing the /255 scaling)."""
    return np.rint(to_numpy(images)[:, 0, 0, 0] * 255).astype(int).tolist()


def epoch_ids(loader) -> list[int]:
    return [i for x, _ in loader for i in ids(x)]


def as_arrays(batches) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(to_numpy(x), to_numpy(y)) for x, y in batches]


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


class AddNoise:
    """A batch transform that uses its generator for every element: any rng drift shows."""

    def __call__(self, x, rng):
        return x + rng.standard_normal(x.shape).astype(x.dtype)


def test_batches_have_the_right_shapes_dtypes_and_backend(backend_name):
    ds = numbered(N=10, C=3, H=5, W=6)
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [x.shape for x, _ in batches] == [(4, 3, 5, 6), (4, 3, 5, 6), (2, 3, 5, 6)]
    for x, y in batches:
        assert isinstance(x, minicnn.Tensor) and isinstance(y, minicnn.Tensor)
        assert x.backend == y.backend == backend_name
        assert x.dtype == minicnn.float32 and y.dtype == minicnn.int64
        assert not x.requires_grad
    x, y = batches[0]
    expected = np.arange(4, dtype=np.float32)[:, None, None, None] / np.float32(255)
    np.testing.assert_array_equal(to_numpy(x), np.broadcast_to(expected, (4, 3, 5, 6)))
    assert to_numpy(y).tolist() == [0, 1, 2, 0]


def test_pixels_are_scaled_to_the_unit_interval():
    data = np.array([0, 1, 128, 255], np.uint8).reshape(1, 1, 2, 2)
    ((x, _),) = DataLoader(ArrayDataset(data, np.array([0])))
    np.testing.assert_array_equal(x.numpy().ravel(), np.array([0, 1, 128, 255], np.float32) / 255)
    ((x64, _),) = DataLoader(ArrayDataset(data, np.array([0])), dtype="float64")
    assert x64.dtype == minicnn.float64 and x64.numpy().max() == 1.0


def test_backend_argument_overrides_the_current_backend():
    if minicnn.unavailable_reason("numba") is not None:
        pytest.skip("numba backend unavailable")
    with minicnn.use_backend("numpy"):
        x, y = next(iter(DataLoader(numbered(), batch_size=2, backend="numba")))
    assert x.backend == y.backend == "numba"


def test_drop_last():
    ds = numbered(10)
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 2
    assert [x.shape[0] for x, _ in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(ds, batch_size=11, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=11, drop_last=True)) == []


def test_without_shuffle_the_order_is_the_dataset_order():
    assert epoch_ids(DataLoader(numbered(10), batch_size=3)) == list(range(10))


def test_shuffle_is_a_permutation_fixed_by_the_seed():
    a = epoch_ids(DataLoader(numbered(50), batch_size=8, shuffle=True, seed=1))
    b = epoch_ids(DataLoader(numbered(50), batch_size=8, shuffle=True, seed=1))
    c = epoch_ids(DataLoader(numbered(50), batch_size=8, shuffle=True, seed=2))
    assert sorted(a) == list(range(50))
    assert a == b and a != c and a != list(range(50))


def test_each_epoch_is_reshuffled_reproducibly():
    loader = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=3)
    epochs = [epoch_ids(loader) for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2]
    again = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=3)
    assert [epoch_ids(again) for _ in range(3)] == epochs


def test_default_seed_comes_from_minicnn_manual_seed():
    minicnn.manual_seed(11)
    a = epoch_ids(DataLoader(numbered(30), batch_size=7, shuffle=True))
    minicnn.manual_seed(11)
    b = epoch_ids(DataLoader(numbered(30), batch_size=7, shuffle=True))
    assert a == b


def test_transform_gets_a_seeded_generator_per_batch():
    seen = []

    def record(x, rng):
        assert isinstance(rng, np.random.Generator)
        seen.append(rng.integers(0, 2**62))
        return x

    loader = DataLoader(numbered(8), batch_size=2, transform=record, seed=0)
    list(loader)
    assert len(set(seen)) == 4  # a different stream for every batch
    first_epoch, seen[:] = list(seen), []
    list(loader)
    assert set(seen).isdisjoint(first_epoch)  # and for every epoch
    seen[:] = []
    list(DataLoader(numbered(8), batch_size=2, transform=record, seed=0))
    assert seen == first_epoch


@pytest.mark.parametrize("prefetch", [0, 2])
def test_state_dict_resume_reproduces_the_remaining_batches(prefetch):
    def make(seed):
        t = Compose([RandomCrop(4, padding=1), RandomHorizontalFlip(), AddNoise()])
        return DataLoader(
            numbered(23), batch_size=4, shuffle=True, seed=seed, transform=t, prefetch=prefetch
        )

    loader = make(seed=5)
    list(loader)  # epoch 0
    it = iter(loader)
    head = [next(it) for _ in range(3)]  # 3 of epoch 1's 6 batches
    state = pickle.loads(pickle.dumps(loader.state_dict()))
    assert (state["epoch"], state["batch"]) == (1, 3)
    reference = as_arrays(it) + as_arrays(loader)  # the rest of epoch 1, then epoch 2

    resumed = make(seed=99)  # the saved state wins over the new seed
    resumed.load_state_dict(state)
    assert_same_batches(as_arrays(resumed) + as_arrays(resumed), reference)
    assert len(head) == 3


def test_state_dict_at_an_epoch_boundary():
    loader = DataLoader(numbered(20), batch_size=6, shuffle=True, seed=8, transform=AddNoise())
    list(loader)
    state = loader.state_dict()
    assert (state["epoch"], state["batch"]) == (1, 0)
    reference = as_arrays(loader)
    resumed = DataLoader(numbered(20), batch_size=6, shuffle=True, seed=0, transform=AddNoise())
    resumed.load_state_dict(state)
    assert_same_batches(as_arrays(resumed), reference)


def test_state_dict_after_the_last_batch_points_to_the_next_epoch():
    loader = DataLoader(numbered(8), batch_size=4, shuffle=True, seed=4)
    it = iter(loader)
    next(it), next(it)  # every batch delivered, the loop not yet told
    state = loader.state_dict()
    assert (state["epoch"], state["batch"]) == (1, 0)
    expected = epoch_ids(loader)
    resumed = DataLoader(numbered(8), batch_size=4, shuffle=True)
    resumed.load_state_dict(state)
    assert epoch_ids(resumed) == expected


def test_load_state_dict_refuses_a_different_configuration():
    state = DataLoader(numbered(10), batch_size=4, shuffle=True, seed=0).state_dict()
    with pytest.raises(ValueError, match="batch_size=4 but this loader has batch_size=5"):
        DataLoader(numbered(10), batch_size=5, shuffle=True).load_state_dict(state)
    with pytest.raises(ValueError, match="num_samples"):
        DataLoader(numbered(11), batch_size=4, shuffle=True).load_state_dict(state)


def test_prefetch_gives_the_same_batches():
    t = Compose([RandomCrop(4, padding=2), RandomHorizontalFlip(), AddNoise()])
    plain = DataLoader(numbered(37), batch_size=5, shuffle=True, seed=2, transform=t)
    ahead = DataLoader(numbered(37), batch_size=5, shuffle=True, seed=2, transform=t, prefetch=3)
    for _ in range(2):
        assert_same_batches(as_arrays(ahead), as_arrays(plain))


class Failing:
    """A dataset without arrays (the per-sample path) whose sample ``bad`` cannot be read."""

    def __init__(self, N: int, bad: int) -> None:
        self.N, self.bad = N, bad

    def __len__(self) -> int:
        return self.N

    def __getitem__(self, i: int):
        if i == self.bad:
            raise KeyError(f"sample {i} is unreadable")
        return np.full((1, 2, 2), i, np.uint8), i % 2


@pytest.mark.parametrize("prefetch", [0, 1, 3])
def test_errors_reach_the_consumer(prefetch):
    loader = DataLoader(Failing(10, bad=7), batch_size=2, prefetch=prefetch)
    got = []
    with pytest.raises(KeyError, match="sample 7 is unreadable"):
        for x, _ in loader:
            got.append(ids(x))
    assert got == [[0, 1], [2, 3], [4, 5]]  # the batches before the failure arrive first
    assert not _prefetch_threads()


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "minicnn-prefetch" and t.is_alive()]


def test_abandoned_prefetch_stops_its_thread():
    loader = DataLoader(numbered(100), batch_size=1, prefetch=2)
    for _ in loader:
        assert len(_prefetch_threads()) == 1
        break
    assert not _prefetch_threads()
    it = iter(loader)
    next(it)
    it.close()
    assert not _prefetch_threads()


def test_datasets_without_arrays_give_the_same_batches():
    ds = numbered(9, C=2)

    class Plain:
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return ds[i]

    fast = as_arrays(DataLoader(ds, batch_size=4, shuffle=True, seed=1))
    slow = as_arrays(DataLoader(Plain(), batch_size=4, shuffle=True, seed=1))
    assert_same_batches(fast, slow)


def test_a_per_image_dataset_transform_is_honoured():
    ds = numbered(6)
    ds.transform = lambda image: image.astype(np.float32) * 2  # no longer uint8: not rescaled
    x, _ = next(iter(DataLoader(ds, batch_size=3)))
    assert x.numpy()[:, 0, 0, 0].tolist() == [0.0, 2.0, 4.0]


def test_arguments_are_validated():
    ds = numbered(4)
    for kwargs, match in [
        ({"batch_size": 0}, "batch_size"),
        ({"prefetch": -1}, "prefetch"),
        ({"seed": -3}, "seed"),
        ({"dtype": "int64"}, "floating-point"),
        ({"backend": "tpu"}, "backend"),
    ]:
        with pytest.raises(ValueError, match=match):
            DataLoader(ds, **kwargs)
    with pytest.raises(TypeError, match="transform"):
        DataLoader(ds, transform=3)
    with pytest.raises(TypeError, match="dataset"):
        DataLoader(5)
    assert "DataLoader(ArrayDataset, batch_size=1" in repr(DataLoader(ds, seed=0))


def test_an_iterator_made_and_dropped_draws_nothing():
    """iter() alone starts no epoch: a progress bar that calls it and drops the result (tqdm
    does, in its constructor) leaves the order, the epoch count and a resume position as
    they were."""
    t = Compose([RandomCrop(4, padding=1), AddNoise()])

    def make():
        return DataLoader(numbered(23), batch_size=4, shuffle=True, seed=5, transform=t)

    plain, probed = make(), make()
    for _ in range(3):
        for _ in range(2):
            iter(probed)  # made and dropped
        assert_same_batches(as_arrays(probed), as_arrays(plain))
    assert probed.state_dict() == plain.state_dict()

    source = make()
    it = iter(source)
    next(it), next(it)
    state = source.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    iter(resumed)  # must not spend the resume position
    assert resumed.state_dict()["batch"] == 2
    assert_same_batches(as_arrays(resumed), as_arrays(it))


def test_a_tqdm_wrapped_loader_gives_the_same_batches():
    tqdm = pytest.importorskip("tqdm.auto").tqdm  # its constructor calls iter() once more
    plain = DataLoader(numbered(20), batch_size=3, shuffle=True, seed=1, transform=AddNoise())
    wrapped = DataLoader(numbered(20), batch_size=3, shuffle=True, seed=1, transform=AddNoise())
    with open(os.devnull, "w") as sink:
        for _ in range(2):
            assert_same_batches(as_arrays(tqdm(wrapped, file=sink)), as_arrays(plain))
