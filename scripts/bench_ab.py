#!/usr/bin/env python3
"""A/B of two builds' benchmark programs: runs bench_gemm and bench_conv of build
A (the baseline) and build B alternately (A B A B ...), so load from elsewhere on
a shared machine hits both alike, and prints per-figure medians and the ratio
B/A (for GFLOP/s higher is better, for ms lower is better).

usage: scripts/bench_ab.py OLD_BUILD NEW_BUILD [--pairs N] [--rounds R] [--only gemm|conv]
"""
import argparse
import json
import math
import re
import statistics
import subprocess
import sys


def run_gemm(build, rounds):
    out = subprocess.run([f"{build}/bench_gemm", "--json", "--rounds", str(rounds)], check=True,
                         capture_output=True, text=True).stdout
    figs = {}
    for r in json.loads(out)["results"]:
        key = f'{r["op"]} {r["layer"][0]}->{r["layer"][1]} {r["trans"]}'
        figs[key + " own"] = r["gflops_own"]
        epi = r["gflops_own_bias_relu"] or r["gflops_own_relu_grad"] or r.get("gflops_own_bias_grad")
        if epi:
            figs[key + " own+epi"] = epi
    return figs


def run_conv(build, steps):
    out = subprocess.run([f"{build}/bench_conv", "128", str(steps)], check=True, capture_output=True,
                         text=True).stdout
    step = re.search(r"step ([0-9.]+) ms", out)
    tot = re.search(r"conv launches: ([0-9.]+) ms, [0-9.]+ GFLOP/s; all launches ([0-9.]+) ms", out)
    if not step or not tot:
        sys.exit("bench_conv: unexpected output:\n" + out)
    return {"step wall ms": float(step.group(1)), "conv launches ms": float(tot.group(1)),
            "all launches ms": float(tot.group(2))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5, help="bench_gemm rounds / bench_conv steps per run")
    ap.add_argument("--only", choices=["gemm", "conv"])
    a = ap.parse_args()
    benches = [b for b in ("gemm", "conv") if a.only in (None, b)]
    runs = {b: {"A": [], "B": []} for b in benches}
    for b in benches:  # warm-up: kernel builds and caches, not counted
        for build in (a.old, a.new):
            (run_gemm if b == "gemm" else run_conv)(build, 1)
    for i in range(a.pairs):
        for b in benches:
            fn = run_gemm if b == "gemm" else run_conv
            for side, build in (("A", a.old), ("B", a.new)) if i % 2 == 0 else (("B", a.new), ("A", a.old)):
                runs[b][side].append(fn(build, a.rounds))
        print(f"pair {i + 1}/{a.pairs} done", file=sys.stderr)
    for b in benches:
        print(f"\nbench_{b}: medians of {a.pairs} runs each, A = {a.old}, B = {a.new}")
        print(f"{'figure':34s} {'A':>9s} {'B':>9s} {'B/A':>7s}")
        logs = []
        for key in runs[b]["A"][0]:
            ma = statistics.median(r[key] for r in runs[b]["A"])
            mb = statistics.median(r[key] for r in runs[b]["B"])
            ratio = mb / ma if ma > 0 else float("nan")
            print(f"{key:34s} {ma:9.2f} {mb:9.2f} {ratio:7.3f}")
            if ma > 0 and mb > 0:
                logs.append(math.log(ratio))
        if b == "gemm" and logs:
            print(f"geometric mean B/A of the GFLOP/s figures: {math.exp(sum(logs) / len(logs)):.3f}")


if __name__ == "__main__":
    main()
