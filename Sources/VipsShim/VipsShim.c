#include "VipsShim.h"
int vshim_init(const char *argv0) { return VIPS_INIT(argv0); }
