#include "TensorKernels.h"

#include <string.h>

/* Scaled dot-product attention for one head and a block of query rows, with the GEMM-shaped steps
 * written as register-blocked loops instead of OpenBLAS calls. Stable Diffusion's heads are 40-160 wide:
 * as a BLAS call, Q K^T has an inner dimension of only 40 and P V an output of only 40 columns, and every
 * call packs its whole score block again, so both ran at ~60% of the machine's GEMM rate. Here the keys
 * are packed once per head (K transposed, V with rows padded to whole vectors) and the loops keep the
 * products in registers, in cache-sized key blocks.
 *
 * 16-lane clang vectors lower to one AVX-512, two AVX2 or four SSE registers (target_clones picks at
 * load time). Vectors are never passed to functions: a 64-byte vector argument is refused in the
 * non-AVX-512 clones. */

#include "Multiversion.h"

typedef float tk_av16 __attribute__((vector_size(64), aligned(4)));

enum { KEY_TILE = 64, KEY_BLOCK = 512, QUERY_GROUP = 4 };

long tk_attention_padded_keys(long keyLength) { return (keyLength + KEY_TILE - 1) / KEY_TILE * KEY_TILE; }
long tk_attention_padded_dim(long headDim) { return (headDim + 15) / 16 * 16; }

/* Keys per packed tile of the path in use: its score tile's width. */
static long key_tile_width(void) { return tk_attention_path() == TK_ATTENTION_PATH_AVX2 ? 16 : KEY_TILE; }

/* K^T is packed tile by tile ([tile][d][width]), so a score tile's loop over d reads consecutive cache lines: as
 * one [d][paddedKeys] matrix, rows 4096 keys apart are 16 KB apart, all in one L1 set, and missed on every d. */
void tk_attention_pack(const float *k, const float *v, long ld, long keyLength, long headDim,
                       float *kt, float *vp) {
    const long paddedKeys = tk_attention_padded_keys(keyLength), paddedDim = tk_attention_padded_dim(headDim);
    const long width = key_tile_width();
    for (long j = 0; j < paddedKeys; j++) {
        float *column = kt + (j / width) * headDim * width + j % width;
        if (j < keyLength)
            for (long d = 0; d < headDim; d++) column[d * width] = k[j * ld + d];
        else
            for (long d = 0; d < headDim; d++) column[d * width] = 0.0f;
    }
    for (long j = 0; j < keyLength; j++) {
        memcpy(vp + j * paddedDim, v + j * ld, sizeof(float) * headDim);
        for (long d = headDim; d < paddedDim; d++) vp[j * paddedDim + d] = 0.0f;
    }
}

/* Unnormalised softmax per score row; the division is applied to the short output rows (normalise_rows). */
static void softmax_rows(float *scores, long paddedKeys, long rows, long keyLength, const float *mask, long ldmask,
                         float *sums) {
    for (long r = 0; r < rows; r++)
        sums[r] = tk_softmax_exp_row(scores + r * paddedKeys, mask ? mask + r * ldmask : 0, keyLength);
}

static void normalise_rows(const float *acc, long paddedDim, const float *sums, long rows, long headDim,
                           float *out, long ldo) {
    for (long r = 0; r < rows; r++) {
        const float inverse = 1.0f / sums[r];
        const float *source = acc + r * paddedDim;
        float *target = out + r * ldo;
        for (long d = 0; d < headDim; d++) target[d] = source[d] * inverse;
    }
}

