"""gradcheck itself: it passes correct backwards, refuses float32, and catches wrong ones (a
scaled gradient, a transposed one, a wrong broadcast reduction) in full and fast mode, with a
message that names the input, the element and both values. check_graph (and gradcheck's
per_op mode) names the op of a graph whose backward is wrong."""

import numpy as np
import pytest
from helpers import examples
from hypothesis import given, settings
from strategies import ConvCase, conv_cases, seeds, uniform

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


@pytest.mark.parametrize("per_op", [False, True])
def test_gradcheck_refuses_float32_as_bad_input_not_as_a_failed_check(backend_name, per_op):
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        TypeError,
        match=r"inputs\[0\]: gradcheck needs float64 inputs .* got float32; pass x.double\(\)",
    ) as info:
        gradcheck(lambda t: t * t, x, per_op=per_op)
    assert not isinstance(info.value, GradcheckError)
    with pytest.raises(TypeError, match=r"inputs\[1\]: gradcheck needs float64"):
        gradcheck(lambda a, b: a * b, (leaf([1.0, 2.0]), x), per_op=per_op)


def test_gradcheck_needs_something_to_check(backend_name):
    with pytest.raises(ValueError, match="inputs: no Tensor among the inputs requires grad"):
        gradcheck(lambda t: t * 2, minicnn.tensor([1.0], dtype="float64"))
    with pytest.raises(TypeError, match="fn: must return a Tensor, got float"):
        gradcheck(lambda t: 1.0, leaf([1.0]))
    with pytest.raises(TypeError, match="fn: its output must be float64, got float32"):
        gradcheck(lambda t: t.float(), leaf([1.0]))
    with pytest.raises(ValueError, match="fn: its output does not require grad"):
        gradcheck(lambda t: minicnn.ones(2, dtype="float64"), leaf([1.0]))


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


# check_graph: the op to blame


class BrokenTanh(minicnn.Function):
    """tanh whose backward forgets to square: gy * (1 - y) instead of gy * (1 - y**2)."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y)


class BrokenScale(minicnn.Function):
    """y = 2 x with the gradient of y = 3 x (a second wrong op, later in the chain)."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return 3 * gy


def conv_act_pool(x, w, b, act):
    """conv (padding 1) -> activation -> 2x2 max pool -> a broken scale -> sum."""
    import minicnn.nn.functional as F

    h = F.conv2d(x, w, b, padding=1)  # (N, OC, H, W)
    return BrokenScale.apply(F.max_pool2d(act(h), 2)).sum()  # pooled: (N, OC, H/2, W/2)


def _chain_inputs(dtype="float32"):
    x = minicnn.randn(2, 2, 6, 6, dtype=dtype, requires_grad=True)
    w = minicnn.randn(3, 2, 3, 3, dtype=dtype, requires_grad=True)
    b = minicnn.randn(3, dtype=dtype, requires_grad=True)
    return x, w, b


def test_check_graph_names_the_first_broken_function_of_a_conv_act_pool_chain(backend_name):
    x, w, b = _chain_inputs()  # a float32 graph, as a network records it
    out = conv_act_pool(x, w, b, BrokenTanh.apply)
    # BrokenScale, later in the chain, is wrong too: the first wrong op is the one named.
    with pytest.raises(
        GradcheckError,
        match=r"check_graph: the backward of BrokenTanh \(op 2 of \d+, in the order forward ran "
        r"them; tensor inputs \(2, 3, 6, 6\) float32\) disagrees with finite differences: "
        r"gradcheck \(fast mode\) failed for inputs\[0\]",
    ):
        minicnn.check_graph(out)
    with pytest.raises(GradcheckError, match=r"the backward of BrokenTanh .*: gradcheck failed"):
        minicnn.check_graph(out, fast_mode=False)
    assert x.grad is None and w.grad is None  # it checks copies, never the graph's tensors
    out.backward()  # and leaves the graph usable


class ForgetsTheLinearTerm(minicnn.Function):
    """y = 2 x + x**2 whose backward forgets the 2: gy * 2 x. Wrong at every x."""

    def forward(self, x):
        self.x = x
        return 2 * x + x * x

    def backward(self, gy):
        return gy * 2 * self.x


