/* Zero-copy model calls on the caller's OpenCL buffers (aecl_cl_model_*), and
 * apps/embed_example: codes, scores and reconstructions against a plain C forward
 * pass of the weights file and against the host-memory paths (aecl_evaluate, and
 * aecl_model_* for a model with feature scaling);
 * argument checks (another context's buffer, short buffers, no rows); the
 * caller's objects are intact after aecl's handles are freed. */
#include "check.h"
#include "nn/train.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char weights_path[512];

/* A tiny MLP trained by the aecl program (300 samples, one epoch). */
static int train_tiny(void)
{
    const char *bin = getenv("AECL_BINARY_DIR"), *src = getenv("AECL_SOURCE_DIR");
    if (!bin || !src) return 0;
    snprintf(weights_path, sizeof weights_path, "%s/test_embed_tiny.safetensors", bin);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s/aecl' train '%s/models/mlp.model' --limit 300 --epochs 1 --val-limit 0 --out '%s' >/dev/null",
             bin, src, weights_path);
    return system(cmd) == 0;
}

/* ---- plain C forward pass of a dense model --------------------------------------- */

typedef struct host_model {
    aecl_model_spec *spec;
    float *w;
    aecl_net *names;          /* a batch-1 eval net: parameter names and sizes */
} host_model;

static const float *param(const host_model *h, const char *name)
{
    const float *p = h->w;
    for (int i = 0; i < h->names->n_params; i++) {
        if (!strcmp(h->names->param_names[i], name)) return p;
        p += h->names->params[i]->size;
    }
    return NULL;
}

static float act(aecl_act a, float v)
{
    if (a == AECL_ACT_RELU) return v > 0 ? v : 0;
    if (a == AECL_ACT_SIGMOID) return 1.0f / (1.0f + expf(-v));
    return v;
}

/* Applies the dense layers of `layers` (flatten/reshape pass through) to x[n_in]. */
static size_t host_layers(const host_model *h, const char *prefix, const aecl_spec_layer *layers, size_t n,
                          float *x, float *tmp)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const aecl_spec_layer *l = &layers[i];
        if (l->kind != AECL_LAYER_DENSE) continue;
        char wn[48], bn[48];
        snprintf(wn, sizeof wn, "%s.%zu.weight", prefix, i);
        snprintf(bn, sizeof bn, "%s.%zu.bias", prefix, i);
        const float *w = param(h, wn), *b = param(h, bn);
        size_t in = aecl_spec_shape_numel(l->in);
        for (int o = 0; o < l->units; o++) {
            double s = b[o];
            for (size_t k = 0; k < in; k++) s += (double)w[(size_t)o * in + k] * x[k];
            tmp[o] = act(l->act, (float)s);
        }
        len = (size_t)l->units;
        memcpy(x, tmp, len * sizeof *x);
    }
    return len;
}

static void host_encode(const host_model *h, const float *x, float *code)
{
    size_t f = aecl_spec_shape_numel(h->spec->input);
    float *a = malloc(4096 * sizeof *a), *t = malloc(4096 * sizeof *t);
    memcpy(a, x, f * sizeof *a);
    size_t in = host_layers(h, "encoder", h->spec->encoder, h->spec->n_encoder, a, t);
    const float *w = param(h, "latent.weight"), *b = param(h, "latent.bias");
    for (int o = 0; o < h->spec->latent; o++) {
        double s = b[o];
        for (size_t k = 0; k < in; k++) s += (double)w[(size_t)o * in + k] * a[k];
        code[o] = (float)s;
    }
    free(a), free(t);
}

static void host_decode(const host_model *h, const float *code, float *recon)
{
    float *a = malloc(4096 * sizeof *a), *t = malloc(4096 * sizeof *t);
    memcpy(a, code, (size_t)h->spec->latent * sizeof *a);
    size_t n = host_layers(h, "decoder", h->spec->decoder, h->spec->n_decoder, a, t);
    memcpy(recon, a, n * sizeof *a);
    free(a), free(t);
}

/* ---- the example program ----------------------------------------------------------- */

