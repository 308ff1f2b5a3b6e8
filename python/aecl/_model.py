"""aecl.load and the Model: a weights file on a device (aecl_model_* calls)."""
import ctypes
import os

import numpy as np

from . import _lib
from ._arrays import fptr, rows
from ._lib import check, context, encode, lib

_SCORES = {"mse": 0, "loss": 1, "elbo": 2, "ssim": 3, "mahalanobis": 4, "combined": 5}


class Model:
    """A trained autoencoder. Inputs are rows of `input_size` values in the
    data's own units (a model trained with a scaling scales them itself)."""

    def __init__(self, handle, ctx):
        self._h = ctypes.c_void_p(handle) if not isinstance(handle, ctypes.c_void_p) else handle
        self._ctx = ctx

    def __del__(self):
        h = getattr(self, "_h", None)
        if h and h.value and lib is not None:
            lib.aecl_model_free(h)
            self._h = None

    # ---- description ----
    @property
    def kind(self):
        return lib.aecl_model_kind_name(self._h).decode()

    @property
    def input_size(self):
        return int(lib.aecl_model_input_size(self._h))

    @property
    def latent_size(self):
        return int(lib.aecl_model_latent_size(self._h))

    @property
    def input_shape(self):
        c, h, w = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        rank = lib.aecl_model_input_shape(self._h, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w))
        return (c.value, h.value, w.value) if rank == 3 else (c.value,)

    def meta(self, key):
        """A metadata value of the weights file (docs/weights.md), or None."""
        v = lib.aecl_model_get_meta(self._h, key.encode())
        return v.decode() if v is not None else None

    @property
    def threshold(self):
        """The anomaly threshold stored with the weights, or None."""
        v = self.meta("aecl.anomaly.threshold")
        return float(v) if v is not None else None

    def set_meta(self, key, value):
        check(lib.aecl_model_set_meta(self._h, key.encode(), str(value).encode()), self._ctx)

    # ---- computations ----
    def encode(self, X, sample=False):
        """Codes (n, latent_size); a VAE gives its mean code unless sample=True."""
        x = rows(X, self.input_size)
        z = np.empty((x.shape[0], self.latent_size), np.float32)
        check(lib.aecl_model_encode(self._h, fptr(x), x.shape[0], fptr(z), 1 if sample else 0), self._ctx)
        return z

    def decode(self, Z):
        z = rows(Z, self.latent_size, "Z")
        x = np.empty((z.shape[0], self.input_size), np.float32)
        check(lib.aecl_model_decode(self._h, fptr(z), z.shape[0], fptr(x)), self._ctx)
        return x

    def reconstruct(self, X):
        x = rows(X, self.input_size)
        y = np.empty_like(x)
        check(lib.aecl_model_reconstruct(self._h, fptr(x), x.shape[0], fptr(y)), self._ctx)
        return y

    def score_samples(self, X, kind=None):
        """Per-sample scores, higher = more anomalous: "mse" (mean squared error
        per feature, the default but for a VAE), "loss" (the training objective),
        "elbo" (a VAE's negative ELBO, its default), "ssim" (images: 1 - mean
        SSIM), "mahalanobis" (the code's distance to the normal codes) or
        "combined" (images: both, standardised); the last two after fit_normal."""
        kind = kind or ("elbo" if self.kind == "variational" else "mse")
        if kind not in _SCORES:
            raise ValueError(f"score kind {kind!r}: one of {', '.join(_SCORES)}")
        x = rows(X, self.input_size)
        s = np.empty(x.shape[0], np.float32)
        check(lib.aecl_model_scores(self._h, fptr(x), x.shape[0], _SCORES[kind], fptr(s)), self._ctx)
        return s

    def fit_normal(self, X):
        """Fits the normal data the "mahalanobis" and "combined" scores compare with."""
        x = rows(X, self.input_size)
        check(lib.aecl_model_fit_normal(self._h, fptr(x), x.shape[0]), self._ctx)
        return self

    def sample(self, n, seed=0):
        """A VAE's decodes of n codes drawn from N(0, I)."""
        x = np.empty((int(n), self.input_size), np.float32)
        check(lib.aecl_model_sample(self._h, int(n), int(seed), fptr(x)), self._ctx)
        return x

    def save(self, path):
        """Writes the weights file (atomically), metadata (threshold) included."""
        check(lib.aecl_model_save(self._h, encode(os.fspath(path))), self._ctx)


def load(path, device=None):
    """A weights file written by `aecl train` or by this package."""
    ctx = context(device)
    out = ctypes.c_void_p()
    check(lib.aecl_model_load(ctx, encode(os.fspath(path)), ctypes.byref(out)), ctx)
    return Model(out, ctx)


def devices():
    """Every OpenCL device, as dicts (name, platform, type, memory, is_default...)."""
    arr = ctypes.POINTER(_lib.DeviceInfo)()
    n = ctypes.c_size_t()
    check(lib.aecl_devices_list(ctypes.byref(arr), ctypes.byref(n)), None)
    types = {1: "cpu", 2: "gpu", 4: "accelerator", 8: "other"}
    out = []
    try:
        for i in range(n.value):
            d = arr[i]
            out.append({"selector": f"{d.platform_index}:{d.device_index}", "name": d.name.decode(errors="replace"),
                        "platform": d.platform_name.decode(errors="replace"),
                        "vendor": d.vendor.decode(errors="replace"), "type": types.get(d.type, "other"),
                        "compute_units": d.compute_units, "global_mem_bytes": d.global_mem_bytes,
                        "is_default": bool(d.is_default), "is_simulator": bool(d.is_simulator)})
    finally:
        ctypes.CDLL(None).free(arr)
    return out
