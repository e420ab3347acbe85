"""Learning-rate schedulers: lr sequences against hand-computed lists, saving, bad arguments."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from minicnn.optim import SGD, Adam, Optimizer
from minicnn.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    SequentialLR,
    StepLR,
)
from tests.optim.test_sgd import param, set_grad


def sgd(lr: float = 1.0, **kwargs) -> SGD:
    return SGD([param([1.0])], lr=lr, **kwargs)


def lrs(scheduler: LRScheduler, n: int = 12) -> list[float]:
    """The lr of group 0 at epochs 0 .. n-1 (the constructor set epoch 0)."""
    out = [scheduler.optimizer.param_groups[0]["lr"]]
    for _ in range(n - 1):
        scheduler.step()
        out.append(scheduler.optimizer.param_groups[0]["lr"])
    return out


def cosine(base: float, eta_min: float, t: int, T: int) -> float:
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2


def test_step_lr():
    expected = [1.0] * 3 + [0.5] * 3 + [0.25] * 3 + [0.125] * 3
    np.testing.assert_allclose(lrs(StepLR(sgd(), step_size=3, gamma=0.5)), expected)


def test_multi_step_lr():
    expected = [1.0] * 2 + [0.1] * 3 + [0.01] * 4 + [0.001] * 3
    got = lrs(MultiStepLR(sgd(), milestones=[5, 2, 9], gamma=0.1))  # order does not matter
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_cosine_annealing_lr():
    got = lrs(CosineAnnealingLR(sgd(), T_max=10, eta_min=0.1))
    np.testing.assert_allclose(got, [cosine(1.0, 0.1, t, 10) for t in range(12)], rtol=1e-12)
    # Spot values: the start, the midpoint and the floor at T_max; then it climbs again.
    np.testing.assert_allclose([got[0], got[5], got[10]], [1.0, 0.55, 0.1], rtol=1e-12)
    assert got[11] > got[10]


def test_linear_lr_warm_up():
    got = lrs(LinearLR(sgd(0.8), start_factor=0.25, total_iters=4))
    np.testing.assert_allclose(got, [0.2, 0.35, 0.5, 0.65] + [0.8] * 8, rtol=1e-12)


def test_linear_lr_defaults_and_decay():
    got = lrs(LinearLR(sgd(0.9)), 7)  # start_factor 1/3 over 5 epochs
    np.testing.assert_allclose(got, [0.3, 0.42, 0.54, 0.66, 0.78, 0.9, 0.9], rtol=1e-12)
    got = lrs(LinearLR(sgd(1.0), start_factor=1.0, end_factor=0.0, total_iters=4), 6)
    np.testing.assert_allclose(got, [1.0, 0.75, 0.5, 0.25, 0.0, 0.0], atol=1e-15)


def test_sequential_lr_warm_up_then_cosine():
    opt = sgd(0.8)
    warmup = LinearLR(opt, start_factor=0.25, total_iters=4)
    decay = CosineAnnealingLR(opt, T_max=8)
    got = lrs(SequentialLR(opt, [warmup, decay], milestones=[4]))
    expected = [0.2, 0.35, 0.5, 0.65] + [cosine(0.8, 0.0, k, 8) for k in range(8)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose([got[4], got[8]], [0.8, 0.4], rtol=1e-12)


def test_sequential_lr_three_phases():
    opt = sgd(1.0)
    phases = [
        LinearLR(opt, start_factor=0.5, total_iters=2),
        StepLR(opt, step_size=2, gamma=0.5),
        LinearLR(opt, start_factor=0.1, end_factor=0.1, total_iters=1),
    ]
    got = lrs(SequentialLR(opt, phases, milestones=[2, 6]), 8)
    np.testing.assert_allclose(got, [0.5, 0.75, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1], rtol=1e-12)


def one_cycle_reference(t: int, initial: float, peak: float, low: float, T: int, p: float):
    """The two-phase cosine one-cycle lr at step t: up from ``initial`` to ``peak`` until step
    ``p*T - 1``, then down to ``low`` at step ``T - 1``."""

    def anneal(start: float, end: float, pct: float) -> float:
        return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2

    up_end = p * T - 1
    if t <= up_end:
        return anneal(initial, peak, t / up_end)
    return anneal(peak, low, (t - up_end) / (T - 1 - up_end))


def test_one_cycle_lr():
    opt = sgd(0.123, momentum=0.9)  # the constructor replaces the lr
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=10)
    got = lrs(scheduler, 10)
    initial, low = 1.0 / 25, 1.0 / 25 / 1e4
    expected = [one_cycle_reference(t, initial, 1.0, low, 10, 0.3) for t in range(10)]
    np.testing.assert_allclose(got[:3], [0.04, 0.52, 1.0], rtol=1e-12)  # by hand
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[9] == pytest.approx(low, rel=1e-12)  # ends at initial / final_div_factor
    assert max(got) == got[2]  # the peak is at step pct_start * total_steps - 1
    assert opt.param_groups[0]["initial_lr"] == pytest.approx(0.04)


def test_one_cycle_lr_cycles_momentum_opposite_to_lr():
    opt = sgd(momentum=0.9)
    scheduler = OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=5)
    momenta = [opt.param_groups[0]["momentum"]]
    for _ in range(9):
        scheduler.step()
        momenta.append(opt.param_groups[0]["momentum"])
    np.testing.assert_allclose([momenta[0], momenta[1], momenta[2]], [0.95, 0.9, 0.85])
    np.testing.assert_allclose(momenta[9], 0.95)


def test_one_cycle_lr_cycles_adam_beta1():
    opt = Adam([param([1.0])], betas=(0.9, 0.99))
    scheduler = OneCycleLR(opt, max_lr=0.01, total_steps=10, base_momentum=0.8, max_momentum=0.9)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)
    scheduler.step()
    scheduler.step()
    assert opt.param_groups[0]["betas"] == pytest.approx((0.8, 0.99))


def test_one_cycle_lr_three_phase_linear():
    opt = sgd()
    scheduler = OneCycleLR(
        opt,
        max_lr=1.0,
        total_steps=10,
        anneal_strategy="linear",
        three_phase=True,
        cycle_momentum=False,
    )
    got = lrs(scheduler, 10)
    initial, low = 0.04, 0.04 / 1e4
    expected = [0.04, 0.52, 1.0, 0.52, 0.04] + [
        initial + (low - initial) * k / 5 for k in range(1, 6)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert "momentum" in opt.param_groups[0] and opt.param_groups[0]["momentum"] == 0


def test_one_cycle_lr_counts_its_steps():
    scheduler = OneCycleLR(sgd(), max_lr=1.0, total_steps=4)
    for _ in range(4):
        scheduler.step()  # a loop of 4 batches steps 4 times after the constructor's step 0
    with pytest.raises(ValueError, match="more than total_steps=4"):
        scheduler.step()


def test_the_optimizer_uses_the_scheduled_lr():
    w = param([0.0])
    opt = SGD([w], lr=0.1)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        set_grad(w, [-1.0])
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(w.numpy(), [0.1 + 0.05 + 0.025])


def test_each_group_follows_its_base_lr():
    a, b = param([1.0]), param([1.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    scheduler = StepLR(opt, step_size=2, gamma=0.1)
    assert scheduler.base_lrs == [0.1, 0.01]
    for _ in range(2):
        scheduler.step()
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.01, 0.001])
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert scheduler.last_epoch == 2


def test_a_later_scheduler_keeps_the_initial_lr():
    opt = sgd(0.5)
    LinearLR(opt, start_factor=0.1)
    later = StepLR(opt, step_size=1)
    assert later.base_lrs == [0.5] and opt.param_groups[0]["initial_lr"] == 0.5


def run_and_resume(make, steps_before: int = 5, steps_after: int = 6):
    """lrs and momenta of an uninterrupted run, and of one saved and reloaded midway."""

    def record(opt):
        group = opt.param_groups[0]
        return group["lr"], group.get("momentum", group.get("betas"))

    opt, scheduler = make()
    straight = []
    for _ in range(steps_before + steps_after):
        scheduler.step()
        straight.append(record(opt))

    opt, scheduler = make()
    for _ in range(steps_before):
        scheduler.step()
    saved = pickle.loads(pickle.dumps((opt.state_dict(), scheduler.state_dict())))
    opt, scheduler = make()
    opt.load_state_dict(saved[0])
    scheduler.load_state_dict(saved[1])
    resumed = []
    for _ in range(steps_after):
        scheduler.step()
        resumed.append(record(opt))
    return straight[steps_before:], resumed


def make_step_lr():
    opt = sgd(0.3)
    return opt, StepLR(opt, step_size=3, gamma=0.5)


def make_sequential():
    opt = sgd(0.8)
    warmup = LinearLR(opt, start_factor=0.25, total_iters=4)
    return opt, SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=8)], milestones=[4])


def make_one_cycle():
    opt = Adam([param([1.0])])
    return opt, OneCycleLR(opt, max_lr=0.01, total_steps=12, three_phase=True)


@pytest.mark.parametrize(
    "make", [make_step_lr, make_sequential, make_one_cycle], ids=["step", "sequential", "one_cycle"]
)
def test_state_dict_round_trip(make):
    straight, resumed = run_and_resume(make)
    assert resumed == straight


def test_state_dict_is_a_copy():
    opt, scheduler = make_sequential()
    sd = scheduler.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 0
    scheduler.step()
    assert sd["last_epoch"] == 0 and sd["_schedulers"][0]["last_epoch"] == 0


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda o: StepLR(o, step_size=0), r"step_size: expected an integer >= 1, got 0"),
        (lambda o: StepLR(o, step_size=2.5), r"step_size: expected an integer >= 1, got 2.5"),
        (lambda o: StepLR(o, 2, gamma=-0.1), r"gamma: expected a number >= 0, got -0.1"),
        (lambda o: MultiStepLR(o, [3, -1]), r"milestones: expected an integer >= 0, got -1"),
        (lambda o: CosineAnnealingLR(o, T_max=0), r"T_max: expected an integer >= 1, got 0"),
        (lambda o: CosineAnnealingLR(o, 5, eta_min=-1), r"eta_min: expected a number >= 0"),
        (lambda o: LinearLR(o, start_factor=0), r"start_factor: expected .* \(0, 1\], got 0"),
        (lambda o: LinearLR(o, end_factor=1.5), r"end_factor: expected .* \[0, 1\], got 1.5"),
        (lambda o: LinearLR(o, total_iters=0), r"total_iters: expected an integer >= 1, got 0"),
        (lambda o: OneCycleLR(o, 1.0), r"total_steps: expected total_steps, or both epochs"),
        (lambda o: OneCycleLR(o, 1.0, total_steps=0), r"total_steps: expected an integer >= 1"),
        (lambda o: OneCycleLR(o, 1.0, 10, pct_start=1.5), r"pct_start: expected .* got 1.5"),
        (
            lambda o: OneCycleLR(o, 1.0, 10, anneal_strategy="exp"),
            r"anneal_strategy: expected 'cos' or 'linear', got 'exp'",
        ),
        (
            lambda o: OneCycleLR(o, [1.0, 2.0], 10),
            r"max_lr: expected one value per .* \(1\), got 2",
        ),
        (
            lambda o: SequentialLR(o, [StepLR(o, 1), StepLR(o, 1)], milestones=[]),
            r"milestones: expected 1 milestone\(s\).* got 0",
        ),
        (
            lambda o: SequentialLR(o, [StepLR(o, 1), StepLR(sgd(), 1)], milestones=[2]),
            r"schedulers: every scheduler must drive the given optimizer; .* index 1",
        ),
        (lambda o: SequentialLR(o, [], milestones=[]), r"schedulers: expected at least one"),
    ],
)
def test_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build(sgd())


def test_one_cycle_needs_momentum_to_cycle():
    plain = Optimizer([param([1.0])], {"lr": 0.1})
    with pytest.raises(ValueError, match="cycle_momentum: the optimizer has neither"):
        OneCycleLR(plain, max_lr=1.0, total_steps=5)
    OneCycleLR(plain, max_lr=1.0, total_steps=5, cycle_momentum=False)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="optimizer: expected an Optimizer, got list"):
        StepLR([param([1.0])], step_size=1)