static void test_example(aecl_ctx *ctx, const host_model *h)
{
    char out[600], cmd[2048];
    snprintf(out, sizeof out, "%s/test_embed_out.bin", getenv("AECL_BINARY_DIR"));
    snprintf(cmd, sizeof cmd, "'%s/embed_example' '%s' --rows 37 --batch 16 --out '%s'", getenv("AECL_BINARY_DIR"),
             weights_path, out);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    FILE *f = fopen(out, "rb");
    int32_t hdr[3] = {0};
    CHECK(f && fread(hdr, sizeof hdr[0], 3, f) == 3);
    size_t rows = (size_t)hdr[0], feat = (size_t)hdr[1], lat = (size_t)hdr[2];
    CHECK(rows == 37 && feat == 784 && lat == 32);
    if (!f || rows != 37 || feat != 784 || lat != 32) { if (f) fclose(f); return; }
    size_t total = rows * feat + rows * lat + 2 * rows + rows * feat;
    float *all = malloc(total * sizeof *all);
    CHECK(fread(all, sizeof *all, total, f) == total);
    fclose(f);
    float *x = all, *code = x + rows * feat, *norm = code + rows * lat, *score = norm + rows, *recon = score + rows;
    float *ref_code = malloc(rows * lat * sizeof *ref_code), *ref_recon = malloc(rows * feat * sizeof *ref_recon);
    for (size_t r = 0; r < rows; r++) {
        host_encode(h, x + r * feat, ref_code + r * lat);
        host_decode(h, code + r * lat, ref_recon + r * feat);
    }
    CHECK_MSG(test_rel_err(code, ref_code, rows * lat, 1e-4, 1e-3) <= 1, "codes vs host forward pass");
    CHECK_MSG(test_rel_err(recon, ref_recon, rows * feat, 1e-4, 1e-3) <= 1, "reconstructions vs host");
    for (size_t r = 0; r < rows; r++) {
        double n2 = 0, se = 0;
        for (size_t k = 0; k < lat; k++) n2 += (double)code[r * lat + k] * code[r * lat + k];
        for (size_t k = 0; k < feat; k++) {
            double d = (double)ref_recon[r * feat + k] - x[r * feat + k];
            se += d * d;
        }
        CHECK_NEAR(norm[r], sqrt(n2), 1e-3 * sqrt(n2) + 1e-5);
        se /= (double)feat;
        CHECK_NEAR(score[r], se, 1e-3 * se + 1e-6);   /* the MSE score: mean squared error per value */
    }
    /* The host-memory model API (the file-based path) gives the same codes. */
    aecl_model *hm = NULL;
    float *hz = malloc(rows * lat * sizeof *hz);
    CHECK_OK(ctx, aecl_model_load(ctx, weights_path, &hm));
    if (hm) CHECK_OK(ctx, aecl_model_encode(hm, x, rows, hz, 0));
    if (hm) CHECK_MSG(test_rel_err(code, hz, rows * lat, 1e-5, 1e-4) <= 1, "zero-copy codes vs aecl_model_encode");
    aecl_model_free(hm);
    free(hz);
    /* The host-memory path of the library gives the same reconstructions. */
    aecl_dataset d = {.x = x, .n = rows, .features = feat};
    float *ev_recon = malloc(rows * feat * sizeof *ev_recon);
    aecl_eval_result er;
    CHECK_OK(ctx, aecl_evaluate(ctx, h->spec, h->w, &d, 8, ev_recon, &er));
    CHECK_MSG(test_rel_err(recon, ev_recon, rows * feat, 1e-5, 1e-4) <= 1, "zero-copy vs aecl_evaluate");
    free(ev_recon), free(ref_code), free(ref_recon), free(all);
}

/* ---- in-process checks on a caller's own objects ------------------------------------ */

static cl_uint refcount_mem(cl_mem m)
{
    cl_uint n = 0;
    clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof n, &n, NULL);
    return n;
}

static cl_uint refcount_ctx(cl_context c)
{
    cl_uint n = 0;
    clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL);
    return n;
}

