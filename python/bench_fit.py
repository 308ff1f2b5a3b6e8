"""Benchmark: the Python package against the aecl program on one job, and the cost
of converting input arrays. Prints medians (the machine may be shared: compare the
ratios of one run).

    PYTHONPATH=python AECL_LIBRARY=build/libaecl.so python3 python/bench_fit.py . build/aecl
"""
import gzip
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import aecl


def idx(path):
    raw = gzip.open(path).read()
    nd = raw[3]
    dims = np.frombuffer(raw[4:4 + 4 * nd], ">u4").astype(int)
    return np.frombuffer(raw[4 + 4 * nd:], np.uint8).reshape(dims)


def median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench_fit.py SOURCE_DIR AECL_PROGRAM")
    src, cli = sys.argv[1:]
    n = 5000
    X = idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")[:n].reshape(n, -1) / np.float32(255)
    X = X.astype(np.float32)
    model = os.path.join(src, "models", "mlp.model")
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), X)
        run = [cli, "train", model, "--data", os.path.join(tmp, "x.npy"), "--epochs", "2", "--val-limit", "0",
               "--out", os.path.join(tmp, "cli.safetensors")]
        t_cli = median_time(lambda: subprocess.run(run, check=True, capture_output=True), 3)
        t_py = median_time(lambda: aecl.AutoEncoder(model=model, epochs=2).fit(X), 3)
    print(f"train {n} x 784, mlp.model, 2 epochs: aecl train {t_cli:.2f} s (a process: context, kernels from the "
          f"cache, files), AutoEncoder.fit {t_py:.2f} s (context and kernels kept), ratio {t_py / t_cli:.2f}")
    m = aecl.AutoEncoder(model=model, epochs=1).fit(X[:500]).model_
    base = median_time(lambda: m.encode(X), 5)
    for name, a in (("float32 C order (passed as is)", X), ("float64 C order", X.astype(np.float64)),
                    ("float32 Fortran order", np.asfortranarray(X)), ("uint8", (X * 255).astype(np.uint8))):
        t = median_time(lambda: m.encode(a), 5)
        print(f"encode {n} rows, {name}: {t * 1000:.0f} ms ({t / base:.2f}x)")


if __name__ == "__main__":
    main()
