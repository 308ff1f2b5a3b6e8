#!/usr/bin/python3
"""The VAE 784-400-20 of models/vae.model in PyTorch, as a yardstick for aecl
(not part of aecl's build or tests).

Encoder dense 400 relu -> mu, logvar (20 each); decoder dense 400 relu ->
dense 784 logits. Loss per sample = BCE (summed over pixels, on the logits) +
KL(q(z|x) || N(0,I)) (summed over the code), beta 1. Adam lr 1e-3, batch 128,
shuffled each epoch. The test negative ELBO is the mean loss over the 10k test
images with one sample of z per image (as `aecl eval` does); the figure with
z = mu is printed too.

usage: /usr/bin/python3 scripts/quality/vae_torch.py [--epochs 10] [--seed 0]
       [--threads 2] [--data DIR]
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(784, 400)
        self.mu = nn.Linear(400, 20)
        self.logvar = nn.Linear(400, 20)
        self.dec1 = nn.Linear(20, 400)
        self.dec2 = nn.Linear(400, 784)

    def forward(self, x, sample=True):
        h = F.relu(self.enc(x))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if sample else mu
        return self.dec2(F.relu(self.dec1(z))), mu, logvar


def neg_elbo_rows(model, x, sample=True):
    logits, mu, logvar = model(x, sample)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), 1)
    return bce, kl


@torch.no_grad()
def evaluate(model, x, sample):
    bce_sum = kl_sum = 0.0
    for i in range(0, len(x), 1000):
        bce, kl = neg_elbo_rows(model, x[i:i + 1000], sample)
        bce_sum += bce.sum().item()
        kl_sum += kl.sum().item()
    return (bce_sum + kl_sum) / len(x), bce_sum / len(x), kl_sum / len(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=fmnist.DEFAULT_DIR)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    xtr = torch.from_numpy(fmnist.images("train", args.data))
    xte = torch.from_numpy(fmnist.images("t10k", args.data))
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr))
        total = 0.0
        for i in range(0, len(xtr), 128):
            xb = xtr[perm[i:i + 128]]
            bce, kl = neg_elbo_rows(model, xb)
            loss = (bce + kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        model.eval()
        test = evaluate(model, xte, True)[0]
        print(f"epoch {epoch}/{args.epochs}  train -ELBO {total / len(xtr):.2f}  test -ELBO {test:.2f}"
              f"  ({time.time() - t0:.0f} s)", flush=True)
    torch.manual_seed(args.seed + 1)
    loss, bce, kl = evaluate(model, xte, True)
    loss_mu = evaluate(model, xte, False)[0]
    print(f"test negative ELBO per sample {loss:.2f} (BCE {bce:.2f} + KL {kl:.2f}); with z = mu {loss_mu:.2f}")


if __name__ == "__main__":
    main()
