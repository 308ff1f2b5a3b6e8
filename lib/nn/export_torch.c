/* PyTorch export (docs/interchange.md): a Python file defining the model as a
 * plain torch.nn module whose state_dict keys are the weights file's tensor
 * names (nn.Sequential indices are aecl's layer numbers), with a safetensors
 * reader that needs only json, numpy and torch (Debian 12's Python has no
 * safetensors module) and a load() that sets the weights and the scaling. */
#include "base/atomic.h"
#include "base/buf.h"
#include "nn/export.h"

#include <stdlib.h>
#include <string.h>

/* The parts of the file that do not depend on the model. */
static const char torch_reader[] =
    "import json\n"
    "\n"
    "import numpy as np\n"
    "import torch\n"
    "from torch import nn\n"
    "\n"
    "\n"
    "def read_safetensors(path):\n"
    "    \"\"\"(tensors, metadata) of a safetensors file of F32 tensors, as aecl writes\n"
    "    them: name -> float32 torch.Tensor, and the __metadata__ strings.\"\"\"\n"
    "    with open(path, \"rb\") as f:\n"
    "        raw = f.read()\n"
    "    n = int.from_bytes(raw[:8], \"little\")\n"
    "    header = json.loads(raw[8:8 + n].decode(\"utf-8\"))\n"
    "    meta = header.pop(\"__metadata__\", None) or {}\n"
    "    tensors = {}\n"
    "    for name, info in header.items():\n"
    "        if info[\"dtype\"] != \"F32\":\n"
    "            raise ValueError(f\"{path}: tensor {name} is {info['dtype']}, not F32\")\n"
    "        begin, end = info[\"data_offsets\"]\n"
    "        values = np.frombuffer(raw, dtype=\"<f4\", count=(end - begin) // 4, offset=8 + n + begin)\n"
    "        tensors[name] = torch.from_numpy(values.astype(np.float32).reshape(info[\"shape\"]))\n"
    "    return tensors, meta\n"
    "\n"
    "\n"
    "class Activated:\n"
    "    \"\"\"Mixin of the layers with weights: the layer's op, then its activation\n"
    "    (and dropout while training).\"\"\"\n"
    "\n"
    "    def forward(self, x):\n"
    "        return self.drop(self.act(super().forward(x)))\n"
    "\n"
    "\n"
    "class Dense(Activated, nn.Linear):\n"
    "    def __init__(self, n_in, n_out, act, dropout=0.0):\n"
    "        super().__init__(n_in, n_out)\n"
    "        self.act, self.drop = act, nn.Dropout(dropout)\n"
    "\n"
    "\n"
    "class Conv(Activated, nn.Conv2d):\n"
    "    def __init__(self, c_in, c_out, kernel, stride, pad, act, dropout=0.0):\n"
    "        super().__init__(c_in, c_out, kernel, stride, pad)\n"
    "        self.act, self.drop = act, nn.Dropout(dropout)\n"
    "\n"
    "\n"
    "class ConvT(Activated, nn.ConvTranspose2d):\n"
    "    def __init__(self, c_in, c_out, kernel, stride, pad, outpad, act, dropout=0.0):\n"
    "        super().__init__(c_in, c_out, kernel, stride, pad, outpad)\n"
    "        self.act, self.drop = act, nn.Dropout(dropout)\n"
    "\n"
    "\n"
    "class Reshape(nn.Module):\n"
    "    \"\"\"[N, ...] -> [N, *shape].\"\"\"\n"
    "\n"
    "    def __init__(self, *shape):\n"
    "        super().__init__()\n"
    "        self.shape = shape\n"
    "\n"
    "    def forward(self, x):\n"
    "        return x.reshape(x.shape[0], *self.shape)\n"
    "\n";

static const char torch_load[] =
    "\n"
    "\n"
    "def load(path):\n"
    "    \"\"\"The model with the weights and the data scaling of an aecl weights file\n"
    "    (or checkpoint), in evaluation mode.\"\"\"\n"
    "    tensors, meta = read_safetensors(path)\n"
    "    model = Autoencoder()\n"
    "    if \"aecl.checkpoint\" in meta:  # a checkpoint also holds the optimizer's state\n"
    "        keys = model.state_dict().keys()\n"
    "        tensors = {k: v for k, v in tensors.items() if k in keys}\n"
    "    model.load_state_dict(tensors)\n"
    "    scaling = meta.get(\"aecl.scaling\", \"none\").split(\" \")\n"
    "    if scaling[0] != \"none\":\n"
    "        offset, scale = ([float(v) for v in s.split(\",\")] for s in scaling[2:4])\n"
    "        model.set_scaling(offset, scale)\n"
    "    return model.eval()\n";

