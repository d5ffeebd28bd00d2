#include "TensorKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "Multiversion.h"

/* exp(x): x = n ln2 + r with |r| <= ln2/2, a degree-7 Taylor polynomial for e^r (truncation
 * error < 6e-9), then 2^n built in the exponent field. Max relative error ~1.2e-7 for results in
 * the normal range. Below it the result is 0 (no denormals: they are slow operands in the GEMM that
 * multiplies softmax probabilities, and below 1.2e-38 against a row sum >= 1 they do not matter);
 * above ln(FLT_MAX) it is +inf like expf. Branch-free so loops calling it vectorise. */
static inline float tk_exp(float x) {
    float c = x < -87.33654f ? -87.33654f : x;
    c = c > 88.37626f ? 88.37626f : c;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float shifted = c * 1.4426950408889634f + magic;
    float n = shifted - magic;
    float r = c - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t shifted_bits, magic_bits;
    memcpy(&shifted_bits, &shifted, 4);
    memcpy(&magic_bits, &magic, 4);
    int32_t scale_bits = (shifted_bits - magic_bits + 127) << 23;
    float scale;
    memcpy(&scale, &scale_bits, 4);
    float result = p * scale;
    result = x < -87.33654f ? 0.0f : result;
    return x > 88.72283f ? __builtin_inff() : result;
}

/* 16-lane vectors (clang vector extensions; lowered to 1 AVX-512, 2 AVX2 or 4 SSE registers). */
typedef float tk_v16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t tk_i16 __attribute__((vector_size(64), aligned(4)));

/* tk_exp on 16 lanes (the same arithmetic lane by lane), as a macro: a function taking 64-byte
 * vectors is rejected in the non-AVX-512 clones (it would change the calling convention).
 * Clamping selects bits by comparison masks so NaN lanes stay NaN. */
#define TK_EXP_V16(result, input)                                                          \
    do {                                                                                   \
        const tk_v16 tk_low = (tk_v16){0} - 87.33654f, tk_high = (tk_v16){0} + 88.37626f;  \
        const tk_v16 tk_x = (input);                                                       \
        tk_v16 tk_c = tk_x;                                                                \
        tk_i16 tk_m = tk_c < tk_low;                                                       \
        tk_c = (tk_v16)(((tk_i16)tk_c & ~tk_m) | ((tk_i16)tk_low & tk_m));                 \
        tk_m = tk_c > tk_high;                                                             \
        tk_c = (tk_v16)(((tk_i16)tk_c & ~tk_m) | ((tk_i16)tk_high & tk_m));                \
        tk_v16 tk_shifted = tk_c * 1.4426950408889634f + 12582912.0f;                      \
        tk_v16 tk_n = tk_shifted - 12582912.0f;                                            \
        tk_v16 tk_r = tk_c - tk_n * 0.693145751953125f - tk_n * 1.428606765330187045e-06f; \
        tk_v16 tk_p = tk_r * (1.0f / 5040.0f) + 1.0f / 720.0f;                             \
        tk_p = tk_p * tk_r + 1.0f / 120.0f;                                                \
        tk_p = tk_p * tk_r + 1.0f / 24.0f;                                                 \
        tk_p = tk_p * tk_r + 1.0f / 6.0f;                                                  \
        tk_p = tk_p * tk_r + 0.5f;                                                         \
        tk_p = tk_p * tk_r + 1.0f;                                                         \
        tk_p = tk_p * tk_r + 1.0f;                                                         \
        /* 0x4B400000: the bits of 1.5 * 2^23 */                                           \
        tk_i16 tk_scale = ((tk_i16)tk_shifted - 0x4B400000 + 127) << 23;                   \
        tk_v16 tk_e = tk_p * (tk_v16)tk_scale;                                             \
        /* below the normal range: 0; above ln(FLT_MAX): +inf (as the scalar version) */     \
        tk_m = tk_x < tk_low;                                                              \
        tk_e = (tk_v16)((tk_i16)tk_e & ~tk_m);                                             \
        tk_m = tk_x > ((tk_v16){0} + 88.72283f);                                           \
        tk_e = (tk_v16)(((tk_i16)tk_e & ~tk_m) | ((tk_i16)((tk_v16){0} + __builtin_inff()) & tk_m)); \
        (result) = tk_e;                                                                   \
    } while (0)

