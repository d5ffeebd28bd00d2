#include "TensorKernels.h"

#include <stdlib.h>

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
/* VDPBF16PS as an outer product, register-blocked like an sgemm micro-kernel: each fp32 lane of a C row holds
 * one output column and accumulates a pair of k at a time (the broadcast pair A[i][2p], A[i][2p+1] against the
 * column's W[j][2p], W[j][2p+1]). W is packed per block of K into panels of 32 columns, pair-major, so one
 * 64-byte load gives 16 columns' pairs; 12 rows x 32 columns of C stay in 24 registers across the block. The
 * earlier dot-product form (one A row against four W rows, a horizontal sum per output) re-read W for every
 * row and ran at ~0.45x the fp32 path. */
#define TK_BF16_MR 12
#define TK_BF16_NR 32
#define TK_BF16_KB 512 /* k per packed block (even): a 32-column panel is 32 KB */
#define TK_BF16_NB 256 /* columns whose packed block (256 KB) is swept by each 12-row block */
#define TK_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))
/* Every loop over a tile's rows unrolled, so its accumulators are registers (left rolled, clang kept them on the
 * stack and the kernel ran from memory). */
#if defined(__clang__)
#define TK_BF16_UNROLL _Pragma("clang loop unroll(full)")
#else
#define TK_BF16_UNROLL _Pragma("GCC unroll 12")
#endif

/* Panels of TK_BF16_NR columns of W[n][k0 ..< k0 + kb], each kb/2 (rounded up) pairs x 32 lanes, zero past n and
 * past kb. */
static void pack_pairs(const unsigned short *w, long ldw, long n, long k0, long kb, unsigned int *wp) {
    const long pairs = (kb + 1) / 2, panels = (n + TK_BF16_NR - 1) / TK_BF16_NR;
    for (long q = 0; q < panels; q++) {
        unsigned int *panel = wp + q * pairs * TK_BF16_NR;
        for (long lane = 0; lane < TK_BF16_NR; lane++) {
            const long j = q * TK_BF16_NR + lane;
            if (j >= n) {
                for (long p = 0; p < pairs; p++) panel[p * TK_BF16_NR + lane] = 0;
                continue;
            }
            const unsigned short *col = w + j * ldw + k0;
            for (long p = 0; p < kb / 2; p++)
                panel[p * TK_BF16_NR + lane] = (unsigned int)col[2 * p] | ((unsigned int)col[2 * p + 1] << 16);
            if (kb & 1) panel[(pairs - 1) * TK_BF16_NR + lane] = col[kb - 1];
        }
    }
}

static inline __attribute__((always_inline)) TK_BF16_TARGET
void micro_tile(const int rows, const unsigned short *a, long lda, const unsigned int *panel, long kb, float *c,
                long ldc, __mmask16 m0, __mmask16 m1, int accumulate) {
    __m512 lo[TK_BF16_MR], hi[TK_BF16_MR];
    TK_BF16_UNROLL for (int r = 0; r < rows; r++) {
        lo[r] = accumulate ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
        hi[r] = accumulate ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
    const long full = kb / 2;
    for (long p = 0; p < full; p++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + p * TK_BF16_NR);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + p * TK_BF16_NR + 16);
        TK_BF16_UNROLL for (int r = 0; r < rows; r++) {
            unsigned int pair;
            __builtin_memcpy(&pair, a + r * lda + 2 * p, sizeof pair);
            const __m512bh x = (__m512bh)_mm512_set1_epi32((int)pair);
            lo[r] = _mm512_dpbf16_ps(lo[r], x, b0);
            hi[r] = _mm512_dpbf16_ps(hi[r], x, b1);
        }
    }
    if (kb & 1) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + full * TK_BF16_NR);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + full * TK_BF16_NR + 16);
        TK_BF16_UNROLL for (int r = 0; r < rows; r++) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[r * lda + kb - 1]);
            lo[r] = _mm512_dpbf16_ps(lo[r], x, b0);
            hi[r] = _mm512_dpbf16_ps(hi[r], x, b1);
        }
    }
    TK_BF16_UNROLL for (int r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, lo[r]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, hi[r]);
    }
}

/* One tile of `rows` (1 ... 12) rows, with the row count a constant in each call so the tile stays in registers. */
TK_BF16_TARGET
static void tile_rows(int rows, const unsigned short *a, long lda, const unsigned int *panel, long kb, float *c,
                      long ldc, __mmask16 m0, __mmask16 m1, int accumulate) {
    switch (rows) {
#define TK_BF16_ROWS(R) case R: micro_tile(R, a, lda, panel, kb, c, ldc, m0, m1, accumulate); return;
    TK_BF16_ROWS(12) TK_BF16_ROWS(11) TK_BF16_ROWS(10) TK_BF16_ROWS(9) TK_BF16_ROWS(8) TK_BF16_ROWS(7)
    TK_BF16_ROWS(6) TK_BF16_ROWS(5) TK_BF16_ROWS(4) TK_BF16_ROWS(3) TK_BF16_ROWS(2) TK_BF16_ROWS(1)
#undef TK_BF16_ROWS
    default: return;
    }
}

/* The packed block, kept per thread (the compute threads persist) and grown as calls need. */
static _Thread_local unsigned int *packed_block;
static _Thread_local long packed_capacity;

TK_BF16_TARGET
static void gemm_avx512bf16(const unsigned short *a, long lda, const unsigned short *w, long ldw, float *c, long ldc,
                            long m, long n, long k) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (long i = 0; i < m; i++) for (long j = 0; j < n; j++) c[i * ldc + j] = 0;
        return;
    }
    const long panels = (n + TK_BF16_NR - 1) / TK_BF16_NR;
    const long block = k < TK_BF16_KB ? k : TK_BF16_KB;
    const long needed = panels * ((block + 1) / 2) * TK_BF16_NR;
    if (needed > packed_capacity) {
        free(packed_block);
        packed_block = aligned_alloc(64, (size_t)needed * sizeof(unsigned int));
        if (!packed_block) { packed_capacity = 0; gemm_scalar(a, lda, w, ldw, c, ldc, m, n, k); return; }
        packed_capacity = needed;
    }
    for (long k0 = 0; k0 < k; k0 += TK_BF16_KB) {
        const long kb = k - k0 < TK_BF16_KB ? k - k0 : TK_BF16_KB;
        const long pairs = (kb + 1) / 2;
        pack_pairs(w, ldw, n, k0, kb, packed_block);
        for (long n0 = 0; n0 < n; n0 += TK_BF16_NB) {
            const long n1 = n - n0 < TK_BF16_NB ? n : n0 + TK_BF16_NB;
            for (long i = 0; i < m; i += TK_BF16_MR) {
                const int rows = (int)(m - i < TK_BF16_MR ? m - i : TK_BF16_MR);
                for (long j = n0; j < n1; j += TK_BF16_NR) {
                    const long cols = n - j < TK_BF16_NR ? n - j : TK_BF16_NR;
                    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
                    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF
                        : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : (__mmask16)0;
                    tile_rows(rows, a + i * lda + k0, lda, packed_block + (j / TK_BF16_NR) * pairs * TK_BF16_NR, kb,
                              c + i * ldc + j, ldc, m0, m1, k0 > 0);
                }
            }
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
