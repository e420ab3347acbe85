"""What fit and evaluate must leave as they found it, or carry across a resume, told apart from
what a slip would leave: every generator, the schedule, BatchNorm's statistics and the data
order across a resume; an infinite loss; the model's mode around evaluate.

The network is small on purpose (two batches of 16 an epoch) but holds every kind of state a
step touches: BatchNorm (running statistics), dropout (a seed drawn from minicnn's generator
per call), a shuffling loader with a random crop (the loader's own generator), SGD momentum and
a per-batch schedule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minicnn
import minicnn.training
from minicnn import nn, optim
from minicnn.data import ArrayDataset, DataLoader, MNISTSample
from minicnn.data import transforms as T
from minicnn.training import TrainingDiverged, evaluate, fit

EPOCHS, BATCH, BATCHES = 2, 16, 2


@pytest.fixture(autouse=True)
def _no_curves(monkeypatch):
    """Drawing curves.png takes longer than these runs; it plays no part in what is checked."""
    monkeypatch.setattr(minicnn.training, "_write_curves", lambda *args: None)


def _net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 3, 5, stride=3),  # (N, 3, 8, 8)
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.Flatten(),  # (N, 192)
        nn.Dropout(0.5),
        nn.Linear(192, 10),
    )


def _setup(seed: int):
    """Model, loader, optimizer, schedule; the loader's seed comes from minicnn's generator,
    so a different ``seed`` gives a different data order unless the resume restores it."""
    minicnn.manual_seed(seed)
    model = _net()
    sample = MNISTSample(train=True)
    n = BATCH * BATCHES
    train = ArrayDataset(sample.data[:n], sample.targets[:n])
    loader = DataLoader(train, BATCH, shuffle=True, transform=T.RandomCrop(28, padding=2))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=EPOCHS * BATCHES)
    return model, loader, opt, sched


def _run(folder, seed: int = 0, resume: bool = False, stop: int | None = None) -> dict:
    model, loader, opt, sched = _setup(seed)
    history = fit(
        model,
        loader,
        opt,
        EPOCHS,
        scheduler=sched,
        scheduler_per_batch=True,
        out_dir=folder,
        resume=resume,
        progress=False,
        log=lambda s: None,
        stop_after_batches=stop,
    )
    state = {f"model.{k}": v.numpy().copy() for k, v in model.state_dict().items()}
    for i, s in opt.state_dict()["state"].items():
        state.update({f"opt.{i}.{k}": np.asarray(v) for k, v in s.items()})
    state["lr"] = np.asarray(opt.param_groups[0]["lr"])
    state["losses"] = np.array([r["train_loss"] for r in history.epochs])
    # The generators themselves, as they stand after the run: the next dropout seed and the
    # next epoch's data order come from them.
    state["next_seed"] = np.asarray(minicnn.random.draw_seed())
    state["next_order"] = loader._generator.permutation(len(loader.dataset))
    return state


@pytest.mark.parametrize("stop", [1, 2, 3], ids=["mid-epoch-1", "epoch-boundary", "mid-epoch-2"])
def test_resume_restores_every_generator_across_dropout(tmp_path, stop):
    """Interrupted after ``stop`` batches, resumed with objects built from another seed (other
    weights, another loader seed, another generator state): every number ends as in the run
    that was never interrupted, and so do the generators."""
    with minicnn.use_backend("numpy"):
        want = _run(tmp_path / "whole")
        with pytest.raises(KeyboardInterrupt):
            _run(tmp_path / "cut", stop=stop)
        got = _run(tmp_path / "cut", seed=1, resume=True)
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_dropout_seeds_after_resume_are_those_of_the_uninterrupted_run(tmp_path, monkeypatch):
    """The dropout seeds drawn after a resume are the ones the whole run drew there: without
    minicnn's generator restored, the masks (and so the weights) would differ."""
    draw, drawn = minicnn.random.draw_seed, []

    def recording() -> int:
        drawn.append(draw())
        return drawn[-1]

    monkeypatch.setattr(minicnn.random, "draw_seed", recording)
    with minicnn.use_backend("numpy"):
        _run(tmp_path / "whole")
        whole = drawn[:]
        with pytest.raises(KeyboardInterrupt):
            _run(tmp_path / "cut", stop=3)
        drawn.clear()
        _run(tmp_path / "cut", seed=1, resume=True)
    # Each run draws the loader's seed (discarded on resume), one dropout seed per batch, and
    # the one _run reads at the end; 3 of the 4 batches were done before the interruption.
    assert len(whole) == 1 + EPOCHS * BATCHES + 1 and len(drawn) == 1 + 1 + 1
    assert drawn[1:] == whole[1 + 3 :]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_non_finite_loss_is_divergence(tmp_path, bad):
    """An infinite loss stops training exactly as NaN does, and nothing is written for it."""
    model, loader, opt, _ = _setup(0)

    def loss_fn(output, y):
        return minicnn.cross_entropy(output, y) * bad

    with pytest.raises(TrainingDiverged, match=rf"loss became {bad} at epoch 1, sample 0"):
        fit(model, loader, opt, 1, loss_fn=loss_fn, out_dir=tmp_path, progress=False)
    assert not (tmp_path / "last.ckpt").exists()
    assert not (tmp_path / "metrics.jsonl").exists()


