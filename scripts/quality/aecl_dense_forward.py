#!/usr/bin/python3
"""A numpy forward pass of an aecl dense autoencoder (models/mlp.model and
models/denoising.model: flatten, dense relu layers, a linear code, the mirrored
decoder, sigmoid output) read from the safetensors file `aecl train` writes.

It exists for the figures aecl's CLI could not print per sample when this was
written (the denoising PSNR on noisy inputs, per-image anomaly scores); the
weights are aecl's, only the inference is numpy. `check` reproduces
`aecl eval`'s test MSE to show the two forward passes agree.

usage: /usr/bin/python3 scripts/quality/aecl_dense_forward.py check W.safetensors
       /usr/bin/python3 scripts/quality/aecl_dense_forward.py denoise W.safetensors [--seed 0]
       /usr/bin/python3 scripts/quality/aecl_dense_forward.py oneclass DIR
           (DIR/class0.safetensors ... DIR/class9.safetensors, one model per
            normal class; classes whose file is missing are skipped)
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    meta = header.pop("__metadata__", {})
    t = {}
    for name, v in header.items():
        assert v["dtype"] == "F32", name
        a, b = v["data_offsets"]
        t[name] = np.frombuffer(blob[a:b], dtype="<f4").reshape(v["shape"])
    return t, meta.get("aecl.model", "")


def layer_names(t, prefix):
    idx = sorted({int(k.split(".")[1]) for k in t if k.startswith(prefix + ".")})
    return [f"{prefix}.{i}" for i in idx]


def reconstruct(t, x):
    """Encoder dense relu layers, linear code, decoder relu layers, sigmoid out."""
    h = x.astype(np.float32)
    for name in layer_names(t, "encoder"):
        h = np.maximum(h @ t[name + ".weight"].T + t[name + ".bias"], 0)
    h = h @ t["latent.weight"].T + t["latent.bias"]
    dec = layer_names(t, "decoder")
    for i, name in enumerate(dec):
        h = h @ t[name + ".weight"].T + t[name + ".bias"]
        h = 1 / (1 + np.exp(-h)) if i == len(dec) - 1 else np.maximum(h, 0)
    return h


def check_dense(spec):
    body = [ln.split("#")[0].strip() for ln in spec.splitlines()]
    layers = [ln for ln in body if ln and not ln.startswith("[") and "=" not in ln]
    ok = all(ln in ("flatten", "mirror") or (ln.startswith("dense ") and ln.endswith(" relu")) for ln in layers)
    if spec and (not ok or "output_activation = sigmoid" not in spec):
        sys.exit("this script handles dense relu autoencoders with a sigmoid output only")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["check", "denoise", "oneclass"])
    p.add_argument("path")
    p.add_argument("--data", default=fmnist.DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    xte = fmnist.images("t10k", args.data)
    if args.what == "oneclass":
        oneclass(args, xte)
        return
    t, spec = load(args.path)
    check_dense(spec)
    if args.what == "check":
        mse = float(np.mean((reconstruct(t, xte) - xte) ** 2, dtype=np.float64))
        print(f"numpy forward of {args.path}: test MSE per pixel {mse:.5f}  PSNR {fmnist.psnr(mse):.2f} dB")
    else:
        xn = fmnist.noisy(xte, 0.5, args.seed)
        mse = float(np.mean((reconstruct(t, xn) - xte) ** 2, dtype=np.float64))
        print(f"denoise {args.path} on test + 0.5*N(0,1) (clipped, seed {args.seed}): "
              f"MSE {mse:.5f}  PSNR {fmnist.psnr(mse):.2f} dB")


def oneclass(args, xte):
    from sklearn.metrics import average_precision_score, roc_auc_score
    yte = fmnist.labels("t10k", args.data)
    aurocs, auprcs = [], []
    for k in range(10):
        path = os.path.join(args.path, f"class{k}.safetensors")
        if not os.path.exists(path):
            continue
        t, spec = load(path)
        check_dense(spec)
        score = np.mean((reconstruct(t, xte) - xte) ** 2, axis=1)
        anomal = (yte != k).astype(np.int64)
        aurocs.append(100 * roc_auc_score(anomal, score))
        auprcs.append(100 * average_precision_score(anomal, score))
        print(f"oneclass {path}: AUROC {aurocs[-1]:.2f}  AUPRC {auprcs[-1]:.2f}")
    print(f"oneclass mean over {len(aurocs)} classes: AUROC {np.mean(aurocs):.2f}  AUPRC {np.mean(auprcs):.2f}")


if __name__ == "__main__":
    main()
