#include "picture.h"

#include <png.h>
#include <string.h>
#include "rpc.h"

/* libpng reports errors by longjmp; the message is kept for the GError. */
typedef struct {
    gchar message[256];
} PngFailure;

static void on_png_error(png_structp png, png_const_charp message)
{
    PngFailure *failure = png_get_error_ptr(png);
    g_strlcpy(failure->message, message, sizeof failure->message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message) {}

static void append_bytes(png_structp png, png_bytep data, png_size_t length)
{
    g_byte_array_append(png_get_io_ptr(png), data, (guint)length);
}

static void no_flush(png_structp png) {}

static gboolean little_endian(void)
{
    return G_BYTE_ORDER == G_LITTLE_ENDIAN;
}

GBytes *picture_encode_png(const guint8 *pixels, gint width, gint height, gsize stride, gint channels, gint bits,
                           GError **error)
{
    static const int colour_types[] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                        PNG_COLOR_TYPE_RGB_ALPHA };
    PngFailure failure = { "" };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    GByteArray *out = g_byte_array_new();
    png_bytep *rows = g_new(png_bytep, MAX(1, height));
    if (png == NULL || info == NULL || channels < 1 || channels > 4 || (bits != 8 && bits != 16)) {
        g_strlcpy(failure.message, "cannot start the PNG encoder", sizeof failure.message);
        goto failed;
    }
    if (setjmp(png_jmpbuf(png)))
        goto failed;
    png_set_write_fn(png, out, append_bytes, no_flush);
    /* Speed over size: the PNG lives for one job. */
    png_set_compression_level(png, 1);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bits, colour_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bits == 16 && little_endian())
        png_set_swap(png);  /* PNG stores big-endian samples */
    for (gint y = 0; y < height; y++)
        rows[y] = (png_bytep)(pixels + (gsize)y * stride);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    g_free(rows);
    return g_byte_array_free_to_bytes(out);

failed:
    png_destroy_write_struct(&png, info != NULL ? &info : NULL);
    g_free(rows);
    g_byte_array_unref(out);
    g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "encoding a %dx%d PNG failed: %s", width, height,
                failure.message);
    return NULL;
}

typedef struct {
    const guint8 *data;
    gsize length, at;
} PngSource;

static void read_bytes(png_structp png, png_bytep data, png_size_t length)
{
    PngSource *source = png_get_io_ptr(png);
    if (length > source->length - source->at)
        png_error(png, "the PNG ends early");
    memcpy(data, source->data + source->at, length);
    source->at += length;
}

Picture *picture_decode_png(GBytes *bytes, GError **error)
{
    PngSource source = { NULL, 0, 0 };
    source.data = g_bytes_get_data(bytes, &source.length);
    if (source.length < 8 || png_sig_cmp(source.data, 0, 8) != 0) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "the daemon's image is not a PNG");
        return NULL;
    }
    PngFailure failure = { "" };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    Picture *picture = g_new0(Picture, 1);
    png_bytep *volatile rows = NULL;  /* set after setjmp: volatile keeps it across the longjmp */
    if (png == NULL || info == NULL) {
        g_strlcpy(failure.message, "cannot start the PNG decoder", sizeof failure.message);
        goto failed;
    }
    if (setjmp(png_jmpbuf(png)))
        goto failed;
    png_set_read_fn(png, &source, read_bytes);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), colour = png_get_color_type(png, info);
    if (width == 0 || height == 0 || width > G_MAXINT / 8 || height > G_MAXINT / 8 ||
        (guint64)width * height > (guint64)G_MAXINT / 8)
        png_error(png, "the PNG's size is out of range");
    /* Everything becomes RGBA at 8 or 16 bits. */
    png_set_expand(png);  /* palette -> RGB, grey below 8 bits -> 8 bits, tRNS -> alpha */
    if (colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_add_alpha(png, depth == 16 ? 0xFFFF : 0xFF, PNG_FILLER_AFTER);
    if (depth == 16 && little_endian())
        png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    picture->width = (gint)width;
    picture->height = (gint)height;
    picture->bits = depth == 16 ? 16 : 8;
    picture->stride = (gsize)width * 4 * (picture->bits / 8);
    if (png_get_rowbytes(png, info) != picture->stride)
        png_error(png, "unexpected row layout");
    picture->pixels = g_try_malloc(picture->stride * height);
    rows = g_try_new(png_bytep, height);
    if (picture->pixels == NULL || rows == NULL)
        png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++)
        rows[y] = picture->pixels + (gsize)y * picture->stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    g_free(rows);
    return picture;

failed:
    png_destroy_read_struct(&png, info != NULL ? &info : NULL, NULL);
    g_free(rows);
    picture_free(picture);
    g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "the daemon's PNG could not be decoded: %s",
                failure.message);
    return NULL;
}

Picture *picture_decode_png_file(const gchar *path, GError **error)
{
    gchar *data = NULL;
    gsize length = 0;
    if (!g_file_get_contents(path, &data, &length, error))
        return NULL;
    GBytes *bytes = g_bytes_new_take(data, length);
    Picture *picture = picture_decode_png(bytes, error);
    g_bytes_unref(bytes);
    return picture;
}

void picture_free(Picture *picture)
{
    if (picture == NULL)
        return;
    g_free(picture->pixels);
    g_free(picture);
}
