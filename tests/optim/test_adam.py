"""Adam and AdamW against hand-computed updates: bias correction, amsgrad, the two decays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minicnn.optim import Adam, AdamW
from tests.optim.test_sgd import assert_resume_matches, param, set_grad

W0 = np.array([0.5, -1.5, 2.0, 0.25])
# Large gradients first, then small ones: the second moment shrinks, so amsgrad's running
# maximum differs from it and the amsgrad tests mean something.
G = np.array(
    [
        [3.0, -2.0, 1.0, 4.0],
        [0.1, 0.5, -0.2, 0.05],
        [-0.3, 0.02, 0.4, -0.1],
    ]
)


def grad_at(step: int, w: np.ndarray) -> np.ndarray:
    """The gradient at step ``step`` (0-based): a fixed table plus a pull towards 0."""
    return G[step] + 0.5 * w


def adam_reference(
    w,
    steps,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    """Adam / AdamW written out from the paper's formulas in plain NumPy; w after each step."""
    beta1, beta2 = betas
    w = np.array(w, dtype=np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    v_max = np.zeros_like(w)
    history = []
    for k in range(steps):
        t = k + 1
        d = grad_at(k, w)
        if maximize:
            d = -d
        if decoupled:
            w = w - lr * weight_decay * w
        else:
            d = d + weight_decay * w
        m = beta1 * m + (1 - beta1) * d
        v = beta2 * v + (1 - beta2) * d**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(w)
    return history


def run(opt_class, steps=3, **kwargs):
    w = param(W0)
    opt = opt_class([w], **kwargs)
    history = []
    for k in range(steps):
        set_grad(w, grad_at(k, w.numpy()))
        opt.step()
        history.append(w.numpy().copy())
    return history, opt, w


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3),
        dict(lr=0.1, weight_decay=0.1),
        dict(lr=0.1, amsgrad=True),
        dict(lr=0.1, amsgrad=True, weight_decay=0.05, maximize=True),
    ],
    ids=["plain", "betas_eps", "l2", "amsgrad", "amsgrad_l2_maximize"],
)
def test_adam_matches_reference(backend_name, kwargs):
    history, opt, w = run(Adam, **kwargs)
    for k, (got, expected) in enumerate(zip(history, adam_reference(W0, 3, **kwargs))):
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"step {k + 1}")
    state = opt.state[w]
    assert state["step"] == 3
    assert ("max_exp_avg_sq" in state) == kwargs.get("amsgrad", False)


@pytest.mark.parametrize(
    "kwargs",
    [dict(lr=0.1), dict(lr=0.1, weight_decay=0.3), dict(lr=0.1, weight_decay=0.3, amsgrad=True)],
    ids=["default_decay", "decay", "decay_amsgrad"],
)
def test_adamw_matches_reference(backend_name, kwargs):
    history, _, _ = run(AdamW, **kwargs)
    reference = adam_reference(W0, 3, decoupled=True, **{"weight_decay": 1e-2, **kwargs})
    for k, (got, expected) in enumerate(zip(history, reference)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"step {k + 1}")


def test_first_step_moves_each_coordinate_by_lr():
    # Bias correction makes m_hat = g and v_hat = g*g at step 1, so the step is lr * sign(g).
    w = param([1.0, -2.0, 3.0])
    set_grad(w, [1e-2, -50.0, 2.0])  # eps moves the first by 1e-7
    Adam([w], lr=0.1).step()
    np.testing.assert_allclose(w.numpy(), [0.9, -1.9, 2.9], rtol=1e-6)


def test_second_step_by_hand():
    # g = 1 then g = 3, betas (0.5, 0.5): m = 0.5, 1.75; v = 0.5, 4.75;
    # m_hat = 1.75 / 0.75, v_hat = 4.75 / 0.75, step = lr * 1.75 / sqrt(4.75 * 0.75).
    w = param([0.0])
    opt = Adam([w], lr=0.1, betas=(0.5, 0.5), eps=1e-12)
    for g in (1.0, 3.0):
        set_grad(w, [g])
        opt.step()
    np.testing.assert_allclose(w.numpy(), [-0.1 - 0.1 * 1.75 / math.sqrt(4.75 * 0.75)], rtol=1e-10)


def test_amsgrad_changes_the_result():
    plain, _, _ = run(Adam, lr=0.1)
    ams, _, _ = run(Adam, lr=0.1, amsgrad=True)
    assert not np.allclose(plain[-1], ams[-1])


def test_adamw_decay_differs_from_adam_l2():
    l2, _, _ = run(Adam, lr=0.1, weight_decay=0.3)
    decoupled, _, _ = run(AdamW, lr=0.1, weight_decay=0.3)
    assert not np.allclose(l2[-1], decoupled[-1], rtol=1e-3)


def test_adamw_decays_with_a_zero_gradient():
    # Adam's moments stay 0 with g = 0, so only the decoupled shrink moves w.
    w = param([2.0, -4.0])
    opt = AdamW([w], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        set_grad(w, [0.0, 0.0])
        opt.step()
    np.testing.assert_allclose(w.numpy(), np.array([2.0, -4.0]) * 0.95**3, rtol=1e-12)


def test_parameters_without_grad_are_skipped():
    a, b = param([1.0]), param([2.0])
    opt = AdamW([a, b], lr=0.1, weight_decay=0.5)
    set_grad(a, [1.0])
    opt.step()
    assert b.item() == 2.0 and b not in opt.state
    assert opt.state[a]["step"] == 1


def test_float32_parameters_stay_float32(backend_name):
    w = param(W0, dtype=np.float32)
    opt = Adam([w], lr=0.1, amsgrad=True)
    set_grad(w, np.ones(4))
    opt.step()
    assert w.dtype == np.float32
    assert all(opt.state[w][k].dtype == np.float32 for k in ("exp_avg", "exp_avg_sq"))


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: Adam(ps, lr=0.01, amsgrad=True, weight_decay=1e-2),
        lambda ps: AdamW(ps, lr=0.01, betas=(0.8, 0.95)),
    ],
    ids=["adam_amsgrad", "adamw"],
)
def test_state_dict_round_trip(backend_name, make_opt):
    assert_resume_matches(make_opt)


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=-1e-3), r"lr: expected a number >= 0, got -0.001"),
        (dict(eps=0.0), r"eps: expected a number > 0, got 0.0"),
        (dict(weight_decay=-0.1), r"weight_decay: expected a number >= 0, got -0.1"),
        (
            dict(betas=(1.0, 0.999)),
            r"betas: expected two numbers .* in \[0, 1\), got \(1.0, 0.999\)",
        ),
        (dict(betas=(0.9, -0.1)), r"betas: expected .* got \(0.9, -0.1\)"),
        (dict(betas=0.9), r"betas: expected .* got 0.9"),
    ],
)
def test_bad_hyperparameters(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([param([1.0])], **kwargs)
