"""The layers, losses, optimizers and schedulers courses use beyond the basics, each run on
fixed inputs: outputs, gradients and a few optimizer steps."""

import numpy as np

import minicnn as torch
import minicnn.nn as nn
import minicnn.nn.functional as F
import minicnn.optim as optim

rng = np.random.default_rng(2)
x = torch.tensor(rng.normal(size=(2, 3, 4, 4)), dtype=torch.float32)


def show(name, t):
    print(f"{name}: shape {tuple(t.shape)} sum {t.sum().item():.4f} sq {(t * t).sum().item():.4f}")


for layer in [nn.GELU(), nn.GELU(approximate="tanh"), nn.ELU(alpha=0.5), nn.SiLU(), nn.LeakyReLU(0.1),
              nn.ZeroPad2d((1, 0, 2, 1)), nn.Upsample(scale_factor=2), nn.Upsample(size=(6, 5), mode="bilinear"),
              nn.LocalResponseNorm(2), nn.AdaptiveAvgPool2d(1), nn.AvgPool2d(2)]:  # fmt: skip
    show(type(layer).__name__, layer(x))
show("interpolate aa", F.interpolate(x, size=(3, 2), mode="bilinear", antialias=True))
show("unflatten", nn.Unflatten(1, (2, 24))(x.flatten(1)))

prelu = nn.PReLU(3)
convt = nn.ConvTranspose2d(3, 2, kernel_size=3, stride=2, padding=1, output_padding=1)
with torch.no_grad():
    convt.weight.copy_(
        torch.tensor(np.cos(np.arange(54.0)).reshape(3, 2, 3, 3) * 0.2, dtype=torch.float32)
    )
    convt.bias.fill_(0.1)
y = convt(prelu(x))
show("convtranspose", y)
y.pow(2).mean().backward()
print(
    f"grads: prelu {prelu.weight.grad.sum().item():.4f} convt {convt.weight.grad.abs().sum().item():.4f}"
)

logits = torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float32)
target = torch.tensor([0, 2, 1, 2])
probs = torch.sigmoid(logits)
binary = torch.tensor(rng.integers(0, 2, size=(4, 3)), dtype=torch.float32)
losses = {
    "nll": nn.NLLLoss()(F.log_softmax(logits, dim=1), target),
    "l1": nn.L1Loss()(probs, binary),
    "smooth_l1": nn.SmoothL1Loss(beta=0.5)(logits, binary),
    "bce": nn.BCELoss()(probs, binary),
    "bce_logits": nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0]))(logits, binary),
    "ce_smooth": F.cross_entropy(logits, target, label_smoothing=0.1),
    "mse": F.mse_loss(probs, binary, reduction="sum"),
}
print("losses:", " ".join(f"{k}={v.item():.4f}" for k, v in losses.items()))

for name, make in [
    ("SGD", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", lambda p: optim.Adam(p, lr=0.01)),
    ("AdamW", lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    ("RMSprop", lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5)),
    ("Adagrad", lambda p: optim.Adagrad(p, lr=0.1)),
    ("Adadelta", lambda p: optim.Adadelta(p, lr=1.0)),
]:
    w = nn.Parameter(torch.tensor([[0.5, -1.0], [1.5, 0.2]]))
    opt = make([w])
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    for _ in range(5):
        opt.zero_grad()
        loss = ((w @ torch.tensor([1.0, 2.0]) - torch.tensor([0.3, -0.4])) ** 2).sum()
        loss.backward()
        nn.utils.clip_grad_norm_([w], max_norm=1.0)
        opt.step()
        sched.step()
    print(f"{name}: {[round(v, 4) for v in w.flatten().tolist()]} lr {sched.get_last_lr()[0]:.5f}")

opt = optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
lam = optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: 0.5**epoch)
lrs = []
for _ in range(3):
    opt.step()
    lam.step()
    lrs.append(round(opt.param_groups[0]["lr"], 4))
plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
for metric in [1.0, 0.9, 0.95, 0.95, 0.95, 0.8]:
    plateau.step(metric)
    lrs.append(round(opt.param_groups[0]["lr"], 4))
print("schedules:", lrs)
