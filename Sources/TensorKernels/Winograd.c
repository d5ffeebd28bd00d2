#include "TensorKernels.h"

#include <string.h>

/* Winograd F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015)
 * with interpolation points 0, +-1, +-2 and infinity: a 4x4 block of a 3x3 convolution costs 36
 * multiplies per (input, output) channel pair instead of 144. The transforms are additions and small
 * power-of-two multiples, so they are cheap next to the 36 GEMMs that do the multiplies.
 *
 * Layouts (xi = 6 * a + b indexes the 6x6 transformed tile):
 *   weights u[xi][o][c], inputs v[xi][c][t], products m[xi][o][t], t = tile index in a chunk.
 * Every transform runs over a whole row of tiles at once with the tile index innermost, so the loops
 * are unit-stride and vectorise. */

#include "Multiversion.h"

/* o_k[i] = (B^T d)_k for six values d0..d5 (the input transform of F(4x4), along one axis). */
#define TK_BT6(o0, o1, o2, o3, o4, o5, i, d0, d1, d2, d3, d4, d5) \
    do {                                                          \
        o0[i] = 4.0f * (d0) - 5.0f * (d2) + (d4);                 \
        o1[i] = -4.0f * ((d1) + (d2)) + (d3) + (d4);              \
        o2[i] = 4.0f * ((d1) - (d2)) - (d3) + (d4);               \
        o3[i] = -2.0f * ((d1) - (d3)) - (d2) + (d4);              \
        o4[i] = 2.0f * ((d1) - (d3)) - (d2) + (d4);               \
        o5[i] = 4.0f * (d1) - 5.0f * (d3) + (d5);                 \
    } while (0)

/* o_k[i] = (G g)_k for three taps g0..g2 (the weight transform of F(4x4), along one axis). */
#define TK_G6(o0, o1, o2, o3, o4, o5, i, g0, g1, g2)                         \
    do {                                                                     \
        const float tk_even = (g0) + (g2);                                   \
        const float tk_quarter = (g0) * (1.0f / 24.0f) + (g2) * (1.0f / 6.0f); \
        o0[i] = (g0) * 0.25f;                                                \
        o1[i] = -(tk_even + (g1)) * (1.0f / 6.0f);                           \
        o2[i] = -(tk_even - (g1)) * (1.0f / 6.0f);                           \
        o3[i] = tk_quarter + (g1) * (1.0f / 12.0f);                          \
        o4[i] = tk_quarter - (g1) * (1.0f / 12.0f);                          \
        o5[i] = (g2);                                                        \
    } while (0)

/* The same two transforms of F(2x2): B^T d for four values, G g for three taps. */
#define TK_BT4(o0, o1, o2, o3, i, d0, d1, d2, d3) \
    do {                                          \
        o0[i] = (d0) - (d2);                      \
        o1[i] = (d1) + (d2);                      \
        o2[i] = (d2) - (d1);                      \
        o3[i] = (d1) - (d3);                      \
    } while (0)

#define TK_G4(o0, o1, o2, o3, i, g0, g1, g2)   \
    do {                                       \
        o0[i] = (g0);                          \
        o1[i] = ((g0) + (g1) + (g2)) * 0.5f;   \
        o2[i] = ((g0) - (g1) + (g2)) * 0.5f;   \
        o3[i] = (g2);                          \
    } while (0)

/* Weights are transformed in blocks of channels: the block's 3x3 taps are first gathered into nine
 * contiguous rows, so every later loop is unit-stride over channels and vectorises (the direct form,
 * reading taps 9 floats apart and scattering 36 single floats per channel, ran at ~1 GB/s and took a
 * tenth of a UNet step). */
#define TK_WINO_BLOCK 64

/* g[k][c] = tap k of channel c's 3x3 kernel, for n <= TK_WINO_BLOCK consecutive channels. */
static inline void tk_wino_gather_taps(const float *filters, long n, float g[9][TK_WINO_BLOCK]) {
    for (long c = 0; c < n; c++)
        for (int k = 0; k < 9; k++) g[k][c] = filters[c * 9 + k];
}

