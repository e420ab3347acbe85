"""In-place updates keep the tensor object and follow PyTorch's rules; f-string formatting of
0-d tensors."""

import numpy as np
import pytest

import minicnn
from minicnn import nn


def test_manual_sgd_step_updates_the_parameter_itself(backend_name):
    model = nn.Linear(3, 2)
    weight = model.weight
    before = weight.numpy().copy()
    model(minicnn.ones(4, 3)).sum().backward()
    grad = weight.grad.numpy().copy()
    with minicnn.no_grad():
        for w in model.parameters():
            w -= 0.1 * w.grad  # rebinding w would leave the model unchanged
            w.grad.zero_()
    assert model.weight is weight
    np.testing.assert_allclose(weight.numpy(), before - 0.1 * grad, rtol=1e-6)
    assert not weight.grad.numpy().any()


def test_data_sub_updates_in_place(backend_name):
    w = minicnn.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.data.sub_(0.5 * w.grad.data)  # the pre-0.4 PyTorch idiom
    w.data -= 0.5 * w.grad
    assert w.tolist() == [-1.0, -2.0] and w.requires_grad and w.is_leaf


def test_inplace_on_a_leaf_that_requires_grad_raises_as_pytorch(backend_name):
    w = minicnn.ones(3, requires_grad=True)
    msg = "a leaf Variable that requires grad is being used in an in-place operation"
    for update in (
        lambda: w.__isub__(1),
        lambda: w.add_(1),
        lambda: w.mul_(2),
        lambda: w.zero_(),
        lambda: w.fill_(0),
        lambda: w.normal_(),
        lambda: w.copy_(minicnn.zeros(3)),
    ):
        with pytest.raises(RuntimeError, match=msg):
            update()
    assert w.tolist() == [1.0, 1.0, 1.0]


def test_augmented_assignment_inside_the_graph_gives_pytorchs_values_and_gradients(backend_name):
    # out += identity in a residual block: PyTorch records it in place; minicnn computes it out
    # of place and Python rebinds out; the numbers are the same.
    x = minicnn.tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
    out = x * 2
    out += x
    out *= x
    out /= 2
    out -= 1
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), 1.5 * x.numpy() ** 2 - 1)
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy())


def test_explicit_inplace_method_inside_the_graph_raises(backend_name):
    x = minicnn.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"does not record in-place .*\(y = y \+ x"):
        y.add_(1)
    with pytest.raises(RuntimeError, match="does not record in-place"):
        minicnn.zeros(2).add_(x)


def test_inplace_methods_values(backend_name):
    t = minicnn.tensor([1.0, 2.0, 3.0])
    assert t.add_(minicnn.ones(3), alpha=2) is t and t.tolist() == [3.0, 4.0, 5.0]
    assert t.sub_(1, alpha=2).tolist() == [1.0, 2.0, 3.0]
    assert t.mul_(minicnn.tensor(2.0)).tolist() == [2.0, 4.0, 6.0]
    assert t.div_(4).tolist() == [0.5, 1.0, 1.5]
    assert t.clamp_(max=1.0).tolist() == [0.5, 1.0, 1.0]
    assert t.fill_(minicnn.tensor(7.0)).tolist() == [7.0] * 3
    assert t.copy_(minicnn.tensor([1, 2, 3])).tolist() == [1.0, 2.0, 3.0]  # cast to float32
    assert t.dtype == np.float32
    t.copy_(minicnn.tensor(9.0, dtype="float64"))  # broadcast, cast
    assert t.tolist() == [9.0] * 3
    i = minicnn.tensor([1, 2])
    i *= 3
    i += minicnn.tensor([True, False])
    assert i.tolist() == [4, 6] and i.dtype == np.int64


def test_views_share_the_update(backend_name):
    w = nn.Parameter(minicnn.zeros(2, 2))
    view = w.data
    with minicnn.no_grad():
        w.add_(1)
    assert view.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_inplace_rejects_what_pytorch_rejects(backend_name):
    i = minicnn.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to .* int64"):
        i += 0.5
    with pytest.raises(RuntimeError, match="result type float32 can't be cast"):
        i.div_(2)
    a = minicnn.zeros(3)
    with pytest.raises(
        RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"
    ):
        a += minicnn.ones(2, 3)
    with pytest.raises(RuntimeError, match="copy_: src: shape"):
        a.copy_(minicnn.ones(2))
    with pytest.raises(TypeError, match="fill_: value: expected a number"):
        a.fill_("x")
    with pytest.raises(TypeError, match="normal_: expected a floating-point tensor"):
        i.normal_()
    with pytest.raises(ValueError, match="uniform_: expected from <= to"):
        a.uniform_(2, 1)


def test_random_fills_follow_manual_seed(backend_name):
    minicnn.manual_seed(3)
    a = minicnn.zeros(2000).normal_(1.0, 2.0).numpy().copy()
    b = minicnn.zeros(2000).uniform_(**{"from": -1, "to": 3}).numpy().copy()
    minicnn.manual_seed(3)
    np.testing.assert_array_equal(minicnn.zeros(2000).normal_(1.0, 2.0).numpy(), a)
    assert abs(a.mean() - 1.0) < 0.15 and abs(a.std() - 2.0) < 0.15
    assert b.min() >= -1 and b.max() < 3 and abs(b.mean() - 1.0) < 0.1


def test_format_of_a_0d_tensor(backend_name):
    loss = minicnn.tensor(1.234567)
    assert f"{loss:.4f}" == "1.2346"
    assert f"{minicnn.tensor(7):3d}" == "  7"
    assert f"{minicnn.tensor([1.0])}" == str(minicnn.tensor([1.0]))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{minicnn.tensor([1.0]):.2f}"  # as PyTorch: only 0-d tensors take a format spec
