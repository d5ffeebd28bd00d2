/* Conversions between float32 and the two 16-bit weight formats (IEEE binary16, bfloat16), used to keep
 * weights resident at 2 bytes per value and widen one GEMM panel at a time. binary16 goes through F16C
 * (vcvtph2ps / vcvtps2ph) or AVX-512 when the CPU has them, chosen at run time rather than by
 * target_clones because F16C is not part of the avx2 clone's feature set; a scalar bit-level version
 * always works and gives the same bits (NaNs come out quiet with their payload, as F16C makes them). */
#include "TensorKernels.h"
#include <stdint.h>
#include <string.h>
#include "Multiversion.h"
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define TK_HALF_X86 1
#endif

static float tk_f16_to_f32_scalar(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x03FF;
    uint32_t bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x00400000u : 0);
    } else if (exponent) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (!mantissa) {
        bits = sign;
    } else {
        uint32_t m = mantissa, e = 113;
        while (!(m & 0x0400)) { m <<= 1; e--; }
        bits = sign | (e << 23) | ((m & 0x03FF) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Round to nearest even, overflow to infinity, NaN kept quiet. */
static uint16_t tk_f32_to_f16_scalar(float value) {
    uint32_t x;
    memcpy(&x, &value, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const int exponent = (int)((x >> 23) & 0xFF);
    uint32_t mantissa = x & 0x007FFFFF;
    if (exponent == 0xFF) return mantissa ? (uint16_t)(sign | 0x7E00 | (mantissa >> 13)) : (uint16_t)(sign | 0x7C00);
    const int e = exponent - 127 + 15;
    if (e >= 0x1F) return sign | 0x7C00;
    if (e <= 0) {
        if (e < -10) return sign;
        mantissa |= 0x00800000;
        const uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mantissa >> shift;
        const uint32_t rem = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t result = ((uint32_t)e << 10) | (mantissa >> 13);
    const uint32_t rem = mantissa & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (result & 1))) result++;
    return (uint16_t)(sign | result);  /* a carry into the exponent rounds up to infinity correctly */
}

static void widen_scalar(const unsigned short *src, long n, float *dst) {
    for (long i = 0; i < n; i++) dst[i] = tk_f16_to_f32_scalar(src[i]);
}
static void narrow_scalar(const float *src, long n, unsigned short *dst) {
    for (long i = 0; i < n; i++) dst[i] = tk_f32_to_f16_scalar(src[i]);
}

#ifdef TK_HALF_X86
__attribute__((target("avx,f16c")))
static void widen_f16c(const unsigned short *src, long n, float *dst) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = tk_f16_to_f32_scalar(src[i]);
}
__attribute__((target("avx,f16c")))
static void narrow_f16c(const float *src, long n, unsigned short *dst) {
    long i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) dst[i] = tk_f32_to_f16_scalar(src[i]);
}
__attribute__((target("avx512f")))
static void widen_avx512(const unsigned short *src, long n, float *dst) {
    long i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    for (; i < n; i++) dst[i] = tk_f16_to_f32_scalar(src[i]);
}
__attribute__((target("avx512f")))
static void narrow_avx512(const float *src, long n, unsigned short *dst) {
    long i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) dst[i] = tk_f32_to_f16_scalar(src[i]);
}
#endif

static int tk_half_forced = -1;

int tk_half_isa_detected(void) {
#ifdef TK_HALF_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return TK_HALF_ISA_AVX512;
    if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c")) return TK_HALF_ISA_F16C;
#endif
    return TK_HALF_ISA_SCALAR;
}

int tk_half_isa(void) {
    const int detected = tk_half_isa_detected();
    /* A forced level above what the CPU has would fault: clamp it. */
    return tk_half_forced >= 0 && tk_half_forced < detected ? tk_half_forced : detected;
}

void tk_half_isa_force(int isa) { tk_half_forced = isa; }

void tk_f16_widen(const unsigned short *src, long n, float *dst) {
    switch (tk_half_isa()) {
#ifdef TK_HALF_X86
    case TK_HALF_ISA_AVX512: widen_avx512(src, n, dst); return;
    case TK_HALF_ISA_F16C: widen_f16c(src, n, dst); return;
#endif
    default: widen_scalar(src, n, dst); return;
    }
}

void tk_f16_narrow(const float *src, long n, unsigned short *dst) {
    switch (tk_half_isa()) {
#ifdef TK_HALF_X86
    case TK_HALF_ISA_AVX512: narrow_avx512(src, n, dst); return;
    case TK_HALF_ISA_F16C: narrow_f16c(src, n, dst); return;
#endif
    default: narrow_scalar(src, n, dst); return;
    }
}

long tk_f16_narrow_exact(const float *src, long n, unsigned short *dst) {
    /* In blocks: narrow, widen back into a small buffer, compare bit patterns (so -0, NaN payloads count). */
    float back[1024];
    for (long start = 0; start < n; start += 1024) {
        const long len = n - start < 1024 ? n - start : 1024;
        tk_f16_narrow(src + start, len, dst + start);
        tk_f16_widen(dst + start, len, back);
        if (memcmp(back, src + start, (size_t)len * 4) != 0) {
            for (long i = 0; i < len; i++)
                if (memcmp(back + i, src + start + i, 4) != 0) return start + i;
        }
    }
    return n;
}

MULTIVERSION
void tk_bf16_widen(const unsigned short *src, long n, float *dst) {
    uint32_t *out = (uint32_t *)dst;
    for (long i = 0; i < n; i++) out[i] = (uint32_t)src[i] << 16;
}

MULTIVERSION
void tk_bf16_narrow(const float *src, long n, unsigned short *dst) {
    const uint32_t *in = (const uint32_t *)src;
    for (long i = 0; i < n; i++) {
        const uint32_t x = in[i];
        if ((x & 0x7F800000u) == 0x7F800000u && (x & 0x007FFFFFu)) { dst[i] = (uint16_t)((x >> 16) | 0x0040); continue; }
        dst[i] = (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1)) >> 16);
    }
}

long tk_bf16_narrow_exact(const float *src, long n, unsigned short *dst) {
    const uint32_t *in = (const uint32_t *)src;
    for (long i = 0; i < n; i++) {
        if (in[i] & 0xFFFFu) return i;
        dst[i] = (uint16_t)(in[i] >> 16);
    }
    return n;
}

void tk_widen_block(const void *src, int format, long rows, long columns, long sourceStride, float *dst, long destinationStride) {
    const uint16_t *base = (const uint16_t *)src;
    for (long r = 0; r < rows; r++) {
        if (format == TK_FORMAT_BF16) tk_bf16_widen(base + r * sourceStride, columns, dst + r * destinationStride);
        else tk_f16_widen(base + r * sourceStride, columns, dst + r * destinationStride);
    }
}
