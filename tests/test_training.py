"""fit / evaluate / checkpoints: learning works, resuming is exact, failures are clean."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minicnn
from minicnn import models, optim
from minicnn.data import ArrayDataset, DataLoader, MNISTSample
from minicnn.data import transforms as T
from minicnn.training import TrainingDiverged, evaluate, fit, load_checkpoint

PIPE = T.Compose([T.Pad(2), T.Normalize((0.1307,), (0.3081,))])


def _subset(ds: ArrayDataset, n: int) -> ArrayDataset:
    return ArrayDataset(ds.data[:n], ds.targets[:n], classes=list(ds.classes))


def _setup(n_train: int = 192, seed: int = 0, lr: float = 0.05):
    minicnn.manual_seed(seed)
    train = _subset(MNISTSample(train=True), n_train)
    model = models.lenet5()
    loader = DataLoader(
        train,
        32,
        shuffle=True,
        seed=seed,
        transform=T.Compose(
            [T.Pad(2), T.RandomCrop(32, padding=2), T.Normalize((0.1307,), (0.3081,))]
        ),
    )
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    return model, loader, opt, sched


def _weights(model) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("stop_after", [3, 6, 13])
def test_resume_continues_to_exactly_the_same_numbers(backend_name, tmp_path, stop_after):
    """An interrupted run (mid-epoch or at an epoch boundary) resumed from its checkpoint ends
    with the same weights, optimizer state and metrics as an uninterrupted run."""
    model, loader, opt, sched = _setup()
    full = fit(model, loader, opt, 3, scheduler=sched, progress=False, log=lambda s: None)
    want = _weights(model)

    model, loader, opt, sched = _setup()
    with pytest.raises(KeyboardInterrupt):
        fit(
            model,
            loader,
            opt,
            3,
            scheduler=sched,
            out_dir=tmp_path,
            progress=False,
            log=lambda s: None,
            stop_after_batches=stop_after,
        )
    model, loader, opt, sched = _setup(seed=123)  # fresh objects, different initial weights
    resumed = fit(
        model,
        loader,
        opt,
        3,
        scheduler=sched,
        out_dir=tmp_path,
        resume=True,
        progress=False,
        log=lambda s: None,
    )
    got = _weights(model)
    assert want.keys() == got.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    for a, b in zip(full.epochs, resumed.epochs):
        assert a["train_loss"] == b["train_loss"] and a["train_accuracy"] == b["train_accuracy"]
        assert a["lr"] == b["lr"]


def test_fit_writes_checkpoint_metrics_and_curves(tmp_path):
    model, loader, opt, sched = _setup(n_train=64)
    test_loader = DataLoader(_subset(MNISTSample(train=False), 64), 32, transform=PIPE)
    fit(
        model,
        loader,
        opt,
        2,
        test_loader=test_loader,
        scheduler=sched,
        out_dir=tmp_path,
        progress=False,
        log=lambda s: None,
        meta={"model": "lenet5"},
    )
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"} <= set(
        lines[0]
    )
    assert (tmp_path / "curves.png").stat().st_size > 1000
    state = load_checkpoint(tmp_path)
    assert state["epoch"] == 2 and state["meta"]["model"] == "lenet5"
    meta = json.loads((tmp_path / "last.json").read_text())
    assert meta["epoch"] == 2 and meta["last_epoch_metrics"]["epoch"] == 2


def test_tiny_batch_is_overfit_to_full_training_accuracy(backend_name):
    minicnn.manual_seed(0)
    sample = MNISTSample(train=True)
    x = minicnn.tensor(PIPE(sample.data[:16].astype(np.float32) / 255, np.random.default_rng(0)))
    y = minicnn.tensor(sample.targets[:16])
    model = models.lenet5()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        opt.zero_grad()
        loss = minicnn.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    with minicnn.no_grad():
        acc = float((model(x).argmax(1) == y).float().mean().item())
    assert acc == 1.0
    assert loss.item() < 0.05


def test_short_run_on_the_embedded_sample_beats_chance_by_far():
    """Two epochs on the 2,000-image sample: far above the 10% of guessing (79.4% here)."""
    minicnn.manual_seed(0)
    train_set, test_set = MNISTSample(train=True), MNISTSample(train=False)
    model = models.lenet5()
    loader = DataLoader(train_set, 32, shuffle=True, seed=0, transform=PIPE)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    fit(model, loader, opt, 2, progress=False, log=lambda s: None)
    result = evaluate(model, DataLoader(test_set, 250, transform=PIPE))
    assert result["accuracy"] > 0.6, result["accuracy"]  # 79.4% here; chance is 10%
    assert result["confusion"].sum() == 500 and result["confusion"].shape == (10, 10)


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    model, loader, opt, sched = _setup(n_train=64)
    fit(model, loader, opt, 1, out_dir=tmp_path, progress=False, log=lambda s: None)
    before = (tmp_path / "last.ckpt").read_bytes()
    with minicnn.no_grad():
        model.classifier[-1].weight[...] = float("nan")
    with pytest.raises(
        TrainingDiverged,
        match=r"loss became nan at epoch 1.*last good checkpoint is .*last.ckpt \(after epoch 1\)",
    ):
        fit(
            model,
            loader,
            opt,
            3,
            out_dir=tmp_path,
            progress=False,
            log=lambda s: None,
            resume=False,
        )
    assert (tmp_path / "last.ckpt").read_bytes() == before


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    model, loader, opt, _ = _setup(n_train=32)
    with pytest.raises(FileNotFoundError, match="checkpoint: no file at"):
        fit(model, loader, opt, 1, out_dir=tmp_path, resume=True, progress=False)


def test_train_step_is_the_whole_step(backend_name):
    """train_step zeroes, forwards, back-propagates and updates: the same as the loop written
    out by hand, and exported at the top level for learners."""
    assert minicnn.train_step is __import__("minicnn.training").training.train_step
    sample = MNISTSample(train=True)
    x = minicnn.tensor(PIPE(sample.data[:8].astype(np.float32) / 255, np.random.default_rng(0)))
    y = minicnn.tensor(sample.targets[:8])
    results = []
    for by_hand in (False, True):
        minicnn.manual_seed(0)
        model = models.lenet5()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(2):
            if by_hand:
                opt.zero_grad()
                output = model(x)
                loss = minicnn.cross_entropy(output, y)
                loss.backward()
                opt.step()
            else:
                loss, output = minicnn.train_step(model, x, y, minicnn.cross_entropy, opt)
        assert output.shape == (8, 10) and loss.shape == ()
        results.append(_weights(model))
    for k in results[0]:
        np.testing.assert_array_equal(results[0][k], results[1][k], err_msg=k)


def test_out_is_the_former_name_of_out_dir(tmp_path):
    model, loader, opt, _ = _setup(n_train=32)
    with pytest.warns(DeprecationWarning, match="use out_dir"):
        fit(model, loader, opt, 1, out=tmp_path, progress=False, log=lambda s: None)
    assert (tmp_path / "last.ckpt").is_file()
    with pytest.raises(TypeError, match="give out_dir only"):
        fit(model, loader, opt, 1, out=tmp_path, out_dir=tmp_path, progress=False)


def test_auxiliary_outputs_are_handled_by_the_model_and_its_loss():
    """fit knows nothing of GoogLeNet: its outputs predict with argmax like logits, and
    googlenet_loss weighs the auxiliary heads."""
    from minicnn.models.googlenet import GoogLeNetOutputs, googlenet_loss

    class WithAux(minicnn.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = models.lenet5()
            self.aux = minicnn.nn.Linear(10, 10)

        def forward(self, x):
            logits = self.body(x)
            if not self.training:
                return logits
            return GoogLeNetOutputs(logits, self.aux(logits), None)

    minicnn.manual_seed(0)
    model = WithAux()
    loader = DataLoader(_subset(MNISTSample(train=True), 64), 32, seed=0, transform=PIPE)
    opt = optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, loader, opt, 1, loss_fn=googlenet_loss, progress=False, log=print)
    assert 0 <= history.last("train_accuracy") <= 1
    out = model(next(iter(loader))[0])
    np.testing.assert_array_equal(out.argmax(1).numpy(), out.logits.argmax(1).numpy())


def test_bad_arguments_are_named_before_anything_runs(tmp_path):
    model, loader, opt, sched = _setup(n_train=32)
    x, y = next(iter(loader))
    for args, error, match in [
        ((model, x, y, opt, minicnn.cross_entropy), TypeError, "loss_fn: expected a callable"),
        ((model, x.numpy(), y, minicnn.cross_entropy, opt), TypeError, "x: expected a Tensor"),
        ((model, x, [1], minicnn.cross_entropy, opt), TypeError, "y: expected a Tensor"),
        ((model, x, y, minicnn.cross_entropy, "sgd"), TypeError, "optimizer: expected an opt"),
        (("lenet", x, y, minicnn.cross_entropy, opt), TypeError, "model: expected a Module"),
    ]:
        with pytest.raises(error, match=match):
            minicnn.train_step(*args)
    empty = DataLoader(_subset(MNISTSample(train=True), 32), 64, drop_last=True)
    for kwargs, error, match in [
        ({"epochs": -1}, ValueError, "epochs: expected an int >= 0, got -1"),
        ({"epochs": 2.5}, ValueError, "epochs: expected an int >= 0"),
        ({"train_loader": empty}, ValueError, "train_loader: has no batches"),
        ({"train_loader": [1, 2]}, TypeError, "train_loader: checkpoints .* need a loader"),
        ({"optimizer": None}, TypeError, "optimizer: expected an Optimizer"),
        ({"scheduler": 3}, TypeError, "scheduler: expected an LRScheduler"),
        ({"loss_fn": "ce"}, TypeError, "loss_fn: expected a callable"),
        ({"progress": "yes"}, TypeError, "progress: expected a bool"),
        ({"stop_after_batches": 0}, ValueError, "stop_after_batches: expected an int >= 1"),
    ]:
        call = {"model": model, "train_loader": loader, "optimizer": opt, "epochs": 1}
        call.update(kwargs)
        with pytest.raises(error, match=match):
            fit(**call, out_dir=tmp_path, log=lambda s: None)
    assert not list(tmp_path.iterdir())  # nothing was written
    with pytest.raises(TypeError, match="f: expected a path or a binary file object, got int"):
        minicnn.save({}, 3)
    with pytest.raises(TypeError, match="f: expected a path or a binary file object, got list"):
        minicnn.load([])
