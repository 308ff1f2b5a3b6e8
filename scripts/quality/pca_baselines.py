#!/usr/bin/python3
"""PCA-32 yardsticks for docs/quality.md (not part of aecl's build or tests).

  recon    : PCA fitted on the 60k train images, test MSE per pixel and PSNR
  denoise  : the same PCA applied to test images + 0.5*N(0,1) noise (clipped),
             MSE/PSNR against the clean images
  oneclass : for each class K, PCA fitted on the train images of class K; every
             test image scored by its squared reconstruction error; AUROC and
             AUPRC for "label != K" (anomalies are the positives)

usage: /usr/bin/python3 scripts/quality/pca_baselines.py [recon|denoise|oneclass|all]
       [--components 32] [--data DIR] [--seed 0]
"""
import argparse
import os
import sys

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402


def project(pca, x):
    return pca.inverse_transform(pca.transform(x))


def recon(args, xtr, xte):
    pca = PCA(args.components, random_state=args.seed).fit(xtr)
    mse = float(np.mean((project(pca, xte) - xte) ** 2, dtype=np.float64))
    print(f"recon   PCA-{args.components}: test MSE per pixel {mse:.5f}  PSNR {fmnist.psnr(mse):.2f} dB")
    return pca


def denoise(args, pca, xte):
    xn = fmnist.noisy(xte, 0.5, args.seed)
    mse_in = float(np.mean((xn - xte) ** 2, dtype=np.float64))
    mse = float(np.mean((project(pca, xn) - xte) ** 2, dtype=np.float64))
    print(f"denoise noisy input (sigma 0.5, clipped): MSE {mse_in:.5f}  PSNR {fmnist.psnr(mse_in):.2f} dB")
    print(f"denoise PCA-{args.components} projection: MSE {mse:.5f}  PSNR {fmnist.psnr(mse):.2f} dB")


def oneclass(args, xtr, ytr, xte, yte):
    aurocs, auprcs = [], []
    for k in range(10):
        pca = PCA(args.components, random_state=args.seed).fit(xtr[ytr == k])
        score = np.sum((project(pca, xte) - xte) ** 2, axis=1)
        anomal = (yte != k).astype(np.int64)
        aurocs.append(100 * roc_auc_score(anomal, score))
        auprcs.append(100 * average_precision_score(anomal, score))
        print(f"oneclass PCA-{args.components} normal class {k}: AUROC {aurocs[-1]:.2f}  AUPRC {auprcs[-1]:.2f}")
    print(f"oneclass PCA-{args.components} mean over 10 classes: AUROC {np.mean(aurocs):.2f}  AUPRC {np.mean(auprcs):.2f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", nargs="?", default="all", choices=["recon", "denoise", "oneclass", "all"])
    p.add_argument("--components", type=int, default=32)
    p.add_argument("--data", default=fmnist.DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    xtr, xte = fmnist.images("train", args.data), fmnist.images("t10k", args.data)
    if args.what in ("recon", "denoise", "all"):
        pca = recon(args, xtr, xte)
        if args.what != "recon":
            denoise(args, pca, xte)
    if args.what in ("oneclass", "all"):
        oneclass(args, xtr, fmnist.labels("train", args.data), xte, fmnist.labels("t10k", args.data))


if __name__ == "__main__":
    main()
