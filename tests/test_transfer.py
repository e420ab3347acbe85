"""Transfer learning: frozen parameters and batch-norm statistics stay bit for bit, parameter
groups step at their own rates, a network without its head is its body, features() gives the
layer's output for a whole data set, and KNN agrees with a brute-force vote."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import data, models, nn, optim
from minicnn.nn import functional as F
from minicnn.transfer import KNN, features, freeze, param_groups, replace_head


class Net(nn.Module):
    """A body with batch norm and dropout, and a head: (N, 1, 8, 8) -> (N, 3)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 4, 3),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Flatten(),  # (N, 144)
            nn.Linear(144, 16),
            nn.BatchNorm1d(16),
            nn.ReLU(),
        )
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(self.body(x))


def snapshot(module: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def changed(before: dict, after: dict) -> set[str]:
    return {k for k in before if not np.array_equal(before[k], after[k])}


def train_steps(model, opt, steps, body_mode=None, seed=0):
    """``steps`` steps on random data; ``body_mode`` "eval" re-freezes the body's mode after
    each model.train(), as a training loop must."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        model.train()
        if body_mode == "eval":
            model.body.eval()
        x = minicnn.tensor(rng.standard_normal((8, 1, 8, 8), dtype=np.float32))
        y = minicnn.tensor(rng.integers(0, 3, 8))
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("make_opt", ["sgd", "adam"])
def test_a_frozen_body_in_eval_mode_stays_bit_for_bit(backend_name, make_opt):
    model = Net()
    freeze(model.body)
    before = snapshot(model)
    make = {
        "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True),
        "adam": lambda p: optim.Adam(p, lr=0.01, weight_decay=1e-2),
    }[make_opt]
    opt = make(model.parameters())  # all of them: frozen ones get no .grad, so no step
    train_steps(model, opt, 5, body_mode="eval")
    moved = changed(before, snapshot(model))
    assert moved == {"fc.weight", "fc.bias"}  # running stats and num_batches_tracked included
    assert all(p.grad is None for p in model.body.parameters())


def test_frozen_parameters_in_training_mode_still_move_the_running_statistics(backend_name):
    # What the test above guards against: requires_grad_(False) alone leaves batch norm in
    # training mode, which updates its running statistics (buffers, not parameters).
    model = Net()
    model.body.requires_grad_(False)
    before = snapshot(model)
    train_steps(model, optim.SGD(model.parameters(), lr=0.1), 3)
    moved = changed(before, snapshot(model))
    assert {"body.1.running_mean", "body.1.running_var", "body.6.running_mean"} <= moved
    assert not any(k.endswith(("weight", "bias")) and k.startswith("body") for k in moved)


def test_freezing_one_parameter(backend_name):
    model = Net()
    model.body[0].weight.requires_grad_(False)
    before = snapshot(model)
    train_steps(model, optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1), 3)
    moved = changed(before, snapshot(model))
    assert "body.0.weight" not in moved
    assert {"body.0.bias", "body.5.weight", "fc.weight"} <= moved


def test_parameter_groups_step_at_their_own_rates(backend_name):
    model = Net()
    groups = param_groups(model, "fc", lr=0.5)
    assert [g["lr"] for g in groups] == [0.05, 0.5]
    assert [id(p) for p in groups[1]["params"]] == [id(model.fc.weight), id(model.fc.bias)]
    opt = optim.SGD(groups, lr=0.5)
    before = snapshot(model)
    model.eval()  # no batch statistics, no dropout: one deterministic step
    x = minicnn.randn(4, 1, 8, 8)
    F.cross_entropy(model(x), minicnn.tensor([0, 1, 2, 0])).backward()
    grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    opt.step()
    after = snapshot(model)
    for name, g in grads.items():
        lr = 0.5 if name.startswith("fc.") else 0.05
        np.testing.assert_allclose(after[name], before[name] - lr * g, rtol=1e-6, atol=1e-7)


def test_param_groups_leaves_out_frozen_parameters_and_empty_groups():
    model = Net()
    model.body.requires_grad_(False)
    groups = param_groups(model, "fc", lr=0.1, body_lr=0.0)
    assert len(groups) == 1 and groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="head: expected a module name of the model, one of"):
        param_groups(model, "head", lr=0.1)


def test_replace_head_keeps_in_features_and_is_trainable(backend_name):
    model = models.lenet5(num_classes=5).requires_grad_(False)
    head = replace_head(model, "classifier.5", 7)
    assert model.classifier[5] is head and (head.in_features, head.out_features) == (84, 7)
    assert head.weight.requires_grad and head.weight.backend == backend_name
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "classifier.5.weight",
        "classifier.5.bias",
    ]
    assert model(minicnn.randn(2, 1, 32, 32)).shape == (2, 7)
    resnet = models.resnet18(num_classes=10).eval()
    resnet.fc = nn.Linear(512, 3)  # the PyTorch idiom works as it is
    assert resnet(minicnn.randn(1, 3, 32, 32)).shape == (1, 3)
    with pytest.raises(
        ValueError, match=r"name: expected the name of a Linear layer .*'classifier.4' is ReLU"
    ):
        replace_head(model, "classifier.4", 3)
    with pytest.raises(ValueError, match="num_classes: expected an int >= 1, got 0"):
        replace_head(model, "classifier.5", 0)


def test_children_without_the_last_is_the_body(backend_name):
    model = models.lenet5().eval()
    body = nn.Sequential(*list(model.children())[:-1])
    x = minicnn.randn(3, 1, 32, 32)
    np.testing.assert_array_equal(body(x).numpy(), model.features(x).numpy())


def test_features_equals_the_layers_output_and_leaves_the_model_as_it_was(backend_name):
    model = Net()
    model.train()
    model.body[1].eval()  # a mixed state, to be restored as it was
    x = minicnn.randn(10, 1, 8, 8)
    before = snapshot(model)
    modes = [m.training for m in model.modules()]
    z = features(model, x, "body.6", batch_size=4)  # BatchNorm1d's output, in eval mode
    assert [m.training for m in model.modules()] == modes
    assert not model.body[6]._forward_hooks
    np.testing.assert_array_equal(
        snapshot(model)["body.6.running_mean"], before["body.6.running_mean"]
    )
    model.eval()
    with minicnn.no_grad():
        expected = model.body[:7](x).numpy()  # (10, 16)
    assert z.shape == (10, 16) and isinstance(z, np.ndarray)
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(features(model, x), model(x).numpy(), rtol=1e-6, atol=1e-6)
    conv = features(model, x.numpy(), "body.0")  # a NumPy array in, (N, C*H*W) out
    assert conv.shape == (10, 4 * 6 * 6)


def test_features_stops_at_the_layer():
    model = Net()
    calls = []
    model.fc.register_forward_hook(lambda *args: calls.append(1))
    features(model, minicnn.randn(2, 1, 8, 8), "body.5")
    assert calls == []


def test_features_takes_a_loader_in_its_order():
    ds = data.MNISTSample(train=False)
    loader = data.DataLoader(ds, batch_size=64, transform=data.Normalize(0.5, 0.25))
    model = nn.Sequential(nn.Flatten())
    z = features(model, loader)
    np.testing.assert_allclose(z, (ds.data.reshape(len(ds), -1) / 255 - 0.5) / 0.25, atol=1e-6)


def test_features_bad_arguments():
    model = Net()
    with pytest.raises(
        ValueError, match=r"layer: expected a module name of the model, one of \['body', 'body.0'"
    ):
        features(model, minicnn.randn(2, 1, 8, 8), "body.9")
    with pytest.raises(ValueError, match=r"data: expected a batch of inputs, .* got shape \(8,\)"):
        features(model, np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="batch_size: expected an int >= 1, got 0"):
        features(model, minicnn.randn(2, 1, 8, 8), batch_size=0)
    with pytest.raises(ValueError, match="data: expected at least one image, got none"):
        features(model, [])


def brute_force_knn(X, y, Z, k, metric):
    """One test row at a time: sort all distances, count the k nearest labels, break ties by
    the nearest member of the tied classes."""
    out = []
    for z in Z:
        if metric == "cosine":
            d = 1 - X @ z / (np.linalg.norm(X, axis=1) * np.linalg.norm(z))
        else:
            d = np.linalg.norm(X - z, axis=1)
        nearest = y[np.argsort(d, kind="stable")[:k]]
        counts = np.bincount(nearest)
        best = set(np.flatnonzero(counts == counts.max()))
        out.append(next(c for c in nearest if c in best))
    return np.array(out)


@given(
    n=st.integers(5, 40),
    d=st.integers(1, 6),
    k=st.integers(1, 5),
    classes=st.integers(2, 4),
    metric=st.sampled_from(["cosine", "euclidean"]),
    seed=st.integers(0, 2**16),
)
def test_knn_equals_a_brute_force_vote(n, d, k, classes, metric, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))  # float64 continuous draws: no distance ties
    y = rng.integers(0, classes, n)
    Z = rng.standard_normal((7, d))
    knn = KNN(min(k, n), metric).fit(X, y)
    np.testing.assert_array_equal(
        knn.predict(Z, batch_size=3), brute_force_knn(X, y, Z, min(k, n), metric)
    )


def test_knn_cosine_ignores_scale_euclidean_does_not():
    X = np.array([[1.0, 0.0], [10.0, 10.0]])
    y = np.array([0, 1])
    Z = np.array([[1.0, 0.9]])  # nearly the direction of [10, 10], but close to [1, 0]
    assert KNN(1, "cosine").fit(X, y).predict(Z)[0] == 1
    assert KNN(1, "euclidean").fit(X, y).predict(Z)[0] == 0
    assert KNN(1, "cosine").fit(X * [[5.0], [0.1]], y).predict(Z)[0] == 1


def test_knn_on_embeddings_of_a_tensor_and_score():
    X = minicnn.tensor(np.eye(3, dtype=np.float32))
    knn = KNN(1, "euclidean").fit(X, minicnn.tensor([2, 0, 1]))
    assert knn.score(np.eye(3) * 0.9, [2, 0, 1]) == 1.0
    assert repr(knn) == "KNN(k=1, metric='euclidean')"


def test_knn_bad_arguments():
    with pytest.raises(ValueError, match="k: expected an int >= 1, got 0"):
        KNN(0)
    with pytest.raises(
        ValueError, match=r"metric: expected one of \('cosine', 'euclidean'\), got 'manhattan'"
    ):
        KNN(1, "manhattan")
    with pytest.raises(ValueError, match="k: expected at most 2"):
        KNN(3).fit(np.zeros((2, 4)), [0, 1])
    with pytest.raises(ValueError, match=r"y: expected 2 integer labels, got \(3,\)"):
        KNN(1).fit(np.zeros((2, 4)), [0, 1, 1])
    with pytest.raises(ValueError, match=r"X: expected an \(N, D\) array of numbers"):
        KNN(1).fit(np.zeros((2, 4, 1)), [0, 1])
    with pytest.raises(RuntimeError, match="call fit"):
        KNN(1).predict(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="Z: expected 4 columns, as X has, got 3"):
        KNN(1).fit(np.ones((2, 4)), [0, 1]).predict(np.ones((1, 3)))
