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
    s->lora_weight = 1.0;
    s->control_layer = -1;
    s->control_weight = 1.0;
    s->control_start = 0.0;
    s->control_end = 1.0;
    SETTINGS_SET(s->control_preprocess, "none");
}

gboolean settings_set(gchar *field, gsize size, const gchar *value)
{
    if (value == NULL)
        value = "";
    gsize n = strlen(value);
    gboolean fits = n < size;
    if (!fits) {
        /* Keep whole characters: back up over UTF-8 continuation bytes to the start of the one that would
         * be cut. */
        n = size - 1;
        while (n > 0 && ((guchar)value[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(field, value, n);
    field[n] = '\0';
    return fits;
}
