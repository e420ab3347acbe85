"""Comparisons as functions and methods, isnan/isinf/isfinite, all/any, allclose/equal."""

import numpy as np
import pytest

import minicnn


def test_comparisons_match_the_operators(backend_name):
    a = minicnn.tensor([1.0, 2.0, 3.0])
    b = minicnn.tensor([3.0, 2.0, 1.0])
    for name, op in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                     ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:  # fmt: skip
        expected = op(a.numpy(), b.numpy())
        for got in (getattr(minicnn, name)(a, b), getattr(a, name)(b), getattr(a, name)(2.0)):
            assert got.dtype == np.bool_ and got.backend == backend_name
        np.testing.assert_array_equal(getattr(minicnn, name)(a, b).numpy(), expected)
        np.testing.assert_array_equal(getattr(a, name)(2.0).numpy(), op(a.numpy(), 2.0))
    with pytest.raises(TypeError, match="eq: other: expected a Tensor or a number, got list"):
        minicnn.eq(a, [1, 2, 3])


def test_accuracy_idiom(backend_name):
    logits = minicnn.tensor([[0.1, 2.0], [3.0, 0.5], [0.2, 0.1]])
    labels = minicnn.tensor([1, 0, 1])
    _, predicted = minicnn.max(logits.data, 1)
    correct = (predicted == labels).sum().item()
    assert correct == 2 and isinstance(correct, int)
    assert predicted.eq(labels).float().mean().item() == pytest.approx(2 / 3)


def test_tests_and_truth(backend_name):
    x = minicnn.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    assert minicnn.isnan(x).tolist() == [False, True, False, False]
    assert x.isinf().tolist() == [False, False, True, True]
    assert minicnn.isfinite(x).tolist() == [True, False, False, False]
    m = minicnn.tensor([[1, 0], [1, 1]])
    assert minicnn.all(m).item() is False and m.any().item() is True
    assert m.all(dim=1).tolist() == [False, True] and m.any(0, keepdim=True).shape == (1, 2)


def test_allclose_and_equal(backend_name):
    a = minicnn.tensor([1.0, 2.0])
    assert minicnn.allclose(a, a + 1e-7) and not minicnn.allclose(a, a + 1e-3)
    assert a.allclose(a + 1e-3, atol=1e-2)
    assert minicnn.equal(a, minicnn.tensor([1.0, 2.0])) is True
    assert not minicnn.equal(a, minicnn.tensor([1.0, 2.0, 3.0]))
    assert not a.equal(minicnn.tensor([1.0, 2.5]))
