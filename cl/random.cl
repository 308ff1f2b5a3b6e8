//@require philox.cl
/* Kernels that use random numbers: dropout, input noise, the VAE's
 * reparameterisation, and raw generator output for tests. One work-item per
 * Philox block = four consecutive elements (element i uses word i % 4 of block
 * i / 4, see philox.cl), launched over ceil(n / 4) items. Backward kernels
 * regenerate the same numbers from the same (seed, stream, step, op) instead of
 * storing masks or eps: nothing extra lives between forward and backward.
 * Every buffer is (pointer, element offset). */

#define NOISE_GAUSSIAN 0
#define NOISE_MASK 1
#define NOISE_SALT_PEPPER 2

/* Raw words of blocks c0, c0+1, ... (counter (c0 + b, c1, c2, c3), key (k0, k1)):
 * known-answer tests and host/device comparison. n words. */
__kernel void rng_words(__global uint *out, int out_off, int n, uint c0, uint c1, uint c2, uint c3, uint k0,
                        uint k1)
{
    int b = get_global_id(0);
    if (b > (n - 1) / 4) return; /* b * 4 >= n, without overflow */
    uint4 w = philox4x32_10((uint4)(c0 + (uint)b, c1, c2, c3), (uint2)(k0, k1));
    uint v[4] = {w.x, w.y, w.z, w.w};
    for (int j = 0; j < 4 && b * 4 + j < n; j++) out[out_off + b * 4 + j] = v[j];
}

/* Per-element uniforms and normals of a stream, as the ops see them. */
__kernel void rng_uniform_normal(__global float *u, int u_off, __global float *z, int z_off, int n, uint seed,
                                 uint stream, uint step, uint op)
{
    int b = get_global_id(0);
    if (b > (n - 1) / 4) return; /* b * 4 >= n, without overflow */
    uint4 w = philox_block(seed, stream, step, op, (uint)b);
    float4 fu = philox_uniform4(w), fz = philox_normal4(w);
    for (int j = 0; j < 4 && b * 4 + j < n; j++) {
        u[u_off + b * 4 + j] = philox_pickf(fu, j);
        z[z_off + b * 4 + j] = philox_pickf(fz, j);
    }
}

/* Inverted dropout: y = x * scale where u >= p, else 0 (scale = 1 / (1 - p)).
 * The backward pass is the same kernel applied to dy with the forward's op id. */
__kernel void dropout(__global const float *x, int x_off, __global float *y, int y_off, int n, float p,
                      float scale, uint seed, uint stream, uint step, uint op)
{
    int b = get_global_id(0);
    if (b > (n - 1) / 4) return; /* b * 4 >= n, without overflow */
    float4 u = philox_uniform4(philox_block(seed, stream, step, op, (uint)b));
    for (int j = 0; j < 4 && b * 4 + j < n; j++) {
        int i = b * 4 + j;
        y[y_off + i] = philox_pickf(u, j) >= p ? x[x_off + i] * scale : 0.0f;
    }
}

/* The corrupted value of x and d(value)/dx (1 or 0) for one element. Salt and
 * pepper draws one uniform: u < p corrupts, and within that u < p/2 is 0 (half each). */
float noise_value(int kind, float param, int clip, float x, float u, float z, float *dydx)
{
    float v = x;
    *dydx = 1.0f;
    if (kind == NOISE_GAUSSIAN) {
        v = x + param * z;
    } else if (u < param) {
        v = kind == NOISE_SALT_PEPPER && u >= 0.5f * param ? 1.0f : 0.0f;
        *dydx = 0.0f;
    }
    if (clip && (v < 0.0f || v > 1.0f)) {
        v = clamp(v, 0.0f, 1.0f);
        *dydx = 0.0f;
    }
    return v;
}

__kernel void noise(__global const float *x, int x_off, __global float *y, int y_off, int n, int kind, float param,
                    int clip, uint seed, uint stream, uint step, uint op)
{
    int b = get_global_id(0);
    if (b > (n - 1) / 4) return; /* b * 4 >= n, without overflow */
    uint4 w = philox_block(seed, stream, step, op, (uint)b);
    float4 u = philox_uniform4(w);
    float4 z = kind == NOISE_GAUSSIAN ? philox_normal4(w) : (float4)(0.0f);
    for (int j = 0; j < 4 && b * 4 + j < n; j++) {
        int i = b * 4 + j;
        float d;
        y[y_off + i] = noise_value(kind, param, clip, x[x_off + i], philox_pickf(u, j), philox_pickf(z, j), &d);
    }
}

/* dx = dy where the element passed through (not replaced, not clipped), else 0. */
__kernel void noise_grad(__global const float *gy, int gy_off, __global const float *x, int x_off,
                         __global float *gx, int gx_off, int n, int kind, float param, int clip, uint seed,
                         uint stream, uint step, uint op)
{
    int b = get_global_id(0);
    if (b > (n - 1) / 4) return; /* b * 4 >= n, without overflow */
    uint4 w = philox_block(seed, stream, step, op, (uint)b);
    float4 u = philox_uniform4(w);
    float4 z = kind == NOISE_GAUSSIAN ? philox_normal4(w) : (float4)(0.0f);
    for (int j = 0; j < 4 && b * 4 + j < n; j++) {
        int i = b * 4 + j;
        float d;
        float g = gy[gy_off + i];
        noise_value(kind, param, clip, x[x_off + i], philox_pickf(u, j), philox_pickf(z, j), &d);
        gx[gx_off + i] = d * g;
    }
}

/* z = mu + exp(logvar / 2) * eps, eps ~ N(0, 1). */
__kernel void reparam(__global const float *mu, int mu_off, __global const float *lv, int lv_off,
                      __global float *z, int z_off, int n, uint seed, uint stream, uint step, uint op)
{
    int b = get_global_id(0);
    if (b > (n - 1) / 4) return; /* b * 4 >= n, without overflow */
    float4 e = philox_normal4(philox_block(seed, stream, step, op, (uint)b));
    for (int j = 0; j < 4 && b * 4 + j < n; j++) {
        int i = b * 4 + j;
        z[z_off + i] = mu[mu_off + i] + exp(0.5f * lv[lv_off + i]) * philox_pickf(e, j);
    }
}

/* dlogvar = dz * eps * exp(logvar / 2) / 2, eps regenerated. */
__kernel void reparam_grad(__global const float *gz, int gz_off, __global const float *lv, int lv_off,
                           __global float *glv, int glv_off, int n, uint seed, uint stream, uint step, uint op)
{
    int b = get_global_id(0);
    if (b > (n - 1) / 4) return; /* b * 4 >= n, without overflow */
    float4 e = philox_normal4(philox_block(seed, stream, step, op, (uint)b));
    for (int j = 0; j < 4 && b * 4 + j < n; j++) {
        int i = b * 4 + j;
        float g = gz[gz_off + i];
        glv[glv_off + i] = 0.5f * g * philox_pickf(e, j) * exp(0.5f * lv[lv_off + i]);
    }
}
