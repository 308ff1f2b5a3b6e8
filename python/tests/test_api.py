"""aecl's Python package against known values and the aecl program's outputs."""
import json
import os
import struct
import subprocess

import numpy as np
import pytest

import aecl

MODEL = """kind = vanilla
input = 6
latent = 2
loss = mse
output_activation = none

[encoder]
dense 8 tanh

[decoder]
mirror

[train]
optimizer = adam
lr = 1e-2
batch = 32
epochs = 3
seed = 7
"""


def data(n=256, f=6, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    return z @ rng.normal(size=(2, f)) + 0.05 * rng.normal(size=(n, f))


def tensors(path):
    """A safetensors file's tensors (float32) and metadata, read with numpy alone."""
    raw = open(path, "rb").read()
    (hl,) = struct.unpack("<Q", raw[:8])
    head = json.loads(raw[8:8 + hl])
    meta = head.pop("__metadata__", {})
    body = raw[8 + hl:]
    out = {k: np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]], np.float32).reshape(v["shape"])
           for k, v in head.items()}
    return out, meta


def test_devices_lists_the_pinned_device():
    devs = aecl.devices()
    assert devs and any(d["is_default"] for d in devs)
    want = os.environ.get("AECL_DEVICE")
    if want:
        assert any(want.lower() in (d["name"] + d["platform"]).lower() for d in devs)


