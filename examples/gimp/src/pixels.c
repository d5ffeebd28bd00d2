#include "pixels.h"

#include <gegl.h>
#include <string.h>
#include "rpc.h"

static GBytes *encode_png(GdkPixbuf *pixbuf, GError **error)
{
    gchar *data = NULL;
    gsize length = 0;
    if (!gdk_pixbuf_save_to_buffer(pixbuf, &data, &length, "png", error, "compression", "1", NULL))
        return NULL;
    return g_bytes_new_take(data, length);
}

GBytes *pixels_drawable_png(gint32 drawable, gint x, gint y, gint w, gint h, GError **error)
{
    gint ox = 0, oy = 0;
    gimp_drawable_offsets(drawable, &ox, &oy);
    /* Without alpha (and wholly inside the drawable) the daemon gets RGB, exactly what an exported file has. */
    gboolean covered = x >= ox && y >= oy && x + w <= ox + gimp_drawable_width(drawable) &&
                       y + h <= oy + gimp_drawable_height(drawable);
    gboolean alpha = gimp_drawable_has_alpha(drawable) || !covered;
    GdkPixbuf *pixbuf = gdk_pixbuf_new(GDK_COLORSPACE_RGB, alpha, 8, w, h);
    if (pixbuf == NULL) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "out of memory for a %dx%d image", w, h);
        return NULL;
    }
    GeglBuffer *buffer = gimp_drawable_get_buffer(drawable);
    gegl_buffer_get(buffer, GEGL_RECTANGLE(x - ox, y - oy, w, h), 1.0, babl_format(alpha ? "R'G'B'A u8" : "R'G'B' u8"),
                    gdk_pixbuf_get_pixels(pixbuf), gdk_pixbuf_get_rowstride(pixbuf), GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    GBytes *png = encode_png(pixbuf, error);
    g_object_unref(pixbuf);
    return png;
}

GBytes *pixels_selection_png(gint32 image, gint x, gint y, gint w, gint h, GError **error)
{
    gint32 selection = gimp_image_get_selection(image);
    guchar *grey = g_try_malloc((gsize)w * h);
    GdkPixbuf *pixbuf = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
    if (grey == NULL || pixbuf == NULL) {
        g_free(grey);
        g_clear_object(&pixbuf);
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "out of memory for a %dx%d mask", w, h);
        return NULL;
    }
    GeglBuffer *buffer = gimp_drawable_get_buffer(selection);
    gegl_buffer_get(buffer, GEGL_RECTANGLE(x, y, w, h), 1.0, babl_format("Y u8"), grey, GEGL_AUTO_ROWSTRIDE,
                    GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    /* gdk-pixbuf writes RGB only; R = G = B is read by the daemon as that grey level exactly. */
    guchar *pixels = gdk_pixbuf_get_pixels(pixbuf);
    gint stride = gdk_pixbuf_get_rowstride(pixbuf);
    for (gint row = 0; row < h; row++)
        for (gint col = 0; col < w; col++) {
            guchar v = grey[(gsize)row * w + col];
            guchar *p = pixels + (gsize)row * stride + col * 3;
            p[0] = p[1] = p[2] = v;
        }
    g_free(grey);
    GBytes *png = encode_png(pixbuf, error);
    g_object_unref(pixbuf);
    return png;
}

static GdkPixbuf *with_alpha(GdkPixbuf *pixbuf)
{
    if (pixbuf == NULL || gdk_pixbuf_get_has_alpha(pixbuf))
        return pixbuf;
    GdkPixbuf *rgba = gdk_pixbuf_add_alpha(pixbuf, FALSE, 0, 0, 0);
    g_object_unref(pixbuf);
    return rgba;
}