def _eval_loader() -> DataLoader:
    sample = MNISTSample(train=False)
    return DataLoader(ArrayDataset(sample.data[:48], sample.targets[:48]), 16)


def _by_hand(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy in eval mode, step by step."""
    loss, correct, seen = 0.0, 0, 0
    with minicnn.no_grad():
        for x, y in loader:
            logits = model(x)
            loss += float(minicnn.cross_entropy(logits, y, reduction="sum").item())
            correct += int((logits.argmax(1) == y).sum().item())
            seen += len(y)
    return loss / seen, correct / seen


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_scores_in_eval_mode_and_restores_the_mode(training):
    """evaluate scores with dropout off and BatchNorm's running statistics (so twice gives the
    same numbers), leaves those statistics alone, and hands the model back in the mode it had,
    every submodule included."""
    model, loader = _net(), _eval_loader()
    opt = optim.SGD(model.parameters(), lr=0.05)
    fit(model, _setup(0)[1], opt, 1, progress=False, log=lambda s: None)
    model.train(training)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    first = evaluate(model, loader)
    assert [m.training for m in model.modules()] == [training] * len(list(model.modules()))
    second = evaluate(model, loader)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    model.eval()
    loss, accuracy = _by_hand(model, loader)
    assert first["loss"] == second["loss"] == pytest.approx(loss, rel=1e-12)
    assert first["accuracy"] == second["accuracy"] == accuracy
    assert first["samples"] == 48 and first["confusion"].sum() == 48


def test_evaluate_restores_the_mode_when_the_model_fails():
    model = _net()

    def broken(x):
        raise RuntimeError("broken forward")

    model.forward = broken
    with pytest.raises(RuntimeError, match="broken forward"):
        evaluate(model, _eval_loader())
    assert model.training and all(m.training for m in model.modules())


def test_epoch_metrics_weigh_each_batch_by_its_size():
    """The epoch's train loss and accuracy are over samples, not batches: with batches of 16,
    16 and 8 and a learning rate of 0 (the model never changes) they equal the loss and
    accuracy of the whole training set computed at once."""
    minicnn.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
    sample = MNISTSample(train=True)
    train = ArrayDataset(sample.data[:40], sample.targets[:40])
    loader = DataLoader(train, BATCH)
    history = fit(model, loader, optim.SGD(model.parameters(), lr=0.0), 1, progress=False, log=str)
    loss, accuracy = _by_hand(model, DataLoader(train, 40))
    assert history.epochs[0]["train_loss"] == pytest.approx(loss, rel=1e-6)
    assert history.epochs[0]["train_accuracy"] == accuracy
