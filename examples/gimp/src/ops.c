#include "ops.h"

#include <math.h>
#include <string.h>
#include "job.h"
#include "pixels.h"
#include "rpc.h"

#define PARAMETERS_PARASITE "diffusiond-parameters"

JsonObject *ops_parse_params(const gchar *text, GError **error)
{
    gchar *trimmed = g_strstrip(g_strdup(text != NULL ? text : ""));
    gboolean empty = trimmed[0] == '\0';
    g_free(trimmed);
    if (empty)
        return json_object_new();
    JsonParser *parser = json_parser_new();
    GError *local = NULL;
    JsonObject *object = NULL;
    if (!json_parser_load_from_data(parser, text, -1, &local)) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "params-json is not valid JSON: %s",
                    local->message);
        g_error_free(local);
    } else if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL,
                    "params-json must be a JSON object of request members, like {\"seed\": 42}");
    } else {
        object = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
    }
    g_object_unref(parser);
    return object;
}

/* The members of `extra` replace ours: params-json has the last word. */
static void merge(JsonObject *params, JsonObject *extra)
{
    GList *names = json_object_get_members(extra);
    for (GList *l = names; l != NULL; l = l->next)
        json_object_set_member(params, l->data, json_node_copy(json_object_get_member(extra, l->data)));
    g_list_free(names);
}

static void set_string_if(JsonObject *params, const gchar *member, const gchar *value)
{
    if (value != NULL && value[0] != '\0')
        json_object_set_string_member(params, member, value);
}

/* "op: prompt (seed N)", short enough for the layers dock. */
static gchar *layer_name(Operation op, const Settings *s, const JobResult *r)
{
    GString *name = g_string_new(operation_method(op));
    const gchar *subject = op == OP_UPSCALE ? s->model : s->prompt;
    if (op != OP_UPSCALE && s->model[0] == '\0') {
        JsonObject *result = json_node_get_object(r->result);
        subject = json_object_get_string_member_with_default(result, "fill", "fill");
        g_string_append(name, ": fill ");
        g_string_append(name, subject);
    } else if (subject[0] != '\0') {
        g_string_append(name, ": ");
        if (g_utf8_strlen(subject, -1) > 60) {
            gchar *cut = g_utf8_substring(subject, 0, 60);
            g_string_append(name, cut);
            g_string_append(name, "…");
            g_free(cut);
        } else {
            g_string_append(name, subject);
        }
    }
    if (r->seed >= 0)
        g_string_append_printf(name, " (seed %" G_GINT64_FORMAT ")", r->seed);
    return g_string_free(name, FALSE);
}

/* How far outside the selection an inpaint may change pixels: grow plus the feather's reach
 * (protocol/masks.md, "Guarantee"). */
static gint inpaint_reach(JsonObject *params)
{
    gint64 grow = json_object_get_int_member_with_default(params, "grow", 0);
    gdouble sigma = 0;
    JsonNode *feather = json_object_get_member(params, "feather");
    if (feather != NULL && JSON_NODE_HOLDS_VALUE(feather)) {
        sigma = json_node_get_double(feather);
    } else if (feather != NULL && JSON_NODE_HOLDS_OBJECT(feather)) {
        JsonObject *f = json_node_get_object(feather);
        sigma = MAX(json_object_get_double_member_with_default(f, "x", 0),
                    json_object_get_double_member_with_default(f, "y", 0));
    }
    return (gint)(MAX(grow, 0) + floor(2.5 * sigma + 0.5));
}

typedef struct {
    gint x, y, w, h;
} Rect;

/* The selection's bounds, or the whole image without a selection. */
static Rect work_area(gint32 image, gboolean *has_selection)
{
    gboolean non_empty = FALSE;
    gint x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    gimp_selection_bounds(image, &non_empty, &x1, &y1, &x2, &y2);
    if (has_selection != NULL)
        *has_selection = non_empty;
    if (!non_empty)
        return (Rect){ 0, 0, gimp_image_width(image), gimp_image_height(image) };
    return (Rect){ x1, y1, x2 - x1, y2 - y1 };
}

/* The drawable the settings name as the control image, if it still is one of this image's; else `fallback`. */
static gint32 control_drawable(gint32 image, const Settings *s, gint32 fallback)
{
    gint32 id = s->control_layer;
    if (id > 0 && gimp_item_is_valid(id) && gimp_item_is_drawable(id) && gimp_item_get_image(id) == image)
        return id;
    return fallback;
}

