//@require philox.cl
/* Kernels that use random numbers: dropout, input noise, the VAE's
 * reparameterisation, and raw generator output for tests. Element i uses word
 * i % 4 of Philox block i / 4 (see philox.cl); a work-item computes RNG_K
 * consecutive blocks (4 * RNG_K elements), launched over ceil(ceil(n / 4) / RNG_K)
 * items. Whole blocks go through one vload4/vstore4 each, straight-line code; only
 * the last block of a tensor takes the per-element tail. Backward kernels
 * regenerate the same numbers from the same (seed, stream, step, op) instead of
 * storing masks or eps: nothing extra lives between forward and backward.
 * Every buffer is (pointer, element offset).
 *
 * Row offset: a batch split across processes (data-parallel training) runs as
 * row0 rows of a larger batch, so element i of a tensor of `cols` elements per
 * row is element off + i of that batch (off = row0 * cols) and draws its numbers:
 * block (off + i) / 4, word (off + i) % 4. A work-item then takes blocks of the
 * larger batch; with off % 4 != 0 they straddle the tensor's own blocks, and the
 * loads and stores go element by element (only split runs take that path). */

#define NOISE_GAUSSIAN 0
#define NOISE_MASK 1
#define NOISE_SALT_PEPPER 2

/* The work-item's first block (counted from the block holding element 0), or -1
 * past the last block of n elements that start `shift` (off % 4) into a block. */
int rng_first_block(int n, int shift)
{
    int g = get_global_id(0), last = (n - 1 + shift) / 4;
    return n > 0 && g <= last / RNG_K ? g * RNG_K : -1;
}

/* Element offset in the larger batch (see the top). */
uint rng_offset(uint row0, int cols) { return row0 * (uint)cols; }

/* Block b (elements 4b .. 4b + 3) of a tensor of n elements: one vector where the
 * block is whole; past n zeros are read and nothing is written. */
float4 rng_load4(__global const float *p, int b, int n)
{
    int whole = n / 4;
    if (b < whole) return vload4(b, p);
    float4 v = (float4)(0.0f);
    int left = b == whole ? n - b * 4 : 0;
    if (left > 0) v.x = p[b * 4];
    if (left > 1) v.y = p[b * 4 + 1];
    if (left > 2) v.z = p[b * 4 + 2];
    return v;
}

/* Block b of the larger batch, whose elements are this tensor's 4b - shift ..
 * 4b - shift + 3 (those outside [0, n) read as zero, are not written). */
float4 rng_load4s(__global const float *p, int b, int n, int shift)
{
    if (shift == 0) return rng_load4(p, b, n);
    float t[4];
    for (int m = 0; m < 4; m++) {
        int e = 4 * b - shift + m;
        t[m] = e >= 0 && e < n ? p[e] : 0.0f;
    }
    return (float4)(t[0], t[1], t[2], t[3]);
}

void rng_store4(__global float *p, int b, int n, float4 v);

void rng_store4s(__global float *p, int b, int n, int shift, float4 v)
{
    if (shift == 0) {
        rng_store4(p, b, n, v);
        return;
    }
    float t[4] = {v.x, v.y, v.z, v.w};
    for (int m = 0; m < 4; m++) {
        int e = 4 * b - shift + m;
        if (e >= 0 && e < n) p[e] = t[m];
    }
}

void rng_store4(__global float *p, int b, int n, float4 v)
{
    int whole = n / 4;
    if (b < whole) {
        vstore4(v, b, p);
        return;
    }
    int left = b == whole ? n - b * 4 : 0;
    if (left > 0) p[b * 4] = v.x;
    if (left > 1) p[b * 4 + 1] = v.y;
    if (left > 2) p[b * 4 + 2] = v.z;
}

/* Raw words of blocks c0, c0+1, ... (counter (c0 + b, c1, c2, c3), key (k0, k1)):
 * known-answer tests and host/device comparison. n words. */
__kernel void rng_words(__global uint *out, int out_off, int n, uint c0, uint c1, uint c2, uint c3, uint k0,
                        uint k1)
{
    int first = rng_first_block(n, 0);
    if (first < 0) return;
    philox_words c;
    c.x = c0 + (uint)first + RNG_LANES;
    c.y = c1;
    c.z = c2;
    c.w = c3;
    c = philox4x32_10(c, k0, k1);
    uint w[4][RNG_K];
    RNG_STORE(c.x, w[0]);
    RNG_STORE(c.y, w[1]);
    RNG_STORE(c.z, w[2]);
    RNG_STORE(c.w, w[3]);
    out += out_off;
    for (int j = 0; j < RNG_K && first + j <= (n - 1) / 4; j++)
        for (int m = 0; m < 4 && (first + j) * 4 + m < n; m++) out[(first + j) * 4 + m] = w[m][j];
}

/* Per-element uniforms and normals of a stream, as the ops see them. */
__kernel void rng_uniform_normal(__global float *u, int u_off, __global float *z, int z_off, int n, uint seed,
                                 uint stream, uint step, uint op)
{
    int first = rng_first_block(n, 0);
    if (first < 0) return;
    philox_words w = philox_blocks(seed, stream, step, op, (uint)first);
    float4 fu[RNG_K], fz[RNG_K];
    philox_uniforms(w, fu);
    philox_normals(w, fz);
    for (int j = 0; j < RNG_K; j++) {
        rng_store4(u + u_off, first + j, n, fu[j]);
        rng_store4(z + z_off, first + j, n, fz[j]);
    }
}

/* Inverted dropout: y = x * scale where u >= p, else 0 (scale = 1 / (1 - p)).
 * The backward pass is the same kernel applied to dy with the forward's op id. */
