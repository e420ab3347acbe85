"""PyTorch's factories: shapes, dtypes, device=, memory sharing, seeding."""

import numpy as np
import pytest

import minicnn


def test_shapes_and_dtypes(backend_name):
    assert minicnn.zeros(size=(2, 3)).shape == (2, 3) and minicnn.rand(size=(4,)).shape == (4,)
    assert minicnn.empty(2, 3).shape == (2, 3) and minicnn.empty(2).dtype == np.float32
    assert minicnn.eye(3).tolist() == np.eye(3).tolist()
    assert minicnn.eye(2, 3, dtype=minicnn.long).tolist() == [[1, 0, 0], [0, 1, 0]]
    np.testing.assert_allclose(minicnn.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert minicnn.full((2,), 3).dtype == np.int64  # as PyTorch: the dtype of the fill value
    assert (
        minicnn.full((2,), True).dtype == np.bool_ and minicnn.full((2,), 3.0).dtype == np.float32
    )
    assert minicnn.ones(2).new_zeros(3).shape == (3,)
    assert minicnn.ones(2, dtype="float64").new_full((2, 2), 7).dtype == np.float64
    for f in (minicnn.rand_like, minicnn.randn_like, minicnn.empty_like):
        y = f(minicnn.zeros(2, 3, dtype="float64"))
        assert y.shape == (2, 3) and y.dtype == np.float64 and y.backend == backend_name
    assert minicnn.full_like(minicnn.zeros(2), 5).tolist() == [5.0, 5.0]
    assert minicnn.zeros(2, device="cpu").device == minicnn.device("cpu")


def test_integer_draws_follow_manual_seed(backend_name):
    minicnn.manual_seed(0)
    a = minicnn.randint(0, 10, (50,))
    p = minicnn.randperm(8)
    assert a.dtype == np.int64 and 0 <= a.numpy().min() and a.numpy().max() < 10
    assert sorted(p.tolist()) == list(range(8))
    assert minicnn.randint(5, size=(3,)).numpy().max() < 5
    minicnn.manual_seed(0)
    assert minicnn.randint(0, 10, (50,)).tolist() == a.tolist()
    assert minicnn.randperm(8).tolist() == p.tolist()
    with pytest.raises(ValueError, match="randint: expected low < high"):
        minicnn.randint(3, 3, (2,))
    with pytest.raises(NotImplementedError, match="generator"):
        minicnn.randn(2, generator=object())


def test_normal(backend_name):
    minicnn.manual_seed(1)
    z = minicnn.normal(2.0, 3.0, size=(4000,))
    assert abs(z.numpy().mean() - 2) < 0.2 and abs(z.numpy().std() - 3) < 0.2
    m = minicnn.normal(minicnn.tensor([0.0, 100.0]), 0.001)
    np.testing.assert_allclose(m.numpy(), [0, 100], atol=0.01)
    with pytest.raises(TypeError, match="normal: expected size="):
        minicnn.normal(0.0, 1.0)


def test_tensor_as_tensor_from_numpy_share_as_pytorch(backend_name):
    a = np.arange(3.0)
    t = minicnn.tensor(a)
    a[0] = 9
    assert t[0].item() == 0  # tensor() copies
    s = minicnn.from_numpy(a)
    a[1] = 7
    assert s.tolist() == [9, 7, 2] and s.dtype == np.float64  # from_numpy shares, keeps dtype
    if backend_name != "cupy":
        assert minicnn.as_tensor(a).array is a  # shares when nothing needs converting
    assert minicnn.as_tensor([1, 2]).dtype == np.int64
    assert minicnn.as_tensor(a, dtype=minicnn.float32).dtype == np.float32
    assert minicnn.tensor([1.0], device="cpu").device == minicnn.device("cpu")
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray"):
        minicnn.from_numpy([1, 2])


def test_dtype_aliases_and_type():
    assert minicnn.float is minicnn.float32 and minicnn.double == np.float64
    assert minicnn.long == np.int64 and minicnn.int == np.int32 and minicnn.bool == np.bool_
    x = minicnn.tensor([1, 2])
    assert x.type() == "torch.LongTensor" and x.float().type() == "torch.FloatTensor"
    assert x.type(minicnn.float32).dtype == np.float32
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert minicnn.is_tensor(x) and not minicnn.is_tensor(1) and minicnn.numel(x) == 2
    assert x.dim() == 1 and x.nelement() == 2 and not minicnn.is_floating_point(x)
