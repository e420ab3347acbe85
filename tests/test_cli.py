"""The command line: train on the embedded sample, resume, evaluate, info."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from minicnn.cli import main


def test_train_resume_and_evaluate_on_the_sample(tmp_path, capsys):
    """Without MNIST, train falls back to the embedded sample, says how to get the full set,
    and names the sample in its output; resume and evaluate follow."""
    out = tmp_path / "run"
    args = [
        "train",
        "lenet5",
        "--data-root",
        str(tmp_path / "no-data-here"),
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
    printed = capsys.readouterr()
    notice = printed.err.strip().splitlines()
    assert len(notice) == 2 and notice[0].startswith("notice: full MNIST not found in")
    assert "--download" in notice[1] and "--data-root" in notice[1] and "MINICNN_DATA" in notice[1]
    assert "training lenet5 on MNIST sample (2,000 images)" in printed.out
    assert "on the MNIST sample test set (500 images) after 1 epochs" in printed.out
    assert (out / "last.ckpt").is_file() and (out / "curves.png").is_file()
    epochs_at = args.index("--epochs") + 1
    assert main(args[:epochs_at] + ["2"] + args[epochs_at + 1 :] + ["--resume"]) == 0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["epoch"] for s in lines] == [1, 2]
    assert (
        main(
            [
                "evaluate",
                str(out),
                "--backend",
                "numpy",
                "--data-root",
                str(tmp_path / "no-data-here"),
                "--json",
                str(tmp_path / "e.json"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "on the MNIST sample test set: accuracy" in printed and "true \\ predicted" in printed
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["samples"] == 500 and 0.5 < result["accuracy"] <= 1.0
    # Resuming with another recipe is refused in flags, before any training.
    assert main(args + ["--resume", "--lr", "0.1", "--batch-size", "64"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("notice: full MNIST not found")  # the notice, then the error
    err = err[2:]
    assert len(err) == 2 and "Traceback" not in "".join(err)
    assert err[0] == (
        f"error: --resume: {out} was trained with --batch-size 50 --lr 0.05, this command asks "
        "for --batch-size 64 --lr 0.1."
    )


def _errors(capsys, argv) -> tuple[int, list[str]]:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse
        code = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return code, err


def test_user_errors_are_one_or_two_lines_in_cli_words(tmp_path, capsys):
    empty = str(tmp_path / "empty")
    for argv, expected in [
        (
            ["train", "resnet20", "--data-root", empty],
            ["Fashion-MNIST not found in", "--download", "--data-root", "MINICNN_DATA"],
        ),
        (
            ["train", "--dataset", "mnist-sample", "--resume", "--out", empty],
            ["--resume: no checkpoint in", "without --resume", "--out"],
        ),
        (["evaluate", empty], ["no checkpoint at", "the run folder"]),
        (["train", "--epochs", "0"], ["argument --epochs: expected an integer >= 1, got 0"]),
        (["train", "--lr", "-0.1"], ["argument --lr: expected a number > 0, got -0.1"]),
        (["train", "--lr", "nan"], ["argument --lr: expected a number > 0, got nan"]),
        (["train", "--momentum", "1"], ["argument --momentum: expected a number in [0, 1)"]),
        (["train", "--batch-size", "x"], ["--batch-size: expected an integer >= 1, got 'x'"]),
        (["train", "--prefetch", "-1"], ["argument --prefetch: expected an integer >= 0"]),
        (["train", "--label-smoothing", "1.5"], ["--label-smoothing: expected a number in [0, 1)"]),
        # No data there: were the bound wrong, the command would stop at the data, not train.
        (
            ["train", "resnet20", "--data-root", empty, "--epochs", "3", "--warmup-epochs", "3"],
            ["--warmup-epochs 3 leaves no"],
        ),
        (["train", "--backend", "tpu"], ["argument --backend: invalid choice: 'tpu'"]),
    ]:
        code, err = _errors(capsys, argv)
        assert code == 2, argv
        assert 1 <= len(err) <= 2, (argv, err)
        for part in expected:
            assert part in "\n".join(err), (argv, part, err)
    (tmp_path / "bad.ckpt").write_bytes(b"\x80\x04not really")
    code, err = _errors(capsys, ["evaluate", str(tmp_path / "bad.ckpt")])
    assert code == 2 and "a pickle file" in err[0] and "Retrain" in err[0]


def test_debug_shows_the_traceback(tmp_path):
    from minicnn.cli_data import UserError

    for argv in (["--debug", "evaluate", str(tmp_path)], ["evaluate", str(tmp_path), "--debug"]):
        with pytest.raises(UserError, match="no checkpoint at"):
            main(argv)


def _train_command(out, epochs: int) -> list[str]:
    return [
        sys.executable,
        "-u",
        "-m",
        "minicnn",
        "train",
        "lenet5",
        "--dataset",
        "mnist-sample",
        "--epochs",
        str(epochs),
        "--batch-size",
        "100",
        "--backend",
        "numpy",
        "--seed",
        "3",
        "--out",
        str(out),
        "--no-progress",
    ]


def _default_sigint() -> None:
    # A child of a shell that ignores SIGINT (a background job) would inherit that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _metrics(out) -> list[dict]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    drop = ("seconds", "images_per_s")
    return [{k: v for k, v in json.loads(s).items() if k not in drop} for s in lines]


@pytest.mark.slow
def test_ctrl_c_then_resume_prints_what_an_uninterrupted_run_prints(tmp_path):
    """A real SIGINT early in epoch 2 of 2 (prefetching on), then --resume: the same final
    line and the same metrics as a run that was never interrupted."""
    env = {**os.environ, "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS", "1")}
    whole = subprocess.run(
        _train_command(tmp_path / "whole", 2), capture_output=True, text=True, env=env
    )
    assert whole.returncode == 0, whole.stderr
    proc = subprocess.Popen(
        _train_command(tmp_path / "cut", 2),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("epoch 1/2"):
            time.sleep(0.3)  # into epoch 2
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate(timeout=600)
    seen.append(rest)
    assert proc.returncode == 130, ("".join(seen), err)
    assert "interrupted" in rest and "Traceback" not in err, (rest, err)
    resumed = subprocess.run(
        [*_train_command(tmp_path / "cut", 2), "--resume"], capture_output=True, text=True, env=env
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout

    def final(text: str) -> str:
        (line,) = [s for s in text.splitlines() if s.startswith("final test accuracy")]
        return line.split("; checkpoint")[0]

    assert final(resumed.stdout) == final(whole.stdout)
    assert _metrics(tmp_path / "cut") == _metrics(tmp_path / "whole")


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


def test_resume_names_each_flag_that_differs_from_the_run(tmp_path, capsys):
    """--resume compares the command with the run's last.json before anything is trained: a
    seed, or a momentum of 0 (a flag whose value is falsy is still a value), that differs
    from the run's is named with both values."""
    out = tmp_path / "run"
    out.mkdir()
    meta = {"model": "lenet5", "seed": 1, "warmup_epochs": 0, "recipe": {"momentum": 0.9}}
    (out / "last.json").write_text(json.dumps({"meta": meta}))
    argv = ["train", "lenet5", "--dataset", "mnist-sample", "--resume", "--out", str(out)]
    code, err = _errors(capsys, argv + ["--seed", "2"])
    assert code == 2 and "trained with --seed 1, this command asks for --seed 2" in err[0]
    code, err = _errors(capsys, argv + ["--seed", "1", "--momentum", "0"])
    assert code == 2, err
    assert "trained with --momentum 0.9, this command asks for --momentum 0" in err[0]