MULTIVERSION
void tk_wino43_weights(const float *w, long outChannels, long channels, long firstOut, long endOut, float *u) {
    const long oc = outChannels * channels;
    float g[9][TK_WINO_BLOCK], t[6][3][TK_WINO_BLOCK];
    for (long o = firstOut; o < endOut; o++) {
        for (long c0 = 0; c0 < channels; c0 += TK_WINO_BLOCK) {
            const long n = channels - c0 < TK_WINO_BLOCK ? channels - c0 : TK_WINO_BLOCK;
            tk_wino_gather_taps(w + (o * channels + c0) * 9, n, g);
            for (int j = 0; j < 3; j++) {
                const float *g0 = g[j], *g1 = g[3 + j], *g2 = g[6 + j];
                for (long c = 0; c < n; c++)
                    TK_G6(t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j], c, g0[c], g1[c], g2[c]);
            }
            float *target = u + o * channels + c0;
            for (int a = 0; a < 6; a++) {
                const float *g0 = t[a][0], *g1 = t[a][1], *g2 = t[a][2];
                float *restrict r0 = target + (a * 6 + 0) * oc, *restrict r1 = target + (a * 6 + 1) * oc;
                float *restrict r2 = target + (a * 6 + 2) * oc, *restrict r3 = target + (a * 6 + 3) * oc;
                float *restrict r4 = target + (a * 6 + 4) * oc, *restrict r5 = target + (a * 6 + 5) * oc;
                for (long c = 0; c < n; c++) TK_G6(r0, r1, r2, r3, r4, r5, c, g0[c], g1[c], g2[c]);
            }
        }
    }
}

/* Loads row y of the plane into padded[0 .. paddedWidth) with the zero border: only the border
 * elements are cleared (clearing whole rows was a tenth of an upscaler's time). */
static inline void tk_wino_padded_row(const float *plane, long y, long height, long width, long paddedWidth,
                                      float *padded) {
    if (y < 0 || y >= height) {
        memset(padded, 0, sizeof(float) * paddedWidth);
        return;
    }
    padded[0] = 0.0f;
    memcpy(padded + 1, plane + y * width, sizeof(float) * width);
    for (long x = width + 1; x < paddedWidth; x++) padded[x] = 0.0f;
}

/* The row's tiles start every 4 values and span 6: split the padded row into its four phases
 * (phase[k][tx] = padded[4 tx + k], one extra element each) so the transform reads only unit-stride. */
long tk_wino43_scratch_floats(long tilesX) { return (4 * tilesX + 8) + 4 * (tilesX + 1) + 36 * tilesX; }

MULTIVERSION
void tk_wino43_input(const float *x, long channels, long height, long width, long tilesY, long tilesX,
                     long firstRow, long rows, long firstChannel, long endChannel,
                     float *v, long ldv, long xiStride, float *scratch) {
    const long paddedWidth = 4 * tilesX + 8; /* room for phase arrays of tilesX + 1 */
    float *padded = scratch;
    float *phase = padded + paddedWidth;               /* 4 x (tilesX + 1) */
    float *h = phase + 4 * (tilesX + 1);               /* h[i][b][tx] */
    for (long c = firstChannel; c < endChannel; c++) {
        for (long row = firstRow; row < firstRow + rows; row++) {
            const long n = row / tilesY, ty = row % tilesY;
            const float *plane = x + (n * channels + c) * height * width;
            for (int i = 0; i < 6; i++) {
                tk_wino_padded_row(plane, ty * 4 - 1 + i, height, width, paddedWidth, padded);
                float *p0 = phase, *p1 = phase + (tilesX + 1), *p2 = phase + 2 * (tilesX + 1), *p3 = phase + 3 * (tilesX + 1);
                for (long tx = 0; tx <= tilesX; tx++) {
                    p0[tx] = padded[4 * tx];
                    p1[tx] = padded[4 * tx + 1];
                    p2[tx] = padded[4 * tx + 2];
                    p3[tx] = padded[4 * tx + 3];
                }
                float *hi = h + i * 6 * tilesX;
                float *h0 = hi, *h1 = hi + tilesX, *h2 = hi + 2 * tilesX, *h3 = hi + 3 * tilesX, *h4 = hi + 4 * tilesX, *h5 = hi + 5 * tilesX;
                for (long tx = 0; tx < tilesX; tx++) {
                    const float d0 = p0[tx], d1 = p1[tx], d2 = p2[tx], d3 = p3[tx], d4 = p0[tx + 1], d5 = p1[tx + 1];
                    TK_BT6(h0, h1, h2, h3, h4, h5, tx, d0, d1, d2, d3, d4, d5);
                }
            }
            float *target = v + c * ldv + (row - firstRow) * tilesX;
            for (int b = 0; b < 6; b++) {
                const float *h0 = h + (0 * 6 + b) * tilesX, *h1 = h + (1 * 6 + b) * tilesX;
                const float *h2 = h + (2 * 6 + b) * tilesX, *h3 = h + (3 * 6 + b) * tilesX;
                const float *h4 = h + (4 * 6 + b) * tilesX, *h5 = h + (5 * 6 + b) * tilesX;
                float *v0 = target + (0 * 6 + b) * xiStride, *v1 = target + (1 * 6 + b) * xiStride;
                float *v2 = target + (2 * 6 + b) * xiStride, *v3 = target + (3 * 6 + b) * xiStride;
                float *v4 = target + (4 * 6 + b) * xiStride, *v5 = target + (5 * 6 + b) * xiStride;
                for (long tx = 0; tx < tilesX; tx++) {
                    TK_BT6(v0, v1, v2, v3, v4, v5, tx, h0[tx], h1[tx], h2[tx], h3[tx], h4[tx], h5[tx]);
                }
            }
        }
    }
}

