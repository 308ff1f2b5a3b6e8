/* Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC'11). Functions only, no
 * kernels: a kernel file that needs random numbers starts with
 * `//@require philox.cl`. lib/ops/philox.c is the bit-exact host twin; change
 * both together (tests/test_philox.c compares them word for word).
 *
 * aecl's streams: key = (seed, stream), counter = (i / 4, step, op, 0). The plan
 * seed, the op kind (stream), the plan's step number and the op node's id thus
 * give independent streams; element i of a tensor takes word i % 4 of block i / 4.
 *
 * Uniforms: the top 23 bits of a word, centred: (2k + 1) * 2^-24 for
 * k = w >> 9. Every value is exact in float (25 significant bits would be needed
 * for the 24-bit variant, which rounds to 1.0 at the top), lies in (0, 1), and
 * 1 - u is on the same grid. Normals: Box-Muller on the word pairs (0, 1) and
 * (2, 3) of a block; even elements take the cosine, odd ones the sine.
 *
 * Speed: a work-item computes RNG_K consecutive blocks at once, as vectors of K
 * lanes (lane j = block first + j), so the rounds and log/sqrt/sincos run as K-wide
 * vector code. CPUs (PoCL) take K = their SIMD width: PoCL vectorises neither
 * uint4 code nor scalar math calls across work-items, and K = 16 made the
 * gaussian noise op ~10x faster on AVX-512. GPUs take K = 1 (scalar lanes, one
 * block per item, the most items). The high words come from a 64-bit product,
 * not mul_hi: PoCL's mul_hi was 5x slower; GPUs compile both to one mul.hi. */

#ifndef RNG_K
#define RNG_K 1 /* blocks per work-item: 1, 2, 4, 8 or 16 */
#endif

#if RNG_K == 1
#define RNG_LANES 0u
#elif RNG_K == 2
#define RNG_LANES (uint2)(0, 1)
#elif RNG_K == 4
#define RNG_LANES (uint4)(0, 1, 2, 3)
#elif RNG_K == 8
#define RNG_LANES (uint8)(0, 1, 2, 3, 4, 5, 6, 7)
#elif RNG_K == 16
#define RNG_LANES (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#else
#error "RNG_K must be 1, 2, 4, 8 or 16"
#endif

/* Type names of K lanes: rng_uint is uint for K = 1, uint8 for K = 8, ... */
#define RNG_CAT_(a, b) a##b
#define RNG_CAT(a, b) RNG_CAT_(a, b)
#if RNG_K == 1
#define RNG_VEC(t) t
#else
#define RNG_VEC(t) RNG_CAT(t, RNG_K)
#endif
#define rng_uint RNG_VEC(uint)
#define rng_ulong RNG_VEC(ulong)
#define rng_float RNG_VEC(float)
#define rng_to_uint RNG_CAT(convert_, RNG_VEC(uint))
#define rng_to_ulong RNG_CAT(convert_, RNG_VEC(ulong))
#define rng_to_float RNG_CAT(convert_, RNG_VEC(float))

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define PHILOX_TWO_PI 6.28318530717958647692f

/* The four words of RNG_K blocks, one vector per word position. */
typedef struct philox_words {
    rng_uint x, y, z, w;
} philox_words;

philox_words philox_round(philox_words c, uint k0, uint k1)
{
    rng_ulong p0 = rng_to_ulong(c.x) * (ulong)PHILOX_M0, p1 = rng_to_ulong(c.z) * (ulong)PHILOX_M1;
    philox_words r;
    r.x = rng_to_uint(p1 >> 32) ^ c.y ^ k0;
    r.y = rng_to_uint(p1);
    r.z = rng_to_uint(p0 >> 32) ^ c.w ^ k1;
    r.w = rng_to_uint(p0);
    return r;
}

/* Ten rounds of the counters c under key (k0, k1), bumped by the Weyl constants
 * between rounds. */
philox_words philox4x32_10(philox_words c, uint k0, uint k1)
{
    for (int r = 0; r < 9; r++) {
        c = philox_round(c, k0, k1);
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    return philox_round(c, k0, k1);
}

/* Blocks first .. first + RNG_K - 1 of the stream (seed, stream, step, op). */
philox_words philox_blocks(uint seed, uint stream, uint step, uint op, uint first)
{
    philox_words c;
    c.x = first + RNG_LANES;
    c.y = step;
    c.z = op;
    c.w = 0u;
    return philox4x32_10(c, seed, stream);
}

/* Words -> floats in (0, 1), exact on every device (integer to float of a value
 * below 2^24, then a power-of-two scale). */
rng_float philox_uniform(rng_uint w)
{
    return rng_to_float(((w >> 9) << 1) | 1u) * 0x1.0p-24f;
}

/* Copies of K-lane vectors into private arrays, lane j at [j]. */
#if RNG_K == 1
#define RNG_STORE(v, a) ((a)[0] = (v))
#else
#define RNG_STORE(v, a) RNG_CAT(vstore, RNG_K)((v), 0, (a))
#endif

/* Block j's four values as out[j]: lane j of a, b, c, d. */
void rng_gather4(rng_float a, rng_float b, rng_float c, rng_float d, float4 *out)
{
    float la[RNG_K], lb[RNG_K], lc[RNG_K], ld[RNG_K];
    RNG_STORE(a, la);
    RNG_STORE(b, lb);
    RNG_STORE(c, lc);
    RNG_STORE(d, ld);
    for (int j = 0; j < RNG_K; j++) out[j] = (float4)(la[j], lb[j], lc[j], ld[j]);
}

/* The uniforms of the K blocks: out[j] = block first + j's four. */
void philox_uniforms(philox_words w, float4 *out)
{
    rng_gather4(philox_uniform(w.x), philox_uniform(w.y), philox_uniform(w.z), philox_uniform(w.w), out);
}

/* The normals of the K blocks (Box-Muller, (r cos t, r sin t) per word pair with
 * r = sqrt(-2 ln u(a)), t = 2 pi u(b)): out[j] = block first + j's four. */
void philox_normals(philox_words w, float4 *out)
{
    rng_float r0 = sqrt(-2.0f * log(philox_uniform(w.x))), r1 = sqrt(-2.0f * log(philox_uniform(w.z)));
    rng_float c0, s0 = sincos(PHILOX_TWO_PI * philox_uniform(w.y), &c0);
    rng_float c1, s1 = sincos(PHILOX_TWO_PI * philox_uniform(w.w), &c1);
    rng_gather4(r0 * c0, r0 * s0, r1 * c1, r1 * s1, out);
}
