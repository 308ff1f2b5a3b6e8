"""Checks of `aecl export` (run by tests/cli_export.sh).

  export_check.py onnx|torch MANIFEST

Each manifest line names a case: NAME WEIGHTS PREFIX MODULE.py X.npy CODES.npy
RECON.npy [ELBO.csv] (one process checks them all: importing torch takes seconds).

onnx: the three ONNX files PREFIX.onnx, PREFIX.encoder.onnx, PREFIX.decoder.onnx
pass onnx.checker (full check: shape inference too), declare opset >= 13, a
named input with a dynamic batch dimension, hold the weights file's tensors as
initializers, and, run by the numpy evaluator below (an independent reading of
the ONNX operator definitions, in float64), give aecl's own outputs for the same
rows: the encoder aecl encode's codes, the whole model aecl's reconstructions,
the decoder aecl's reconstructions from aecl's codes. Each part also runs on a
batch of 3 rows (the batch dimension is dynamic). A VAE's logvar output is
checked through the negative ELBO at the mean code (aecl anomaly --elbo): BCE of
the whole model's reconstruction plus the KL term of the encoder's code and logvar.

torch: the generated module loads the weights file with its own reader, its
state_dict keys are the file's tensor names, and encode, decode and forward give
aecl's outputs.

Prints the worst differences; exits 1 when one is beyond |d| <= ATOL + RTOL |aecl|.
"""
import json
import sys

import numpy as np

RTOL, ATOL = 1e-4, 1e-5


def read_safetensors(path):
    """name -> float32 array, and the metadata (read here, not by aecl or the module)."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(info["shape"])
    return out, meta


# ---- a numpy evaluator of the ONNX operators aecl export emits --------------------

def attrs_of(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv(x, w, b, a):
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    p = a.get("pads", [0, 0, 0, 0])
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
            y += np.einsum("nchw,kc->nkhw", patch, w[:, :, i, j])
    return y + b.reshape(1, -1, 1, 1)


def conv_transpose(x, w, b, a):
    """Every input pixel scatters w * x into the stride-spaced output, then the pads are cut."""
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    p = a.get("pads", [0, 0, 0, 0])
    op = a.get("output_padding", [0, 0])
    n, _, h, wd = x.shape
    full = np.zeros((n, w.shape[1], (h - 1) * sh + kh + op[0], (wd - 1) * sw + kw + op[1]))
    for i in range(kh):
        for j in range(kw):
            full[:, :, i:i + sh * (h - 1) + 1:sh, j:j + sw * (wd - 1) + 1:sw] += np.einsum("nchw,ck->nkhw", x, w[:, :, i, j])
    ho = (h - 1) * sh + op[0] + kh - p[0] - p[2]
    wo = (wd - 1) * sw + op[1] + kw - p[1] - p[3]
    return full[:, :, p[0]:p[0] + ho, p[1]:p[1] + wo] + b.reshape(1, -1, 1, 1)


def pool(x, a, reduce):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    assert not any(a.get("pads", [0])) and not a.get("ceil_mode", 0), "pads/ceil_mode not emitted by aecl"
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    windows = [x[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] for i in range(kh) for j in range(kw)]
    return reduce(np.stack(windows), axis=0)


def resize(x, scales, a):
    """Resize with integer scales on H and W: 'nearest' (asymmetric, floor) or
    'linear' (half_pixel; the ONNX reference pads the edges with their values)."""
    assert list(scales[:2]) == [1, 1]
    mode, ctm = a.get("mode", b"nearest"), a.get("coordinate_transformation_mode", b"half_pixel")
    mode, ctm = (v.decode() if isinstance(v, bytes) else v for v in (mode, ctm))
    for axis, s in ((2, scales[2]), (3, scales[3])):
        n_in = x.shape[axis]
        o = np.arange(int(n_in * s))
        if mode == "nearest":
            assert ctm == "asymmetric" and a.get("nearest_mode", b"floor") in (b"floor", "floor")
            x = np.take(x, np.floor(o / s).astype(int), axis=axis)
            continue
        assert mode == "linear" and ctm == "half_pixel"
        src = (o + 0.5) / s - 0.5
        i0 = np.floor(src).astype(int)
        frac = src - i0
        lo = np.take(x, np.clip(i0, 0, n_in - 1), axis=axis)
        hi = np.take(x, np.clip(i0 + 1, 0, n_in - 1), axis=axis)
        shape = [1] * x.ndim
        shape[axis] = len(o)
        frac = frac.reshape(shape)
        x = (1 - frac) * lo + frac * hi
    return x


def gemm(a_, b_, c, a):
    if a.get("transA", 0):
        a_ = a_.T
    if a.get("transB", 0):
        b_ = b_.T
    return a.get("alpha", 1.0) * a_ @ b_ + a.get("beta", 1.0) * c


def reshape(x, shape):
    shape = [x.shape[i] if d == 0 else int(d) for i, d in enumerate(shape)]
    return x.reshape(shape)


def run_node(node, v):
    a = attrs_of(node)
    x = [v[i] if i else None for i in node.input]
    op = node.op_type
    if op == "Gemm":
        return gemm(x[0], x[1], x[2] if len(x) > 2 else 0.0, a)
    if op == "Conv":
        return conv(x[0], x[1], x[2], a)
    if op == "ConvTranspose":
        return conv_transpose(x[0], x[1], x[2], a)
    if op == "MaxPool":
        return pool(x[0], a, np.max)
    if op == "AveragePool":
        return pool(x[0], a, np.mean)
    if op == "Resize":
        return resize(x[0], x[2], a)
    if op == "Flatten":
        ax = a.get("axis", 1)
        return x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
    if op == "Reshape":
        return reshape(x[0], x[1])
    unary = {"Relu": lambda t: np.maximum(t, 0),
             "LeakyRelu": lambda t: np.where(t >= 0, t, a.get("alpha", 0.01) * t),
             "Sigmoid": lambda t: 1 / (1 + np.exp(-t)),
             "Tanh": np.tanh,
             "Elu": lambda t: np.where(t > 0, t, a.get("alpha", 1.0) * np.expm1(np.minimum(t, 0))),
             "Softplus": lambda t: np.logaddexp(0, t),
             "Identity": lambda t: t}
    if op in unary:
        return unary[op](x[0])
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}
    if op in binary:
        return binary[op](x[0], x[1])
    raise NotImplementedError(f"op {op} (node {node.name})")


def evaluate(model, feeds):
    """Runs the graph's nodes in order (ONNX keeps them topologically sorted)."""
    from onnx import numpy_helper
    v = {t.name: numpy_helper.to_array(t).astype(np.float64) if t.data_type == 1 else numpy_helper.to_array(t)
         for t in model.graph.initializer}
    v.update({k: np.asarray(x, dtype=np.float64) for k, x in feeds.items()})
    for node in model.graph.node:
        v[node.output[0]] = run_node(node, v)
    return [v[o.name] for o in model.graph.output]


