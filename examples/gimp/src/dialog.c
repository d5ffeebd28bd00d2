#include "dialog.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include "rpc.h"

/* One call of `method` without params; its result object, or NULL with `error` (daemon not running, ...). */
static JsonNode *ask(const gchar *method, GError **error)
{
    gchar *socket_path = rpc_default_socket();
    JsonObject *params = json_object_new();
    JsonNode *result = rpc_call(socket_path, method, params, NULL, NULL, error);
    json_object_unref(params);
    g_free(socket_path);
    if (result != NULL && !JSON_NODE_HOLDS_OBJECT(result)) {
        json_node_unref(result);
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "the daemon's %s result is not an object", method);
        return NULL;
    }
    return result;
}

/* models.list's usable models (those without an error) of `kind` (none without a list). */
static JsonArray *list_models(JsonNode *models_list, const gchar *kind)
{
    JsonArray *found = json_array_new();
    JsonNode *models = models_list != NULL ? json_object_get_member(json_node_get_object(models_list), "models") : NULL;
    if (models == NULL || !JSON_NODE_HOLDS_ARRAY(models))
        return found;
    JsonArray *array = json_node_get_array(models);
    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonNode *node = json_array_get_element(array, i);
        JsonObject *m = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        if (m == NULL || json_object_has_member(m, "error"))
            continue;
        if (g_strcmp0(json_object_get_string_member_with_default(m, "kind", ""), kind) == 0)
            json_array_add_element(found, json_node_copy(node));
    }
    return found;
}

static const gchar *family_of(JsonObject *model)
{
    JsonNode *family = json_object_get_member(model, "family");
    if (family == NULL || !JSON_NODE_HOLDS_VALUE(family) || json_node_get_value_type(family) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(family);
}

/* The names of `models`, or with a Stable Diffusion model of a known family those that fit it: of its family,
 * or of one the daemon could not tell (the daemon then decides, and its message says why not). */
static GPtrArray *model_names(JsonArray *models, JsonArray *sd_models, const gchar *sd_model)
{
    static const gchar *known[] = { "sd1", "sd2", "sdxl", "sdxl-refiner" };
    const gchar *family = NULL;
    for (guint i = 0; sd_models != NULL && sd_model != NULL && i < json_array_get_length(sd_models); i++) {
        JsonObject *m = json_array_get_object_element(sd_models, i);
        if (g_strcmp0(json_object_get_string_member_with_default(m, "name", ""), sd_model) == 0)
            family = family_of(m);
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < json_array_get_length(models); i++) {
        JsonObject *m = json_array_get_object_element(models, i);
        const gchar *own = family_of(m);
        gboolean fits = family == NULL || own == NULL || g_strcmp0(own, family) == 0 ||
                        !g_strv_contains(known, own);
        if (fits)
            g_ptr_array_add(names, g_strdup(json_object_get_string_member_with_default(m, "name", "")));
    }
    return names;
}

/* The daemon's ControlNet preprocessor names for `method` (its schema's control.preprocess enum, as
 * capabilities tells it); "none" alone when it tells none. */
static GPtrArray *preprocess_names(JsonNode *capabilities, const gchar *method)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    JsonNode *operations = capabilities != NULL ?
        json_object_get_member(json_node_get_object(capabilities), "operations") : NULL;
    for (guint i = 0; operations != NULL && JSON_NODE_HOLDS_ARRAY(operations) &&
                      i < json_array_get_length(json_node_get_array(operations)); i++) {
        JsonNode *node = json_array_get_element(json_node_get_array(operations), i);
        if (!JSON_NODE_HOLDS_OBJECT(node) ||
            g_strcmp0(json_object_get_string_member_with_default(json_node_get_object(node), "method", ""), method) != 0)
            continue;
        /* params_schema.properties.control.items.properties.preprocess.enum */
        static const gchar *path[] = { "params_schema", "properties", "control", "items", "properties", "preprocess" };
        for (guint k = 0; k < G_N_ELEMENTS(path) && node != NULL; k++)
            node = JSON_NODE_HOLDS_OBJECT(node) ? json_object_get_member(json_node_get_object(node), path[k]) : NULL;
        JsonNode *values = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ?
            json_object_get_member(json_node_get_object(node), "enum") : NULL;
        for (guint k = 0; values != NULL && JSON_NODE_HOLDS_ARRAY(values) &&
                          k < json_array_get_length(json_node_get_array(values)); k++) {
            JsonNode *v = json_array_get_element(json_node_get_array(values), k);
            if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING)
                g_ptr_array_add(names, g_strdup(json_node_get_string(v)));
        }
    }
    if (names->len == 0)
        g_ptr_array_add(names, g_strdup("none"));
    return names;
}

