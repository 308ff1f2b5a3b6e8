"""Training samples/s of the MLP autoencoder 784-512-128-32 (mirrored, MSE, Adam,
batch 128) in PyTorch on this CPU: the yardstick for aecl bench's mlp.model figure.
Run with Debian's python3-torch: /usr/bin/python3 scripts/quality/mlp_torch_speed.py"""
import time
import torch
from torch import nn

torch.manual_seed(0)
torch.set_num_threads(2)  # both cores, as aecl uses them through PoCL
model = nn.Sequential(
    nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 32),
    nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(128, 784)
rates = []
for rnd in range(6):
    t0 = time.perf_counter()
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), x)
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    if rnd:
        rates.append(20 * 128 / dt)
rates.sort()
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: median {rates[len(rates) // 2]:.0f} samples/s "
      f"(runs: {', '.join(f'{r:.0f}' for r in rates)})")