# ---- the checks ----------------------------------------------------------------------

failures = []


def compare(what, got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        failures.append(f"{what}: shape {got.shape}, aecl's is {want.shape}")
        return
    d = np.abs(got - want)
    scale = float(np.abs(want).max())
    bad = int(np.sum(d > ATOL + RTOL * np.abs(want)))
    print(f"{what}: max |diff| {d.max():.3g} = {d.max() / max(scale, 1e-30):.2g} of max |aecl| {scale:.3g} "
          f"({want.size} values)")
    if bad:
        failures.append(f"{what}: {bad} values beyond {ATOL} + {RTOL} |aecl|")


def check(cond, what):
    if not cond:
        failures.append(what)


def check_io(model, name, part, tensors):
    import onnx
    from onnx import numpy_helper
    onnx.checker.check_model(model, full_check=True)
    opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    check(opset and opset[0] >= 13, f"{name}: opset {opset}, expected 13 or later")
    want_in = "code" if part == "decoder" else "input"
    inp = model.graph.input[0]
    check(inp.name == want_in, f"{name}: input '{inp.name}', expected '{want_in}'")
    for vi in list(model.graph.input) + list(model.graph.output):
        d0 = vi.type.tensor_type.shape.dim[0]
        check(d0.dim_param and not d0.HasField("dim_value"), f"{name}: {vi.name}'s batch dimension is not dynamic")
    for t in model.graph.initializer:
        if t.name in tensors:
            same = np.array_equal(numpy_helper.to_array(t), tensors[t.name])
            check(same, f"{name}: initializer {t.name} differs from the weights file")
    used = {t.name for t in model.graph.initializer} & set(tensors)
    print(f"{name}: checker ok, opset {opset[0]}, {len(model.graph.node)} nodes, {len(used)} weights-file tensors "
          f"({', '.join(sorted({n.op_type for n in model.graph.node}))})")
    return used


def shaped(x, model):
    """Rows [n, F] as the graph's input shape [n, ...]."""
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    return x.reshape([x.shape[0]] + dims)


def neg_elbo(x, p, mu, logvar):
    """Per sample: BCE summed over features (loss = bce) + KL(N(mu, exp(logvar)) || N(0, I))."""
    p = np.clip(p, 1e-300, 1 - 1e-16)
    rec = -np.sum(x * np.log(p) + (1 - x) * np.log1p(-p), axis=1)
    return rec - 0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=1)