/* P V for NV vectors of output columns, R query rows at a time, accumulated over key blocks in acc. */
#define TK_PV_CASE(NV, R)                                                                          \
    case NV: {                                                                                     \
        for (long kb = 0; kb < keyLength; kb += KEY_BLOCK) {                                       \
            const long kend = kb + KEY_BLOCK < keyLength ? kb + KEY_BLOCK : keyLength;             \
            for (long r = 0; r < rows; r += R) {                                                   \
                const long count = rows - r < R ? rows - r : R;                                    \
                tk_av16 a[R][NV];                                                                  \
                const float *p[R];                                                                 \
                for (int i = 0; i < R; i++) {                                                      \
                    const long row = r + (i < count ? i : count - 1);                              \
                    p[i] = scores + row * paddedKeys;                                              \
                    for (int j = 0; j < NV; j++) {                                                 \
                        if (kb == 0) a[i][j] = (tk_av16){0};                                       \
                        else memcpy(&a[i][j], acc + row * paddedDim + 16 * j, sizeof(tk_av16));    \
                    }                                                                              \
                }                                                                                  \
                for (long key = kb; key < kend; key++) {                                           \
                    tk_av16 vv[NV];                                                                \
                    const float *vrow = vp + key * paddedDim;                                      \
                    for (int j = 0; j < NV; j++) memcpy(&vv[j], vrow + 16 * j, sizeof(tk_av16));   \
                    for (int i = 0; i < R; i++) {                                                  \
                        const float x = p[i][key];                                                 \
                        for (int j = 0; j < NV; j++) a[i][j] += x * vv[j];                         \
                    }                                                                              \
                }                                                                                  \
                for (int i = 0; i < count; i++)                                                    \
                    for (int j = 0; j < NV; j++)                                                   \
                        memcpy(acc + (r + i) * paddedDim + 16 * j, &a[i][j], sizeof(tk_av16));     \
            }                                                                                      \
        }                                                                                          \
        break;                                                                                     \
    }

MULTIVERSION
static void attention_rows_wide(const float *q, long ldq, const float *kt, const float *vp, long rows, long keyLength,
                                long headDim, float scale, const float *mask, long ldmask,
                                float *scores, float *acc, float *out, long ldo) {
    const long paddedKeys = tk_attention_padded_keys(keyLength), paddedDim = tk_attention_padded_dim(headDim);
    float sums[TK_ATTENTION_MAX_ROWS];

    /* scores = scale * Q K^T: QUERY_GROUP rows x KEY_TILE keys in registers, keys in L2-sized blocks. */
    for (long kb = 0; kb < paddedKeys; kb += KEY_BLOCK) {
        const long kend = kb + KEY_BLOCK < paddedKeys ? kb + KEY_BLOCK : paddedKeys;
        for (long r = 0; r < rows; r += QUERY_GROUP) {
            const long count = rows - r < QUERY_GROUP ? rows - r : QUERY_GROUP;
            const float *qr[QUERY_GROUP];
            for (int i = 0; i < QUERY_GROUP; i++) qr[i] = q + (r + (i < count ? i : count - 1)) * ldq;
            for (long k0 = kb; k0 < kend; k0 += KEY_TILE) {
                tk_av16 a[QUERY_GROUP][4];
                for (int i = 0; i < QUERY_GROUP; i++)
                    for (int j = 0; j < 4; j++) a[i][j] = (tk_av16){0};
                const float *tile = kt + k0 * headDim;  /* k0 is a multiple of KEY_TILE */
                for (long d = 0; d < headDim; d++) {
                    tk_av16 kv[4];
                    const float *krow = tile + d * KEY_TILE;
                    for (int j = 0; j < 4; j++) memcpy(&kv[j], krow + 16 * j, sizeof(tk_av16));
                    for (int i = 0; i < QUERY_GROUP; i++) {
                        const float x = qr[i][d];
                        for (int j = 0; j < 4; j++) a[i][j] += x * kv[j];
                    }
                }
                for (int i = 0; i < count; i++)
                    for (int j = 0; j < 4; j++) {
                        const tk_av16 scaled = a[i][j] * scale;
                        memcpy(scores + (r + i) * paddedKeys + k0 + 16 * j, &scaled, sizeof(tk_av16));
                    }
            }
        }
    }

    softmax_rows(scores, paddedKeys, rows, keyLength, mask, ldmask, sums);

    switch (paddedDim / 16) {
        TK_PV_CASE(1, 8)
        TK_PV_CASE(2, 8)
        TK_PV_CASE(3, 8)
        TK_PV_CASE(4, 6)
        TK_PV_CASE(5, 4)
        TK_PV_CASE(6, 4)
        TK_PV_CASE(7, 3)
        TK_PV_CASE(8, 3)
        TK_PV_CASE(9, 2)
        TK_PV_CASE(10, 2)
        TK_PV_CASE(11, 2)
        TK_PV_CASE(12, 2)
        default: break; /* callers keep headDim <= TK_ATTENTION_MAX_HEAD_DIM */
    }

    normalise_rows(acc, paddedDim, sums, rows, headDim, out, ldo);
}

