#include "job.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libgimp/gimp.h>
#include <stdio.h>
#include <string.h>
#include "preview.h"

/* Images whose PNGs are together at most this many bytes go inline (no files at all); overridable with
 * $DIFFUSIOND_GIMP_INLINE_MAX (0 = always by path first). */
#define DEFAULT_INLINE_MAX (256 * 1024)

static gsize inline_max(void)
{
    const gchar *env = g_getenv("DIFFUSIOND_GIMP_INLINE_MAX");
    if (env != NULL && env[0] != '\0')
        return (gsize)g_ascii_strtoull(env, NULL, 10);
    return DEFAULT_INLINE_MAX;
}

/* $DIFFUSIOND_GIMP_PROGRESS_LOG=FILE appends every progress line the user is shown (scripts/test_gimp.sh checks
 * the queue position reaches them). */
static void log_progress(const gchar *text)
{
    const gchar *log = g_getenv("DIFFUSIOND_GIMP_PROGRESS_LOG");
    if (log == NULL || log[0] == '\0')
        return;
    FILE *f = fopen(log, "a");
    if (f != NULL) {
        fprintf(f, "%s\n", text);
        fclose(f);
    }
}

/* The notification as one progress line (NULL for notifications this version does not know), and GIMP's
 * progress bar moved to it. */
static gchar *show_progress(const gchar *method, JsonObject *p, const gchar *what)
{
    gchar *text = NULL;
    if (g_strcmp0(method, "queued") == 0) {
        text = g_strdup_printf("%s: queued, position %" G_GINT64_FORMAT, what,
                               json_object_get_int_member_with_default(p, "position", 0));
        gimp_progress_pulse();
    } else if (g_strcmp0(method, "started") == 0) {
        text = g_strdup_printf("%s: started", what);
        gimp_progress_update(0.0);
    } else if (g_strcmp0(method, "progress") == 0) {
        GString *s = g_string_new(NULL);
        g_string_printf(s, "%s: %s", what, json_object_get_string_member_with_default(p, "stage", "working"));
        gint64 done = -1, total = 0;
        if (json_object_has_member(p, "tile")) {
            done = json_object_get_int_member_with_default(p, "tile", 0);
            total = json_object_get_int_member_with_default(p, "tiles", 0);
            g_string_append_printf(s, " tile %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, done, total);
        }
        if (json_object_has_member(p, "step")) {
            done = json_object_get_int_member_with_default(p, "step", 0);
            total = json_object_get_int_member_with_default(p, "steps", 0);
            g_string_append_printf(s, " step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, done, total);
        }
        if (json_object_has_member(p, "remaining_ms")) {
            gint64 ms = json_object_get_int_member_with_default(p, "remaining_ms", 0);
            g_string_append_printf(s, ", about %" G_GINT64_FORMAT " s left", (ms + 999) / 1000);
        }
        if (done >= 0 && total > 0)
            gimp_progress_update(CLAMP((gdouble)done / (gdouble)total, 0.0, 1.0));
        else
            gimp_progress_pulse();
        text = g_string_free(s, FALSE);
    }
    if (text != NULL) {
        gimp_progress_set_text(text);
        log_progress(text);
    }
    return text;
}

void job_show_progress(const gchar *method, JsonObject *p, gpointer user_data)
{
    g_free(show_progress(method, p, user_data != NULL ? user_data : "diffusiond"));
}

/* What an image job's notifications update: GIMP's progress bar and, when the job has one, the preview. */
typedef struct {
    const gchar *label;
    Preview *preview;
} JobProgress;

static void job_notify(const gchar *method, JsonObject *p, gpointer user_data)
{
    JobProgress *progress = user_data;
    gchar *text = show_progress(method, p, progress->label);
    preview_refresh(progress->preview, text);
    g_free(text);
}

static void job_idle(gpointer user_data)
{
    JobProgress *progress = user_data;
    preview_pump(progress->preview);
}

/* The generation operations take a `preview` member, and need a model for it. */
static gboolean wants_preview(const JobRequest *req)
{
    static const gchar *methods[] = { "generate", "img2img", "inpaint", "outpaint" };
    gboolean generation = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(methods); i++)
        generation = generation || g_strcmp0(req->method, methods[i]) == 0;
    JsonNode *model = json_object_get_member(req->params, "model");
    return generation && !json_object_has_member(req->params, "preview") && model != NULL &&
           JSON_NODE_HOLDS_VALUE(model) && json_node_get_value_type(model) == G_TYPE_STRING &&
           json_node_get_string(model)[0] != '\0';
}

static void remove_folder(const gchar *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d != NULL) {
        const gchar *name;
        while ((name = g_dir_read_name(d)) != NULL) {
            gchar *path = g_build_filename(dir, name, NULL);
            g_unlink(path);
            g_free(path);
        }
        g_dir_close(d);
    }
    g_rmdir(dir);
}

