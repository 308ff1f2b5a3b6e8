"""scikit-learn-style estimators over the public training API (aecl_training_*):
AutoEncoder (fit, transform, inverse_transform, score_samples, history_) and the
PyOD-style AnomalyDetector (decision_scores_, threshold_, labels_)."""
import ctypes
import math
import os

import numpy as np

from . import _lib
from ._arrays import fptr, rows
from ._data import Data
from ._lib import check, context, encode, lib
from ._model import Model, load


def default_model_text(features):
    """A dense autoencoder sized from the input width, as PyOD's detectors pick
    one: two hidden layers (about half, then a quarter of the width, 8 to 128
    units) and a code of about an eighth (2 to 32), a linear output for
    standardized data (the default scaling), MSE loss, Adam."""
    h1 = int(min(128, max(8, 2 ** round(math.log2(max(features / 2, 1))))))
    h2 = max(4, h1 // 2)
    latent = int(min(32, max(2, h2 // 2)))
    return (f"kind = vanilla\ninput = {features}\nlatent = {latent}\nloss = mse\noutput_activation = none\n\n"
            f"[encoder]\ndense {h1} relu\ndense {h2} relu\n\n[decoder]\nmirror\n\n"
            "[train]\noptimizer = adam\nlr = 1e-3\nbatch = 64\nepochs = 20\n")


def _is_path(X):
    return isinstance(X, (str, bytes, os.PathLike))


class AutoEncoder:
    """An autoencoder trained with aecl.

    model: a model text, the path of a model file (docs/model-format.md), or None
    for a default architecture sized from the input width (with scale="standard").
    epochs, batch_size, lr, seed: None = the model text's. device: an aecl device
    selector (None: $AECL_DEVICE or the default). validation_split: hold out this
    fraction of fit's X when no validation_data is given. The other options are
    `aecl train`'s (docs/training.md). progress: a callable given a dict at each
    report; returning True stops training (aecl.AeclCanceled)."""

    def __init__(self, model=None, epochs=None, batch_size=None, lr=None, device=None, seed=None, scale=None,
                 validation_split=0.0, schedule=None, patience=0, min_delta=0.0, keep_last=False, init=None,
                 checkpoint=None, report_every=0, verbose=False, progress=None):
        self.model = model
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.seed = seed
        self.scale = scale
        self.validation_split = validation_split
        self.schedule = schedule
        self.patience = patience
        self.min_delta = min_delta
        self.keep_last = keep_last
        self.init = init
        self.checkpoint = checkpoint
        self.report_every = report_every
        self.verbose = verbose
        self.progress = progress

    # ---- scikit-learn's parameter protocol ----
    def get_params(self, deep=True):
        import inspect
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    # ---- training ----
    def _spec(self, ctx, features):
        out = ctypes.c_void_p()
        m = self.model
        if m is None:
            check(lib.aecl_model_spec_parse(ctx, default_model_text(features).encode(), b"<default model>",
                                            ctypes.byref(out)), ctx)
        elif isinstance(m, (str, bytes)) and ("\n" in str(m) or "=" in str(m)) and not os.path.exists(m):
            text = m.encode() if isinstance(m, str) else m
            check(lib.aecl_model_spec_parse(ctx, text, b"<model text>", ctypes.byref(out)), ctx)
        else:
            check(lib.aecl_model_spec_load(ctx, encode(os.fspath(m)), ctypes.byref(out)), ctx)
        return out

    def _options(self, cb):
        o = _lib.TrainingOptions()
        o.epochs = int(self.epochs or 0)
        o.batch = int(self.batch_size or 0)
        o.lr = float(self.lr or 0)
        if self.seed is not None:
            o.seed, o.use_seed = int(self.seed), 1
        o.schedule = self.schedule.encode() if self.schedule else None
        o.patience = int(self.patience)
        o.min_delta = float(self.min_delta)
        o.keep_last = 1 if self.keep_last else 0
        scale = self.scale if self.scale is not None else ("standard" if self.model is None and not self.init
                                                           else None)
        o.scale = scale.encode() if scale else None
        o.report_every = int(self.report_every)
        o.checkpoint = encode(self.checkpoint)
        o.init = encode(self.init)
        o.progress = cb
        return o

    def _progress_fn(self, failure):
        def on_progress(_user, p):
            try:
                q = p.contents
                if self.verbose and q.epoch_done:
                    val = f"  val loss {q.val_loss:.5f}" if not math.isnan(q.val_loss) else ""
                    print(f"epoch {q.epoch}/{q.epochs}  train loss {q.train_loss:.5f}{val}", flush=True)
                if self.progress is not None:
                    d = {k: getattr(q, k) for k, _ in _lib.TrainingProgress._fields_
                         if k not in ("reserved", "checkpoint_error")}
                    return 1 if self.progress(d) else 0
                return 0
            except BaseException as e:   # KeyboardInterrupt too: stop the run, raise it after
                failure.append(e)
                return 1
        return _lib.PROGRESS_FN(on_progress)

    def _train(self, X, y=None, validation_data=None):
        """Trains; returns (ctx, training handle, float32 rows or None for a file)."""
        ctx = context(self.device)
        if _is_path(X):
            x, train = None, Data.load(ctx, X)
        else:
            x = rows(X)
            train = Data(ctx, x, y)
        spec = self._spec(ctx, train.features) if (self.model is not None or not self.init) else ctypes.c_void_p()
        try:
            val = None
            if validation_data is not None:
                vx = validation_data[0] if isinstance(validation_data, tuple) else validation_data
                val = (Data.load(ctx, vx, features=train.features) if _is_path(vx)
                       else Data(ctx, rows(vx, train.features, "validation_data")))
            elif self.validation_split:
                val = train.split(self.validation_split, self.seed if self.seed is not None else 1)
            failure = []
            cb = self._progress_fn(failure)
            opts = self._options(cb)
            t = ctypes.c_void_p()
            check(lib.aecl_training_create(ctx, spec, train.h, val.h if val else None, ctypes.byref(opts),
                                           ctypes.byref(t)), ctx)
        finally:
            if spec:
                lib.aecl_model_spec_free(spec)
        self._keep = (train, val, cb, opts)   # the handle reads them until it is freed
        try:
            st = lib.aecl_training_run(t)
            if failure:
                raise failure[0]
            check(st, ctx)
        except BaseException:
            lib.aecl_training_free(t)
            raise
        return ctx, t, x

    def _finish(self, ctx, t):
        s = _lib.TrainingSummary()
        lib.aecl_training_summary_get(t, ctypes.byref(s))
        n = ctypes.c_size_t()
        h = lib.aecl_training_history(t, ctypes.byref(n))
        rows_ = [h[i] for i in range(n.value)]
        self.history_ = {k: [getattr(r, k) for r in rows_]
                         for k in ("epoch", "loss", "recon", "kl", "val", "lr", "samples_per_s", "seconds")}
        self.history_["val_loss"] = self.history_.pop("val")
        self.summary_ = {"epochs_run": s.epochs_run, "stopped_early": bool(s.stopped_early),
                         "validated": bool(s.validated), "best_epoch": s.best_epoch,
                         "weights_epoch": s.weights_epoch, "best_loss": s.best_loss, "seconds": s.seconds}
        m = ctypes.c_void_p()
        try:
            check(lib.aecl_training_model(t, ctypes.byref(m)), ctx)
            self.model_ = Model(m, ctx)
        finally:
            lib.aecl_training_free(t)
            self._keep = None

    def fit(self, X, y=None, validation_data=None):
        """Trains on X: an array (n samples x features, or images n x c x h x w;
        any numeric dtype, C or Fortran order) or the path of a data file aecl
        reads (a folder, IDX, CSV or .npy: no numpy copy). validation_data: X_val
        (or (X_val, ...)), an array or a path, monitored each epoch."""
        ctx, t, _ = self._train(X, None, validation_data)
        self._finish(ctx, t)
        return self

    def _fitted(self):
        if not hasattr(self, "model_"):
            raise AttributeError(f"this {type(self).__name__} is not fitted yet: call fit first")
        return self.model_

    def transform(self, X):
        return self._fitted().encode(X)

    def fit_transform(self, X, y=None, validation_data=None):
        return self.fit(X, y, validation_data).transform(X)

    def inverse_transform(self, Z):
        return self._fitted().decode(Z)

    def reconstruct(self, X):
        return self._fitted().reconstruct(X)

    def score_samples(self, X):
        """Per-sample reconstruction error (MSE), or a VAE's negative ELBO."""
        return self._fitted().score_samples(X)

    def save(self, path):
        self._fitted().save(path)


class AnomalyDetector(AutoEncoder):
    """A PyOD-style detector: fit(X) trains an autoencoder on X, scores the
    training samples (MSE per feature: decision_scores_) and sets threshold_ to
    their (1 - contamination)-quantile (stored in the weights file as
    aecl.anomaly.threshold, which `aecl anomaly` uses); labels_ marks the
    training samples above it (1 = outlier)."""

    def __init__(self, contamination=0.1, model=None, epochs=None, batch_size=None, lr=None, device=None,
                 seed=None, scale=None, validation_split=0.0, schedule=None, patience=0, min_delta=0.0,
                 keep_last=False, init=None, checkpoint=None, report_every=0, verbose=False, progress=None):
        super().__init__(model=model, epochs=epochs, batch_size=batch_size, lr=lr, device=device, seed=seed,
                         scale=scale, validation_split=validation_split, schedule=schedule, patience=patience,
                         min_delta=min_delta, keep_last=keep_last, init=init, checkpoint=checkpoint,
                         report_every=report_every, verbose=verbose, progress=progress)
        self.contamination = contamination

    def fit(self, X, y=None, validation_data=None):
        if not 0 < self.contamination < 0.5 + 1e-12:
            raise ValueError(f"contamination {self.contamination}: must lie in (0, 0.5]")
        ctx, t, x = self._train(X, None, validation_data)
        try:
            thr = ctypes.c_double()
            n = ctypes.c_size_t()
            info = _lib.TrainingInfo()
            lib.aecl_training_info_get(t, ctypes.byref(info))
            scores = np.empty(info.train_rows, np.float32)
            check(lib.aecl_training_fit_threshold(t, float(self.contamination), ctypes.byref(thr), fptr(scores),
                                                  ctypes.byref(n)), ctx)
        except BaseException:
            lib.aecl_training_free(t)
            raise
        self._finish(ctx, t)
        self.threshold_ = float(thr.value)
        # The scores of all of X (a validation split scored too), as PyOD's
        # decision_scores_; X given as a file: the training rows' scores.
        self.decision_scores_ = (self.decision_function(x) if x is not None and info.train_rows != x.shape[0]
                                 else scores.astype(np.float64))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    @classmethod
    def load(cls, path, device=None):
        """A detector from a weights file with a stored threshold."""
        m = load(path, device)
        if m.threshold is None:
            raise ValueError(f"{path}: no anomaly threshold stored (train with contamination)")
        d = cls(device=device)
        d.model_, d.threshold_ = m, m.threshold
        c = m.meta("aecl.anomaly.contamination")
        if c is not None:
            d.contamination = float(c)
        return d

    def decision_function(self, X):
        """Anomaly scores (higher = more anomalous): MSE per feature, in the
        model's scaled space (the threshold's)."""
        return self._fitted().score_samples(X, "mse").astype(np.float64)

    def predict(self, X):
        return (self.decision_function(X) > self.threshold_).astype(int)

    def predict_proba(self, X):
        """[P(inlier), P(outlier)] per sample: the score min-max scaled by the
        training scores (PyOD's "linear" method), clipped to [0, 1]."""
        s = self.decision_function(X)
        ref = getattr(self, "decision_scores_", None)
        lo, hi = (ref.min(), ref.max()) if ref is not None else (0.0, self.threshold_ * 2)
        p = np.clip((s - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
        return np.column_stack([1 - p, p])
