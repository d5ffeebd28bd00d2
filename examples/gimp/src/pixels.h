/* Pixels between GIMP drawables and PNG bytes (the daemon's image format on the wire). */
#pragma once
#include <libgimp/gimp.h>
#include "picture.h"

/* The bits per sample an image's pixels travel at: 8 for an 8-bit image, 16 for anything finer (16- and 32-bit
 * integer, half and full float), so a high-precision image reaches the daemon, and comes back, at 16 bits. */
gint pixels_transport_bits(gint32 image);

/* The drawable's pixels over the image-coordinate rectangle (x, y, w, h) as an RGB(A) PNG of `bits` (8 or 16)
 * per sample, perceptual (sRGB) like the daemon reads them (outside the drawable: transparent). */
GBytes *pixels_drawable_png(gint32 drawable, gint x, gint y, gint w, gint h, gint bits, GError **error);

/* The image's selection over (x, y, w, h) as an 8-bit grey PNG: white = selected = repaint; grey levels kept. */
GBytes *pixels_selection_png(gint32 image, gint x, gint y, gint w, gint h, GError **error);

/* A new RGBA layer (in the image's precision) named `name` on top of the image, holding the picture's
 * (sx, sy, w, h) at image position (dx, dy), at the picture's own bits. Returns its id, or -1. */
gint32 pixels_add_layer(gint32 image, const Picture *picture, gint sx, gint sy, gint w, gint h, gint dx, gint dy,
                        const gchar *name);

/* Where the new layer holds exactly the pixels the daemon was sent from `drawable` at `bits` per sample (the part
 * an inpaint or outpaint leaves as it was: the mask guarantee), puts back the drawable's own pixels, so an image
 * finer than what travelled (32-bit float, linear light) stays bit-identical there. A no-op where the layer's
 * own format is the one that travelled. */
void pixels_keep_unchanged(gint32 layer, gint32 drawable, gint bits);
