#!/usr/bin/env python3
"""aecl against tuned PyTorch on this machine, side by side: runs `aecl bench
--no-gemm --json` and the tuned PyTorch yardstick (scripts/torch_tuned.sh)
alternately, PAIRS times (aecl, torch, aecl, torch, ...), so a burst of load
from elsewhere hits both alike, and prints for each reference model the medians
of the pairs and the median of the per-pair ratios aecl / PyTorch, for training
and inference samples/s at batch 128, as a Markdown table.

usage: scripts/vs_torch.py [AECL_BINARY] [--pairs N] [--runs R] [--steps S] [--json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_aecl(aecl, runs, steps):
    out = subprocess.run([aecl, "bench", "--no-gemm", "--json", "--runs", str(runs), "--steps", str(steps),
                          "--models", os.path.join(HERE, "..", "models")], check=True, capture_output=True,
                         text=True).stdout
    d = json.loads(out)
    return {m["model"]: (m["train_samples_per_s"], m["infer_samples_per_s"]) for m in d["models"]}, d["device"]


def run_torch(runs, steps):
    out = subprocess.run(["bash", os.path.join(HERE, "torch_tuned.sh"), "--json", "--runs", str(runs), "--steps",
                          str(steps)], check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    return {m["model"]: (m["train_samples_per_s"], m["infer_samples_per_s"]) for m in d["models"]}, d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("aecl", nargs="?", default="./build/aecl")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    pairs = []
    for i in range(a.pairs):
        ours, device = run_aecl(a.aecl, a.runs, a.steps)
        theirs, tinfo = run_torch(a.runs, a.steps)
        pairs.append((ours, theirs))
        print(f"pair {i + 1}/{a.pairs} done", file=sys.stderr, flush=True)
    rows = []
    for model in pairs[0][0]:
        row = {"model": model}
        for k, what in enumerate(("train", "infer")):
            ours = [p[0][model][k] for p in pairs]
            theirs = [p[1][model][k] for p in pairs]
            row[what] = {"aecl": statistics.median(ours), "torch": statistics.median(theirs),
                         "ratio": statistics.median(o / t for o, t in zip(ours, theirs)),
                         "ratios": [round(o / t, 3) for o, t in zip(ours, theirs)]}
        rows.append(row)
    if a.json:
        print(json.dumps({"device": device, "torch": tinfo["torch"], "threads": tinfo["threads"], "pairs": a.pairs,
                          "runs": a.runs, "steps": a.steps, "models": rows}))
        return
    print(f"aecl on {device}; PyTorch {tinfo['torch']} tuned, {tinfo['threads']} thread(s); {a.pairs} pairs of "
          f"runs, each a median of {a.runs} rounds of {a.steps} training / {4 * a.steps} inference steps; batch 128\n")
    print("| model | tuned PyTorch: train / inference | aecl: train / inference | aecl / PyTorch: train, inference "
          "(per-pair ratios) |")
    print("|---|---|---|---|")
    for r in rows:
        t, i = r["train"], r["infer"]
        print(f"| {r['model']} | {t['torch']:,.0f} / {i['torch']:,.0f} | {t['aecl']:,.0f} / {i['aecl']:,.0f} | "
              f"{t['ratio']:.2f}x, {i['ratio']:.2f}x ({', '.join(f'{x:.2f}' for x in t['ratios'])}; "
              f"{', '.join(f'{x:.2f}' for x in i['ratios'])}) |")


if __name__ == "__main__":
    main()
