"""RMSprop, Adagrad and Adadelta: the first steps in closed form, several steps against the
update rules of their docstrings written in NumPy, and state_dict round trips."""

import copy

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim


def _reference(name, p, grads, **h):
    """The documented update rule, step by step, in float64 NumPy."""
    p, s, u, buf, gavg = p.copy(), 0 * p, 0 * p, 0 * p, 0 * p
    s += h.get("initial_accumulator_value", 0)
    for t, g in enumerate(grads, 1):
        g = g + h.get("weight_decay", 0) * p
        if name == "RMSprop":
            a = h.get("alpha", 0.99)
            s = a * s + (1 - a) * g * g
            if h.get("centered"):
                gavg = a * gavg + (1 - a) * g
                avg = np.sqrt(s - gavg**2) + h.get("eps", 1e-8)
            else:
                avg = np.sqrt(s) + h.get("eps", 1e-8)
            if h.get("momentum", 0):
                buf = h["momentum"] * buf + g / avg
                p = p - h["lr"] * buf
            else:
                p = p - h["lr"] * g / avg
        elif name == "Adagrad":
            clr = h["lr"] / (1 + (t - 1) * h.get("lr_decay", 0))
            s = s + g * g
            p = p - clr * g / (np.sqrt(s) + h.get("eps", 1e-10))
        else:
            rho, eps = h.get("rho", 0.9), h.get("eps", 1e-6)
            s = rho * s + (1 - rho) * g * g
            delta = np.sqrt(u + eps) / np.sqrt(s + eps) * g
            u = rho * u + (1 - rho) * delta * delta
            p = p - h.get("lr", 1.0) * delta
    return p


CASES = [
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
]


@pytest.mark.parametrize("name, hyper", CASES)
def test_update_rules(backend_name, name, hyper):
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(5)]
    p = nn.Parameter(minicnn.tensor(p0, dtype="float64"))
    opt = getattr(optim, name)([p], **hyper)
    for g in grads:
        p.grad = minicnn.tensor(g, dtype="float64")
        opt.step()
    np.testing.assert_allclose(p.numpy(), _reference(name, p0, grads, **hyper), rtol=1e-12)


def test_first_steps_in_closed_form(backend_name):
    # Adagrad's first step is lr * sign(g); RMSprop's is lr * g / (sqrt(1 - alpha) |g|)
    p = nn.Parameter(minicnn.tensor([1.0, 1.0], dtype="float64"))
    p.grad = minicnn.tensor([2.0, -0.5], dtype="float64")
    optim.Adagrad([p], lr=0.1).step()
    np.testing.assert_allclose(p.numpy(), [0.9, 1.1])
    optim.RMSprop([p], lr=0.01, alpha=0.99).step()
    np.testing.assert_allclose(p.numpy(), [0.9 - 0.1, 1.1 + 0.1], rtol=1e-6)


@pytest.mark.parametrize("name, hyper", CASES[::2])
def test_state_dict_round_trip(backend_name, name, hyper):
    model = nn.Linear(3, 2)
    twin = copy.deepcopy(model)
    opt = getattr(optim, name)(model.parameters(), **hyper)
    x = minicnn.randn(4, 3)
    for _ in range(2):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    twin.load_state_dict(model.state_dict())
    opt2 = getattr(optim, name)(twin.parameters(), **hyper)
    opt2.load_state_dict(opt.state_dict())
    for m, o in ((model, opt), (twin, opt2)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    np.testing.assert_array_equal(model.weight.numpy(), twin.weight.numpy())


def test_bad_hyperparameters():
    p = [nn.Parameter(minicnn.zeros(1))]
    with pytest.raises(ValueError, match="lr: expected a number >= 0"):
        optim.RMSprop(p, lr=-1)
    with pytest.raises(ValueError, match=r"rho: expected a number in \[0, 1\]"):
        optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="lr_decay: expected a number >= 0"):
        optim.Adagrad(p, lr_decay=-0.1)
