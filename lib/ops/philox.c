/* Host Philox4x32-10, word for word the same as cl/philox.cl. */
#include "ops/philox.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void philox_round(uint32_t c[4], const uint32_t k[2])
{
    uint64_t p0 = (uint64_t)PHILOX_M0 * c[0], p1 = (uint64_t)PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c[1] ^ k[0], n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
}

void aecl_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]}, k[2] = {key[0], key[1]};
    for (int r = 0; r < 9; r++) {
        philox_round(c, k);
        k[0] += PHILOX_W0;
        k[1] += PHILOX_W1;
    }
    philox_round(c, k);
    for (int j = 0; j < 4; j++) out[j] = c[j];
}

void aecl_philox_block(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t block, uint32_t out[4])
{
    const uint32_t ctr[4] = {block, step, op, 0}, key[2] = {seed, stream};
    aecl_philox4x32_10(ctr, key, out);
}

float aecl_philox_uniform(uint32_t w)
{
    return (float)(((w >> 9) << 1) | 1u) * 0x1.0p-24f;
}

/* Float functions, as the device computes in float: the same rounding steps. */
void aecl_philox_normal2(uint32_t a, uint32_t b, float out[2])
{
    float r = sqrtf(-2.0f * logf(aecl_philox_uniform(a)));
    float t = 6.28318530717958647692f * aecl_philox_uniform(b);
    out[0] = r * cosf(t);
    out[1] = r * sinf(t);
}

uint32_t aecl_rng_word(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t i)
{
    uint32_t w[4];
    aecl_philox_block(seed, stream, step, op, i / 4, w);
    return w[i % 4];
}

float aecl_rng_uniform(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t i)
{
    return aecl_philox_uniform(aecl_rng_word(seed, stream, step, op, i));
}

float aecl_rng_normal(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t i)
{
    uint32_t w[4];
    float z[2];
    aecl_philox_block(seed, stream, step, op, i / 4, w);
    unsigned pair = (i % 4) / 2;
    aecl_philox_normal2(w[2 * pair], w[2 * pair + 1], z);
    return z[i % 2];
}