def test_fit_equals_aecl_train(tmp_path):
    """The package trains through the same C API as `aecl train`: same data,
    model and options give the same weights, bit for bit."""
    x = data()
    np.save(tmp_path / "x.npy", x)          # float64: aecl converts it as the package does
    (tmp_path / "m.model").write_text(MODEL)
    cli = os.environ["AECL_CLI"]
    r = subprocess.run([cli, "train", str(tmp_path / "m.model"), "--data", str(tmp_path / "x.npy"), "--val-limit",
                        "0", "--scale", "standard", "--out", str(tmp_path / "cli.st")], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    ae = aecl.AutoEncoder(model=str(tmp_path / "m.model"), scale="standard").fit(x)
    ae.save(tmp_path / "py.st")
    a, ma = tensors(tmp_path / "cli.st")
    b, mb = tensors(tmp_path / "py.st")
    assert a.keys() == b.keys() and len(a) == 8
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert ma["aecl.scaling"] == mb["aecl.scaling"] and ma["aecl.model"] == mb["aecl.model"]
    assert mb["aecl.train.epochs"] == "3 of 3" and mb["aecl.train.data"] == "256 samples of an array"
    assert len(ae.history_["loss"]) == 3 and ae.history_["epoch"] == [1, 2, 3]
    assert all(np.isnan(ae.history_["val_loss"]))
    # The model handed over without a file gives what the saved file gives.
    m = aecl.load(tmp_path / "cli.st")
    np.testing.assert_array_equal(m.encode(x), ae.transform(x))


def test_model_calls_against_numpy(tmp_path):
    x = data(100)
    ae = aecl.AutoEncoder(model=MODEL, scale="none").fit(x)
    m = ae.model_
    assert (m.kind, m.input_size, m.latent_size, m.input_shape) == ("vanilla", 6, 2, (6,))
    z = ae.transform(x)
    y = ae.inverse_transform(z)
    np.testing.assert_allclose(m.reconstruct(x), y, rtol=1e-5, atol=1e-6)
    # MSE per feature of the reconstruction, as numpy computes it.
    np.testing.assert_allclose(ae.score_samples(x), ((x - y) ** 2).mean(axis=1), rtol=1e-4, atol=1e-6)
    # A tanh code of a dense layer: |z| < 1 is not promised (linear code), but finite and batch-independent.
    np.testing.assert_array_equal(m.encode(x[:7]), z[:7])
    m.save(tmp_path / "m.st")
    np.testing.assert_array_equal(aecl.load(tmp_path / "m.st").reconstruct(x), y)


@pytest.mark.parametrize("conv", [lambda a: a.astype(np.float64), lambda a: np.asfortranarray(a),
                                  lambda a: a.astype(np.float32), lambda a: np.round(a * 10).astype(np.int64) / 10,
                                  lambda a: a[:, ::-1][:, ::-1]])
def test_dtypes_and_orders_give_the_same_codes(conv):
    x = np.round(data(40) * 10) / 10
    ae = aecl.AutoEncoder(model=MODEL, epochs=1).fit(x.astype(np.float32))
    np.testing.assert_array_equal(ae.transform(conv(x)), ae.transform(x.astype(np.float32)))


def test_integer_and_uint8_input():
    x = (np.arange(60 * 6) % 7).reshape(60, 6)
    ae = aecl.AutoEncoder(model=MODEL, epochs=1).fit(x.astype(np.uint8))
    np.testing.assert_array_equal(ae.transform(x.astype(np.int32)), ae.transform(x.astype(np.float32)))


def test_anomaly_detector(tmp_path):
    x = data(300)
    det = aecl.AnomalyDetector(contamination=0.1, epochs=5, seed=3).fit(x)
    s = det.decision_scores_
    assert s.shape == (300,)
    assert det.threshold_ == pytest.approx(np.quantile(s.astype(np.float32), 0.9), rel=1e-6)
    assert det.labels_.sum() == (s > det.threshold_).sum() and 20 <= det.labels_.sum() <= 30
    np.testing.assert_allclose(det.decision_function(x), s, rtol=1e-6)
    far = x[:10] * 20
    assert det.predict(far).tolist() == [1] * 10
    p = det.predict_proba(far)
    assert p.shape == (10, 2) and np.allclose(p.sum(axis=1), 1) and (p[:, 1] == 1).all()
    det.save(tmp_path / "d.st")
    m = aecl.load(tmp_path / "d.st")
    assert m.threshold == pytest.approx(det.threshold_, rel=1e-7)
    assert m.meta("aecl.anomaly.contamination") == "0.1"
    again = aecl.AnomalyDetector.load(tmp_path / "d.st")
    np.testing.assert_array_equal(again.predict(far), det.predict(far))
    # `aecl anomaly` uses the stored threshold by default.
    np.save(tmp_path / "far.npy", far)
    r = subprocess.run([os.environ["AECL_CLI"], "anomaly", str(tmp_path / "d.st"), "--data", str(tmp_path / "far.npy")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "threshold" in r.stdout


def test_default_architecture_follows_the_width():
    text = aecl.default_model_text(784)
    assert "input = 784" in text and "dense 128 relu" in text and "latent = 32" in text
    assert "latent = 2" in aecl.default_model_text(5)


def test_validation_data_and_history():
    x = data(200)
    ae = aecl.AutoEncoder(model=MODEL, epochs=3).fit(x, validation_data=data(50, seed=1))
    assert np.isfinite(ae.history_["val_loss"]).all() and ae.summary_["validated"]
    assert ae.summary_["weights_epoch"] == ae.summary_["best_epoch"]
    ae2 = aecl.AutoEncoder(model=MODEL, epochs=2, validation_split=0.25).fit(x)
    assert np.isfinite(ae2.history_["val_loss"]).all()


def test_cancel_from_the_progress_callback():
    seen = []

    def stop(p):
        seen.append((p["building"], p["epoch"], p["kernels_done"], p["kernels_total"]))
        return not p["building"]          # the first report after the build stops the run

    with pytest.raises(aecl.AeclCanceled) as e:
        aecl.AutoEncoder(model=MODEL, epochs=50, progress=stop).fit(data(300))
    assert e.value.status == 13 and "canceled" in str(e.value)
    # before the build; one per kind of kernel the first step ran; then epoch 1's first loss
    total = seen[1][3]
    assert seen[0] == (1, 0, 0, 0) and total > 0
    assert seen[1:-1] == [(1, 1, k, total) for k in range(1, total + 1)]
    assert seen[-1][:2] == (0, 1)

    def boom(p):
        raise KeyError("from the callback")

    with pytest.raises(KeyError):
        aecl.AutoEncoder(model=MODEL, epochs=2, progress=boom).fit(data(100))


def test_errors_carry_aecl_messages(tmp_path):
    ae = aecl.AutoEncoder(model=MODEL, epochs=1).fit(data(50))
    with pytest.raises(ValueError, match="6"):
        ae.transform(np.zeros((3, 5)))
    with pytest.raises(aecl.AeclValueError) as e:
        aecl.AutoEncoder(model=MODEL.replace("latent = 2", "latent = 0")).fit(data(50))
    assert "latent" in str(e.value) and e.value.status_name == "AECL_ERR_INVALID_ARG" or e.value.status in (1, 8)
    with pytest.raises(aecl.AeclValueError, match="features"):
        aecl.AutoEncoder(model=MODEL).fit(np.zeros((10, 4)))
    with pytest.raises(aecl.AeclIOError):
        aecl.load(tmp_path / "missing.st")
    with pytest.raises(ValueError, match="NaN"):
        ae.transform(np.full((2, 6), np.nan))
    with pytest.raises(AttributeError, match="not fitted"):
        aecl.AutoEncoder().transform(np.zeros((1, 6)))


def test_vae_sample_and_elbo():
    vae = MODEL.replace("kind = vanilla", "kind = variational")
    ae = aecl.AutoEncoder(model=vae, epochs=2).fit(data(100))
    assert ae.model_.kind == "variational"
    assert ae.model_.sample(5, seed=1).shape == (5, 6)
    np.testing.assert_array_equal(ae.model_.sample(5, seed=1), ae.model_.sample(5, seed=1))
    np.testing.assert_array_equal(ae.score_samples(data(20)), ae.model_.score_samples(data(20), "elbo"))
    assert ae.transform(data(4), ).shape == (4, 2)


def test_init_fine_tunes_saved_weights(tmp_path):
    x = data(100)
    aecl.AutoEncoder(model=MODEL, epochs=1).fit(x).save(tmp_path / "a.st")
    ae = aecl.AutoEncoder(init=str(tmp_path / "a.st"), epochs=1, lr=1e-30).fit(x)
    a, _ = tensors(tmp_path / "a.st")
    ae.save(tmp_path / "b.st")
    b, mb = tensors(tmp_path / "b.st")
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=0, atol=1e-6)
    assert mb["aecl.train.init"] == str(tmp_path / "a.st")


def test_read_data_as_aecl_reads_files(tmp_path):
    x = np.asfortranarray(data(30))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(30) % 4)
    X, y = aecl.read_data(tmp_path / "x.npy", labels=tmp_path / "y.npy", limit=20)
    np.testing.assert_array_equal(X, x[:20].astype(np.float32))
    np.testing.assert_array_equal(y, np.arange(20) % 4)
    csv = "a,b,label\n" + "".join(f"{i / 4},{-i},{i % 2}\n" for i in range(10))
    (tmp_path / "d.csv").write_text(csv)
    X, y = aecl.read_data(tmp_path / "d.csv", label_column="label")
    np.testing.assert_array_equal(X, np.array([[i / 4, -i] for i in range(10)], np.float32))
    np.testing.assert_array_equal(y, np.arange(10) % 2)
    X, y = aecl.read_data(tmp_path / "d.csv")
    assert X.shape == (10, 3) and y is None
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY\x01\x00garbage")
    with pytest.raises(aecl.AeclValueError, match="bad.npy"):
        aecl.read_data(tmp_path / "bad.npy")
    root = "/usr/share/datasets/fashion-mnist"
    if os.path.isdir(root):
        X, y = aecl.read_data(root, limit=5, test_set=True)
        assert X.shape == (5, 784) and y.shape == (5,) and 0 <= X.min() and X.max() <= 1


def test_image_arrays_of_a_conv_model():
    root = "/usr/share/datasets/fashion-mnist"
    if not os.path.isdir(root):
        pytest.skip("Fashion-MNIST is not installed")
    X, _ = aecl.read_data(root, limit=64)
    conv = os.path.join(os.path.dirname(__file__), "..", "..", "models", "conv.model")
    ae = aecl.AutoEncoder(model=conv, epochs=1, batch_size=32).fit(X.reshape(64, 1, 28, 28))
    assert ae.model_.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(ae.transform(X.reshape(64, 1, 28, 28)), ae.transform(X))
    assert ae.reconstruct(X[:3]).shape == (3, 784)
    m = ae.model_
    s = m.score_samples(X[:8], "ssim")
    assert s.shape == (8,) and ((0 <= s) & (s <= 2)).all()
    with pytest.raises(aecl.AeclError, match="fit_normal|normal"):
        m.score_samples(X[:8], "mahalanobis")
    m.fit_normal(X)
    d = m.score_samples(X[:8], "mahalanobis")
    assert d.shape == (8,) and (d >= 0).all()


def test_fit_from_a_file_equals_fit_from_the_array(tmp_path):
    x = data(120)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "v.npy", data(30, seed=2))
    a = aecl.AutoEncoder(model=MODEL, epochs=2, scale="standard").fit(x, validation_data=data(30, seed=2))
    b = aecl.AutoEncoder(model=MODEL, epochs=2, scale="standard").fit(str(tmp_path / "x.npy"),
                                                                       validation_data=tmp_path / "v.npy")
    np.testing.assert_array_equal(a.transform(x), b.transform(x))
    assert a.history_["val_loss"] == b.history_["val_loss"]
    det = aecl.AnomalyDetector(model=MODEL, epochs=1, contamination=0.2).fit(tmp_path / "x.npy")
    assert det.decision_scores_.shape == (120,) and det.labels_.sum() == 24
    with pytest.raises(aecl.AeclIOError):
        aecl.AutoEncoder(model=MODEL).fit(tmp_path / "none.npy")
