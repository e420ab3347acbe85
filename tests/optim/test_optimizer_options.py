"""RMSprop, Adagrad, Adadelta and SGD: the options their update rules leave out (maximize,
a weight decay of exactly 1), the state they keep, PyTorch's defaults, and errors that name the
argument. Each check compares two runs that must agree exactly, or a value with its closed form."""

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim

CASES = [
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=0.5, rho=0.8)),
]
RNG = np.random.default_rng(0)
P0 = RNG.normal(size=(3, 2))
GRADS = [RNG.normal(size=(3, 2)) for _ in range(3)]


def _param():
    return nn.Parameter(minicnn.tensor(P0, dtype="float64"))


def _run(name, hyper, grad_of):
    """Three steps of ``name``; ``grad_of(t, p)`` is step t's gradient. The parameter and the
    optimizer after them."""
    p = _param()
    opt = getattr(optim, name)([p], **hyper)
    for t in range(len(GRADS)):
        p.grad = minicnn.tensor(grad_of(t, p.numpy()), dtype="float64")
        opt.step()
    return p, opt


def _state(opt):
    return opt.state_dict()["state"][0]


@pytest.mark.parametrize("name, hyper", CASES)
def test_maximize_is_a_step_on_the_negated_gradient(backend_name, name, hyper):
    up, up_opt = _run(name, {**hyper, "maximize": True}, lambda t, p: GRADS[t])
    down, down_opt = _run(name, hyper, lambda t, p: -GRADS[t])
    np.testing.assert_array_equal(up.numpy(), down.numpy())
    plain, _ = _run(name, hyper, lambda t, p: GRADS[t])
    assert np.abs(up.numpy() - plain.numpy()).min() > 1e-4  # maximize changed the steps
    for key, value in _state(down_opt).items():
        np.testing.assert_array_equal(_state(up_opt)[key], value)


@pytest.mark.parametrize("name, hyper", CASES)
@pytest.mark.parametrize("decay", [0.5, 1.0])
def test_weight_decay_adds_decay_times_the_parameter_to_the_gradient(
    backend_name, name, hyper, decay
):
    decayed, _ = _run(name, {**hyper, "weight_decay": decay}, lambda t, p: GRADS[t])
    by_hand, _ = _run(name, hyper, lambda t, p: GRADS[t] + decay * p)
    np.testing.assert_array_equal(decayed.numpy(), by_hand.numpy())


@pytest.mark.parametrize("name, hyper", CASES)
def test_the_state_counts_steps(backend_name, name, hyper):
    _, opt = _run(name, hyper, lambda t, p: GRADS[t])
    assert _state(opt)["step"] == len(GRADS)


@pytest.mark.parametrize("momentum", [0, 0.9])
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_keeps_the_state_pytorch_keeps(backend_name, momentum, centered):
    hyper = dict(lr=0.01, alpha=0.9, momentum=momentum, centered=centered)
    _, opt = _run("RMSprop", hyper, lambda t, p: GRADS[t])
    state = _state(opt)
    expected = {"step", "square_avg"} | ({"momentum_buffer"} if momentum else set())
    assert set(state) == expected | ({"grad_avg"} if centered else set())
    square_avg, grad_avg = 0 * P0, 0 * P0
    for g in GRADS:
        square_avg = 0.9 * square_avg + 0.1 * g * g
        grad_avg = 0.9 * grad_avg + 0.1 * g
    np.testing.assert_allclose(state["square_avg"], square_avg, rtol=1e-12)
    if centered:
        np.testing.assert_allclose(state["grad_avg"], grad_avg, rtol=1e-12)


@pytest.mark.parametrize(
    "name, defaults",
    [
        ("SGD", dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)),
        ("RMSprop", dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0)),
        ("Adagrad", dict(lr=1e-2, lr_decay=0, weight_decay=0, eps=1e-10)),
        ("Adadelta", dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0)),
    ],
)
def test_defaults_are_pytorchs(name, defaults):
    group = getattr(optim, name)([_param()]).param_groups[0]
    assert {k: group[k] for k in defaults} == defaults
    assert group["maximize"] is False


@pytest.mark.parametrize(
    "name, arg",
    [
        *(("RMSprop", a) for a in ("lr", "alpha", "eps", "weight_decay", "momentum")),
        *(("Adagrad", a) for a in ("lr", "lr_decay", "weight_decay", "eps")),
        ("Adagrad", "initial_accumulator_value"),
        *(("Adadelta", a) for a in ("lr", "eps", "weight_decay")),
    ],
)
def test_a_bad_hyperparameter_is_named_in_the_error(name, arg):
    with pytest.raises(ValueError, match=rf"^{arg}: expected a number >= 0, got -1$"):
        getattr(optim, name)([_param()], **{arg: -1})


@pytest.mark.parametrize("rho", [0, 0.0, 0.5, 1, 1.0])
def test_adadelta_accepts_rho_in_the_closed_interval(rho):
    assert optim.Adadelta([_param()], rho=rho).param_groups[0]["rho"] == rho


@pytest.mark.parametrize("rho", [-0.1, 1.1, True, "0.9", None])
def test_adadelta_rejects_a_rho_outside_it_or_not_a_number(rho):
    with pytest.raises(ValueError, match=r"^rho: expected a number in \[0, 1\], got "):
        optim.Adadelta([_param()], rho=rho)


def test_a_gradient_of_another_shape_is_named_in_the_sgd_error():
    p = _param()
    opt = optim.SGD([p], lr=0.1)
    p.grad = minicnn.tensor(np.ones(5))
    with pytest.raises(ValueError, match=r"^SGD: grad: expected shape \(3, 2\), got \(5,\)$"):
        opt.step()