static void test_caller_objects(const host_model *h)
{
    aecl_ctx *base = test_ctx();
    cl_device_id dev = aecl_ctx_cl_device(base);
    cl_int err;
    cl_context c = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueue(c, dev, 0, &err);
    const size_t rows = 5, feat = 784, lat = 32;
    float *x = malloc(rows * feat * sizeof *x), code[5 * 32], ref[32];
    unsigned seed = 7;
    test_fill_uniform(x, rows * feat, 0, 1, &seed);
    /* Offsets: the rows sit 3 floats into xb, the codes 5 floats into zb. */
    cl_mem xb = clCreateBuffer(c, CL_MEM_READ_WRITE, (rows * feat + 3) * sizeof(float), NULL, &err);
    cl_mem zb = clCreateBuffer(c, CL_MEM_READ_WRITE, (rows * lat + 5) * sizeof(float), NULL, &err);
    cl_event up = NULL, done = NULL;
    clEnqueueWriteBuffer(q, xb, CL_FALSE, 3 * sizeof(float), rows * feat * sizeof(float), x, 0, NULL, &up);
    cl_uint ctx_refs = refcount_ctx(c);

    aecl_ctx *ctx = NULL;
    aecl_cl_model *m = NULL;
    CHECK_OK(NULL, aecl_ctx_create_from_cl(c, q, &ctx));
    CHECK_OK(ctx, aecl_cl_model_load(ctx, weights_path, 2, &m));   /* 5 rows: chunks 2, 2, 1 */
    CHECK(aecl_cl_model_features(m) == feat && aecl_cl_model_latent(m) == lat && aecl_cl_model_batch(m) == 2);
    CHECK_OK(ctx, aecl_cl_model_encode(m, xb, 3 * sizeof(float), rows, zb, 5 * sizeof(float), 1, &up, &done));
    CHECK(done != NULL);

    /* A wait list that is not complete yet: the call only enqueues (no host wait),
     * and nothing runs before the gate opens. */
    cl_event gate = clCreateUserEvent(c, &err), scored = NULL;
    cl_mem sb = clCreateBuffer(c, CL_MEM_READ_WRITE, rows * sizeof(float), NULL, &err);
    CHECK_OK(ctx, aecl_cl_model_scores(m, xb, 3 * sizeof(float), rows, sb, 0, 1, &gate, &scored));
    cl_int es = CL_COMPLETE;
    if (scored) clGetEventInfo(scored, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof es, &es, NULL);
    CHECK_MSG(es > CL_COMPLETE, "the scores ran before their wait list completed (status %d)", (int)es);
    clSetUserEventStatus(gate, CL_COMPLETE);
    CHECK(scored && clWaitForEvents(1, &scored) == CL_SUCCESS);
    float scores[5], sx[784], sz[32], sr[784];
    CHECK(clEnqueueReadBuffer(q, sb, CL_TRUE, 0, sizeof scores, scores, 0, NULL, NULL) == CL_SUCCESS);
    for (size_t r = 0; r < rows; r++) {
        memcpy(sx, x + r * feat, sizeof sx);
        host_encode(h, sx, sz);
        host_decode(h, sz, sr);
        double se = 0;
        for (size_t k = 0; k < feat; k++) se += ((double)sr[k] - sx[k]) * ((double)sr[k] - sx[k]);
        se /= (double)feat;   /* the MSE score: mean over features, as aecl_model_scores */
        CHECK_NEAR(scores[r], se, 1e-3 * se + 1e-6);
    }
    if (scored) clReleaseEvent(scored);
    clReleaseEvent(gate);
    clReleaseMemObject(sb);

    /* Bad arguments: no rows, a short buffer, a buffer of another context. */
    aecl_status st = aecl_cl_model_encode(m, xb, 0, 0, zb, 0, 0, NULL, NULL);
    CHECK(st == AECL_ERR_INVALID_ARG);
    st = aecl_cl_model_encode(m, xb, 4 * sizeof(float), rows, zb, 0, 0, NULL, NULL);   /* 1 float short */
    CHECK_MSG(st == AECL_ERR_INVALID_ARG && strstr(aecl_ctx_last_error(ctx), "need more"), "%s",
              aecl_ctx_last_error(ctx));
    aecl_buffer *ob = NULL;
    CHECK_OK(base, aecl_buffer_create(base, rows * feat, sizeof(float), &ob));   /* in another aecl context */
    cl_mem other = aecl_buffer_cl(ob);
    st = aecl_cl_model_encode(m, other, 0, rows, zb, 0, 0, NULL, NULL);
    CHECK_MSG(st == AECL_ERR_INVALID_ARG && strstr(aecl_ctx_last_error(ctx), "another OpenCL context"), "%s",
              aecl_ctx_last_error(ctx));
    st = aecl_cl_model_scores(m, xb, 0, rows, other, 0, 0, NULL, NULL);
    CHECK(st == AECL_ERR_INVALID_ARG);
    aecl_buffer_free(ob);

    aecl_cl_model_free(m);
    aecl_ctx_free(ctx);
    /* aecl is gone: the caller's context, queue, buffers and event are intact. */
    CHECK(clWaitForEvents(1, &done) == CL_SUCCESS);
    clReleaseEvent(done);   /* an event holds its context */
    /* Every reference aecl (and CLBlast, through aecl) took is gone. */
    cl_uint after = refcount_ctx(c);
    /* PoCL drops finished commands' references from a helper thread: allow it 2 s. */
    for (int i = 0; i < 200 && after != ctx_refs; i++) {
        nanosleep(&(struct timespec){0, 10000000}, NULL);
        after = refcount_ctx(c);
    }
    CHECK_MSG(after == ctx_refs, "context references %u, before aecl %u", after, ctx_refs);
    CHECK(refcount_mem(xb) == 1 && refcount_mem(zb) == 1);
    CHECK(clEnqueueReadBuffer(q, zb, CL_TRUE, 5 * sizeof(float), sizeof code, code, 0, NULL, NULL) == CL_SUCCESS);
    double worst = 0;
    for (size_t r = 0; r < rows; r++) {
        host_encode(h, x + r * feat, ref);
        double e = test_rel_err(code + r * lat, ref, lat, 1e-4, 1e-3);
        worst = e > worst ? e : worst;
    }
    CHECK_MSG(worst <= 1, "codes at offsets vs host: %g", worst);
    clReleaseEvent(up);
    clReleaseMemObject(zb);
    clReleaseMemObject(xb);
    clReleaseCommandQueue(q);
    clReleaseContext(c);
    free(x);
}

