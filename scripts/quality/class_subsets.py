#!/usr/bin/python3
"""Writes one data folder per Fashion-MNIST class for the one-class anomaly runs
(`aecl train --data DIR`): DIR/train-images-idx3-ubyte holds the train images of
class K only (6000), and the test files link to the full 10k test set.

usage: /usr/bin/python3 scripts/quality/class_subsets.py OUTDIR [--data DIR]
       -> OUTDIR/class0 ... OUTDIR/class9
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("--data", default=fmnist.DEFAULT_DIR)
    args = p.parse_args()
    x, y = fmnist.raw_images("train", args.data), fmnist.labels("train", args.data)
    for k in range(10):
        d = os.path.join(args.outdir, f"class{k}")
        os.makedirs(d, exist_ok=True)
        fmnist.write_idx_images(os.path.join(d, "train-images-idx3-ubyte"), x[y == k])
        for name in os.listdir(args.data):
            if name.startswith("t10k-"):
                link = os.path.join(d, name)
                if not os.path.lexists(link):
                    os.symlink(os.path.join(os.path.abspath(args.data), name), link)
        print(f"{d}: {int((y == k).sum())} train images")


if __name__ == "__main__":
    main()
