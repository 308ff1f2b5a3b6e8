"""ctypes bindings of libaecl (lib/include/aecl.h): the library, its structs and
signatures, and the error model (aecl_status + the context's last message)."""
import ctypes
import ctypes.util
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int, c_int32, c_int64,
                    c_long, c_size_t, c_ubyte, c_uint, c_uint64, c_void_p)

STATUS_NAMES = {0: "AECL_OK", 1: "AECL_ERR_INVALID_ARG", 2: "AECL_ERR_NO_DEVICE", 3: "AECL_ERR_OPENCL",
                4: "AECL_ERR_BUILD", 5: "AECL_ERR_HOST_MEMORY", 6: "AECL_ERR_DEVICE_MEMORY", 7: "AECL_ERR_IO",
                8: "AECL_ERR_FORMAT", 9: "AECL_ERR_SHAPE", 10: "AECL_ERR_UNSUPPORTED", 11: "AECL_ERR_NUMERIC",
                12: "AECL_ERR_STATE", 13: "AECL_ERR_CANCELED"}


class AeclError(RuntimeError):
    """A failed aecl call: `status` (the aecl_status number), `status_name`, and
    aecl's message as the exception text."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.status_name = STATUS_NAMES.get(status, str(status))


class AeclValueError(AeclError, ValueError):
    """Bad input: an argument, a shape or a file's format (also a ValueError)."""


class AeclIOError(AeclError, OSError):
    """A file could not be read or written (also an OSError)."""


class AeclCanceled(AeclError):
    """Training stopped by its progress callback."""


def _error_class(status):
    if status in (1, 8, 9):
        return AeclValueError
    if status == 7:
        return AeclIOError
    if status == 13:
        return AeclCanceled
    return AeclError


# ---- structs (sizes pinned in tests/cli_public_surface.sh) ---------------------------

class DeviceInfo(Structure):
    _fields_ = [("platform_index", c_uint), ("device_index", c_uint), ("platform_name", c_char * 128),
                ("name", c_char * 128), ("vendor", c_char * 128), ("driver_version", c_char * 64),
                ("opencl_c_version", c_char * 64), ("type", c_int), ("compute_units", c_uint),
                ("global_mem_bytes", c_uint64), ("local_mem_bytes", c_uint64), ("max_alloc_bytes", c_uint64),
                ("max_work_group_size", c_size_t), ("is_default", c_int), ("is_simulator", c_int),
                ("failed_selftest", c_int), ("chosen_because", c_char * 96), ("reserved", c_ubyte * 256)]


class DataOpts(Structure):
    _fields_ = [("limit", c_size_t), ("features", c_size_t), ("labels", c_char_p), ("label_column", c_char_p),
                ("test_set", c_int), ("reserved", c_ubyte * 60)]


class TrainingProgress(Structure):
    _fields_ = [("building", c_int), ("epoch", c_int), ("epochs", c_int), ("step", c_long),
                ("steps_per_epoch", c_long), ("batch", c_int), ("train_loss", c_double), ("train_recon", c_double),
                ("train_kl", c_double), ("val_loss", c_double), ("val_rows", c_size_t), ("val_seconds", c_double),
                ("samples_per_s", c_double), ("lr", c_double), ("epoch_seconds", c_double), ("epoch_done", c_int),
                ("improved", c_int), ("stopping", c_int), ("checkpointed", c_int), ("best_written", c_int),
                ("checkpoint_error", c_char_p), ("kernels_done", c_int), ("kernels_total", c_int),
                ("reserved", c_ubyte * 120)]


PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, POINTER(TrainingProgress))


class TrainingOptions(Structure):
    _fields_ = [("epochs", c_int), ("batch", c_int), ("lr", c_double), ("seed", c_uint64), ("use_seed", c_int),
                ("schedule", c_char_p), ("patience", c_int), ("min_delta", c_double), ("keep_last", c_int),
                ("scale", c_char_p), ("report_every", c_int), ("checkpoint", c_char_p), ("checkpoint_every", c_long),
                ("checkpoint_epochs", c_int), ("checkpoint_best", c_char_p), ("resume", c_char_p),
                ("init", c_char_p), ("comm", c_void_p), ("progress", PROGRESS_FN), ("user", c_void_p),
                ("reserved", c_ubyte * 128)]


class TrainingInfo(Structure):
    _fields_ = [("epochs", c_int), ("batch", c_int), ("lr", c_double), ("seed", c_uint64), ("train_rows", c_size_t),
                ("val_rows", c_size_t), ("features", c_size_t), ("params", c_int64), ("kind", c_char_p),
                ("scale", c_char_p), ("scale_from_file", c_int), ("init_has_text", c_int), ("reserved", c_ubyte * 64)]


class TrainingSummary(Structure):
    _fields_ = [("epochs_run", c_int), ("stopped_early", c_int), ("validated", c_int), ("best_epoch", c_int),
                ("weights_epoch", c_int), ("best_loss", c_double), ("seconds", c_double), ("reserved", c_ubyte * 64)]


class TrainingEpoch(Structure):
    _fields_ = [("epoch", c_int), ("loss", c_double), ("recon", c_double), ("kl", c_double), ("val", c_double),
                ("lr", c_double), ("samples_per_s", c_double), ("seconds", c_double), ("improved", c_int),
                ("reserved", c_ubyte * 32)]


PINNED_SIZES = {DeviceInfo: 928, DataOpts: 96, TrainingProgress: 272, TrainingOptions: 280, TrainingInfo: 144,
                TrainingSummary: 104, TrainingEpoch: 104}

# ---- the library ------------------------------------------------------------------------

