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