MULTIVERSION
void tk_wino43_output(const float *m, long ldm, long xiStride, long tilesY, long tilesX,
                      long firstRow, long rows, long firstOut, long endOut, long outChannels,
                      long height, long width, const float *bias, float *out, float *scratch) {
    float *s = scratch;                   /* s[a][j][tx]: row a of the product after A^T on the right */
    float *ys = scratch + 24 * tilesX;    /* y[i][tx] for one column j */
    float *line = ys + 4 * tilesX;        /* the tile row's four output rows, 4 * tilesX wide each */
    const long copyWidth = width < 4 * tilesX ? width : 4 * tilesX;
    for (long o = firstOut; o < endOut; o++) {
        const float shift = bias ? bias[o] : 0.0f;
        for (long row = firstRow; row < firstRow + rows; row++) {
            const long n = row / tilesY, ty = row % tilesY;
            const float *source = m + o * ldm + (row - firstRow) * tilesX;
            for (int a = 0; a < 6; a++) {
                const float *m0 = source + (a * 6 + 0) * xiStride, *m1 = source + (a * 6 + 1) * xiStride;
                const float *m2 = source + (a * 6 + 2) * xiStride, *m3 = source + (a * 6 + 3) * xiStride;
                const float *m4 = source + (a * 6 + 4) * xiStride, *m5 = source + (a * 6 + 5) * xiStride;
                float *s0 = s + (a * 4 + 0) * tilesX, *s1 = s + (a * 4 + 1) * tilesX;
                float *s2 = s + (a * 4 + 2) * tilesX, *s3 = s + (a * 4 + 3) * tilesX;
                for (long tx = 0; tx < tilesX; tx++) {
                    const float d1 = m1[tx], d2 = m2[tx], d3 = m3[tx], d4 = m4[tx];
                    const float sum12 = d1 + d2, diff12 = d1 - d2, sum34 = d3 + d4, diff34 = d3 - d4;
                    s0[tx] = m0[tx] + sum12 + sum34;
                    s1[tx] = diff12 + 2.0f * diff34;
                    s2[tx] = sum12 + 4.0f * sum34;
                    s3[tx] = diff12 + 8.0f * diff34 + m5[tx];
                }
            }
            float *plane = out + (n * outChannels + o) * height * width;
            /* y[i][j] = A^T over a of s[a][j], computed as four output rows; each row's four columns
             * per tile are interleaved into `line` and copied out. */
            for (int j = 0; j < 4; j++) {
                const float *t0 = s + (0 * 4 + j) * tilesX, *t1 = s + (1 * 4 + j) * tilesX;
                const float *t2 = s + (2 * 4 + j) * tilesX, *t3 = s + (3 * 4 + j) * tilesX;
                const float *t4 = s + (4 * 4 + j) * tilesX, *t5 = s + (5 * 4 + j) * tilesX;
                float *y0 = ys, *y1 = ys + tilesX, *y2 = ys + 2 * tilesX, *y3 = ys + 3 * tilesX;
                for (long tx = 0; tx < tilesX; tx++) {
                    const float sum12 = t1[tx] + t2[tx], diff12 = t1[tx] - t2[tx];
                    const float sum34 = t3[tx] + t4[tx], diff34 = t3[tx] - t4[tx];
                    y0[tx] = t0[tx] + sum12 + sum34 + shift;
                    y1[tx] = diff12 + 2.0f * diff34 + shift;
                    y2[tx] = sum12 + 4.0f * sum34 + shift;
                    y3[tx] = diff12 + 8.0f * diff34 + t5[tx] + shift;
                }
                for (int i = 0; i < 4; i++) {
                    const float *yi = ys + i * tilesX;
                    float *li = line + i * 4 * tilesX;
                    for (long tx = 0; tx < tilesX; tx++) li[4 * tx + j] = yi[tx];
                }
            }
            for (int i = 0; i < 4; i++) {
                const long y = ty * 4 + i;
                if (y >= height) break;
                memcpy(plane + y * width, line + i * 4 * tilesX, sizeof(float) * copyWidth);
            }
        }
    }
}

