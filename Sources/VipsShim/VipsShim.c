#define _GNU_SOURCE
#include "VipsShim.h"

#include <zlib.h>
#include <pthread.h>
#include <stdio.h>
#include <fcntl.h>
#include <errno.h>
#include <unistd.h>

int vshim_init(const char *argv0) { return VIPS_INIT(argv0); }

/* libvips also prints every warning to stderr ("error in tile ..."); the daemon reports the error itself,
   so the duplicate lines are dropped. */
static void vshim_drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void) domain; (void) level; (void) message; (void) data;
}

void vshim_configure(int threads, int cache_max_ops, size_t cache_max_mem, int cache_max_files) {
    vips_concurrency_set(threads);
    vips_cache_set_max(cache_max_ops);
    vips_cache_set_max_mem(cache_max_mem);
    vips_cache_set_max_files(cache_max_files);
    // Loaders libvips itself marks untrusted (e.g. ImageMagick, matio) never see socket input.
    vips_block_untrusted_set(TRUE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, vshim_drop_log, NULL);
}

static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

char *vshim_error_take(void) {
    pthread_mutex_lock(&error_lock);
    char *copy = g_strdup(vips_error_buffer());
    vips_error_clear();
    pthread_mutex_unlock(&error_lock);
    return copy;
}

int vshim_new_from_source(VipsSource *source, int fail_on, int sequential, VipsImage **out) {
    VipsImage *image = vips_image_new_from_source(source, "",
        "access", sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM,
        "fail_on", (VipsFailOn) fail_on, NULL);
    if (!image) return -1;
    *out = image;
    return 0;
}

const char *vshim_find_load_source(VipsSource *source) { return vips_foreign_find_load_source(source); }

int vshim_write_to_target(VipsImage *in, const char *suffix, VipsTarget *target) {
    return vips_image_write_to_target(in, suffix, target, NULL);
}

int vshim_write_to_buffer(VipsImage *in, const char *suffix, void **buf, size_t *len) {
    return vips_image_write_to_buffer(in, suffix, buf, len, NULL);
}

int vshim_resize(VipsImage *in, VipsImage **out, double hscale, double vscale, int kernel) {
    return vips_resize(in, out, hscale, "vscale", vscale, "kernel", (VipsKernel) kernel, NULL);
}

int vshim_embed(VipsImage *in, VipsImage **out, int x, int y, int width, int height, int extend) {
    return vips_embed(in, out, x, y, width, height, "extend", (VipsExtend) extend, NULL);
}

