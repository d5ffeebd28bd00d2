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
/// One LayerNorm row: (x - mean) * rstd, then * gamma and + beta when non-NULL.
void tk_layer_norm_row(const float *in, float *out, long n, const float *gamma, const float *beta, float eps);

#endif