def _train_without_fit(monkeypatch, raises: BaseException | None = None) -> dict:
    """`fit` replaced by a stand-in that records what `train` built (and raises ``raises``), so
    that the command's wiring is checked in a fraction of a second, without training."""
    import types

    import minicnn.training

    seen = {}

    def fit(model, loader, optimizer, epochs, **kwargs):
        seen.update(model=model, loader=loader, optimizer=optimizer, epochs=epochs, **kwargs)
        if raises is not None:
            raise raises
        return types.SimpleNamespace(epochs=[])

    monkeypatch.setattr(minicnn.training, "fit", fit)
    return seen


def _sample_train(tmp_path) -> list[str]:
    return ["train", "lenet5", "--dataset", "mnist-sample", "--backend", "numpy",
            "--out", str(tmp_path / "run"), "--no-progress", "--prefetch", "0"]  # fmt: skip


def test_train_uses_nesterov_momentum_when_its_momentum_is_positive(tmp_path, monkeypatch):
    seen = _train_without_fit(monkeypatch)
    assert main(_sample_train(tmp_path)) == 0
    group = seen["optimizer"].param_groups[0]
    assert (group["momentum"], group["nesterov"], group["dampening"]) == (0.9, True, 0)
    assert main([*_sample_train(tmp_path), "--momentum", "0"]) == 0
    group = seen["optimizer"].param_groups[0]
    assert (group["momentum"], group["nesterov"]) == (0, False)


def test_ctrl_c_exits_with_130_before_and_during_training(tmp_path, monkeypatch, capsys):
    import minicnn.cli_train

    _train_without_fit(monkeypatch, raises=KeyboardInterrupt())
    assert main(_sample_train(tmp_path)) == 130

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(minicnn.cli_train, "_datasets", interrupted)  # while loading the data
    capsys.readouterr()
    assert main(_sample_train(tmp_path)) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    with pytest.raises(KeyboardInterrupt):  # --debug shows the traceback instead
        main([*_sample_train(tmp_path), "--debug"])
