"""Module.load_state_dict is all or nothing: one error lists every problem, and a failed load
leaves the module bit-identical."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn
from minicnn import nn
from tests.conftest import to_numpy


def net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))


def snapshot(module: nn.Module) -> dict[str, bytes]:
    """Every parameter and buffer as bytes, with dtype and shape: equal means bit-identical."""
    return {
        k: (str(v.dtype), v.shape, to_numpy(v).tobytes()) for k, v in module.state_dict().items()
    }


def bad_state_dicts():
    good = {k: v.numpy() for k, v in net().state_dict().items()}

    def edit(**changes):
        sd = dict(good)
        for k, v in changes.items():
            k = k.replace("__", ".")
            if v is None:
                del sd[k]
            else:
                sd[k] = v
        return sd

    yield "missing", edit(**{"3__bias": None}), ["missing key(s) in state_dict: '3.bias'"]
    yield "unexpected", {**good, "4.weight": np.zeros(2)}, ["unexpected key(s)", "'4.weight'"]
    yield (
        "shape",
        edit(**{"0__weight": np.zeros((3, 1, 2, 2), np.float32)}),
        ["size mismatch for 0.weight: expected shape (3, 1, 3, 3)", "received (3, 1, 2, 2)"],
    )
    yield (
        "float into an int buffer",
        edit(**{"1__num_batches_tracked": np.array(2.5)}),
        ["dtype mismatch for 1.num_batches_tracked", "received float64"],
    )
    yield "text", edit(**{"3__bias": np.array(["a", "b"])}), ["dtype mismatch for 3.bias"]
    yield "complex", edit(**{"3__bias": np.ones(2, np.complex64)}), ["received complex64"]
    yield "ragged", edit(**{"3__bias": [[1.0], [1.0, 2.0]]}), ["value for 3.bias: not an array"]
    # Every problem at once, with good values for the keys before and after them.
    yield (
        "all",
        edit(
            **{
                "0__bias": None,
                "1__weight": np.zeros(4, np.float32),
                "3__weight": np.array([[object()] * 12] * 2),
                "extra": np.zeros(1),
            }
        ),
        [
            "missing key(s) in state_dict: '0.bias'",
            "unexpected key(s) in state_dict: 'extra'",
            "size mismatch for 1.weight",
            "dtype mismatch for 3.weight",
        ],
    )


@pytest.mark.parametrize(
    "label, sd, messages", [pytest.param(*case, id=case[0]) for case in bad_state_dicts()]
)
def test_a_failed_load_changes_nothing_and_names_every_problem(backend_name, label, sd, messages):
    target = net()
    before = snapshot(target)
    params = list(target.parameters())
    with pytest.raises(RuntimeError) as info:
        target.load_state_dict(sd)
    for m in messages:
        assert m in str(info.value), (label, str(info.value))
    assert snapshot(target) == before, label
    assert all(a is b for a, b in zip(params, target.parameters()))


def test_a_good_load_after_a_failed_one_works(backend_name):
    source, target = net(), net()
    sd = {k: v.numpy() for k, v in source.state_dict().items()}
    with pytest.raises(RuntimeError):
        target.load_state_dict({**sd, "0.weight": np.zeros(3)})
    target.load_state_dict(sd)
    assert snapshot(target) == snapshot(source)
    sd["1.num_batches_tracked"] = np.array(5, np.int32)  # any integer type fits an int buffer
    target.load_state_dict(sd)
    assert target[1].num_batches_tracked.item() == 5
    assert target[1].num_batches_tracked.dtype == minicnn.int64
