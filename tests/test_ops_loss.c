/* The kernels of cl/loss.cl at every vector width (LOSS_VW 1..16, so the CPU
 * build and the GPU build are both checked here), on tensors at odd element
 * offsets (vload/vstore at any alignment), with rows that are not multiples of
 * the width and work-groups of several sizes: per-row BCE/MSE and KL against a
 * double host reference, and the three gradient kernels element by element,
 * nothing written outside the output. The ops themselves (graph, gradcheck) are
 * covered by test_graph_core. */
#include "check.h"
#include "ref_ops.h"
#include "rt/rt.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define OFF_A 3 /* element offsets of the tensors inside their buffers */
#define OFF_B 1
#define OFF_O 5
#define GUARD 7 /* sentinel floats after each output */
#define SENTINEL -12345.0f

static unsigned fill_seed = 17;
static const int widths[] = {1, 2, 4, 8, 16};

typedef struct dev_tensor {
    aecl_buffer *buf;
    cl_mem mem;
    int off, n;
} dev_tensor;

/* A buffer holding x[0..n) at element offset off, sentinels around it. */
static int dev_make(aecl_ctx *ctx, dev_tensor *t, const float *x, int n, int off)
{
    size_t total = (size_t)off + (size_t)n + GUARD;
    float *h = malloc(total * sizeof *h);
    for (size_t i = 0; i < total; i++) h[i] = SENTINEL;
    if (x) memcpy(h + off, x, (size_t)n * sizeof *x);
    t->off = off;
    t->n = n;
    aecl_status st = aecl_buffer_create(ctx, total, sizeof(float), &t->buf);
    if (st == AECL_OK) st = aecl_buffer_upload(t->buf, 0, h, total * sizeof *h);
    free(h);
    CHECK_OK(ctx, st);
    t->mem = st == AECL_OK ? aecl_buffer_cl(t->buf) : NULL;
    return st == AECL_OK ? 0 : -1;
}

/* Reads the tensor back and checks that the sentinels around it are intact. */
static int dev_read(aecl_ctx *ctx, const dev_tensor *t, float *out, const char *what)
{
    size_t total = (size_t)t->off + (size_t)t->n + GUARD;
    float *h = malloc(total * sizeof *h);
    aecl_status st = aecl_buffer_download(t->buf, 0, h, total * sizeof *h);
    CHECK_OK(ctx, st);
    int bad = 0;
    for (size_t i = 0; st == AECL_OK && i < total; i++)
        if (i < (size_t)t->off || i >= (size_t)t->off + (size_t)t->n) bad += h[i] != SENTINEL;
    CHECK_MSG(bad == 0, "%s: %d floats written outside the output", what, bad);
    if (st == AECL_OK) memcpy(out, h + t->off, (size_t)t->n * sizeof *out);
    free(h);
    return st == AECL_OK ? 0 : -1;
}

/* Kernel arguments from a format: T a dev_tensor* (mem, offset), i int, f float
 * (passed as double). */
static cl_int set_args(cl_kernel k, const char *fmt, va_list ap)
{
    cl_int err = CL_SUCCESS;
    cl_uint a = 0;
    for (; *fmt; fmt++) {
        if (*fmt == 'T') {
            const dev_tensor *t = va_arg(ap, const dev_tensor *);
            err |= clSetKernelArg(k, a++, sizeof t->mem, &t->mem);
            err |= clSetKernelArg(k, a++, sizeof t->off, &t->off);
        } else if (*fmt == 'i') {
            int v = va_arg(ap, int);
            err |= clSetKernelArg(k, a++, sizeof v, &v);
        } else {
            float v = (float)va_arg(ap, double);
            err |= clSetKernelArg(k, a++, sizeof v, &v);
        }
    }
    return err;
}