__kernel void dropout(__global const float *x, int x_off, __global float *y, int y_off, int n, float p,
                      float scale, uint seed, uint stream, uint step, uint op, uint row0, int cols)
{
    uint off = rng_offset(row0, cols);
    int shift = off & 3u, first = rng_first_block(n, shift);
    if (first < 0) return;
    float4 u[RNG_K];
    philox_uniforms(philox_blocks(seed, stream, step, op, (off >> 2) + (uint)first), u);
    for (int j = 0; j < RNG_K; j++) {
        float4 v = rng_load4s(x + x_off, first + j, n, shift) * scale;
        rng_store4s(y + y_off, first + j, n, shift, select((float4)(0.0f), v, u[j] >= p));
    }
}

/* The corrupted values of a block x and d(value)/dx (1 or 0). Salt and pepper
 * draws one uniform: u < p corrupts, and within that u < p/2 is 0 (half each). */
float4 noise_value(int kind, float param, int clip, float4 x, float4 u, float4 z, float4 *dydx)
{
    float4 v = x;
    int4 pass = (int4)(-1);
    if (kind == NOISE_GAUSSIAN) {
        v = x + param * z;
    } else {
        int4 hit = u < param;
        float4 fill = kind == NOISE_SALT_PEPPER ? select((float4)(0.0f), (float4)(1.0f), u >= 0.5f * param)
                                                : (float4)(0.0f);
        v = select(x, fill, hit);
        pass = ~hit;
    }
    if (clip) {
        int4 out = v < 0.0f | v > 1.0f;
        v = select(v, clamp(v, 0.0f, 1.0f), out);
        pass &= ~out;
    }
    *dydx = select((float4)(0.0f), (float4)(1.0f), pass);
    return v;
}

/* The numbers a noise kind draws for K blocks: normals for gaussian noise,
 * uniforms otherwise (the other set is left zero). */
void noise_draws(int kind, philox_words w, float4 *u, float4 *z)
{
    for (int j = 0; j < RNG_K; j++) u[j] = z[j] = (float4)(0.0f);
    if (kind == NOISE_GAUSSIAN)
        philox_normals(w, z);
    else
        philox_uniforms(w, u);
}

__kernel void noise(__global const float *x, int x_off, __global float *y, int y_off, int n, int kind, float param,
                    int clip, uint seed, uint stream, uint step, uint op, uint row0, int cols)
{
    uint off = rng_offset(row0, cols);
    int shift = off & 3u, first = rng_first_block(n, shift);
    if (first < 0) return;
    float4 u[RNG_K], z[RNG_K], d;
    noise_draws(kind, philox_blocks(seed, stream, step, op, (off >> 2) + (uint)first), u, z);
    for (int j = 0; j < RNG_K; j++) {
        float4 v = noise_value(kind, param, clip, rng_load4s(x + x_off, first + j, n, shift), u[j], z[j], &d);
        rng_store4s(y + y_off, first + j, n, shift, v);
    }
}

/* dx = dy where the element passed through (not replaced, not clipped), else 0. */
__kernel void noise_grad(__global const float *gy, int gy_off, __global const float *x, int x_off,
                         __global float *gx, int gx_off, int n, int kind, float param, int clip, uint seed,
                         uint stream, uint step, uint op, uint row0, int cols)
{
    uint off = rng_offset(row0, cols);
    int shift = off & 3u, first = rng_first_block(n, shift);
    if (first < 0) return;
    float4 u[RNG_K], z[RNG_K], d;
    noise_draws(kind, philox_blocks(seed, stream, step, op, (off >> 2) + (uint)first), u, z);
    for (int j = 0; j < RNG_K; j++) {
        noise_value(kind, param, clip, rng_load4s(x + x_off, first + j, n, shift), u[j], z[j], &d);
        rng_store4s(gx + gx_off, first + j, n, shift, d * rng_load4s(gy + gy_off, first + j, n, shift));
    }
}

/* z = mu + exp(logvar / 2) * eps, eps ~ N(0, 1). */
__kernel void reparam(__global const float *mu, int mu_off, __global const float *lv, int lv_off,
                      __global float *z, int z_off, int n, uint seed, uint stream, uint step, uint op, uint row0,
                      int cols)
{
    uint off = rng_offset(row0, cols);
    int shift = off & 3u, first = rng_first_block(n, shift);
    if (first < 0) return;
    float4 e[RNG_K];
    philox_normals(philox_blocks(seed, stream, step, op, (off >> 2) + (uint)first), e);
    for (int j = 0; j < RNG_K; j++) {
        float4 m = rng_load4s(mu + mu_off, first + j, n, shift), l = rng_load4s(lv + lv_off, first + j, n, shift);
        rng_store4s(z + z_off, first + j, n, shift, m + exp(0.5f * l) * e[j]);
    }
}

/* dlogvar = dz * eps * exp(logvar / 2) / 2, eps regenerated. */
__kernel void reparam_grad(__global const float *gz, int gz_off, __global const float *lv, int lv_off,
                           __global float *glv, int glv_off, int n, uint seed, uint stream, uint step, uint op,
                           uint row0, int cols)
{
    uint off = rng_offset(row0, cols);
    int shift = off & 3u, first = rng_first_block(n, shift);
    if (first < 0) return;
    float4 e[RNG_K];
    philox_normals(philox_blocks(seed, stream, step, op, (off >> 2) + (uint)first), e);
    for (int j = 0; j < RNG_K; j++) {
        float4 g = rng_load4s(gz + gz_off, first + j, n, shift), l = rng_load4s(lv + lv_off, first + j, n, shift);
        rng_store4s(glv + glv_off, first + j, n, shift, 0.5f * g * e[j] * exp(0.5f * l));
    }
}