/* The settings' ControlNet as the request's one `control` entry (its image goes in `controls`), over the image
 * rectangle the result covers, so the control lines up with it. */
static gboolean add_control(JsonObject *params, GPtrArray *controls, gint32 image, gint32 drawable,
                            const Settings *s, Rect over, gint bits, GError **error)
{
    GBytes *png = pixels_drawable_png(control_drawable(image, s, drawable), over.x, over.y, over.w, over.h, bits,
                                      error);
    if (png == NULL)
        return FALSE;
    g_ptr_array_add(controls, png);
    JsonObject *entry = json_object_new();
    json_object_set_string_member(entry, "model", s->controlnet);
    json_object_set_double_member(entry, "weight", s->control_weight);
    json_object_set_double_member(entry, "start", s->control_start);
    json_object_set_double_member(entry, "end", s->control_end);
    json_object_set_string_member(entry, "preprocess", s->control_preprocess[0] != '\0' ? s->control_preprocess : "none");
    JsonArray *entries = json_array_new();
    json_array_add_object_element(entries, entry);
    json_object_set_array_member(params, "control", entries);
    return TRUE;
}

static gboolean check_image(gint32 image, GError **error)
{
    if (gimp_image_base_type(image) != GIMP_RGB) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL,
                    "diffusiond works on RGB images; convert this one with Image > Mode > RGB");
        return FALSE;
    }
    return TRUE;
}

