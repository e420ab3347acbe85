"""gradcheck itself: it passes correct backwards, refuses float32, and catches wrong ones (a
scaled gradient, a transposed one, a wrong broadcast reduction) in full and fast mode, with a
message that names the input, the element and both values."""

import numpy as np
import pytest

import minicnn
from minicnn import GradcheckError, gradcheck

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def leaf(values):
    return minicnn.tensor(values, dtype="float64", requires_grad=True)


class ScaledSquare(minicnn.Function):
    """y = x**2 with a gradient 1% too large."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * 2 * self.x * 1.01


class TransposedMatVec(minicnn.Function):
    """y = A @ x with the gradient A @ gy instead of A^T @ gy."""

    def forward(self, A, x):
        self.A = A
        return A @ x

    def backward(self, gy):
        return None, self.A @ gy


class MeanInsteadOfSum(minicnn.Function):
    """y = a + b, b broadcast along axis 0, reduced back by mean instead of sum (same shape)."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy.mean(axis=0, keepdims=True)


class NoGradient(minicnn.Function):
    """y = 3 x whose backward forgets the input."""

    def forward(self, x):
        return 3 * x

    def backward(self, gy):
        return gy * 0


A = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [0.0, 4.0, -2.0]])  # not symmetric


def test_gradcheck_passes_correct_ops(backend_name):
    x, w = leaf([[0.5, -1.0], [2.0, 0.3]]), leaf([[1.5, 0.2], [-0.7, 1.0]])
    c = minicnn.tensor([1.0, 2.0], dtype="float64")  # a constant input: not checked
    for fast_mode in (False, True):
        assert (
            gradcheck(lambda a, b, k: (a @ b).tanh() * k + a.exp(), (x, w, c), fast_mode=fast_mode)
            is True
        )
        assert gradcheck(lambda a, p: a**p, [x.abs(), 3], fast_mode=fast_mode) is True
        assert gradcheck(minicnn.sigmoid, x, fast_mode=fast_mode) is True
        assert gradcheck(lambda a: a.sum(), [x], fast_mode=fast_mode) is True


def test_gradcheck_leaves_the_inputs_alone(backend_name):
    x = leaf([0.5, 1.5])
    before = x.numpy().copy()
    gradcheck(lambda t: t * t, x)
    gradcheck(lambda t: t * t, x, fast_mode=True)
    assert x.grad is None
    np.testing.assert_array_equal(x.numpy(), before)


def test_gradcheck_accepts_inputs_the_output_does_not_depend_on(backend_name):
    x, y = leaf([1.0, 2.0]), leaf([3.0])
    assert gradcheck(lambda a, b: a * 2, (x, y))


def test_gradcheck_refuses_float32(backend_name):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        GradcheckError,
        match=r"inputs\[0\]: gradcheck needs float64 inputs .* got float32; pass x.double\(\)",
    ):
        gradcheck(lambda t: t * t, x)
    with pytest.raises(GradcheckError, match=r"inputs\[1\]: gradcheck needs float64"):
        gradcheck(lambda a, b: a * b, (leaf([1.0, 2.0]), x))


def test_gradcheck_needs_something_to_check(backend_name):
    with pytest.raises(GradcheckError, match="inputs: no Tensor among the inputs requires grad"):
        gradcheck(lambda t: t * 2, minicnn.tensor([1.0], dtype="float64"))
    with pytest.raises(GradcheckError, match="fn must return a Tensor, got float"):
        gradcheck(lambda t: 1.0, leaf([1.0]))
    with pytest.raises(GradcheckError, match="fn's output must be float64, got float32"):
        gradcheck(lambda t: t.float(), leaf([1.0]))


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_catches_a_scaled_gradient(backend_name):
    x = leaf([0.5, -1.5, 1.0])
    with pytest.raises(
        GradcheckError,
        match=r"gradcheck failed for inputs\[0\] at element \(1,\) \(output element \(1,\)\): numerical -3(\.0+)?, analytical -3.03 ",
    ):
        gradcheck(ScaledSquare.apply, x)
    with pytest.raises(
        GradcheckError,
        match=r"gradcheck \(fast mode\) failed for inputs\[0\]: the projection u\^T J v is numerical \S+, analytical \S+; .*element \(\d,\)",
    ):
        gradcheck(ScaledSquare.apply, x, fast_mode=True)


def test_gradcheck_catches_a_transposed_gradient(backend_name):
    a = minicnn.tensor(A, dtype="float64")
    x = leaf([1.0, -2.0, 0.5])
    # J = A, so the element (row 0, column 1) is A[0, 1] = 2 while A^T gives -1
    with pytest.raises(
        GradcheckError,
        match=r"for inputs\[1\] at element \(\d,\) \(output element \(\d,\)\): numerical -?[\d.]+, analytical -?[\d.]+",
    ):
        gradcheck(TransposedMatVec.apply, (a, x))
    with pytest.raises(GradcheckError, match=r"fast mode\) failed for inputs\[1\]"):
        gradcheck(TransposedMatVec.apply, (a, x), fast_mode=True)
    assert gradcheck(lambda m, v: m @ v, (a, x))  # the true op passes on the same inputs


def test_gradcheck_catches_a_wrong_broadcast_reduction(backend_name):
    a = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
    b = leaf([[0.5, -0.5, 1.5]])  # (1, 3), broadcast along axis 0
    with pytest.raises(
        GradcheckError,
        match=r"gradcheck failed for inputs\[1\] at element \(0, (\d)\) \(output element \(\d, \1\)\): numerical 1(\.0+)?, analytical 0.5 \(atol=1e-05, rtol=0.001\)",
    ):
        gradcheck(MeanInsteadOfSum.apply, (a, b))
    with pytest.raises(
        GradcheckError, match=r"fast mode\) failed for inputs\[1\]: .*numerical \S+, analytical \S+"
    ):
        gradcheck(MeanInsteadOfSum.apply, (a, b), fast_mode=True)
    assert gradcheck(lambda p, q: p + q, (a, b), fast_mode=True)


def test_gradcheck_catches_a_missing_gradient(backend_name):
    x = leaf([1.0, 2.0])
    with pytest.raises(
        GradcheckError,
        match=r"inputs\[0\] at element \((\d),\) \(output element \(\1,\)\): numerical 3(\.0+)?, analytical 0 ",
    ):
        gradcheck(NoGradient.apply, x)
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(NoGradient.apply, x, fast_mode=True)


def test_gradcheck_tolerances_decide(backend_name):
    x = leaf([0.5, -1.5, 1.0])
    assert gradcheck(ScaledSquare.apply, x, rtol=0.02)
    assert gradcheck(ScaledSquare.apply, x, atol=0.05)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_catches_a_nan_gradient(fast_mode):
    class NanGradient(minicnn.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy * np.nan

    with np.errstate(invalid="ignore"), pytest.raises(GradcheckError, match="analytical nan"):
        gradcheck(NanGradient.apply, leaf([1.0, 2.0]), fast_mode=fast_mode)