/* The activation module of a layer. */
static void act_module(aecl_strbuf *b, aecl_act a, double param)
{
    switch (a) {
    case AECL_ACT_NONE: aecl_strbuf_str(b, "nn.Identity()"); break;
    case AECL_ACT_RELU: aecl_strbuf_str(b, "nn.ReLU()"); break;
    case AECL_ACT_LEAKY_RELU: aecl_strbuf_printf(b, "nn.LeakyReLU(%.9g)", param); break;
    case AECL_ACT_SIGMOID: aecl_strbuf_str(b, "nn.Sigmoid()"); break;
    case AECL_ACT_TANH: aecl_strbuf_str(b, "nn.Tanh()"); break;
    case AECL_ACT_ELU: aecl_strbuf_printf(b, "nn.ELU(%.9g)", param); break;
    case AECL_ACT_SOFTPLUS: aecl_strbuf_str(b, "nn.Softplus()"); break;
    }
}

/* ", act[, dropout])" closing a layer with weights. */
static void act_args(aecl_strbuf *b, const aecl_export_layer *L)
{
    aecl_strbuf_str(b, ", ");
    act_module(b, L->act, L->l->act_param);
    if (L->l->dropout > 0) aecl_strbuf_printf(b, ", dropout=%.9g", L->l->dropout);
    aecl_strbuf_str(b, ")");
}

/* A layer without weights; wrapped with its dropout when it has one. */
static void plain_module(aecl_strbuf *b, const aecl_spec_layer *l)
{
    if (l->dropout > 0) aecl_strbuf_str(b, "nn.Sequential(");
    switch (l->kind) {
    case AECL_LAYER_MAXPOOL: aecl_strbuf_printf(b, "nn.MaxPool2d(%d)", l->factor); break;
    case AECL_LAYER_AVGPOOL: aecl_strbuf_printf(b, "nn.AvgPool2d(%d)", l->factor); break;
    case AECL_LAYER_UPSAMPLE:
        if (l->mode == AECL_UPSAMPLE_BILINEAR)
            aecl_strbuf_printf(b, "nn.Upsample(scale_factor=%d, mode=\"bilinear\", align_corners=False)", l->factor);
        else
            aecl_strbuf_printf(b, "nn.Upsample(scale_factor=%d, mode=\"nearest\")", l->factor);
        break;
    case AECL_LAYER_FLATTEN: aecl_strbuf_str(b, "nn.Flatten()"); break;
    case AECL_LAYER_RESHAPE:
        if (l->out.rank == 1) aecl_strbuf_printf(b, "Reshape(%d)", l->out.c);
        else aecl_strbuf_printf(b, "Reshape(%d, %d, %d)", l->out.c, l->out.h, l->out.w);
        break;
    default: break;
    }
    if (l->dropout > 0) aecl_strbuf_printf(b, ", nn.Dropout(%.9g))", l->dropout);
}

static void module(aecl_strbuf *b, const aecl_export_layer *L)
{
    const aecl_spec_layer *l = L->l;
    switch (l->kind) {
    case AECL_LAYER_DENSE:
        aecl_strbuf_printf(b, "Dense(%zu, %d", aecl_spec_shape_numel(l->in), l->units);
        act_args(b, L);
        break;
    case AECL_LAYER_CONV:
        aecl_strbuf_printf(b, "Conv(%d, %d, (%d, %d), (%d, %d), (%d, %d)", l->in.c, l->units, l->kh, l->kw,
                           l->stride_h, l->stride_w, l->pad_h, l->pad_w);
        act_args(b, L);
        break;
    case AECL_LAYER_CONVT:
        aecl_strbuf_printf(b, "ConvT(%d, %d, (%d, %d), (%d, %d), (%d, %d), (%d, %d)", l->in.c, l->units, l->kh, l->kw,
                           l->stride_h, l->stride_w, l->pad_h, l->pad_w, l->outpad_h, l->outpad_w);
        act_args(b, L);
        break;
    default: plain_module(b, l);
    }
}

/* `self.NAME = nn.Sequential(...)`, one layer a line, each with its aecl name. */
static void sequential(aecl_strbuf *b, const char *name, const aecl_export_layer *layers, size_t n)
{
    aecl_strbuf_printf(b, "        self.%s = nn.Sequential(\n", name);
    for (size_t i = 0; i < n; i++) {
        char text[96];
        aecl_strbuf_str(b, "            ");
        module(b, &layers[i]);
        aecl_strbuf_printf(b, ",  # %s: %s\n", layers[i].name, aecl_spec_layer_str(layers[i].l, text, sizeof text));
    }
    aecl_strbuf_str(b, "        )\n");
}

