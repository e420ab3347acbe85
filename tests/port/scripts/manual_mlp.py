"""A two-layer network trained by hand, as the first chapters of many courses do: raw
tensors, autograd, a manual SGD step under no_grad, and a device chosen at run time."""

import numpy as np

import minicnn as torch

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
rng = np.random.default_rng(0)
X = torch.tensor(rng.normal(size=(64, 4)), dtype=torch.float32).to(device)
true_w = torch.tensor([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.0], [2.0, 0.5]], device=device)
y = (X @ true_w).argmax(dim=1)

w1 = torch.tensor(
    rng.normal(size=(4, 8)) * 0.5, dtype=torch.float32, device=device, requires_grad=True
)
b1 = torch.zeros(8, device=device, requires_grad=True)
w2 = torch.tensor(rng.normal(size=(8, 2)) * 0.5, dtype=torch.float32).to(device).requires_grad_()
b2 = torch.zeros(2, requires_grad=True, device=device)
params = [w1, b1, w2, b2]
print("device type:", X.device.type == device.type, next(iter(params)).is_leaf)

lr = 0.5
for step in range(30):
    h = (X @ w1 + b1).clamp(min=0)
    logits = h @ w2 + b2
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
    if step % 10 == 9:
        _, predicted = torch.max(logits.data, 1)
        correct = (predicted == y).sum().item()
        print(f"step {step + 1}: loss {loss.item():.4f} accuracy {100 * correct / y.size(0):.1f}%")

print(f"final loss {loss:.4f}", "w1 norm", f"{(w1 * w1).sum().sqrt().item():.4f}")
