#ifndef VIPS_SHIM_H
#define VIPS_SHIM_H
#include <vips/vips.h>
int vshim_init(const char *argv0);
#endif
