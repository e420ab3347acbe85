"""einsum (gradcheck over several equations, against numpy.einsum), mm and bmm."""

import numpy as np
import pytest
from helpers import check_op

import minicnn

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("nchw,oc->nohw", [(1, 2, 2, 2), (3, 2)]),
    ("ij,jk,kl->il", [(2, 2), (2, 3), (3, 2)]),
    ("ik,kj", [(2, 3), (3, 2)]),  # implicit output: "ij"
    ("bik,j->bij", [(2, 2, 3), (2,)]),  # k is summed within the first operand alone
]


@pytest.mark.parametrize("equation, shapes", EQUATIONS)
def test_einsum(backend_name, equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-1, 1, s) for s in shapes]
    check_op(
        lambda *ts: minicnn.einsum(equation, *ts),
        *arrays,
        ref=lambda *a: np.einsum(equation, *a),
    )
    ts = [minicnn.tensor(a) for a in arrays]
    np.testing.assert_allclose(
        minicnn.einsum(equation, ts).numpy(), np.einsum(equation, *arrays), rtol=1e-5
    )


def test_einsum_errors(backend_name):
    a = minicnn.zeros(2, 3)
    with pytest.raises(ValueError, match="operand 0 has shape"):
        minicnn.einsum("i,j->ij", a, a)
    with pytest.raises(ValueError, match="subscript 'j' has size 3 in one operand and 2"):
        minicnn.einsum("ij,jk->ik", a, a)
    with pytest.raises(NotImplementedError, match=r"'\.\.\.' is not supported"):
        minicnn.einsum("...i->i", a)
    with pytest.raises(NotImplementedError, match="repeats a subscript"):
        minicnn.einsum("ii->i", minicnn.zeros(2, 2, requires_grad=True))


def test_mm_and_bmm(backend_name):
    a, b = minicnn.ones(2, 3), minicnn.ones(3, 4)
    assert minicnn.mm(a, b).shape == (2, 4) and a.mm(b).tolist()[0][0] == 3.0
    assert minicnn.bmm(minicnn.ones(5, 2, 3), minicnn.ones(5, 3, 1)).shape == (5, 2, 1)
    with pytest.raises(ValueError, match=r"mm: input: expected a 2-D tensor \(a matrix\)"):
        minicnn.mm(minicnn.ones(2, 3, 1), b)
    with pytest.raises(ValueError, match=r"bmm: input: expected a 3-D tensor"):
        minicnn.bmm(a, b)
    with pytest.raises(ValueError, match="bmm: mat2: expected batch size 5"):
        minicnn.bmm(minicnn.ones(5, 2, 3), minicnn.ones(4, 3, 1))