_F = POINTER(c_float)
_SIGNATURES = {
    "aecl_version_string": (c_char_p, []),
    "aecl_status_str": (c_char_p, [c_int]),
    "aecl_devices_list": (c_int, [POINTER(POINTER(DeviceInfo)), POINTER(c_size_t)]),
    "aecl_ctx_create": (c_int, [c_char_p, POINTER(c_void_p)]),
    "aecl_ctx_free": (None, [c_void_p]),
    "aecl_ctx_last_error": (c_char_p, [c_void_p]),
    "aecl_ctx_device": (POINTER(DeviceInfo), [c_void_p]),
    "aecl_data_load": (c_int, [c_void_p, c_char_p, POINTER(DataOpts), POINTER(c_void_p)]),
    "aecl_data_from_array": (c_int, [c_void_p, _F, c_size_t, c_size_t, POINTER(c_int32), POINTER(c_void_p)]),
    "aecl_data_free": (None, [c_void_p]),
    "aecl_data_count": (c_size_t, [c_void_p]),
    "aecl_data_features": (c_size_t, [c_void_p]),
    "aecl_data_rows": (_F, [c_void_p]),
    "aecl_data_labels": (POINTER(c_int32), [c_void_p]),
    "aecl_data_keep_class": (c_int, [c_void_p, c_int32]),
    "aecl_data_split": (c_int, [c_void_p, c_double, c_uint64, POINTER(c_void_p)]),
    "aecl_model_spec_parse": (c_int, [c_void_p, c_char_p, c_char_p, POINTER(c_void_p)]),
    "aecl_model_spec_load": (c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    "aecl_model_spec_free": (None, [c_void_p]),
    "aecl_model_spec_input_size": (c_size_t, [c_void_p]),
    "aecl_training_create": (c_int, [c_void_p, c_void_p, c_void_p, c_void_p, POINTER(TrainingOptions),
                                     POINTER(c_void_p)]),
    "aecl_training_info_get": (None, [c_void_p, POINTER(TrainingInfo)]),
    "aecl_training_run": (c_int, [c_void_p]),
    "aecl_training_summary_get": (None, [c_void_p, POINTER(TrainingSummary)]),
    "aecl_training_history": (POINTER(TrainingEpoch), [c_void_p, POINTER(c_size_t)]),
    "aecl_training_set_meta": (c_int, [c_void_p, c_char_p, c_char_p]),
    "aecl_training_fit_threshold": (c_int, [c_void_p, c_double, POINTER(c_double), _F, POINTER(c_size_t)]),
    "aecl_training_save": (c_int, [c_void_p, c_char_p]),
    "aecl_training_model": (c_int, [c_void_p, POINTER(c_void_p)]),
    "aecl_training_free": (None, [c_void_p]),
    "aecl_model_load": (c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    "aecl_model_free": (None, [c_void_p]),
    "aecl_model_get_kind": (c_int, [c_void_p]),
    "aecl_model_kind_name": (c_char_p, [c_void_p]),
    "aecl_model_input_shape": (c_int, [c_void_p, POINTER(c_int), POINTER(c_int), POINTER(c_int)]),
    "aecl_model_input_size": (c_size_t, [c_void_p]),
    "aecl_model_latent_size": (c_size_t, [c_void_p]),
    "aecl_model_set_batch": (c_int, [c_void_p, c_int]),
    "aecl_model_encode": (c_int, [c_void_p, _F, c_size_t, _F, c_int]),
    "aecl_model_decode": (c_int, [c_void_p, _F, c_size_t, _F]),
    "aecl_model_reconstruct": (c_int, [c_void_p, _F, c_size_t, _F]),
    "aecl_model_scores": (c_int, [c_void_p, _F, c_size_t, c_int, _F]),
    "aecl_model_sample": (c_int, [c_void_p, c_size_t, c_uint64, _F]),
    "aecl_model_fit_normal": (c_int, [c_void_p, _F, c_size_t]),
    "aecl_model_save": (c_int, [c_void_p, c_char_p]),
    "aecl_model_get_meta": (c_char_p, [c_void_p, c_char_p]),
    "aecl_model_set_meta": (c_int, [c_void_p, c_char_p, c_char_p]),
}


def _candidates():
    env = os.environ.get("AECL_LIBRARY")
    if env:
        return [env]   # named: that one or an error, never another by surprise
    here = os.path.dirname(os.path.abspath(__file__))
    found = sorted(f for f in os.listdir(here) if f.startswith("libaecl.so"))
    names = [os.path.join(here, f) for f in found]
    names += [n for n in (ctypes.util.find_library("aecl"), "libaecl.so", "libaecl.so.0.1") if n]
    return names


def _open():
    tried = []
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            tried.append(f"{name} ({e})")
            continue
        for fn, (res, args) in _SIGNATURES.items():
            f = getattr(lib, fn)
            f.restype, f.argtypes = res, args
        return lib
    raise ImportError("aecl: libaecl.so not found; set AECL_LIBRARY to its path (tried: " + "; ".join(tried) + ")")


lib = _open()

# ---- contexts and errors ------------------------------------------------------------------

_contexts = {}
_lock = threading.Lock()


def context(device=None):
    """The aecl_ctx of `device` (a selector as aecl_ctx_create takes it; None:
    $AECL_DEVICE or the default) for this thread, created once and kept."""
    key = (device, threading.get_ident())
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None:
            out = c_void_p()
            st = lib.aecl_ctx_create(device.encode() if device else None, ctypes.byref(out))
            if st:
                raise _error_class(st)(st, lib.aecl_ctx_last_error(None).decode(errors="replace"))
            ctx = _contexts[key] = out
        return ctx


def check(st, ctx):
    """Raises the exception of a failed call, carrying aecl's message."""
    if st:
        raise _error_class(st)(st, lib.aecl_ctx_last_error(ctx).decode(errors="replace"))


def encode(s):
    return os.fsencode(s) if s is not None else None
