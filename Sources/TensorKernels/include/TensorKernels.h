#ifndef DIFFUSIOND_TENSORKERNELS_H
#define DIFFUSIOND_TENSORKERNELS_H

/// Transcendental-heavy float32 loops (activations, softmax). Written in C so each one is compiled
/// for AVX-512, AVX2 and baseline x86-64 and picked at load time (target_clones): Swift has no
/// function multiversioning and the package must run on CPUs without AVX.
/// `in` and `out` may be the same pointer; otherwise they must not overlap.

void tk_sigmoid(const float *in, float *out, long n);
void tk_silu(const float *in, float *out, long n);
/// x * sigmoid(1.702 x)
void tk_quick_gelu(const float *in, float *out, long n);
/// 0.5 x (1 + erf(x / sqrt 2))
void tk_gelu(const float *in, float *out, long n);
/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
void tk_gelu_tanh(const float *in, float *out, long n);
/// out[i] = a[i] * gelu(b[i]) for i < n.
void tk_gelu_gate(const float *a, const float *b, float *out, long n);
/// In place: p = exp(p + mask - max(p + mask)), returning the sum (softmax without the final
/// division, which attention applies to its much shorter output rows instead). mask may be NULL.
float tk_softmax_exp_row(float *p, const float *mask, long n);
/// out = softmax(in + mask) over n values; mask may be NULL.
void tk_softmax_row(const float *in, const float *mask, float *out, long n);

/// Mean and biased variance of n floats, two-pass, accumulated in float lanes per block of 4096
/// and in double across blocks (a VAE GroupNorm group has ~10^6 elements).
void tk_moments(const float *p, long n, double *mean, double *variance);
/// out[i] = in[i] * scale + shift
void tk_scale_shift(const float *in, float *out, long n, float scale, float shift);
/// out[i] = silu(in[i] * scale + shift): GroupNorm's affine step fused with the SiLU that follows it
/// in every ResNet block.
void tk_scale_shift_silu(const float *in, float *out, long n, float scale, float shift);
/// One LayerNorm row: (x - mean) * rstd, then * gamma and + beta when non-NULL.
void tk_layer_norm_row(const float *in, float *out, long n, const float *gamma, const float *beta, float eps);

/// Winograd F(4x4, 3x3) convolution pieces (Winograd.c); xi = 6a + b indexes a transformed 6x6 tile.
/// Weights w [O][C][3][3] -> u[xi][o][c] (row stride O*C per xi), for output channels firstOut..<endOut.
void tk_wino43_weights(const float *w, long outChannels, long channels, long firstOut, long endOut, float *u);
/// Floats of scratch tk_wino43_input needs per call.
long tk_wino43_scratch_floats(long tilesX);
/// Input tiles of tile rows firstRow..<firstRow+rows (row r = image r / tilesY, tile row r % tilesY) of
/// x [N][C][H][W] with padding 1, channels firstChannel..<endChannel, into
/// v[xi * xiStride + c * ldv + (r - firstRow) * tilesX + tx].
void tk_wino43_input(const float *x, long channels, long height, long width, long tilesY, long tilesX,
                     long firstRow, long rows, long firstChannel, long endChannel,
                     float *v, long ldv, long xiStride, float *scratch);
/// Floats of scratch tk_wino43_output needs per call.
long tk_wino43_output_scratch_floats(long tilesX);
/// Inverse transform of m[xi * xiStride + o * ldm + (r - firstRow) * tilesX + tx] for output channels
/// firstOut..<endOut into out [N][O][H][W] (H, W = the output size; tiles past the edge are cut), plus bias[o]
/// when bias is not NULL.
void tk_wino43_output(const float *m, long ldm, long xiStride, long tilesY, long tilesX,
                      long firstRow, long rows, long firstOut, long endOut, long outChannels,
                      long height, long width, const float *bias, float *out, float *scratch);

/// The same four steps for Winograd F(2x2, 3x3) (xi = 4a + b indexes a transformed 4x4 tile; 2x2 outputs).
void tk_wino23_weights(const float *w, long outChannels, long channels, long firstOut, long endOut, float *u);
long tk_wino23_scratch_floats(long tilesX);
void tk_wino23_input(const float *x, long channels, long height, long width, long tilesY, long tilesX,
                     long firstRow, long rows, long firstChannel, long endChannel,
                     float *v, long ldv, long xiStride, float *scratch);
long tk_wino23_output_scratch_floats(long tilesX);
void tk_wino23_output(const float *m, long ldm, long xiStride, long tilesY, long tilesX,
                      long firstRow, long rows, long firstOut, long endOut, long outChannels,
                      long height, long width, const float *bias, float *out, float *scratch);

