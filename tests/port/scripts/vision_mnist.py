"""MNIST the torchvision way: datasets with per-item transforms, a DataLoader, a LeNet-style
model, Adam, and an evaluation loop with top-1 accuracy."""

import os

import numpy as np

import minicnn as torch
import minicnn.nn as nn
import minicnn.nn.functional as F
import minicnn.optim as optim
import minicnn.vision as torchvision
import minicnn.vision.transforms as transforms

root = os.environ["PORT_DATA_ROOT"]
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
test_set = torchvision.datasets.MNIST(root=root, train=False, download=False, transform=transform)
image, label = torchvision.datasets.MNIST(root=root, train=False)[0]
print(
    "raw item:", type(image).__name__, image.size, label, len(test_set), tuple(test_set.data.shape)
)
print("classes:", test_set.classes[:3], int(test_set.targets[:100].sum()))
x0, y0 = test_set[0]
print(f"item: {tuple(x0.shape)} {x0.mean().item():.4f} {x0.std().item():.4f} {y0}")
padded = transforms.Compose(
    [transforms.Pad(2), transforms.CenterCrop(30), transforms.Resize(16), transforms.ToTensor()]
)(image)
print(f"geometry: {tuple(padded.shape)} {padded.sum().item():.3f}")

train_part = torch.utils.data.Subset(test_set, range(0, 512))
eval_part = torch.utils.data.Subset(test_set, range(512, 768))
train_loader = torch.utils.data.DataLoader(train_part, batch_size=64, shuffle=False)
eval_loader = torch.utils.data.DataLoader(
    eval_part, batch_size=128, shuffle=False, num_workers=2, pin_memory=True
)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), (2, 2))
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)

    def num_flat_features(self, x):
        size = x.size()[1:]
        n = 1
        for s in size:
            n *= s
        return n


model = LeNet()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.tensor(np.sin(np.arange(p.numel()) * 1.3 + i) * 0.1, dtype=torch.float32).reshape(
                p.shape
            )
        )
optimizer = optim.Adam(model.parameters(), lr=1e-3)

model.train()
for batch_idx, (data, target) in enumerate(train_loader):
    optimizer.zero_grad()
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()
    if batch_idx % 2 == 0:
        print(
            f"Train [{batch_idx * len(data)}/{len(train_loader.dataset)}] loss: {loss.item():.4f}"
        )

model.eval()
test_loss, correct = 0.0, 0
with torch.no_grad():
    for data, target in eval_loader:
        output = model(data)
        test_loss += F.nll_loss(output, target, reduction="sum").item()
        pred = output.argmax(dim=1, keepdim=True)
        correct += pred.eq(target.view_as(pred)).sum().item()
print(
    f"Test: average loss {test_loss / len(eval_loader.dataset):.4f}, accuracy {correct}/{len(eval_loader.dataset)}"
)
