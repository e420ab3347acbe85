"""Checkpoints: the previous one is kept, damage is named, and a writer killed at any moment
leaves a loadable checkpoint behind."""

from __future__ import annotations

import os
import signal
import time
import warnings

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.checkpoint import (
    CHECKPOINT,
    PREVIOUS,
    load_checkpoint,
    load_latest,
    save_checkpoint,
)
from minicnn.serialization import SerializationError


def stamped(k: int, model: nn.Module | None = None) -> nn.Module:
    """A model whose every parameter holds the value k, so a checkpoint tells whose it is."""
    model = model or nn.Sequential(nn.Linear(256, 256), nn.BatchNorm1d(256), nn.Linear(256, 64))
    with minicnn.no_grad():
        for p in model.parameters():
            p.array[...] = k
    return model


def check_stamp(state: dict) -> int:
    """The stamp k of a loaded checkpoint, after checking that all of it agrees."""
    k = state["meta"]["k"]
    assert state["epoch"] == k
    for name, value in state["model"].items():
        if "running" not in name and "num_batches" not in name:
            assert np.all(value == k), name
    return k


def test_the_previous_checkpoint_is_kept(tmp_path):
    model = stamped(1)
    save_checkpoint(tmp_path / CHECKPOINT, model=model, epoch=1, meta={"k": 1})
    assert not (tmp_path / PREVIOUS).exists()
    save_checkpoint(tmp_path / CHECKPOINT, model=stamped(2, model), epoch=2, meta={"k": 2})
    save_checkpoint(tmp_path / CHECKPOINT, model=stamped(3, model), epoch=3, meta={"k": 3})
    assert check_stamp(load_checkpoint(tmp_path)) == 3
    assert check_stamp(load_checkpoint(tmp_path / PREVIOUS)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT, "last.json", PREVIOUS]


def test_a_damaged_checkpoint_is_named_and_the_previous_one_is_used(tmp_path):
    model = stamped(1)
    save_checkpoint(tmp_path / CHECKPOINT, model=model, epoch=1, meta={"k": 1})
    save_checkpoint(tmp_path / CHECKPOINT, model=stamped(2, model), epoch=2, meta={"k": 2})
    data = (tmp_path / CHECKPOINT).read_bytes()
    (tmp_path / CHECKPOINT).write_bytes(data[: len(data) // 3])  # cut short
    with pytest.raises(SerializationError, match=r"last.ckpt: truncated or damaged"):
        load_checkpoint(tmp_path)
    said = []
    state = load_latest(tmp_path, log=said.append)
    assert check_stamp(state) == 1
    assert len(said) == 1
    assert "last.ckpt: truncated or damaged" in said[0]
    assert "resuming from the previous checkpoint" in said[0] and "after epoch 1" in said[0]
    (tmp_path / PREVIOUS).write_bytes(b"\x80\x04garbage")  # both bad: both named
    with pytest.raises(SerializationError, match=r"no loadable checkpoint .*last.ckpt.*pickle"):
        load_latest(tmp_path)
    with pytest.raises(FileNotFoundError, match="checkpoint: no file at"):
        load_latest(tmp_path / "elsewhere")


def test_a_minicnn_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    minicnn.save({"format": "something else"}, tmp_path / CHECKPOINT)
    with pytest.raises(SerializationError, match="not a training checkpoint"):
        load_checkpoint(tmp_path)


KILLS = 60


def _write_forever(folder, ready_fd: int) -> None:
    """The child: write checkpoints k = 1, 2, ... until killed (say when the first is done)."""
    model = stamped(0)
    k = 0
    while True:
        k += 1
        save_checkpoint(folder / CHECKPOINT, model=stamped(k, model), epoch=k, meta={"k": k})
        if k == 1:
            os.write(ready_fd, b"1")


def test_a_writer_killed_at_any_moment_leaves_a_loadable_checkpoint(tmp_path):
    """SIGKILL a process that writes checkpoints back to back, KILLS times, after delays spread
    evenly over a few writes (a fixed schedule: the test asks the same every run). Every time,
    last.ckpt (and previous.ckpt, once there) loads whole: the writer never left it damaged."""
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    delays = np.linspace(0.0, 0.03, KILLS)  # seconds after the child's first checkpoint
    mid_write = 0
    for delay in delays:
        ready_r, ready_w = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork of a threaded process
            pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            try:
                os.close(ready_r)
                _write_forever(tmp_path, ready_w)
            finally:
                os._exit(1)
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"1"
        os.close(ready_r)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        mid_write += any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
        k = check_stamp(load_checkpoint(tmp_path))
        assert k >= 1
        if k > 1:  # killed between linking previous.ckpt and renaming the new file: both are k
            assert check_stamp(load_checkpoint(tmp_path / PREVIOUS)) in (k - 1, k)
    print(f"{KILLS} kills survived; {mid_write} left a half-written temporary file")
    assert mid_write > 0  # the schedule does hit writes in progress