GdkPixbuf *pixels_decode(GBytes *bytes, GError **error)
{
    GdkPixbufLoader *loader = gdk_pixbuf_loader_new();
    gsize length = 0;
    const guchar *data = g_bytes_get_data(bytes, &length);
    GdkPixbuf *pixbuf = NULL;
    if (gdk_pixbuf_loader_write(loader, data, length, error) && gdk_pixbuf_loader_close(loader, error)) {
        pixbuf = gdk_pixbuf_loader_get_pixbuf(loader);
        if (pixbuf != NULL)
            g_object_ref(pixbuf);
    } else {
        gdk_pixbuf_loader_close(loader, NULL);
    }
    g_object_unref(loader);
    if (pixbuf == NULL && error != NULL && *error == NULL)
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "the daemon's image could not be decoded");
    return with_alpha(pixbuf);
}

GdkPixbuf *pixels_decode_file(const gchar *path, GError **error)
{
    return with_alpha(gdk_pixbuf_new_from_file(path, error));
}

gint32 pixels_add_layer(gint32 image, GdkPixbuf *pixbuf, gint sx, gint sy, gint w, gint h, gint dx, gint dy,
                        const gchar *name)
{
    gint32 layer = gimp_layer_new(image, name, w, h, GIMP_RGBA_IMAGE, 100.0, GIMP_LAYER_MODE_NORMAL);
    if (layer < 0)
        return -1;
    if (!gimp_image_insert_layer(image, layer, 0, 0))
        return -1;
    gimp_layer_set_offsets(layer, dx, dy);
    GeglBuffer *buffer = gimp_drawable_get_buffer(layer);
    gint stride = gdk_pixbuf_get_rowstride(pixbuf);
    const guchar *origin = gdk_pixbuf_get_pixels(pixbuf) + (gsize)sy * stride + (gsize)sx * 4;
    gegl_buffer_set(buffer, GEGL_RECTANGLE(0, 0, w, h), 0, babl_format("R'G'B'A u8"), origin, stride);
    gegl_buffer_flush(buffer);
    g_object_unref(buffer);
    gimp_drawable_update(layer, 0, 0, w, h);
    return layer;
}

void pixels_keep_unchanged(gint32 layer, gint32 drawable)
{
    gint lx = 0, ly = 0, ox = 0, oy = 0;
    gimp_drawable_offsets(layer, &lx, &ly);
    gimp_drawable_offsets(drawable, &ox, &oy);
    gint w = gimp_drawable_width(layer), h = gimp_drawable_height(layer);
    const Babl *native = gimp_drawable_get_format(layer);
    const Babl *u8 = babl_format("R'G'B'A u8");
    gint size = babl_format_get_bytes_per_pixel(native);
    if (native == u8)
        return;
    gsize n = (gsize)w * h;
    guchar *sent = g_try_malloc(n * 4), *got = g_try_malloc(n * 4);
    guchar *original = g_try_malloc(n * size), *out = g_try_malloc(n * size);
    if (sent != NULL && got != NULL && original != NULL && out != NULL) {
        GeglBuffer *source = gimp_drawable_get_buffer(drawable);
        GeglBuffer *target = gimp_drawable_get_buffer(layer);
        const GeglRectangle *from = GEGL_RECTANGLE(lx - ox, ly - oy, w, h);
        gegl_buffer_get(source, from, 1.0, u8, sent, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        gegl_buffer_get(source, from, 1.0, native, original, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        gegl_buffer_get(target, GEGL_RECTANGLE(0, 0, w, h), 1.0, u8, got, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        gegl_buffer_get(target, GEGL_RECTANGLE(0, 0, w, h), 1.0, native, out, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        for (gsize i = 0; i < n; i++)
            if (memcmp(sent + i * 4, got + i * 4, 4) == 0)
                memcpy(out + i * size, original + i * size, size);
        gegl_buffer_set(target, GEGL_RECTANGLE(0, 0, w, h), 0, native, out, GEGL_AUTO_ROWSTRIDE);
        gegl_buffer_flush(target);
        g_object_unref(target);
        g_object_unref(source);
        gimp_drawable_update(layer, 0, 0, w, h);
    }
    g_free(sent);
    g_free(got);
    g_free(original);
    g_free(out);
}
