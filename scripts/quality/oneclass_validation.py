#!/usr/bin/python3
"""How the one-class recipe's settings were chosen (docs/quality.md), on the
TRAINING set only: for each class K, 5400 of its 6000 training images (a seeded
split) train the model; the validation set is the other 600 of class K (normal)
plus 600 training images of each other class (anomalies, 5400). The test set is
never read. For a model file and training options it trains ten models with the
aecl program, takes their codes and reconstructions (aecl encode / reconstruct),
and prints the validation AUROC x 100 of each candidate score, best first:
per-pixel mse and l1, the SSIM error (gaussian window 7 or 11, sigma 1.5), the
squared Mahalanobis distance of the code (covariance shrinkage 0, 0.01, 0.1, 0.3),
and sums of standardised scores (mean and sd on the 5400 training images; log_
means the log of the score). aecl's `combined` score is log_ssim7+log_maha0.1.

usage: /usr/bin/python3 scripts/quality/oneclass_validation.py AECL OUTDIR MODEL TAG [aecl train options...]
       e.g. ... build/aecl qual/val models/oneclass.model e20 --epochs 20
"""
import os
import subprocess
import sys

import numpy as np
from scipy.ndimage import correlate1d
from scipy.stats import rankdata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402

SEED = 16


def prep(d):
    x, y = fmnist.raw_images("train"), fmnist.labels("train")
    rng = np.random.default_rng(SEED)
    for k in range(10):
        kd = f"{d}/data/k{k}"
        idx = rng.permutation(np.flatnonzero(y == k))
        tr, va = idx[:5400], idx[5400:]
        oth = [i for j in range(10) if j != k for i in rng.choice(np.flatnonzero(y == j), 600, replace=False)]
        vidx = np.concatenate([va, np.array(oth)])
        if os.path.exists(f"{kd}/val_y.npy"):
            continue
        os.makedirs(kd, exist_ok=True)
        fmnist.write_idx_images(f"{kd}/train-images-idx3-ubyte", x[tr])
        np.save(f"{kd}/train.npy", x[tr].reshape(len(tr), -1).astype(np.float32) / 255)
        np.save(f"{kd}/val.npy", x[vidx].reshape(len(vidx), -1).astype(np.float32) / 255)
        np.save(f"{kd}/val_y.npy", (y[vidx] != k).astype(np.int64))


def sh(*a):
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL)


def run(aecl, d, model, tag, extra):
    for k in range(10):
        kd, o = f"{d}/data/k{k}", f"{d}/runs/{tag}/k{k}"
        os.makedirs(o, exist_ok=True)
        w = f"{o}/w.safetensors"
        if not os.path.exists(w):
            sh(aecl, "train", model, "--data", f"{kd}/train-images-idx3-ubyte", "--out", w, *extra)
        for nm in ("train", "val"):
            if not os.path.exists(f"{o}/r_{nm}.npy"):
                sh(aecl, "encode", w, "--data", f"{kd}/{nm}.npy", "--out", f"{o}/z_{nm}.npy")
                sh(aecl, "reconstruct", w, "--mean", "--data", f"{kd}/{nm}.npy", "--out", f"{o}/r_{nm}.npy")
        print(f"class {k} trained and encoded", flush=True)


def gauss(win, sigma=1.5):
    g = np.exp(-((np.arange(win) - (win - 1) / 2) ** 2) / (2 * sigma * sigma))
    return g / g.sum()


def ssim_err(x, r, win):
    """1 - mean SSIM over the window positions inside the 28x28 image (aecl's definition)."""
    x = x.reshape(-1, 28, 28).astype(np.float64)
    r = r.reshape(-1, 28, 28).astype(np.float64)
    g, h = gauss(win), win // 2

    def f(a):
        a = correlate1d(correlate1d(a, g, axis=1, mode="constant"), g, axis=2, mode="constant")
        return a[:, h:28 - h, h:28 - h]
    mx, mr = f(x), f(r)
    vx, vr, cxr = f(x * x) - mx * mx, f(r * r) - mr * mr, f(x * r) - mx * mr
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mx * mr + c1) * (2 * cxr + c2)) / ((mx * mx + mr * mr + c1) * (vx + vr + c2))
    return 1 - s.mean(axis=(1, 2))


def auroc(s, t):
    r = rankdata(s)
    p = t.sum()
    return (r[t == 1].sum() - p * (p + 1) / 2) / (p * (len(t) - p))


def maha(ztr, z, shrink):
    mu, c = ztr.mean(0), np.cov(ztr, rowvar=False)
    c = (1 - shrink) * c + shrink * np.trace(c) / c.shape[0] * np.eye(c.shape[0])
    e = z - mu
    return np.einsum("ij,jk,ik->i", e, np.linalg.inv(c), e)


def base_scores(x, o, nm, ztr):
    r, z = np.load(f"{o}/r_{nm}.npy"), np.load(f"{o}/z_{nm}.npy")
    s = {"mse": ((x - r) ** 2).mean(1), "l1": np.abs(x - r).mean(1), "ssim7": ssim_err(x, r, 7),
         "ssim11": ssim_err(x, r, 11)}
    for sh_ in (0.0, 0.01, 0.1, 0.3):
        s[f"maha{sh_:g}"] = maha(ztr, z, sh_)
    return s


def score(d, tag):
    res = {}
    for k in range(10):
        kd, o = f"{d}/data/k{k}", f"{d}/runs/{tag}/k{k}"
        ztr = np.load(f"{o}/z_train.npy")
        st = base_scores(np.load(f"{kd}/train.npy"), o, "train", ztr)
        sv = base_scores(np.load(f"{kd}/val.npy"), o, "val", ztr)
        t = np.load(f"{kd}/val_y.npy")

        def z(key, log):
            f = np.log if log else (lambda v: v)
            a, b = f(np.maximum(st[key], 1e-12)), f(np.maximum(sv[key], 1e-12))
            return (b - a.mean()) / a.std()
        combos = {}
        for a in ("mse", "ssim7", "ssim11"):
            for m in ("maha0.01", "maha0.1"):
                combos[f"{a}+{m}"] = z(a, False) + z(m, False)
                combos[f"log_{a}+log_{m}"] = z(a, True) + z(m, True)
        combos["log_mse+log_ssim7+log_maha0.1"] = z("mse", True) + z("ssim7", True) + z("maha0.1", True)
        for key, s in {**sv, **combos}.items():
            res.setdefault(key, []).append(100 * auroc(s, t))
    print(f"validation AUROC x 100 of {tag}: mean, then classes 0..9")
    for key, v in sorted(res.items(), key=lambda kv: -np.mean(kv[1])):
        print(f"{key:30s} {np.mean(v):6.2f}  " + " ".join(f"{a:5.1f}" for a in v))


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    aecl, d, model, tag, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    prep(d)
    run(aecl, d, model, tag, extra)
    score(d, tag)


if __name__ == "__main__":
    main()