static inline float tk_copysign_magnitude(float magnitude, float sign_source) {
    uint32_t m, s;
    memcpy(&m, &magnitude, 4);
    memcpy(&s, &sign_source, 4);
    m = (m & 0x7fffffffu) | (s & 0x80000000u);
    float result;
    memcpy(&result, &m, 4);
    return result;
}

/* erf by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7), the formula PyTorch's
 * vectorised CPU erf uses, so GELU rounds like the reference. */
static inline float tk_erf(float x) {
    float a = x < 0 ? -x : x;
    float t = 1.0f / (0.3275911f * a + 1.0f);
    float r = 1.061405429f;
    r = r * t - 1.453152027f;
    r = r * t + 1.421413741f;
    r = r * t - 0.284496736f;
    r = r * t + 0.254829592f;
    return tk_copysign_magnitude(1.0f - r * t * tk_exp(-a * a), x);
}

static inline float tk_gelu_one(float v) { return 0.5f * v * (1.0f + tk_erf(v * 0.70710678118654752f)); }

MULTIVERSION void tk_sigmoid(const float *in, float *out, long n) {
    for (long i = 0; i < n; i++) out[i] = 1.0f / (1.0f + tk_exp(-in[i]));
}

MULTIVERSION void tk_silu(const float *in, float *out, long n) {
    for (long i = 0; i < n; i++) out[i] = in[i] / (1.0f + tk_exp(-in[i]));
}

MULTIVERSION void tk_quick_gelu(const float *in, float *out, long n) {
    for (long i = 0; i < n; i++) out[i] = in[i] / (1.0f + tk_exp(-1.702f * in[i]));
}

MULTIVERSION void tk_gelu(const float *in, float *out, long n) {
    for (long i = 0; i < n; i++) out[i] = tk_gelu_one(in[i]);
}

MULTIVERSION void tk_gelu_tanh(const float *in, float *out, long n) {
    for (long i = 0; i < n; i++) {
        float v = in[i];
        float y = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        /* tanh(y) = sign(y) (1 - e) / (1 + e), e = exp(-2|y|): never overflows. */
        float e = tk_exp(-2.0f * (y < 0 ? -y : y));
        float t = tk_copysign_magnitude((1.0f - e) / (1.0f + e), y);
        out[i] = 0.5f * v * (1.0f + t);
    }
}

MULTIVERSION void tk_gelu_gate(const float *a, const float *b, float *out, long n) {
    for (long i = 0; i < n; i++) out[i] = a[i] * tk_gelu_one(b[i]);
}

/* Reductions in explicit 16-lane vectors (clang vector extensions): the loop vectoriser will
 * not reorder float reductions without fast-math, and this fixes the summation order for
 * every instruction set. */

static inline float tk_max(const float *p, long n) {
    long blocked = n - n % 16;
    float maximum = p[0];
    if (blocked > 0) {
        tk_v16 m, v;
        memcpy(&m, p, sizeof m);
        for (long i = 16; i < blocked; i += 16) {
            memcpy(&v, p + i, sizeof v);
            m = __builtin_elementwise_max(m, v);
        }
        maximum = __builtin_reduce_max(m);
    }
    for (long i = blocked; i < n; i++) maximum = p[i] > maximum ? p[i] : maximum;
    return maximum;
}

static inline float tk_sum(const float *p, long n) {
    long blocked = n - n % 16;
    tk_v16 s = {0}, v;
    for (long i = 0; i < blocked; i += 16) {
        memcpy(&v, p + i, sizeof v);
        s += v;
    }
    float lanes[16];
    memcpy(lanes, &s, sizeof lanes);
    for (int width = 8; width > 0; width /= 2)
        for (int j = 0; j < width; j++) lanes[j] += lanes[j + width];
    float total = lanes[0];
    for (long i = blocked; i < n; i++) total += p[i];
    return total;
}

