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
    /* A ControlNet of models.list for generation jobs ("" = none), sent as `control`: its control image is the
     * drawable `control_layer` of the image (another image's, or a gone one: the procedure's drawable) over the
     * area the job works on. */
    gchar controlnet[256];
    gint32 control_layer;
    gdouble control_weight, control_start, control_end;
    gchar control_preprocess[64]; /* one of the daemon's `preprocess` names ("none" = the image as it is) */
} Settings;

/* The operation's PDB name, daemon method and menu label. */
const gchar *operation_procedure(Operation op);
const gchar *operation_method(Operation op);

void settings_defaults(Settings *s);
/* Copies a string into a fixed field; one too long is cut at a UTF-8 character boundary and FALSE returned. */
gboolean settings_set(gchar *field, gsize size, const gchar *value);
#define SETTINGS_SET(field, value) settings_set((field), sizeof(field), (value))
