/* Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC'11). Functions only, no
 * kernels: a kernel file that needs random numbers starts with
 * `//@require philox.cl`. lib/ops/philox.c is the bit-exact host twin; change
 * both together (tests/test_philox.c compares them word for word).
 *
 * aecl's streams: key = (seed, stream), counter = (i / 4, step, op, 0). The plan
 * seed, the op kind (stream), the plan's step number and the op node's id thus
 * give independent streams; element i of a tensor takes word i % 4 of block i / 4,
 * so one work-item computes one block and serves four elements.
 *
 * Uniforms: the top 23 bits of a word, centred: (2k + 1) * 2^-24 for
 * k = w >> 9. Every value is exact in float (25 significant bits would be needed
 * for the 24-bit variant, which rounds to 1.0 at the top), lies in (0, 1), and
 * 1 - u is on the same grid. Normals: Box-Muller on the word pairs (0, 1) and
 * (2, 3) of a block; even elements take the cosine, odd ones the sine. */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define PHILOX_TWO_PI 6.28318530717958647692f

uint4 philox_round(uint4 c, uint2 k)
{
    uint hi0 = mul_hi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
    uint hi1 = mul_hi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
    return (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

/* Ten rounds, the key bumped by the Weyl constants between rounds. */
uint4 philox4x32_10(uint4 c, uint2 k)
{
    for (int r = 0; r < 9; r++) {
        c = philox_round(c, k);
        k += (uint2)(PHILOX_W0, PHILOX_W1);
    }
    return philox_round(c, k);
}

/* Block `block` of the stream (seed, stream, step, op). */
uint4 philox_block(uint seed, uint stream, uint step, uint op, uint block)
{
    return philox4x32_10((uint4)(block, step, op, 0u), (uint2)(seed, stream));
}

/* A word -> a float in (0, 1), exact on every device (integer to float of a
 * value below 2^24, then a power-of-two scale). */
float philox_uniform(uint w)
{
    return (float)(((w >> 9) << 1) | 1u) * 0x1.0p-24f;
}

float4 philox_uniform4(uint4 w)
{
    return (float4)(philox_uniform(w.x), philox_uniform(w.y), philox_uniform(w.z), philox_uniform(w.w));
}

/* Two N(0, 1) values from two words (Box-Muller): (r cos t, r sin t). */
float2 philox_normal2(uint a, uint b)
{
    float r = sqrt(-2.0f * log(philox_uniform(a)));
    float t = PHILOX_TWO_PI * philox_uniform(b);
    return (float2)(r * cos(t), r * sin(t));
}

float4 philox_normal4(uint4 w)
{
    float2 lo = philox_normal2(w.x, w.y), hi = philox_normal2(w.z, w.w);
    return (float4)(lo.x, lo.y, hi.x, hi.y);
}

/* Component j (0..3) of a vector, for loops over the elements of a block. */
float philox_pickf(float4 v, int j)
{
    return j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w;
}