#if defined(__x86_64__) && defined(__clang__)
/* AVX2 has 16 vector registers, not 32: the 16-lane tiles above (QK^T: 4 rows x 64 keys, 16 accumulators of
 * two registers each) spill there, and the "avx2" clone has no FMA. This path keeps 6 x 16 tiles (12
 * accumulators, 2 loads, 1 broadcast) in both products and is compiled for x86-64-v3 (AVX2 + FMA). Each output
 * still sums its terms in the same order (over d for the scores, over keys for P V). */
typedef float tk_av8 __attribute__((vector_size(32), aligned(4)));
enum { AVX2_ROWS = 6 };

__attribute__((target("avx2,fma")))
static void attention_rows_avx2(const float *q, long ldq, const float *kt, const float *vp, long rows, long keyLength,
                                long headDim, float scale, const float *mask, long ldmask,
                                float *scores, float *acc, float *out, long ldo) {
    const long paddedKeys = tk_attention_padded_keys(keyLength), paddedDim = tk_attention_padded_dim(headDim);
    float sums[TK_ATTENTION_MAX_ROWS];

    for (long kb = 0; kb < paddedKeys; kb += KEY_BLOCK) {
        const long kend = kb + KEY_BLOCK < paddedKeys ? kb + KEY_BLOCK : paddedKeys;
        for (long r = 0; r < rows; r += AVX2_ROWS) {
            const long count = rows - r < AVX2_ROWS ? rows - r : AVX2_ROWS;
            const float *qr[AVX2_ROWS];
            for (int i = 0; i < AVX2_ROWS; i++) qr[i] = q + (r + (i < count ? i : count - 1)) * ldq;
            for (long k0 = kb; k0 < kend; k0 += 16) {
                tk_av8 a[AVX2_ROWS][2];
                for (int i = 0; i < AVX2_ROWS; i++) a[i][0] = a[i][1] = (tk_av8){0};
                const float *krow = kt + k0 * headDim;  /* tile k0 / 16, rows of 16 keys */
                for (long d = 0; d < headDim; d++, krow += 16) {
                    tk_av8 k0v, k1v;
                    memcpy(&k0v, krow, sizeof(tk_av8));
                    memcpy(&k1v, krow + 8, sizeof(tk_av8));
                    for (int i = 0; i < AVX2_ROWS; i++) {
                        const float x = qr[i][d];
                        a[i][0] += x * k0v;
                        a[i][1] += x * k1v;
                    }
                }
                for (int i = 0; i < count; i++) {
                    const tk_av8 s0 = a[i][0] * scale, s1 = a[i][1] * scale;
                    memcpy(scores + (r + i) * paddedKeys + k0, &s0, sizeof(tk_av8));
                    memcpy(scores + (r + i) * paddedKeys + k0 + 8, &s1, sizeof(tk_av8));
                }
            }
        }
    }

    softmax_rows(scores, paddedKeys, rows, keyLength, mask, ldmask, sums);

    /* P V, 16 output columns at a time (paddedDim is a multiple of 16). */
    for (long kb = 0; kb < keyLength; kb += KEY_BLOCK) {
        const long kend = kb + KEY_BLOCK < keyLength ? kb + KEY_BLOCK : keyLength;
        for (long c = 0; c < paddedDim; c += 16) {
            for (long r = 0; r < rows; r += AVX2_ROWS) {
                const long count = rows - r < AVX2_ROWS ? rows - r : AVX2_ROWS;
                tk_av8 a[AVX2_ROWS][2];
                const float *p[AVX2_ROWS];
                for (int i = 0; i < AVX2_ROWS; i++) {
                    const long row = r + (i < count ? i : count - 1);
                    p[i] = scores + row * paddedKeys;
                    if (kb == 0) a[i][0] = a[i][1] = (tk_av8){0};
                    else {
                        memcpy(&a[i][0], acc + row * paddedDim + c, sizeof(tk_av8));
                        memcpy(&a[i][1], acc + row * paddedDim + c + 8, sizeof(tk_av8));
                    }
                }
                const float *vrow = vp + kb * paddedDim + c;
                for (long key = kb; key < kend; key++, vrow += paddedDim) {
                    tk_av8 v0, v1;
                    memcpy(&v0, vrow, sizeof(tk_av8));
                    memcpy(&v1, vrow + 8, sizeof(tk_av8));
                    for (int i = 0; i < AVX2_ROWS; i++) {
                        const float x = p[i][key];
                        a[i][0] += x * v0;
                        a[i][1] += x * v1;
                    }
                }
                for (int i = 0; i < count; i++) {
                    memcpy(acc + (r + i) * paddedDim + c, &a[i][0], sizeof(tk_av8));
                    memcpy(acc + (r + i) * paddedDim + c + 8, &a[i][1], sizeof(tk_av8));
                }
            }
        }
    }

    normalise_rows(acc, paddedDim, sums, rows, headDim, out, ldo);
}

