"""Optimizers and schedulers load their state all or nothing, listing every problem."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minicnn
from minicnn import optim
from minicnn.optim import lr_scheduler as S


def params():
    minicnn.manual_seed(0)
    return [minicnn.randn(3, 2, requires_grad=True), minicnn.randn(4, requires_grad=True)]


def stepped(opt, ps, steps: int = 2):
    for _ in range(steps):
        for p in ps:
            p.grad = minicnn.ones(*p.shape)
        opt.step()
    return opt


def frozen(opt) -> object:
    """The optimizer's whole state, copied, for an equality check."""
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    state = {
        i: {k: (np.asarray(v).tobytes() if hasattr(v, "shape") else v) for k, v in s.items()}
        for i, s in enumerate(opt.state.values())
    }
    return copy.deepcopy((groups, state, [id(p) for g in opt.param_groups for p in g["params"]]))


@pytest.mark.parametrize(
    "make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=1e-3)]
)
def test_optimizer_load_is_all_or_nothing(make):
    ps = params()
    saved = stepped(make(ps), ps).state_dict()
    target_ps = params()
    target = stepped(make(target_ps), target_ps, steps=1)
    before = frozen(target)
    bad = copy.deepcopy(saved)
    first = next(iter(bad["state"][0]))
    bad["state"][0][first] = np.zeros((2, 2))  # wrong shape
    bad["state"][1][first] = np.array(["x"] * 4)  # not a number
    bad["state"][7] = {}  # an index no group names
    del bad["param_groups"][0]["lr"]  # a hyperparameter missing
    with pytest.raises(ValueError) as info:
        target.load_state_dict(bad)
    message = str(info.value)
    for part in (
        f"state {first!r} of parameter 0: expected shape (3, 2)",
        f"state {first!r} of parameter 1: expected a real dtype",
        "parameter index 7",
        "missing hyperparameter(s) ['lr']",
    ):
        assert part in message, message
    assert frozen(target) == before
    target.load_state_dict(saved)  # and a good one still loads
    assert frozen(target) != before


def test_scheduler_load_is_all_or_nothing():
    ps = params()
    opt = optim.SGD(ps, lr=0.1)
    source = S.SequentialLR(opt, [S.LinearLR(opt, total_iters=2), S.CosineAnnealingLR(opt, 5)], [2])
    for _ in range(3):
        source.step()
    saved = source.state_dict()
    opt2 = optim.SGD(params(), lr=0.1)
    target = S.SequentialLR(
        opt2, [S.LinearLR(opt2, total_iters=2), S.CosineAnnealingLR(opt2, 5)], [2]
    )
    before = copy.deepcopy(target.state_dict())
    bad = copy.deepcopy(saved)
    bad["last_epoch"] = "three"
    bad["_schedulers"][1]["T_max"] = [5]
    del bad["_schedulers"][0]["total_iters"]
    bad["_schedulers"][0]["surprise"] = 1
    with pytest.raises(ValueError) as info:
        target.load_state_dict(bad)
    message = str(info.value)
    for part in (
        "state_dict['last_epoch']: expected a number, received a str",
        "state_dict['_schedulers'][1]['T_max']: expected a number, received a list",
        "state_dict['_schedulers'][0]: missing key(s) 'total_iters'",
        "state_dict['_schedulers'][0]: unexpected key(s) 'surprise'",
    ):
        assert part in message, message
    assert target.state_dict() == before  # the sub-schedulers too: nothing was loaded
    bad = copy.deepcopy(saved)
    bad["_schedulers"] = bad["_schedulers"][:1]
    with pytest.raises(ValueError, match=r"expected 2 scheduler\(s\).*received 1"):
        target.load_state_dict(bad)
    bad = copy.deepcopy(saved)
    bad["base_lrs"] = [0.1, 0.2]
    with pytest.raises(ValueError, match=r"one value per parameter group \(1\), received 2"):
        target.load_state_dict(bad)
    target.load_state_dict(saved)
    assert target.state_dict() == saved and target.get_last_lr() == source.get_last_lr()
