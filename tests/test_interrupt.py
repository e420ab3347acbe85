"""An interruption at any point of a training step, then resume: the same numbers, bit for bit.

A small network with every kind of state a step touches (BatchNorm's running statistics,
dropout seeds drawn from minicnn's generator, random crops drawn from the loader's, momentum,
a per-batch one-cycle schedule) is trained for 2 epochs of 3 batches. Each case interrupts one
phase of one step, either by raising KeyboardInterrupt there or by sending the process a real
SIGINT there, resumes from the checkpoint with freshly built (differently initialised)
objects, and must end exactly where the uninterrupted run ends.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import minicnn
import minicnn.checkpoint
import minicnn.training
from minicnn import nn, optim
from minicnn.autograd import Function
from minicnn.data import ArrayDataset, DataLoader, MNISTSample
from minicnn.data import transforms as T
from minicnn.training import fit

BATCHES, EPOCHS = 3, 2
_armed: dict[str, Trigger] = {}


@pytest.fixture(autouse=True)
def _sigint_raises():
    """Python's own SIGINT handler, whatever this process inherited: a process started in the
    background by a shell begins with SIGINT ignored, and a real signal would do nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(autouse=True)
def _no_curves(monkeypatch):
    """Drawing curves.png takes longer than these runs; it plays no part in resuming."""
    monkeypatch.setattr(minicnn.training, "_write_curves", lambda *args: None)


class Trigger:
    """Interrupts at the ``at``-th call (from 1) of ``fire()``: ``how="raise"`` raises
    KeyboardInterrupt there; ``how="signal"`` sends this process a SIGINT, whose handler runs
    right there, as a Ctrl-C would."""

    def __init__(self, how: str, at: int) -> None:
        self.how, self.at, self.calls = how, at, 0

    def fire(self) -> None:
        self.calls += 1
        if self.calls == self.at:
            if self.how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)


def fire(phase: str) -> None:
    if phase in _armed:
        _armed[phase].fire()


class Tap(Function):
    """The identity, whose backward is a place to interrupt."""

    def forward(self, x):
        return x

    def backward(self, gy):
        fire("backward")
        return gy


class Probe(nn.Module):
    """The identity, whose forward (training: after BatchNorm and dropout ran; evaluation) and
    backward are places to interrupt."""

    def forward(self, x):
        fire("forward" if self.training else "evaluate")
        return Tap.apply(x)


def crop_then(x, rng):
    fire("load")
    return T.RandomCrop(28, padding=2)(x, rng)


def setup(seed: int, prefetch: int = 0):
    minicnn.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),  # (N, 4, 26, 26)
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 4, 13, 13)
        nn.Flatten(),
        nn.Dropout(0.3),
        Probe(),
        nn.Linear(4 * 13 * 13, 10),
    )
    sample = MNISTSample(train=True)
    train = ArrayDataset(sample.data[: 32 * BATCHES], sample.targets[: 32 * BATCHES])
    loader = DataLoader(train, 32, shuffle=True, seed=7, transform=crop_then, prefetch=prefetch)
    test = MNISTSample(train=False)
    test_loader = DataLoader(ArrayDataset(test.data[:64], test.targets[:64]), 32)
    # One kernel call per parameter (not foreach), so that a step can stop half way through.
    opt = optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True, foreach=False
    )
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=EPOCHS * BATCHES)
    original_update = opt._update

    def update(*args):
        fire("step")
        return original_update(*args)

    opt._update = update
    return model, loader, opt, sched, test_loader


def run(folder, seed: int = 0, resume: bool = False, prefetch: int = 0, progress: bool = False):
    model, loader, opt, sched, test_loader = setup(seed, prefetch)
    history = fit(
        model,
        loader,
        opt,
        EPOCHS,
        test_loader=test_loader,
        scheduler=sched,
        scheduler_per_batch=True,
        out_dir=folder,
        resume=resume,
        progress=progress,
        log=lambda s: None,
    )
    return final_state(model, opt, history)


