"""A small CNN trained the standard PyTorch way: nn.Module, DataLoader over a TensorDataset,
SGD with momentum and a step schedule, train/eval modes, checkpoint-style state_dicts."""

import math

import numpy as np

import minicnn as torch
import minicnn.nn as nn
import minicnn.nn.functional as F
import minicnn.optim as optim
from minicnn.utils.data import DataLoader, TensorDataset, random_split


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(p=0.0)  # no random masks: two frameworks draw different ones
        self.fc = nn.Linear(8 * 2 * 2, 3)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc(self.dropout(x))


def init_weights(model):
    # deterministic weights, so two frameworks start from the same point
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if name.endswith("weight") and p.dim() > 1:
                fan_in = p[0].numel()
                values = np.sin(np.arange(p.numel()) * 0.7 + i) / math.sqrt(fan_in)
                p.copy_(torch.tensor(values, dtype=torch.float32).view_as(p))
            elif name.endswith("bias"):
                p.fill_(0.01 * i)


rng = np.random.default_rng(1)
images = rng.normal(size=(96, 1, 8, 8)).astype(np.float32)
labels = (images[:, 0, :4].mean(axis=(1, 2)) > 0).astype(np.int64) + (
    images[:, 0, 4:].mean(axis=(1, 2)) > 0.2
)
dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
parts = random_split(dataset, [0.75, 0.25], generator=torch.Generator().manual_seed(0))
print(
    "split:",
    [len(p) for p in parts],
    sorted(parts[0].indices + parts[1].indices) == list(range(96)),
)
# fixed halves below: the frameworks' generators draw different permutations
train_set = torch.utils.data.Subset(dataset, list(range(64)))
test_set = torch.utils.data.Subset(dataset, list(range(64, 96)))
train_loader = DataLoader(train_set, batch_size=16, shuffle=False, num_workers=2)
test_loader = DataLoader(test_set, batch_size=32)

device = torch.device("cpu")
model = Net().to(device)
init_weights(model)
print("parameters:", sum(p.numel() for p in model.parameters() if p.requires_grad))
print("state keys:", list(model.state_dict().keys())[:6])
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

for epoch in range(4):
    model.train()
    running_loss = 0.0
    for inputs, targets in train_loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    scheduler.step()
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, targets in test_loader:
            outputs = model(inputs)
            _, predicted = torch.max(outputs.data, 1)
            total += targets.size(0)
            correct += (predicted == targets).sum().item()
    print(
        f"epoch {epoch}: loss {running_loss / len(train_loader):.4f} test acc {100.0 * correct / total:.2f} lr {scheduler.get_last_lr()[0]:.4f}"
    )

print("running mean:", [round(v, 4) for v in model.features[1].running_mean.tolist()])
probs = F.softmax(model(torch.from_numpy(images[:2])), dim=1)
print("probs sum:", [round(v, 4) for v in probs.sum(dim=1).tolist()])