/* Builds `name` with LOSS_VW = vw and runs it over global items in groups of local. */
static int run(aecl_ctx *ctx, int vw, const char *name, size_t global, size_t local, const char *fmt, ...)
{
    char opt[32];
    snprintf(opt, sizeof opt, "-DLOSS_VW=%d", vw);
    cl_kernel k = NULL;
    aecl_status st = aecl_kernel_create(ctx, "loss.cl", opt, name, &k);
    CHECK_OK(ctx, st);
    if (st != AECL_OK) return -1;
    va_list ap;
    va_start(ap, fmt);
    cl_int err = set_args(k, fmt, ap);
    va_end(ap);
    if (local > aecl_kernel_max_wg(ctx, k)) local = aecl_kernel_max_wg(ctx, k);
    global = aecl_round_up(global, local);
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(aecl_ctx_cl_queue(ctx), k, 1, NULL, &global, &local, 0, NULL, NULL);
    if (err == CL_SUCCESS) err = clFinish(aecl_ctx_cl_queue(ctx));
    CHECK_MSG(err == CL_SUCCESS, "%s (LOSS_VW %d): OpenCL error %d", name, vw, err);
    clReleaseKernel(k);
    return err == CL_SUCCESS ? 0 : -1;
}

/* Worst |got - want| / (atol + rtol |want|) over n values; <= 1 passes. */
static double worst_err(const float *got, const double *want, int n, double atol, double rtol)
{
    double w = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (atol + rtol * fabs(want[i]));
        if (!(e <= w)) w = e;
    }
    return w;
}

typedef struct shape {
    int rows, cols;
} shape;

static const shape shapes[] = {{5, 3}, {2, 1}, {3, 16}, {7, 1003}, {128, 784}, {4, 20}};

/* loss_rows (MSE and BCE) and kl_rows: a work-group per row. */
static void test_rows(aecl_ctx *ctx, int vw, shape s, size_t local)
{
    int n = s.rows * s.cols;
    float *z = malloc((size_t)n * sizeof *z), *t = malloc((size_t)n * sizeof *t), *out = malloc((size_t)s.rows * 4);
    double *want = malloc((size_t)s.rows * sizeof *want);
    test_fill_uniform(z, (size_t)n, -30.0f, 30.0f, &fill_seed); /* BCE logits far into both tails */
    test_fill_uniform(t, (size_t)n, 0.0f, 1.0f, &fill_seed);
    dev_tensor dz, dt, dout;
    if (!dev_make(ctx, &dz, z, n, OFF_A) && !dev_make(ctx, &dt, t, n, OFF_B) && !dev_make(ctx, &dout, NULL, s.rows, OFF_O)) {
        for (int kind = 0; kind < 3; kind++) {
            const char *what = kind == 2 ? "kl_rows" : "loss_rows";
            int rc = kind == 2 ? run(ctx, vw, what, s.rows * local, local, "TTTii", &dz, &dt, &dout, s.rows, s.cols)
                               : run(ctx, vw, what, s.rows * local, local, "TTTiii", &dz, &dt, &dout, s.rows, s.cols,
                                     kind);
            if (rc || dev_read(ctx, &dout, out, what)) continue;
            for (int r = 0; r < s.rows; r++) {
                double sum = 0;
                for (int c = 0; c < s.cols; c++) {
                    double a = z[r * s.cols + c], b = t[r * s.cols + c];
                    /* KL reads z as mu and t as logvar */
                    sum += kind == 2 ? ref_kl_term(a, b) : ref_loss_term(kind, a, b);
                }
                want[r] = sum;
            }
            double e = worst_err(out, want, s.rows, 1e-4, 2e-5);
            CHECK_MSG(e <= 1, "%s kind %d, VW %d, %dx%d, local %zu: worst error %g of tolerance", what, kind, vw,
                      s.rows, s.cols, local, e);
        }
    }
    aecl_buffer_free(dz.buf);
    aecl_buffer_free(dt.buf);
    aecl_buffer_free(dout.buf);
    free(z);
    free(t);
    free(out);
    free(want);
}

/* loss_rows_grad, kl_rows_grad (both inputs) and loss_mean_grad (valid rows
 * below, at and above the batch): an item per VW elements. */
