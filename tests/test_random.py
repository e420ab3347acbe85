"""minicnn.random: manual_seed reproducibility, different seeds, rng state round trips."""

import pickle

import numpy as np
import pytest

import minicnn
from minicnn import random as mrandom


@pytest.mark.parametrize("factory", [minicnn.randn, minicnn.rand])
def test_manual_seed_makes_draws_reproducible(backend_name, factory):
    minicnn.manual_seed(123)
    a = factory(3, 4)
    b = factory(3, 4)
    minicnn.manual_seed(123)
    c = factory(3, 4)
    d = factory(3, 4)
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    np.testing.assert_array_equal(b.numpy(), d.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())  # the stream moves on


@pytest.mark.parametrize("factory", [minicnn.randn, minicnn.rand])
def test_different_seeds_give_different_draws(backend_name, factory):
    minicnn.manual_seed(1)
    a = factory(16)
    minicnn.manual_seed(2)
    b = factory(16)
    assert not np.array_equal(a.numpy(), b.numpy())


def test_host_backends_share_one_stream():
    minicnn.manual_seed(7)
    a = minicnn.randn(5, backend="numpy")
    minicnn.manual_seed(7)
    b = minicnn.randn(5, backend="numba")
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_rng_state_round_trips_on_host_backends(name):
    # the GPU stream is re-seeded, not restored, by set_rng_state (see minicnn.random)
    with minicnn.use_backend(name):
        minicnn.manual_seed(5)
        minicnn.randn(3)
        state = minicnn.get_rng_state()
        a = minicnn.randn(4)
        r = minicnn.rand(2)
        minicnn.randn(10)  # move the stream on
        minicnn.set_rng_state(state)
        np.testing.assert_array_equal(minicnn.randn(4).numpy(), a.numpy())
        np.testing.assert_array_equal(minicnn.rand(2).numpy(), r.numpy())


def test_rng_state_is_a_snapshot_and_picklable():
    minicnn.manual_seed(9)
    state = minicnn.get_rng_state()
    minicnn.randn(3)
    restored = pickle.loads(pickle.dumps(state))
    minicnn.set_rng_state(restored)
    first = minicnn.randn(3).numpy()
    minicnn.set_rng_state(state)  # not changed by the draws since
    np.testing.assert_array_equal(minicnn.randn(3).numpy(), first)


def test_draw_seed_is_reproducible_and_in_range():
    minicnn.manual_seed(11)
    seeds = [mrandom.draw_seed() for _ in range(3)]
    minicnn.manual_seed(11)
    assert [mrandom.draw_seed() for _ in range(3)] == seeds
    assert all(0 <= s < 2**63 for s in seeds) and len(set(seeds)) == 3


def test_sample_statistics(backend_name):
    minicnn.manual_seed(0)
    n = minicnn.randn(20000, dtype="float64").numpy()
    u = minicnn.rand(20000, dtype="float64").numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_manual_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match=f"seed: expected a non-negative int, got {bad!r}"):
        minicnn.manual_seed(bad)


def test_manual_seed_accepts_numpy_ints():
    minicnn.manual_seed(np.int64(3))
    a = minicnn.randn(2)
    minicnn.manual_seed(3)
    np.testing.assert_array_equal(minicnn.randn(2).numpy(), a.numpy())
