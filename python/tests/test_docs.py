"""docs/python.md's walkthrough runs as written (its python blocks in order, in a
temporary folder, with the aecl program on PATH)."""
import os
import re

import pytest

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "python.md")


def blocks():
    text = open(DOC).read()
    part = text.split("<!-- walkthrough begin -->")[1].split("<!-- walkthrough end -->")[0]
    return re.findall(r"```python\n(.*?)```", part, re.S)


def test_walkthrough_runs(tmp_path, monkeypatch):
    if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
        pytest.skip("Fashion-MNIST is not installed")
    code = blocks()
    assert len(code) == 6
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", os.path.dirname(os.environ["AECL_CLI"]) + os.pathsep + os.environ["PATH"])
    env = {}
    for b in code:
        exec(compile(b, "docs/python.md", "exec"), env)
    assert (tmp_path / "walkthrough.png").stat().st_size > 1000
    assert env["codes"].shape == (200, 32) and env["recon"].shape == (200, 784)
    # The detector flags other classes' images more often than its own.
    assert env["det"].predict(env["others"]).mean() > env["det"].labels_.mean()
    for part in ("tshirts.onnx", "tshirts.encoder.onnx", "tshirts.decoder.onnx"):
        assert (tmp_path / part).exists()
