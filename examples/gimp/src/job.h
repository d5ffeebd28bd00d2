/* One image job: where its images travel (a private folder, or base64), the call, and the result images. */
#pragma once
#include "picture.h"
#include "rpc.h"

typedef struct {
    const gchar *method;
    JsonObject *params;  /* request members except image, mask and output (borrowed) */
    GBytes *image;       /* PNG for the "image" member, or NULL */
    GBytes *mask;        /* PNG for the "mask" member, or NULL */
    GPtrArray *controls; /* GBytes*: PNG for control[i].image where params' entry i has none; or NULL */
    gboolean interactive; /* show the daemon's preview in a window, with a Cancel button (else only decode it) */
} JobRequest;

typedef struct {
    JsonNode *result;    /* the daemon's result object */
    GPtrArray *images;   /* Picture*, in the result's order (images[], else image), at the PNGs' own bits */
    gchar *parameters;   /* the first image's A1111 "parameters" text, or NULL */
    gint64 seed;         /* the first image's seed, or -1 */
} JobResult;

/* Runs the job on its own connection, showing its progress in GIMP's progress bar. Images go as files in a
 * fresh 0700 folder under $XDG_RUNTIME_DIR (removed before this returns); small ones, and all of them again
 * when the daemon answers -32005 (it runs with --allow-dir), go inline as base64. A generation job with a
 * model also asks for the daemon's `preview` in that folder (preview.h), unless params already name one; the
 * preview window's Cancel ends the job (the connection closes) with DIFFUSIOND_ERROR_CANCELLED. */
JobResult *job_run(const gchar *socket_path, const JobRequest *request, GError **error);
void job_result_free(JobResult *result);

/* The progress notifications shown in GIMP's progress bar (also used by the -call procedure). */
void job_show_progress(const gchar *method, JsonObject *params, gpointer user_data);
