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

void tk_attention_pack(const float *k, const float *v, long ld, long keyLength, long headDim,
                       float *kt, float *vp) {
    const long paddedKeys = tk_attention_padded_keys(keyLength), paddedDim = tk_attention_padded_dim(headDim);
    for (long d = 0; d < headDim; d++) {
        float *row = kt + d * paddedKeys;
        for (long j = 0; j < keyLength; j++) row[j] = k[j * ld + d];
        for (long j = keyLength; j < paddedKeys; j++) row[j] = 0.0f;
    }
    for (long j = 0; j < keyLength; j++) {
        memcpy(vp + j * paddedDim, v + j * ld, sizeof(float) * headDim);
        for (long d = headDim; d < paddedDim; d++) vp[j * paddedDim + d] = 0.0f;
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
void tk_attention_rows(const float *q, long ldq, const float *kt, const float *vp, long rows, long keyLength,
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
                for (long d = 0; d < headDim; d++) {
                    tk_av16 kv[4];
                    const float *krow = kt + d * paddedKeys + k0;
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

    /* Unnormalised softmax per row; the division is applied to the short output rows. */
    for (long r = 0; r < rows; r++)
        sums[r] = tk_softmax_exp_row(scores + r * paddedKeys, mask ? mask + r * ldmask : 0, keyLength);

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

    for (long r = 0; r < rows; r++) {
        const float inverse = 1.0f / sums[r];
        const float *source = acc + r * paddedDim;
        float *target = out + r * ldo;
        for (long d = 0; d < headDim; d++) target[d] = source[d] * inverse;
    }
}
