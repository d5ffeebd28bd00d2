/* Pixels between GIMP drawables and PNG bytes (the daemon's image format on the wire). */
#pragma once
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <libgimp/gimp.h>

/* The drawable's pixels over the image-coordinate rectangle (x, y, w, h) as an 8-bit RGBA PNG (outside the
 * drawable: transparent). */
GBytes *pixels_drawable_png(gint32 drawable, gint x, gint y, gint w, gint h, GError **error);

/* The image's selection over (x, y, w, h) as an 8-bit grey PNG: white = selected = repaint; grey levels kept. */
GBytes *pixels_selection_png(gint32 image, gint x, gint y, gint w, gint h, GError **error);

/* Decodes PNG (or any format gdk-pixbuf reads) bytes or a file; always RGBA. */
GdkPixbuf *pixels_decode(GBytes *bytes, GError **error);
GdkPixbuf *pixels_decode_file(const gchar *path, GError **error);

/* A new RGBA layer named `name` on top of the image, holding the pixbuf's (sx, sy, w, h) at image
 * position (dx, dy). Returns its id, or -1. */
gint32 pixels_add_layer(gint32 image, GdkPixbuf *pixbuf, gint sx, gint sy, gint w, gint h, gint dx, gint dy,
                        const gchar *name);

/* Where the new layer holds exactly the 8-bit pixels the daemon was sent from `drawable` (the part an inpaint or
 * outpaint leaves as it was: the mask guarantee), puts back the drawable's own pixels, so a 16-bit or float image
 * stays bit-identical there although its pixels travelled as 8-bit. A no-op on 8-bit images. */
void pixels_keep_unchanged(gint32 layer, gint32 drawable);