/* GIMP 2.10 is GTK 2: a two-column GtkTable, labels left. */
static GtkWidget *add_row(GtkTable *grid, gint row, const gchar *label, GtkWidget *widget)
{
    GtkWidget *l = gtk_label_new_with_mnemonic(label);
    gtk_misc_set_alignment(GTK_MISC(l), 0.0, 0.5);
    gtk_label_set_mnemonic_widget(GTK_LABEL(l), widget);
    gtk_table_attach(grid, l, 0, 1, row, row + 1, GTK_FILL, GTK_FILL, 0, 0);
    gtk_table_attach(grid, widget, 1, 2, row, row + 1, GTK_EXPAND | GTK_FILL, GTK_FILL, 0, 0);
    return widget;
}

static GtkWidget *entry(const gchar *text)
{
    GtkWidget *e = gtk_entry_new();
    gtk_entry_set_text(GTK_ENTRY(e), text);
    gtk_entry_set_activates_default(GTK_ENTRY(e), TRUE);
    gtk_entry_set_width_chars(GTK_ENTRY(e), 48);
    return e;
}

static GtkWidget *spin(gdouble value, gdouble lo, gdouble hi, gdouble step, guint digits)
{
    GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, step);
    gtk_spin_button_set_digits(GTK_SPIN_BUTTON(s), digits);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), value);
    return s;
}

/* DIFFUSIOND_GIMP_DIALOG_TEST=1 (scripts/test_gimp.sh, under Xvfb): the dialog reports the model choices it
 * offers on stderr and presses OK by itself, so the interactive path runs for real without a person. */
static gboolean press_ok(gpointer dialog)
{
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    return G_SOURCE_REMOVE;
}

static gboolean testing(void)
{
    const gchar *test = g_getenv("DIFFUSIOND_GIMP_DIALOG_TEST");
    return test != NULL && test[0] != '\0';
}

static void report_for_test(Operation op, const gchar *what, GPtrArray *names)
{
    if (!testing())
        return;
    GString *line = g_string_new(NULL);
    for (guint i = 0; names != NULL && i < names->len; i++)
        g_string_append_printf(line, "%s%s", i > 0 ? "," : "", (const gchar *)g_ptr_array_index(names, i));
    g_printerr("diffusiond-gimp dialog %s %s=%s\n", operation_procedure(op), what, line->str);
    g_string_free(line, TRUE);
}

/* A combo with an entry: "" first where `empty`, then the names, showing `current`. */
static void fill_combo(GtkWidget *combo, GPtrArray *names, gboolean empty)
{
    gtk_list_store_clear(GTK_LIST_STORE(gtk_combo_box_get_model(GTK_COMBO_BOX(combo))));
    if (empty)
        gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), "");
    for (guint i = 0; names != NULL && i < names->len; i++)
        gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), g_ptr_array_index(names, i));
}

static GtkWidget *name_combo(GPtrArray *names, gboolean empty, const gchar *current)
{
    GtkWidget *combo = gtk_combo_box_text_new_with_entry();
    fill_combo(combo, names, empty);
    gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(combo))), current);
    return combo;
}

static const gchar *combo_text(GtkWidget *combo)
{
    return gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(combo))));
}

/* The control image choices: the drawables of the image being worked on. */
static gboolean of_image(gint32 image, gint32 item, gpointer data)
{
    return image == GPOINTER_TO_INT(data);
}

/* The ControlNet rows; `models_list` refills the choices when the model changes (those of its family). */
typedef struct {
    JsonNode *models_list;
    JsonArray *sd_models, *controlnets;
    GtkWidget *model, *controlnet, *layer, *weight, *start, *end, *preprocess;
    GPtrArray *preprocessors;
} ControlRows;

static void refill_controlnets(GtkWidget *model, gpointer user_data)
{
    ControlRows *rows = user_data;
    gchar *typed = g_strdup(combo_text(rows->controlnet));
    GPtrArray *names = model_names(rows->controlnets, rows->sd_models, combo_text(model));
    fill_combo(rows->controlnet, names, TRUE);
    gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(rows->controlnet))), typed);
    g_ptr_array_unref(names);
    g_free(typed);
}