int vshim_embed_background(VipsImage *in, VipsImage **out, int x, int y, int width, int height,
                           const double *background, int n) {
    VipsArrayDouble *bg = vips_array_double_new(background, n);
    int r = vips_embed(in, out, x, y, width, height, "extend", VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
    vips_area_unref(VIPS_AREA(bg));
    return r;
}

int vshim_extract_area(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_extract_area(in, out, left, top, width, height, NULL);
}

int vshim_insert(VipsImage *main, VipsImage *sub, VipsImage **out, int x, int y) {
    return vips_insert(main, sub, out, x, y, NULL);
}

int vshim_flip(VipsImage *in, VipsImage **out, int horizontal) {
    return vips_flip(in, out, horizontal ? VIPS_DIRECTION_HORIZONTAL : VIPS_DIRECTION_VERTICAL, NULL);
}

int vshim_autorot(VipsImage *in, VipsImage **out) { return vips_autorot(in, out, NULL); }

int vshim_cast(VipsImage *in, VipsImage **out, int format) {
    return vips_cast(in, out, (VipsBandFormat) format, NULL);
}

int vshim_round_rint(VipsImage *in, VipsImage **out) {
    return vips_round(in, out, VIPS_OPERATION_ROUND_RINT, NULL);
}

int vshim_premultiply(VipsImage *in, VipsImage **out, double max_alpha) {
    return vips_premultiply(in, out, "max_alpha", max_alpha, NULL);
}

int vshim_unpremultiply(VipsImage *in, VipsImage **out, double max_alpha) {
    return vips_unpremultiply(in, out, "max_alpha", max_alpha, NULL);
}

int vshim_extract_band(VipsImage *in, VipsImage **out, int band, int n) {
    return vips_extract_band(in, out, band, "n", n, NULL);
}

int vshim_bandjoin2(VipsImage *a, VipsImage *b, VipsImage **out) {
    return vips_bandjoin2(a, b, out, NULL);
}

int vshim_colourspace(VipsImage *in, VipsImage **out, int space) {
    return vips_colourspace(in, out, (VipsInterpretation) space, NULL);
}

int vshim_copy(VipsImage *in, VipsImage **out) { return vips_copy(in, out, NULL); }

int vshim_copy_interpretation(VipsImage *in, VipsImage **out, int interpretation) {
    return vips_copy(in, out, "interpretation", (VipsInterpretation) interpretation, NULL);
}

int vshim_copy_format(int format, int bands, int interpretation, VipsImage *in, VipsImage **out) {
    return vips_copy(in, out, "format", (VipsBandFormat) format, "bands", bands,
                     "interpretation", (VipsInterpretation) interpretation, NULL);
}

int vshim_linear1(VipsImage *in, VipsImage **out, double a, double b, int uchar_out) {
    return vips_linear1(in, out, a, b, "uchar", uchar_out, NULL);
}

int vshim_add(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_add(a, b, out, NULL); }
int vshim_subtract(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_subtract(a, b, out, NULL); }
int vshim_multiply(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_multiply(a, b, out, NULL); }
int vshim_divide(VipsImage *a, VipsImage *b, VipsImage **out) { return vips_divide(a, b, out, NULL); }
int vshim_invert(VipsImage *in, VipsImage **out) { return vips_invert(in, out, NULL); }

int vshim_relational_const1(VipsImage *in, VipsImage **out, int op, double c) {
    return vips_relational_const1(in, out, (VipsOperationRelational) op, c, NULL);
}

int vshim_ifthenelse(VipsImage *cond, VipsImage *in1, VipsImage *in2, VipsImage **out) {
    return vips_ifthenelse(cond, in1, in2, out, NULL);
}

int vshim_max_value(VipsImage *in, double *out) { return vips_max(in, out, NULL); }
int vshim_min_value(VipsImage *in, double *out) { return vips_min(in, out, NULL); }
int vshim_avg(VipsImage *in, double *out) { return vips_avg(in, out, NULL); }

int vshim_conv_float(VipsImage *in, VipsImage **out, VipsImage *mask) {
    return vips_conv(in, out, mask, "precision", VIPS_PRECISION_FLOAT, NULL);
}

int vshim_morph(VipsImage *in, VipsImage **out, VipsImage *mask, int dilate) {
    return vips_morph(in, out, mask, dilate ? VIPS_OPERATION_MORPHOLOGY_DILATE : VIPS_OPERATION_MORPHOLOGY_ERODE, NULL);
}

int vshim_gaussnoise(VipsImage **out, int width, int height, double mean, double sigma, int seed) {
    return vips_gaussnoise(out, width, height, "mean", mean, "sigma", sigma, "seed", seed, NULL);
}

int vshim_rank(VipsImage *in, VipsImage **out, int width, int height, int index) {
    return vips_rank(in, out, width, height, index, NULL);
}

int vshim_bandrank(VipsImage **in, int n, VipsImage **out, int index) {
    return vips_bandrank(in, out, n, "index", index, NULL);
}

int vshim_recomb(VipsImage *in, VipsImage **out, VipsImage *matrix) { return vips_recomb(in, out, matrix, NULL); }

int vshim_round(VipsImage *in, VipsImage **out, int mode) {
    VipsOperationRound round = mode == 1 ? VIPS_OPERATION_ROUND_CEIL
                             : mode == 2 ? VIPS_OPERATION_ROUND_FLOOR : VIPS_OPERATION_ROUND_RINT;
    return vips_round(in, out, round, NULL);
}

int vshim_bandjoin(VipsImage **in, int n, VipsImage **out) { return vips_bandjoin(in, out, n, NULL); }

int vshim_composite2_over(VipsImage *base, VipsImage *overlay, VipsImage **out, int premultiplied) {
    return vips_composite2(base, overlay, out, VIPS_BLEND_MODE_OVER, "premultiplied", premultiplied, NULL);
}

long long vshim_inflated_size(const unsigned char *data, size_t size, long long cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return 0;
    unsigned char scratch[65536];
    long long total = 0;
    z.next_in = (Bytef *)data;
    int status = Z_OK;
    // Fed in uInt-sized pieces: a chunk may hold more than 4 GB in principle (PNG allows 2^31 - 1).
    size_t remaining = size;
    // Z_BUF_ERROR here only means the input ran out: refill, or stop when there is no more.
    while ((status == Z_OK || status == Z_BUF_ERROR) && total <= cap) {
        if (z.avail_in == 0) {
            if (remaining == 0) break;
            uInt piece = remaining > (1u << 30) ? (1u << 30) : (uInt)remaining;
            z.avail_in = piece;
            remaining -= piece;
        }
        z.next_out = scratch;
        z.avail_out = sizeof scratch;
        status = inflate(&z, Z_NO_FLUSH);
        total += (long long)(sizeof scratch - z.avail_out);
    }
    inflateEnd(&z);
    return total > cap ? cap + 1 : total;
}