static void test_grads(aecl_ctx *ctx, int vw, shape s)
{
    int n = s.rows * s.cols;
    float *z = malloc((size_t)n * sizeof *z), *t = malloc((size_t)n * sizeof *t), *g = malloc((size_t)n * 4);
    float grow[128], gscalar = 0.75f;
    double *want = malloc((size_t)n * sizeof *want);
    test_fill_uniform(z, (size_t)n, -8.0f, 8.0f, &fill_seed);
    test_fill_uniform(t, (size_t)n, 0.0f, 1.0f, &fill_seed);
    test_fill_uniform(grow, 128, -2.0f, 2.0f, &fill_seed);
    size_t items = ((size_t)n + (size_t)vw - 1) / (size_t)vw;
    dev_tensor dz, dt, dgrow, dg, dscalar;
    if (!dev_make(ctx, &dz, z, n, OFF_A) && !dev_make(ctx, &dt, t, n, OFF_B) &&
        !dev_make(ctx, &dgrow, grow, s.rows, OFF_B) && !dev_make(ctx, &dscalar, &gscalar, 1, OFF_A) &&
        !dev_make(ctx, &dg, NULL, n, OFF_O)) {
        for (int kind = 0; kind < 2; kind++) {
            if (run(ctx, vw, "loss_rows_grad", items, 64, "TTTTiii", &dz, &dt, &dgrow, &dg, n, s.cols, kind) ||
                dev_read(ctx, &dg, g, "loss_rows_grad"))
                continue;
            for (int i = 0; i < n; i++) want[i] = grow[i / s.cols] * ref_loss_dterm(kind, z[i], t[i]);
            double e = worst_err(g, want, n, 1e-6, 1e-5);
            CHECK_MSG(e <= 1, "loss_rows_grad kind %d, VW %d, %dx%d: worst error %g", kind, vw, s.rows, s.cols, e);
        }
        for (int which = 0; which < 2; which++) {
            if (run(ctx, vw, "kl_rows_grad", items, 64, "TTTTiii", &dz, &dt, &dgrow, &dg, n, s.cols, which) ||
                dev_read(ctx, &dg, g, "kl_rows_grad"))
                continue;
            for (int i = 0; i < n; i++) want[i] = grow[i / s.cols] * ref_kl_dterm(which, z[i], t[i]);
            double e = worst_err(g, want, n, 1e-6, 1e-5);
            CHECK_MSG(e <= 1, "kl_rows_grad which %d, VW %d, %dx%d: worst error %g", which, vw, s.rows, s.cols, e);
        }
        /* and times act'(z) (the output layer's activation gradient folded in) */
        const int valid[3] = {s.rows > 1 ? s.rows - 1 : 1, s.rows, s.rows + 5};
        const aecl_act gacts[3] = {AECL_ACT_NONE, AECL_ACT_SIGMOID, AECL_ACT_ELU};
        for (int kind = 0; kind < 2; kind++)
            for (int v = 0; v < 3; v++) {
                aecl_act ga = gacts[(kind + v) % 3];
                if (run(ctx, vw, "loss_mean_grad", items, 64, "TTTTiiiiifif", &dz, &dt, &dscalar, &dg, n, s.cols,
                        s.rows, valid[v], kind, 0.5, (int)ga, 0.7) ||
                    dev_read(ctx, &dg, g, "loss_mean_grad"))
                    continue;
                int used = valid[v] < s.rows ? valid[v] : s.rows;
                for (int i = 0; i < n; i++)
                    want[i] = i / s.cols < used ? gscalar * 0.5 / used * ref_loss_dterm(kind, z[i], t[i]) *
                                                      (ga ? ref_act_grad(ga, z[i], 0.7f) : 1.0)
                                                : 0.0;
                double e = worst_err(g, want, n, 1e-6, 1e-5);
                CHECK_MSG(e <= 1, "loss_mean_grad kind %d, act %d, VW %d, %dx%d, valid %d: worst error %g", kind,
                          (int)ga, vw, s.rows, s.cols, valid[v], e);
            }
    }
    aecl_buffer_free(dz.buf);
    aecl_buffer_free(dt.buf);
    aecl_buffer_free(dgrow.buf);
    aecl_buffer_free(dscalar.buf);
    aecl_buffer_free(dg.buf);
    free(z);
    free(t);
    free(g);
    free(want);
}

int main(void)
{
    aecl_ctx *ctx = test_ctx();
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            test_rows(ctx, widths[w], shapes[s], 64);
            test_rows(ctx, widths[w], shapes[s], 1);
            test_rows(ctx, widths[w], shapes[s], 8);
            test_grads(ctx, widths[w], shapes[s]);
        }
    return test_finish();
}