/* ---- a convolutional BCE model: decoder with convT, reshape, sigmoid of logits ---- */

static const char *conv_bce_text =
    "kind = convolutional\ninput = 1x8x8\nlatent = 6\nloss = bce\noutput_activation = sigmoid\n"
    "[encoder]\nconv 4 3x3 stride=2 pad=1 relu\nflatten\n[decoder]\nmirror\n";

/* Writes a weights file of freshly initialised parameters (no training needed). */
static int conv_weights(aecl_ctx *ctx, const char *path, aecl_model_spec **spec)
{
    aecl_net *n = NULL;
    float *w = NULL;
    int ok = aecl_spec_parse_string(ctx, conv_bce_text, "conv_bce", spec) == AECL_OK &&
             aecl_net_build(ctx, *spec, 1, AECL_NET_EVAL, 1, &n) == AECL_OK && aecl_net_init_params(n, 5) == AECL_OK &&
             (w = malloc(aecl_net_param_floats(n) * sizeof *w)) && aecl_net_read_params(n, w) == AECL_OK &&
             aecl_weights_save(ctx, path, n, w) == AECL_OK;
    free(w);
    aecl_net_free(n);
    return ok;
}

static void test_conv_bce(void)
{
    aecl_ctx *ctx = test_ctx();
    char path[600];
    snprintf(path, sizeof path, "%s/test_embed_conv.safetensors", getenv("AECL_BINARY_DIR"));
    aecl_model_spec *spec = NULL;
    CHECK_MSG(conv_weights(ctx, path, &spec), "%s", aecl_ctx_last_error(ctx));
    if (!spec) return;
    const size_t rows = 7, feat = 64, lat = 6;
    float x[7 * 64], code[7 * 6], recon[7 * 64], score[7], ev_recon[7 * 64];
    unsigned seed = 3;
    test_fill_uniform(x, rows * feat, 0, 1, &seed);
    aecl_cl_model *m = NULL;
    aecl_buffer *xb = NULL, *zb = NULL, *rb = NULL, *sb = NULL;
    CHECK_OK(ctx, aecl_cl_model_load(ctx, path, 3, &m));   /* chunks of 3, 3, 1 */
    CHECK_OK(ctx, aecl_buffer_create(ctx, rows * feat, sizeof(float), &xb));
    CHECK_OK(ctx, aecl_buffer_create(ctx, rows * lat, sizeof(float), &zb));
    CHECK_OK(ctx, aecl_buffer_create(ctx, rows * feat, sizeof(float), &rb));
    CHECK_OK(ctx, aecl_buffer_create(ctx, rows, sizeof(float), &sb));
    if (!m || !xb || !zb || !rb || !sb) goto done;
    CHECK(aecl_cl_model_latent(m) == lat && aecl_cl_model_features(m) == feat);
    CHECK_OK(ctx, aecl_buffer_upload(xb, 0, x, sizeof x));
    CHECK_OK(ctx, aecl_cl_model_encode(m, aecl_buffer_cl(xb), 0, rows, aecl_buffer_cl(zb), 0, 0, NULL, NULL));
    CHECK_OK(ctx, aecl_cl_model_decode(m, aecl_buffer_cl(zb), 0, rows, aecl_buffer_cl(rb), 0, 0, NULL, NULL));
    CHECK_OK(ctx, aecl_cl_model_scores(m, aecl_buffer_cl(xb), 0, rows, aecl_buffer_cl(sb), 0, 0, NULL, NULL));
    CHECK_OK(ctx, aecl_buffer_download(zb, 0, code, sizeof code));
    CHECK_OK(ctx, aecl_buffer_download(rb, 0, recon, sizeof recon));
    CHECK_OK(ctx, aecl_buffer_download(sb, 0, score, sizeof score));
    /* decode(encode(x)) is the host-memory path's reconstruction. */
    aecl_model_spec *s2 = NULL;
    float *w = NULL;
    CHECK_OK(ctx, aecl_weights_load(ctx, path, &s2, &w));
    aecl_dataset d = {.x = x, .n = rows, .features = feat};
    aecl_eval_result er;
    if (s2) CHECK_OK(ctx, aecl_evaluate(ctx, s2, w, &d, 4, ev_recon, &er));
    CHECK_MSG(test_rel_err(recon, ev_recon, rows * feat, 1e-5, 1e-4) <= 1, "conv decode(encode) vs aecl_evaluate");
    /* A BCE model's score is still the MSE score (mean squared error per value). */
    for (size_t r = 0; r < rows; r++) {
        double se = 0;
        for (size_t k = 0; k < feat; k++) {
            double p = ev_recon[r * feat + k], t = x[r * feat + k];
            se += (p - t) * (p - t);
        }
        se /= (double)feat;
        CHECK_NEAR(score[r], se, 1e-4 * se + 1e-7);
    }
    aecl_spec_free(s2);
    free(w);
done:
    aecl_buffer_free(sb), aecl_buffer_free(rb), aecl_buffer_free(zb), aecl_buffer_free(xb);
    aecl_cl_model_free(m);
    aecl_spec_free(spec);
}

