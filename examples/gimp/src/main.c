/* diffusiond-gimp: GIMP 2.10 plug-in calling a running diffusiond (see examples/gimp/README.md).
 * This file registers the PDB procedures and maps their arguments to Settings. */
#include <libgimp/gimp.h>
#include <string.h>
#include "dialog.h"
#include "ops.h"
#include "rpc.h"
#include "settings.h"

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals, GimpParam **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN()

#define RUN_MODE { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" }
#define IMAGE { GIMP_PDB_IMAGE, "image", "Input image" }
#define DRAWABLE { GIMP_PDB_DRAWABLE, "drawable", "The drawable whose pixels are sent" }
#define PROMPT { GIMP_PDB_STRING, "prompt", "Prompt (A1111 syntax)" }
#define NEGATIVE { GIMP_PDB_STRING, "negative-prompt", "Negative prompt (\"\" = none)" }
#define PARAMS_JSON { GIMP_PDB_STRING, "params-json", "JSON object of further request members, e.g. {\"seed\": 42} (\"\" = none)" }
#define NEW_LAYER { GIMP_PDB_LAYER, "layer", "The new layer on top of the image" }

static void install(Operation op, const gchar *blurb, const gchar *help, const gchar *menu,
                    const GimpParamDef *params, gint nparams)
{
    static const GimpParamDef layer_return[] = { NEW_LAYER };
    static const GimpParamDef call_return[] = { { GIMP_PDB_STRING, "result-json", "The method's result as JSON" } };
    gboolean call = op == OP_CALL;
    gimp_install_procedure(operation_procedure(op), blurb, help, "diffusiond authors", "diffusiond authors", "2026",
                           menu, call ? "" : "RGB*", GIMP_PLUGIN, nparams, 1, params,
                           call ? call_return : layer_return);
    if (!call)
        gimp_plugin_menu_register(operation_procedure(op), "<Image>/Filters/diffusiond");
}

static void query(void)
{
    static const GimpParamDef generate[] = { RUN_MODE, IMAGE, DRAWABLE, PROMPT, NEGATIVE,
        { GIMP_PDB_STRING, "model", "Stable Diffusion model name (models.list)" }, PARAMS_JSON };
    static const GimpParamDef img2img[] = { RUN_MODE, IMAGE, DRAWABLE, PROMPT, NEGATIVE,
        { GIMP_PDB_STRING, "model", "Stable Diffusion model name (models.list)" },
        { GIMP_PDB_FLOAT, "strength", "How much of the schedule to run (0..1)" }, PARAMS_JSON };
    static const GimpParamDef inpaint[] = { RUN_MODE, IMAGE, DRAWABLE, PROMPT, NEGATIVE,
        { GIMP_PDB_STRING, "model", "Stable Diffusion model (\"\" = model-free fill)" }, PARAMS_JSON };
    static const GimpParamDef outpaint[] = { RUN_MODE, IMAGE, DRAWABLE,
        { GIMP_PDB_INT32, "left", "Pixels to add on the left" }, { GIMP_PDB_INT32, "top", "Pixels to add on top" },
        { GIMP_PDB_INT32, "right", "Pixels to add on the right" }, { GIMP_PDB_INT32, "bottom", "Pixels to add at the bottom" },
        PROMPT, { GIMP_PDB_STRING, "model", "Stable Diffusion model (\"\" = model-free fill)" }, PARAMS_JSON };
    static const GimpParamDef upscale[] = { RUN_MODE, IMAGE, DRAWABLE,
        { GIMP_PDB_STRING, "model", "Upscaler (models.list), or lanczos3 / bicubic (\"\" = the daemon's default)" },
        { GIMP_PDB_FLOAT, "scale", "Output/input size factor (<= 0 = the model's own scale)" }, PARAMS_JSON };
    static const GimpParamDef call[] = { RUN_MODE,
        { GIMP_PDB_STRING, "method", "Any diffusiond method, e.g. models.list or status" }, PARAMS_JSON };

    install(OP_GENERATE, "Generate an image with diffusiond (txt2img)",
            "Adds a new layer at the selection's bounds (or over the whole image) with a generated image.",
            "_Generate...", generate, G_N_ELEMENTS(generate));
    install(OP_IMG2IMG, "Repaint the selection's area with diffusiond (img2img)",
            "Sends the drawable's pixels at the selection's bounds (or the whole image) and adds the result as a new layer.",
            "_Image to Image...", img2img, G_N_ELEMENTS(img2img));
    install(OP_INPAINT, "Inpaint the selection with diffusiond",
            "The selection is the repaint mask (grey levels kept); the result layer covers the area that can change.",
            "_Inpaint Selection...", inpaint, G_N_ELEMENTS(inpaint));
    install(OP_OUTPAINT, "Outpaint: grow the canvas and fill the new area with diffusiond",
            "Resizes the image by left/top/right/bottom and adds the extended picture as a new layer.",
            "_Outpaint...", outpaint, G_N_ELEMENTS(outpaint));
    install(OP_UPSCALE, "Upscale the image with diffusiond",
            "Scales the image to the upscaler's output size and adds the upscaled picture as a new layer.",
            "_Upscale...", upscale, G_N_ELEMENTS(upscale));
    install(OP_CALL, "Call any diffusiond method",
            "Sends method with params-json and returns the result as JSON text.", NULL, call, G_N_ELEMENTS(call));
}