static void set_preprocess(ControlRows *rows, const gchar *name)
{
    for (guint i = 0; i < rows->preprocessors->len; i++)
        if (g_strcmp0(g_ptr_array_index(rows->preprocessors, i), name) == 0)
            gtk_combo_box_set_active(GTK_COMBO_BOX(rows->preprocess), (gint)i);
}

/* DIFFUSIOND_GIMP_DIALOG_CONTROL="METHOD controlnet=NAME layer=LAYER-NAME weight=W start=S end=E preprocess=P"
 * (the dialog test): METHOD's dialog sets these before it presses OK, as a person would. */
static void apply_test_control(Operation op, ControlRows *rows, gint32 image)
{
    const gchar *spec = g_getenv("DIFFUSIOND_GIMP_DIALOG_CONTROL");
    if (!testing() || spec == NULL)
        return;
    gchar **words = g_strsplit(spec, " ", -1);
    if (words[0] != NULL && g_strcmp0(words[0], operation_method(op)) == 0) {
        for (gchar **w = words + 1; *w != NULL; w++) {
            gchar **kv = g_strsplit(*w, "=", 2);
            if (kv[0] != NULL && kv[1] != NULL) {
                if (g_strcmp0(kv[0], "controlnet") == 0)
                    gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(rows->controlnet))), kv[1]);
                else if (g_strcmp0(kv[0], "layer") == 0)
                    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(rows->layer),
                                                  gimp_image_get_layer_by_name(image, kv[1]));
                else if (g_strcmp0(kv[0], "weight") == 0)
                    gtk_spin_button_set_value(GTK_SPIN_BUTTON(rows->weight), g_ascii_strtod(kv[1], NULL));
                else if (g_strcmp0(kv[0], "start") == 0)
                    gtk_spin_button_set_value(GTK_SPIN_BUTTON(rows->start), g_ascii_strtod(kv[1], NULL));
                else if (g_strcmp0(kv[0], "end") == 0)
                    gtk_spin_button_set_value(GTK_SPIN_BUTTON(rows->end), g_ascii_strtod(kv[1], NULL));
                else if (g_strcmp0(kv[0], "preprocess") == 0)
                    set_preprocess(rows, kv[1]);
            }
            g_strfreev(kv);
        }
    }
    g_strfreev(words);
}

