#ifndef VIPS_SHIM_H
#define VIPS_SHIM_H
// Fixed-signature wrappers around libvips' variadic API: Swift cannot call C variadic functions.
// Every function returns 0 on success and -1 on failure (the message is in the vips error buffer:
// read it with vshim_error_take() right after the failing call).
#include <vips/vips.h>
#include <stddef.h>

int vshim_init(const char *argv0);
/// Concurrency of vips' worker pool, operation-cache limits, and refusal of untrusted loaders.
void vshim_configure(int threads, int cache_max_ops, size_t cache_max_mem, int cache_max_files);
/// Copies and clears the process-global error buffer under one lock. The caller frees with g_free.
char *vshim_error_take(void);

/// Bytes the zlib stream `data` inflates to, counted up to `cap` (cap + 1 when it would inflate to more); a
/// damaged stream counts what it inflated before the damage. For bounding PNG metadata before libpng inflates it.
long long vshim_inflated_size(const unsigned char *data, size_t size, long long cap);

// Loading: header only (lazy); pixels are decoded when the image is computed.
int vshim_new_from_source(VipsSource *source, int fail_on, int sequential, VipsImage **out);
const char *vshim_find_load_source(VipsSource *source);

// Saving through a target (the caller owns the descriptor, so temp-file + fsync + rename stays ours).
int vshim_write_to_target(VipsImage *in, const char *suffix, VipsTarget *target);
int vshim_write_to_buffer(VipsImage *in, const char *suffix, void **buf, size_t *len);

// Geometry and resampling.
int vshim_resize(VipsImage *in, VipsImage **out, double hscale, double vscale, int kernel);
int vshim_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height, int extend);
int vshim_embed_background(VipsImage *in, VipsImage **out, int x, int y, int width, int height,
                           const double *background, int n);
int vshim_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
int vshim_insert(VipsImage *main, VipsImage *sub, VipsImage **out, int x, int y);
int vshim_flip(VipsImage *in, VipsImage **out, int horizontal);
/// Rotates upright by the EXIF orientation tag and removes the tag.
int vshim_autorot(VipsImage *in, VipsImage **out);

// Pixel format and bands.
int vshim_cast(VipsImage *in, VipsImage **out, int format);
int vshim_round_rint(VipsImage *in, VipsImage **out);
int vshim_premultiply(VipsImage *in, VipsImage **out, double max_alpha);
int vshim_unpremultiply(VipsImage *in, VipsImage **out, double max_alpha);
int vshim_extract_band(VipsImage *in, VipsImage **out, int band, int n);
int vshim_bandjoin2(VipsImage *a, VipsImage *b, VipsImage **out);
int vshim_colourspace(VipsImage *in, VipsImage **out, int space);
int vshim_copy(VipsImage *in, VipsImage **out);
int vshim_copy_interpretation(VipsImage *in, VipsImage **out, int interpretation);
/// Reinterprets the same bytes with another sample format and band count (e.g. raw uchar as ushort).
int vshim_copy_format(int format, int bands, int interpretation, VipsImage *in, VipsImage **out);

// Arithmetic.
int vshim_linear1(VipsImage *in, VipsImage **out, double a, double b, int uchar_out);
int vshim_add(VipsImage *a, VipsImage *b, VipsImage **out);
int vshim_subtract(VipsImage *a, VipsImage *b, VipsImage **out);
int vshim_multiply(VipsImage *a, VipsImage *b, VipsImage **out);
int vshim_divide(VipsImage *a, VipsImage *b, VipsImage **out);
int vshim_invert(VipsImage *in, VipsImage **out);
int vshim_relational_const1(VipsImage *in, VipsImage **out, int op, double c);
int vshim_ifthenelse(VipsImage *cond, VipsImage *in1, VipsImage *in2, VipsImage **out);
int vshim_max_value(VipsImage *in, double *out);
/// Mean of every sample over all bands.
int vshim_avg(VipsImage *in, double *out);
int vshim_min_value(VipsImage *in, double *out);

// Neighbourhood operations.
int vshim_conv_float(VipsImage *in, VipsImage **out, VipsImage *mask);
int vshim_morph(VipsImage *in, VipsImage **out, VipsImage *mask, int dilate);
int vshim_gaussnoise(VipsImage **out, int width, int height, double mean, double sigma, int seed);

int vshim_rank(VipsImage *in, VipsImage **out, int width, int height, int index);
/// Per-pixel rank across n images (index n-1: the maximum, 0: the minimum).
int vshim_bandrank(VipsImage **in, int n, VipsImage **out, int index);
int vshim_recomb(VipsImage *in, VipsImage **out, VipsImage *matrix);
/// mode: 0 rint (half to even), 1 ceil, 2 floor.
int vshim_round(VipsImage *in, VipsImage **out, int mode);
int vshim_bandjoin(VipsImage **in, int n, VipsImage **out);
int vshim_composite2_over(VipsImage *base, VipsImage *overlay, VipsImage **out, int premultiplied);


#endif