/* A fresh private folder for one job's files. */
static gchar *make_job_folder(GError **error)
{
    const gchar *runtime = g_getenv("XDG_RUNTIME_DIR");
    const gchar *base = (runtime != NULL && runtime[0] == '/' && g_file_test(runtime, G_FILE_TEST_IS_DIR))
                            ? runtime : g_get_tmp_dir();
    gchar *dir = g_build_filename(base, "diffusiond-gimp-XXXXXX", NULL);
    if (g_mkdtemp_full(dir, 0700) == NULL) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_LOCAL, "cannot create a private folder under %s: %s",
                    base, g_strerror(errno));
        g_free(dir);
        return NULL;
    }
    return dir;
}

static JsonObject *copy_object(JsonObject *source)
{
    JsonObject *copy = json_object_new();
    if (source == NULL)
        return copy;
    GList *names = json_object_get_members(source);
    for (GList *l = names; l != NULL; l = l->next)
        json_object_set_member(copy, l->data, json_node_copy(json_object_get_member(source, l->data)));
    g_list_free(names);
    return copy;
}

/* params[member] = the PNG, inline or as the file DIR/FILE_NAME.png. */
static gboolean set_image_member(JsonObject *params, const gchar *member, GBytes *png, const gchar *dir,
                                 const gchar *file_name, GError **error)
{
    JsonObject *image = json_object_new();
    gsize length = 0;
    const guchar *data = g_bytes_get_data(png, &length);
    if (dir == NULL) {
        gchar *b64 = g_base64_encode(data, length);
        json_object_set_string_member(image, "base64", b64);
        g_free(b64);
    } else {
        gchar *name = g_strconcat(file_name, ".png", NULL);
        gchar *path = g_build_filename(dir, name, NULL);
        g_free(name);
        if (!g_file_set_contents(path, (const gchar *)data, (gssize)length, error)) {
            g_free(path);
            json_object_unref(image);
            return FALSE;
        }
        json_object_set_string_member(image, "path", path);
        g_free(path);
    }
    json_object_set_object_member(params, member, image);
    return TRUE;
}

/* The control entries' images: entry i of params' `control` gets controls[i] unless it names an image already
 * (params-json has the last word). */
static gboolean set_control_images(JsonObject *params, GPtrArray *controls, const gchar *dir, GError **error)
{
    JsonNode *node = json_object_get_member(params, "control");
    if (controls == NULL || node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
        return TRUE;
    JsonArray *entries = json_node_get_array(node);
    for (guint i = 0; i < controls->len && i < json_array_get_length(entries); i++) {
        JsonNode *entry = json_array_get_element(entries, i);
        if (!JSON_NODE_HOLDS_OBJECT(entry) || json_object_has_member(json_node_get_object(entry), "image"))
            continue;
        gchar *name = g_strdup_printf("control-%u", i);
        gboolean ok = set_image_member(json_node_get_object(entry), "image", g_ptr_array_index(controls, i), dir,
                                       name, error);
        g_free(name);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

static Picture *decode_result_image(JsonObject *image, GError **error)
{
    if (json_object_has_member(image, "path"))
        return picture_decode_png_file(json_object_get_string_member(image, "path"), error);
    const gchar *b64 = json_object_get_string_member_with_default(image, "base64", NULL);
    if (b64 == NULL) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "the daemon's result names no image");
        return NULL;
    }
    gsize length = 0;
    guchar *data = g_base64_decode(b64, &length);
    GBytes *bytes = g_bytes_new_take(data, length);
    Picture *picture = picture_decode_png(bytes, error);
    g_bytes_unref(bytes);
    return picture;
}

/* Reads the result's images while their files still exist. */
static gboolean collect_images(JobResult *r, GError **error)
{
    JsonObject *result = JSON_NODE_HOLDS_OBJECT(r->result) ? json_node_get_object(r->result) : NULL;
    if (result == NULL) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "the daemon's result is not an object");
        return FALSE;
    }
    GList *nodes = NULL;
    JsonNode *images = json_object_get_member(result, "images");
    if (images != NULL && JSON_NODE_HOLDS_ARRAY(images))
        nodes = json_array_get_elements(json_node_get_array(images));
    else if (json_object_has_member(result, "image"))
        nodes = g_list_append(NULL, json_object_get_member(result, "image"));
    gboolean ok = TRUE;
    for (GList *l = nodes; l != NULL && ok; l = l->next) {
        JsonNode *node = l->data;
        if (!JSON_NODE_HOLDS_OBJECT(node))
            continue;
        JsonObject *image = json_node_get_object(node);
        Picture *picture = decode_result_image(image, error);
        if (picture == NULL) { ok = FALSE; break; }
        if (r->images->len == 0) {
            r->seed = json_object_get_int_member_with_default(image, "seed", -1);
            const gchar *parameters = json_object_get_string_member_with_default(image, "parameters", NULL);
            r->parameters = g_strdup(parameters);
        }
        g_ptr_array_add(r->images, picture);
    }
    g_list_free(nodes);
    if (ok && r->images->len == 0) {
        g_set_error(error, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_IO, "the daemon's result holds no image");
        ok = FALSE;
    }
    return ok;
}