gboolean dialog_run(Operation op, Settings *s, gint32 image, gint32 drawable)
{
    static const gchar *titles[] = { "diffusiond: Generate", "diffusiond: Image to Image", "diffusiond: Inpaint Selection",
                                     "diffusiond: Outpaint", "diffusiond: Upscale", "diffusiond: Call" };
    gimp_ui_init("diffusiond-gimp", FALSE);
    GtkWidget *dialog = gimp_dialog_new(titles[op], "diffusiond", NULL, 0, gimp_standard_help_func,
                                        operation_procedure(op), "_Cancel", GTK_RESPONSE_CANCEL, "_OK",
                                        GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    GtkWidget *grid = gtk_table_new(18, 2, FALSE);
    gtk_table_set_row_spacings(GTK_TABLE(grid), 6);
    gtk_table_set_col_spacings(GTK_TABLE(grid), 6);
    gtk_container_set_border_width(GTK_CONTAINER(grid), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), grid, TRUE, TRUE, 0);
    gint row = 0;

    GtkWidget *prompt = NULL, *negative = NULL, *model = NULL, *strength = NULL, *scale = NULL;
    GtkWidget *lora = NULL, *lora_weight = NULL;
    GtkWidget *sides[4] = { NULL, NULL, NULL, NULL };
    gboolean generation = op != OP_UPSCALE && op != OP_CALL;
    ControlRows control = { NULL };
    GError *error = NULL;
    JsonNode *models_list = op != OP_CALL ? ask("models.list", &error) : NULL;
    control.models_list = models_list;
    control.sd_models = list_models(models_list, "stable-diffusion");
    if (generation) {
        prompt = add_row(GTK_TABLE(grid), row++, "_Prompt:", entry(s->prompt));
        if (op != OP_OUTPAINT)
            negative = add_row(GTK_TABLE(grid), row++, "_Negative prompt:", entry(s->negative_prompt));
    }
    if (op != OP_CALL) {
        JsonArray *kind = op == OP_UPSCALE ? list_models(models_list, "upscaler") : json_array_ref(control.sd_models);
        GPtrArray *names = models_list != NULL ? model_names(kind, NULL, NULL) : NULL;
        json_array_unref(kind);
        model = name_combo(names, op == OP_INPAINT || op == OP_OUTPAINT, s->model);
        add_row(GTK_TABLE(grid), row++, "_Model:", model);
        const gchar *hint = op == OP_UPSCALE ? "Empty: the daemon's default upscaler."
                            : (op == OP_INPAINT || op == OP_OUTPAINT) ? "Empty: fill without a model."
                                                                     : NULL;
        gchar *status = error != NULL ? g_strdup_printf("Cannot list models: %s", error->message) : g_strdup(hint);
        if (status != NULL) {
            GtkWidget *note = gtk_label_new(status);
            gtk_label_set_line_wrap(GTK_LABEL(note), TRUE);
            gtk_misc_set_alignment(GTK_MISC(note), 0.0, 0.5);
            gtk_table_attach(GTK_TABLE(grid), note, 1, 2, row, row + 1, GTK_FILL, GTK_FILL, 0, 0);
            row++;
        }
        g_free(status);
        g_clear_error(&error);
        report_for_test(op, "models", names);
        if (names != NULL)
            g_ptr_array_unref(names);
    }
    if (generation) {
        /* The daemon's LoRAs (DIR/loras/); with a model they go in the request as `loras`. */
        JsonArray *lora_models = list_models(models_list, "lora");
        GPtrArray *loras = models_list != NULL ? model_names(lora_models, NULL, NULL) : NULL;
        json_array_unref(lora_models);
        const gchar *pick = g_getenv("DIFFUSIOND_GIMP_DIALOG_LORA");  /* the dialog test's choice */
        lora = add_row(GTK_TABLE(grid), row++, "_LoRA:", name_combo(loras, TRUE,
                                                                   testing() && pick != NULL ? pick : s->lora));
        lora_weight = add_row(GTK_TABLE(grid), row++, "LoRA _weight:", spin(s->lora_weight, -4.0, 4.0, 0.1, 2));
        report_for_test(op, "loras", loras);
        if (loras != NULL)
            g_ptr_array_unref(loras);

        /* The daemon's ControlNets (DIR/controlnet/) that fit the model; with a model they go in the request as
         * `control`, the chosen drawable over the job's area as the control image. */
        control.model = model;
        control.controlnets = list_models(models_list, "controlnet");
        GPtrArray *controlnets = model_names(control.controlnets, control.sd_models, s->model);
        control.controlnet = add_row(GTK_TABLE(grid), row++, "_ControlNet:", name_combo(controlnets, TRUE, s->controlnet));
        gtk_widget_set_tooltip_text(control.controlnet, "Empty: no ControlNet. The choices fit the model's family.");
        report_for_test(op, "controlnets", models_list != NULL ? controlnets : NULL);
        g_ptr_array_unref(controlnets);
        g_signal_connect(model, "changed", G_CALLBACK(refill_controlnets), &control);
        control.layer = gimp_drawable_combo_box_new(of_image, GINT_TO_POINTER(image));
        gint32 chosen = s->control_layer > 0 && gimp_item_is_valid(s->control_layer) &&
                        gimp_item_get_image(s->control_layer) == image ? s->control_layer : drawable;
        gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(control.layer), chosen);
        add_row(GTK_TABLE(grid), row++, "Control _image:", control.layer);
        control.weight = add_row(GTK_TABLE(grid), row++, "Control w_eight:", spin(s->control_weight, 0.0, 10.0, 0.05, 2));
        control.start = add_row(GTK_TABLE(grid), row++, "Control _start:", spin(s->control_start, 0.0, 1.0, 0.05, 2));
        control.end = add_row(GTK_TABLE(grid), row++, "Control en_d:", spin(s->control_end, 0.0, 1.0, 0.05, 2));
        JsonNode *capabilities = models_list != NULL ? ask("capabilities", NULL) : NULL;
        control.preprocessors = preprocess_names(capabilities, operation_method(op));
        if (capabilities != NULL)
            json_node_unref(capabilities);
        control.preprocess = gtk_combo_box_text_new();
        for (guint i = 0; i < control.preprocessors->len; i++)
            gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(control.preprocess),
                                           g_ptr_array_index(control.preprocessors, i));
        gtk_combo_box_set_active(GTK_COMBO_BOX(control.preprocess), 0);
        set_preprocess(&control, s->control_preprocess);
        add_row(GTK_TABLE(grid), row++, "Pr_eprocess:", control.preprocess);
        report_for_test(op, "preprocessors", control.preprocessors);
        apply_test_control(op, &control, image);
    }
    if (testing())
        g_timeout_add(300, press_ok, dialog);
    if (op == OP_IMG2IMG)
        strength = add_row(GTK_TABLE(grid), row++, "_Strength:", spin(s->strength, 0.0, 1.0, 0.05, 2));
    if (op == OP_UPSCALE)
        scale = add_row(GTK_TABLE(grid), row++, "_Scale (0 = the model's):", spin(s->scale, 0.0, 16.0, 0.5, 2));
    if (op == OP_OUTPAINT) {
        static const gchar *labels[] = { "_Left:", "_Top:", "_Right:", "_Bottom:" };
        gint32 values[] = { s->left, s->top, s->right, s->bottom };
        for (gint i = 0; i < 4; i++)
            sides[i] = add_row(GTK_TABLE(grid), row++, labels[i], spin(values[i], 0, 4096, 8, 0));
    }
    GtkWidget *method = NULL;
    if (op == OP_CALL)
        method = add_row(GTK_TABLE(grid), row++, "M_ethod:", entry(s->method));
    GtkWidget *params = add_row(GTK_TABLE(grid), row++, "More _params (JSON):", entry(s->params_json));
    gtk_widget_set_tooltip_text(params, "A JSON object of further request members, e.g. {\"seed\": 42, \"steps\": 20}");

    gtk_widget_show_all(dialog);
    gboolean ok = gimp_dialog_run(GIMP_DIALOG(dialog)) == GTK_RESPONSE_OK;
    if (ok) {
        if (prompt != NULL) SETTINGS_SET(s->prompt, gtk_entry_get_text(GTK_ENTRY(prompt)));
        if (negative != NULL) SETTINGS_SET(s->negative_prompt, gtk_entry_get_text(GTK_ENTRY(negative)));
        if (model != NULL) SETTINGS_SET(s->model, combo_text(model));
        if (lora != NULL) SETTINGS_SET(s->lora, combo_text(lora));
        if (lora_weight != NULL) s->lora_weight = gtk_spin_button_get_value(GTK_SPIN_BUTTON(lora_weight));
        if (control.controlnet != NULL) {
            SETTINGS_SET(s->controlnet, combo_text(control.controlnet));
            gint layer = -1;
            if (gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(control.layer), &layer))
                s->control_layer = layer;
            s->control_weight = gtk_spin_button_get_value(GTK_SPIN_BUTTON(control.weight));
            s->control_start = gtk_spin_button_get_value(GTK_SPIN_BUTTON(control.start));
            s->control_end = gtk_spin_button_get_value(GTK_SPIN_BUTTON(control.end));
            gint active = gtk_combo_box_get_active(GTK_COMBO_BOX(control.preprocess));
            if (active >= 0 && (guint)active < control.preprocessors->len)
                SETTINGS_SET(s->control_preprocess, g_ptr_array_index(control.preprocessors, active));
        }
        if (strength != NULL) s->strength = gtk_spin_button_get_value(GTK_SPIN_BUTTON(strength));
        if (scale != NULL) s->scale = gtk_spin_button_get_value(GTK_SPIN_BUTTON(scale));
        if (sides[0] != NULL) {
            s->left = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sides[0]));
            s->top = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sides[1]));
            s->right = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sides[2]));
            s->bottom = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(sides[3]));
        }
        if (method != NULL) SETTINGS_SET(s->method, gtk_entry_get_text(GTK_ENTRY(method)));
        SETTINGS_SET(s->params_json, gtk_entry_get_text(GTK_ENTRY(params)));
    }
    gtk_widget_destroy(dialog);
    if (control.controlnets != NULL)
        json_array_unref(control.controlnets);
    if (control.preprocessors != NULL)
        g_ptr_array_unref(control.preprocessors);
    json_array_unref(control.sd_models);
    if (models_list != NULL)
        json_node_unref(models_list);
    return ok;
}
