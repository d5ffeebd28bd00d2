/* What one procedure run needs, remembered between runs (gimp_set_data) as "last values". */
#pragma once
#include <glib.h>

typedef enum { OP_GENERATE, OP_IMG2IMG, OP_INPAINT, OP_OUTPAINT, OP_UPSCALE, OP_CALL } Operation;

typedef struct {
    gchar prompt[8192];
    gchar negative_prompt[8192];
    gchar model[256];
    gdouble strength;
    gint32 left, top, right, bottom;
    gdouble scale;
    gchar params_json[32768];
    gchar method[128];
    gchar lora[256];     /* a LoRA of models.list for generation jobs ("" = none), sent as `loras` */
    gdouble lora_weight;
} Settings;

/* The operation's PDB name, daemon method and menu label. */
const gchar *operation_procedure(Operation op);
const gchar *operation_method(Operation op);

void settings_defaults(Settings *s);
/* Copies a string into a fixed field; one too long is cut at a UTF-8 character boundary and FALSE returned. */
gboolean settings_set(gchar *field, gsize size, const gchar *value);
#define SETTINGS_SET(field, value) settings_set((field), sizeof(field), (value))