#endif

static int attention_forced = -1;

int tk_attention_path_available(int path) {
    if (path == TK_ATTENTION_PATH_WIDE) return 1;
#if defined(__x86_64__) && defined(__clang__)
    if (path == TK_ATTENTION_PATH_AVX2) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
#endif
    return 0;
}

void tk_attention_path_force(int path) {
    __atomic_store_n(&attention_forced, tk_attention_path_available(path) ? path : -1, __ATOMIC_RELAXED);
}

int tk_attention_path_detected(void) {
#if defined(__x86_64__) && defined(__clang__)
    static int detected = -1;
    int path = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (path < 0) {
        __builtin_cpu_init();
        const int avx2 = !__builtin_cpu_supports("avx512f") && tk_attention_path_available(TK_ATTENTION_PATH_AVX2);
        path = avx2 ? TK_ATTENTION_PATH_AVX2 : TK_ATTENTION_PATH_WIDE;
        __atomic_store_n(&detected, path, __ATOMIC_RELAXED);
    }
    return path;
#else
    return TK_ATTENTION_PATH_WIDE;
#endif
}

int tk_attention_path(void) {
    const int forced = __atomic_load_n(&attention_forced, __ATOMIC_RELAXED);
    return forced >= 0 ? forced : tk_attention_path_detected();
}

void tk_attention_rows(const float *q, long ldq, const float *kt, const float *vp, long rows, long keyLength,
                       long headDim, float scale, const float *mask, long ldmask,
                       float *scores, float *acc, float *out, long ldo) {
#if defined(__x86_64__) && defined(__clang__)
    if (tk_attention_path() == TK_ATTENTION_PATH_AVX2) {
        attention_rows_avx2(q, ldq, kt, vp, rows, keyLength, headDim, scale, mask, ldmask, scores, acc, out, ldo);
        return;
    }
#endif
    attention_rows_wide(q, ldq, kt, vp, rows, keyLength, headDim, scale, mask, ldmask, scores, acc, out, ldo);
}
