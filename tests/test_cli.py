"""The command line: train on the embedded sample, resume, evaluate, info."""

from __future__ import annotations

import json
import subprocess
import sys

from minicnn.cli import main


def test_train_resume_and_evaluate_on_the_sample(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "lenet5",
        "--dataset",
        "mnist-sample",
        "--epochs",
        "1",
        "--batch-size",
        "50",
        "--backend",
        "numpy",
        "--seed",
        "1",
        "--out",
        str(out),
        "--no-progress",
        "--prefetch",
        "0",
    ]
    assert main(args) == 0
    assert (out / "last.ckpt").is_file() and (out / "curves.png").is_file()
    assert main(args[:5] + ["2"] + args[6:] + ["--resume"]) == 0  # one more epoch
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["epoch"] for s in lines] == [1, 2]
    assert (
        main(["evaluate", str(out), "--backend", "numpy", "--json", str(tmp_path / "e.json")]) == 0
    )
    printed = capsys.readouterr().out
    assert "test set: accuracy" in printed and "true \\ predicted" in printed
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["samples"] == 500 and 0.5 < result["accuracy"] <= 1.0


def test_info_runs_in_a_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "minicnn", "info"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "numpy  passed" in out.stdout and "cupy" in out.stdout


def test_augment_choices_build_the_documented_pipelines():
    import numpy as np

    from minicnn.cli import _transforms
    from minicnn.data import MNISTSample, Normalize, Pad, RandomCrop, RandomErasing
    from minicnn.data import RandomHorizontalFlip as Flip

    train = MNISTSample(train=True)
    kinds = {
        "none": [Pad, Normalize],
        "crop": [Pad, RandomCrop, Normalize],
        "flip": [Pad, Flip, Normalize],
        "crop-flip": [Pad, RandomCrop, Flip, Normalize],
        "crop-flip-erase": [Pad, RandomCrop, Flip, Normalize, RandomErasing],
    }
    for augment, expected in kinds.items():
        train_tf, test_tf = _transforms(train, (0.5,), (0.25,), augment)
        assert [type(t) for t in train_tf.transforms] == expected, augment
        assert [type(t) for t in test_tf.transforms] == [Pad, Normalize]
        out = train_tf(train.data[:8].astype(np.float32) / 255, np.random.default_rng(0))
        assert out.shape == (8, 1, 32, 32)


def test_label_smoothing_builds_the_training_loss(capsys):
    import numpy as np
    import pytest

    import minicnn
    from minicnn.cli import _loss_fn
    from minicnn.models import googlenet_loss

    rng = np.random.default_rng(0)
    logits = minicnn.tensor(rng.standard_normal((6, 10)))
    target = minicnn.tensor(rng.integers(0, 10, 6))
    assert _loss_fn("resnet20", 0.0) is minicnn.cross_entropy
    assert _loss_fn("googlenet", 0.0) is googlenet_loss
    smooth = float(minicnn.cross_entropy(logits, target, label_smoothing=0.2).item())
    plain = float(minicnn.cross_entropy(logits, target).item())
    assert abs(smooth - plain) > 1e-3
    for model in ("resnet20", "googlenet"):
        got = float(_loss_fn(model, 0.2)(logits, target).item())
        assert got == pytest.approx(smooth, rel=1e-12), model
    with pytest.raises(SystemExit):
        main(["train", "resnet20", "--label-smoothing", "1.5"])
    assert "--label-smoothing: expected a number in [0, 1), got 1.5" in capsys.readouterr().err
