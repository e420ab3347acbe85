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