long tk_wino43_output_scratch_floats(long tilesX) { return 24 * tilesX + 4 * tilesX + 16 * tilesX; }

/* Winograd F(2x2, 3x3), points 0, +-1, infinity: 16 multiplies per channel pair for a 2x2 block
 * instead of 36. Less saving than F(4x4, 3x3), but its tiles are 2x2, so a 16x16 plane still makes
 * enough of them for full-width GEMMs, and its transformed weights are 16/9 of the originals, not 4x.
 * Same layouts as above with xi = 4 * a + b. */

MULTIVERSION
void tk_wino23_weights(const float *w, long outChannels, long channels, long firstOut, long endOut, float *u) {
    const long oc = outChannels * channels;
    float g[9][TK_WINO_BLOCK], t[4][3][TK_WINO_BLOCK];
    for (long o = firstOut; o < endOut; o++) {
        for (long c0 = 0; c0 < channels; c0 += TK_WINO_BLOCK) {
            const long n = channels - c0 < TK_WINO_BLOCK ? channels - c0 : TK_WINO_BLOCK;
            tk_wino_gather_taps(w + (o * channels + c0) * 9, n, g);
            for (int j = 0; j < 3; j++) {
                const float *g0 = g[j], *g1 = g[3 + j], *g2 = g[6 + j];
                for (long c = 0; c < n; c++) TK_G4(t[0][j], t[1][j], t[2][j], t[3][j], c, g0[c], g1[c], g2[c]);
            }
            float *target = u + o * channels + c0;
            for (int a = 0; a < 4; a++) {
                const float *g0 = t[a][0], *g1 = t[a][1], *g2 = t[a][2];
                float *restrict r0 = target + (a * 4 + 0) * oc, *restrict r1 = target + (a * 4 + 1) * oc;
                float *restrict r2 = target + (a * 4 + 2) * oc, *restrict r3 = target + (a * 4 + 3) * oc;
                for (long c = 0; c < n; c++) TK_G4(r0, r1, r2, r3, c, g0[c], g1[c], g2[c]);
            }
        }
    }
}

long tk_wino23_scratch_floats(long tilesX) { return (2 * tilesX + 2) + 16 * tilesX; }

