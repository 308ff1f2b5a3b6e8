"""numpy in and out: rows as C-order float32 (converted once when the array is
another dtype or order, passed as they are otherwise), outputs written in place."""
import ctypes

import numpy as np

_F = ctypes.POINTER(ctypes.c_float)


def rows(x, features=None, what="X"):
    """x as a C-contiguous float32 2-D array (n, features): a 1-D array is one
    row; more dims are flattened per sample (images n x c x h x w)."""
    a = np.asarray(x)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"{what}: a numeric array is needed, not {a.dtype}")
    if np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{what}: complex values are not supported")
    if a.ndim == 0:
        raise ValueError(f"{what}: an array of samples is needed, not a scalar")
    a = a.reshape(1, -1) if a.ndim == 1 else a.reshape(a.shape[0], -1)
    if a.shape[0] == 0:
        raise ValueError(f"{what}: no samples")
    if features is not None and a.shape[1] != features:
        raise ValueError(f"{what}: samples of {a.shape[1]} values, the model takes {features}")
    a = np.ascontiguousarray(a, dtype=np.float32)   # no copy when already float32, C order
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what}: holds NaN or infinite values")
    return a


def labels(y, n):
    a = np.asarray(y)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"labels: {n} integers needed, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.equal(np.mod(a, 1), 0)):
            raise ValueError("labels: integers needed")
    return np.ascontiguousarray(a, dtype=np.int32)


def fptr(a):
    return a.ctypes.data_as(_F)