/* ---- a model trained with feature scaling, against the host-memory model API ---- */

static const char *tabular_text =
    "kind = vanilla\ninput = 30\nlatent = 4\nloss = mse\noutput_activation = none\n"
    "[encoder]\ndense 16 relu\ndense 8 relu\n[decoder]\nmirror\n";

enum { TF = 30, TL = 4, TR = 11 };

static int scaled_weights(aecl_ctx *ctx, const char *path)
{
    aecl_model_spec *spec = NULL;
    aecl_net *n = NULL;
    float *w = NULL, off[TF], sc[TF];
    for (int k = 0; k < TF; k++) off[k] = 0.1f * (float)k, sc[k] = 1.0f / (0.5f + 0.05f * (float)k);
    aecl_scaling scaling = {AECL_SCALE_STANDARD, TF, off, sc};
    int ok = aecl_spec_parse_string(ctx, tabular_text, "tabular", &spec) == AECL_OK &&
             aecl_net_build(ctx, spec, 1, AECL_NET_EVAL, 1, &n) == AECL_OK && aecl_net_init_params(n, 9) == AECL_OK &&
             (w = malloc(aecl_net_param_floats(n) * sizeof *w)) && aecl_net_read_params(n, w) == AECL_OK &&
             aecl_weights_save_scaled(ctx, path, n, w, &scaling) == AECL_OK;
    free(w);
    aecl_net_free(n);
    aecl_spec_free(spec);
    return ok;
}

