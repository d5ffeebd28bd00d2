#include "settings.h"

#include <string.h>

const gchar *operation_procedure(Operation op)
{
    static const gchar *names[] = {
        "plug-in-diffusiond-generate", "plug-in-diffusiond-img2img", "plug-in-diffusiond-inpaint",
        "plug-in-diffusiond-outpaint", "plug-in-diffusiond-upscale", "plug-in-diffusiond-call",
    };
    return names[op];
}

const gchar *operation_method(Operation op)
{
    static const gchar *methods[] = { "generate", "img2img", "inpaint", "outpaint", "upscale", "" };
    return methods[op];
}

void settings_defaults(Settings *s)
{
    memset(s, 0, sizeof *s);
    s->strength = 0.75;
    s->scale = 0.0;
}

void settings_set(gchar *field, gsize size, const gchar *value)
{
    if (value == NULL)
        value = "";
    gsize n = strlen(value);
    if (n >= size) {
        const gchar *end = value + size - 1;
        const gchar *cut = g_utf8_find_prev_char(value, end + 1);
        while (cut != NULL && cut + g_utf8_skip[*(const guchar *)cut] > end)
            cut = g_utf8_find_prev_char(value, cut);
        n = cut != NULL ? (gsize)(cut - value) : 0;
    }
    memcpy(field, value, n);
    field[n] = '\0';
}
