"""``python -m minicnn viz``, through its own parser and ``run``."""

from __future__ import annotations

import argparse

import pytest

from minicnn import cli_viz

pytest.importorskip("matplotlib")


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m minicnn")
    cli_viz.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["viz", *argv])
    return args.func(args)


@pytest.mark.parametrize(
    "command",
    [
        ["filters"],
        ["filters", "--layer", "features.3"],
        ["activations", "--index", "2"],
        ["saliency", "--method", "vanilla", "--index", "1"],
        ["saliency", "--method", "all", "--target", "3"],
        ["class-model", "--classes", "0", "7", "--steps", "5"],
        ["invert", "--layer", "features.3", "--steps", "5"],
        ["filters", "--weights", "mnist-0-4"],
    ],
    ids=lambda c: "-".join(c),
)
def test_each_command_writes_a_png(tmp_path, monkeypatch, command, capsys):
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path / "no-data"))  # the embedded sample
    out = tmp_path / "pic.png"
    assert _run([*command, "--backend", "numpy", "--out", str(out)]) == 0
    assert out.stat().st_size > 2000 and out.read_bytes()[:4] == b"\x89PNG"
    assert f"wrote {out}" in capsys.readouterr().out


def test_layers_lists_the_names(capsys):
    assert _run(["layers", "--backend", "numpy"]) == 0
    printed = capsys.readouterr().out
    assert "features.0" in printed and "Conv2d" in printed and "classifier.5" in printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["saliency", "--layer", "conv9"], "layer: the model has no layer 'conv9'; valid names"),
        (["filters", "--weights", "cifar10"], "weights: no weights named 'cifar10' for lenet5"),
        (["saliency", "--target", "11"], "target: class 11 is out of range"),
        (["activations", "--index", "100000"], "--index: expected 0..499"),
        (["filters", "--model", "vgg99"], "--model: expected one of"),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path / "no-data"))
    assert _run([*argv, "--backend", "numpy", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "x.png").exists()
