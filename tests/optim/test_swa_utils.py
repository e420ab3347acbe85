"""Weight averaging: the running mean and EMA against their formulas, update_bn against the data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
import minicnn.nn as nn
from minicnn.optim.swa_utils import AveragedModel, get_ema_avg_fn, update_bn
from tests.conftest import to_numpy


def small_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten())


def snapshots(model: nn.Module, rng: np.random.Generator, k: int) -> list[list[np.ndarray]]:
    """Give ``model`` k random weight sets in turn; return them (as the averaging saw them)."""
    seen = []
    for _ in range(k):
        for p in model.parameters():
            p.array[...] = rng.standard_normal(p.shape)
        seen.append([to_numpy(p).copy() for p in model.parameters()])
    return seen


@given(k=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_the_average_is_the_mean_of_every_snapshot(k, seed):
    rng = np.random.default_rng(seed)
    model = small_net()
    averaged = AveragedModel(model)
    weights = []
    for w in snapshots(model, rng, k):
        weights.append(w)
        for p, value in zip(model.parameters(), w):
            p.array[...] = value
        averaged.update_parameters(model)
    for i, p in enumerate(averaged.module.parameters()):
        expected = np.mean([w[i] for w in weights], axis=0)
        np.testing.assert_allclose(to_numpy(p), expected, rtol=1e-5, atol=1e-6)
    assert int(averaged.n_averaged.item()) == k


def test_ema_follows_its_formula_and_the_first_update_copies():
    model = nn.Linear(3, 2)
    averaged = AveragedModel(model, avg_fn=get_ema_avg_fn(0.9))
    rng = np.random.default_rng(0)
    expected = None
    for _ in range(4):
        for p in model.parameters():
            p.array[...] = rng.standard_normal(p.shape)
        current = to_numpy(model.weight).copy()
        expected = current if expected is None else 0.9 * expected + 0.1 * current
        averaged.update_parameters(model)
        np.testing.assert_allclose(to_numpy(averaged.module.weight), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="decay"):
        get_ema_avg_fn(1.5)


def test_buffers_are_copied_unless_averaged():
    model = small_net()
    bn = model[1]
    copied, averaged_buffers = AveragedModel(model), AveragedModel(model, use_buffers=True)
    for value in (1.0, 3.0):
        bn.running_mean.array[...] = value
        copied.update_parameters(model)
        averaged_buffers.update_parameters(model)
    np.testing.assert_array_equal(to_numpy(copied.module[1].running_mean), 3.0)
    np.testing.assert_array_equal(to_numpy(averaged_buffers.module[1].running_mean), 2.0)


def test_update_bn_measures_the_statistics_of_the_data(backend_name):
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((4, 2, 5, 5)) * 3 + 1 for _ in range(5)]
    model = small_net().to(backend_name).double()
    bn = model[1]
    bn.running_mean.array[...] = 123.0  # stale statistics, to be replaced, not blended
    model.eval()
    loader = [(minicnn.tensor(b, backend=backend_name), None) for b in batches]
    update_bn(loader, model)
    with minicnn.no_grad():
        feats = [to_numpy(model[0](minicnn.tensor(b, backend=backend_name))) for b in batches]
    mean = np.mean([f.mean(axis=(0, 2, 3)) for f in feats], axis=0)
    var = np.mean([f.var(axis=(0, 2, 3), ddof=1) for f in feats], axis=0)
    np.testing.assert_allclose(to_numpy(bn.running_mean), mean, rtol=1e-10)
    np.testing.assert_allclose(to_numpy(bn.running_var), var, rtol=1e-10)
    assert bn.momentum == 0.1 and not model.training  # restored


def test_update_bn_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa

    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((3, 2, 4, 4)) for _ in range(3)]
    ours = small_net().double()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU()
    ).double()
    with torch.no_grad():
        theirs[0].weight.copy_(torch.from_numpy(to_numpy(ours[0].weight)))
        theirs[0].bias.copy_(torch.from_numpy(to_numpy(ours[0].bias)))
    update_bn([minicnn.tensor(b) for b in batches], ours)
    tswa.update_bn([torch.from_numpy(b) for b in batches], theirs)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(
            to_numpy(getattr(ours[1], name)), getattr(theirs[1], name).numpy(), rtol=1e-10
        )


def test_a_different_architecture_is_refused_and_state_dict_round_trips():
    averaged = AveragedModel(small_net())
    with pytest.raises(ValueError, match="model: expected the architecture"):
        averaged.update_parameters(nn.Sequential(nn.Linear(2, 3)))
    with pytest.raises(TypeError, match="model: expected a minicnn.nn.Module"):
        AveragedModel("not a model")
    averaged.update_parameters(averaged.module)
    restored = AveragedModel(small_net())
    restored.load_state_dict(averaged.state_dict())
    assert int(restored.n_averaged.item()) == 1
    for a, b in zip(averaged.parameters(), restored.parameters()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