def check_onnx(weights, prefix, x, codes, recon, elbo):
    import onnx
    tensors, _ = read_safetensors(weights)
    used, got = set(), {}
    for part, path in (("encoder", prefix + ".encoder.onnx"), ("decoder", prefix + ".decoder.onnx"),
                       ("full", prefix + ".onnx")):
        m = onnx.load(path)
        used |= check_io(m, path, part, tensors)
        rows = codes if part == "decoder" else x
        for n in (len(rows), 3):
            outs = evaluate(m, {m.graph.input[0].name: shaped(rows[:n], m)})
            flat = [o.reshape(o.shape[0], -1) for o in outs]
            if n == len(rows):
                got[part] = flat
            tag = f"{part} (batch {n})"
            if part == "encoder":
                compare(f"{tag} code", flat[0], codes[:n])
            else:
                compare(f"{tag} reconstruction", flat[0], recon[:n])
        if part == "encoder":
            names = [o.name for o in m.graph.output]
            check(names == (["code", "logvar"] if elbo is not None else ["code"]), f"{path}: outputs {names}")
    if elbo is not None:
        mu, logvar = got["encoder"]
        compare("VAE negative ELBO (full model's reconstruction, encoder's code and logvar)",
                neg_elbo(x, got["full"][0], mu, logvar), elbo)
    check(used == set(tensors), f"the ONNX files leave out tensors {sorted(set(tensors) - used)}")


def check_torch(weights, module_path, x, codes, recon):
    import importlib.util
    import torch
    spec = importlib.util.spec_from_file_location("exported", module_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tensors, _ = read_safetensors(weights)
    model = mod.load(weights)
    check(set(model.state_dict()) == set(tensors), "state_dict keys differ from the weights file's tensor names")
    # load_state_dict takes the file's tensors as they are (strict).
    fresh = mod.Autoencoder()
    fresh.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
    xt = torch.from_numpy(x.reshape([len(x)] + list(mod.INPUT_SHAPE)).copy())
    with torch.no_grad():
        z = model.encode(xt)
        z = z[0] if isinstance(z, tuple) else z
        compare("torch encode", z.numpy(), codes)
        compare("torch decode(aecl codes)", model.decode(torch.from_numpy(codes.copy())).reshape(len(x), -1).numpy(), recon)
        compare("torch forward", model(xt).reshape(len(x), -1).numpy(), recon)
    print(f"torch: {len(tensors)} tensors loaded by load() and by load_state_dict")


def main():
    """Each line of the manifest: NAME WEIGHTS PREFIX MODULE.py X.npy CODES.npy RECON.npy [ELBO.csv]."""
    kind, manifest = sys.argv[1:3]
    for line in open(manifest):
        if not line.strip():
            continue
        name, weights, prefix, module, xp, cp, rp, *elbo = line.split()
        x, codes, recon = (np.load(p).astype(np.float32) for p in (xp, cp, rp))
        x = x.reshape(len(x), -1)
        before = len(failures)
        print(f"== {name}: {'ONNX' if kind == 'onnx' else 'PyTorch'}")
        if kind == "onnx":
            e = np.loadtxt(elbo[0], delimiter=",", skiprows=1, usecols=1, ndmin=1) if elbo else None
            check_onnx(weights, prefix, x, codes, recon, e)
        else:
            check_torch(weights, module, x, codes, recon)
        failures[before:] = [f"{name}: {f}" for f in failures[before:]]
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
