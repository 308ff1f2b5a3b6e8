/* Philox4x32-10 on the host: the bit-exact twin of cl/philox.cl (see there for
 * how aecl lays out its streams). Same uint32 words and uniforms as any device;
 * normals agree to rounding of log/sqrt/cos/sin (about 1e-6). Host references
 * in tests regenerate an op's random numbers with these functions. */
#ifndef AECL_OPS_PHILOX_H
#define AECL_OPS_PHILOX_H

#include <stddef.h>
#include <stdint.h>

/* Stream (second key word) of each random op, so that ops of different kinds
 * never share numbers even with equal ids. Passed to the kernels as arguments. */
enum {
    AECL_RNG_STREAM_TEST = 0,
    AECL_RNG_STREAM_DROPOUT = 1,
    AECL_RNG_STREAM_NOISE = 2,
    AECL_RNG_STREAM_REPARAM = 3
};

/* One Philox4x32-10 block: out = philox(ctr, key). */
void aecl_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Block `block` of the stream: counter (block, step, op, 0), key (seed, stream). */
void aecl_philox_block(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t block, uint32_t out[4]);

/* A word -> (2 (w >> 9) + 1) * 2^-24, in (0, 1), exact. */
float aecl_philox_uniform(uint32_t w);

/* Box-Muller: out[0] = r cos t, out[1] = r sin t, r = sqrt(-2 ln u(a)), t = 2 pi u(b). */
void aecl_philox_normal2(uint32_t a, uint32_t b, float out[2]);

/* The random numbers element i of a tensor gets in the op with (seed, stream,
 * step, op): word i % 4 of block i / 4, its uniform, and its normal (pair
 * (0,1) or (2,3) of the block, cosine for even i, sine for odd i). */
uint32_t aecl_rng_word(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t i);
float aecl_rng_uniform(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t i);
float aecl_rng_normal(uint32_t seed, uint32_t stream, uint32_t step, uint32_t op, uint32_t i);

#endif