gint32 ops_run(Operation op, gint32 image, gint32 drawable, const Settings *s, gboolean interactive, GError **error)
{
    if (!check_image(image, error))
        return -1;
    JsonObject *extra = ops_parse_params(s->params_json, error);
    if (extra == NULL)
        return -1;

    gint W = gimp_image_width(image), H = gimp_image_height(image);
    gboolean has_selection = FALSE;
    Rect area = work_area(image, &has_selection);
    JsonObject *params = json_object_new();
    GPtrArray *controls = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    JobRequest request = { operation_method(op), params, NULL, NULL, controls, interactive };
    gint bits = pixels_transport_bits(image);
    Rect control_area = area;  /* what the result covers, in image coordinates */
    gint32 layer = -1;

    set_string_if(params, "model", s->model);
    gboolean diffusion = s->model[0] != '\0' && op != OP_UPSCALE;
    if (op == OP_GENERATE || op == OP_IMG2IMG || diffusion) {
        json_object_set_string_member(params, "prompt", s->prompt);
        set_string_if(params, "negative_prompt", s->negative_prompt);
        if (s->lora[0] != '\0') {
            JsonObject *lora = json_object_new();
            json_object_set_string_member(lora, "name", s->lora);
            json_object_set_double_member(lora, "weight", s->lora_weight);
            JsonArray *loras = json_array_new();
            json_array_add_object_element(loras, lora);
            json_object_set_array_member(params, "loras", loras);
        }
    }
    switch (op) {
    case OP_GENERATE:
        json_object_set_int_member(params, "width", MAX(8, area.w / 8 * 8));
        json_object_set_int_member(params, "height", MAX(8, area.h / 8 * 8));
        break;
    case OP_IMG2IMG:
        json_object_set_double_member(params, "strength", s->strength);
        request.image = pixels_drawable_png(drawable, area.x, area.y, area.w, area.h, bits, error);
        break;
    case OP_INPAINT:
        if (!has_selection) {
            g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL,
                        "inpaint repaints the selection: select the area to repaint first");
            goto done;
        }
        area = control_area = (Rect){ 0, 0, W, H };
        request.image = pixels_drawable_png(drawable, 0, 0, W, H, bits, error);
        if (request.image != NULL)
            request.mask = pixels_selection_png(image, 0, 0, W, H, error);
        break;
    case OP_OUTPAINT: {
        JsonObject *extend = json_object_new();
        json_object_set_int_member(extend, "left", MAX(0, s->left));
        json_object_set_int_member(extend, "top", MAX(0, s->top));
        json_object_set_int_member(extend, "right", MAX(0, s->right));
        json_object_set_int_member(extend, "bottom", MAX(0, s->bottom));
        json_object_set_object_member(params, "extend", extend);
        control_area = (Rect){ -MAX(0, s->left), -MAX(0, s->top), W + MAX(0, s->left) + MAX(0, s->right),
                               H + MAX(0, s->top) + MAX(0, s->bottom) };
        request.image = pixels_drawable_png(drawable, 0, 0, W, H, bits, error);
        break;
    }
    case OP_UPSCALE:
        if (s->scale > 0)
            json_object_set_double_member(params, "scale", s->scale);
        request.image = pixels_drawable_png(drawable, 0, 0, W, H, bits, error);
        break;
    case OP_CALL:
        break;
    }
    if (op != OP_GENERATE && request.image == NULL)
        goto done;
    if (diffusion && s->controlnet[0] != '\0' &&
        !add_control(params, controls, image, drawable, s, control_area, bits, error))
        goto done;
    merge(params, extra);

    gchar *socket_path = rpc_default_socket();
    JobResult *r = job_run(socket_path, &request, error);
    g_free(socket_path);
    if (r == NULL)
        goto done;

    /* The job succeeded: now, and only now, the image changes (one undo step). */
    gimp_image_undo_group_start(image);
    gchar *name = layer_name(op, s, r);
    for (guint i = r->images->len; i-- > 0;) {
        const Picture *picture = g_ptr_array_index(r->images, i);
        gint rw = picture->width, rh = picture->height;
        gint32 added = -1;
        switch (op) {
        case OP_GENERATE:
        case OP_IMG2IMG:
            added = pixels_add_layer(image, picture, 0, 0, rw, rh, area.x, area.y, name);
            break;
        case OP_INPAINT: {
            /* Outside the reach of the mask the result equals the input bit for bit, so the layer holds only
             * the part that can differ. */
            gint x1 = 0, y1 = 0, x2 = 0, y2 = 0;
            gboolean non_empty = FALSE;
            gimp_selection_bounds(image, &non_empty, &x1, &y1, &x2, &y2);
            gint reach = inpaint_reach(params);
            if (rw == W && rh == H) {
                x1 = MAX(0, x1 - reach); y1 = MAX(0, y1 - reach);
                x2 = MIN(W, x2 + reach); y2 = MIN(H, y2 + reach);
                added = pixels_add_layer(image, picture, x1, y1, x2 - x1, y2 - y1, x1, y1, name);
            } else {
                added = pixels_add_layer(image, picture, 0, 0, rw, rh, 0, 0, name);
            }
            break;
        }
        case OP_OUTPAINT:
            if (i == r->images->len - 1)
                gimp_image_resize(image, rw, rh, MAX(0, s->left), MAX(0, s->top));
            added = pixels_add_layer(image, picture, 0, 0, rw, rh, 0, 0, name);
            break;
        case OP_UPSCALE:
            if (i == r->images->len - 1)
                gimp_image_scale(image, rw, rh);
            added = pixels_add_layer(image, picture, 0, 0, rw, rh, 0, 0, name);
            break;
        case OP_CALL:
            break;
        }
        if (added < 0) {
            g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "GIMP refused the new layer");
            break;
        }
        if (op == OP_INPAINT || op == OP_OUTPAINT)
            pixels_keep_unchanged(added, drawable, bits);
        if (i == 0 && r->parameters != NULL) {
            GimpParasite *parasite = gimp_parasite_new(PARAMETERS_PARASITE, GIMP_PARASITE_PERSISTENT,
                                                       strlen(r->parameters) + 1, r->parameters);
            gimp_item_attach_parasite(added, parasite);
            gimp_parasite_free(parasite);
        }
        layer = added;
    }
    g_free(name);
    if (layer >= 0)
        gimp_image_set_active_layer(image, layer);
    gimp_image_undo_group_end(image);
    gimp_progress_end();
    job_result_free(r);

done:
    if (request.image != NULL)
        g_bytes_unref(request.image);
    if (request.mask != NULL)
        g_bytes_unref(request.mask);
    g_ptr_array_unref(controls);
    json_object_unref(params);
    json_object_unref(extra);
    return layer;
}

gchar *ops_call(const gchar *method, const gchar *params_json, GError **error)
{
    JsonObject *params = ops_parse_params(params_json, error);
    if (params == NULL)
        return NULL;
    gchar *socket_path = rpc_default_socket();
    gimp_progress_init_printf("diffusiond %s", method);
    JsonNode *result = rpc_call(socket_path, method, params, job_show_progress, (gpointer)method, error);
    g_free(socket_path);
    json_object_unref(params);
    if (result == NULL)
        return NULL;
    gchar *text = json_to_string(result, FALSE);
    json_node_unref(result);
    gimp_progress_end();
    return text;
}
