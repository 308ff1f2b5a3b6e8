"""Fashion-MNIST IDX loading for the quality yardsticks (numpy only).

Pixels are scaled to [0,1] floats, as aecl's IDX reader does, so the figures
are comparable with `aecl eval`."""
import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _open(path):
    if os.path.exists(path):
        return open(path, "rb")
    return gzip.open(path + ".gz", "rb")


def _read_idx(path):
    with _open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def images(split, data_dir=DEFAULT_DIR):
    """split is 'train' or 't10k'; returns float32 (N, 784) in [0,1]."""
    x = _read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte"))
    return x.reshape(len(x), -1).astype(np.float32) / 255.0


def labels(split, data_dir=DEFAULT_DIR):
    return _read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte")).astype(np.int64)


def write_idx_images(path, x_uint8):
    """Writes (N, 28, 28) uint8 images as an uncompressed IDX3 file."""
    n, h, w = x_uint8.shape
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, 3]))
        for d in (n, h, w):
            f.write(int(d).to_bytes(4, "big"))
        f.write(np.ascontiguousarray(x_uint8, dtype=np.uint8).tobytes())


def raw_images(split, data_dir=DEFAULT_DIR):
    return _read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte"))


def noisy(x, sigma=0.5, seed=0):
    """x + sigma*N(0,1), clipped to [0,1] (the denoising task's inputs)."""
    rng = np.random.default_rng(seed)
    return np.clip(x + sigma * rng.standard_normal(x.shape).astype(np.float32), 0.0, 1.0)


def psnr(mse):
    return 10.0 * np.log10(1.0 / mse)
