"""Data sets: aecl_data handles of host rows for training, and aecl's own file
readers (IDX, CSV, .npy) for Python (read_data)."""
import ctypes
import os

import numpy as np

from . import _lib
from ._arrays import fptr, labels as as_labels
from ._lib import check, context, encode, lib


class Data:
    """An aecl_data handle of host rows (copied by the library)."""

    def __init__(self, ctx, x=None, y=None):
        self._ctx = ctx
        self.h = ctypes.c_void_p()
        if x is None:
            return
        lab = as_labels(y, x.shape[0]) if y is not None else None
        lp = lab.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)) if lab is not None else None
        check(lib.aecl_data_from_array(ctx, fptr(x), x.shape[0], x.shape[1], lp, ctypes.byref(self.h)), ctx)

    @classmethod
    def load(cls, ctx, path, labels=None, label_column=None, limit=0, test_set=False, features=0):
        """aecl's reader of a folder, IDX, CSV or .npy file (aecl_data_load)."""
        o = _lib.DataOpts(limit=int(limit), features=int(features), labels=encode(labels),
                          label_column=str(label_column).encode() if label_column is not None else None,
                          test_set=1 if test_set else 0)
        d = cls(ctx)
        check(lib.aecl_data_load(ctx, encode(os.fspath(path)), ctypes.byref(o), ctypes.byref(d.h)), ctx)
        return d

    @property
    def features(self):
        return int(lib.aecl_data_features(self.h))

    def split(self, fraction, seed):
        val = Data(self._ctx)
        check(lib.aecl_data_split(self.h, float(fraction), int(seed), ctypes.byref(val.h)), self._ctx)
        return val

    def arrays(self):
        """Copies of the rows (float32, n x features) and labels (int32, or None)."""
        n, f = lib.aecl_data_count(self.h), lib.aecl_data_features(self.h)
        x = np.ctypeslib.as_array(lib.aecl_data_rows(self.h), shape=(n, f)).copy()
        lp = lib.aecl_data_labels(self.h)
        y = np.ctypeslib.as_array(lp, shape=(n,)).copy() if lp else None
        return x, y

    def __del__(self):
        if getattr(self, "h", None) and self.h.value:
            lib.aecl_data_free(self.h)
            self.h = None


def read_data(path, labels=None, label_column=None, limit=0, test_set=False, device=None):
    """Samples as aecl reads them: a folder with train-images-idx3-ubyte[.gz] and
    its labels (test_set: the t10k files), an IDX image file (scaled to [0, 1]), a
    CSV file (label_column: its name or index, left out of the features) or a .npy
    array of any dtype and order. labels: an IDX labels file or integer .npy for
    IDX or .npy data. Returns (X float32 (n, features), y int32 or None)."""
    d = Data.load(context(device), path, labels, label_column, limit, test_set)
    return d.arrays()
