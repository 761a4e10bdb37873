/* luvec (internal) — the 8-float vector type the lu2021 float32 code is written in (GCC vector
 * extensions: one AVX register, or two SSE halves on any x86-64), and its load/store/splat.
 * Element-wise use only, so results do not depend on how the compiler splits a vector. */
#ifndef ATTNSWEEP_LU2021_LUVEC_H
#define ATTNSWEEP_LU2021_LUVEC_H
#include <stdint.h>
#include <string.h>

/* 8-float vectors pass between always-inline helpers only: no ABI is involved */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define VEC_INLINE static inline __attribute__((always_inline))
#define SPLAT(c) ((v8f){(c), (c), (c), (c), (c), (c), (c), (c)})
#define SPLATI(c) ((v8i){(c), (c), (c), (c), (c), (c), (c), (c)})

VEC_INLINE v8f load8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

VEC_INLINE void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

/* Σ of the 8 lanes in a fixed order: ((0+4)+(2+6)) + ((1+5)+(3+7)). */
VEC_INLINE float hsum8(v8f v)
{
    float a = v[0] + v[4], b = v[2] + v[6], c = v[1] + v[5], d = v[3] + v[7];
    return (a + b) + (c + d);
}

#endif
