/* The interactive dialogs (Filters > diffusiond): fields for the procedure's parameters, the model choices
 * from the daemon's models.list. */
#pragma once
#include "settings.h"

/* Shows the dialog for `op` on `image` (its drawables are the control image choices; `drawable`, the one the
 * procedure got, is the default) filled with `s`; on OK stores the edits in `s` and returns TRUE. */
gboolean dialog_run(Operation op, Settings *s, gint32 image, gint32 drawable);
