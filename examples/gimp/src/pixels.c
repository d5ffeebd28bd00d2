#include "pixels.h"

#include <gegl.h>
#include <string.h>
#include "rpc.h"

gint pixels_transport_bits(gint32 image)
{
    switch (gimp_image_get_precision(image)) {
    case GIMP_PRECISION_U8_LINEAR:
    case GIMP_PRECISION_U8_GAMMA:
        return 8;
    default:
        return 16;
    }
}

static const Babl *rgba_format(gint bits, gboolean alpha)
{
    if (bits == 16)
        return babl_format(alpha ? "R'G'B'A u16" : "R'G'B' u16");
    return babl_format(alpha ? "R'G'B'A u8" : "R'G'B' u8");
}

GBytes *pixels_drawable_png(gint32 drawable, gint x, gint y, gint w, gint h, gint bits, GError **error)
{
    gint ox = 0, oy = 0;
    gimp_drawable_offsets(drawable, &ox, &oy);
    /* Without alpha (and wholly inside the drawable) the daemon gets RGB, exactly what an exported file has. */
    gboolean covered = x >= ox && y >= oy && x + w <= ox + gimp_drawable_width(drawable) &&
                       y + h <= oy + gimp_drawable_height(drawable);
    gboolean alpha = gimp_drawable_has_alpha(drawable) || !covered;
    gint channels = alpha ? 4 : 3;
    gsize stride = (gsize)w * channels * (bits / 8);
    guint8 *pixels = g_try_malloc0(stride * h);
    if (pixels == NULL) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "out of memory for a %dx%d image", w, h);
        return NULL;
    }
    GeglBuffer *buffer = gimp_drawable_get_buffer(drawable);
    gegl_buffer_get(buffer, GEGL_RECTANGLE(x - ox, y - oy, w, h), 1.0, rgba_format(bits, alpha), pixels, stride,
                    GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    GBytes *png = picture_encode_png(pixels, w, h, stride, channels, bits, error);
    g_free(pixels);
    return png;
}

GBytes *pixels_selection_png(gint32 image, gint x, gint y, gint w, gint h, GError **error)
{
    gint32 selection = gimp_image_get_selection(image);
    guchar *grey = g_try_malloc((gsize)w * h);
    if (grey == NULL) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "out of memory for a %dx%d mask", w, h);
        return NULL;
    }
    GeglBuffer *buffer = gimp_drawable_get_buffer(selection);
    gegl_buffer_get(buffer, GEGL_RECTANGLE(x, y, w, h), 1.0, babl_format("Y u8"), grey, GEGL_AUTO_ROWSTRIDE,
                    GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    GBytes *png = picture_encode_png(grey, w, h, (gsize)w, 1, 8, error);
    g_free(grey);
    return png;
}

gint32 pixels_add_layer(gint32 image, const Picture *picture, gint sx, gint sy, gint w, gint h, gint dx, gint dy,
                        const gchar *name)
{
    gint32 layer = gimp_layer_new(image, name, w, h, GIMP_RGBA_IMAGE, 100.0, GIMP_LAYER_MODE_NORMAL);
    if (layer < 0)
        return -1;
    if (!gimp_image_insert_layer(image, layer, 0, 0))
        return -1;
    gimp_layer_set_offsets(layer, dx, dy);
    GeglBuffer *buffer = gimp_drawable_get_buffer(layer);
    gsize pixel = 4 * (gsize)(picture->bits / 8);
    const guint8 *origin = picture->pixels + (gsize)sy * picture->stride + (gsize)sx * pixel;
    gegl_buffer_set(buffer, GEGL_RECTANGLE(0, 0, w, h), 0, rgba_format(picture->bits, TRUE), origin,
                    picture->stride);
    gegl_buffer_flush(buffer);
    g_object_unref(buffer);
    gimp_drawable_update(layer, 0, 0, w, h);
    return layer;
}

void pixels_keep_unchanged(gint32 layer, gint32 drawable, gint bits)
{
    gint lx = 0, ly = 0, ox = 0, oy = 0;
    gimp_drawable_offsets(layer, &lx, &ly);
    gimp_drawable_offsets(drawable, &ox, &oy);
    gint w = gimp_drawable_width(layer), h = gimp_drawable_height(layer);
    const Babl *native = gimp_drawable_get_format(layer);
    const Babl *wire = rgba_format(bits, TRUE);
    gint size = babl_format_get_bytes_per_pixel(native);
    gint wire_size = babl_format_get_bytes_per_pixel(wire);
    if (native == wire)
        return;
    gsize n = (gsize)w * h;
    guchar *sent = g_try_malloc(n * wire_size), *got = g_try_malloc(n * wire_size);
    guchar *original = g_try_malloc(n * size), *out = g_try_malloc(n * size);
    if (sent != NULL && got != NULL && original != NULL && out != NULL) {
        GeglBuffer *source = gimp_drawable_get_buffer(drawable);
        GeglBuffer *target = gimp_drawable_get_buffer(layer);
        const GeglRectangle *from = GEGL_RECTANGLE(lx - ox, ly - oy, w, h);
        gegl_buffer_get(source, from, 1.0, wire, sent, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        gegl_buffer_get(source, from, 1.0, native, original, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        gegl_buffer_get(target, GEGL_RECTANGLE(0, 0, w, h), 1.0, wire, got, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        gegl_buffer_get(target, GEGL_RECTANGLE(0, 0, w, h), 1.0, native, out, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        for (gsize i = 0; i < n; i++)
            if (memcmp(sent + i * wire_size, got + i * wire_size, wire_size) == 0)
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
