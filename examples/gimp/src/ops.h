/* The image operations: the request from the image and settings, the job, the new layer. */
#pragma once
#include <libgimp/gimp.h>
#include <json-glib/json-glib.h>
#include "settings.h"

/* Runs the operation on the image; returns the new top layer, or -1 with `error` set (the daemon's message
 * for a failed job). `interactive`: the daemon's preview is shown in a window while it samples. */
gint32 ops_run(Operation op, gint32 image, gint32 drawable, const Settings *s, gboolean interactive, GError **error);

/* -call: any method with params-json; returns the result as JSON text. */
gchar *ops_call(const gchar *method, const gchar *params_json, GError **error);

/* params-json ("" = none) as an object, or NULL with `error`. */
JsonObject *ops_parse_params(const gchar *params_json, GError **error);
