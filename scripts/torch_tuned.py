"""The tuned PyTorch yardstick for `aecl bench`: training and inference samples/s
of the four reference models (models/{mlp,denoising,vae,conv}.model: the same
architectures, Adam at 1e-3, batch 128, data already in memory) in PyTorch on
this CPU, configured as a performance-minded user would: one thread (two are
slower on a 2-core machine), denormals flushed, and, through the environment that
scripts/torch_tuned.sh sets, glibc's malloc kept from mapping and unmapping every
large temporary and OpenBLAS's AVX-512 kernels. Run it through that wrapper:

    bash scripts/torch_tuned.sh [--runs N] [--steps S] [--threads T] [--json]

Prints one line per model (medians of N timed rounds of S steps each, after one
untimed round) and the settings in force, so a figure always says what it was
compared with."""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "quality"))
from vae_torch import VAE, neg_elbo_rows  # noqa: E402  (models/vae.model, the quality yardstick's)

BATCH = 128


def mlp():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 32),
        nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())


def conv():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(3136, 32), nn.Linear(32, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())


def mse_step(model, noise=0.0):
    def loss(x):
        xin = (x + noise * torch.randn_like(x)).clamp(0, 1) if noise else x
        return F.mse_loss(model(xin).reshape(x.shape), x)
    return loss


def vae_step(model):
    def loss(x):
        bce, kl = neg_elbo_rows(model, x.flatten(1))
        return (bce + kl).mean()
    return loss


def models():
    m, d, v, c = mlp(), mlp(), VAE(), conv()
    infer_vae = lambda x: torch.sigmoid(v(x.flatten(1), sample=False)[0])
    return [("mlp.model", m, mse_step(m), m),
            ("denoising.model", d, mse_step(d, noise=0.5), d),
            ("vae.model", v, vae_step(v), infer_vae),
            ("conv.model", c, mse_step(c), c)]


def rate(fn, steps, runs):
    fn()  # warm-up: first-touch allocations, OpenBLAS buffers
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        rates.append(steps * BATCH / (time.perf_counter() - t0))
    rates.sort()
    return rates[len(rates) // 2], rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    x = torch.rand(BATCH, 1, 28, 28)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "flush_denormal": True,
           "env": {k: os.environ.get(k) for k in ("GLIBC_TUNABLES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
           "batch": BATCH, "models": []}
    for name, model, loss, infer in models():
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def train():
            opt.zero_grad(set_to_none=True)
            loss(x).backward()
            opt.step()

        def inference():
            with torch.inference_mode():
                infer(x)

        tr, tr_all = rate(train, a.steps, a.runs)
        inf, inf_all = rate(inference, a.steps * 4, a.runs)
        out["models"].append({"model": name, "train_samples_per_s": round(tr), "infer_samples_per_s": round(inf),
                              "train_runs": [round(r) for r in tr_all], "infer_runs": [round(r) for r in inf_all]})
        if not a.json:
            print(f"{name}, batch {BATCH}: train {tr:.0f} samples/s, inference {inf:.0f} samples/s "
                  f"(train runs {min(tr_all):.0f}-{max(tr_all):.0f}, inference {min(inf_all):.0f}-{max(inf_all):.0f})",
                  flush=True)
    if a.json:
        print(json.dumps(out))
    else:
        print(f"torch {out['torch']}, {out['threads']} thread(s), flush_denormal, env {out['env']}; "
              f"medians of {a.runs} rounds of {a.steps} training / {4 * a.steps} inference steps")


if __name__ == "__main__":
    main()
