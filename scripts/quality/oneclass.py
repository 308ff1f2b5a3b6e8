#!/usr/bin/python3
"""The one-class table of docs/quality.md through the aecl program: for each
Fashion-MNIST class K, `aecl train MODEL --class K` (the model file's defaults)
and `aecl anomaly W --normal-class K --score S` for every score S, on the full
10k test set. Prints AUROC x 100 per class and the mean, and the wall time of
each training. With --vae, models/vae.model is trained per class too and scored
by its negative ELBO; with --mlp, models/mlp.model as the issue measured it
(--epochs 20 --val-limit 0).

usage: /usr/bin/python3 scripts/quality/oneclass.py AECL OUTDIR [--model models/oneclass.model]
       [--scores mse,ssim,mahalanobis,combined] [--vae] [--mlp] [--classes 0,1,...]
"""
import argparse
import os
import re
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def auroc(out):
    m = re.search(r"AUROC ([0-9.]+)", out)
    return 100 * float(m.group(1))


def train(aecl, model, k, path, extra=()):
    if os.path.exists(path):
        return float("nan")
    t = time.time()
    run([aecl, "train", model, "--class", str(k), "--out", path, *extra])
    return time.time() - t


def table(name, rows, classes):
    print(f"\n{name}")
    for key, v in rows.items():
        print(f"  {key:12s} mean {sum(v) / len(v):6.2f}  " + " ".join(f"{a:6.2f}" for a in v))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("aecl")
    p.add_argument("outdir")
    p.add_argument("--model", default=os.path.join(ROOT, "models", "oneclass.model"))
    p.add_argument("--scores", default="mse,ssim,mahalanobis,combined,default")
    p.add_argument("--vae", action="store_true")
    p.add_argument("--mlp", action="store_true")
    p.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    classes = [int(c) for c in a.classes.split(",")]
    res, vae, mlp, walls = {}, {}, {}, []
    for k in classes:
        w = os.path.join(a.outdir, f"oneclass{k}.safetensors")
        walls.append(train(a.aecl, a.model, k, w))
        for s in a.scores.split(","):
            opt = [] if s == "default" else ["--score", s]
            res.setdefault(s, []).append(auroc(run([a.aecl, "anomaly", w, "--normal-class", str(k), *opt])))
        if a.vae:
            wv = os.path.join(a.outdir, f"vae{k}.safetensors")
            train(a.aecl, os.path.join(ROOT, "models", "vae.model"), k, wv, ["--epochs", "20"])
            for s in ("elbo", "mse", "mahalanobis"):
                vae.setdefault(s, []).append(auroc(run([a.aecl, "anomaly", wv, "--normal-class", str(k), "--score", s])))
        if a.mlp:
            wm = os.path.join(a.outdir, f"mlp{k}.safetensors")
            train(a.aecl, os.path.join(ROOT, "models", "mlp.model"), k, wm, ["--epochs", "20", "--val-limit", "0"])
            mlp.setdefault("mse", []).append(auroc(run([a.aecl, "anomaly", wm, "--normal-class", str(k)])))
        print(f"class {k} done: training {walls[-1]:.0f} s wall", flush=True)
    print("classes " + " ".join(str(k) for k in classes))
    table(f"{os.path.basename(a.model)} AUROC x 100", res, classes)
    if vae:
        table("vae.model (20 epochs) AUROC x 100", vae, classes)
    if mlp:
        table("mlp.model (20 epochs, no validation) AUROC x 100", mlp, classes)
    print("training wall times (s): " + " ".join(f"{t:.0f}" for t in walls))


if __name__ == "__main__":
    main()