def final_state(model, opt, history) -> dict:
    state = {f"model.{k}": v.numpy().copy() for k, v in model.state_dict().items()}
    for i, s in opt.state_dict()["state"].items():
        state.update({f"opt.{i}.{k}": np.asarray(v) for k, v in s.items()})
    for r in history.epochs:
        for k, v in r.items():
            if k not in ("seconds", "images_per_s"):
                state[f"epoch{r['epoch']}.{k}"] = np.asarray(v)
    return state


def assert_identical(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for k in want:
        assert got[k].dtype == want[k].dtype, k
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


_reference: dict[str, dict] = {}


def reference(backend_name: str, tmp_path_factory) -> dict:
    if backend_name not in _reference:
        _reference[backend_name] = run(tmp_path_factory.mktemp("reference"))
    return _reference[backend_name]


# (phase, call at which to interrupt): the first batch of epoch 2 (loading starts its epoch),
# a batch of epoch 1 (no checkpoint on disk yet), the middle of an optimizer step (its 2nd of 6
# parameter updates), the first test batch of an evaluation, the first and the last
# epoch-end checkpoint write.
CASES = [
    ("load", 4),
    ("load", 5),
    ("forward", 2),
    ("forward", 5),
    ("backward", 5),
    ("step", 6 + 2),
    ("step", 6 * 4 + 2),
    ("evaluate", 1),
    ("checkpoint", 1),
    ("checkpoint", 2),
]


@pytest.mark.parametrize("how", ["raise", "signal"])
@pytest.mark.parametrize("phase, at", CASES)
def test_resume_after_an_interruption_anywhere_is_exact(
    backend_name, tmp_path, tmp_path_factory, monkeypatch, phase, at, how
):
    want = reference(backend_name, tmp_path_factory)
    real_save = minicnn.checkpoint.save

    def save(obj, f):  # a checkpoint write interrupted half-way
        f.write(b"PK\x03\x04 a few bytes")
        fire("checkpoint")
        f.seek(0)
        f.truncate()
        real_save(obj, f)

    monkeypatch.setattr(minicnn.checkpoint, "save", save)
    _armed[phase] = trigger = Trigger(how, at)
    try:
        with pytest.raises(KeyboardInterrupt):
            run(tmp_path)
    finally:
        _armed.clear()
    assert trigger.calls >= at  # a held SIGINT lets the step finish: more calls follow
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # A raised exception inside an optimizer step or a checkpoint write leaves nothing to save
    # (the weights are half updated, the write half done): the last checkpoint stays.
    held = how == "raise" and phase in ("step", "checkpoint")
    if held and at in (6 + 2, 1):  # interrupted before the first checkpoint was written
        assert not (tmp_path / "last.ckpt").exists()
        return
    assert_identical(run(tmp_path, seed=1, resume=True), want)


@pytest.mark.parametrize("phase, how", [("load", "raise"), ("forward", "signal")])
def test_resume_is_exact_with_a_prefetching_loader(tmp_path, tmp_path_factory, phase, how):
    with minicnn.use_backend("numpy"):
        want = reference("numpy", tmp_path_factory)
        _armed[phase] = Trigger(how, 5)
        try:
            with pytest.raises(KeyboardInterrupt):
                run(tmp_path, prefetch=2)
        finally:
            _armed.clear()
        assert_identical(run(tmp_path, seed=1, resume=True, prefetch=2), want)


def test_progress_bar_does_not_change_training(backend_name, tmp_path, tmp_path_factory):
    """The bar is driven by update(), and a loader iterator made and dropped draws nothing:
    with the bar on, training gives the same numbers, bit for bit."""
    want = reference(backend_name, tmp_path_factory)
    assert_identical(run(tmp_path, progress=True), want)
    assert_identical(run(None, progress=True), want)  # no checkpoints: nothing to remember
    assert_identical(run(None, progress=False), want)