MULTIVERSION float tk_softmax_exp_row(float *p, const float *mask, long n) {
    if (n <= 0) return 0.0f;
    if (mask)
        for (long i = 0; i < n; i++) p[i] += mask[i];
    float maximum = tk_max(p, n);
    long blocked = n - n % 16;
    tk_v16 sum = {0}, v;
    for (long i = 0; i < blocked; i += 16) {
        memcpy(&v, p + i, sizeof v);
        TK_EXP_V16(v, v - maximum);
        memcpy(p + i, &v, sizeof v);
        sum += v;
    }
    float lanes[16];
    memcpy(lanes, &sum, sizeof lanes);
    for (int width = 8; width > 0; width /= 2)
        for (int j = 0; j < width; j++) lanes[j] += lanes[j + width];
    float total = lanes[0];
    for (long i = blocked; i < n; i++) {
        float e = tk_exp(p[i] - maximum);
        p[i] = e;
        total += e;
    }
    return total;
}

MULTIVERSION void tk_softmax_row(const float *in, const float *mask, float *out, long n) {
    if (n <= 0) return;
    if (in != out) memcpy(out, in, (size_t)n * sizeof(float));
    float inverse = 1.0f / tk_softmax_exp_row(out, mask, n);
    for (long i = 0; i < n; i++) out[i] *= inverse;
}

enum { MOMENT_BLOCK = 4096 };

MULTIVERSION void tk_moments(const float *p, long n, double *mean, double *variance) {
    if (n <= 0) {
        *mean = 0;
        *variance = 0;
        return;
    }
    double total = 0;
    for (long start = 0; start < n; start += MOMENT_BLOCK) {
        long count = n - start < MOMENT_BLOCK ? n - start : MOMENT_BLOCK;
        total += tk_sum(p + start, count);
    }
    double m = total / (double)n;
    float mf = (float)m;
    double squares = 0;
    for (long start = 0; start < n; start += MOMENT_BLOCK) {
        long count = n - start < MOMENT_BLOCK ? n - start : MOMENT_BLOCK;
        const float *q = p + start;
        long blocked = count - count % 16;
        tk_v16 s = {0}, v;
        for (long i = 0; i < blocked; i += 16) {
            memcpy(&v, q + i, sizeof v);
            v -= mf;
            s += v * v;
        }
        float lanes[16];
        memcpy(lanes, &s, sizeof lanes);
        for (int width = 8; width > 0; width /= 2)
            for (int j = 0; j < width; j++) lanes[j] += lanes[j + width];
        float block = lanes[0];
        for (long i = blocked; i < count; i++) block += (q[i] - mf) * (q[i] - mf);
        squares += block;
    }
    *mean = m;
    *variance = squares / (double)n;
}

MULTIVERSION void tk_scale_shift(const float *in, float *out, long n, float scale, float shift) {
    for (long i = 0; i < n; i++) out[i] = in[i] * scale + shift;
}

MULTIVERSION void tk_scale_shift_silu(const float *in, float *out, long n, float scale, float shift) {
    for (long i = 0; i < n; i++) {
        float y = in[i] * scale + shift;
        out[i] = y / (1.0f + tk_exp(-y));
    }
}

MULTIVERSION void tk_layer_norm_row(const float *in, float *out, long n, const float *gamma, const float *beta,
                                    float eps) {
    double mean, variance;
    tk_moments(in, n, &mean, &variance);
    float m = (float)mean;
    float rstd = (float)(1.0 / sqrt(variance + (double)eps));
    if (gamma && beta) {
        for (long i = 0; i < n; i++) out[i] = (in[i] - m) * rstd * gamma[i] + beta[i];
    } else if (gamma) {
        for (long i = 0; i < n; i++) out[i] = (in[i] - m) * rstd * gamma[i];
    } else if (beta) {
        for (long i = 0; i < n; i++) out[i] = (in[i] - m) * rstd + beta[i];
    } else {
        for (long i = 0; i < n; i++) out[i] = (in[i] - m) * rstd;
    }
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void tk_release_free_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
