/* The interactive dialogs (Filters > diffusiond): fields for the procedure's parameters, the model choices
 * from the daemon's models.list. */
#pragma once
#include "settings.h"

/* Shows the dialog for `op` filled with `s`; on OK stores the edits in `s` and returns TRUE. */
gboolean dialog_run(Operation op, Settings *s);
