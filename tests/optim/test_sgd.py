"""SGD against hand-computed updates, and the Optimizer base class: groups, state, saving."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
from minicnn.optim import SGD, Adam
from tests.conftest import to_numpy

W0 = np.array([0.5, -1.5, 2.0, 0.25])


def grad_of(w: np.ndarray) -> np.ndarray:
    """A gradient that depends on the parameter and changes sign across coordinates."""
    return np.cos(w) + 0.3 * w


def param(values, dtype=np.float64) -> nn.Parameter:
    return nn.Parameter(minicnn.tensor(np.array(values, dtype=dtype)))


def set_grad(p: nn.Parameter, g: np.ndarray) -> None:
    p.grad = minicnn.tensor(np.asarray(g, dtype=p.dtype), backend=p.backend)


def sgd_reference(
    w, steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    """The SGD rule written out in plain NumPy; returns w after each step."""
    w = np.array(w, dtype=np.float64)
    buf = None
    history = []
    for _ in range(steps):
        d = -grad_of(w) if maximize else grad_of(w)
        d = d + weight_decay * w
        if momentum != 0:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        w = w - lr * d
        history.append(w)
    return history


# A scalar w = 1 with loss w**2 / 2 (gradient w) and lr = 0.1, worked by hand.
@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(), [0.9, 0.81, 0.729]),
        (dict(momentum=0.9), [0.9, 0.72, 0.486]),
        (dict(momentum=0.9, dampening=0.5), [0.9, 0.765, 0.60525]),
        (dict(momentum=0.9, nesterov=True), [0.81, 0.5751, 0.327321]),
        (dict(weight_decay=0.1), [0.89, 0.7921, 0.704969]),
        (dict(maximize=True), [1.1, 1.21, 1.331]),
    ],
    ids=["plain", "momentum", "dampening", "nesterov", "weight_decay", "maximize"],
)
def test_sgd_scalar_by_hand(backend_name, kwargs, expected):
    w = param([1.0])
    opt = SGD([w], lr=0.1, **kwargs)
    for want in expected:
        set_grad(w, w.numpy())
        opt.step()
        np.testing.assert_allclose(w.numpy(), [want], rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
        dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
        dict(lr=0.2, momentum=0.5, maximize=True),
    ],
    ids=["plain", "momentum", "dampening_wd", "nesterov_wd", "maximize"],
)
def test_sgd_matches_reference(backend_name, kwargs):
    w = param(W0)
    opt = SGD([w], **kwargs)
    for step, expected in enumerate(sgd_reference(W0, 3, **kwargs)):
        set_grad(w, grad_of(w.numpy()))
        opt.step()
        np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12, err_msg=f"step {step + 1}")
    assert ("momentum_buffer" in opt.state[w]) == (kwargs.get("momentum", 0) != 0)


def test_step_updates_data_in_place_and_keeps_dtype(backend_name):
    w = param(W0, dtype=np.float32)
    array = w.array
    opt = SGD([w], lr=0.1, momentum=0.9)
    set_grad(w, np.ones(4))
    opt.step()
    assert w.array is array  # the same array, written in place
    assert w.dtype == np.float32
    assert w.backend == backend_name
    assert w.grad_fn is None and w.requires_grad
    np.testing.assert_allclose(w.numpy(), W0 - 0.1, rtol=1e-6)


def test_state_follows_a_model_moved_after_some_steps(backend_name):
    model = nn.Linear(2, 1)
    opt = Adam(model.parameters(), lr=0.1)
    x = minicnn.tensor([[1.0, 2.0]])
    for cast in (False, True):
        if cast:
            model.double()
            x = x.double()
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    assert opt.state[model.weight]["exp_avg"].dtype == np.float64
    assert model.weight.dtype == np.float64


def test_step_leaves_grad_unchanged(backend_name):
    w = param(W0)
    opt = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5, maximize=True)
    set_grad(w, np.ones(4))
    opt.step()
    opt.step()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones(4))


def test_parameters_without_grad_are_skipped(backend_name):
    a, b = param([1.0, 2.0]), param([3.0])
    opt = SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1)
    set_grad(a, [1.0, 1.0])
    opt.step()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [3.0])  # not even weight decay touches b
    assert b not in opt.state
    assert a in opt.state


def test_param_groups_with_their_own_lr(backend_name):
    a, b = param([1.0]), param([1.0])
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.01}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.5  # filled in from the defaults
    set_grad(a, [1.0])
    set_grad(b, [1.0])
    opt.step()
    np.testing.assert_allclose(a.numpy(), [0.9])
    np.testing.assert_allclose(b.numpy(), [0.99])


def test_add_param_group():
    a, b = param([1.0]), param([1.0])
    opt = SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    set_grad(a, [1.0])
    set_grad(b, [1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_zero_grad(backend_name):
    a, b = param([1.0, 2.0]), param([3.0])
    opt = SGD([a, b], lr=0.1)
    set_grad(a, [1.0, 2.0])
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_the_loss():
    w = param([2.0])
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with minicnn.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(w.numpy(), [1.0])  # 2 - 0.25 * 4


def test_sgd_reduces_a_quadratic_loss(backend_name):
    rng = np.random.default_rng(0)
    x = minicnn.tensor(rng.standard_normal((32, 3)))
    target = minicnn.tensor(x.numpy() @ np.array([[1.0], [-2.0], [0.5]]) + 0.3)
    model = nn.Linear(3, 1).double()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = minicnn.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-6 * losses[0]
    np.testing.assert_allclose(to_numpy(model.weight), [[1.0, -2.0, 0.5]], atol=1e-3)


def test_repr_lists_the_groups():
    text = repr(SGD([param([1.0])], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


def make_model() -> nn.Module:
    minicnn.manual_seed(3)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


def batches(n: int) -> list[tuple[minicnn.Tensor, minicnn.Tensor]]:
    rng = np.random.default_rng(7)
    return [
        (minicnn.tensor(rng.standard_normal((5, 3))), minicnn.tensor(rng.standard_normal((5, 2))))
        for _ in range(n)
    ]


def train(model: nn.Module, opt, data) -> None:
    for x, y in data:
        opt.zero_grad()
        minicnn.mse_loss(model(x), y).backward()
        opt.step()


def assert_resume_matches(make_opt, steps_before: int = 2, steps_after: int = 3) -> None:
    """Save after ``steps_before`` steps, load into a fresh optimizer over a copied model and
    go on: the result must equal ``steps_before + steps_after`` uninterrupted steps."""
    data = batches(steps_before + steps_after)
    straight = make_model()
    train(straight, make_opt(straight.parameters()), data)

    first = make_model()
    opt = make_opt(first.parameters())
    train(first, opt, data[:steps_before])
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    second = copy.deepcopy(first)
    opt2 = make_opt(second.parameters())
    opt2.load_state_dict(saved)
    train(second, opt2, data[steps_before:])

    for p, q in zip(straight.parameters(), second.parameters()):
        np.testing.assert_allclose(to_numpy(q), to_numpy(p), rtol=1e-12, atol=1e-14)


def two_groups(params) -> SGD:
    first, *rest = list(params)
    return SGD(
        [{"params": [first]}, {"params": rest, "lr": 0.05, "dampening": 0.5}],
        lr=0.1,
        momentum=0.9,
    )


@pytest.mark.parametrize(
    "make_opt",
    [lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3), two_groups],
    ids=["nesterov", "two_groups"],
)
def test_state_dict_round_trip(backend_name, make_opt):
    assert_resume_matches(make_opt)


def test_state_dict_holds_host_copies_and_indices(backend_name):
    a, b = param([1.0, 2.0]), param([3.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    set_grad(a, [1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert list(sd["state"]) == [0]  # b has no state yet
    buf = sd["state"][0]["momentum_buffer"]
    assert type(buf) is np.ndarray
    before = buf.copy()
    opt.step()  # later steps do not change what was saved
    np.testing.assert_array_equal(buf, before)


def test_load_state_dict_moves_to_parameter_dtype_and_restores_hyperparameters():
    a = param([1.0, 2.0])
    opt = SGD([a], lr=0.1, momentum=0.9)
    set_grad(a, [1.0, 1.0])
    opt.step()
    sd = opt.state_dict()

    b = param([1.0, 2.0], dtype=np.float32)
    opt2 = SGD([b], lr=0.7)  # its hyperparameters are replaced by the saved ones
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["momentum"] == 0.9
    assert opt2.param_groups[0]["params"][0] is b
    assert opt2.state[b]["momentum_buffer"].dtype == np.float32
    opt2.state[b]["momentum_buffer"][0] = 5.0  # the loaded state is a copy
    assert sd["state"][0]["momentum_buffer"][0] == 1.0


def test_load_state_dict_rejects_a_different_layout():
    a, b = param([1.0]), param([2.0])
    sd = SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match=r"expected 1 parameter group\(s\).*received 2"):
        SGD([a, b], lr=0.1).load_state_dict(sd)
    sd = SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match=r"group 0 expected 1 parameter\(s\).*received 2"):
        SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="state_dict: expected a mapping"):
        SGD([a], lr=0.1).load_state_dict({"state": {}})


def test_load_state_dict_rejects_a_state_of_another_shape():
    a = param([1.0, 2.0])
    opt = SGD([a], lr=0.1, momentum=0.9)
    set_grad(a, [1.0, 1.0])
    opt.step()
    opt2 = SGD([param([1.0, 2.0, 3.0])], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"expected shape \(3,\).*received \(2,\)"):
        opt2.load_state_dict(opt.state_dict())
    assert not opt2.state  # nothing was changed


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=-0.1), r"lr: expected a number >= 0, got -0.1"),
        (dict(momentum=-0.5), r"momentum: expected a number >= 0, got -0.5"),
        (dict(dampening=-1), r"dampening: expected a number >= 0, got -1"),
        (dict(weight_decay=-1e-4), r"weight_decay: expected a number >= 0, got -0.0001"),
        (
            dict(nesterov=True),
            r"nesterov: expected momentum > 0 and dampening == 0, got momentum=0",
        ),
        (
            dict(nesterov=True, momentum=0.9, dampening=0.1),
            r"nesterov: expected .* dampening == 0, got momentum=0.9 and dampening=0.1",
        ),
    ],
)
def test_sgd_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SGD([param([1.0])], **kwargs)


def test_a_bad_hyperparameter_in_a_group_is_caught():
    with pytest.raises(ValueError, match=r"lr: expected a number >= 0, got -1"):
        SGD([{"params": [param([1.0])], "lr": -1}], lr=0.1)


def test_bad_params():
    w = param([1.0])
    with pytest.raises(ValueError, match="params: expected at least one parameter"):
        SGD([], lr=0.1)
    with pytest.raises(
        ValueError, match="params: expected floating-point tensors, got one of dtype int64"
    ):
        SGD([minicnn.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="appears twice in one group"):
        SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="params: expected leaf tensors"):
        SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="params: expected an iterable .* got a single Tensor"):
        SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="params: expected Tensors"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="param_group: expected a 'params' key"):
        Adam([{"lr": 0.1}])
