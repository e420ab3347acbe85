"""Tensors, autograd and the idioms whose meaning differs between frameworks when done wrong:
max/min pairs, .data, in-place updates, formatting, argmax spellings."""

import numpy as np

import minicnn as torch
import minicnn.nn.functional as F

x = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
values, indices = torch.max(x, 1)
print("max dim:", values.tolist(), indices.tolist())
print("max named:", x.max(dim=0).values.tolist(), x.min(1).indices.tolist())
print("max all:", torch.max(x).item(), "elementwise:", torch.max(x, torch.full((3,), 3.5)).tolist())
print("argmax:", x.argmax(dim=1).tolist(), x.argmax(axis=0).tolist(), x.argmax().item())
print("topk:", torch.topk(x, 2).values.tolist(), torch.topk(x, 2, dim=0).indices.tolist())
s = torch.sort(x, dim=1, descending=True)
print("sort:", s.values.tolist(), s.indices.tolist())
print(
    "shapes:",
    tuple(x.view(3, 2).shape),
    tuple(x.reshape(-1).shape),
    tuple(x.t().shape),
    tuple(x.unsqueeze(0).shape),
)
print("dims:", x.dim(), x.numel(), x.size(1), list(x.size()), len(x))
a, b = torch.chunk(torch.arange(6), 2)
print("chunk:", a.tolist(), b.tolist(), [t.tolist() for t in torch.arange(5).split(2)])
print("cat/stack:", tuple(torch.cat([x, x], dim=0).shape), tuple(torch.stack([x, x], dim=2).shape))
print("unbind:", [t.tolist() for t in x.unbind(1)])
print("where:", torch.where(x > 2, x, torch.zeros_like(x)).tolist())
print("masked_fill:", x.masked_fill(x < 3, -1.0).tolist())
print("gather:", torch.gather(x, 1, torch.tensor([[2], [0]])).tolist())
print("clamp:", x.clamp(2, 4).tolist(), x.clamp(min=3).sum().item())
print("eq:", (x == 5).sum().item(), x.eq(2).any().item(), torch.all(x > 0).item())
print("einsum:", torch.einsum("ij,kj->ik", x, x).tolist())
print(
    "mm:", torch.mm(x, x.t()).tolist(), tuple(torch.bmm(x.unsqueeze(0), x.t().unsqueeze(0)).shape)
)
print("repeat:", torch.tensor([1, 2]).repeat(2, 2).tolist())
print("eye/linspace:", torch.eye(2).tolist(), torch.linspace(0, 1, 5).tolist())
print(
    "full/zeros:",
    torch.full((2,), 7).tolist(),
    tuple(torch.zeros(2, 3).shape),
    tuple(torch.ones(size=(1, 2)).shape),
)
print(
    "dtypes:",
    x.dtype == torch.float32,
    x.long().dtype == torch.int64,
    torch.tensor([1, 2]).dtype == torch.long,
)
print("type:", x.type(), x.long().type(), x.type(torch.float64).dtype == torch.float64)
print("float():", torch.tensor([1, 2, 3]).float().mean().item())
print(
    "from_numpy:", torch.from_numpy(np.arange(3.0)).tolist(), torch.as_tensor([1.5, 2.5]).tolist()
)
print("one_hot:", F.one_hot(torch.tensor([0, 2]), 3).tolist())
print("unique:", torch.unique(torch.tensor([3, 1, 3, 2])).tolist())
print("allclose:", torch.allclose(x, x + 1e-9), torch.equal(x, x.clone()))
print("isnan:", torch.isnan(torch.tensor([1.0, float("nan")])).tolist())

# autograd
w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
loss = (w * w).sum() + w.max()
print("next_functions:", len(loss.grad_fn.next_functions), loss.grad_fn.next_functions[0][1])
loss.backward()
print("grad:", w.grad.tolist(), "leaf:", w.is_leaf, loss.requires_grad)
print(f"format: {loss:.4f} {loss.item():.2f}")
(g,) = torch.autograd.grad((w * 3).sum(), w)
print("autograd.grad:", g.tolist(), w.grad.tolist())
with torch.no_grad():
    w -= 0.5 * w.grad  # the same tensor, updated
    print("after -=:", w.tolist(), w.requires_grad)
w.grad.zero_()
w.data.mul_(2)
print("data:", w.tolist(), w.grad.tolist())
try:
    w.add_(1)
except RuntimeError as e:
    print("in-place on leaf: RuntimeError", "leaf Variable" in str(e))
with torch.set_grad_enabled(False):
    print("grad mode off:", (w * 2).requires_grad)
print("detach:", w.detach().requires_grad, w.requires_grad)
h = torch.ones(2, requires_grad=True) * 3
h += 1
print("+= in graph:", h.tolist(), h.requires_grad)
