/* The daemon's `preview` image during sampling: a latent->RGB thumbnail the daemon rewrites (atomically) into
 * the job's private folder at every step. It is re-read whenever a notification arrives and the file was
 * replaced; interactive runs show it, scaled up, in a small window with the progress line under it, batch
 * runs only decode it. $DIFFUSIOND_GIMP_PREVIEW_LOG=FILE appends one line per decoded preview,
 * "METHOD WxH shown|decoded CHECKSUM" (FNV-1a of the R, G, B samples; scripts/test_gimp.sh checks them).
 * The window's Cancel button cancels the job: preview_cancellable() is then cancelled, and the job's call closes
 * its connection. $DIFFUSIOND_GIMP_PREVIEW_TEST_CANCEL=1 (scripts/test_gimp.sh, under Xvfb) presses it once the
 * first preview is shown. */
#pragma once
#include <gio/gio.h>

typedef struct Preview Preview;

/* Watches `path` for a job of `method`; `show`: in a window (interactive runs, after gimp_ui_init). */
Preview *preview_new(const gchar *method, const gchar *path, gboolean show);

/* Decodes the file if the daemon replaced it since the last look; `text` (the progress line, or NULL) goes
 * under the thumbnail. Keeps the window responsive by handling pending GTK events. */
void preview_refresh(Preview *preview, const gchar *text);

/* Keeps the window responsive while the job waits between notifications (an RpcIdleFunc). */
void preview_pump(gpointer preview);

/* Cancelled when the user presses the window's Cancel; NULL without a window. */
GCancellable *preview_cancellable(Preview *preview);

/* Closes the window. NULL is fine. */
void preview_free(Preview *preview);