static void test_scaled_vs_model_api(void)
{
    aecl_ctx *ctx = test_ctx();
    char path[600];
    snprintf(path, sizeof path, "%s/test_embed_scaled.safetensors", getenv("AECL_BINARY_DIR"));
    CHECK_MSG(scaled_weights(ctx, path), "%s", aecl_ctx_last_error(ctx));
    float x[TR * TF], z[TR * TL], y[TR * TF], sc[TR], hz[TR * TL], hy[TR * TF], hsc[TR];
    unsigned seed = 11;
    test_fill_uniform(x, TR * TF, 0, 3, &seed);
    aecl_cl_model *m = NULL;
    aecl_model *hm = NULL;
    aecl_buffer *xb = NULL, *zb = NULL, *yb = NULL, *sb = NULL;
    CHECK_OK(ctx, aecl_cl_model_load(ctx, path, 4, &m));
    CHECK_OK(ctx, aecl_model_load(ctx, path, &hm));
    CHECK_OK(ctx, aecl_buffer_create(ctx, TR * TF, sizeof(float), &xb));
    CHECK_OK(ctx, aecl_buffer_create(ctx, TR * TL, sizeof(float), &zb));
    CHECK_OK(ctx, aecl_buffer_create(ctx, TR * TF, sizeof(float), &yb));
    CHECK_OK(ctx, aecl_buffer_create(ctx, TR, sizeof(float), &sb));
    if (m && hm && xb && zb && yb && sb) {
        CHECK_OK(ctx, aecl_buffer_upload(xb, 0, x, sizeof x));
        CHECK_OK(ctx, aecl_cl_model_encode(m, aecl_buffer_cl(xb), 0, TR, aecl_buffer_cl(zb), 0, 0, NULL, NULL));
        CHECK_OK(ctx, aecl_cl_model_decode(m, aecl_buffer_cl(zb), 0, TR, aecl_buffer_cl(yb), 0, 0, NULL, NULL));
        CHECK_OK(ctx, aecl_cl_model_scores(m, aecl_buffer_cl(xb), 0, TR, aecl_buffer_cl(sb), 0, 0, NULL, NULL));
        CHECK_OK(ctx, aecl_buffer_download(zb, 0, z, sizeof z));
        CHECK_OK(ctx, aecl_buffer_download(yb, 0, y, sizeof y));
        CHECK_OK(ctx, aecl_buffer_download(sb, 0, sc, sizeof sc));
        CHECK_OK(ctx, aecl_model_encode(hm, x, TR, hz, 0));
        CHECK_OK(ctx, aecl_model_decode(hm, hz, TR, hy));
        CHECK_OK(ctx, aecl_model_scores(hm, x, TR, AECL_SCORE_MSE, hsc));
        CHECK_MSG(test_rel_err(z, hz, TR * TL, 1e-5, 1e-4) <= 1, "scaled encode vs aecl_model_encode");
        CHECK_MSG(test_rel_err(y, hy, TR * TF, 1e-5, 1e-4) <= 1, "scaled decode vs aecl_model_decode");
        /* One definition: the zero-copy scores are aecl_model_scores' MSE scores. */
        for (int r = 0; r < TR; r++) CHECK_NEAR(sc[r], hsc[r], 1e-6 * hsc[r]);
    }
    aecl_buffer_free(sb), aecl_buffer_free(yb), aecl_buffer_free(zb), aecl_buffer_free(xb);
    aecl_model_free(hm);
    aecl_cl_model_free(m);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    CHECK_MSG(train_tiny(), "training the tiny model failed");
    host_model h = {0};
    CHECK_OK(ctx, aecl_weights_load(ctx, weights_path, &h.spec, &h.w));
    if (h.spec) CHECK_OK(ctx, aecl_net_build(ctx, h.spec, 1, AECL_NET_EVAL, 1, &h.names));
    if (h.names) {
        test_example(ctx, &h);
        test_caller_objects(&h);
    }
    test_conv_bce();
    test_scaled_vs_model_api();
    aecl_net_free(h.names);
    aecl_spec_free(h.spec);
    free(h.w);
    return test_finish();
}