static void header(aecl_strbuf *b, const aecl_export_src *src, const char *model_text)
{
    aecl_strbuf_printf(b,
                       "# An aecl %s autoencoder as a torch.nn module, written by `aecl export --torch`\n"
                       "# (aecl %s). Its state_dict keys are the weights file's tensor names\n"
                       "# (docs/weights.md), so load_state_dict takes the file's tensors as they are.\n"
                       "#\n"
                       "#     model = load(\"weights.safetensors\")  # weights and data scaling, eval mode\n"
                       "#     recon = model(x)                      # x: float32 [N, *INPUT_SHAPE], data units\n"
                       "#     code = model.encode(x)                # %s\n"
                       "#\n"
                       "# The model file it was exported from:\n#\n",
                       aecl_spec_kind_name(src->spec->kind), aecl_version_string(),
                       src->logvar.l ? "a VAE: (mean, logvar)" : "the latent code");
    for (const char *p = model_text; *p;) {
        size_t n = strcspn(p, "\n");
        if (n) aecl_strbuf_printf(b, "#     %.*s\n", (int)n, p);
        else aecl_strbuf_str(b, "#\n");
        p += n + (p[n] == '\n');
    }
    aecl_strbuf_str(b, "\n");
}

static void model_class(aecl_strbuf *b, const aecl_export_src *src)
{
    const aecl_model_spec *s = src->spec;
    const aecl_spec_layer *lat = &s->latent_layer;
    size_t in = aecl_spec_shape_numel(lat->in);
    int vae = src->logvar.l != NULL;
    aecl_strbuf_str(b, "\n\nclass Autoencoder(nn.Module):\n"
                       "    \"\"\"encode(x) -> code, decode(code) -> reconstruction, forward(x) -> reconstruction\n"
                       "    at the mean code; inputs and outputs in the data's units (the scaling is applied\n"
                       "    inside). encoder, the latent head(s) and decoder work in the model's units.\"\"\"\n\n"
                       "    def __init__(self):\n        super().__init__()\n");
    sequential(b, "encoder", src->enc, src->n_enc);
    if (vae) aecl_strbuf_printf(b, "        self.mu = nn.Linear(%zu, %d)\n        self.logvar = nn.Linear(%zu, %d)\n", in,
                                s->latent, in, s->latent);
    else aecl_strbuf_printf(b, "        self.latent = nn.Linear(%zu, %d)\n", in, s->latent);
    sequential(b, "decoder", src->dec, src->n_dec);
    aecl_strbuf_printf(b, "        # %s\n        self.output = %s\n",
                       src->sigmoid_out ? "loss bce: the decoder yields logits, the reconstruction is their sigmoid"
                                        : "the decoder's output is the reconstruction",
                       src->sigmoid_out ? "nn.Sigmoid()" : "nn.Identity()");
    aecl_strbuf_str(b, "        # The data scaling x' = (x - offset) * scale (aecl.scaling; load() sets it).\n"
                       "        self.register_buffer(\"offset\", torch.zeros(INPUT_SHAPE), persistent=False)\n"
                       "        self.register_buffer(\"scale\", torch.ones(INPUT_SHAPE), persistent=False)\n\n"
                       "    def set_scaling(self, offset, scale):\n"
                       "        self.offset.copy_(torch.tensor(offset, dtype=torch.float32).reshape(INPUT_SHAPE))\n"
                       "        self.scale.copy_(torch.tensor(scale, dtype=torch.float32).reshape(INPUT_SHAPE))\n\n"
                       "    def encode(self, x):\n"
                       "        h = self.encoder((x - self.offset) * self.scale)\n");
    aecl_strbuf_str(b, vae ? "        return self.mu(h), self.logvar(h)\n\n" : "        return self.latent(h)\n\n");
    aecl_strbuf_str(b, "    def decode(self, z):\n"
                       "        return self.output(self.decoder(z)) / self.scale + self.offset\n\n"
                       "    def forward(self, x):\n");
    aecl_strbuf_str(b, vae ? "        return self.decode(self.encode(x)[0])\n" : "        return self.decode(self.encode(x))\n");
}

aecl_status aecl_export_torch(aecl_ctx *ctx, const aecl_export_src *src, const char *path)
{
    char *text = NULL;
    AECL_RETURN_IF(aecl_spec_print(src->spec, &text) != AECL_OK, AECL_ERR_HOST_MEMORY, ctx,
                   "cannot print the model spec");
    const aecl_spec_shape in = src->spec->input;
    aecl_strbuf b = {0};
    header(&b, src, text);
    aecl_strbuf_str(&b, torch_reader);
    if (in.rank == 1) aecl_strbuf_printf(&b, "\nINPUT_SHAPE = (%d,)\n", in.c);
    else aecl_strbuf_printf(&b, "\nINPUT_SHAPE = (%d, %d, %d)\n", in.c, in.h, in.w);
    aecl_strbuf_printf(&b, "LATENT = %d\n", src->spec->latent);
    model_class(&b, src);
    aecl_strbuf_str(&b, torch_load);
    free(text);
    char *py = aecl_strbuf_take(&b);
    AECL_RETURN_IF(!py, AECL_ERR_HOST_MEMORY, ctx, "out of host memory");
    aecl_status st = aecl_write_file_atomic(ctx, path, py, strlen(py));
    free(py);
    return st;
}
