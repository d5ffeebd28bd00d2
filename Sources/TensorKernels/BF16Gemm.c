#include "TensorKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define TK_BF16_X86 1
#endif

/* bf16 x bf16 -> fp32 GEMM, C = A W^T, for a bf16 compute path. Products of two bf16 values are exact in
 * fp32 (8-bit significands), so the only rounding is the fp32 accumulation: both paths below accumulate in
 * fp32 and agree with a float64 reference within the accumulation-length bound the tests derive. */

static float bf16_to_f32(unsigned short h) {
    union { unsigned int u; float f; } v = { (unsigned int)h << 16 };
    return v.f;
}

static void gemm_scalar(const unsigned short *a, long lda, const unsigned short *w, long ldw, float *c, long ldc,
                        long m, long n, long k) {
    for (long i = 0; i < m; i++) {
        const unsigned short *row = a + i * lda;
        for (long j = 0; j < n; j++) {
            const unsigned short *col = w + j * ldw;
            float sum = 0;
            for (long p = 0; p < k; p++) sum += bf16_to_f32(row[p]) * bf16_to_f32(col[p]);
            c[i * ldc + j] = sum;
        }
    }
}

#ifdef TK_BF16_X86
/* VDPBF16PS: each fp32 lane accumulates the dot product of one pair of bf16 values. Four weight rows at a
 * time share each load of the activation row; the K tail is a zero-masked load (zeros add nothing). */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void gemm_avx512bf16(const unsigned short *a, long lda, const unsigned short *w, long ldw, float *c, long ldc,
                            long m, long n, long k) {
    const long tail = k % 32;
    const __mmask32 mask = tail ? (__mmask32)((1u << tail) - 1) : 0;
    for (long i = 0; i < m; i++) {
        const unsigned short *row = a + i * lda;
        long j = 0;
        for (; j + 4 <= n; j += 4) {
            const unsigned short *w0 = w + j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            long p = 0;
            for (; p + 32 <= k; p += 32) {
                __m512bh x = (__m512bh)_mm512_loadu_si512(row + p);
                s0 = _mm512_dpbf16_ps(s0, x, (__m512bh)_mm512_loadu_si512(w0 + p));
                s1 = _mm512_dpbf16_ps(s1, x, (__m512bh)_mm512_loadu_si512(w1 + p));
                s2 = _mm512_dpbf16_ps(s2, x, (__m512bh)_mm512_loadu_si512(w2 + p));
                s3 = _mm512_dpbf16_ps(s3, x, (__m512bh)_mm512_loadu_si512(w3 + p));
            }
            if (tail) {
                __m512bh x = (__m512bh)_mm512_maskz_loadu_epi16(mask, row + p);
                s0 = _mm512_dpbf16_ps(s0, x, (__m512bh)_mm512_maskz_loadu_epi16(mask, w0 + p));
                s1 = _mm512_dpbf16_ps(s1, x, (__m512bh)_mm512_maskz_loadu_epi16(mask, w1 + p));
                s2 = _mm512_dpbf16_ps(s2, x, (__m512bh)_mm512_maskz_loadu_epi16(mask, w2 + p));
                s3 = _mm512_dpbf16_ps(s3, x, (__m512bh)_mm512_maskz_loadu_epi16(mask, w3 + p));
            }
            float *out = c + i * ldc + j;
            out[0] = _mm512_reduce_add_ps(s0);
            out[1] = _mm512_reduce_add_ps(s1);
            out[2] = _mm512_reduce_add_ps(s2);
            out[3] = _mm512_reduce_add_ps(s3);
        }
        for (; j < n; j++) {
            const unsigned short *w0 = w + j * ldw;
            __m512 s0 = _mm512_setzero_ps();
            long p = 0;
            for (; p + 32 <= k; p += 32)
                s0 = _mm512_dpbf16_ps(s0, (__m512bh)_mm512_loadu_si512(row + p), (__m512bh)_mm512_loadu_si512(w0 + p));
            if (tail)
                s0 = _mm512_dpbf16_ps(s0, (__m512bh)_mm512_maskz_loadu_epi16(mask, row + p),
                                      (__m512bh)_mm512_maskz_loadu_epi16(mask, w0 + p));
            c[i * ldc + j] = _mm512_reduce_add_ps(s0);
        }
    }
}
#endif

int tk_bf16_isa_choose(int avx512bf16, int amx_bf16_granted) {
    (void)amx_bf16_granted; /* no AMX tile kernel yet: AMX CPUs use their AVX512_BF16 (all AMX CPUs have it) */
#ifdef TK_BF16_X86
    if (avx512bf16) return TK_BF16_ISA_AVX512BF16;
#else
    (void)avx512bf16;
#endif
    return TK_BF16_ISA_SCALAR;
}

static int tk_bf16_selected = -1;

void tk_bf16_isa_set(int isa) { tk_bf16_selected = isa; }

int tk_bf16_isa(void) {
    int has = 0;
#ifdef TK_BF16_X86
    __builtin_cpu_init();
    has = __builtin_cpu_supports("avx512bf16");
#endif
    const int detected = tk_bf16_isa_choose(has, 0);
    /* A set path above what the CPU has would fault: clamp it. */
    return tk_bf16_selected >= 0 && tk_bf16_selected < detected ? tk_bf16_selected : detected;
}

void tk_bf16_gemm_nt(const unsigned short *a, long lda, const unsigned short *w, long ldw, float *c, long ldc,
                     long m, long n, long k) {
    switch (tk_bf16_isa()) {
#ifdef TK_BF16_X86
    case TK_BF16_ISA_AVX512BF16: gemm_avx512bf16(a, lda, w, ldw, c, ldc, m, n, k); return;
#endif
    default: gemm_scalar(a, lda, w, ldw, c, ldc, m, n, k); return;
    }
}
