/* An RGBA picture at 8 or 16 bits per sample, and its PNG form (libpng: gdk-pixbuf has no 16-bit PNG, and a
 * 16-bit image must reach the daemon, and come back, at 16 bits). */
#pragma once
#include <glib.h>

typedef struct {
    gint width, height;
    gint bits;      /* 8 or 16 */
    gsize stride;   /* bytes per row */
    guint8 *pixels; /* R, G, B, A; 16-bit samples in host byte order */
} Picture;

/* PNG bytes of `pixels` (rows `stride` bytes apart; 1 = grey, 3 = RGB, 4 = RGBA channels; 16-bit samples in
 * host byte order). */
GBytes *picture_encode_png(const guint8 *pixels, gint width, gint height, gsize stride, gint channels, gint bits,
                           GError **error);

/* Any PNG (grey, palette, RGB, with or without alpha, 1 to 16 bits) as RGBA: 16 bits where the PNG has 16,
 * else 8. NULL with `error` when it is not a PNG or is damaged. */
Picture *picture_decode_png(GBytes *png, GError **error);
Picture *picture_decode_png_file(const gchar *path, GError **error);

void picture_free(Picture *picture);