/* One attempt. Without dir everything goes inline; with it the images and the result go by path there
 * (unless inline_images) and a generation job's preview is written there. */
static JobResult *attempt(const gchar *socket_path, const JobRequest *req, const gchar *dir,
                          gboolean inline_images, GError **error)
{
    JsonObject *params = copy_object(req->params);
    json_object_remove_member(params, "outputs");
    JobResult *r = NULL;
    const gchar *image_dir = inline_images ? NULL : dir;
    if ((req->image != NULL && !set_image_member(params, "image", req->image, image_dir, "image", error)) ||
        (req->mask != NULL && !set_image_member(params, "mask", req->mask, image_dir, "mask", error)) ||
        !set_control_images(params, req->controls, image_dir, error)) {
        json_object_unref(params);
        return NULL;
    }
    JobProgress progress = { NULL, NULL };
    if (dir != NULL && wants_preview(req)) {
        gchar *path = g_build_filename(dir, "preview.png", NULL);
        JsonObject *preview = json_object_new();
        json_object_set_int_member(preview, "every", 1);
        json_object_set_string_member(preview, "path", path);
        json_object_set_object_member(params, "preview", preview);
        progress.preview = preview_new(req->method, path, req->interactive);
        g_free(path);
    }
    JsonObject *output = json_object_new();
    if (image_dir != NULL) {
        gchar *path = g_build_filename(dir, "result.png", NULL);
        json_object_set_string_member(output, "path", path);
        g_free(path);
    } else {
        json_object_set_string_member(output, "format", "png");
    }
    json_object_set_object_member(params, "output", output);

    gchar *label = g_strdup_printf("diffusiond %s", req->method);
    progress.label = label;
    RpcHandlers handlers = { job_notify, NULL, &progress, preview_cancellable(progress.preview) };
    if (handlers.cancellable != NULL)
        handlers.idle = job_idle;
    GError *local = NULL;
    JsonNode *result = rpc_call_with(socket_path, req->method, params, &handlers, &local);
    if (g_error_matches(local, DIFFUSIOND_ERROR, DIFFUSIOND_ERROR_CANCELLED)) {
        gchar *text = g_strdup_printf("%s: cancelled", label);
        gimp_progress_set_text(text);
        log_progress(text);
        g_free(text);
    }
    if (local != NULL)
        g_propagate_error(error, local);
    if (result != NULL)
        preview_refresh(progress.preview, NULL);  /* the last step's picture, written after its notification */
    preview_free(progress.preview);
    g_free(label);
    json_object_unref(params);
    if (result == NULL)
        return NULL;
    r = g_new0(JobResult, 1);
    r->result = result;
    r->images = g_ptr_array_new_with_free_func((GDestroyNotify)picture_free);
    r->seed = -1;
    if (!collect_images(r, error)) {
        job_result_free(r);
        return NULL;
    }
    return r;
}

JobResult *job_run(const gchar *socket_path, const JobRequest *req, GError **error)
{
    gsize bytes = (req->image != NULL ? g_bytes_get_size(req->image) : 0) +
                  (req->mask != NULL ? g_bytes_get_size(req->mask) : 0);
    for (guint i = 0; req->controls != NULL && i < req->controls->len; i++)
        bytes += g_bytes_get_size(g_ptr_array_index(req->controls, i));
    gimp_progress_init_printf("diffusiond %s", req->method);
    gboolean small = bytes <= inline_max() && inline_max() > 0;
    if (small && !wants_preview(req))
        return attempt(socket_path, req, NULL, FALSE, error);

    gchar *dir = make_job_folder(error);
    if (dir == NULL)
        return NULL;
    GError *local = NULL;
    JobResult *r = attempt(socket_path, req, dir, small, &local);
    remove_folder(dir);
    g_free(dir);
    if (r == NULL && local != NULL && local->domain == DIFFUSIOND_ERROR && local->code == -32005) {
        /* The daemon may not touch our folder (--allow-dir): send the pixels themselves, without a preview. */
        g_clear_error(&local);
        return attempt(socket_path, req, NULL, FALSE, error);
    }
    if (local != NULL)
        g_propagate_error(error, local);
    return r;
}

void job_result_free(JobResult *r)
{
    if (r == NULL)
        return;
    if (r->result != NULL)
        json_node_unref(r->result);
    if (r->images != NULL)
        g_ptr_array_unref(r->images);
    g_free(r->parameters);
    g_free(r);
}