@settings(max_examples=examples(10))
@given(case=conv_cases(max_elements=40), seed=seeds())
def test_check_graph_names_a_broken_activation_on_drawn_conv_geometry(
    backend_name, case: ConvCase, seed
):
    import minicnn.nn.functional as F

    x, w = (
        minicnn.tensor(uniform(seed + i, s), "float32")
        for i, s in enumerate((case.x_shape, case.w_shape))
    )
    b = minicnn.tensor(uniform(seed + 2, (case.OC,)), "float32") if case.bias else None
    for t in (x, w, b):
        if t is not None:
            t.requires_grad_()
    kernel = (min(2, case.out_hw[0]), min(2, case.out_hw[1]))

    def chain(square):
        return F.max_pool2d(square(F.conv2d(x, w, b, **case.kwargs())), kernel).sum()

    assert minicnn.check_graph(chain(lambda h: 2 * h + h * h), fast_mode=False) >= 4
    shape = str(case.y_shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(
        GradcheckError, match=rf"backward of ForgetsTheLinearTerm .* inputs {shape} "
    ):
        minicnn.check_graph(chain(ForgetsTheLinearTerm.apply), fast_mode=False)


def test_check_graph_names_the_later_op_once_the_first_is_right(backend_name):
    x, w, b = _chain_inputs()
    out = conv_act_pool(x, w, b, minicnn.tanh)
    with pytest.raises(GradcheckError, match=r"the backward of BrokenScale \(op \d+ of \d+"):
        minicnn.check_graph(out)


def test_check_graph_passes_a_correct_graph_with_arguments_and_casts(backend_name):
    import minicnn.nn.functional as F

    x64, w, b = _chain_inputs("float64")
    x = x64.float().double()  # a float32 cast (skipped: it cannot run in float64), then back
    h = F.conv2d(x, w, b, stride=2, padding=1)  # (2, 3, 3, 3)
    y = F.leaky_relu(h, negative_slope=0.2).reshape(2, -1) @ minicnn.randn(27, 4, dtype="float64")
    out = F.cross_entropy(y, minicnn.tensor([1, 3]))  # an int64 input is passed as it is
    # Cast to float32 is left out; Cast back, Conv2d, LeakyReLU, Reshape, MatMul, CE remain.
    assert minicnn.check_graph(out, fast_mode=False) >= 6


def test_check_graph_does_not_blame_max_pooling_for_tied_zeros_after_relu(backend_name):
    import minicnn.nn.functional as F

    x = minicnn.tensor(np.r_[-np.ones(12), np.arange(1.0, 5.0)].reshape(1, 1, 4, 4), "float64")
    x.requires_grad_()
    pooled = F.max_pool2d(F.relu(x), 2)  # three windows of four tied zeros, one without ties
    with pytest.raises(GradcheckError):  # at the recorded inputs finite differences disagree
        gradcheck(lambda h: F.max_pool2d(h, 2), F.relu(x).detach().requires_grad_())
    assert minicnn.check_graph(pooled.sum()) == 3  # ReLU, MaxPool2d (after the jitter), Sum


def test_gradcheck_per_op_names_the_op(backend_name):
    inputs = _chain_inputs("float64")
    with pytest.raises(GradcheckError, match=r"^gradcheck \(fast mode\) failed for inputs\[0\]"):
        gradcheck(lambda *a: conv_act_pool(*a, BrokenTanh.apply), inputs, fast_mode=True)
    with pytest.raises(GradcheckError, match=r"^check_graph: the backward of BrokenTanh \(op 2"):
        gradcheck(lambda *a: conv_act_pool(*a, BrokenTanh.apply), inputs, per_op=True)


def test_check_graph_needs_the_graph_before_backward_frees_it(backend_name):
    x = leaf([0.5, -1.0])
    out = (x.tanh() * 3).sum()
    out.backward(retain_graph=True)
    assert minicnn.check_graph(out) == 3  # Tanh, Mul, Sum
    out.backward()
    with pytest.raises(
        RuntimeError, match=r"check_graph: Sum \(op 1 of 1\) has been freed by backward"
    ):
        minicnn.check_graph(out)


def test_check_graph_rejects_what_it_cannot_check(backend_name):
    with pytest.raises(TypeError, match="output: expected a Tensor, got list"):
        minicnn.check_graph([1.0])
    with pytest.raises(ValueError, match=r"output: has no recorded graph \(grad_fn is None\)"):
        minicnn.check_graph(leaf([1.0]))


def test_check_graph_does_not_call_backward_hooks(backend_name):
    import minicnn.nn as nn

    conv = nn.Conv2d(2, 3, 3).double()
    calls = []
    conv.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    out = conv(minicnn.randn(1, 2, 5, 5, dtype="float64", requires_grad=True)).tanh().sum()
    assert minicnn.check_graph(out) >= 3
    assert calls == []
    out.backward()
    assert calls == [1]
