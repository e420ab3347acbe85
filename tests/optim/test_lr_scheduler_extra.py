"""ExponentialLR, LambdaLR, MultiplicativeLR and ReduceLROnPlateau against their definitions."""

import pickle

import pytest

import minicnn
from minicnn import nn, optim
from minicnn.optim import lr_scheduler


def _opt(lr=1.0):
    return optim.SGD([nn.Parameter(minicnn.zeros(1))], lr=lr)


def _run(scheduler, n):
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(n):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


def test_epoch_schedules():
    assert _run(lr_scheduler.ExponentialLR(_opt(), gamma=0.5), 3) == [1, 0.5, 0.25, 0.125]
    assert _run(lr_scheduler.LambdaLR(_opt(2.0), lambda e: 1 / (e + 1)), 3) == [2, 1, 2 / 3, 0.5]
    mult = lr_scheduler.MultiplicativeLR(_opt(), lambda e: 0.9)
    assert _run(mult, 2) == pytest.approx([1, 0.9, 0.81])


def test_lambda_lr_state_dict_leaves_out_the_functions():
    s = lr_scheduler.LambdaLR(_opt(), lambda e: 0.5**e)
    s.step()
    state = pickle.loads(pickle.dumps(s.state_dict()))
    t = lr_scheduler.LambdaLR(_opt(), lambda e: 0.5**e)
    t.load_state_dict(state)
    t.step()
    assert t.last_epoch == 2 and t.get_last_lr() == [0.25]


def test_reduce_on_plateau_follows_pytorchs_counting():
    opt = _opt()
    s = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
        s.step(minicnn.tensor(metric))  # a 0-d tensor works as a metric
        lrs.append(opt.param_groups[0]["lr"])
    # bad epochs: 0, 1, 2 -> cut; cooldown 1; then 1, 2 -> cut; ... floor at min_lr
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    s2 = lr_scheduler.ReduceLROnPlateau(_opt(), mode="max", patience=0, threshold=0.1)
    s2.step(1.0)
    s2.step(1.05)  # not 10% better: bad
    assert s2.get_last_lr() == [pytest.approx(0.1)]
    with pytest.raises(ValueError, match="factor: expected a number in"):
        lr_scheduler.ReduceLROnPlateau(_opt(), factor=1.0)
    with pytest.raises(TypeError, match="expected the metric"):
        s2.step()
