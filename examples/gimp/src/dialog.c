#include "dialog.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include "rpc.h"

/* Model names of `kind` from models.list, or NULL with `error` (daemon not running, ...). */
static GPtrArray *list_models(const gchar *kind, GError **error)
{
    gchar *socket_path = rpc_default_socket();
    JsonObject *params = json_object_new();
    JsonNode *result = rpc_call(socket_path, "models.list", params, NULL, NULL, error);
    json_object_unref(params);
    g_free(socket_path);
    if (result == NULL)
        return NULL;
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    JsonObject *object = JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
    JsonNode *models = object != NULL ? json_object_get_member(object, "models") : NULL;
    if (models != NULL && JSON_NODE_HOLDS_ARRAY(models)) {
        JsonArray *array = json_node_get_array(models);
        for (guint i = 0; i < json_array_get_length(array); i++) {
            JsonObject *m = json_array_get_object_element(array, i);
            if (m == NULL || json_object_has_member(m, "error"))
                continue;
            if (g_strcmp0(json_object_get_string_member_with_default(m, "kind", ""), kind) == 0)
                g_ptr_array_add(names, g_strdup(json_object_get_string_member_with_default(m, "name", "")));
        }
    }
    json_node_unref(result);
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
static GtkWidget *name_combo(GPtrArray *names, gboolean empty, const gchar *current)
{
    GtkWidget *combo = gtk_combo_box_text_new_with_entry();
    if (empty)
        gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), "");
    for (guint i = 0; names != NULL && i < names->len; i++)
        gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), g_ptr_array_index(names, i));
    gtk_entry_set_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(combo))), current);
    return combo;
}

gboolean dialog_run(Operation op, Settings *s)
{
    static const gchar *titles[] = { "diffusiond: Generate", "diffusiond: Image to Image", "diffusiond: Inpaint Selection",
                                     "diffusiond: Outpaint", "diffusiond: Upscale", "diffusiond: Call" };
    gimp_ui_init("diffusiond-gimp", FALSE);
    GtkWidget *dialog = gimp_dialog_new(titles[op], "diffusiond", NULL, 0, gimp_standard_help_func,
                                        operation_procedure(op), "_Cancel", GTK_RESPONSE_CANCEL, "_OK",
                                        GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    GtkWidget *grid = gtk_table_new(12, 2, FALSE);
    gtk_table_set_row_spacings(GTK_TABLE(grid), 6);
    gtk_table_set_col_spacings(GTK_TABLE(grid), 6);
    gtk_container_set_border_width(GTK_CONTAINER(grid), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), grid, TRUE, TRUE, 0);
    gint row = 0;

    GtkWidget *prompt = NULL, *negative = NULL, *model = NULL, *strength = NULL, *scale = NULL;
    GtkWidget *lora = NULL, *lora_weight = NULL;
    GtkWidget *sides[4] = { NULL, NULL, NULL, NULL };
    if (op != OP_UPSCALE && op != OP_CALL) {
        prompt = add_row(GTK_TABLE(grid), row++, "_Prompt:", entry(s->prompt));
        if (op != OP_OUTPAINT)
            negative = add_row(GTK_TABLE(grid), row++, "_Negative prompt:", entry(s->negative_prompt));
    }
    if (op != OP_CALL) {
        GError *error = NULL;
        GPtrArray *names = list_models(op == OP_UPSCALE ? "upscaler" : "stable-diffusion", &error);
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
    if (op != OP_UPSCALE && op != OP_CALL) {
        /* The daemon's LoRAs (DIR/loras/); with a model they go in the request as `loras`. */
        GPtrArray *loras = list_models("lora", NULL);
        const gchar *pick = g_getenv("DIFFUSIOND_GIMP_DIALOG_LORA");  /* the dialog test's choice */
        lora = add_row(GTK_TABLE(grid), row++, "_LoRA:", name_combo(loras, TRUE,
                                                                   testing() && pick != NULL ? pick : s->lora));
        lora_weight = add_row(GTK_TABLE(grid), row++, "LoRA _weight:", spin(s->lora_weight, -4.0, 4.0, 0.1, 2));
        report_for_test(op, "loras", loras);
        if (loras != NULL)
            g_ptr_array_unref(loras);
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
        if (model != NULL) SETTINGS_SET(s->model, gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(model)))));
        if (lora != NULL) SETTINGS_SET(s->lora, gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(lora)))));
        if (lora_weight != NULL) s->lora_weight = gtk_spin_button_get_value(GTK_SPIN_BUTTON(lora_weight));
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
    return ok;
}