MULTIVERSION
void tk_wino23_input(const float *x, long channels, long height, long width, long tilesY, long tilesX,
                     long firstRow, long rows, long firstChannel, long endChannel,
                     float *v, long ldv, long xiStride, float *scratch) {
    const long paddedWidth = 2 * tilesX + 2;
    float *padded = scratch;
    float *h = scratch + paddedWidth; /* h[i][b][tx] */
    for (long c = firstChannel; c < endChannel; c++) {
        for (long row = firstRow; row < firstRow + rows; row++) {
            const long n = row / tilesY, ty = row % tilesY;
            const float *plane = x + (n * channels + c) * height * width;
            for (int i = 0; i < 4; i++) {
                tk_wino_padded_row(plane, ty * 2 - 1 + i, height, width, paddedWidth, padded);
                float *h0 = h + (i * 4 + 0) * tilesX, *h1 = h + (i * 4 + 1) * tilesX;
                float *h2 = h + (i * 4 + 2) * tilesX, *h3 = h + (i * 4 + 3) * tilesX;
                for (long tx = 0; tx < tilesX; tx++) {
                    const float *d = padded + 2 * tx;
                    TK_BT4(h0, h1, h2, h3, tx, d[0], d[1], d[2], d[3]);
                }
            }
            float *target = v + c * ldv + (row - firstRow) * tilesX;
            for (int b = 0; b < 4; b++) {
                const float *d0 = h + (0 * 4 + b) * tilesX, *d1 = h + (1 * 4 + b) * tilesX;
                const float *d2 = h + (2 * 4 + b) * tilesX, *d3 = h + (3 * 4 + b) * tilesX;
                float *v0 = target + (0 * 4 + b) * xiStride, *v1 = target + (1 * 4 + b) * xiStride;
                float *v2 = target + (2 * 4 + b) * xiStride, *v3 = target + (3 * 4 + b) * xiStride;
                for (long tx = 0; tx < tilesX; tx++) TK_BT4(v0, v1, v2, v3, tx, d0[tx], d1[tx], d2[tx], d3[tx]);
            }
        }
    }
}

long tk_wino23_output_scratch_floats(long tilesX) { return 8 * tilesX + 2 * tilesX; }

MULTIVERSION
void tk_wino23_output(const float *m, long ldm, long xiStride, long tilesY, long tilesX,
                      long firstRow, long rows, long firstOut, long endOut, long outChannels,
                      long height, long width, const float *bias, float *out, float *scratch) {
    float *s = scratch;                  /* s[a][j][tx] */
    float *line = scratch + 8 * tilesX;  /* 2 * tilesX wide */
    const long copyWidth = width < 2 * tilesX ? width : 2 * tilesX;
    for (long o = firstOut; o < endOut; o++) {
        const float shift = bias ? bias[o] : 0.0f;
        for (long row = firstRow; row < firstRow + rows; row++) {
            const long n = row / tilesY, ty = row % tilesY;
            const float *source = m + o * ldm + (row - firstRow) * tilesX;
            for (int a = 0; a < 4; a++) {
                const float *m0 = source + (a * 4 + 0) * xiStride, *m1 = source + (a * 4 + 1) * xiStride;
                const float *m2 = source + (a * 4 + 2) * xiStride, *m3 = source + (a * 4 + 3) * xiStride;
                float *s0 = s + (a * 2 + 0) * tilesX, *s1 = s + (a * 2 + 1) * tilesX;
                for (long tx = 0; tx < tilesX; tx++) {
                    s0[tx] = m0[tx] + m1[tx] + m2[tx];
                    s1[tx] = m1[tx] - m2[tx] - m3[tx];
                }
            }
            float *plane = out + (n * outChannels + o) * height * width;
            for (int i = 0; i < 2; i++) {
                const long y = ty * 2 + i;
                if (y >= height) break;
                for (int j = 0; j < 2; j++) {
                    const float *t0 = s + (0 * 2 + j) * tilesX, *t1 = s + (1 * 2 + j) * tilesX;
                    const float *t2 = s + (2 * 2 + j) * tilesX, *t3 = s + (3 * 2 + j) * tilesX;
                    if (i == 0) {
                        for (long tx = 0; tx < tilesX; tx++) line[2 * tx + j] = t0[tx] + t1[tx] + t2[tx] + shift;
                    } else {
                        for (long tx = 0; tx < tilesX; tx++) line[2 * tx + j] = t1[tx] - t2[tx] - t3[tx] + shift;
                    }
                }
                memcpy(plane + y * width, line, sizeof(float) * copyWidth);
            }
        }
    }
}