static const gchar *string_arg(const GimpParam *param, gint i)
{
    return param[i].data.d_string != NULL ? param[i].data.d_string : "";
}

/* The procedure's arguments into Settings (non-interactive runs); FALSE with `error` when one does not fit. */
#define TAKE(field, i) ok = SETTINGS_SET(field, string_arg(p, i)) && ok
static gboolean read_args(Operation op, gint n, const GimpParam *p, Settings *s, GError **error)
{
    static const gint counts[] = { 7, 8, 7, 10, 6, 3 };
    if (n != counts[op]) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "%s takes %d arguments, not %d",
                    operation_procedure(op), counts[op], n);
        return FALSE;
    }
    gboolean ok = TRUE;
    switch (op) {
    case OP_GENERATE:
    case OP_INPAINT:
    case OP_IMG2IMG:
        TAKE(s->prompt, 3);
        TAKE(s->negative_prompt, 4);
        TAKE(s->model, 5);
        if (op == OP_IMG2IMG) s->strength = p[6].data.d_float;
        TAKE(s->params_json, op == OP_IMG2IMG ? 7 : 6);
        break;
    case OP_OUTPAINT:
        s->left = p[3].data.d_int32; s->top = p[4].data.d_int32;
        s->right = p[5].data.d_int32; s->bottom = p[6].data.d_int32;
        TAKE(s->prompt, 7);
        TAKE(s->model, 8);
        TAKE(s->params_json, 9);
        break;
    case OP_UPSCALE:
        TAKE(s->model, 3);
        s->scale = p[4].data.d_float;
        TAKE(s->params_json, 5);
        break;
    case OP_CALL:
        TAKE(s->method, 1);
        TAKE(s->params_json, 2);
        break;
    }
    if (!ok)
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL,
                    "an argument is too long (prompts: at most %d bytes, model: %d, params-json: %d)",
                    (int)sizeof s->prompt - 1, (int)sizeof s->model - 1, (int)sizeof s->params_json - 1);
    return ok;
}
#undef TAKE

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals, GimpParam **return_vals)
{
    static GimpParam values[2];
    static gchar *message = NULL;
    g_clear_pointer(&message, g_free);
    *nreturn_vals = 1;
    *return_vals = values;
    values[0].type = GIMP_PDB_STATUS;
    values[0].data.d_status = GIMP_PDB_CALLING_ERROR;

    Operation op;
    for (op = OP_GENERATE; op <= OP_CALL; op++)
        if (strcmp(name, operation_procedure(op)) == 0)
            break;
    if (op > OP_CALL || nparams < 1)
        return;
    gegl_init(NULL, NULL);

    GimpRunMode mode = param[0].data.d_int32;
    Settings s;
    settings_defaults(&s);
    GError *error = NULL;
    if (mode == GIMP_RUN_NONINTERACTIVE) {
        if (!read_args(op, nparams, param, &s, &error)) {
            values[0].data.d_status = GIMP_PDB_EXECUTION_ERROR;
            message = g_strdup(error->message);
            g_error_free(error);
            *nreturn_vals = 2;
            values[1].type = GIMP_PDB_STRING;
            values[1].data.d_string = message;
            return;
        }
    } else {
        gimp_get_data(name, &s);
        gint32 image = op != OP_CALL ? param[1].data.d_image : -1;
        gint32 drawable = op != OP_CALL ? param[2].data.d_drawable : -1;
        if (mode == GIMP_RUN_INTERACTIVE && !dialog_run(op, &s, image, drawable)) {
            values[0].data.d_status = GIMP_PDB_CANCEL;
            return;
        }
    }
    gimp_set_data(name, &s, sizeof s); /* the last values, for the next run and Repeat */

    *nreturn_vals = 2;
    if (op == OP_CALL) {
        gchar *result = ops_call(s.method, s.params_json, &error);
        if (result != NULL) {
            message = result;
            values[1].type = GIMP_PDB_STRING;
            values[1].data.d_string = message;
            if (mode == GIMP_RUN_INTERACTIVE)
                g_message("%s", message);
        }
    } else {
        gint32 image = param[1].data.d_image;
        gint32 drawable = param[2].data.d_drawable;
        /* Only a dialog run has GTK set up (gimp_ui_init); with last values there may be no display at all. */
        gint32 layer = ops_run(op, image, drawable, &s, mode == GIMP_RUN_INTERACTIVE, &error);
        if (layer >= 0) {
            values[1].type = GIMP_PDB_LAYER;
            values[1].data.d_layer = layer;
            if (mode != GIMP_RUN_NONINTERACTIVE)
                gimp_displays_flush();
        }
    }
    if (error != NULL && error->domain == DIFFUSIOND_ERROR && error->code == DIFFUSIOND_ERROR_CANCELLED) {
        /* The user pressed Cancel: the job is gone, the image as it was; nothing to report. */
        g_error_free(error);
        *nreturn_vals = 1;
        values[0].data.d_status = GIMP_PDB_CANCEL;
        return;
    }
    if (error != NULL) {
        /* GIMP shows (and gimp-console prints) this text as the reason the procedure failed. */
        message = g_strdup(error->message);
        g_error_free(error);
        values[0].data.d_status = GIMP_PDB_EXECUTION_ERROR;
        values[1].type = GIMP_PDB_STRING;
        values[1].data.d_string = message;
        return;
    }
    values[0].data.d_status = GIMP_PDB_SUCCESS;
}