/// Blocked attention for one head (AttentionKernels.c). Limits of tk_attention_rows:
#define TK_ATTENTION_MAX_ROWS 64
#define TK_ATTENTION_MAX_HEAD_DIM 192
/// Key count rounded up to the kernel's key tile; head width rounded up to whole 16-float vectors.
long tk_attention_padded_keys(long keyLength);
long tk_attention_padded_dim(long headDim);
/// Packs one head's keys as kt (headDim x padded keys floats: K^T in tiles of the path in use's key width, each tile
/// [headDim][width], zero-padded) and values as vp [keyLength][padded dim] (zero-padded); k and v are [keyLength]
/// rows `ld` floats apart. Pack and tk_attention_rows must run on the same path.
void tk_attention_pack(const float *k, const float *v, long ld, long keyLength, long headDim, float *kt, float *vp);
/// out[r] = softmax(scale * q[r] . K^T + mask[r]) V for `rows` (<= TK_ATTENTION_MAX_ROWS) query rows `ldq`
/// apart, headDim <= TK_ATTENTION_MAX_HEAD_DIM; mask rows `ldmask` apart, or NULL. Scratch: `scores` holds
/// rows x padded keys floats, `acc` rows x padded dim. Output rows are `ldo` floats apart.
void tk_attention_rows(const float *q, long ldq, const float *kt, const float *vp, long rows, long keyLength,
                       long headDim, float scale, const float *mask, long ldmask,
                       float *scores, float *acc, float *out, long ldo);
/// tk_attention_rows' code paths: 16-lane tiles (AVX-512, or split over AVX2/SSE registers), and 8-lane tiles sized
/// for AVX2's 16 registers with FMA (picked on AVX2 CPUs without AVX-512).
enum { TK_ATTENTION_PATH_WIDE = 0, TK_ATTENTION_PATH_AVX2 = 1 };
/// The path in use: the detected one, or one forced by `tk_attention_path_force`.
int tk_attention_path(void);
int tk_attention_path_detected(void);
/// Whether this CPU can run `path`; forcing one it cannot (or -1) restores the detected path (tests).
int tk_attention_path_available(int path);
void tk_attention_path_force(int path);

/// Hands the C heap's free memory back to the system (glibc's malloc_trim; a no-op elsewhere).
void tk_release_free_heap(void);

/// 16-bit weight formats (`tk_widen_block`'s `format`) and the conversion code paths (`tk_half_isa`).
enum { TK_FORMAT_F16 = 1, TK_FORMAT_BF16 = 2 };
enum { TK_HALF_ISA_SCALAR = 0, TK_HALF_ISA_F16C = 1, TK_HALF_ISA_AVX512 = 2 };
/// The best binary16 conversion path this CPU (and OS) supports.
int tk_half_isa_detected(void);
/// The path in use: the detected one, or a lower one forced by `tk_half_isa_force` (tests; -1 = detected).
int tk_half_isa(void);
void tk_half_isa_force(int isa);
/// binary16 -> float32 (exact) and float32 -> binary16 (round to nearest even).
void tk_f16_widen(const unsigned short *src, long n, float *dst);
void tk_f16_narrow(const float *src, long n, unsigned short *dst);
/// Narrows while every value round-trips bit for bit; returns n, or the index of the first value that does not.
long tk_f16_narrow_exact(const float *src, long n, unsigned short *dst);
/// bfloat16 -> float32 (exact) and float32 -> bfloat16 (round to nearest even, NaN kept quiet).
void tk_bf16_widen(const unsigned short *src, long n, float *dst);
void tk_bf16_narrow(const float *src, long n, unsigned short *dst);
long tk_bf16_narrow_exact(const float *src, long n, unsigned short *dst);
/// Widens a rows x columns block of 16-bit values (rows `sourceStride` elements apart) into float32 rows
/// `destinationStride` floats apart.
void tk_widen_block(const void *src, int format, long rows, long columns, long sourceStride, float *dst, long destinationStride);


/// bf16 compute (BF16Gemm.c): C[i][j] (row stride ldc) = sum_p A[i][p] * W[j][p], A [m][k] and W [n][k] bf16 (row
/// strides lda, ldw), accumulated in fp32. Paths: scalar (always), AVX512_BF16 (VDPBF16PS); no AMX tile kernel yet.
enum { TK_BF16_ISA_SCALAR = 0, TK_BF16_ISA_AVX512BF16 = 1, TK_BF16_ISA_AMX = 2 };
/// The path for a CPU with these flags (pure, so tests can inject any CPU; never a path the flags lack).
int tk_bf16_isa_choose(int avx512bf16, int amx_bf16_granted);
/// The path in use: the one this CPU supports (`__builtin_cpu_supports`, run time), or a lower one set by
/// `tk_bf16_isa_set` (tests, a caller's own detection; -1 returns to the detected one).
int tk_bf16_isa(void);
void tk_bf16_isa_set(int isa);
void tk_bf16_gemm_nt(const unsigned short *a, long lda, const unsigned short *w, long ldw, float *c, long ldc,
                     long m, long n, long k);

#endif
